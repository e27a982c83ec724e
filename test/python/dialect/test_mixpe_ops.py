"""Python API of the mixpe dialect: build ops, verify them, read their properties."""

import io

import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    DenseArrayBase,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    TensorType,
    bf16,
    f16,
    f32,
    i1,
    i8,
    i32,
    i64,
)
from xdsl.dialects import test as xdsl_test
from xdsl.ir import Block, Region
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from mixpe.context import mixpe_context
from mixpe.dialects.mixpe import (
    ActGroupSumOp,
    BitplanePsumOp,
    BitplanesOp,
    Dataflow,
    DequantEpilogueOp,
    GroupPsumOp,
    MpGemmOp,
    Pow2SplitOp,
    ScheduleAttr,
    ShiftPsumOp,
    Signedness,
    SignednessAttr,
    WeightFormat,
    WeightFormatAttr,
    WeightLayout,
    WeightLayoutAttr,
    ZeroPointMode,
    ZeroPointModeAttr,
)
from xdsl.parser import Parser


def values(*types):
    op = xdsl_test.TestOp(result_types=list(types))
    return op.results


def weight_props(g=128, bits=4, signed=False, fmt=WeightFormat.INT, layout=WeightLayout.NK):
    return {
        "group_size": IntegerAttr(g, i64),
        "weight_bits": IntegerAttr(bits, i64),
        "signedness": SignednessAttr(Signedness.SIGNED if signed else Signedness.UNSIGNED),
        "weight_format": WeightFormatAttr(fmt),
        "layout": WeightLayoutAttr(layout),
    }


def mpgemm(x_elem=f16, k=256, n=64, g=128, bits=4, signed=False, mode=ZeroPointMode.ORIGINAL, acc=f32, out=f16,
           layout=WeightLayout.NK, fmt=WeightFormat.INT):
    groups = k // g if g and k % g == 0 else 1
    wshape = [n, k] if layout == WeightLayout.NK else [k, n]
    pshape = [n, groups] if layout == WeightLayout.NK else [groups, n]
    x, w, s, z = values(
        TensorType(x_elem, [4, k]), TensorType(i8, wshape), TensorType(f16, pshape), TensorType(i8, pshape)
    )
    zeros = None if mode == ZeroPointMode.SYMMETRIC else z
    return MpGemmOp(
        x, w, s, zeros, TensorType(out, [4, n]),
        group_size=g, weight_bits=bits, signedness=signed, layout=layout, zp_mode=mode, acc_type=acc,
        weight_format=fmt,
    )


def test_valid_mpgemm_exposes_its_properties():
    op = mpgemm()
    op.verify()
    assert (op.g, op.bits, op.is_signed, op.is_pow2) == (128, 4, False, False)
    assert op.max_abs_weight() == 15
    assert op.layout.data == WeightLayout.NK


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"g": 96}, "group size 96 does not divide K=256"),
        ({"bits": 9}, "weight bits must be in 1..8"),
        ({"x_elem": i8, "acc": f32, "out": f32}, "integer activations need an integer accumulator"),
        ({"x_elem": f16, "acc": i32}, "float activations need a float accumulator"),
        ({"mode": ZeroPointMode.RESCALE}, "rescale zero points"),
    ],
)
def test_invalid_mpgemm(kwargs, message):
    with pytest.raises(VerifyException, match=message):
        mpgemm(**kwargs).verify()


@pytest.mark.parametrize("bits, signed, expected", [(4, True, 8), (4, False, 15), (8, True, 128), (2, False, 3)])
def test_max_abs_weight(bits, signed, expected):
    assert mpgemm(bits=bits, signed=signed).max_abs_weight() == expected


@pytest.mark.parametrize("acc_width, ok", [(32, True), (16, False)])
def test_integer_accumulator_bound_is_exact(acc_width, ok):
    # 128 * 128 * 15 = 245760 needs 19 bits: fits i32, not i16.
    from xdsl.dialects.builtin import IntegerType

    op = mpgemm(x_elem=i8, acc=IntegerType(acc_width), out=f32)
    if ok:
        op.verify()
    else:
        with pytest.raises(VerifyException, match="can overflow"):
            op.verify()


def test_pow2_weights_range():
    op = mpgemm(bits=3, signed=True, fmt=WeightFormat.POW2)
    op.verify()
    assert op.max_abs_weight() == 8
    op.properties["weight_format"] = WeightFormatAttr(WeightFormat.INT)
    assert op.max_abs_weight() == 4


def test_group_psum_and_schedule():
    x, w = values(TensorType(bf16, [2, 64]), TensorType(i8, [64, 32]))
    sched = ScheduleAttr(Dataflow.WS, [32, 32], [2, 32, 64], "nmk")
    op = GroupPsumOp(
        x, w, TensorType(f32, [2, 2, 32]),
        group_size=32, weight_bits=4, signedness=Signedness.SIGNED, layout=WeightLayout.KN, schedule=sched,
    )
    op.verify()
    assert op.schedule.tile_shape == (2, 32, 64)
    assert op.schedule.array_shape == (32, 32)
    assert ScheduleAttr.problem([32, 32], [2, 32], "mnk") == "schedule tile must be MxNxK with positive sizes"


def test_act_group_sum_and_bitplane_psum():
    x, planes = values(TensorType(i8, [3, 128]), TensorType(i1, [4, 128, 8]))
    ActGroupSumOp(x, TensorType(i32, [3, 4]), group_size=32).verify()
    op = BitplanePsumOp(x, planes, TensorType(i32, [3, 4, 8]), group_size=32, coefficients=[1, 2, 4, -8])
    op.verify()
    op.properties["coefficients"] = DenseArrayBase.from_list(i64, [1, 2, 4, -6])
    with pytest.raises(VerifyException, match="coefficient -6 is not"):
        op.verify()


def test_text_round_trip_through_context():
    text = """
    func.func @f(%x: tensor<4x256xf16>, %w: tensor<256x64xi8>, %s: tensor<2x64xf32>) -> tensor<4x64xf32> {
      %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout kn zp symmetric acc f32
          : (tensor<4x256xf16>, tensor<256x64xi8>, tensor<2x64xf32>) -> tensor<4x64xf32>
      func.return %y : tensor<4x64xf32>
    }"""
    module = Parser(mixpe_context(), text).parse_module()
    module.verify()
    printed = str(module)
    again = Parser(mixpe_context(), printed).parse_module()
    assert str(again) == printed
    assert "zp symmetric" in printed


# --------------------------------------------------------------------------- typed constructors
#
# Each case: the function's argument types, and the ops built from its arguments with the
# typed constructors (later ops may use earlier ones' results).

SCHED = ScheduleAttr(Dataflow.OS, [32, 32], [4, 64, 128], "nmk")


def _quant_linear(x, w, s, z):
    """A W4 nk linear with integer zero points, hoisted: psum, group sums, epilogue."""
    psum = GroupPsumOp(x, w, TensorType(f32, [4, 2, 64]), group_size=128, weight_bits=4, signedness=False,
                       layout=WeightLayout.NK)
    sums = ActGroupSumOp(x, TensorType(f32, [4, 2]), group_size=128)
    epilogue = DequantEpilogueOp(psum, sums, s, z, TensorType(f16, [4, 64]), zp_mode=ZeroPointMode.ORIGINAL,
                                 layout=WeightLayout.NK, zero_signedness=Signedness.UNSIGNED)
    return [psum, sums, epilogue]


LINEAR_ARGS = [TensorType(f16, [4, 256]), TensorType(i8, [64, 256]), TensorType(f16, [64, 2]), TensorType(i8, [64, 2])]

TYPED_CASES = {
    "mpgemm": (LINEAR_ARGS, lambda x, w, s, z: [MpGemmOp(
        x, w, s, z, TensorType(f16, [4, 64]), group_size=128, weight_bits=4, signedness=False,
        layout=WeightLayout.NK, zp_mode=ZeroPointMode.ORIGINAL, acc_type=f32)]),
    "mpgemm-symmetric-int8": (
        [TensorType(i8, [4, 256]), TensorType(i8, [256, 64]), TensorType(f32, [2, 64])],
        lambda x, w, s: [MpGemmOp(
            x, w, s, None, TensorType(f32, [4, 64]), group_size=128, weight_bits=4, signedness=True,
            layout=WeightLayout.KN, zp_mode=ZeroPointMode.SYMMETRIC, acc_type=i32)]),
    "mpgemm-pow2": (
        [TensorType(bf16, [4, 64]), TensorType(i8, [64, 8]), TensorType(f32, [2, 8])],
        lambda x, w, s: [MpGemmOp(
            x, w, s, None, TensorType(f32, [4, 8]), group_size=32, weight_bits=3, signedness=Signedness.SIGNED,
            layout=WeightLayout.KN, zp_mode=ZeroPointMode.SYMMETRIC, acc_type=f32,
            weight_format=WeightFormat.POW2)]),
    "group_psum-schedule": (
        [TensorType(f16, [4, 256]), TensorType(i8, [256, 64])],
        lambda x, w: [GroupPsumOp(x, w, TensorType(f32, [4, 2, 64]), group_size=128, weight_bits=8,
                                  signedness=True, layout=WeightLayout.KN, schedule=SCHED)]),
    "hoisted-linear": (LINEAR_ARGS, _quant_linear),
    "dequant_epilogue-symmetric": (
        [TensorType(f32, [4, 2, 64]), TensorType(f16, [2, 64])],
        lambda p, s: [DequantEpilogueOp(p, None, s, None, TensorType(f16, [4, 64]),
                                        zp_mode=ZeroPointMode.SYMMETRIC, layout=WeightLayout.KN)]),
    "dequant_epilogue-rescale": (
        [TensorType(f32, [4, 2, 64]), TensorType(f32, [4, 2]), TensorType(f16, [64, 2]), TensorType(f16, [64, 2])],
        lambda p, a, s, z: [DequantEpilogueOp(p, a, s, z, TensorType(f32, [4, 64]),
                                              zp_mode=ZeroPointMode.RESCALE, layout=WeightLayout.NK)]),
    "bitplanes": (
        [TensorType(f16, [4, 256]), TensorType(i8, [64, 256])],
        lambda x, w: [
            planes := BitplanesOp(w, TensorType(i1, [4, 256, 64]), weight_bits=4, signedness=True,
                                  layout=WeightLayout.NK),
            BitplanePsumOp(x, planes, TensorType(f32, [4, 2, 64]), group_size=128, coefficients=[1, 2, 4, -8],
                           schedule=SCHED),
        ]),
    "pow2": (
        [TensorType(i8, [4, 256]), TensorType(IntegerType(16), [64, 256])],
        lambda x, w: [
            split := Pow2SplitOp(w, TensorType(i1, [256, 64]), TensorType(i8, [256, 64]), weight_bits=4,
                                 layout=WeightLayout.NK),
            ShiftPsumOp(x, split.sign, split.shift, TensorType(i32, [4, 2, 64]), group_size=128),
        ]),
}


def _in_function(arg_types, build):
    block = Block(arg_types=arg_types)
    ops = build(*block.args)
    results = [r for op in ops for r in op.results]
    block.add_ops([*ops, func.ReturnOp(*results)])
    module = ModuleOp([func.FuncOp("f", (arg_types, [r.type for r in results]), Region(block))])
    return module, ops


def _generic(op) -> str:
    out = io.StringIO()
    Printer(stream=out, print_generic_format=True).print_op(op)
    return out.getvalue()


@pytest.mark.parametrize("case", TYPED_CASES)
def test_typed_constructor_verifies_and_round_trips(case):
    module, ops = _in_function(*TYPED_CASES[case])
    module.verify()
    text = str(module)
    parsed = Parser(mixpe_context(), text).parse_module()
    parsed.verify()
    assert str(parsed) == text
    again = list(parsed.body.block.first_op.body.block.ops)[: len(ops)]
    for built, reparsed in zip(ops, again, strict=True):
        assert reparsed.name == built.name
        assert reparsed.properties == built.properties
        assert reparsed.attributes == built.attributes == {}


@pytest.mark.parametrize("case", TYPED_CASES)
def test_typed_ops_clone(case):
    module, ops = _in_function(*TYPED_CASES[case])
    for op in ops:
        copy = op.clone()
        assert type(copy) is type(op)
        assert copy.properties == op.properties
        assert list(copy.operands) == list(op.operands)
        assert copy.result_types == op.result_types
        copy.verify()
    module.clone().verify()
    assert str(module.clone()) == str(module)


def test_typed_constructor_matches_generic_build():
    """The typed constructors fill the same properties in the same order as `build` with
    the property dict the passes used to spell out (the generic form prints that order)."""
    typed = mpgemm(signed=True, layout=WeightLayout.KN)
    generic = MpGemmOp.build(
        operands=list(typed.operands),
        result_types=typed.result_types,
        properties={**weight_props(128, 4, True, layout=WeightLayout.KN),
                    "zp_mode": ZeroPointModeAttr(ZeroPointMode.ORIGINAL), "acc_type": f32},
    )
    assert list(typed.properties.items()) == list(generic.properties.items())
    assert _generic(typed) == _generic(generic)

    p, a, s, z = values(TensorType(i32, [4, 2, 64]), TensorType(i32, [4, 2]), TensorType(f32, [2, 64]),
                        TensorType(i8, [2, 64]))
    typed = DequantEpilogueOp(p, a, s, z, TensorType(f32, [4, 64]), zp_mode=ZeroPointMode.ORIGINAL,
                              layout=WeightLayout.KN, zero_signedness=True)
    generic = DequantEpilogueOp.build(
        operands=[p, [a], s, [z]], result_types=[TensorType(f32, [4, 64])],
        properties={"zp_mode": ZeroPointModeAttr(ZeroPointMode.ORIGINAL), "layout": WeightLayoutAttr(WeightLayout.KN),
                    "zero_signedness": SignednessAttr(Signedness.SIGNED)},
    )
    typed.verify()
    assert _generic(typed) == _generic(generic)
    assert "zero_signedness" not in DequantEpilogueOp(
        p, None, s, None, TensorType(f32, [4, 64]), zp_mode=ZeroPointMode.SYMMETRIC, layout=WeightLayout.KN
    ).properties


@pytest.mark.parametrize("signedness, expected", [(True, Signedness.SIGNED), (False, Signedness.UNSIGNED),
                                                  (Signedness.SIGNED, Signedness.SIGNED),
                                                  (Signedness.UNSIGNED, Signedness.UNSIGNED)])
def test_signedness_takes_bool_or_enum(signedness, expected):
    _, w = values(TensorType(f16, [4, 64]), TensorType(i8, [64, 8]))
    op = BitplanesOp(w, TensorType(i1, [4, 64, 8]), weight_bits=4, signedness=signedness, layout=WeightLayout.KN)
    assert op.signedness == SignednessAttr(expected)
    op.verify()

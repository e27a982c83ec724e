"""Python API of the mixpe dialect: build ops, verify them, read their properties."""

import pytest
from xdsl.dialects.builtin import (
    DenseArrayBase,
    IntegerAttr,
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
from xdsl.utils.exceptions import VerifyException

from mixpe.context import mixpe_context
from mixpe.dialects.mixpe import (
    ActGroupSumOp,
    BitplanePsumOp,
    Dataflow,
    GroupPsumOp,
    MpGemmOp,
    ScheduleAttr,
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


def mpgemm(x_elem=f16, k=256, n=64, g=128, bits=4, signed=False, mode=ZeroPointMode.ORIGINAL, acc=f32, out=f16, layout=WeightLayout.NK):
    groups = k // g if g and k % g == 0 else 1
    wshape = [n, k] if layout == WeightLayout.NK else [k, n]
    pshape = [n, groups] if layout == WeightLayout.NK else [groups, n]
    x, w, s, z = values(
        TensorType(x_elem, [4, k]), TensorType(i8, wshape), TensorType(f16, pshape), TensorType(i8, pshape)
    )
    zeros = [] if mode == ZeroPointMode.SYMMETRIC else [z]
    return MpGemmOp.build(
        operands=[x, w, s, zeros],
        result_types=[TensorType(out, [4, n])],
        properties={**weight_props(g, bits, signed, layout=layout), "zp_mode": ZeroPointModeAttr(mode), "acc_type": acc},
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
    op = mpgemm(bits=3, signed=True)
    op.properties["weight_format"] = WeightFormatAttr(WeightFormat.POW2)
    op.properties["zp_mode"] = ZeroPointModeAttr(ZeroPointMode.ORIGINAL)
    op.verify()
    assert op.max_abs_weight() == 8


def test_group_psum_and_schedule():
    x, w = values(TensorType(bf16, [2, 64]), TensorType(i8, [64, 32]))
    sched = ScheduleAttr(Dataflow.WS, [32, 32], [2, 32, 64], "nmk")
    op = GroupPsumOp.build(
        operands=[x, w],
        result_types=[TensorType(f32, [2, 2, 32])],
        properties={**weight_props(32, 4, True, layout=WeightLayout.KN), "schedule": sched},
    )
    op.verify()
    assert op.schedule.tile_shape == (2, 32, 64)
    assert op.schedule.array_shape == (32, 32)
    assert ScheduleAttr.problem([32, 32], [2, 32], "mnk") == "schedule tile must be MxNxK with positive sizes"


def test_act_group_sum_and_bitplane_psum():
    x, planes = values(TensorType(i8, [3, 128]), TensorType(i1, [4, 128, 8]))
    ActGroupSumOp.build(
        operands=[x], result_types=[TensorType(i32, [3, 4])], properties={"group_size": IntegerAttr(32, i64)}
    ).verify()
    op = BitplanePsumOp.build(
        operands=[x, planes],
        result_types=[TensorType(i32, [3, 4, 8])],
        properties={"group_size": IntegerAttr(32, i64), "coefficients": DenseArrayBase.from_list(i64, [1, 2, 4, -8])},
    )
    op.verify()
    op.properties["coefficients"] = DenseArrayBase.from_list(i64, [1, 2, 4, -6])
    with pytest.raises(VerifyException, match="coefficient -6 is not"):
        op.verify()


def test_text_round_trip_through_context():
    text = """
    func.func @f(%x: tensor<4x256xf16>, %w: tensor<256x64xi8>, %s: tensor<2x64xf32>) -> tensor<4x64xf32> {
      %y = mixpe.mpgemm %x, %w scales(%s) group 128 bits 4 signed format int layout kn zp symmetric acc f32 : (tensor<4x256xf16>, tensor<256x64xi8>, tensor<2x64xf32>) -> tensor<4x64xf32>
      func.return %y : tensor<4x64xf32>
    }"""
    module = Parser(mixpe_context(), text).parse_module()
    module.verify()
    printed = str(module)
    again = Parser(mixpe_context(), printed).parse_module()
    assert str(again) == printed
    assert "zp symmetric" in printed

"""Functional execution of hand-built programs, op counts and the cost report."""

import base64

import ml_dtypes
import numpy as np
import pytest
from sim_programs import w4a8_inputs, w4a8_linear

from mixpe.reference import group_psum, mpgemm, popcount_total
from mixpe.simulator.execute import SimulationError, default_hardware, run_program
from mixpe.simulator.program import ProgramBuilder, ProgramError


def _ref(ins, zp_mode="original", layout="kn", g=16):
    return mpgemm(ins["arg0"], ins["arg1"], ins["arg2"], ins.get("arg3"), group_size=g,
                  weight_bits=4, signed=False, zp_mode=zp_mode, layout=layout, out_dtype="f16")


@pytest.mark.parametrize("pe", ["mac", "bitplane"])
@pytest.mark.parametrize("zp_mode", ["original", "rescale", "symmetric"])
@pytest.mark.parametrize("layout", ["kn", "nk"])
def test_mixpe_split_program_matches_mpgemm(pe, zp_mode, layout):
    prog = w4a8_linear(pe=pe, zp_mode=zp_mode, layout=layout).build()
    ins = w4a8_inputs(zp_mode=zp_mode, layout=layout)
    res = run_program(prog, "mixpe-w4a8", ins, verify_pe="always")
    np.testing.assert_array_equal(res.outputs["result0"].view(np.uint16),
                                  _ref(ins, zp_mode, layout).view(np.uint16))
    rec, epi = res.records[0], res.records[-1]
    assert rec.fused_into == epi.index and epi.fused_into is None
    assert all(r.costed_in == 0 for r in res.records[1:])
    if pe == "bitplane":
        assert rec.counts["set_bits"] == popcount_total(ins["arg1"], weight_bits=4)
        assert rec.counts["nonzero_adds"] == 4 * rec.counts["set_bits"]
        assert rec.counts["plane_adds"] == 4 * rec.counts["products"] == 4 * 4 * 8 * 64
    else:
        assert rec.counts == {"macs": 4 * 8 * 64}


def test_unfused_when_partial_sums_are_an_output():
    prog = w4a8_linear(p_output=True).build()
    ins = w4a8_inputs()
    res = run_program(prog, "mixpe-w4a8", ins)
    assert res.records[0].fused_into is None
    np.testing.assert_array_equal(res.outputs["result1"],
                                  group_psum(ins["arg0"], ins["arg1"], group_size=16))
    np.testing.assert_array_equal(res.outputs["result0"].view(np.uint16), _ref(ins).view(np.uint16))


def test_cost_only_and_report():
    prog = w4a8_linear(M=64, K=4096, N=4096, g=128).build()
    res = run_program(prog, "mixpe-w4a8")
    assert res.outputs is None
    d = res.to_dict()
    c = d["totals"]["cycles"]
    assert c["total"] == c["compute"] + c["fill_drain"] + c["stall"] + c["vector"] > 0
    assert d["totals"]["energy_pj"]["pe"] > 0 and 0 < d["totals"]["utilisation"] <= 1
    assert d["totals"]["roofline_bound"] in ("compute", "memory")
    assert [r["op"] for r in d["instructions"]] == ["group_psum", "act_group_sum", "dequant_epilogue"]
    text = res.summary()
    assert "cycles  total" in text and "costed in #0" in text and "model.py:10" in text


def test_default_hardware_follows_activation_type():
    assert default_hardware(w4a8_linear().build()) == "mixpe-w4a8"
    b = ProgramBuilder()
    b.input("x", [2, 4], "f16")
    b.input("w", [4, 3], "f16")
    b.op("matmul", ["x", "w"], [("y", [2, 3], "f32")])
    b.output("y")
    assert default_hardware(b.build()) == "mixpe-w4a16"
    assert run_program(b.build()).hw.name == "mixpe-w4a16"


def test_shift_add_programs_and_pow2():
    rng = np.random.default_rng(3)
    M, K, N, g = 3, 32, 5, 8
    x = rng.integers(-128, 128, (M, K)).astype(np.int8)
    q = rng.integers(-8, 8, (K, N)).astype(np.int8)
    w = (rng.choice([-1, 1], (K, N)) * 2 ** rng.integers(0, 4, (K, N))).astype(np.int8)
    b = ProgramBuilder()
    for name, shape, dt in (("x", [M, K], "i8"), ("q", [K, N], "i8"), ("w", [K, N], "i8")):
        b.input(name, shape, dt)
    b.op("bitplanes", ["q"], [("pl", [4, K, N], "ui8")], weight_bits=4, signed=True)
    b.op("bitplane_psum", ["x", "pl"], [("p1", [M, K // g, N], "i32")], group_size=g, signed=True)
    b.op("pow2_split", ["w"], [("sg", [K, N], "i1"), ("ex", [K, N], "ui8")], weight_bits=3)
    b.op("shift_psum", ["x", "sg", "ex"], [("p2", [M, K // g, N], "i32")], group_size=g)
    b.op("group_psum", ["x", "w"], [("p3", [M, K // g, N], "i32")], group_size=g,
         weight_bits=3, signed=True, schedule={"pe": "pow2"})
    for o in ("p1", "p2", "p3"):
        b.output(o)
    res = run_program(b.build(), "mixpe-w4a8", [x, q, w])
    np.testing.assert_array_equal(res.outputs["result0"], group_psum(x, q, group_size=g))
    np.testing.assert_array_equal(res.outputs["result1"], group_psum(x, w, group_size=g))
    np.testing.assert_array_equal(res.outputs["result2"], group_psum(x, w, group_size=g))
    assert res.records[1].counts["set_bits"] == popcount_total(q, weight_bits=4)
    assert res.records[3].counts["shifts"] == M * N * K
    bad = w.copy()
    bad[0, 0] = 3
    with pytest.raises(SimulationError,
                       match=r"instruction 2 \(pow2_split\): weights: value 3 at index \[0, 0\] is not ±2\^p"):
        run_program(b.build(), "mixpe-w4a8", [x, q, bad])


def test_out_of_range_weight_is_an_error_with_loc():
    ins = w4a8_inputs()
    ins["arg1"][2, 3] = 16
    with pytest.raises(SimulationError, match=r"instruction 0 \(group_psum at model.py:10\): weights: value 16 "
                                              r"at index \[2, 3\] is outside the unsigned 4-bit range \[0, 15\]"):
        run_program(w4a8_linear().build(), "mixpe-w4a8", ins)


def test_input_binding_errors():
    prog = w4a8_linear().build()
    ins = w4a8_inputs()
    with pytest.raises(ValueError, match=r"missing input arg3 \('z'"):
        run_program(prog, "mixpe-w4a8", {k: v for k, v in ins.items() if k != "arg3"})
    with pytest.raises(ValueError, match=r"arg0 \('x'\): shape \[4, 63\] does not match the program's \[4, 64\]"):
        run_program(prog, "mixpe-w4a8", {**ins, "arg0": ins["arg0"][:, :63]})
    with pytest.raises(ValueError,
                       match=r"arg2 \('s'\): float32 value 0.1 at index \[0, 0\] is not exactly representable as f16"):
        run_program(prog, "mixpe-w4a8", {**ins, "arg2": np.full((4, 8), 0.1, np.float32)})
    with pytest.raises(ValueError, match="unexpected input key 'arg9'"):
        run_program(prog, "mixpe-w4a8", {**ins, "arg9": ins["arg0"]})
    # wider but exact: int16 activations holding int8 values are accepted
    out = run_program(prog, "mixpe-w4a8", {**ins, "arg0": ins["arg0"].astype(np.int16)})
    np.testing.assert_array_equal(out.outputs["result0"].view(np.uint16), _ref(ins).view(np.uint16))


def test_placement_out_of_range_for_hardware():
    b = w4a8_linear()
    b.obj["instructions"][0]["results"][0]["sram"] = {"buffer": "out", "offset": 10**9}
    with pytest.raises(ProgramError, match="outside the buffer's"):
        run_program(b.build(), "mixpe-w4a8")


def _vector_program():
    b = ProgramBuilder("vec")
    b.input("a", [2, 3], "f32")
    b.input("b", [3], "f32")
    b.input("i", [2, 3], "i8")
    b.op("elementwise", ["a", "b"], [("s", [2, 3], "f32")], op="add")
    b.op("elementwise", ["s"], [("h", [2, 3], "f16")], op="truncf")
    b.op("elementwise", ["h"], [("si", [2, 3], "f16")], op="silu")
    b.op("elementwise", ["a", "s"], [("c", [2, 3], "i1")], op="cmp", predicate="olt")
    b.op("elementwise", ["c", "a", "s"], [("sel", [2, 3], "f32")], op="select")
    b.op("elementwise", ["i", "i"], [("w", [2, 3], "i8")], op="mul")  # wraps like arith.muli
    b.op("elementwise", ["i"], [("u", [2, 3], "i16")], op="extui")
    b.op("elementwise", ["i"], [("f", [2, 3], "bf16")], op="sitofp")
    b.op("transpose", ["a"], [("t", [3, 2], "f32")], perm=[1, 0])
    b.op("matmul", ["a", "t"], [("m", [2, 2], "f32")])
    b.op("reduce", ["a"], [("r", [2], "f32")], kind="max", dims=[1])
    b.op("broadcast", ["b"], [("bb", [2, 3], "f32")], dims=[0])
    b.op("reshape", ["a"], [("rs", [6], "f32")])
    k = base64.b64encode(np.array([1.5, -2.0], "<f4").tobytes()).decode()
    b.op("constant", [], [("k", [2], "f32")], base64=k)
    b.op("constant", [], [("kd", [2], "i4")], data=[-8, 7])
    b.op("fill", [], [("fl", [2], "bf16")], value=0.5)
    for o in ("s", "h", "si", "c", "sel", "w", "u", "f", "t", "m", "r", "bb", "rs", "k", "kd", "fl"):
        b.output(o)
    return b.build()


def test_vector_ops_semantics():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3)).astype(np.float32)
    bb = rng.standard_normal(3).astype(np.float32)
    i = np.array([[100, -100, 3], [-1, 0, 127]], np.int8)
    res = run_program(_vector_program(), "mixpe-w4a16", [a, bb, i])
    o = [res.outputs[f"result{n}"] for n in range(16)]
    s64 = a.astype(np.float64) + bb
    np.testing.assert_array_equal(o[0], s64.astype(np.float32))
    np.testing.assert_array_equal(o[1], s64.astype(np.float16))
    h = o[1].astype(np.float64)
    np.testing.assert_array_equal(o[2], (h / (1 + np.exp(-h))).astype(np.float16))
    np.testing.assert_array_equal(o[3], a < o[0])
    np.testing.assert_array_equal(o[4], np.where(a < o[0], a, o[0]))
    np.testing.assert_array_equal(o[5], (i.astype(np.int64) ** 2 & 0xFF).astype(np.uint8).view(np.int8))
    np.testing.assert_array_equal(o[6], i.view(np.uint8).astype(np.int16))
    assert o[7].dtype == ml_dtypes.bfloat16 and o[7][0, 0] == 100
    np.testing.assert_array_equal(o[8], a.T)
    np.testing.assert_array_equal(o[9], (a.astype(np.float64) @ a.T.astype(np.float64)).astype(np.float32))
    np.testing.assert_array_equal(o[10], a.max(axis=1))
    np.testing.assert_array_equal(o[11], np.broadcast_to(bb, (2, 3)))
    np.testing.assert_array_equal(o[12], a.reshape(6))
    np.testing.assert_array_equal(o[13], [1.5, -2.0])
    assert o[14].dtype == ml_dtypes.int4 and list(o[14].astype(int)) == [-8, 7]
    assert o[15].dtype == ml_dtypes.bfloat16
    vec = [r for r in res.records if r.unit == "vector"]
    assert all(r.cost is not None and r.cost.total > 0 for r in vec)


def test_fptosi_out_of_range_is_an_error():
    b = ProgramBuilder()
    b.input("a", [2], "f32")
    b.op("elementwise", ["a"], [("r", [2], "i8")], op="fptosi")
    b.output("r")
    out = run_program(b.build(), "mixpe-w4a8", [np.array([-3.7, 127.9], np.float32)])
    np.testing.assert_array_equal(out.outputs["result0"], [-3, 127])
    with pytest.raises(SimulationError, match="does not fit i8"):
        run_program(b.build(), "mixpe-w4a8", [np.array([128.0, 0], np.float32)])


def test_float_activations_noted_when_wider_than_pe():
    b = ProgramBuilder()
    b.input("x", [2, 16], "f32")
    b.input("q", [16, 3], "i8")
    b.op("group_psum", ["x", "q"], [("p", [2, 2, 3], "f32")], group_size=8, weight_bits=4, signed=True)
    b.output("p")
    res = run_program(b.build(), "mixpe-w4a16")
    assert any("rounded to the fp16 PE format" in n for n in res.notes)

"""Program format: loading, validation errors (one line, with index/loc), determinism."""

import json

import pytest
from sim_programs import w4a8_linear

from mixpe.simulator.program import (
    ProgramBuilder,
    ProgramError,
    check_placement,
    dumps,
    load_program,
    parse_program,
)


def _prog():
    return w4a8_linear().to_dict()


def _err(obj) -> str:
    with pytest.raises(ProgramError) as e:
        parse_program(obj)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_roundtrip_is_deterministic(tmp_path):
    prog = load_program(_prog())
    text = dumps(prog)
    assert dumps(load_program(text)) == text
    path = tmp_path / "p.json"
    path.write_text(text)
    assert dumps(load_program(path)) == text
    assert dumps(load_program(str(path))) == text
    assert [i.op for i in prog.instructions] == ["group_psum", "act_group_sum", "dequant_epilogue"]
    assert prog.instructions[0].where == "instruction 0 (group_psum at model.py:10)"


def test_header_errors():
    assert "format" in _err({**_prog(), "format": "other"})
    assert "unsupported program version 2 (this simulator reads version 1)" in _err({**_prog(), "version": 2})
    p = _prog()
    del p["instructions"]
    assert "missing field 'instructions'" in _err(p)
    assert "must be a JSON object" in _err([1, 2])


def test_truncated_and_unreadable(tmp_path):
    text = json.dumps(_prog())
    with pytest.raises(ProgramError, match=r"not valid JSON \(truncated\?\)"):
        load_program(text[: len(text) // 2])
    with pytest.raises(ProgramError, match="cannot read program"):
        load_program(tmp_path / "missing.json")


@pytest.mark.parametrize("mutate, expect", [
    (lambda p: p["instructions"][0].update(op="conv"), "instruction 0 (conv at model.py:10): unknown op 'conv'"),
    (lambda p: p["instructions"][1]["attrs"].pop("group_size"),
     "instruction 1 (act_group_sum): missing attr 'group_size'"),
    (lambda p: p["instructions"][0]["attrs"].update(group_size=5), "group_size 5 does not divide K=64"),
    (lambda p: p["instructions"][0]["attrs"].update(layout="nk"), "disagree on K"),
    (lambda p: p["instructions"][0]["attrs"].update(acc="f32"), "acc f32 does not match i8"),
    (lambda p: p["instructions"][0]["schedule"].update(pe="magic"), "schedule 'pe' must be one of"),
    (lambda p: p["instructions"][0]["results"][0].update(shape=[4, 4, 9]),
     "result 'p' is declared tensor<4x4x9xi32>, expected tensor<4x4x8xi32>"),
    (lambda p: p["instructions"][0]["results"][0].update(dtype="i16"), "expected tensor<4x4x8xi32>"),
    (lambda p: p["instructions"][2]["results"][0].update(dtype="i32"), "result must be a float type"),
    (lambda p: p["instructions"][2]["args"].__setitem__(1, "nope"),
     "instruction 2 (dequant_epilogue at model.py:11): undefined value 'nope'"),
    (lambda p: p["instructions"][1]["results"][0].update(name="p"), "value 'p' is defined twice"),
    (lambda p: p["instructions"][2]["args"].pop(), "zp_mode original takes 4 args"),
    (lambda p: p["inputs"][0].update(dtype="i9"), "unknown dtype 'i9'"),
    (lambda p: p["inputs"][0].update(shape=[4, -1]), "shape must be a list of non-negative integers"),
    (lambda p: p["outputs"][0].update(dtype="f32"),
     "output 0: 'y' is declared tensor<4x8xf32> but defined as tensor<4x8xf16>"),
    (lambda p: p["outputs"][0].update(name="ghost"), "output 0: value 'ghost' is never defined"),
    (lambda p: p["instructions"][0].pop("results"), "missing field 'results'"),
    (lambda p: p["instructions"][0].update(attrs=[1]), "'attrs' must be a dict"),
])
def test_instruction_errors(mutate, expect):
    p = _prog()
    mutate(p)
    assert expect in _err(p)


def _vec(op, args, results, /, **attrs):
    b = ProgramBuilder()
    b.input("a", [2, 3], "f16")
    b.input("i", [2, 3], "i8")
    b.input("c", [2, 3], "i1")
    b.op(op, args, results, **attrs)
    return b.to_dict()


@pytest.mark.parametrize("prog, expect", [
    (_vec("elementwise", ["a", "a"], [("r", [2, 3], "f16")], op="frob"), "attrs 'op' must be one of"),
    (_vec("elementwise", ["a", "i"], [("r", [2, 3], "f16")], op="add"), "needs args of the result type f16"),
    (_vec("elementwise", ["a"], [("r", [2, 3], "f16")], op="extf"), "extf must widen the type"),
    (_vec("elementwise", ["i"], [("r", [2, 3], "f32")], op="extf"), "extf converts float to float"),
    (_vec("elementwise", ["a", "a"], [("r", [2, 3], "f16")], op="cmp", predicate="olt"), "i1 result"),
    (_vec("elementwise", ["a", "a", "a"], [("r", [2, 3], "f16")], op="select"), "select needs (i1, f16, f16)"),
    (_vec("transpose", ["a"], [("r", [3, 2], "f16")], perm=[0, 0]), "not a permutation"),
    (_vec("reshape", ["a"], [("r", [7], "f16")]), "changes the number of elements"),
    (_vec("reduce", ["a"], [("r", [2], "f16")], kind="add", dims=[5]), "are not distinct dims"),
    (_vec("broadcast", ["a"], [("r", [4, 3], "f16")]), "does not broadcast to [4, 3]"),
    (_vec("constant", [], [("r", [2], "f32")], data=[1.0]), "flat list of 2 numbers"),
    (_vec("constant", [], [("r", [2], "f32")], base64="AAAA"), "holds 3 bytes, tensor<2xf32> needs 8"),
    (_vec("matmul", ["a", "i"], [("r", [2, 2], "f16")]), "mixes integer and float"),
    (_vec("fill", [], [("r", [2], "f32")], value="x"), "numeric attr 'value'"),
])
def test_vector_op_errors(prog, expect):
    assert expect in _err(prog)


def test_valid_vector_ops_load():
    b = ProgramBuilder()
    b.input("a", [2, 3], "f16")
    b.input("c", [2, 3], "i1")
    b.op("elementwise", ["a"], [("e", [2, 3], "f32")], op="extf")
    b.op("elementwise", ["c", "a", "a"], [("s", [2, 3], "f16")], op="select")
    b.op("transpose", ["a"], [("t", [3, 2], "f16")], perm=[1, 0])
    b.op("broadcast", ["a"], [("br", [4, 2, 3], "f16")], dims=[0])
    b.op("reduce", ["a"], [("r", [2, 1], "f16")], kind="max", dims=[1], keepdims=True)
    b.op("constant", [], [("k", [2], "f32")], base64="AACAPwAAAEA=")
    b.op("matmul", ["a", "t"], [("m", [2, 2], "f32")])
    b.build()


def test_placement_checked_against_buffer_sizes():
    b = w4a8_linear()
    b.obj["instructions"][0]["results"][0]["sram"] = {"buffer": "out", "offset": 1000}
    prog = b.build()
    check_placement(prog, {"weight": 4096, "act": 4096, "out": 2048})
    with pytest.raises(ProgramError,
                       match=r"value 'p' in the out buffer: bytes \[1000, 1512\) are outside the buffer's 1024 bytes"):
        check_placement(prog, {"weight": 4096, "act": 4096, "out": 1024})
    b.obj["instructions"][1]["results"][0]["sram"] = {"buffer": "out", "offset": 1200}
    with pytest.raises(ProgramError, match="overlaps 'p' while both are live"):
        check_placement(b.build(), {"weight": 4096, "act": 4096, "out": 4096})
    b.obj["instructions"][1]["results"][0]["sram"] = {"buffer": "dram", "offset": 0}
    assert "sram must be" in _err(b.to_dict())

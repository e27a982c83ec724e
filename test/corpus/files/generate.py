"""Writes the corpus's generated inputs: simulator programs (program/*.json), npz files (npz/*),
and the inputs too big to write by hand (mlir/deep_nesting.mlir, hw/deep_nesting.toml).

    python test/corpus/files/generate.py

Each bad file is a valid one with exactly one thing broken, named after what is broken. The
outputs are checked in; rerun this script after editing it (the output is deterministic).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# A small W4A16 GPTQ-style linear: y = dequant(group_psum(x, q), act_group_sum(x), s, z).
GOOD = {
    "format": "mixpe-sim-program",
    "version": 1,
    "function": "linear",
    "inputs": [
        {"name": "x", "shape": [4, 64], "dtype": "f16"},
        {"name": "q", "shape": [64, 16], "dtype": "i8"},
        {"name": "s", "shape": [2, 16], "dtype": "f16"},
        {"name": "z", "shape": [2, 16], "dtype": "i8"},
    ],
    "outputs": [{"name": "y", "shape": [4, 16], "dtype": "f16"}],
    "instructions": [
        {"op": "group_psum", "args": ["x", "q"],
         "results": [{"name": "p", "shape": [4, 2, 16], "dtype": "f32"}],
         "attrs": {"group_size": 32, "layout": "kn", "acc": "f32", "weight_bits": 4, "signed": False},
         "loc": "linear.py:3:5"},
        {"op": "act_group_sum", "args": ["x"],
         "results": [{"name": "a", "shape": [4, 2], "dtype": "f32"}],
         "attrs": {"group_size": 32, "acc": "f32"}, "loc": "linear.py:3:5"},
        {"op": "dequant_epilogue", "args": ["p", "a", "s", "z"],
         "results": [{"name": "y", "shape": [4, 16], "dtype": "f16"}],
         "attrs": {"zp_mode": "original", "layout": "kn"}, "loc": "linear.py:3:5"},
    ],
}


def variant(edit) -> dict:
    p = copy.deepcopy(GOOD)
    edit(p)
    return p


def _set(path, value):
    def edit(p):
        node = p
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return edit


PROGRAMS = {
    "good": GOOD,
    "wrong_format": variant(_set(["format"], "mixpe-program")),
    "wrong_version": variant(_set(["version"], 2)),
    "unknown_op": variant(_set(["instructions", 1, "op"], "act_sum")),
    "undefined_value": variant(_set(["instructions", 2, "args"], ["p", "a", "s", "zeros"])),
    "shape_mismatch": variant(_set(["instructions", 0, "results", 0, "shape"], [4, 16, 2])),
    "dtype_mismatch": variant(_set(["outputs", 0, "dtype"], "f32")),
    "duplicate_names": variant(_set(["instructions", 1, "results", 0, "name"], "p")),
    "group_not_dividing": variant(_set(["instructions", 0, "attrs", "group_size"], 48)),
    "sram_out_of_range": variant(_set(["inputs", 1, "sram"], {"buffer": "weight", "offset": 131071})),
    "not_an_object": [GOOD],
    # JSON `true` is 1 to Python (bool is an int), but it is no version number
    "version_true": variant(_set(["version"], True)),
    # executing would allocate 10^12 f32 values: refused before executing (costing is fine)
    "huge_fill": variant(lambda p: p["instructions"].append(
        {"op": "fill", "args": [], "results": [{"name": "big", "shape": [1000000, 1000000], "dtype": "f32"}],
         "attrs": {"value": 0.0}, "loc": "linear.py:4:5"})),
    # a fixed schedule tile whose 4-bit weight tile (4096 x 65536) needs 128 MiB of weight SRAM
    "tile_too_big": {
        "format": "mixpe-sim-program", "version": 1, "function": "big_linear",
        "inputs": [{"name": "x", "shape": [4, 65536], "dtype": "f16"},
                   {"name": "q", "shape": [65536, 4096], "dtype": "i8"}],
        "outputs": [{"name": "p", "shape": [4, 2048, 4096], "dtype": "f32"}],
        "instructions": [
            {"op": "group_psum", "args": ["x", "q"],
             "results": [{"name": "p", "shape": [4, 2048, 4096], "dtype": "f32"}],
             "attrs": {"group_size": 32, "layout": "kn", "acc": "f32", "weight_bits": 4, "signed": False},
             "schedule": {"tile": [4, 4096, 65536], "order": "mnk"}, "loc": "linear.py:3:5"}],
    },
}


def _npz(path: Path, **arrays) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    # np.savez stamps zip entries with the current time; fix them so reruns give the same bytes
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            dst.writestr(fixed, src.read(info.filename))
    path.write_bytes(out.getvalue())


def good_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "arg0": rng.standard_normal((4, 64)).astype(np.float16),
        "arg1": rng.integers(0, 16, (64, 16)).astype(np.int8),
        "arg2": (rng.random((2, 16)) * 0.1).astype(np.float16),
        "arg3": rng.integers(0, 16, (2, 16)).astype(np.int8),
    }


def main() -> None:
    (HERE / "program").mkdir(exist_ok=True)
    (HERE / "npz").mkdir(exist_ok=True)
    for name, prog in PROGRAMS.items():
        (HERE / "program" / f"{name}.json").write_text(json.dumps(prog, indent=1) + "\n")
    text = json.dumps(GOOD, indent=1)
    (HERE / "program" / "truncated.json").write_text(text[: len(text) // 2])
    # 5,000 nested regions: far more than the parser accepts (mixpe.diagnostics.MAX_REGION_DEPTH)
    depth = 5_000
    (HERE / "mlir" / "deep_nesting.mlir").write_text(
        "// Bad: 5,000 regions nested inside each other (generated by files/generate.py).\n"
        "builtin.module {\n" + '"test.op"() ({\n' * depth + "}) : () -> ()\n" * depth + "}\n")
    # an undefined value whose name is 10,000 characters long: the message must not echo it whole
    (HERE / "mlir" / "long_identifier.mlir").write_text(
        "// Bad: uses an undefined value with a 10,000-character name (generated by files/generate.py).\n"
        "func.func @f() -> i32 {\n  func.return %" + "v" * 10_000 + " : i32\n}\n")
    # 5,000 nested arrays in a figure's value: more than tomllib's recursion limit
    (HERE / "hw" / "deep_nesting.toml").write_text(
        "# Bad: a value nested 5,000 arrays deep (generated by files/generate.py).\n"
        'base = "_good"\n[array]\nrows = { value = ' + "[" * depth + "8" + "]" * depth
        + ', source = "x" }\n')
    # 100,000 nested arrays: more than the JSON decoder's recursion limit
    depth = 100_000
    (HERE / "program" / "deep_nesting.json").write_text(
        '{"format": "mixpe-sim-program", "version": 1, "function": "deep", "inputs": '
        + "[" * depth + "]" * depth + ', "outputs": [], "instructions": []}\n')

    good = good_inputs()
    _npz(HERE / "npz" / "good.npz", **good)
    _npz(HERE / "npz" / "missing_key.npz", **{k: v for k, v in good.items() if k != "arg2"})
    _npz(HERE / "npz" / "wrong_shape.npz", **{**good, "arg0": good["arg0"][:, :32]})
    # 0.1 is not representable in f16: given as float32 it would be silently rounded
    _npz(HERE / "npz" / "lossy_dtype.npz", **{**good, "arg0": np.full((4, 64), 0.1, np.float32)})
    q = good["arg1"].copy()
    q[3, 5] = 15 + 1  # one past the 4-bit unsigned range
    _npz(HERE / "npz" / "weight_out_of_range.npz", **{**good, "arg1": q})
    _npz(HERE / "npz" / "extra_key.npz", **good, arg9=np.zeros(3))
    data = (HERE / "npz" / "good.npz").read_bytes()
    (HERE / "npz" / "truncated.npz").write_bytes(data[: len(data) // 2])
    (HERE / "npz" / "not_npz.npz").write_text("arg0,arg1\n1,2\n")
    np.save(HERE / "npz" / "single_array.npy", good["arg0"])

    # inputs for test/inputs/torch/gptq_uint4_g128.mlir (mixpe-run): a weight of 200 in 4 bits
    ref = dict(np.load(HERE.parent.parent / "inputs" / "torch" / "gptq_uint4_g128.npz"))
    w = ref["arg1"].copy()
    w[0, 0] = 200
    _npz(HERE / "npz" / "gptq_weight_200.npz", **{**ref, "arg1": w})


if __name__ == "__main__":
    main()

"""Whole model pieces from torch-mlir through the compiler and simulator, checked against torch.

`test/inputs/models/` holds exports of real model code (decoder layers, ViT blocks, routers,
rotary embeddings, and single linears in many real dequantization styles) with torch's outputs
and a float64 reference. `run_case` compiles one as `mixpe-run` does, simulates it bit-exactly
and measures its error; `bench/bench_models.py` prints the table, and the test suite asserts
`within_bound` on every case.

The bound (docs/numerics.md, "Whole layers"): the max-norm relative error against the float64
run, max|y - y64| / max|y64|, may be at most `TOLERANCE[dtype]` or twice torch's own error in
the same dtype, whichever is larger. torch and mixpe round at different points (torch rounds
every dequantized weight to the activation type; mixpe dequantizes after the group sums), so
neither is the other's reference: both are judged against float64.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixpe import driver
from mixpe.simulator.execute import run_program
from mixpe.simulator.program import OPS

# max-norm relative error allowed against float64, by the result's dtype: 2 ulps of the largest
# output for f16 and bf16 (2^-10, 2^-7 relative), 8 for f32 (a layer rounds a dozen times)
TOLERANCE = {"float32": 1e-6, "float16": 2e-3, "bfloat16": 1.6e-2}
RAISED = ("group_psum", "bitplane_psum", "shift_psum", "mpgemm")


@dataclass
class CaseResult:
    name: str
    raised: int = 0
    fallback: int = 0
    generic: int = 0
    cycles: int = 0
    errors: list[dict] = field(default_factory=list)  # per float result
    exact: list[bool] = field(default_factory=list)  # per integer result
    seconds: float = 0.0

    def within_bound(self) -> bool:
        return all(self.exact) and all(e["err"] <= e["bound"] for e in self.errors)


def weight_bits(mlir: Path) -> int | None:
    """The `--weight-bits` the generator's header names."""
    for line in mlir.read_text().splitlines()[:4]:
        if "run with --weight-bits" in line:
            return int(line.rsplit(" ", 1)[1])
    return None


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    finite = np.isfinite(b)
    if not np.array_equal(np.isfinite(a), finite) or not np.array_equal(a[~finite], b[~finite]):
        return float("inf")  # an inf or NaN where the reference has none
    scale = np.abs(b[finite]).max() if finite.any() else 0.0
    diff = np.abs(a[finite] - b[finite]).max() if finite.any() else 0.0
    return float(diff / scale) if scale else float(diff)


def run_case(mlir: Path, hw: str | None = None) -> CaseResult:
    """Compile (mixpe-pipeline with the header's weight bits), simulate, compare."""
    data = np.load(mlir.with_suffix(".npz"))
    ref_path = mlir.with_suffix(".ref.npz")
    refs = np.load(ref_path) if ref_path.exists() else None
    args = [data[f"arg{i}"] for i in range(sum(k.startswith("arg") for k in data))]
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):  # remarks: the counts below say what raised
        module = driver.compile_module(driver.parse(mlir.read_text(), str(mlir)),
                                       driver.CompileOptions(hw=hw, weight_bits=weight_bits(mlir)))
    program = driver.to_program(module)
    result = run_program(program, hw, {f"arg{i}": a for i, a in enumerate(args)})
    out = CaseResult(mlir.stem, seconds=time.perf_counter() - t0)
    for ins in program.instructions:
        out.raised += ins.op in RAISED
        out.fallback += ins.op == "matmul"
        out.generic += ins.op == "generic"
    out.cycles = result.to_dict()["totals"]["cycles"]["total"]
    assert result.outputs is not None, "run_program computes outputs when given inputs"
    for i in range(len(program.outputs)):
        got, torch_out = result.outputs[f"result{i}"], data[f"result{i}"]
        if np.issubdtype(torch_out.dtype, np.integer) or torch_out.dtype == bool:
            out.exact.append(bool(np.array_equal(got.astype(np.int64), torch_out.astype(np.int64))))
            continue
        dt = np.dtype(got.dtype).name
        ref = refs[f"result{i}"] if refs is not None else torch_out
        torch_err = rel_error(torch_out, ref) if refs is not None else 0.0
        err, vs_torch = rel_error(got, ref), rel_error(got, torch_out)
        if not np.isfinite(torch_err):  # torch overflowed where float64 did not: judge against torch,
            err, torch_err = vs_torch, 0.0  # which must then overflow at the same places
        out.errors.append({"result": i, "dtype": dt, "err": err, "vs_torch": vs_torch,
                           "torch_err": torch_err, "bound": max(TOLERANCE.get(dt, 1e-6), 2 * torch_err)})
    return out


def array_ops() -> tuple[str, ...]:
    return tuple(op for op, spec in OPS.items() if spec.unit == "array")

"""Vectorised numpy evaluator for MLIR modules held as xDSL IR.

Why: every mixpe rewrite must preserve numerics, so tests run a module before and after each
pass. xDSL's interpreter is scalar Python and lacks ext/itofp; this evaluator runs whole tensors
through numpy instead, with MLIR's per-op semantics:

- signless integers are two's-complement bit patterns; `extui`/`uitofp`/`*ui` ops read them
  unsigned, `extsi`/`sitofp`/`*si` ops signed; integer arithmetic wraps at the type's width.
- every float op rounds to its result type: f16/bf16 arithmetic is done in float32 and rounded
  once per op, which equals IEEE f16/bf16 for + - * / sqrt (float32 has >= 2p+2 bits, so the
  double rounding is innocuous). Transcendentals (exp, log, tanh, erf, pow...) are computed in
  float64 and rounded once; MLIR's own lowerings are approximations, so those agree only to a
  few ulp. `math.fma` is computed in float64 and may double-round.
- float add-reductions (matmul and other `acc + term` bodies) are summed in float64 and rounded
  once to the accumulator type, not accumulated sequentially; see `docs/numerics-evaluator.md`
  for the bound. `evaluate(..., reductions="ordered")` runs MLIR's exact sequential order.
- `tensor.empty` yields NaN (floats) / the most negative value (ints), so a rewrite that reads
  an uninitialised tensor shows up instead of silently reading zeros.

Unsupported ops, types and indexing maps raise `EvaluationError`; there is no fallback guess.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

# the dialect modules register their ops' evaluators when imported
from mixpe.interp import func as _func, linalg as _linalg, mixpe_ops as _mixpe_ops  # noqa: F401
from mixpe.interp import tensor as _tensor  # noqa: F401
from mixpe.interp.arith import _constant_values
from mixpe.interp.core import EvaluationError, _export, _import, register_op_evaluator
from mixpe.interp.structured import _Interp

__all__ = ["EvaluationError", "constant_value", "evaluate", "register_op_evaluator"]


def evaluate(
    module: ModuleOp,
    args: Sequence[np.ndarray],
    entry: str | None = None,
    *,
    reductions: str = "fast",
) -> list[np.ndarray]:
    """Run `func.func @entry` (default: the module's only public function) on numpy inputs.

    Results come back in the result types' numpy dtypes (f16 -> float16, bf16 ->
    ml_dtypes.bfloat16, i8 -> int8, i1 -> bool, i4 -> ml_dtypes.int4, index -> int64).
    `reductions="ordered"` evaluates float add-reductions in MLIR's sequential order (exact
    but looped over the reduction points) instead of float64 sums rounded once.
    """
    interp = _Interp(module, reductions)
    funcs = interp.funcs
    if entry is None:
        public = [
            f
            for f in funcs.values()
            if f.body.blocks and (f.sym_visibility is None or f.sym_visibility.data == "public")
        ]
        if len(public) != 1:
            raise ValueError(f"entry=None needs exactly one public function, found {[f.sym_name.data for f in public]}")
        func = public[0]
    elif entry in funcs:
        func = funcs[entry]
    else:
        raise ValueError(f"no func.func @{entry} in the module (have {sorted(funcs)})")
    ftype = func.function_type
    if len(args) != len(ftype.inputs.data):
        raise ValueError(f"@{func.sym_name.data} takes {len(ftype.inputs.data)} arguments, got {len(args)}")
    inputs = [_import(a, t, func, f"arg{i}") for i, (a, t) in enumerate(zip(args, ftype.inputs.data))]
    with np.errstate(all="ignore"):  # wraparound, NaN and inf are MLIR semantics, not errors
        results = interp.call(func, inputs)
    return [_export(v, t) for v, t in zip(results, ftype.outputs.data)]


def constant_value(op: Operation) -> np.ndarray:
    """The value of an `arith.constant` (dense, splat or dense_resource) as a numpy array."""
    return _constant_values(op)[0]

"""Dynamic per-token activation quantization, for float activations on A8 hardware (docs/design.md §1).

    sx[m] = max_k |x[m,k]| / 127   (1 where a row is all zeros)
    xq    = clamp(roundeven(x / sx[m]), -127, 127) as i8
    y     = sx[m] * (xq @ dequant(Q))

This changes the numbers (it is a quantization), so `mixpe-raise` only does it when asked
(`act-quant=per-token`); everything is computed in f32 with upstream linalg/arith/math ops
that the evaluator, the backend and upstream MLIR all understand, so the module states
exactly what it computes and a reference can quantize the same way.
"""

from __future__ import annotations

from xdsl.dialects import arith, math
from xdsl.dialects.builtin import AnyFloat, Float32Type, IntegerType, TensorType, f32
from xdsl.ir import SSAValue

from mixpe.transforms import _linalg_build as lb

QMAX = 127


def _f32(value: SSAValue) -> SSAValue:
    """The activations in f32 (an exact widening for f16/bf16)."""
    if isinstance(lb.elem(value), Float32Type):
        return value
    return lb.map_elements(value, f32, lambda v: arith.ExtFOp(v, f32).result)


def quantize_per_token(x: SSAValue) -> tuple[SSAValue, SSAValue]:
    """(xq: i8 [M,K], sx: f32 [M]) built at the current insertion point."""
    assert isinstance(lb.elem(x), AnyFloat)
    xf = _f32(x)
    m = lb.size(xf, 0)
    absx = lb.map_elements(xf, f32, lambda v: math.AbsFOp(v).result)
    amax = lb.generic(
        [absx], [lb.zeros([m], f32)], [lb.dims(2, 0, 1), lb.dims(2, 0)], [1],
        lambda a, acc: [arith.MaximumfOp(a, acc).result],
    )[0]  # |x| >= 0, so the zero init is neutral

    def scale(a: SSAValue) -> SSAValue:
        zero, one, qmax = lb.scalar(0, f32), lb.scalar(1, f32), lb.scalar(QMAX, f32)
        is_zero = arith.CmpfOp(a, zero, "oeq").result
        return arith.SelectOp(is_zero, one, arith.DivfOp(a, qmax).result).result

    sx = lb.map_elements(amax, f32, scale)

    def quantize(v: SSAValue, s: SSAValue, _out: SSAValue) -> list[SSAValue]:
        r = math.RoundEvenOp(arith.DivfOp(v, s).result).result
        r = arith.MaximumfOp(r, lb.scalar(-QMAX, f32)).result
        r = arith.MinimumfOp(r, lb.scalar(QMAX, f32)).result
        return [arith.FPToSIOp(r, IntegerType(8)).result]

    xq_init = lb.empty([m, lb.size(xf, 1)], IntegerType(8))
    xq = lb.generic([xf, sx], [xq_init], [lb.dims(2, 0, 1), lb.dims(2, 0), lb.dims(2, 0, 1)], [], quantize)[0]
    return xq, sx


def rescale_per_token(y: SSAValue, sx: SSAValue, out_elem) -> SSAValue:
    """out[m,n] = sx[m] * y[m,n], converted to `out_elem` (the frontend's result type)."""
    ty = y.type
    assert isinstance(ty, TensorType)
    init = lb.empty([lb.size(y, 0), lb.size(y, 1)], out_elem)

    def body(v: SSAValue, s: SSAValue, _out: SSAValue) -> list[SSAValue]:
        return [lb.convert(arith.MulfOp(v, s).result, out_elem)]

    return lb.generic([y, sx], [init], [lb.dims(2, 0, 1), lb.dims(2, 0), lb.dims(2, 0, 1)], [], body)[0]

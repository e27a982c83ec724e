"""The evaluator's core: errors, element types and MLIR's integer/float rounding rules,
the op dispatch table every dialect module registers into, and conversion of caller arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from dataclasses import dataclass
from functools import lru_cache

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    BFloat16Type,
    ContainerType,
    Float16Type,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    ShapedType,
    Signedness,
)
from xdsl.ir import Attribute, Operation

from mixpe.reference import dtypes

if TYPE_CHECKING:  # only for annotations: structured imports this module (a cycle at run time)
    from mixpe.interp.structured import _Interp


class EvaluationError(Exception):
    """An op (or type, or indexing map) the evaluator cannot run exactly."""

    def __init__(self, op_name: str, where: str, reason: str = "unsupported operation"):
        self.op_name, self.where, self.reason = op_name, where, reason
        super().__init__(f"{op_name}: {reason} (at: {where})")


def _where(op: Operation) -> str:
    """One line of op text to say where an error is (regions elided)."""
    try:
        text = str(op).split("\n", 1)[0]
    except Exception:  # printing must never hide the real error
        text = op.name
    return text if len(text) <= 160 else text[:157] + "..."


def _fail(op: Operation, reason: str = "unsupported operation") -> EvaluationError:
    return EvaluationError(op.name, _where(op), reason)


# ---------------------------------------------------------------------------------------------
# Element types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Elem:
    """How a scalar MLIR type is held: `dtype` is the internal container (i4 in int8, values
    sign-extended; ui4 in uint8), `public` the dtype `evaluate` returns (mixpe.reference.dtypes)."""

    kind: str  # "f", "i" or "index"
    width: int
    unsigned: bool  # ui types only; signless and si are held sign-extended
    dtype: np.dtype
    public: np.dtype


_FLOATS: dict[type, np.dtype] = {
    Float16Type: np.dtype(np.float16),
    BFloat16Type: np.dtype(ml_dtypes.bfloat16),
    Float32Type: np.dtype(np.float32),
    Float64Type: np.dtype(np.float64),
}


@lru_cache(maxsize=None)
def _elem(t: Attribute) -> _Elem:
    if isinstance(t, ShapedType):
        assert isinstance(t, ContainerType)  # tensor, vector and memref types all are
        t = t.get_element_type()
    if type(t) in _FLOATS:
        assert isinstance(t, AnyFloat)
        dt = _FLOATS[type(t)]
        return _Elem("f", t.bitwidth, False, dt, dt)
    if isinstance(t, IndexType):
        return _Elem("index", 64, False, np.dtype(np.int64), np.dtype(np.int64))
    if isinstance(t, IntegerType) and 1 <= t.width.data <= 64:
        w = t.width.data
        unsigned = t.signedness.data == Signedness.UNSIGNED
        if w == 1:
            container = np.dtype(np.bool_)
        else:
            bits = next(b for b in (8, 16, 32, 64) if w <= b)
            container = np.dtype(f"{'u' if unsigned else 'i'}{bits // 8}")
        name = f"{'ui' if unsigned else 'i'}{w}"
        try:
            public = dtypes.to_numpy(name)
        except ValueError:  # i3, i7, ...: no numpy dtype; the container is the best we have
            public = container
        return _Elem("i", w, unsigned, container, public)
    raise EvaluationError("<type>", str(t), "unsupported element type")


def _signed(x: np.ndarray, e: _Elem) -> np.ndarray:
    """Integer bits read as signed (i1 true is -1), as int32 (width <= 32) or int64."""
    work = np.int32 if e.width <= 32 else np.int64
    if e.width == 1:
        return -np.asarray(x).astype(work)
    x = np.asarray(x).astype(work)
    if e.unsigned and e.width < 64:
        x = np.where(x >= 1 << (e.width - 1), x - (1 << e.width), x).astype(work)
    return x


def _unsigned(x: np.ndarray, e: _Elem) -> np.ndarray:
    """Integer bits read as unsigned: int32 (width <= 31), int64, or uint64 for 64 bits."""
    x = np.asarray(x)
    if e.width == 64:
        return x.astype(np.uint64)
    work = np.int32 if e.width <= 31 else np.int64
    return x.astype(work) & work((1 << e.width) - 1)


def _wrap(x: np.ndarray, e: _Elem) -> np.ndarray:
    """Integer values reduced modulo 2**width into e's container (MLIR wraparound)."""
    x = np.asarray(x)
    if e.width == 1:
        return (x & 1).astype(np.bool_)
    if e.width == 8 * e.dtype.itemsize:
        return x.astype(e.dtype)  # C casts between integer types wrap
    y = x.astype(np.int64) & ((1 << e.width) - 1)
    if not e.unsigned:
        y = np.where(y >= 1 << (e.width - 1), y - (1 << e.width), y)
    return y.astype(e.dtype)


def _compute(x: np.ndarray, wide: bool = False) -> np.ndarray:
    """Float values in the dtype numpy computes in: float32 for f16/bf16/f32, float64 if wide."""
    x = np.asarray(x)
    if wide or x.dtype == np.float64:
        return x.astype(np.float64, copy=False)
    return x.astype(np.float32, copy=False)


def _round(y: np.ndarray, e: _Elem) -> np.ndarray:
    """float32/float64 values rounded once (nearest-even) to e's float type."""
    y = np.asarray(y)
    if y.dtype == np.float64 and e.dtype == _FLOATS[BFloat16Type]:
        return dtypes.round_to(y, "bf16")  # ml_dtypes would double-round through float32
    return y.astype(e.dtype)


def _convert(x: np.ndarray, src: _Elem, dst: _Elem, unsigned: bool = False) -> np.ndarray:
    """linalg's `cast_signed`/`cast_unsigned`: ext/trunc, [su]itofp, fpto[su]i as needed."""
    if src.kind == "f" and dst.kind == "f":
        return _round(_compute(x), dst)
    if src.kind == "f":
        t = np.trunc(_compute(x, wide=True))
        return _wrap(t.astype(np.uint64 if unsigned and dst.width == 64 else np.int64), dst)
    if 2 <= src.width <= 8 and src.dtype.itemsize == 1 and np.size(x) > 4096:
        # 8-bit storage (uint4-in-uint8 weights): convert the 256 byte values once, then gather
        lut = _convert(np.arange(256, dtype=np.uint8).view(src.dtype), src, dst, unsigned)
        return lut[np.asarray(x).view(np.uint8)]
    if dst.kind == "f" and 2 <= src.width <= _SIGNIFICAND[dst.dtype] and (
        not unsigned or 8 * src.dtype.itemsize == src.width
    ):  # every value is exact in dst: convert straight from the container (or its bits)
        x = np.asarray(x)
        return (x.view(f"u{x.dtype.itemsize}") if unsigned else x).astype(dst.dtype)
    ints = _unsigned(x, src) if unsigned else _signed(x, src)
    if dst.kind == "f":  # float32 holds ints below 2**24 exactly: still one rounding
        return _round(ints.astype(np.float32 if src.width <= 24 else np.float64), dst)
    return _wrap(ints, dst)


_SIGNIFICAND = {dt: p for dt, p in zip(_FLOATS.values(), (11, 8, 24, 53))}


def _poison(e: _Elem) -> object:
    if e.kind == "f":
        return np.nan
    return False if e.width == 1 else np.iinfo(e.dtype).min


# ---------------------------------------------------------------------------------------------
# Dispatch table
# ---------------------------------------------------------------------------------------------

# impl(interp, op, operand_values) -> result values
_Impl = Callable[["_Interp", Operation, list[np.ndarray]], list[np.ndarray]]
_EVALUATORS: dict[str, _Impl] = {}


def register_op_evaluator(
    op_name: str, fn: Callable[[Operation, list[np.ndarray]], list[np.ndarray]]
) -> None:
    """Plug a numpy kernel in for `op_name` (e.g. mixpe.* ops): `fn(op, operand_values)` returns
    one array per result, in the result types' numpy dtypes (i4 as ml_dtypes.int4 or int8)."""

    def impl(interp: _Interp, op: Operation, vals: list[np.ndarray]) -> list[np.ndarray]:
        outs = list(fn(op, vals))
        if len(outs) != len(op.results):
            raise _fail(op, f"registered evaluator returned {len(outs)} values")
        return [_import(o, r.type, op, f"result {i}") for i, (o, r) in enumerate(zip(outs, op.results))]

    _EVALUATORS[op_name] = impl


def _op(*names: str):
    def deco(fn: _Impl) -> _Impl:
        for n in names:
            _EVALUATORS[n] = fn
        return fn

    return deco


def _res(op: Operation, i: int = 0) -> _Elem:
    return _elem(op.results[i].type)


def _arg(op: Operation, i: int = 0) -> _Elem:
    return _elem(op.operands[i].type)



def _import(x, t: Attribute, op: Operation, what: str) -> np.ndarray:
    """A caller's array as the internal container of type t. Signless ints take any int dtype
    whose values fit the width (uint8 bits for i8); floats must convert exactly."""
    e = _elem(t)
    a = np.asarray(x)
    if e.kind == "f":
        a = a if a.dtype == e.dtype else dtypes.coerce(a, dtypes.type_name(e.dtype), what)
    else:
        narrow_ints = (ml_dtypes.int4, ml_dtypes.uint4, ml_dtypes.int2, ml_dtypes.uint2)
        if a.dtype in tuple(np.dtype(d) for d in narrow_ints):
            a = a.astype(np.int16)
        if a.dtype.kind not in "iub":
            raise EvaluationError(op.name, _where(op), f"{what}: expected integers for {t}, got {a.dtype}")
        if a.dtype.kind in "iu" and 8 * a.dtype.itemsize == e.width:
            a = a.view(e.dtype)  # uint8 bits for i8 and the like: the same bit pattern
            wide = None
        else:
            wide = a.astype(np.uint64 if a.dtype.kind == "u" else np.int64)
        lo = -(1 << (e.width - 1)) if not e.unsigned and e.width > 1 else 0
        if wide is not None and a.size and (int(wide.min()) < lo or int(wide.max()) >= 1 << e.width):
            raise EvaluationError(op.name, _where(op), f"{what}: {a.dtype} values do not fit {t}")
        a = a if wide is None else _wrap(wide, e)
    if isinstance(t, ShapedType):
        shape = t.get_shape()
        if len(shape) != a.ndim or any(d != DYNAMIC_INDEX and d != s for d, s in zip(shape, a.shape)):
            raise EvaluationError(op.name, _where(op), f"{what}: shape {a.shape} does not match {t}")
    elif a.ndim:
        raise EvaluationError(op.name, _where(op), f"{what}: expected a scalar for {t}, got shape {a.shape}")
    return a


def _export(v: np.ndarray, t: Attribute) -> np.ndarray:
    return np.asarray(v).astype(_elem(t).public, order="C")  # a fresh array, 0-d stays 0-d



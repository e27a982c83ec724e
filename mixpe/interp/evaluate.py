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

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import prod

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    BFloat16Type,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    ShapedType,
    Signedness,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.ir.affine import (
    AffineBinaryOpExpr,
    AffineBinaryOpKind,
    AffineConstantExpr,
    AffineDimExpr,
    AffineExpr,
    AffineMap,
)

from mixpe import ir_constants
from mixpe.reference import dtypes, kernels

__all__ = ["EvaluationError", "evaluate", "register_op_evaluator"]


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
        t = t.get_element_type()
    if type(t) in _FLOATS:
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


# --- arith: float ----------------------------------------------------------------------------


def _maximumf(a, b):
    """IEEE maximum: NaN propagates and -0 < +0 (np.maximum leaves zero signs unordered)."""
    return np.where(a == b, np.where(np.signbit(a), b, a), np.maximum(a, b))


def _minimumf(a, b):
    return np.where(a == b, np.where(np.signbit(a), a, b), np.minimum(a, b))


def _math_round(a):
    """math.round: halves away from zero (np.round rounds halves to even)."""
    t = np.trunc(a)
    return np.where(np.abs(a - t) >= 0.5, t + np.sign(a), t)


def _erf(a):
    try:
        from scipy.special import erf
    except ImportError:  # pragma: no cover - scipy is present in the dev environment
        import math

        return np.frompyfunc(math.erf, 1, 1)(a).astype(np.float64)
    return erf(a)


# name -> (numpy function, compute in float64?). Exactly-rounded ops run in float32 for narrow
# types; the rest run in float64 and round once.
_FLOAT_OPS: dict[str, tuple[Callable, bool]] = {
    "arith.addf": (np.add, False),
    "arith.subf": (np.subtract, False),
    "arith.mulf": (np.multiply, False),
    "arith.divf": (np.divide, False),
    "arith.remf": (np.fmod, True),
    "arith.negf": (np.negative, False),
    "arith.maximumf": (_maximumf, False),
    "arith.minimumf": (_minimumf, False),
    "arith.maxnumf": (np.fmax, False),
    "arith.minnumf": (np.fmin, False),
    "math.absf": (np.abs, False),
    "math.sqrt": (np.sqrt, False),
    "math.rsqrt": (lambda a: 1.0 / np.sqrt(a), True),
    "math.exp": (np.exp, True),
    "math.exp2": (np.exp2, True),
    "math.expm1": (np.expm1, True),
    "math.log": (np.log, True),
    "math.log2": (np.log2, True),
    "math.log10": (np.log10, True),
    "math.log1p": (np.log1p, True),
    "math.tanh": (np.tanh, True),
    "math.sin": (np.sin, True),
    "math.cos": (np.cos, True),
    "math.tan": (np.tan, True),
    "math.sinh": (np.sinh, True),
    "math.cosh": (np.cosh, True),
    "math.asin": (np.arcsin, True),
    "math.acos": (np.arccos, True),
    "math.atan": (np.arctan, True),
    "math.asinh": (np.arcsinh, True),
    "math.acosh": (np.arccosh, True),
    "math.atanh": (np.arctanh, True),
    "math.atan2": (np.arctan2, True),
    "math.cbrt": (np.cbrt, True),
    "math.erf": (_erf, True),
    "math.powf": (np.power, True),
    "math.fpowi": (np.power, True),  # float base, integer exponent (torch.pow(x, 2))
    "math.copysign": (np.copysign, False),
    "math.floor": (np.floor, False),
    "math.ceil": (np.ceil, False),
    "math.trunc": (np.trunc, False),
    "math.roundeven": (np.rint, False),
    "math.round": (_math_round, False),
    "math.fma": (lambda a, b, c: a * b + c, True),
}


# numpy's float16 loops and ml_dtypes' bfloat16 ufuncs compute these in float32 and round once:
# the same numbers as the generic path, without the temporaries.
_NATIVE = {np.add, np.subtract, np.multiply, np.divide, np.negative, np.abs}


def _float_op(fn: Callable, wide: bool) -> _Impl:
    def impl(interp, op, vals):
        e = _res(op)
        if fn in _NATIVE and all(v.dtype == e.dtype for v in vals):
            return [np.asarray(fn(*vals))]
        return [_round(fn(*(_compute(v, wide) for v in vals)), e)]

    return impl


for _name, (_fn, _wide) in _FLOAT_OPS.items():
    _EVALUATORS[_name] = _float_op(_fn, _wide)


_CMPF = {  # predicate -> fn(a, b, unordered)
    0: lambda a, b, u: np.zeros(np.broadcast(a, b).shape, bool),
    1: lambda a, b, u: a == b,
    2: lambda a, b, u: a > b,
    3: lambda a, b, u: a >= b,
    4: lambda a, b, u: a < b,
    5: lambda a, b, u: a <= b,
    6: lambda a, b, u: (a != b) & ~u,
    7: lambda a, b, u: ~u,
    8: lambda a, b, u: (a == b) | u,
    9: lambda a, b, u: (a > b) | u,
    10: lambda a, b, u: (a >= b) | u,
    11: lambda a, b, u: (a < b) | u,
    12: lambda a, b, u: (a <= b) | u,
    13: lambda a, b, u: a != b,
    14: lambda a, b, u: u,
    15: lambda a, b, u: np.ones(np.broadcast(a, b).shape, bool),
}


@_op("arith.cmpf")
def _cmpf(interp, op, vals):
    a, b = (_compute(v, wide=True) for v in vals)
    return [np.asarray(_CMPF[op.predicate.value.data](a, b, np.isnan(a) | np.isnan(b)))]


# --- arith: integer --------------------------------------------------------------------------


def _divsi(a, b):
    """Division truncating toward zero (numpy's // floors)."""
    q = a // np.where(b == 0, 1, b)
    return np.where((q < 0) & (q * b != a), q + 1, q)


def _ceildiv(a, b):
    b = np.where(b == 0, 1, b)
    return a // b + (a % b != 0)


def _shift(fn: Callable) -> Callable:
    """Shifts by >= width are poison in MLIR; we return 0 rather than numpy's wrapped shift."""

    def go(a, b, w):
        big = (b < 0) | (b >= w)
        return np.where(big, 0, fn(a, np.where(big, 0, b)))

    return go


# name -> (fn(a, b, width), operands read as "s"igned or "u"nsigned)
_INT_OPS: dict[str, tuple[Callable, str]] = {
    "arith.addi": (lambda a, b, w: a + b, "s"),
    "arith.subi": (lambda a, b, w: a - b, "s"),
    "arith.muli": (lambda a, b, w: a * b, "s"),
    "arith.divsi": (lambda a, b, w: _divsi(a, b), "s"),
    "arith.remsi": (lambda a, b, w: a - _divsi(a, b) * b, "s"),
    "arith.floordivsi": (lambda a, b, w: a // np.where(b == 0, 1, b), "s"),
    "arith.ceildivsi": (lambda a, b, w: _ceildiv(a, b), "s"),
    "arith.divui": (lambda a, b, w: a // np.where(b == 0, 1, b), "u"),
    "arith.remui": (lambda a, b, w: a % np.where(b == 0, 1, b), "u"),
    "arith.ceildivui": (lambda a, b, w: _ceildiv(a, b), "u"),
    "arith.maxsi": (lambda a, b, w: np.maximum(a, b), "s"),
    "arith.minsi": (lambda a, b, w: np.minimum(a, b), "s"),
    "arith.maxui": (lambda a, b, w: np.maximum(a, b), "u"),
    "arith.minui": (lambda a, b, w: np.minimum(a, b), "u"),
    "arith.andi": (lambda a, b, w: a & b, "s"),
    "arith.ori": (lambda a, b, w: a | b, "s"),
    "arith.xori": (lambda a, b, w: a ^ b, "s"),
    "arith.shli": (_shift(np.left_shift), "u"),
    "arith.shrui": (_shift(np.right_shift), "u"),
    "arith.shrsi": (lambda a, b, w: a >> np.clip(b, 0, 63), "s"),  # shifts in sign bits
}


def _int_op(fn: Callable, read: str) -> _Impl:
    def impl(interp, op, vals):
        e = _res(op)
        a, b = (_unsigned(v, e) if read == "u" else _signed(v, e) for v in vals)
        if read == "u" and e.width == 64:
            b = b.astype(np.uint64)
        return [_wrap(fn(a, b, e.width), e)]

    return impl


for _name, (_fn, _read) in _INT_OPS.items():
    _EVALUATORS[_name] = _int_op(_fn, _read)


_CMPI = {  # predicate -> (fn, read unsigned?)
    0: (np.equal, False),
    1: (np.not_equal, False),
    2: (np.less, False),
    3: (np.less_equal, False),
    4: (np.greater, False),
    5: (np.greater_equal, False),
    6: (np.less, True),
    7: (np.less_equal, True),
    8: (np.greater, True),
    9: (np.greater_equal, True),
}


@_op("arith.cmpi")
def _cmpi(interp, op, vals):
    fn, unsigned = _CMPI[op.predicate.value.data]
    e = _arg(op)
    a, b = (_unsigned(v, e) if unsigned else _signed(v, e) for v in vals)
    return [np.asarray(fn(a, b))]


@_op("arith.select")
def _select(interp, op, vals):
    c, a, b = vals
    return [np.where(c, a, b).astype(a.dtype, copy=False)]


# --- arith: casts ----------------------------------------------------------------------------


@_op("arith.extf", "arith.truncf")
def _float_cast(interp, op, vals):
    mode = op.properties.get("roundingmode") or op.attributes.get("roundingmode")
    if mode is not None and "to_nearest_even" not in str(mode):
        raise _fail(op, f"rounding mode {mode} is not supported")
    return [_convert(vals[0], _arg(op), _res(op))]


@_op("arith.extsi", "arith.trunci", "arith.sitofp", "arith.fptosi", "arith.index_cast")
def _signed_cast(interp, op, vals):
    return [_convert(vals[0], _arg(op), _res(op))]


@_op("arith.extui", "arith.uitofp", "arith.fptoui", "arith.index_castui")
def _unsigned_cast(interp, op, vals):
    return [_convert(vals[0], _arg(op), _res(op), unsigned=True)]


@_op("arith.bitcast")
def _bitcast(interp, op, vals):
    src, dst = _arg(op), _res(op)
    if 8 * src.dtype.itemsize != src.width or 8 * dst.dtype.itemsize != dst.width:
        raise _fail(op, "bitcast of types narrower than their container")
    return [np.ascontiguousarray(vals[0]).view(dst.dtype).reshape(np.shape(vals[0]))]


# --- constants -------------------------------------------------------------------------------


@_op("arith.constant")
def _constant(interp, op, vals):
    v, t = op.value, op.results[0].type
    if isinstance(v, DenseIntOrFPElementsAttr | DenseResourceAttr):
        try:
            raw = ir_constants.elements(v, t)
        except ValueError as err:
            raise _fail(op, str(err)) from None
        return [raw if _elem(t).kind == "f" or raw.dtype == np.bool_ else _wrap(raw, _elem(t))]
    e = _elem(t)
    if isinstance(v, FloatAttr):
        return [_round(np.array(v.value.data, np.float64), e)]
    if isinstance(v, IntegerAttr):
        val = v.value.data % (1 << e.width) if e.width < 64 else v.value.data
        return [_wrap(np.array(val).astype(np.uint64 if val >= 1 << 63 else np.int64), e)]
    raise _fail(op, f"unsupported constant attribute {type(v).__name__}")


# --- func ------------------------------------------------------------------------------------


@_op("func.call")
def _call(interp, op, vals):
    name = op.callee.root_reference.data
    if name not in interp.funcs:
        raise _fail(op, f"callee @{name} not found in the module")
    return interp.call(interp.funcs[name], vals)


# --- tensor ----------------------------------------------------------------------------------


def _dynamic_shape(static: Sequence[int], dynamic: list[np.ndarray]) -> tuple[int, ...]:
    it = iter(dynamic)
    return tuple(int(next(it)) if d == DYNAMIC_INDEX else d for d in static)


@_op("tensor.empty")
def _empty(interp, op, vals):
    t = op.results[0].type
    e = _elem(t)
    # a read-only broadcast view costs nothing; values are never written in place
    return [np.broadcast_to(np.array(_poison(e), dtype=e.dtype), _dynamic_shape(t.get_shape(), vals))]


@_op("tensor.collapse_shape")
def _collapse(interp, op, vals):
    src = vals[0]
    groups = [[int(i.value.data) for i in g] for g in op.reassociation]
    return [src.reshape(tuple(prod(src.shape[i] for i in g) for g in groups))]


@_op("tensor.expand_shape")
def _expand(interp, op, vals):
    shape = _dynamic_shape(op.static_output_shape.get_values(), vals[1:])
    return [vals[0].reshape(shape)]


@_op("tensor.reshape")
def _reshape(interp, op, vals):
    return [vals[0].reshape(tuple(int(s) for s in vals[1]))]


@_op("tensor.cast")
def _tcast(interp, op, vals):
    return [vals[0]]


def _slice_of(op: Operation, vals: list[np.ndarray], first: int) -> tuple[tuple[slice, ...], tuple[int, ...]]:
    """Offsets/sizes/strides of extract_slice/insert_slice: index tuple and slice sizes."""
    dyn = iter(vals[first:])
    lists = [
        [int(next(dyn)) if x == DYNAMIC_INDEX else x for x in p.get_values()]
        for p in (op.static_offsets, op.static_sizes, op.static_strides)
    ]
    offsets, sizes, strides = lists
    index = tuple(slice(o, o + s * st, st) if s else slice(o, o) for o, s, st in zip(offsets, sizes, strides))
    return index, tuple(sizes)


def _drop_unit_dims(a: np.ndarray, t: Attribute) -> np.ndarray:
    """Rank-reducing slices drop unit dims; the data order is unchanged, so reshape."""
    rank = len(t.get_shape())
    if a.ndim == rank:
        return a
    shape = [d for d in a.shape]
    while len(shape) > rank:
        shape.remove(1)
    return a.reshape(shape)


@_op("tensor.extract_slice")
def _extract_slice(interp, op, vals):
    index, _ = _slice_of(op, vals, 1)
    return [_drop_unit_dims(vals[0][index], op.results[0].type).copy()]


@_op("tensor.insert_slice")
def _insert_slice(interp, op, vals):
    index, sizes = _slice_of(op, vals, 2)
    out = vals[1].copy()
    out[index] = vals[0].reshape(sizes)
    return [out]


@_op("tensor.extract")
def _extract(interp, op, vals):
    # inside a linalg body the indices may be arrays: a vectorised gather
    t, idx = vals[0], [np.asarray(i) for i in vals[1:]]
    for axis, i in enumerate(idx):
        if i.size and (i.min() < 0 or i.max() >= t.shape[axis]):  # undefined behaviour in MLIR
            raise _fail(op, f"index {int(i.max() if i.max() >= t.shape[axis] else i.min())} out of bounds "
                            f"for dim {axis} of size {t.shape[axis]}")
    return [np.asarray(t[tuple(idx)])]


@_op("tensor.insert")
def _insert(interp, op, vals):
    out = vals[1].copy()
    out[tuple(int(i) for i in vals[2:])] = vals[0]
    return [out]


@_op("tensor.from_elements")
def _from_elements(interp, op, vals):
    e = _res(op)
    return [np.array([np.asarray(v).item() for v in vals], dtype=e.dtype).reshape(op.results[0].type.get_shape())]


@_op("tensor.splat")
def _splat(interp, op, vals):
    t = op.results[0].type
    return [np.full(_dynamic_shape(t.get_shape(), vals[1:]), vals[0], dtype=_elem(t).dtype)]


@_op("tensor.dim")
def _dim(interp, op, vals):
    return [np.array(vals[0].shape[int(vals[1])], np.int64)]


@_op("tensor.concat")
def _concat(interp, op, vals):
    return [np.concatenate(vals, axis=op.dim.value.data)]


# ---------------------------------------------------------------------------------------------
# linalg
# ---------------------------------------------------------------------------------------------

_MAX_BROADCAST = 1 << 25  # elements: above this a reduction body is looped, not materialised


def _map_dims(m: AffineMap, op: Operation) -> list[int | tuple[str, int]]:
    """Per result: a loop dim, or ("c", value) for a constant; anything else is unsupported."""
    out: list[int | tuple[str, int]] = []
    for r in m.results:
        if isinstance(r, AffineDimExpr):
            out.append(r.position)
        elif isinstance(r, AffineConstantExpr):
            out.append(("c", r.value))
        else:
            raise _fail(op, f"indexing map {m} is not a projected permutation/constant map")
    dims = [d for d in out if isinstance(d, int)]
    if len(set(dims)) != len(dims):
        raise _fail(op, f"indexing map {m} repeats a loop dimension")
    return out


def _is_projection(m: AffineMap) -> bool:
    return all(isinstance(r, AffineDimExpr | AffineConstantExpr) for r in m.results)


def _affine_index(e, grids: dict[int, np.ndarray], op) -> np.ndarray | int:
    """An affine expression evaluated on broadcastable loop-index grids."""
    if isinstance(e, AffineDimExpr):
        if e.position not in grids:
            raise _fail(op, f"loop d{e.position} is not bound by a plainly indexed operand")
        return grids[e.position]
    if isinstance(e, AffineConstantExpr):
        return e.value
    if isinstance(e, AffineBinaryOpExpr):
        a, b = _affine_index(e.lhs, grids, op), _affine_index(e.rhs, grids, op)
        fn = {
            AffineBinaryOpKind.Add: np.add,
            AffineBinaryOpKind.Mul: np.multiply,
            AffineBinaryOpKind.Mod: np.mod,
            AffineBinaryOpKind.FloorDiv: np.floor_divide,
            AffineBinaryOpKind.CeilDiv: lambda x, y: -np.floor_divide(-x, y),
        }[e.kind]
        return fn(a, b)
    raise _fail(op, f"affine expression {e}")


def _gather_affine_inputs(s: _Structured) -> _Structured:
    """Inputs read through `d2 floordiv 32`-style maps are gathered into plain views first.

    Frontends write group broadcasts this way (IREE, hand-written IR); gathering once
    keeps the rest of the evaluator on projected permutations.
    """
    n_in = len(s.ins)
    if all(_is_projection(m) for m in s.maps):
        return s
    if not all(_is_projection(m) for m in s.maps[n_in:]):
        raise _fail(s.op, "an output indexing map is not a projected permutation")
    plain = [(m, v) for m, v in zip(s.maps, s.ins + s.outs) if _is_projection(m)]
    n = len(s.iterators)
    ranges: dict[int, int] = {}
    for m, v in plain:
        for axis, r in enumerate(m.results):
            if isinstance(r, AffineDimExpr):
                ranges.setdefault(r.position, np.shape(v)[axis])
    ins, maps = list(s.ins), list(s.maps)
    for i in range(n_in):
        m = s.maps[i]
        if _is_projection(m):
            continue
        used = sorted({e.position for r in m.results for e in r.dfs() if isinstance(e, AffineDimExpr)})
        grids = {}
        for axis, d in enumerate(used):
            if d not in ranges:
                raise _fail(s.op, f"loop d{d} is not bound by a plainly indexed operand")
            shape = [1] * len(used)
            shape[axis] = ranges[d]
            grids[d] = np.arange(ranges[d]).reshape(shape)
        index = tuple(np.asarray(_affine_index(r, grids, s.op)) for r in m.results)
        for axis, (ix, size) in enumerate(zip(index, np.shape(s.ins[i]))):
            if ix.size and (ix.min() < 0 or ix.max() >= size):
                raise _fail(s.op, f"indexing map {m} reads input {i} out of bounds on axis {axis}")
        ins[i] = np.asarray(s.ins[i])[index]
        ins[i] = np.broadcast_to(ins[i], tuple(ranges[d] for d in used))
        maps[i] = AffineMap(n, 0, tuple(AffineExpr.dimension(d) for d in used))
    return dataclasses.replace(s, ins=ins, maps=maps)


def _to_loops(a: np.ndarray, spec: list, n: int) -> np.ndarray:
    """Operand as a view over the n loop dims: axes in loop order, size 1 where not indexed."""
    a = np.asarray(a)
    a = a[tuple(s[1] if isinstance(s, tuple) else slice(None) for s in spec)]
    dims = [d for d in spec if isinstance(d, int)]
    a = a.transpose(np.argsort(dims)) if dims else a
    missing = tuple(d for d in range(n) if d not in dims)
    return np.expand_dims(a, missing) if missing else a


def _from_loops(y: np.ndarray, spec: list, ranges: list[int], init: np.ndarray, op) -> np.ndarray:
    """Result over the loop dims written into the output's layout (constants index `init`)."""
    dims = [d for d in spec if isinstance(d, int)]
    full = np.broadcast_to(y, tuple(ranges[d] if d in dims else y.shape[d] for d in range(len(ranges))))
    extra = tuple(d for d in range(len(ranges)) if d not in dims)
    if any(full.shape[d] != 1 for d in extra):
        raise _fail(op, "an output map omits a loop dimension the result depends on")
    block = full.reshape([full.shape[d] for d in sorted(dims)]) if extra else full
    order = sorted(dims)
    block = block.transpose([order.index(d) for d in dims])
    if len(dims) == len(spec):
        return block  # a view is fine: values are never written in place
    out = init.copy()
    out[tuple(s[1] if isinstance(s, tuple) else slice(None) for s in spec)] = block
    return out


def _loop_ranges(specs: list[list], vals: list[np.ndarray], n: int, op) -> list[int]:
    ranges: list[int | None] = [None] * n
    for spec, v in zip(specs, vals):
        for axis, d in enumerate(spec):
            if isinstance(d, int):
                size = np.shape(v)[axis]
                if ranges[d] is None:
                    ranges[d] = size
                elif ranges[d] != size:
                    raise _fail(op, f"loop d{d} has sizes {ranges[d]} and {size}")
    if None in ranges:
        raise _fail(op, "a loop dimension is not bound by any operand")
    return ranges  # type: ignore[return-value]


@dataclass
class _Structured:
    """A linalg op in generic terms: what `_run_structured` needs."""

    op: Operation
    ins: list[np.ndarray]
    outs: list[np.ndarray]
    maps: list[AffineMap]
    iterators: list[str]
    block: Block


# Reductions whose combiner is order-independent (or, for add, summed in float64 / int64):
# name -> numpy ufunc used to pre-reduce the term; None means add (sum or contraction).
_COMBINERS: dict[str, np.ufunc | None] = {
    "arith.addf": None,
    "arith.addi": None,
    "arith.maximumf": np.maximum,
    "arith.minimumf": np.minimum,
    "arith.maxnumf": np.fmax,
    "arith.minnumf": np.fmin,
    "arith.maxsi": np.maximum,
    "arith.minsi": np.minimum,
    "arith.andi": np.bitwise_and,
    "arith.ori": np.bitwise_or,
    "arith.xori": np.bitwise_xor,
}


@dataclass
class _Plan:
    """Per output: `acc (combiner) term`; `mul` set when term is a product to contract."""

    combiner: Operation
    term: SSAValue
    mul: Operation | None


def _match_reduction(s: _Structured, ordered_floats: bool) -> list[_Plan] | None:
    """Each yield must be `combiner(acc_i, term)` with term independent of every acc."""
    block = s.block
    acc_args = list(block.args[len(s.ins) :])
    tainted: set[SSAValue] = set(acc_args)
    for o in block.ops:
        if any(v in tainted for v in o.operands):
            tainted.update(o.results)
    plans: list[_Plan] = []
    special: set[Operation] = set()
    for i, y in enumerate(block.last_op.operands):
        c = y.owner
        if not isinstance(c, Operation) or c.name not in _COMBINERS or c.parent_block() is not block:
            return None
        if ordered_floats and c.name == "arith.addf":
            return None
        a, b = c.operands
        term = b if a is acc_args[i] else a if b is acc_args[i] else None
        if term is None or term in tainted or c.results[0].uses.get_length() != 1:
            return None
        m = term.owner
        mul = (
            m
            if _COMBINERS[c.name] is None
            and isinstance(m, Operation)
            and m.name in ("arith.mulf", "arith.muli")
            and m.parent_block() is block
            and term.uses.get_length() == 1
            else None
        )
        plans.append(_Plan(c, term, mul))
        special.add(c)
        if mul is not None:
            special.add(mul)
    if any(
        o not in special and any(r in tainted for r in o.results)
        for o in block.ops
        if o is not block.last_op
    ):
        return None
    return plans


def _contract(l: np.ndarray, r: np.ndarray, red: list[int], ranges, integer: bool) -> np.ndarray:
    """sum over `red` of l*r, both over the loop dims (size-1 = not indexed), via BLAS matmul.

    Floats go through float64 (products of f32 values are exact there). Integers use float64
    BLAS when every partial sum is below 2**53, else int64 matmul (exact modulo 2**64)."""
    n = l.ndim
    # a reduction dim only one side indexes can be summed on that side first
    l_only = tuple(d for d in red if l.shape[d] > 1 and r.shape[d] == 1)
    r_only = tuple(d for d in red if r.shape[d] > 1 and l.shape[d] == 1)
    acc = np.int64 if integer else np.float64
    l = l.sum(axis=l_only, keepdims=True, dtype=acc) if l_only else l.astype(acc)
    r = r.sum(axis=r_only, keepdims=True, dtype=acc) if r_only else r.astype(acc)
    shared = [d for d in range(n) if l.shape[d] > 1 and r.shape[d] > 1]
    batch = [d for d in shared if d not in red]
    contr = [d for d in shared if d in red]
    lo = [d for d in range(n) if l.shape[d] > 1 and d not in shared]
    ro = [d for d in range(n) if r.shape[d] > 1 and d not in shared]
    rest_l = [d for d in range(n) if d not in batch + lo + contr]
    rest_r = [d for d in range(n) if d not in batch + contr + ro]
    size = lambda a, ds: prod(a.shape[d] for d in ds)  # noqa: E731
    lm = l.transpose(batch + lo + contr + rest_l).reshape(size(l, batch), size(l, lo), size(l, contr))
    rm = r.transpose(batch + contr + ro + rest_r).reshape(size(r, batch), size(r, contr), size(r, ro))
    if integer and lm.size and rm.size:
        bound = float(np.abs(lm).max()) * float(np.abs(rm).max()) * max(size(l, contr), 1)
        if bound < 2.0**53:
            out = np.rint(np.matmul(lm.astype(np.float64), rm.astype(np.float64))).astype(np.int64)
        else:
            out = np.matmul(lm, rm)
    else:
        out = np.matmul(lm, rm)
    out = out.reshape([l.shape[d] for d in batch + lo] + [r.shape[d] for d in ro])
    # a reduction dim neither side indexes repeats every product
    repeat = prod(ranges[d] for d in red if l.shape[d] == 1 and r.shape[d] == 1)
    out = out * repeat if repeat != 1 else out
    order = batch + lo + ro
    out = out.transpose(np.argsort(order)) if order else out
    return np.expand_dims(out, tuple(d for d in range(n) if d not in order))


class _Interp:
    def __init__(self, module: ModuleOp, reductions: str):
        if reductions not in ("fast", "ordered"):
            raise ValueError(f"reductions must be 'fast' or 'ordered', not {reductions!r}")
        self.ordered = reductions == "ordered"
        self.funcs = {
            f.sym_name.data: f for f in module.ops if f.name == "func.func"
        }
        self.env: dict[SSAValue, np.ndarray] = {}
        self.index: list[list[np.ndarray]] = []  # linalg.index values, innermost body last

    # --- straight-line code ---------------------------------------------------------------

    def run_block(self, block: Block, args: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run a block; return the operands of its terminator."""
        for a, v in zip(block.args, args, strict=True):
            self.env[a] = v
        for op in block.ops:
            vals = []
            for o in op.operands:
                if o not in self.env:
                    raise _fail(op, "operand has no value (defined in an unsupported region?)")
                vals.append(self.env[o])
            if op is block.last_op and op.name in ("func.return", "linalg.yield"):
                return vals
            self.apply(op, vals)
        raise EvaluationError(block.parent_op().name if block.parent_op() else "<block>", "", "block has no terminator")

    def apply(self, op: Operation, vals: list[np.ndarray]) -> None:
        impl = _EVALUATORS.get(op.name)
        if impl is None:
            raise _fail(op)
        results = impl(self, op, vals)
        for r, v in zip(op.results, results, strict=True):
            v = np.asarray(v)
            if v.dtype != _elem(r.type).dtype:
                raise _fail(op, f"internal: produced {v.dtype} for {r.type}")
            self.env[r] = v

    def call(self, func: Operation, args: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not func.body.blocks:
            raise _fail(func, "cannot call a declaration")
        caller, self.env = self.env, {}  # a fresh frame: recursion must not clobber values
        try:
            return self.run_block(func.body.block, args)
        finally:
            self.env = caller

    # --- linalg ---------------------------------------------------------------------------

    def structured(self, s: _Structured) -> list[np.ndarray]:
        s = _gather_affine_inputs(s)
        op, n = s.op, len(s.iterators)
        specs = [_map_dims(m, op) for m in s.maps]
        vals = s.ins + s.outs
        ranges = _loop_ranges(specs, vals, n, op)
        views = [_to_loops(v, spec, n) for v, spec in zip(vals, specs)]
        red = [d for d, it in enumerate(s.iterators) if it == "reduction"]
        if any(it not in ("parallel", "reduction") for it in s.iterators):
            raise _fail(op, f"iterator types {s.iterators}")
        if not red:
            ys = self._body(s, views, ranges, {})
        else:
            plans = _match_reduction(s, self.ordered)
            ys = None
            if plans is not None:
                ys = self._fast_reduce(s, views, ranges, red, plans)
            if ys is None:
                ys = self._ordered_reduce(s, views, ranges, red)
        out_specs = specs[len(s.ins) :]
        results = []
        yields = s.block.last_op.operands
        for y, yv, spec, init, res in zip(ys, yields, out_specs, s.outs, op.results):
            if yv.type != _elem_type(res.type):  # linalg.fill converts its value (cast_signed)
                y = _convert(y, _elem(yv.type), _elem(res.type))
            results.append(_from_loops(y, spec, ranges, init, op))
        return results

    def _body(self, s: _Structured, views, ranges, fixed: dict[int, int]) -> list[np.ndarray]:
        """The body on whole arrays; `fixed` pins reduction dims in the ordered loop."""
        n = len(ranges)
        self.index.append(
            [
                np.array(fixed[d], np.int64)
                if d in fixed
                else np.arange(ranges[d], dtype=np.int64).reshape([-1 if k == d else 1 for k in range(n)])
                for d in range(n)
            ]
        )
        try:
            return self.run_block(s.block, views)
        finally:
            self.index.pop()

    def _fast_reduce(self, s: _Structured, views, ranges, red, plans: list[_Plan]):
        """Reductions without a loop: run the acc-independent ops on broadcast views, then
        contract (add of a product), sum (add) or ufunc-reduce (max/min/bitwise) each term."""
        block, n = s.block, len(ranges)
        special = {p.combiner for p in plans} | {p.mul for p in plans if p.mul is not None}
        for a, v in zip(block.args, views):
            self.env[a] = v
        self.index.append(
            [np.arange(ranges[d], dtype=np.int64).reshape([-1 if k == d else 1 for k in range(n)]) for d in range(n)]
        )
        try:
            for o in block.ops:
                if o in special or o is block.last_op:
                    continue
                shapes = [np.shape(self.env[v]) for v in o.operands]
                if shapes and prod(np.broadcast_shapes(*shapes)) > _MAX_BROADCAST:
                    return None
                self.apply(o, [self.env[v] for v in o.operands])
            ys = []
            for i, p in enumerate(plans):
                acc = views[len(s.ins) + i]
                e = _elem(p.combiner.results[0].type)
                ufunc = _COMBINERS[p.combiner.name]
                integer = e.kind != "f"
                if ufunc is not None:
                    term = np.broadcast_to(self.env[p.term], _bshape(self.env[p.term], ranges, red))
                    part = ufunc.reduce(term, axis=tuple(red), keepdims=True)
                    ys.extend(_EVALUATORS[p.combiner.name](self, p.combiner, _ordered_operands(p, acc, part)))
                    continue
                if p.mul is not None:
                    l, r = (self.env[v] for v in p.mul.operands)
                    l = _signed(l, e) if integer else l
                    r = _signed(r, e) if integer else r
                    total = _contract(l, r, red, ranges, integer)
                    total = np.broadcast_to(total, _bshape(total, ranges, red, keep_red=False))
                else:
                    term = self.env[p.term]
                    term = _signed(term, e) if integer else term
                    term = np.broadcast_to(term, _bshape(term, ranges, red))
                    total = term.sum(axis=tuple(red), keepdims=True, dtype=np.int64 if integer else np.float64)
                if integer:
                    ys.append(_wrap(_signed(acc, e) + total, e))
                else:
                    ys.append(_round(_compute(acc, wide=True) + total, e))
            return ys
        finally:
            self.index.pop()

    def _ordered_reduce(self, s: _Structured, views, ranges, red) -> list[np.ndarray]:
        """MLIR's semantics literally: reduction points in lexicographic order, each step
        vectorised over the parallel dims."""
        n_in = len(s.ins)
        accs = list(views[n_in:])
        for point in itertools.product(*(range(ranges[d]) for d in red)):
            fixed = dict(zip(red, point))
            ins = [_at(v, fixed) for v in views[:n_in]]
            accs = self._body(s, ins + accs, ranges, fixed)
        return accs


def _at(v: np.ndarray, fixed: dict[int, int]) -> np.ndarray:
    """A loop-space view at one reduction point (dims in `fixed`), keeping every axis."""
    return v[tuple(slice(fixed[d], fixed[d] + 1) if d in fixed and v.shape[d] > 1 else slice(None) for d in range(v.ndim))]


def _bshape(a: np.ndarray, ranges, red, keep_red: bool = True) -> tuple[int, ...]:
    """Shape to broadcast a term to: full over reduction dims, as-is over parallel dims."""
    return tuple(ranges[d] if d in red and keep_red else a.shape[d] for d in range(len(ranges)))


def _ordered_operands(p: _Plan, acc, part) -> list[np.ndarray]:
    return [part, acc] if p.combiner.operands[0] is p.term else [acc, part]


def _elem_type(t: Attribute) -> Attribute:
    return t.get_element_type() if isinstance(t, ShapedType) else t


def _tensors_only(op: Operation) -> None:
    if len(op.results) != len(op.outputs):
        raise _fail(op, "buffer (memref) semantics are not supported, only tensors")


def _iterators(op) -> list[str]:
    return [str(it.data) for it in op.get_iterator_types()]


@_op(
    "linalg.generic", "linalg.fill", "linalg.transpose", "linalg.add", "linalg.sub", "linalg.mul",
    "linalg.max", "linalg.min", "linalg.exp", "linalg.log", "linalg.sqrt", "linalg.select",
    "linalg.copy", "linalg.quantized_matmul",
)
def _linalg_structured(interp, op, vals):
    _tensors_only(op)
    n_in = len(op.inputs)
    s = _Structured(
        op, vals[:n_in], vals[n_in:], [m.data for m in op.get_indexing_maps()], _iterators(op), op.body.block
    )
    return interp.structured(s)


# Named contractions: upstream bodies convert both operands to the accumulator type with
# cast_signed (or cast_unsigned when `cast = #linalg.type_fn<cast_unsigned>`) and multiply-add.
# Default maps (lhs, rhs, init) as upstream MLIR 22 defines them; `indexing_maps` overrides them
# where the op takes it (matmul, batch_matmul, batch_reduce_matmul). The legacy transposed
# spellings only reach here in generic form (their custom form parses as matmul/batch_matmul).
_DEFAULT_CONTRACTION_MAPS = {
    "linalg.matmul": ["(i,j,k)->(i,k)", "(i,j,k)->(k,j)", "(i,j,k)->(i,j)"],
    "linalg.batch_matmul": ["(b,i,j,k)->(b,i,k)", "(b,i,j,k)->(b,k,j)", "(b,i,j,k)->(b,i,j)"],
    "linalg.batch_reduce_matmul": ["(b,i,j,k)->(b,i,k)", "(b,i,j,k)->(b,k,j)", "(b,i,j,k)->(i,j)"],
    "linalg.matvec": ["(i,k)->(i,k)", "(i,k)->(k)", "(i,k)->(i)"],
    "linalg.vecmat": ["(j,k)->(k)", "(j,k)->(k,j)", "(j,k)->(j)"],
    "linalg.dot": ["(k)->(k)", "(k)->(k)", "(k)->()"],
    "linalg.matmul_transpose_a": ["(i,j,k)->(k,i)", "(i,j,k)->(k,j)", "(i,j,k)->(i,j)"],
    "linalg.matmul_transpose_b": ["(i,j,k)->(i,k)", "(i,j,k)->(j,k)", "(i,j,k)->(i,j)"],
    "linalg.batch_matmul_transpose_a": ["(b,i,j,k)->(b,k,i)", "(b,i,j,k)->(b,k,j)", "(b,i,j,k)->(b,i,j)"],
    "linalg.batch_matmul_transpose_b": ["(b,i,j,k)->(b,i,k)", "(b,i,j,k)->(b,j,k)", "(b,i,j,k)->(b,i,j)"],
}


def _default_maps(name: str) -> list[AffineMap]:
    maps = []
    for text in _DEFAULT_CONTRACTION_MAPS[name]:
        params, results = text.split("->")
        names = params.strip("()").split(",")
        dims = [x for x in results.strip("()").split(",") if x]
        maps.append(AffineMap(len(names), 0, tuple(AffineDimExpr(names.index(x)) for x in dims)))
    return maps


@_op(*_DEFAULT_CONTRACTION_MAPS)
def _named_contraction(interp, op, vals):
    """Named matmuls do not trust the op's region: xDSL 0.74 builds it without the casts."""
    _tensors_only(op)
    if len(vals) != 3:
        raise _fail(op, f"expected 2 inputs and 1 output, got {len(vals)} operands")
    attr = op.properties.get("indexing_maps") or op.attributes.get("indexing_maps")
    maps = [m.data for m in attr] if attr is not None else _default_maps(op.name)
    cast = op.properties.get("cast") or op.attributes.get("cast")
    unsigned = cast is not None and "unsigned" in str(cast)
    a, b, c = vals
    acc = _elem(op.operands[2].type)
    exact = lambda e: e.kind == "f" == acc.kind and e.width <= acc.width and not interp.ordered  # noqa: E731
    l = a if exact(_arg(op, 0)) else _convert(a, _arg(op, 0), acc, unsigned)
    r = b if exact(_arg(op, 1)) else _convert(b, _arg(op, 1), acc, unsigned)
    n = maps[0].num_dims
    specs = [_map_dims(m, op) for m in maps]
    ranges = _loop_ranges(specs, [a, b, c], n, op)
    lv, rv, cv = (_to_loops(v, sp, n) for v, sp in zip((l, r, c), specs))
    red = [d for d in range(n) if not any(x == d for x in specs[2])]
    if acc.kind == "f" and interp.ordered:
        y = cv.copy()
        for point in itertools.product(*(range(ranges[d]) for d in red)):
            fixed = dict(zip(red, point))
            prodv = _round(_compute(_at(lv, fixed)) * _compute(_at(rv, fixed)), acc)
            y = _round(_compute(y) + _compute(prodv), acc)
    else:
        integer = acc.kind != "f"
        total = _contract(_signed(lv, acc) if integer else lv, _signed(rv, acc) if integer else rv, red, ranges, integer)
        y = _wrap(_signed(cv, acc) + total, acc) if integer else _round(_compute(cv, wide=True) + total, acc)
    return [_from_loops(y, specs[2], ranges, c, op)]


@_op("tm_tensor.sort")
def _tm_tensor_sort(interp, op, vals):
    how = op.comparator()
    if isinstance(how, str):
        raise _fail(op, how)
    key, descending = how
    return kernels.stable_sort(vals, dim=op.dimension.value.data, key=key, descending=descending)


@_op("linalg.reduce")
def _linalg_reduce(interp, op, vals):
    x, init = vals
    dims = list(op.dimensions.get_values())
    n = x.ndim
    maps = [AffineMap.identity(n), AffineMap(n, 0, tuple(AffineDimExpr(d) for d in range(n) if d not in dims))]
    iters = ["reduction" if d in dims else "parallel" for d in range(n)]
    return interp.structured(_Structured(op, [x], [init], maps, iters, op.region.block))


@_op("linalg.broadcast")
def _linalg_broadcast(interp, op, vals):
    x, init = vals
    dims = tuple(op.dimensions.get_values())
    return [np.broadcast_to(np.expand_dims(x, dims), init.shape)]


@_op("linalg.index")
def _linalg_index(interp, op, vals):
    if not interp.index:
        raise _fail(op, "linalg.index outside a linalg body")
    return [interp.index[-1][op.dim.value.data]]


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _import(x, t: Attribute, op: Operation, what: str) -> np.ndarray:
    """A caller's array as the internal container of type t. Signless ints take any int dtype
    whose values fit the width (uint8 bits for i8); floats must convert exactly."""
    e = _elem(t)
    a = np.asarray(x)
    if e.kind == "f":
        a = a if a.dtype == e.dtype else dtypes.coerce(a, dtypes.type_name(e.dtype), what)
    else:
        if a.dtype in (np.dtype(ml_dtypes.int4), np.dtype(ml_dtypes.uint4), np.dtype(ml_dtypes.int2), np.dtype(ml_dtypes.uint2)):
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
            f for f in funcs.values() if f.body.blocks and (f.sym_visibility is None or f.sym_visibility.data == "public")
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
    return _constant(None, op, [])[0]

"""`arith` and `math` ops: float ops round once to their result type, integer ops wrap at
their width and read signless values signed or unsigned as the op says; constants."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    FloatAttr,
    IntegerAttr,
)

from mixpe.reference import ir_constants
from mixpe.interp.core import (
    _EVALUATORS,
    _Impl,
    _arg,
    _compute,
    _convert,
    _elem,
    _fail,
    _op,
    _res,
    _round,
    _signed,
    _unsigned,
    _wrap,
)
from mixpe.reference.elementwise import UndefinedBehaviour, check_divisor, check_shift, check_signed_div


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

        return np.asarray(np.frompyfunc(math.erf, 1, 1)(a), dtype=np.float64)
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


def _divsi(a, b, w):
    """Division truncating toward zero (numpy's // floors); by zero or INT_MIN / -1: undefined."""
    check_divisor(b, "division")
    check_signed_div(a, b, w, "division")
    q = a // b
    return np.where((q < 0) & (q * b != a), q + 1, q)


def _floordiv(a, b, w, signed: bool = True):
    check_divisor(b, "division")
    if signed:
        check_signed_div(a, b, w, "division")
    return a // b


def _rem(a, b, w, signed: bool):
    check_divisor(b, "remainder")
    return a - _divsi(a, b, w) * b if signed else a % b


def _ceildiv(a, b, w, signed: bool = True):
    check_divisor(b, "division")
    if signed:
        check_signed_div(a, b, w, "division")
    return a // b + (a % b != 0)


def _shift(fn: Callable, name: str) -> Callable:
    """A shift by a negative amount or by the width or more is poison in MLIR: an error here."""

    def go(a, b, w):
        check_shift(b, w, name)
        return fn(a, b)

    return go


# name -> (fn(a, b, width), operands read as "s"igned or "u"nsigned); undefined behaviour is
# refused by the shared checks of mixpe.reference.elementwise, as the simulator refuses it
_INT_OPS: dict[str, tuple[Callable, str]] = {
    "arith.addi": (lambda a, b, w: a + b, "s"),
    "arith.subi": (lambda a, b, w: a - b, "s"),
    "arith.muli": (lambda a, b, w: a * b, "s"),
    "arith.divsi": (_divsi, "s"),
    "arith.remsi": (lambda a, b, w: _rem(a, b, w, True), "s"),
    "arith.floordivsi": (_floordiv, "s"),
    "arith.ceildivsi": (_ceildiv, "s"),
    "arith.divui": (lambda a, b, w: _floordiv(a, b, w, False), "u"),
    "arith.remui": (lambda a, b, w: _rem(a, b, w, False), "u"),
    "arith.ceildivui": (lambda a, b, w: _ceildiv(a, b, w, False), "u"),
    "arith.maxsi": (lambda a, b, w: np.maximum(a, b), "s"),
    "arith.minsi": (lambda a, b, w: np.minimum(a, b), "s"),
    "arith.maxui": (lambda a, b, w: np.maximum(a, b), "u"),
    "arith.minui": (lambda a, b, w: np.minimum(a, b), "u"),
    "arith.andi": (lambda a, b, w: a & b, "s"),
    "arith.ori": (lambda a, b, w: a | b, "s"),
    "arith.xori": (lambda a, b, w: a ^ b, "s"),
    "arith.shli": (_shift(np.left_shift, "shli"), "u"),
    "arith.shrui": (_shift(np.right_shift, "shrui"), "u"),
    "arith.shrsi": (_shift(np.right_shift, "shrsi"), "s"),  # shifts in sign bits
}


def _int_op(fn: Callable, read: str) -> _Impl:
    def impl(interp, op, vals):
        e = _res(op)
        a, b = (_unsigned(v, e) if read == "u" else _signed(v, e) for v in vals)
        if read == "u" and e.width == 64:
            b = b.astype(np.uint64)
        try:
            return [_wrap(fn(a, b, e.width), e)]
        except UndefinedBehaviour as ub:
            raise _fail(op, str(ub)) from None

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
    return _constant_values(op)


def _constant_values(op) -> list[np.ndarray]:
    """The value of an `arith.constant`, as the one-element result list (no interpreter needed)."""
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


"""MLIR `arith`/`math` elementwise semantics on numpy arrays: the one definition that the
simulator's vector unit and the IR evaluator share (numbers cannot drift between them).

- Float ops compute in float64 and round once to the result type.
- Integer add/sub/mul/trunci/extsi wrap in two's complement; `u*` ops read bits unsigned.
- **Undefined behaviour is an error, never a made-up value** (`UndefinedBehaviour`, a
  ValueError): integer division or remainder by zero, signed division overflow
  (INT_MIN / -1), shifts by a negative amount or by the bit width or more, and fptosi/fptoui
  of NaN, inf or an out-of-range value. MLIR leaves each of these undefined (poison or UB).
"""

from __future__ import annotations

import math

import numpy as np

from mixpe.reference.dtypes import bit_width, int_range, is_float, is_integer, round_to, to_numpy, type_name, widen_int


class UndefinedBehaviour(ValueError):
    """An operation MLIR leaves undefined (the message says which and where it happened)."""


def check_divisor(b, op: str) -> None:
    if np.any(np.asarray(b) == 0):
        raise UndefinedBehaviour(f"integer {op} by zero is undefined")


def check_signed_div(a, b, width: int, op: str) -> None:
    lo = -(1 << (width - 1))
    if np.any((np.asarray(a) == lo) & (np.asarray(b) == -1)):
        raise UndefinedBehaviour(f"{op} of {lo} by -1 overflows i{width} (undefined)")


def check_shift(b, width: int, op: str) -> None:
    b = np.asarray(b)
    if b.size and (b.min() < 0 or b.max() >= width):
        bad = int(b.max() if b.max() >= width else b.min())
        raise UndefinedBehaviour(f"{op} by {bad} bits on a {width}-bit integer is undefined")


def wrap(r: np.ndarray, out: str) -> np.ndarray:
    """Two's complement wraparound to `out`, as arith.addi/muli/trunci do."""
    if out == "i1":
        return (r & 1).astype(bool)
    bits = bit_width(out)
    r = r.astype(np.int64)
    if bits < 64:
        r = r & ((1 << bits) - 1)
        if out.startswith("i"):
            r = np.where(r >= 1 << (bits - 1), r - (1 << bits), r)
    return r.astype(to_numpy(out))


def _unsigned(a: np.ndarray) -> np.ndarray:
    w = widen_int(a).astype(np.int64)
    bits = bit_width(_dt(a))
    return w & ((1 << bits) - 1) if bits < 64 else w


def _dt(a: np.ndarray) -> str:
    return type_name(a.dtype)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


_FLOAT_FN = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "max": np.maximum,
    "min": np.minimum, "rem": np.fmod, "pow": np.power, "neg": np.negative, "abs": np.abs,
    "copy": lambda x: x, "relu": lambda x: np.maximum(x, 0.0), "exp": np.exp, "log": np.log,
    "sqrt": np.sqrt, "rsqrt": lambda x: 1.0 / np.sqrt(x), "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "silu": lambda x: x / (1.0 + np.exp(-x)),
    "gelu_tanh": _gelu_tanh, "roundeven": np.rint, "floor": np.floor, "ceil": np.ceil,
    "erf": np.vectorize(math.erf, otypes=[np.float64]), "sin": np.sin, "cos": np.cos,
}


def _int_div(a, b, op, width: int = 64):
    check_divisor(b, op)
    check_signed_div(a, b, width, op)
    q = np.abs(a) // np.abs(b) * np.sign(a) * np.sign(b)  # truncation toward zero (divsi)
    return q if op == "division" else a - q * b


def _shift(kind: str):
    """MLIR shifts: a shift by the bit width or more is poison, so we refuse it."""

    def go(a, b, width: int, unsigned_a):
        check_shift(b, width, kind)
        if kind == "shl":
            return a << b
        return (unsigned_a >> b) if kind == "shrui" else (a >> b)

    return go


_SHIFTS = {k: _shift(k) for k in ("shl", "shrsi", "shrui")}

_INT_FN = {
    "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum, "min": np.minimum,
    "neg": np.negative, "abs": np.abs, "copy": lambda x: x, "relu": lambda x: np.maximum(x, 0),
    "div": lambda a, b: _int_div(a, b, "division"), "rem": lambda a, b: _int_div(a, b, "remainder"),
}

_CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
        "gt": np.greater, "ge": np.greater_equal}


def _cmp(pred: str, a, b):
    if pred.startswith("u") and is_integer(a.dtype):  # ult, ule, ...: unsigned compare
        a, b = _unsigned(a), _unsigned(b)
    base = pred[1:] if len(pred) == 3 or pred in ("one", "oeq", "ueq", "une") else pred
    base = {"slt": "lt", "sle": "le", "sgt": "gt", "sge": "ge"}.get(pred, base)
    r = _CMP[base](a, b)
    if is_float(a.dtype) and pred[0] in "ou" and len(pred) == 3:
        nan = np.isnan(a) | np.isnan(b)  # ordered predicates are false on NaN, unordered true
        r = (r | nan) if pred[0] == "u" else (r & ~nan)
    return r


def elementwise(name: str, args, out: str, shape, predicate: str | None = None) -> np.ndarray:
    """One vector-unit op on numpy arrays, broadcast to `shape`, with MLIR arith semantics."""
    if name == "cmp":
        a, b = args
        if is_float(a.dtype):
            a, b = a.astype(np.float64), b.astype(np.float64)
        else:
            a, b = widen_int(a).astype(np.int64), widen_int(b).astype(np.int64)
        assert predicate is not None, "cmp needs a predicate"
        return np.broadcast_to(_cmp(predicate, a, b), shape).copy()
    if name == "select":
        c, a, b = args
        return np.where(c, a, b).astype(to_numpy(out))
    src = args[0]
    if name in ("extf", "truncf", "sitofp"):
        return round_to(widen_int(src).astype(np.float64), out)
    if name == "uitofp":
        return round_to(_unsigned(src).astype(np.float64), out)
    if name in ("fptosi", "fptoui"):
        f = np.trunc(src.astype(np.float64))
        lo, hi = int_range(out) if name == "fptosi" else (0, 2 ** bit_width(out) - 1)
        if f.size and not (np.isfinite(f).all() and f.min() >= lo and f.max() <= hi):
            raise UndefinedBehaviour(f"{name}: a value does not fit {out} (NaN, inf or out of range)")
        return f.astype(np.int64).astype(to_numpy(out)) if out != "i1" else f.astype(bool)
    if name in ("extsi", "trunci"):
        return wrap(widen_int(src).astype(np.int64), out)
    if name == "extui":
        return wrap(_unsigned(src), out)
    if is_float(to_numpy(out)):
        with np.errstate(all="ignore"):
            r = _FLOAT_FN[name](*(a.astype(np.float64) for a in args))
        return round_to(np.broadcast_to(r, shape), out)
    if name in _SHIFTS:
        a, b = (widen_int(v).astype(np.int64) for v in args)
        r = _SHIFTS[name](a, b, bit_width(out), _unsigned(args[0]).astype(np.int64))
        return wrap(np.broadcast_to(r, shape), out)
    if name not in _INT_FN:
        raise ValueError(f"elementwise {name} is not defined on integers")
    if name in ("div", "rem"):
        a, b = (widen_int(v).astype(np.int64) for v in args)
        what = {"div": "division", "rem": "remainder"}[name]
        return wrap(np.broadcast_to(_int_div(a, b, what, bit_width(out)), shape), out)
    r = _INT_FN[name](*(widen_int(a).astype(np.int64) for a in args))
    return wrap(np.broadcast_to(r, shape), out)

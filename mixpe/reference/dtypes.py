"""MLIR element types <-> numpy dtypes, and exact (never lossy) conversion.

numpy has no bf16/int4, so those come from ml_dtypes (docs/design.md §5). ml_dtypes' dtypes report kind
'V', so code here asks `is_integer`/`is_float` instead of looking at `dtype.kind`.
"""

from __future__ import annotations

from functools import cache

import numpy as np

# numpy's own types; bf16 and int4 come from ml_dtypes, imported only when one is asked for
# (it takes about half a second to import, which a cost-only `mixpe-sim --gemm` never needs)
_NUMPY: dict[str, np.dtype] = {
    "i1": np.dtype(np.bool_),
    "i8": np.dtype(np.int8),
    "ui8": np.dtype(np.uint8),
    "i16": np.dtype(np.int16),
    "ui16": np.dtype(np.uint16),
    "i32": np.dtype(np.int32),
    "ui32": np.dtype(np.uint32),
    "i64": np.dtype(np.int64),
    "ui64": np.dtype(np.uint64),
    "f16": np.dtype(np.float16),
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
}
_ML_DTYPES = {"i4": "int4", "ui4": "uint4", "bf16": "bfloat16"}
DTYPE_NAMES = ("i1", "i4", "ui4", "i8", "ui8", "i16", "ui16", "i32", "ui32", "i64", "ui64",
               "f16", "bf16", "f32", "f64")
_INT_NAMES = frozenset(n for n in DTYPE_NAMES if n[0] in "iu")
_FLOAT_NAMES = frozenset(n for n in DTYPE_NAMES if n[0] in "fb")
_NUMPY_NAMES = {dt: name for name, dt in _NUMPY.items()}


@cache
def _ml(name: str) -> np.dtype:
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, _ML_DTYPES[name]))


@cache
def _by_dtype() -> dict[np.dtype, str]:
    return {**_NUMPY_NAMES, **{_ml(n): n for n in _ML_DTYPES}}


def to_numpy(name: str | np.dtype | type) -> np.dtype:
    """numpy dtype for an MLIR element-type name (a numpy dtype passes through)."""
    if isinstance(name, str):
        if name in _NUMPY:
            return _NUMPY[name]
        if name in _ML_DTYPES:
            return _ml(name)
        raise ValueError(f"unknown element type {name!r} (known: {', '.join(DTYPE_NAMES)})")
    return np.dtype(name)


def type_name(dtype: np.dtype | type | str) -> str:
    """MLIR element-type name for a numpy dtype ('f16', 'bf16', 'ui4', ...)."""
    if isinstance(dtype, str) and dtype in _INT_NAMES | _FLOAT_NAMES:
        return dtype
    dt = np.dtype(dtype)
    name = _NUMPY_NAMES.get(dt) or (_by_dtype().get(dt) if dt.kind == "V" else None)
    if name is None:
        raise ValueError(f"numpy dtype {dt} has no MLIR element type here")
    return name


def is_integer(dtype) -> bool:
    """True for bool and all (ml_dtypes) integer types: i1 is an integer in MLIR."""
    return type_name(dtype) in _INT_NAMES


def is_float(dtype) -> bool:
    return type_name(dtype) in _FLOAT_NAMES


def is_signed(dtype) -> bool:
    name = type_name(dtype)
    return name.startswith("i") and name != "i1"


def bit_width(dtype) -> int:
    name = type_name(dtype)
    return int(name.lstrip("uibf"))


def int_range(dtype) -> tuple[int, int]:
    """Inclusive value range of an integer element type, as Python ints."""
    name = type_name(dtype)
    if name == "i1":
        return 0, 1
    if name in ("i4", "ui4"):
        return (-8, 7) if name == "i4" else (0, 15)
    info = np.iinfo(to_numpy(name))
    return int(info.min), int(info.max)


def widen_int(a: np.ndarray) -> np.ndarray:
    """int4/uint4/bool arrays as int8/uint8 so ordinary numpy reductions and bit ops work."""
    a = np.asarray(a)
    if a.dtype == np.bool_ or (a.dtype.kind == "V" and a.dtype == _ml("ui4")):
        return a.astype(np.uint8)
    if a.dtype.kind == "V" and a.dtype == _ml("i4"):
        return a.astype(np.int8)
    return a


def _fmt(v) -> str:
    return str(v.item()) if v.dtype == np.bool_ else str(v)


def coerce(array, dtype_name: str, what: str = "value") -> np.ndarray:
    """`array` converted to `dtype_name`, only if every element converts exactly.

    docs/design.md §5: a value given in a wider dtype (bf16 as float32, uint4 in uint8) is accepted, but
    a conversion that would change a number is a ValueError naming the first offending element,
    e.g. "arg1: float32 value 0.1 is not exactly representable as bf16".
    """
    target = to_numpy(dtype_name)
    name = type_name(target)
    a = np.asarray(array)
    if a.dtype == target:
        return a
    try:
        src_name = type_name(a.dtype)
    except ValueError:
        raise ValueError(f"{what}: numpy dtype {a.dtype} cannot be converted to {name}") from None
    if is_integer(target):
        lo, hi = int_range(target)
        if is_integer(a.dtype):
            w = widen_int(a)
            bad = (w < lo) | (w > hi) if a.size else np.zeros(a.shape, bool)
        else:
            f = a.astype(np.float64)
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(f) | (np.floor(f) != f) | (f < lo) | (f > hi)
    else:
        with np.errstate(all="ignore"):
            if is_float(a.dtype):
                back = _round_float(a.astype(np.float64), target).astype(np.float64)
                f = a.astype(np.float64)
                bad = (back != f) & ~(np.isnan(back) & np.isnan(f))
            else:
                w = widen_int(a)
                back = w.astype(target)
                # the round trip through float64 is exact for values up to 2**53; beyond, compare
                # as Python ints on the few elements that could be inexact
                bad = back.astype(np.float64) != w.astype(np.float64)
                big = np.abs(w.astype(np.float64)) >= 2.0**53
                if big.any():
                    for idx in zip(*np.nonzero(big)):
                        fb = float(back[idx])
                        bad[idx] = not np.isfinite(fb) or int(fb) != int(w[idx])
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at index {list(idx)}" if a.ndim else ""
        raise ValueError(
            f"{what}: {a.dtype} value {_fmt(a[idx])}{where} is not exactly representable as {name}"
        )
    if is_integer(target) and not is_integer(a.dtype):
        return a.astype(np.float64).astype(np.int64).astype(target)
    return widen_int(a).astype(target) if src_name in ("i1", "i4", "ui4") else a.astype(target)


def _round_float(y: np.ndarray, target: np.dtype) -> np.ndarray:
    return round_to(y, type_name(target))


def round_to(y: np.ndarray, dtype_name: str) -> np.ndarray:
    """float64 `y` rounded once (round-to-nearest-even) to a float type.

    ml_dtypes converts float64 -> bf16 through float32, which double-rounds; rounding to odd
    into float32 first makes the second rounding correct (24 >= 8 + 2 bits).
    """
    target = to_numpy(dtype_name)
    y = np.asarray(y, dtype=np.float64)
    if target.kind != "V" or target != _ml("bf16"):
        with np.errstate(over="ignore"):
            return y.astype(target)
    with np.errstate(all="ignore"):
        r = y.astype(np.float32)
        r64 = r.astype(np.float64)
        inexact = (r64 != y) & ~np.isnan(y)
        over = inexact & (np.abs(r64) > np.abs(y))
        r = np.where(over, np.nextafter(r, np.float32(0)), r)
        bits = np.ascontiguousarray(r).view(np.uint32) | inexact.astype(np.uint32)
    return bits.view(np.float32).astype(target)

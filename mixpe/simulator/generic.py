"""The `generic` program op: a `linalg.generic` the vector unit runs as written.

Why: real models contain structured ops that no dedicated program op covers (dequantization
through `floordiv` maps or a `g_idx` gather, max + argmax in one two-result reduction, fused
norms, contractions that `mixpe-raise` declined). Rather than refuse them, the backend ships the
op itself: loop ranges, iterator types, one affine map per operand, and a scalar body. Nothing
that parses is left unrunnable, and its cost is the body's op count over the iteration domain.

Semantics are MLIR's, literally: the body runs once per point of the iteration domain, the
reduction points in lexicographic order (each step vectorised over the parallel dims), every op
rounding to its own result type through the same elementwise ops as `elementwise`.

Format (docs/program-format.md):

    attrs.inputs     number of input args; then the init args; then `captures` args
    attrs.inits      per result, whether an init arg comes for it (a `tensor.empty` that the
                     body never reads has none); attrs.shapes: each result's shape
    attrs.captures   tensors the body reads with `extract` (gathers, e.g. act-order `g_idx`)
    attrs.ranges     loop extents; attrs.iterators: "parallel" | "reduction" per loop
    attrs.maps       per input and result, one expression per tensor dim:
                     ["d", i] | ["c", v] | [kind, lhs, rhs], kind in add, mul, floordiv, ceildiv, mod
    attrs.body       [{"op", "args", "dtype", ...}], instruction j defines "v<j>"; args name
                     "in<i>", "out<i>", "cap<i>" or "v<j>"; ops: every elementwise op, plus
                     constant {value}, index {dim} (linalg.index) and extract (cap, indices...)
    attrs.yield      one name per result
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from mixpe.reference.dtypes import DTYPE_NAMES, coerce, to_numpy
from mixpe.reference.elementwise import elementwise
from mixpe.simulator.program_types import ELEMENTWISE

EXPR_KINDS = ("add", "mul", "floordiv", "ceildiv", "mod")
BODY_EXTRA = ("constant", "index", "extract")
INDEX = "i64"  # MLIR's `index` in a program


class GenericError(ValueError):
    """A malformed generic instruction (the caller adds where it is)."""


# ---------------------------------------------------------------------------------------------
# checking


def _expr(e: Any, n: int, what: str) -> None:
    if isinstance(e, list) and len(e) == 2 and e[0] in ("d", "c") and isinstance(e[1], int) \
            and not isinstance(e[1], bool):
        if e[0] == "d" and not 0 <= e[1] < n:
            raise GenericError(f"{what}: loop d{e[1]} out of range (the op has {n} loops)")
        return
    if isinstance(e, list) and len(e) == 3 and e[0] in EXPR_KINDS:
        _expr(e[1], n, what)
        _expr(e[2], n, what)
        if e[0] != "add" and e[0] != "mul" and not (e[2][0] == "c" and e[2][1] > 0):
            raise GenericError(f"{what}: the divisor of {e[0]} must be a positive constant")
        return
    raise GenericError(f"{what}: malformed affine expression {e!r}")


def _count_attr(attrs: dict, name: str, default: int | None) -> int:
    v = attrs.get(name, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise GenericError(f"attr '{name}' must be a non-negative int, got {v!r}")
    return v


def check(attrs: dict, arg_types: list, result_dtypes: list[str]) -> list[tuple[tuple[int, ...], str]]:
    """Validates a generic instruction; returns the expected (shape, dtype) of each result."""
    n_in, n_cap = _count_attr(attrs, "inputs", None), _count_attr(attrs, "captures", 0)
    n_out = len(result_dtypes)
    inits = attrs.get("inits", [True] * n_out)
    if not isinstance(inits, list) or len(inits) != n_out or not all(isinstance(b, bool) for b in inits):
        raise GenericError("attr 'inits' must be one bool per result (does an init arg come for it?)")
    n_init = sum(inits)
    if n_out < 1 or len(arg_types) != n_in + n_init + n_cap:
        raise GenericError(f"takes inputs + inits + captures = {n_in}+{n_init}+{n_cap} args, "
                           f"got {len(arg_types)}")
    ranges, iters = attrs.get("ranges"), attrs.get("iterators")
    if not isinstance(ranges, list) or not all(isinstance(r, int) and not isinstance(r, bool) and r > 0
                                               for r in ranges):
        raise GenericError(f"attr 'ranges' must be a list of positive ints, got {ranges!r}")
    if not isinstance(iters, list) or len(iters) != len(ranges) or \
            not all(i in ("parallel", "reduction") for i in iters):
        raise GenericError("attr 'iterators' must give 'parallel' or 'reduction' for every range")
    n = len(ranges)
    maps = attrs.get("maps")
    if not isinstance(maps, list) or len(maps) != n_in + n_out:
        raise GenericError(f"attr 'maps' needs one map per input and result ({n_in + n_out})")
    shapes = attrs.get("shapes")
    if not isinstance(shapes, list) or len(shapes) != n_out or not all(
            isinstance(sh, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in sh)
            for sh in shapes):
        raise GenericError("attr 'shapes' must give each result's shape")
    operand_types = list(arg_types[:n_in])
    init_types = iter(arg_types[n_in:n_in + n_init])
    for i, sh in enumerate(shapes):
        t = next(init_types) if inits[i] else None
        if t is not None and (list(t.shape) != sh or t.dtype != result_dtypes[i]):
            raise GenericError(f"init {i} is {t}, the result is {sh} {result_dtypes[i]}")
        operand_types.append(_Shape(tuple(sh), result_dtypes[i]))
    _check_maps(maps, operand_types, ranges, iters, n_in, shapes)
    defined = {f"in{i}": arg_types[i].dtype for i in range(n_in)}
    defined.update({f"out{i}": result_dtypes[i] for i in range(n_out) if inits[i]})
    caps = {f"cap{i}": arg_types[n_in + n_init + i] for i in range(n_cap)}
    _check_body(attrs, defined, caps, n)
    ys = attrs.get("yield")
    if not isinstance(ys, list) or len(ys) != n_out or not all(y in defined for y in ys):
        raise GenericError("attr 'yield' must name one body value per result")
    for i, (y, r) in enumerate(zip(ys, result_dtypes)):
        if defined[y] != r:
            raise GenericError(f"yield {i} is {defined[y]}, the result is {r}")
    return [(tuple(sh), dt) for sh, dt in zip(shapes, result_dtypes)]


def _check_maps(maps: list, operand_types: list, ranges: list[int], iters: list[str], n_in: int,
                shapes: list) -> None:
    n = len(ranges)
    for i, (m, t) in enumerate(zip(maps, operand_types)):
        what = f"map {i}"
        if not isinstance(m, list) or len(m) != len(t.shape):
            raise GenericError(f"{what} must have one expression per dim of its {len(t.shape)}-D operand")
        for axis, e in enumerate(m):
            _expr(e, n, what)
            if e[0] == "d" and ranges[e[1]] != t.shape[axis]:
                raise GenericError(f"{what}: dim {axis} has size {t.shape[axis]}, loop d{e[1]} runs "
                                   f"{ranges[e[1]]}")
    for i, (m, sh) in enumerate(zip(maps[n_in:], shapes)):
        dims = [e[1] for e in m if e[0] == "d"]
        unit_zeros = all(e[0] == "d" or (e == ["c", 0] and sh[a] == 1) for a, e in enumerate(m))
        if not unit_zeros or len(set(dims)) != len(dims) or any(iters[d] != "parallel" for d in dims):
            raise GenericError(f"result {i}: its map must be distinct parallel loops (or 0 for a unit dim), "
                               f"got {m}")


def _check_body(attrs: dict, defined: dict[str, str], caps: dict, n: int) -> None:
    """Each body instruction names earlier values, a known op and dtype; adds it to `defined`."""
    body = attrs.get("body")
    if not isinstance(body, list):
        raise GenericError("attr 'body' must be a list of instructions")
    for j, b in enumerate(body):
        where = f"body {j}"
        if not isinstance(b, dict) or not isinstance(b.get("op"), str) or b.get("dtype") not in DTYPE_NAMES:
            raise GenericError(f"{where}: needs 'op' and a known 'dtype'")
        args = b.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) and (a in defined or a in caps) for a in args):
            raise GenericError(f"{where}: args must name earlier values, got {args!r}")
        op = b["op"]
        if op == "constant":
            if not isinstance(b.get("value"), int | float) or args:
                raise GenericError(f"{where}: constant needs a numeric 'value' and no args")
        elif op == "index":
            d = b.get("dim")
            if not isinstance(d, int) or not 0 <= d < n or b["dtype"] != INDEX:
                raise GenericError(f"{where}: index needs a loop 'dim' and dtype {INDEX}")
        elif op == "extract":
            if not args or args[0] not in caps or len(args) != 1 + len(caps[args[0]].shape) \
                    or b["dtype"] != caps[args[0]].dtype:
                raise GenericError(f"{where}: extract reads a capture with one index per dim")
        elif op not in ELEMENTWISE or len(args) != ELEMENTWISE[op][0]:
            raise GenericError(f"{where}: unknown op {op!r} or wrong arg count")
        defined[f"v{j}"] = b["dtype"]


class _Shape:
    def __init__(self, shape: tuple[int, ...], dtype: str):
        self.shape, self.dtype = shape, dtype

    def __str__(self) -> str:
        return f"tensor<{'x'.join(map(str, self.shape))}x{self.dtype}>"


# ---------------------------------------------------------------------------------------------
# execution


def _eval(e, grids: list) -> Any:
    kind = e[0]
    if kind == "d":
        return grids[e[1]]
    if kind == "c":
        return e[1]
    a, b = _eval(e[1], grids), _eval(e[2], grids)
    if kind == "add":
        return a + b
    if kind == "mul":
        return a * b
    if kind == "floordiv":
        return a // b
    if kind == "ceildiv":
        return -(-a // b)
    return a % b


def _gather(a: np.ndarray, m: list, grids: list, what: str) -> np.ndarray:
    """`a` read through its map at every loop point (shape broadcastable to the loop space)."""
    idx = [np.asarray(_eval(e, grids)) for e in m]
    for axis, ix in enumerate(idx):
        if ix.size and (ix.min() < 0 or ix.max() >= a.shape[axis]):
            raise ValueError(f"{what}: index {int(ix.max() if ix.max() >= a.shape[axis] else ix.min())} "
                             f"out of bounds for dim {axis} of size {a.shape[axis]}")
    n = len(grids)
    if not idx:
        return a.reshape((1,) * n)
    out = a[tuple(idx)]
    return out.reshape(out.shape) if out.ndim == n else out.reshape((1,) * (n - out.ndim) + out.shape)


def _grids(ranges: list[int], fixed: dict[int, int]) -> list:
    n = len(ranges)
    return [np.int64(fixed[d]) if d in fixed else
            np.arange(ranges[d], dtype=np.int64).reshape([-1 if k == d else 1 for k in range(n)])
            for d in range(n)]


def _run_body(attrs: dict, env: dict, grids: list, caps: list, loop_shape) -> dict:
    for j, b in enumerate(attrs["body"]):
        op, dt = b["op"], b["dtype"]
        args = [env[a] if a in env else None for a in b.get("args", [])]
        if op == "constant":
            v = coerce(np.array(b["value"]), dt, f"body constant {j}")
        elif op == "index":
            v = np.broadcast_to(grids[b["dim"]], loop_shape) if np.ndim(grids[b["dim"]]) else \
                np.array(grids[b["dim"]], dtype=np.int64)
        elif op == "extract":
            t = caps[int(b["args"][0][3:])]
            idx = [np.asarray(i, dtype=np.int64) for i in args[1:]]
            for axis, ix in enumerate(idx):
                if ix.size and (ix.min() < 0 or ix.max() >= t.shape[axis]):
                    raise ValueError(f"body extract {j}: index out of bounds for dim {axis} of size "
                                     f"{t.shape[axis]}")
            v = t[tuple(idx)] if idx else t[()]
        else:
            operands = [np.asarray(a) for a in args]
            shape = np.broadcast_shapes(*(a.shape for a in operands))
            v = elementwise(op, operands, dt, shape, b.get("predicate"))
        env[f"v{j}"] = np.asarray(v).astype(to_numpy(dt), copy=False)
    return env


def execute(attrs: dict, args: list[np.ndarray], result_types: list) -> list[np.ndarray]:
    n_in, n_out = attrs["inputs"], len(result_types)
    ranges, iters, maps = attrs["ranges"], attrs["iterators"], attrs["maps"]
    has_init = attrs.get("inits", [True] * n_out)
    n_init = sum(has_init)
    inputs, given, caps = args[:n_in], iter(args[n_in:n_in + n_init]), args[n_in + n_init:]
    n = len(ranges)
    par = [d for d in range(n) if iters[d] == "parallel"]
    red = [d for d in range(n) if iters[d] == "reduction"]
    loop_shape = tuple(ranges[d] if d in par else 1 for d in range(n))
    # accumulators in loop space: the init read through its (parallel) map; a result without
    # an init is never read by the body (its `tensor.empty` has no value)
    accs = [np.broadcast_to(_gather(next(given), m, _grids(ranges, {}), f"init {i}"), loop_shape) if has
            else None for i, (has, m) in enumerate(zip(has_init, maps[n_in:]))]
    points = itertools.product(*(range(ranges[d]) for d in red)) if red else [()]
    for point in points:
        fixed = dict(zip(red, point))
        grids = _grids(ranges, fixed)
        env = {f"in{i}": _gather(a, m, grids, f"input {i}") for i, (a, m) in enumerate(zip(inputs, maps))}
        env.update({f"out{i}": acc for i, acc in enumerate(accs) if acc is not None})
        env = _run_body(attrs, env, grids, caps, loop_shape)
        accs = [np.broadcast_to(env[y], loop_shape) for y in attrs["yield"]]
    results = []
    for acc, m, t in zip(accs, maps[n_in:], result_types):
        assert acc is not None, "the body runs at least once (ranges are positive) and yields every result"
        dims = [e[1] for e in m if e[0] == "d"]
        # a parallel loop the result does not index writes one element many times: the last wins
        full = acc[tuple(slice(None) if d in dims or d not in par else -1 for d in range(n))] \
            if acc.ndim else acc
        full = full.reshape([ranges[d] for d in range(n) if d in dims])
        out = np.transpose(full, [sorted(dims).index(d) for d in dims]) if dims else full
        results.append(np.ascontiguousarray(out.reshape(t.shape)).astype(to_numpy(t.dtype), copy=False))
    return results


# ---------------------------------------------------------------------------------------------
# cost


def work(attrs: dict, kinds: dict[str, list[tuple[str, int]]]) -> list[tuple[str, int]]:
    """Vector-unit (kind, element count) pairs: every body op at every loop point, plus one
    element copy per gathered operand element."""
    points = math.prod(attrs["ranges"])
    out: dict[str, int] = {"copy": points * (attrs["inputs"] + sum(b["op"] == "extract" for b in attrs["body"]))}
    for b in attrs["body"]:
        if b["op"] in ("constant", "index", "extract"):
            continue
        for kind, k in kinds.get(b["op"], [("add", 1)]):
            out[kind] = out.get(kind, 0) + points * k
    return [(k, v) for k, v in out.items() if v]

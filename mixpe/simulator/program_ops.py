"""Per-op checking of program instructions: for each op, its unit (array, vector or free), the
argument counts it takes, and a checker that returns the expected result types from the
argument types and attributes (or fails with a one-line ProgramError). `OPS` is the table."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from types import EllipsisType
from typing import Any, Callable, NoReturn, TypeVar, cast, overload

from mixpe.reference.dtypes import bit_width, is_float, is_integer
from mixpe.simulator import generic
from mixpe.simulator.program_types import CMP_PREDICATES, ELEMENTWISE, PE_KINDS, Instruction, ProgramError, TensorType


# ---------------------------------------------------------------------------------------------
# per-op checking: each checker returns the expected result types from arg types and attrs

_T = TypeVar("_T")


class _Ctx:
    def __init__(self, ins: Instruction):
        self.ins = ins

    def fail(self, msg: str) -> NoReturn:
        raise ProgramError(f"{self.ins.where}: {msg}")

    def attr(self, name: str, kind: type[_T], default: _T | EllipsisType = ..., choices=None,
             source: str = "attrs") -> _T:
        table = self.ins.attrs if source == "attrs" else self.ins.schedule
        if name not in table:
            if default is ...:
                self.fail(f"missing {source[:-1] if source == 'attrs' else source} '{name}'")
            return default
        v: Any = table[name]  # a JSON value, checked against `kind` here
        if kind is int:
            ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
        else:
            ok = isinstance(v, kind)
        if not ok:
            want = "a positive int" if kind is int else kind.__name__
            self.fail(f"{source} '{name}' must be {want}, got {v!r}")
        if choices is not None and v not in choices:
            self.fail(f"{source} '{name}' must be one of {list(choices)}, got {v!r}")
        return cast(_T, v)  # an instance of `kind`, checked above

    @overload
    def int_list(self, name: str, default: list[int] | EllipsisType = ...) -> list[int]: ...
    @overload
    def int_list(self, name: str, default: None) -> list[int] | None: ...
    def int_list(self, name: str, default: list[int] | EllipsisType | None = ...) -> list[int] | None:
        v = self.ins.attrs.get(name, default)
        if v is ...:
            self.fail(f"missing attr '{name}'")
        if v is not None and (
            not isinstance(v, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in v)
        ):
            self.fail(f"attr '{name}' must be a list of ints, got {v!r}")
        return v


@dataclass(frozen=True)
class OpSpec:
    unit: str  # "array": costed on the PE array; "vector": vector unit; "none": free
    arity: tuple[int, ...]  # accepted arg counts
    check: Callable[[_Ctx, list[TensorType]], list[TensorType]]


def _check(ins: Instruction, spec: OpSpec, arg_types: list[TensorType]) -> None:
    ctx = _Ctx(ins)
    if len(arg_types) not in spec.arity:
        a = spec.arity
        counts = f"{a[0]} to {a[-1]}" if len(a) > 3 else " or ".join(map(str, a))
        ctx.fail(f"takes {counts} args, got {len(arg_types)}")
    expected = spec.check(ctx, arg_types)
    if len(expected) != len(ins.results):
        ctx.fail(f"has {len(ins.results)} results, expected {len(expected)}")
    for r, t in zip(ins.results, expected):
        if t.dtype == "*":  # the result's dtype is free within a kind checked by the op
            t = TensorType(t.shape, r.type.dtype)
        if r.type != t:
            ctx.fail(f"result '{r.name}' is declared {r.type}, expected {t}")


def _rank(ctx: _Ctx, t: TensorType, n: int, what: str) -> tuple[int, ...]:
    if len(t.shape) != n:
        ctx.fail(f"{what} must be {n}-D, got {t}")
    return t.shape


def _acc_for(ctx: _Ctx, x: TensorType) -> str:
    acc = ctx.attr("acc", str, "i32" if is_integer(x.dtype) else "f32", ("i32", "f32"))
    want = "i32" if is_integer(x.dtype) else "f32"
    if acc != want:
        ctx.fail(f"acc {acc} does not match {x.dtype} activations (use {want})")
    return acc


def _weights(ctx: _Ctx, x: TensorType, q: TensorType, signed_default: Any = ...) -> tuple[int, int, int, int]:
    """(M, K, N, G) from activations, weights and the grouping attrs."""
    M, K = _rank(ctx, x, 2, "activations")
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    kq, N = _rank(ctx, q, 2, "weights")[:: 1 if layout == "kn" else -1]
    if not is_integer(q.dtype):
        ctx.fail(f"weights must have an integer dtype, got {q.dtype}")
    if kq != K:
        ctx.fail(f"activations {x} and {layout} weights {q} disagree on K")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    return M, K, N, K // g


def _weight_attrs(ctx: _Ctx) -> None:
    bits = ctx.attr("weight_bits", int)
    if bits > 16:
        ctx.fail(f"weight_bits {bits} is above 16")
    ctx.attr("signed", bool)


def _psum_type(ctx: _Ctx, x: TensorType, M: int, G: int, N: int) -> TensorType:
    return TensorType((M, G, N), _acc_for(ctx, x))


def _check_group_psum(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    x, q = t
    M, K, N, G = _weights(ctx, x, q)
    _weight_attrs(ctx)
    ctx.attr("pe", str, "mac", PE_KINDS, source="schedule")
    return [_psum_type(ctx, x, M, G, N)]


def _check_act_group_sum(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (x,) = t
    M, K = _rank(ctx, x, 2, "activations")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    return [TensorType((M, K // g), _acc_for(ctx, x))]


def _zp_args(ctx: _Ctx, t: list[TensorType], lead: int) -> tuple[str, list[TensorType]]:
    mode = ctx.attr("zp_mode", str, choices=("original", "rescale", "symmetric"))
    want = lead + (1 if mode == "symmetric" else 2)
    if len(t) != want:
        names = "scales" if mode == "symmetric" else "scales, zeros"
        ctx.fail(f"zp_mode {mode} takes {want} args (..., {names}), got {len(t)}")
    return mode, t[lead:]


def _check_scales(ctx: _Ctx, mode: str, sz: list[TensorType], G: int, N: int) -> None:
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    want = (G, N) if layout == "kn" else (N, G)
    for what, st in zip(("scales", "zeros"), sz):
        if st.shape != want:
            ctx.fail(f"{what} {st} must have shape {list(want)} for layout {layout}")
    if not is_float(sz[0].dtype):
        ctx.fail(f"scales must be float, got {sz[0].dtype}")
    if mode == "rescale" and not is_float(sz[1].dtype):
        ctx.fail(f"rescale zero points must be float, got {sz[1].dtype}")


def _float_result(ctx: _Ctx, shape) -> TensorType:
    r = ctx.ins.results[0].type.dtype if ctx.ins.results else "f32"
    if not is_float(r):
        ctx.fail(f"result must be a float type, got {r}")
    return TensorType(tuple(shape), "*")


def _check_dequant_epilogue(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    mode = ctx.attr("zp_mode", str, choices=("original", "rescale", "symmetric"))
    p = t[0]
    M, G, N = _rank(ctx, p, 3, "partial sums")
    if mode == "symmetric":
        _, sz = _zp_args(ctx, t, 1)
    else:
        _, sz = _zp_args(ctx, t, 2)
        if t[1].shape != (M, G):
            ctx.fail(f"activation sums {t[1]} must have shape {[M, G]}")
        if is_integer(t[1].dtype) != is_integer(p.dtype):
            ctx.fail(f"partial sums {p.dtype} and activation sums {t[1].dtype} differ in kind")
    if p.dtype not in ("i32", "f32"):
        ctx.fail(f"partial sums must be i32 or f32, got {p.dtype}")
    _check_scales(ctx, mode, sz, G, N)
    return [_float_result(ctx, (M, N))]


def _check_mpgemm(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    mode, sz = _zp_args(ctx, t, 2)
    M, K, N, G = _weights(ctx, t[0], t[1])
    _weight_attrs(ctx)
    _acc_for(ctx, t[0])
    ctx.attr("pe", str, "mac", PE_KINDS, source="schedule")
    _check_scales(ctx, mode, sz, G, N)
    return [_float_result(ctx, (M, N))]


def _check_bitplanes(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (q,) = t
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    K, N = _rank(ctx, q, 2, "weights")[:: 1 if layout == "kn" else -1]
    _weight_attrs(ctx)
    if not is_integer(q.dtype):
        ctx.fail(f"weights must have an integer dtype, got {q.dtype}")
    dt = ctx.ins.results[0].type.dtype if ctx.ins.results else "ui8"
    if dt not in ("ui8", "i1"):
        ctx.fail(f"bit planes must be ui8 or i1, got {dt}")
    return [TensorType((ctx.ins.attrs["weight_bits"], K, N), dt)]


def _check_bitplane_psum(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    x, planes = t
    M, K = _rank(ctx, x, 2, "activations")
    B, kp, N = _rank(ctx, planes, 3, "bit planes")
    if kp != K:
        ctx.fail(f"activations {x} and bit planes {planes} disagree on K")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    ctx.attr("signed", bool)
    shifts = ctx.int_list("shifts", None)
    if shifts is not None and len(shifts) != B:
        ctx.fail(f"{len(shifts)} shifts for {B} bit planes")
    if "weight_bits" in ctx.ins.attrs:
        ctx.attr("weight_bits", int)
    return [_psum_type(ctx, x, M, K // g, N)]


def _check_pow2_split(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (q,) = t
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    K, N = _rank(ctx, q, 2, "weights")[:: 1 if layout == "kn" else -1]
    ctx.attr("weight_bits", int)
    return [TensorType((K, N), "i1"), TensorType((K, N), "ui8")]


def _check_shift_psum(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    x, sign, exp = t
    M, K = _rank(ctx, x, 2, "activations")
    if sign.shape != exp.shape or sign.dtype != "i1" or not is_integer(exp.dtype):
        ctx.fail(f"expected sign i1 and integer exponents of one shape, got {sign} and {exp}")
    kp, N = _rank(ctx, sign, 2, "signs")
    if kp != K:
        ctx.fail(f"activations {x} and signs {sign} disagree on K")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    if "weight_bits" in ctx.ins.attrs:  # DenseShift code width, for costing
        ctx.attr("weight_bits", int)
    return [_psum_type(ctx, x, M, K // g, N)]


def _check_matmul(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    a, b = t
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    if len(a.shape) < 2 or len(b.shape) < 2:
        ctx.fail(f"matmul operands must be at least 2-D, got {a} and {b}")
    if is_integer(a.dtype) != is_integer(b.dtype):
        ctx.fail(f"matmul of {a.dtype} and {b.dtype} mixes integer and float")
    M, K = a.shape[-2:]
    kb, N = b.shape[-2:][:: 1 if layout == "kn" else -1]
    if kb != K:
        ctx.fail(f"operands {a} and {b} ({layout}) disagree on K")
    try:
        batch = _broadcast(a.shape[:-2], b.shape[:-2])
    except ValueError:
        ctx.fail(f"batch dimensions of {a} and {b} do not broadcast")
    r = ctx.ins.results[0].type.dtype if ctx.ins.results else a.dtype
    if is_integer(r) != is_integer(a.dtype):
        ctx.fail(f"result {r} and operands {a.dtype} differ in kind")
    return [TensorType(batch + (M, N), "*")]


def _broadcast(*shapes) -> tuple[int, ...]:
    import numpy as np

    return tuple(np.broadcast_shapes(*shapes))


def _check_elementwise(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    name = ctx.attr("op", str, choices=tuple(ELEMENTWISE))
    arity, rule = ELEMENTWISE[name]
    if len(t) != arity:
        ctx.fail(f"elementwise {name} takes {arity} args, got {len(t)}")
    try:
        shape = _broadcast(*(a.shape for a in t))
    except ValueError:
        ctx.fail(f"arg shapes {[list(a.shape) for a in t]} do not broadcast")
    r = ctx.ins.results[0].type.dtype if ctx.ins.results else t[0].dtype
    src = t[0].dtype
    if rule in ("same", "samefloat", "sameint"):
        if any(a.dtype != r for a in t):
            ctx.fail(f"{name} needs args of the result type {r}, got {[a.dtype for a in t]}")
        if rule == "samefloat" and not is_float(r):
            ctx.fail(f"{name} needs a float type, got {r}")
        if rule == "sameint" and not is_integer(r):
            ctx.fail(f"{name} needs an integer type, got {r}")
    elif rule == "cmp":
        ctx.attr("predicate", str, choices=CMP_PREDICATES)
        if t[0].dtype != t[1].dtype or r != "i1":
            ctx.fail(f"cmp needs two args of one type and an i1 result, got {[a.dtype for a in t]} -> {r}")
    elif rule == "select":
        if t[0].dtype != "i1" or t[1].dtype != r or t[2].dtype != r:
            ctx.fail(f"select needs (i1, {r}, {r}), got {[a.dtype for a in t]}")
    else:
        kinds = {"f": is_float, "i": is_integer}
        a_kind, b_kind = rule[0], rule[-1]
        if not kinds[a_kind](src) or not kinds[b_kind](r):
            ctx.fail(f"{name} converts {'float' if a_kind == 'f' else 'integer'} to "
                     f"{'float' if b_kind == 'f' else 'integer'}, got {src} -> {r}")
        if rule[1] in "<>":
            wider = bit_width(r) > bit_width(src) if rule[1] == ">" else bit_width(r) < bit_width(src)
            if not wider:
                ctx.fail(f"{name} must {'widen' if rule[1] == '>' else 'narrow'} the type, got {src} -> {r}")
    return [TensorType(shape, r)]


def _same_dtype(t: TensorType, shape) -> TensorType:
    return TensorType(tuple(shape), t.dtype)


def _check_transpose(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (x,) = t
    perm = ctx.int_list("perm")
    if sorted(perm) != list(range(len(x.shape))):
        ctx.fail(f"perm {perm} is not a permutation of {len(x.shape)} dims")
    return [_same_dtype(x, [x.shape[p] for p in perm])]


def _check_reshape(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (x,) = t
    r = ctx.ins.results[0].type if ctx.ins.results else x
    if r.size != x.size:
        ctx.fail(f"reshape {x} -> {r} changes the number of elements")
    return [_same_dtype(x, r.shape)]


def _check_broadcast(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (x,) = t
    r = ctx.ins.results[0].type if ctx.ins.results else x
    dims = ctx.int_list("dims", None)
    src = x.shape
    if dims is not None:
        if len(r.shape) - len(dims) != len(x.shape) or any(not 0 <= d < len(r.shape) for d in dims):
            ctx.fail(f"dims {dims} do not turn {x} into rank {len(r.shape)}")
        kept = [i for i in range(len(r.shape)) if i not in dims]
        src = [1] * len(r.shape)
        for i, s in zip(kept, x.shape):
            src[i] = s
    try:
        ok = _broadcast(tuple(src), r.shape) == r.shape
    except ValueError:
        ok = False
    if not ok:
        ctx.fail(f"{x} does not broadcast to {list(r.shape)}")
    return [_same_dtype(x, r.shape)]


def _check_concat(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    dim = ctx.ins.attrs.get("dim")
    if not isinstance(dim, int) or isinstance(dim, bool):
        ctx.fail(f"attrs 'dim' must be a dimension index, got {dim!r}")
    rank = len(t[0].shape)
    if not 0 <= dim < rank:
        ctx.fail(f"dim {dim} is not a dimension of rank-{rank} values")
    for a in t[1:]:
        if a.dtype != t[0].dtype or len(a.shape) != rank or any(
            x != y for i, (x, y) in enumerate(zip(a.shape, t[0].shape)) if i != dim
        ):
            ctx.fail(f"cannot concatenate {t[0]} and {a} along dim {dim}")
    shape = list(t[0].shape)
    shape[dim] = sum(a.shape[dim] for a in t)
    return [_same_dtype(t[0], shape)]


def _check_reduce(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (x,) = t
    ctx.attr("kind", str, choices=("add", "mul", "max", "min"))
    dims = ctx.int_list("dims")
    if len(set(dims)) != len(dims) or any(not 0 <= d < len(x.shape) for d in dims):
        ctx.fail(f"dims {dims} are not distinct dims of {x}")
    keep = ctx.attr("keepdims", bool, False)
    shape = [1 if i in dims else s for i, s in enumerate(x.shape)] if keep else [
        s for i, s in enumerate(x.shape) if i not in dims]
    return [_same_dtype(x, shape)]


def _check_fill(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    v = ctx.ins.attrs.get("value")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        ctx.fail(f"fill needs a numeric attr 'value', got {v!r}")
    return [ctx.ins.results[0].type] if ctx.ins.results else []


def _check_constant(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    if not ctx.ins.results:
        return []
    r = ctx.ins.results[0].type
    given = [k for k in ("value", "data", "base64") if k in ctx.ins.attrs]
    if len(given) != 1:
        ctx.fail("constant needs exactly one of attrs 'value', 'data', 'base64'")
    k = given[0]
    v = ctx.ins.attrs[k]
    if k == "value" and not isinstance(v, (int, float)):
        ctx.fail(f"constant value must be a number, got {v!r}")
    if k == "data" and (not isinstance(v, list) or len(v) != r.size
                        or not all(isinstance(e, (int, float)) for e in v)):
        ctx.fail(f"constant data must be a flat list of {r.size} numbers")
    if k == "base64":
        if not isinstance(v, str):
            ctx.fail("constant base64 must be a string")
        try:
            raw = base64.b64decode(v, validate=True)
        except ValueError:
            ctx.fail("constant base64 is not valid base64")
        want = r.size * max(1, bit_width(r.dtype) // 8)
        if len(raw) != want:
            ctx.fail(f"constant base64 holds {len(raw)} bytes, {r} needs {want}")
    return [r]


def _slice_attrs(ctx: _Ctx, rank: int) -> tuple[list[int], list[int], list[int]]:
    offsets, sizes = ctx.int_list("offsets"), ctx.int_list("sizes")
    strides = ctx.int_list("strides", [1] * rank)
    if not (len(offsets) == len(sizes) == len(strides) == rank):
        ctx.fail(f"offsets, sizes and strides need one entry per dim ({rank})")
    if any(o < 0 for o in offsets) or any(n < 0 for n in sizes) or any(st < 1 for st in strides):
        ctx.fail("offsets and sizes must be >= 0 and strides >= 1")
    return offsets, sizes, strides


def _check_window(ctx: _Ctx, full: TensorType, what: str) -> list[int]:
    offsets, sizes, strides = _slice_attrs(ctx, len(full.shape))
    for d, (o, n, st, dim) in enumerate(zip(offsets, sizes, strides, full.shape)):
        if n and o + (n - 1) * st >= dim:
            ctx.fail(f"the slice reaches index {o + (n - 1) * st} of dim {d} of the {what} (size {dim})")
    return sizes


def _check_slice(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (x,) = t
    return [TensorType(tuple(_check_window(ctx, x, "source")), x.dtype)]


def _check_insert_slice(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    src, dest = t
    sizes = _check_window(ctx, dest, "destination")
    if tuple(sizes) != src.shape or src.dtype != dest.dtype:
        ctx.fail(f"the source {src} does not fill the window {sizes} of {dest}")
    return [dest]


def _check_pad(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    (x,) = t
    low, high = ctx.int_list("low"), ctx.int_list("high")
    if len(low) != len(x.shape) or len(high) != len(x.shape) or min(low + high, default=0) < 0:
        ctx.fail(f"low and high need one non-negative entry per dim ({len(x.shape)})")
    if not isinstance(ctx.ins.attrs.get("value"), int | float):
        ctx.fail("missing numeric attr 'value'")
    return [TensorType(tuple(d + lo + hi for d, lo, hi in zip(x.shape, low, high)), x.dtype)]


def _check_sort(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    dim, key = ctx.ins.attrs.get("dim"), ctx.ins.attrs.get("key", 0)
    for name, v, n in (("dim", dim, len(t[0].shape)), ("key", key, len(t))):
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < n:
            ctx.fail(f"attrs '{name}' must be an index below {n}, got {v!r}")
    ctx.attr("descending", bool)
    if any(a.shape != t[0].shape for a in t):
        ctx.fail(f"sorted values must have one shape, got {[list(a.shape) for a in t]}")
    return list(t)


def _check_generic(ctx: _Ctx, t: list[TensorType]) -> list[TensorType]:
    try:
        expected = generic.check(ctx.ins.attrs, t, [r.type.dtype for r in ctx.ins.results])
    except generic.GenericError as e:
        ctx.fail(str(e))
    return [TensorType(tuple(shape), dt) for shape, dt in expected]


OPS: dict[str, OpSpec] = {
    "group_psum": OpSpec("array", (2,), _check_group_psum),
    "bitplane_psum": OpSpec("array", (2,), _check_bitplane_psum),
    "shift_psum": OpSpec("array", (3,), _check_shift_psum),
    "mpgemm": OpSpec("array", (3, 4), _check_mpgemm),
    "matmul": OpSpec("array", (2,), _check_matmul),
    "bitplanes": OpSpec("none", (1,), _check_bitplanes),
    "pow2_split": OpSpec("none", (1,), _check_pow2_split),
    "act_group_sum": OpSpec("vector", (1,), _check_act_group_sum),
    "dequant_epilogue": OpSpec("vector", (2, 3, 4), _check_dequant_epilogue),
    "elementwise": OpSpec("vector", tuple(range(1, 4)), _check_elementwise),
    "transpose": OpSpec("vector", (1,), _check_transpose),
    "reshape": OpSpec("none", (1,), _check_reshape),
    "broadcast": OpSpec("vector", (1,), _check_broadcast),
    "reduce": OpSpec("vector", (1,), _check_reduce),
    "concat": OpSpec("vector", tuple(range(1, 65)), _check_concat),
    "fill": OpSpec("vector", (0,), _check_fill),
    "constant": OpSpec("none", (0,), _check_constant),
    "generic": OpSpec("vector", tuple(range(0, 257)), _check_generic),
    "slice": OpSpec("vector", (1,), _check_slice),
    "insert_slice": OpSpec("vector", (2,), _check_insert_slice),
    "pad": OpSpec("vector", (1,), _check_pad),
    "sort": OpSpec("vector", tuple(range(1, 17)), _check_sort),
}


"""The interpreter and linalg's structured-op machinery: loop ranges from indexing maps,
vectorised bodies, reductions summed in float64 ("fast") or in MLIR's order ("ordered")."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ContainerType,
    ModuleOp,
    ShapedType,
)
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.ir.affine import (
    AffineBinaryOpExpr,
    AffineBinaryOpKind,
    AffineConstantExpr,
    AffineDimExpr,
    AffineExpr,
    AffineMap,
)

from mixpe.interp.core import (
    _EVALUATORS,
    EvaluationError,
    _compute,
    _convert,
    _elem,
    _fail,
    _round,
    _signed,
    _wrap,
)


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
    return [r for r in ranges if r is not None]  # all bound, as just checked


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
    assert block.last_op is not None  # a linalg body ends in its linalg.yield
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


def _contract(lhs: np.ndarray, rhs: np.ndarray, red: list[int], ranges, integer: bool) -> np.ndarray:
    """sum over `red` of lhs*rhs, both over the loop dims (size-1 = not indexed), via BLAS matmul.

    Floats go through float64 (products of f32 values are exact there). Integers use float64
    BLAS when every partial sum is below 2**53, else int64 matmul (exact modulo 2**64)."""
    n = lhs.ndim
    # a reduction dim only one side indexes can be summed on that side first
    l_only = tuple(d for d in red if lhs.shape[d] > 1 and rhs.shape[d] == 1)
    r_only = tuple(d for d in red if rhs.shape[d] > 1 and lhs.shape[d] == 1)
    acc = np.int64 if integer else np.float64
    lhs = lhs.sum(axis=l_only, keepdims=True, dtype=acc) if l_only else lhs.astype(acc)
    rhs = rhs.sum(axis=r_only, keepdims=True, dtype=acc) if r_only else rhs.astype(acc)
    shared = [d for d in range(n) if lhs.shape[d] > 1 and rhs.shape[d] > 1]
    batch = [d for d in shared if d not in red]
    contr = [d for d in shared if d in red]
    lo = [d for d in range(n) if lhs.shape[d] > 1 and d not in shared]
    ro = [d for d in range(n) if rhs.shape[d] > 1 and d not in shared]
    rest_l = [d for d in range(n) if d not in batch + lo + contr]
    rest_r = [d for d in range(n) if d not in batch + contr + ro]
    size = lambda a, ds: prod(a.shape[d] for d in ds)  # noqa: E731
    lm = lhs.transpose(batch + lo + contr + rest_l).reshape(size(lhs, batch), size(lhs, lo), size(lhs, contr))
    rm = rhs.transpose(batch + contr + ro + rest_r).reshape(size(rhs, batch), size(rhs, contr), size(rhs, ro))
    if integer and lm.size and rm.size:
        bound = float(np.abs(lm).max()) * float(np.abs(rm).max()) * max(size(lhs, contr), 1)
        if bound < 2.0**53:
            out = np.rint(np.matmul(lm.astype(np.float64), rm.astype(np.float64))).astype(np.int64)
        else:
            out = np.matmul(lm, rm)
    else:
        out = np.matmul(lm, rm)
    out = out.reshape([lhs.shape[d] for d in batch + lo] + [rhs.shape[d] for d in ro])
    # a reduction dim neither side indexes repeats every product
    repeat = prod(ranges[d] for d in red if lhs.shape[d] == 1 and rhs.shape[d] == 1)
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
            f.sym_name.data: f for f in module.ops if isinstance(f, func.FuncOp)
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
        parent = block.parent_op()
        raise EvaluationError(parent.name if parent else "<block>", "", "block has no terminator")

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

    def call(self, fn: func.FuncOp, args: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not fn.body.blocks:
            raise _fail(fn, "cannot call a declaration")
        caller, self.env = self.env, {}  # a fresh frame: recursion must not clobber values
        try:
            return self.run_block(fn.body.block, args)
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
        assert s.block.last_op is not None  # a linalg body ends in its linalg.yield
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
                    lhs, rhs = (self.env[v] for v in p.mul.operands)
                    lhs = _signed(lhs, e) if integer else lhs
                    rhs = _signed(rhs, e) if integer else rhs
                    total = _contract(lhs, rhs, red, ranges, integer)
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
    return v[
        tuple(slice(fixed[d], fixed[d] + 1) if d in fixed and v.shape[d] > 1 else slice(None) for d in range(v.ndim))
    ]


def _bshape(a: np.ndarray, ranges, red, keep_red: bool = True) -> tuple[int, ...]:
    """Shape to broadcast a term to: full over reduction dims, as-is over parallel dims."""
    return tuple(ranges[d] if d in red and keep_red else a.shape[d] for d in range(len(ranges)))


def _ordered_operands(p: _Plan, acc, part) -> list[np.ndarray]:
    return [part, acc] if p.combiner.operands[0] is p.term else [acc, part]


def _elem_type(t: Attribute) -> Attribute:
    if not isinstance(t, ShapedType):
        return t
    assert isinstance(t, ContainerType)  # tensor, vector and memref types all are
    return t.get_element_type()


def _tensors_only(op: LinalgStructuredOperation) -> None:
    if len(op.results) != len(op.outputs):
        raise _fail(op, "buffer (memref) semantics are not supported, only tensors")


def _iterators(op) -> list[str]:
    return [str(it.data) for it in op.get_iterator_types()]



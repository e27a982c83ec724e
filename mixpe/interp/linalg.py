"""`linalg` ops (generic and named, contractions with upstream's casts), and torch-mlir's
`tm_tensor.sort`."""

from __future__ import annotations

import itertools

import numpy as np
from xdsl.ir.affine import (
    AffineDimExpr,
    AffineMap,
)

from mixpe.reference import kernels
from mixpe.interp.core import _arg, _compute, _convert, _elem, _fail, _op, _round, _signed, _wrap
from mixpe.interp.structured import (
    _at,
    _contract,
    _from_loops,
    _iterators,
    _loop_ranges,
    _map_dims,
    _Structured,
    _tensors_only,
    _to_loops,
)


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
    lhs = a if exact(_arg(op, 0)) else _convert(a, _arg(op, 0), acc, unsigned)
    rhs = b if exact(_arg(op, 1)) else _convert(b, _arg(op, 1), acc, unsigned)
    n = maps[0].num_dims
    specs = [_map_dims(m, op) for m in maps]
    ranges = _loop_ranges(specs, [a, b, c], n, op)
    lv, rv, cv = (_to_loops(v, sp, n) for v, sp in zip((lhs, rhs, c), specs))
    red = [d for d in range(n) if not any(x == d for x in specs[2])]
    if acc.kind == "f" and interp.ordered:
        y = cv.copy()
        for point in itertools.product(*(range(ranges[d]) for d in red)):
            fixed = dict(zip(red, point))
            prodv = _round(_compute(_at(lv, fixed)) * _compute(_at(rv, fixed)), acc)
            y = _round(_compute(y) + _compute(prodv), acc)
    else:
        integer = acc.kind != "f"
        lhs_v = _signed(lv, acc) if integer else lv
        rhs_v = _signed(rv, acc) if integer else rv
        total = _contract(lhs_v, rhs_v, red, ranges, integer)
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



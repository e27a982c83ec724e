"""`tensor` ops: reshapes, slices, extract/insert (bounds-checked: out of bounds is
undefined in MLIR, so an error here), concat, empty (NaN / most negative: reads show up)."""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.dialects import tensor
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    ShapedType,
)
from xdsl.ir import Attribute

from mixpe.interp.core import _elem, _fail, _op, _poison, _res


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


def _slice_of(
    op: tensor.ExtractSliceOp | tensor.InsertSliceOp, vals: list[np.ndarray], first: int
) -> tuple[tuple[slice, ...], tuple[int, ...]]:
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
    assert isinstance(t, ShapedType)  # the result type of a tensor.extract_slice
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



"""Constant tensors (`dense<...>`, `dense_resource<...>`) as numpy arrays, and back.

The numpy evaluator runs `arith.constant`s, and passes that analyse constant weights
(`mixpe-shift-add`) read them at compile time; torch-mlir emits `dense_resource` blobs,
whose storage in xDSL 0.74 has a renaming quirk (see `resource_bytes`). One reader here
keeps both in agreement.
"""

from __future__ import annotations

import re
from math import prod
from typing import cast

import numpy as np
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    BytesAttr,
    Builtin,
    ContainerType,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IntegerType,
    ShapedType,
    TensorType,
)
from xdsl.ir import Attribute, SSAValue

from mixpe.reference import dtypes


def _int_bytes(width: int) -> int:
    """Bytes per stored integer: xDSL packs (and MLIR blobs hold) i1..i8 in one byte."""
    return next(b for b in (1, 2, 4, 8) if width <= 8 * b)


def _element_type(t: ShapedType) -> Attribute:
    assert isinstance(t, ContainerType)  # tensor, vector and memref types all are
    return t.get_element_type()


def _blobs() -> OpAsmDialectInterface:
    """The builtin dialect's blob table (`dense_resource` data)."""
    blobs = Builtin.get_interface(OpAsmDialectInterface)
    assert blobs is not None  # the builtin dialect always has its asm interface
    return blobs


def _storage(t: ShapedType) -> np.dtype:
    """The dtype the elements of `t` are stored in (little-endian, like this host)."""
    e = _element_type(t)
    if isinstance(e, IntegerType):
        return np.dtype(f"<i{_int_bytes(e.width.data)}")
    return dtypes.to_numpy(str(e))


def resource_bytes(handle: str, nbytes: int) -> bytes:
    """MLIR blob: '0x' + 4-byte little-endian alignment + data, kept by xDSL's builtin dialect.

    xDSL 0.74 keeps blobs in one process-wide table and renames a key it has seen before
    (`name` -> `name_0`), but the `dialect_resources` section of that same file is then stored
    under yet another new key (`name_1`). So a handle without data takes the first blob stored
    after it under the same base name, and only if its size is exactly the type's."""
    storage = _blobs()._blob_storage
    blob = storage.get(handle, "")
    if not blob and handle in storage:
        base = re.sub(r"_\d+$", "", handle)
        keys = list(storage)
        later = keys[keys.index(handle) + 1 :]
        same = [k for k in later if re.fullmatch(re.escape(base) + r"(_\d+)?", k) and storage[k]]
        blob = storage[same[0]] if same else ""
    if not blob:
        raise ValueError(f"no data for dense_resource<{handle}> (missing dialect_resources?)")
    data = bytes.fromhex(blob[2:])[4:]
    if len(data) != nbytes:
        raise ValueError(f"dense_resource<{handle}> holds {len(data)} bytes, the type needs {nbytes}")
    return data


def elements(attr: DenseIntOrFPElementsAttr | DenseResourceAttr, t: ShapedType) -> np.ndarray:
    """The elements of a dense or dense_resource attribute of type `t`: floats in their numpy
    dtype, i1 as bool, other integers as their stored bytes read signed (int8/16/32/64; the
    caller applies the width and signedness). Raises ValueError on malformed data."""
    dt = _storage(t)
    shape = tuple(t.get_shape())
    if isinstance(attr, DenseResourceAttr):
        data = resource_bytes(attr.resource_handle.data, prod(shape) * dt.itemsize)
    else:
        data = attr.data.data
    raw = np.frombuffer(data, dtype=np.dtype(f"<u{dt.itemsize}")).view(dt)
    if _element_type(t) == IntegerType(1):
        raw = raw != 0
    if raw.size == 1 and prod(shape) != 1:
        return np.full(shape, raw[0], dtype=raw.dtype)  # splat
    if raw.size != prod(shape):
        raise ValueError(f"constant holds {raw.size} elements, type needs {prod(shape)}")
    return raw.reshape(shape).copy()


def constant_of(value: SSAValue) -> tuple[arith.ConstantOp, np.ndarray] | None:
    """(op, elements) when `value` is an `arith.constant` dense/dense_resource tensor."""
    op = value.owner
    if not isinstance(op, arith.ConstantOp) or not isinstance(op.value, DenseIntOrFPElementsAttr | DenseResourceAttr):
        return None
    assert isinstance(value.type, ShapedType)  # a dense constant has a shaped type
    return op, elements(op.value, value.type)


def integer_values(raw: np.ndarray, width: int, signed: bool) -> np.ndarray:
    """int64 values of `width`-bit integers stored in `raw`, read signed or unsigned."""
    v = raw.astype(np.int64)
    if width >= 64:
        return v
    v &= (1 << width) - 1
    return np.where(v >= 1 << (width - 1), v - (1 << width), v) if signed else v


def build_constant(values: np.ndarray, t: TensorType[Attribute], like: Attribute | None, key: str) -> arith.ConstantOp:
    """`values` as a constant of integer type `t`; a dense_resource blob (under a fresh
    handle from `key`) when `like` is one, so big weights stay out of the IR text."""
    e = t.get_element_type()
    assert isinstance(e, IntegerType)
    dt = np.dtype(f"<i{_int_bytes(e.width.data)}")
    blob = isinstance(like, DenseResourceAttr)
    if values.dtype == np.bool_:  # i1 true: 0xff as xDSL packs it, 0x01 in an MLIR blob
        values = np.where(values, 1 if blob else -1, 0)
    data = np.ascontiguousarray(values, dtype=dt).tobytes()
    if not blob:
        return arith.ConstantOp(DenseIntOrFPElementsAttr(cast(TensorType[IntegerType], t), BytesAttr(data)))
    blobs = _blobs()
    handle = blobs.declare_resource(key)
    blobs.parse_resource(handle, "0x" + dt.itemsize.to_bytes(4, "little").hex() + data.hex())
    return arith.ConstantOp(DenseResourceAttr.from_params(handle, t), t)


def tensor_value(op: arith.ConstantOp) -> np.ndarray:
    """A tensor `arith.constant` as a numpy array of its element type: floats in their dtype,
    i1 as bool, iN as the signed N-bit values of its bits (i4 as ml_dtypes.int4). The IR
    evaluator and the backend read constants through here, so they read the same numbers."""
    t = op.result.type
    if not isinstance(op.value, DenseIntOrFPElementsAttr | DenseResourceAttr) or not isinstance(t, ShapedType):
        raise ValueError(f"not a dense tensor constant: {op.value}")
    raw = elements(op.value, t)
    e = _element_type(t)
    if isinstance(e, IntegerType) and e.width.data != 1:
        w = e.width.data
        if f"i{w}" not in dtypes.DTYPE_NAMES:
            raise ValueError(f"constant of type {e} cannot be represented")
        return integer_values(raw, w, signed=True).astype(dtypes.to_numpy(f"i{w}"))
    return raw

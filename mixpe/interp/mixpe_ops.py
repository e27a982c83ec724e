"""Evaluates `mixpe.*` ops inside `mixpe.interp.evaluate` with the numpy kernels.

The kernels (`kernels.py`) are the semantics of each op; this module only reads an
op's properties and reinterprets signless storage the way the op declares it
(e.g. `unsigned` 8-bit weights stored in `i8`), so that a module can be run before
and after every pass and compared.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import IntegerType
from xdsl.ir import Attribute

from mixpe.dialects.mixpe import Signedness
from mixpe.reference import kernels
from mixpe.interp.core import register_op_evaluator

_UNSIGNED = {
    np.dtype(np.int8): np.uint8,
    np.dtype(np.int16): np.uint16,
    np.dtype(np.int32): np.uint32,
    np.dtype(np.int64): np.uint64,
}


def _type_name(t: Attribute) -> str:
    """MLIR element type name as the kernels spell it (signless integers read as signed)."""
    if isinstance(t, IntegerType):
        return f"i{t.width.data}"
    return str(t)


def _elem(value) -> Attribute:
    return value.type.get_element_type()


def _stored(a: np.ndarray, signed: bool) -> np.ndarray:
    """Reads signless integer storage with the op's declared signedness."""
    if signed or a.dtype not in _UNSIGNED:
        return a
    return a.view(_UNSIGNED[a.dtype])


def _acc(t: Attribute) -> str:
    return "i32" if isinstance(t, IntegerType) else "f32"


def _weights(op):
    return dict(
        group_size=op.g,
        layout=op.layout.data.value,
    )


def _zeros(op, vals, index: int):
    if op.zeros is None:
        return None
    z = vals[index]
    return _stored(z, op.is_signed) if np.issubdtype(z.dtype, np.integer) else z


def _acc_type(t: Attribute) -> str:
    if isinstance(t, IntegerType) and t.width.data > 32:
        return "i64"
    return _acc(t)


def _mpgemm(op, vals):
    x, q, s = vals[0], _stored(vals[1], op.is_signed), vals[2]
    if op.is_pow2:
        q = _pow2_dense(q, op)
    y = kernels.mpgemm(
        x, q, s, _zeros(op, vals, 3),
        weight_bits=op.bits if not op.is_pow2 else op.max_abs_weight().bit_length() + 1,
        signed=op.is_signed, zp_mode=op.zp_mode.data.value, acc=_acc(op.acc_type),
        out_dtype=_type_name(_elem(op.result)), **_weights(op),
    )
    return [y]


def _pow2_dense(q: np.ndarray, op) -> np.ndarray:
    """DenseShift values checked for the ±2^p form before the integer GEMM uses them."""
    sign, exp = kernels.pow2_split(q, weight_bits=op.bits, layout=op.layout.data.value)
    w = np.where(sign, -1, 1) * (np.int64(1) << exp.astype(np.int64))
    return w.T if op.layout.data.value == "nk" else w


def _group_psum(op, vals):
    q = _stored(vals[1], op.is_signed)
    if op.is_pow2:
        q = _pow2_dense(q, op)
    else:
        q = kernels.check_weight_range(q, weight_bits=op.bits, signed=op.is_signed)
    return [kernels.group_psum(vals[0], q, acc=_acc(_elem(op.result)), **_weights(op))]


def _act_group_sum(op, vals):
    return [kernels.act_group_sum(vals[0], group_size=op.group_size.value.data, acc=_acc(_elem(op.result)))]


def _epilogue(op, vals):
    it = iter(vals)
    p = next(it)
    a = next(it) if op.act_sums is not None else None
    s = next(it)
    z = next(it) if op.zeros is not None else None
    if z is not None and op.zero_signedness is not None:
        z = _stored(z, op.zero_signedness.data == Signedness.SIGNED)
    return [
        kernels.dequant_epilogue(
            p, a, s, z, zp_mode=op.zp_mode.data.value, layout=op.layout.data.value,
            out_dtype=_type_name(_elem(op.result)),
        )
    ]


def _bitplanes(op, vals):
    layout = op.layout.data.value
    bits = op.weight_bits.value.data
    signed = op.signedness.data == Signedness.SIGNED
    planes = kernels.bitplanes(_stored(vals[0], signed), weight_bits=bits, signed=signed, layout=layout)
    return [planes.astype(bool)]


def _bitplane_psum(op, vals):
    x, planes = vals
    w = np.zeros(planes.shape[1:], dtype=np.int64)
    for c, plane in zip(op.coefficients.get_values(), planes):
        w += int(c) * plane.astype(np.int64)
    return [kernels.group_psum(x, w, group_size=op.group_size.value.data, layout="kn", acc=_acc(_elem(op.result)))]


def _pow2_split(op, vals):
    sign, exp = kernels.pow2_split(vals[0], weight_bits=op.weight_bits.value.data, layout=op.layout.data.value)
    return [sign, exp.astype(np.int64)]


def _shift_psum(op, vals):
    x, sign, exp = vals
    return [kernels.shift_psum(x, sign, exp, group_size=op.group_size.value.data, acc=_acc(_elem(op.result)))]


def register() -> None:
    """Idempotent: makes `evaluate` understand every mixpe op."""
    for name, fn in {
        "mixpe.mpgemm": _mpgemm,
        "mixpe.group_psum": _group_psum,
        "mixpe.act_group_sum": _act_group_sum,
        "mixpe.dequant_epilogue": _epilogue,
        "mixpe.bitplanes": _bitplanes,
        "mixpe.bitplane_psum": _bitplane_psum,
        "mixpe.pow2_split": _pow2_split,
        "mixpe.shift_psum": _shift_psum,
    }.items():
        register_op_evaluator(name, fn)


register()  # importing mixpe.interp.evaluate imports this module: mixpe ops always evaluate

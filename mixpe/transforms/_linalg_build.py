"""Small IR builders for `mixpe-lower-to-linalg`: tensors, conversions and `linalg.generic`s.

Every helper creates ops through xDSL's implicit builder, so the caller opens one
`ImplicitBuilder(rewriter)` and the ops land before the op being lowered. Only upstream
dialects (arith, tensor, linalg) are emitted, in forms that MLIR 22 verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.builder import Builder
from xdsl.dialects import arith, tensor
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AffineMapAttr,
    AnyFloat,
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    ShapedType,
    TensorType,
    i64,
)
from xdsl.dialects.linalg.attrs import IteratorTypeAttr
from xdsl.dialects.linalg.ops import FillOp, GenericOp, YieldOp
from xdsl.ir import Attribute, BlockArgument, SSAValue
from xdsl.ir.affine import AffineExpr, AffineMap

Size = int | SSAValue  # a static extent, or an `index` value for a dynamic one


# --------------------------------------------------------------------------- tensors


def elem(value: SSAValue) -> Attribute:
    ty = value.type
    assert isinstance(ty, TensorType)
    return ty.get_element_type()


def int_elem(value: SSAValue) -> IntegerType:
    """The element type of an integer tensor (weights, bit-planes), as the verifiers require."""
    e = elem(value)
    assert isinstance(e, IntegerType)
    return e


def shape(value: SSAValue) -> tuple[int, ...]:
    """The shape of a tensor (or memref), dynamic extents as DYNAMIC_INDEX."""
    ty = value.type
    assert isinstance(ty, ShapedType)
    return ty.get_shape()


def size(value: SSAValue, axis: int) -> Size:
    """Extent of `axis`: the static number, or a `tensor.dim` when it is dynamic."""
    ty = value.type
    assert isinstance(ty, TensorType)
    extent = ty.get_shape()[axis]
    if extent != DYNAMIC_INDEX:
        return extent
    index = arith.ConstantOp(IntegerAttr(axis, IndexType()))
    return tensor.DimOp(value, index).result


def _static(sizes: Sequence[Size]) -> list[int]:
    return [s if isinstance(s, int) else DYNAMIC_INDEX for s in sizes]


def _dynamic(sizes: Sequence[Size]) -> list[SSAValue]:
    return [s for s in sizes if not isinstance(s, int)]


def empty(sizes: Sequence[Size], element: Attribute) -> SSAValue:
    return tensor.EmptyOp(_dynamic(sizes), TensorType(element, _static(sizes))).tensor


def zeros(sizes: Sequence[Size], element: Attribute) -> SSAValue:
    """A zero-filled accumulator: reductions in linalg add into their init tensor."""
    init = empty(sizes, element)
    return FillOp([zero(element)], [init], [init.type]).results[0]


def split_axis(value: SSAValue, axis: int, g: int) -> SSAValue:
    """`tensor.expand_shape` of `axis` (K) into (K/g, g): the group dimension made explicit."""
    ty = value.type
    assert isinstance(ty, TensorType)
    sizes = [size(value, a) for a in range(ty.get_num_dims())]
    k = sizes[axis]
    assert isinstance(k, int), "the grouped dimension is static (checked by the caller)"
    out = [*sizes[:axis], k // g, g, *sizes[axis + 1 :]]
    groups, nxt = [], 0
    for a in range(len(sizes)):
        width = 2 if a == axis else 1
        groups.append(ArrayAttr(IntegerAttr(nxt + i, i64) for i in range(width)))
        nxt += width
    result = TensorType(ty.get_element_type(), _static(out))
    return tensor.ExpandShapeOp(value, _dynamic(out), ArrayAttr(groups), _static(out), result).result


def constant_vector(values: Sequence[int], element: IntegerType) -> SSAValue:
    """A small `arith.constant dense<...>` (per-bit-plane shifts and signs)."""
    ty = TensorType(element, [len(values)])
    return arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(ty, list(values))).result


# --------------------------------------------------------------------------- scalars


def zero(t: Attribute) -> SSAValue:
    return scalar(0, t)


def scalar(v: int, t: Attribute) -> SSAValue:
    if isinstance(t, AnyFloat):
        return arith.ConstantOp(FloatAttr(float(v), t)).result
    assert isinstance(t, IntegerType | IndexType)
    return arith.ConstantOp(IntegerAttr(v, t)).result


def convert(value: SSAValue, to: Attribute, signed: bool = True) -> SSAValue:
    """Scalar conversion to `to`; `signed` says how signless integers are read
    (storage is signless, the op's signedness property decides)."""
    src = value.type
    if src == to:
        return value
    if isinstance(to, AnyFloat):
        if isinstance(src, AnyFloat):
            cls = arith.ExtFOp if src.bitwidth < to.bitwidth else arith.TruncFOp
            return cls(value, to).result
        return (arith.SIToFPOp if signed else arith.UIToFPOp)(value, to).result
    assert isinstance(to, IntegerType) and isinstance(src, IntegerType)
    if src.width.data > to.width.data:
        return arith.TruncIOp(value, to).result
    return (arith.ExtSIOp if signed else arith.ExtUIOp)(value, to).result


def add(a: SSAValue, b: SSAValue) -> SSAValue:
    return (arith.AddfOp if isinstance(a.type, AnyFloat) else arith.AddiOp)(a, b).result


def sub(a: SSAValue, b: SSAValue) -> SSAValue:
    return (arith.SubfOp if isinstance(a.type, AnyFloat) else arith.SubiOp)(a, b).result


def mul(a: SSAValue, b: SSAValue) -> SSAValue:
    return (arith.MulfOp if isinstance(a.type, AnyFloat) else arith.MuliOp)(a, b).result


def negate_if(flag: SSAValue, value: SSAValue) -> SSAValue:
    """`flag ? -value : value`: the subtract of a shift&add PE."""
    neg = arith.NegfOp(value).result if isinstance(value.type, AnyFloat) else sub(zero(value.type), value)
    return arith.SelectOp(flag, neg, value).result


def times_pow2(value: SSAValue, shift: SSAValue) -> SSAValue:
    """`value * 2^shift`: a left shift for integers; for floats an exact multiply by the
    power of two built as an integer (exact for shifts below the float's exponent range)."""
    t = value.type
    if isinstance(t, IntegerType):
        return arith.ShLIOp(value, convert(shift, t, signed=False)).result
    amount = convert(shift, IntegerType(32), signed=False)
    power = arith.ShLIOp(scalar(1, IntegerType(32)), amount).result
    assert isinstance(t, AnyFloat)
    return arith.MulfOp(value, arith.UIToFPOp(power, t).result).result


# --------------------------------------------------------------------------- linalg.generic


def dims(n: int, *positions: int) -> AffineMap:
    """The projection `(d0..d{n-1}) -> (d{positions})`."""
    return AffineMap(n, 0, tuple(AffineExpr.dimension(p) for p in positions))


Body = Callable[..., Sequence[SSAValue]]


def generic(
    ins: Sequence[SSAValue],
    outs: Sequence[SSAValue],
    maps: Sequence[AffineMap],
    reduced: Sequence[int],
    body: Body,
) -> list[SSAValue]:
    """A `linalg.generic` whose loops in `reduced` are reductions; `body` is called with the
    scalar block arguments (ins, then outs) and returns the values to yield."""
    n = maps[0].num_dims
    iterators = [
        IteratorTypeAttr.reduction() if d in reduced else IteratorTypeAttr.parallel() for d in range(n)
    ]

    @Builder.implicit_region([elem(v) for v in (*ins, *outs)])
    def region(args: tuple[BlockArgument, ...]) -> None:
        YieldOp(*body(*args))

    op = GenericOp(ins, outs, region, [AffineMapAttr(m) for m in maps], iterators, [v.type for v in outs])
    return list(op.results)


def reduce_into(
    ins: Sequence[SSAValue],
    out: SSAValue,
    maps: Sequence[AffineMap],
    reduced: Sequence[int],
    term: Callable[..., SSAValue],
) -> SSAValue:
    """`out += term(ins...)` summed over the `reduced` loops (out is a zero-filled init)."""
    return generic(ins, [out], maps, reduced, lambda *a: [add(a[-1], term(*a[:-1]))])[0]


def map_elements(value: SSAValue, element: Attribute, fn: Callable[[SSAValue], SSAValue]) -> SSAValue:
    """Elementwise `fn` into a new tensor of `element` type (e.g. a final truncf)."""
    ty = value.type
    assert isinstance(ty, TensorType)
    rank = ty.get_num_dims()
    ident = dims(rank, *range(rank))
    out = empty([size(value, a) for a in range(rank)], element)
    return generic([value], [out], [ident, ident], [], lambda v, _out: [fn(v)])[0]

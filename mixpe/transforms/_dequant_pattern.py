"""Recognising "dequantize the weights, then contract" in linalg-on-tensors.

We evaluate the IR *symbolically*: starting from one element of a contraction's
operand, read as an exact function of the loop variables, we walk back through
elementwise generics (any maps, any body), transposes and reshapes until we reach
tensors we cannot look into (function arguments, constants, anything else). The
result is a scalar expression tree whose leaves are "tensor T read at index I".
Matching then is structural (`(uitofp(q) - uitofp(z)) * s`) plus index equalities
(`s` is read at `(n, k floordiv 128)`), which is what proves the rewrite sound
whatever order the frontend emitted its reshapes and casts in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import arith, tensor
from xdsl.dialects.linalg import ops as linalg
from xdsl.dialects.builtin import (
    AnyFloat,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    TensorType,
)
from xdsl.ir import Attribute, BlockArgument, Operation, OpResult, SSAValue
from xdsl.ir.affine import AffineBinaryOpExpr, AffineBinaryOpKind, AffineConstantExpr, AffineDimExpr, AffineExpr

from mixpe.dialects.linalg_named import element_type
from mixpe.transforms._index_algebra import Ix, NotAffine, delinearize, linearize


class Unsupported(Exception):
    """Why a value cannot be traced or matched; the message becomes the pass remark."""


# ------------------------------------------------------------------ expression trees


@dataclass(frozen=True)
class Leaf:
    """Element `index` of an opaque tensor `value`."""

    value: SSAValue = field(compare=False)
    index: tuple[Ix, ...]
    key: int = 0  # identity of `value`, so leaves compare by the tensor they read

    @staticmethod
    def of(value: SSAValue, index: tuple[Ix, ...]) -> Leaf:
        return Leaf(value, index, id(value))

    @property
    def type(self) -> Attribute:
        ty = self.value.type
        assert isinstance(ty, TensorType)
        return ty.get_element_type()


@dataclass(frozen=True)
class Const:
    value: float | int
    type: Attribute


@dataclass(frozen=True)
class Node:
    """A scalar arith/math op applied to sub-expressions."""

    name: str
    args: tuple[Expr, ...]
    type: Attribute


Expr = Leaf | Const | Node


# ------------------------------------------------------------------ index helpers


def apply_map(results: tuple[AffineExpr, ...], dims: tuple[Ix, ...], zero: Ix) -> tuple[Ix, ...]:
    return tuple(_affine(r, dims, zero) for r in results)


def _affine(e: AffineExpr, dims: tuple[Ix, ...], zero: Ix) -> Ix:
    if isinstance(e, AffineDimExpr):
        return dims[e.position]
    if isinstance(e, AffineConstantExpr):
        return zero + Ix._make({}, e.value, zero._ext())
    if isinstance(e, AffineBinaryOpExpr):
        lhs = _affine(e.lhs, dims, zero)
        if e.kind == AffineBinaryOpKind.Add:
            return lhs + _affine(e.rhs, dims, zero)
        if not isinstance(e.rhs, AffineConstantExpr):
            raise Unsupported(f"non-constant factor in affine map expression {e}")
        c = e.rhs.value
        if e.kind == AffineBinaryOpKind.Mul:
            return lhs.scale(c)
        if e.kind == AffineBinaryOpKind.FloorDiv:
            return lhs.divmod(c)[0]
        if e.kind == AffineBinaryOpKind.Mod:
            return lhs.divmod(c)[1]
    raise Unsupported(f"unsupported affine expression {e}")


def static_shape(value: SSAValue) -> tuple[int, ...]:
    ty = value.type
    if not isinstance(ty, TensorType):
        raise Unsupported(f"{ty} is not a tensor")
    shape = tuple(ty.get_shape())
    if any(d < 0 for d in shape):
        raise Unsupported("dynamic shapes in the dequantization are not supported")
    return shape


# ------------------------------------------------------------------ tracing


_SCALAR_OPS = {
    arith.ExtUIOp, arith.ExtSIOp, arith.ExtFOp, arith.TruncFOp, arith.TruncIOp,
    arith.UIToFPOp, arith.SIToFPOp, arith.SubfOp, arith.SubiOp, arith.MulfOp,
    arith.MuliOp, arith.AddfOp, arith.AddiOp, arith.NegfOp,
}  # fmt: skip


@dataclass
class Tracer:
    """Walks producers of an element; `visited` collects the ops the expression used."""

    zero: Ix
    visited: list[Operation] = field(default_factory=list)

    def trace(self, value: SSAValue, index: tuple[Ix, ...]) -> Expr:
        owner = value.owner if isinstance(value, OpResult) else None
        handler = _HANDLERS.get(type(owner)) if owner is not None else None
        if owner is None or handler is None:
            return Leaf.of(value, index)
        try:
            expr = handler(self, owner, value, index)
        except NotAffine as e:
            raise Unsupported(f"'{owner.name}' reshapes the weights inexactly: {e}") from e
        self.visited.append(owner)
        return expr

    def _expand(self, op: tensor.ExpandShapeOp, value, index):
        out = static_shape(op.result)
        src_index = tuple(
            linearize(tuple(index[i] for i in group), tuple(out[i] for i in group))
            for group in _groups(op.reassociation)
        )
        return self.trace(op.src, src_index)

    def _collapse(self, op: tensor.CollapseShapeOp, value, index):
        src = static_shape(op.src)
        src_index: list[Ix] = []
        for flat, group in zip(index, _groups(op.reassociation)):
            src_index.extend(delinearize(flat, tuple(src[i] for i in group)))
        return self.trace(op.src, tuple(src_index))

    def _extract_slice(self, op: tensor.ExtractSliceOp, value, index):
        """A static, rank-preserving slice: source index = offset + stride * index."""
        offsets, strides = op.static_offsets.get_values(), op.static_strides.get_values()
        src_rank = len(static_shape(op.source))
        if op.offsets or op.strides or len(index) != src_rank or any(v < 0 for v in (*offsets, *strides)):
            raise Unsupported("a dynamic or rank-reducing tensor.extract_slice in the weight computation")
        ext = self.zero._ext()
        src_index = tuple(i.scale(st) + Ix.const_(off, ext) for i, off, st in zip(index, offsets, strides))
        return self.trace(op.source, src_index)

    def _transpose(self, op: linalg.TransposeOp, value, index):
        perm = op.permutation.get_values()
        src_index = [self.zero] * len(perm)
        for i, p in enumerate(perm):
            src_index[p] = index[i]
        return self.trace(op.inputs[0], tuple(src_index))

    def _constant(self, op: arith.ConstantOp, value, index):
        attr = op.value
        if isinstance(attr, DenseIntOrFPElementsAttr) and attr.is_splat():
            splat = attr.get_values()[0]
            if isinstance(splat, int | float):  # not complex
                return Const(splat, element_type(value.type))
        return Leaf.of(value, index)

    def _generic(self, op: linalg.GenericOp, value, index):
        if any(str(it.data) != "parallel" for it in op.iterator_types.data):
            raise Unsupported("a reduction inside the weight computation")
        res_no = op.results.index(value)
        maps = [m.data for m in op.indexing_maps.data]
        out_map = maps[len(op.inputs) + res_no]
        dims: list[Ix | None] = [None] * out_map.num_dims
        for pos, r in enumerate(out_map.results):
            if not isinstance(r, AffineDimExpr):
                raise Unsupported("elementwise op with a non-permutation output map")
            dims[r.position] = index[pos]
        loop_index = tuple(d for d in dims if d is not None)
        if len(loop_index) != len(dims):
            raise Unsupported("elementwise op whose output does not cover every loop")
        block = op.body.block
        _decline_gather(op)
        env: dict[SSAValue, Expr] = {}
        for i, (operand, arg) in enumerate(zip(op.inputs, block.args)):
            if arg.uses:
                env[arg] = self.trace(operand, apply_map(tuple(maps[i].results), loop_index, self.zero))
        return self.scalar(block, env, res_no)

    def scalar(self, block, env: dict[SSAValue, Expr], res_no: int) -> Expr:
        """Turns a linalg body into an expression over the traced inputs."""
        for body_op in block.ops:
            if isinstance(body_op, linalg.YieldOp):
                return self._read(env, body_op.operands[res_no])
            if isinstance(body_op, arith.ConstantOp):
                attr = body_op.value
                assert isinstance(attr, IntegerAttr | FloatAttr)  # a scalar in a linalg body
                env[body_op.result] = Const(attr.value.data, body_op.result.type)
                continue
            if type(body_op) not in _SCALAR_OPS:
                raise Unsupported(f"'{body_op.name}' in the weight computation")
            args = tuple(self._read(env, o) for o in body_op.operands)
            env[body_op.results[0]] = Node(body_op.name, args, body_op.results[0].type)
        raise Unsupported("linalg body without yield")

    @staticmethod
    def _read(env: dict[SSAValue, Expr], value: SSAValue) -> Expr:
        if value not in env:
            if isinstance(value, BlockArgument):
                raise Unsupported("the computation reads its output tensor")
            raise Unsupported("the body uses a value defined outside it")
        return env[value]


def _decline_gather(op: linalg.GenericOp) -> None:
    """A `tensor.extract` at (loop position, computed index) in an elementwise body reads
    another tensor row by row through an index tensor: a gather. GPTQ act-order (`desc_act=True`)
    exports read scales and zero points through the constant `g_idx` this way, so the groups
    are not consecutive k."""
    positional = {o.result for o in op.body.block.ops if isinstance(o, linalg.IndexOp)}
    extracts = [o for o in op.body.block.ops if isinstance(o, tensor.ExtractOp)]
    if not any(positional & set(o.indices) for o in extracts):
        return  # e.g. a lookup table read at a weight code (NF4): declined later as it is
    constant_index = any(
        isinstance(v, OpResult) and isinstance(v.owner, arith.ConstantOp) for v in op.inputs
    )
    source = "a constant index tensor (GPTQ act-order g_idx, desc_act=True)" if constant_index else "a computed index"
    raise Unsupported(
        f"weight-side data is gathered through {source} ('tensor.extract' in a linalg.generic), so "
        "quantization groups are not proven to be consecutive k; re-export with desc_act=False "
        "(or GPTQ static_groups=True), or permute K offline (weight rows and activation columns alike)"
    )


def _groups(reassociation) -> list[list[int]]:
    return [[int(i.value.data) if hasattr(i, "value") else int(i.data) for i in g.data] for g in reassociation.data]


_HANDLERS = {
    tensor.ExpandShapeOp: Tracer._expand,
    tensor.CollapseShapeOp: Tracer._collapse,
    linalg.TransposeOp: Tracer._transpose,
    tensor.ExtractSliceOp: Tracer._extract_slice,
    linalg.GenericOp: Tracer._generic,
    arith.ConstantOp: Tracer._constant,
}


# ------------------------------------------------------------------ matching


@dataclass(frozen=True)
class IntSource:
    """An integer tensor read through a conversion; `signed` comes from the IR's cast."""

    leaf: Leaf
    signed: bool


@dataclass(frozen=True)
class Dequant:
    """W = S*(Q - Z) | Q*S - Z | S*Q, with the tensors and how they were read; `scale` is None
    for the plain integer weights of an integer GEMM (i8 x i8 -> i32)."""

    q: IntSource
    scale: Leaf | None
    zero: Leaf | IntSource | None
    mode: str  # original | rescale | symmetric


def strip_float_casts(e: Expr) -> Expr:
    while isinstance(e, Node) and e.name in ("arith.extf", "arith.truncf"):
        e = e.args[0]
    return e


def int_source(e: Expr) -> IntSource | None:
    """`uitofp(extui(q))`, `sitofp(q)` ...: an integer tensor converted to float (or widened)."""
    signed: bool | None = None
    while isinstance(e, Node) and e.name in (
        "arith.uitofp", "arith.sitofp", "arith.extui", "arith.extsi",
    ):  # fmt: skip
        # The innermost conversion (the last one seen) decides how stored bits are read.
        signed = e.name in ("arith.sitofp", "arith.extsi")
        e = e.args[0]
    if isinstance(e, Leaf) and isinstance(e.type, IntegerType) and signed is not None:
        return IntSource(e, signed)
    return None


def float_leaf(e: Expr) -> Leaf | None:
    e = strip_float_casts(e)
    return e if isinstance(e, Leaf) and isinstance(e.type, AnyFloat) else None


def match_dequant(e: Expr) -> Dequant:
    """The dequantization forms frontends emit, or Unsupported saying what was found."""
    e = strip_float_casts(e)
    if isinstance(e, Node) and e.name == "arith.mulf":
        for centered, s in (e.args, e.args[::-1]):
            scale = float_leaf(s)
            if scale is None:
                continue
            centered = strip_float_casts(centered)
            if (q := int_source(centered)) is not None:
                return Dequant(q, scale, None, "symmetric")
            if isinstance(centered, Node) and centered.name == "arith.subf":
                q = int_source(strip_float_casts(centered.args[0]))
                z = int_source(strip_float_casts(centered.args[1])) or float_leaf(centered.args[1])
                if q is not None and z is not None:
                    return Dequant(q, scale, z, "original")
            if isinstance(centered, Node) and centered.name in ("arith.sitofp", "arith.uitofp"):
                inner = centered.args[0]
                if isinstance(inner, Node) and inner.name == "arith.subi":
                    q, z = int_source(inner.args[0]), int_source(inner.args[1])
                    if q is not None and z is not None:
                        return Dequant(q, scale, z, "original")
    if isinstance(e, Node) and e.name == "arith.subf":
        prod, z = strip_float_casts(e.args[0]), float_leaf(e.args[1])
        if z is not None and isinstance(prod, Node) and prod.name == "arith.mulf":
            for qe, s in (prod.args, prod.args[::-1]):
                q, scale = int_source(strip_float_casts(qe)), float_leaf(s)
                if q is not None and scale is not None:
                    return Dequant(q, scale, z, "rescale")
    raise Unsupported(f"the weights are not dequantized integers ({describe(e)})")


def describe(e: Expr, depth: int = 3) -> str:
    """A short rendering of an expression, for remarks."""
    if isinstance(e, Leaf):
        return f"tensor<{e.type}>"
    if isinstance(e, Const):
        return str(e.value)
    if depth == 0:
        return "..."
    args = ", ".join(describe(a, depth - 1) for a in e.args)
    return f"{e.name.removeprefix('arith.')}({args})"

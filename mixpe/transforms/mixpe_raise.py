"""`mixpe-raise`: find "dequantize the weights, then matmul" and make it one `mixpe.mpgemm`.

Works on what frontends emit (torch-mlir's split elementwise generics with
expand/collapse reshapes and constant-0 broadcast maps, a transpose for `[N,K]`
weights, fill + mixed-precision `linalg.matmul`; IREE-style fused generics with
3-D `[N,G,g]` weights). Each candidate contraction is evaluated symbolically (see
`_dequant_pattern`) and raised only when the match *proves* that scales and zero
points are constant over groups of `g` consecutive k and that the accumulator
starts at zero. Anything else is left untouched with a remark saying why.

Integer activations: `sitofp(xq) [* sx]` with xq of at most 8 bits and sx per token (read at
m) or per tensor is raised with xq itself as the mpgemm's activations (exact integer partial
sums); sx is applied after the GEMM as a per-row f32 multiply (`_scale_rows`), not folded
into the epilogue, whose scales are per (group, channel). Integer GEMMs (i8 x i8 -> i32,
`torch._int_mm`, `linalg.quantized_matmul`) raise with unit f64 scales and convert back to
i32 exactly; the float scales a frontend applies afterwards stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects import arith, tensor
from xdsl.dialects.linalg import ops as linalg
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.dialects.builtin import (
    AnyFloat,
    ArrayAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    TensorType,
    f32,
    f64,
    i64,
)
from xdsl.ir import Operation, OpResult, SSAValue
from xdsl.ir.affine import AffineDimExpr, AffineExpr, AffineMap
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.transforms.dead_code_elimination import is_trivially_dead

from mixpe.diagnostics import inherit_location, remark
from mixpe.dialects.linalg_named import NAMED_OPS, element_type
from mixpe.dialects.mixpe import (
    MpGemmOp,
    Signedness,
    WeightFormat,
    WeightLayout,
    ZeroPointMode,
)
from mixpe.reference import ir_constants
from mixpe.transforms import _linalg_build as lb
from mixpe.transforms._act_quant import quantize_per_token, rescale_per_token
from mixpe.transforms._dequant_pattern import (
    Const,
    Dequant,
    Expr,
    IntSource,
    Leaf,
    Node,
    Tracer,
    Unsupported,
    apply_map,
    int_source,
    match_dequant,
    static_shape,
    strip_float_casts,
)
from mixpe.transforms._index_algebra import Ix, NotAffine, linearize

NAME = "mixpe-raise"
_UNKNOWN_EXTENT = 1 << 62  # dynamic M: never divided, so any bound works


@dataclass(frozen=True)
class View:
    """How to present a leaf tensor as the 2-D operand mpgemm wants."""

    leaf: Leaf
    reshape: tuple[str, list[list[int]], tuple[int, ...]] | None  # (kind, reassociation, result shape)


def views(leaf: Leaf) -> list[tuple[tuple[Ix, Ix], View]]:
    """The 2-D readings of a leaf: itself, or a collapse of a 3-D / expand of a 1-D tensor."""
    shape = static_shape(leaf.value) if len(leaf.index) != 2 else tuple(lb.shape(leaf.value))
    idx = leaf.index
    if len(idx) == 2:
        return [((idx[0], idx[1]), View(leaf, None))]
    if len(idx) == 3:
        out = []
        for assoc in ([[0], [1, 2]], [[0, 1], [2]]):
            flat = tuple(linearize(tuple(idx[i] for i in g), tuple(shape[i] for i in g)) for g in assoc)
            new_shape = tuple(_prod(shape[i] for i in g) for g in assoc)
            out.append((flat, View(leaf, ("collapse", assoc, new_shape))))
        return out
    if len(idx) == 1:
        zero = idx[0].scale(0)
        return [
            ((idx[0], zero), View(leaf, ("expand", [[0, 1]], (shape[0], 1)))),
            ((zero, idx[0]), View(leaf, ("expand", [[0, 1]], (1, shape[0])))),
        ]
    return []


def _prod(values) -> int:
    p = 1
    for v in values:
        p *= v
    return p


@dataclass
class Contraction:
    """The parts of a matmul-like linalg op: which loop is m, n, and how k is spelled."""

    op: LinalgStructuredOperation
    x: View
    q: View
    scale: View | None  # None: an integer GEMM (i8 x i8 -> i32), no weight scales
    zero: View | None
    dequant: Dequant
    layout: WeightLayout
    group: int
    k: int
    x_int: bool
    x_scale: Leaf | Const | None = None  # integer activations times a per-token/per-tensor scale
    m_var: str = "d0"  # the loop variable of m, in the index expressions of `x_scale`


@dataclass(frozen=True)
class IntActivations:
    """Activations `sitofp(xq) [* sx]`: xq an integer tensor of at most 8 bits (so the
    conversion to any float type is exact) read at (m, k), sx read at m only."""

    leaf: Leaf
    scale: Leaf | Const | None


def _strip_extf(e):
    while isinstance(e, Node) and e.name == "arith.extf":  # exact widening only
        e = e.args[0]
    return e


def _int_activations(value: SSAValue, index: tuple[Ix, ...], loops: _Loops) -> IntActivations | None:
    """Recognises float activations that are scaled 8-bit integers, `sitofp(xq) * sx` with sx
    per token (read at m) or per tensor, and integer activations sign-extended from 8 bits
    (`extsi(xq)`), through elementwise generics and reshapes."""
    try:
        e = Tracer(loops.zero).trace(value, index)
    except Unsupported:
        return None
    e = strip_float_casts(e)  # a rounding of the scaled value is what the integer path avoids
    pairs = [(e, None)]
    if isinstance(e, Node) and e.name == "arith.mulf":
        pairs = [(e.args[0], e.args[1]), (e.args[1], e.args[0])]
    for xe, se in pairs:
        src = int_source(_strip_extf(xe))
        if src is None or not src.signed or not isinstance(src.leaf.type, IntegerType) or src.leaf.type.width.data > 8:
            continue
        if se is None:
            return IntActivations(src.leaf, None)
        se = _strip_extf(se)
        if isinstance(se, Const) and isinstance(se.type, AnyFloat):
            return IntActivations(src.leaf, se)
        if isinstance(se, Leaf) and isinstance(se.type, AnyFloat):
            used = {d.var for ix in se.index for d, _ in ix.terms}
            if used <= {loops.m_var}:
                return IntActivations(src.leaf, se)
    return None


def _is_zero_init(value: SSAValue) -> bool:
    owner = value.owner if isinstance(value, OpResult) else None
    if not isinstance(owner, linalg.FillOp):
        return False
    cst = owner.inputs[0].owner if isinstance(owner.inputs[0], OpResult) else None
    if not isinstance(cst, arith.ConstantOp):
        return False
    attr = cst.value
    assert isinstance(attr, IntegerAttr | FloatAttr)  # a fill value is a scalar
    return float(attr.value.data) == 0.0


def _x_element(e, x_leaf_key: int) -> tuple[bool, bool]:
    """(is the activation, is it integer): `x`, `extf(x)`, `sitofp(x)`, `extsi(x)`."""
    while isinstance(e, Node) and e.name in ("arith.extf", "arith.sitofp", "arith.extsi"):
        e = e.args[0]
    if isinstance(e, Leaf) and e.key == x_leaf_key:
        return True, isinstance(e.type, IntegerType)
    return False, False


def analyse(op: LinalgStructuredOperation) -> Contraction:
    """Proves `op` computes X @ dequant(Q), or raises Unsupported with the reason."""
    n_in = len(op.inputs)
    if n_in < 2 or len(op.outputs) != 1:
        raise Unsupported("not a contraction with one output")
    out_ty = op.outputs[0].type
    if not isinstance(out_ty, TensorType) or out_ty.get_num_dims() != 2:
        raise Unsupported("the result is not a 2-D tensor (batched contractions are not raised)")
    maps = [m.data for m in op.get_indexing_maps().data]
    iters = [str(it.data) for it in op.get_iterator_types().data]
    out_map = maps[n_in]
    if not all(isinstance(r, AffineDimExpr) for r in out_map.results):
        raise Unsupported("the output map is not a projection")
    m_dim, n_dim = (r.position for r in out_map.results if isinstance(r, AffineDimExpr))
    red = [i for i, it in enumerate(iters) if it == "reduction"]
    if not red or sorted([m_dim, n_dim, *red]) != list(range(len(iters))):
        raise Unsupported("not a 2-D contraction (extra parallel loops or no reduction)")

    extents: dict[str, int] = {}
    for operand, amap in zip((*op.inputs, *op.outputs), maps):
        if not isinstance(operand.type, TensorType):
            continue
        for size, r in zip(operand.type.get_shape(), amap.results):
            if isinstance(r, AffineDimExpr):
                extents.setdefault(f"d{r.position}", size if size >= 0 else _UNKNOWN_EXTENT)
    if any(extents.get(f"d{d}", _UNKNOWN_EXTENT) == _UNKNOWN_EXTENT for d in red):
        raise Unsupported("the reduction size is dynamic")
    dims = tuple(Ix.var(f"d{i}", extents) for i in range(len(iters)))
    loops = _Loops(dims, dims[0].scale(0), dims[m_dim], dims[n_dim], red, extents, f"d{m_dim}")

    failures = []
    for xi in range(n_in):
        try:
            return _analyse_assignment(op, maps, loops, xi)
        except Unsupported as e:
            failures.append(str(e))
    # Prefer the reason from an assignment whose weights did look dequantized.
    informative = [r for r in failures if "not dequantized" not in r]
    raise Unsupported(informative[0] if informative else failures[-1])


@dataclass(frozen=True)
class _Loops:
    dims: tuple[Ix, ...]
    zero: Ix
    m: Ix
    n: Ix
    red: list[int]
    extents: dict[str, int]
    m_var: str


def _analyse_assignment(op: LinalgStructuredOperation, maps, loops: _Loops, xi: int) -> Contraction:
    """Reads input `xi` as the activations and every other input as weight-side data."""
    tracer = Tracer(loops.zero)
    n_in = len(op.inputs)
    block = op.body.block
    x_leaf = Leaf.of(op.inputs[xi], apply_map(tuple(maps[xi].results), loops.dims, loops.zero))
    env: dict[SSAValue, Expr] = {block.args[xi]: x_leaf, block.args[n_in]: Leaf.of(op.outputs[0], ())}
    for i in range(n_in):
        if i != xi and block.args[i].uses:
            index = apply_map(tuple(maps[i].results), loops.dims, loops.zero)
            env[block.args[i]] = tracer.trace(op.inputs[i], index)
    body = tracer.scalar(block, env, 0)

    # body == out + a * b
    terms = body.args if isinstance(body, Node) and body.name in ("arith.addf", "arith.addi") else ()
    rest = [a for a in terms if not (isinstance(a, Leaf) and a.index == ())]
    if (len(terms) != 2 or len(rest) != 1 or not isinstance(rest[0], Node)
            or rest[0].name not in ("arith.mulf", "arith.muli")):
        raise Unsupported("the body is not an accumulation out + a*b")
    for a, b in (rest[0].args, rest[0].args[::-1]):
        is_x, x_int = _x_element(a, x_leaf.key)
        if is_x:
            break
    else:
        raise Unsupported("neither product operand is the plain activation")
    if rest[0].name == "arith.muli":
        # An integer GEMM (torch._int_mm, i8 x i8 -> i32): integer weights, no dequantization.
        q_src = int_source(b)
        if q_src is None or not x_int:
            raise Unsupported("an integer contraction whose operands are not both widened integer tensors")
        dq = Dequant(q_src, None, None, "symmetric")
    else:
        dq = match_dequant(b)
    x_scale = None
    narrow = x_int and isinstance(x_leaf.type, IntegerType) and x_leaf.type.width.data <= 8
    # float activations that are scaled integers, or integers widened (extsi) before the GEMM
    if not narrow and (int_x := _int_activations(op.inputs[xi], x_leaf.index, loops)) is not None:
        x_leaf, x_int, x_scale = int_x.leaf, True, int_x.scale

    # k as the activations spell it; it must enumerate 0..K-1 exactly once.
    k_ix, x_view = None, None
    for (i_m, i_k), view in views(x_leaf):
        if i_m == loops.m and _is_bijection(i_k, loops.red, loops.extents):
            k_ix, x_view = i_k, view
            break
    if k_ix is None:
        if any(loops.n in pair for pair, _ in views(x_leaf)):
            raise Unsupported(
                "the dequantized weights are the left operand (Y = W·X), so the contraction "
                "runs over the weights' output dimension; only Y = X·W is raised"
            )
        raise Unsupported("the activations are not read as X[m, k] over the reduction loops")
    assert x_view is not None  # found together with k_ix
    k_size = _prod(loops.extents[f"d{d}"] for d in loops.red)

    q_view, layout = _weight_view(dq, k_ix, loops.n)
    if dq.scale is None:
        group, s_view = k_size, None
    else:
        group, s_view = _param_view(dq.scale, k_ix, loops.n, layout, k_size, "scales")
    z_view = None
    if dq.zero is not None:
        z_leaf = dq.zero.leaf if isinstance(dq.zero, IntSource) else dq.zero
        z_group, z_view = _param_view(z_leaf, k_ix, loops.n, layout, k_size, "zero points")
        if z_group != group:
            raise Unsupported(f"scales use groups of {group} but zero points groups of {z_group}")
    return Contraction(op, x_view, q_view, s_view, z_view, dq, layout, group, k_size, x_int, x_scale, loops.m_var)


def _weight_view(dq: Dequant, k_ix: Ix, n_ix: Ix) -> tuple[View, WeightLayout]:
    """The integer weights as Q[k, n] (`kn`) or Q[n, k] (`nk`), or Unsupported."""
    for (a, b), view in views(dq.q.leaf):
        if (a, b) == (k_ix, n_ix):
            return view, WeightLayout.KN
        if (a, b) == (n_ix, k_ix):
            return view, WeightLayout.NK
    raise Unsupported(
        "the integer weights are not read as Q[k, n] or Q[n, k]: the contraction does not "
        "run over the weights' input dimension"
    )


def _is_bijection(k: Ix, red: list[int], extents: dict[str, int]) -> bool:
    """k = sum of reduction loops in mixed radix, each exactly once: 0..K-1, no repeats."""
    red = [r for r in red if extents[f"d{r}"] > 1]  # a unit loop contributes nothing
    if k.const != 0 or len(k.terms) != len(red):
        return False
    expected = 1
    for digit, coeff in sorted(k.terms, key=lambda t: t[1]):
        if digit.div != 1 or digit.mod is not None or coeff != expected:
            return False
        expected *= extents[digit.var]
    return {d.var for d, _ in k.terms} == {f"d{r}" for r in red}


def _param_view(leaf: Leaf, k_ix: Ix, n_ix: Ix, layout: WeightLayout, k_size: int, what: str):
    """Finds g such that the parameter is read at (k floordiv g, n) (kn) or (n, k floordiv g) (nk).

    g = 1 (a parameter per k) is declined: it is valid but leaves nothing to hoist, and it is
    what a ragged last group looks like once the frontend has broadcast the scales to K."""
    per_k = False
    for (a, b), view in views(leaf):
        shape = view.reshape[2] if view.reshape else tuple(lb.shape(leaf.value))
        groups = shape[0] if layout == WeightLayout.KN else shape[1]
        if groups <= 0 or k_size % groups:
            continue
        g = k_size // groups
        try:
            kg = k_ix.divmod(g)[0]
        except NotAffine:
            continue
        want = (kg, n_ix) if layout == WeightLayout.KN else (n_ix, kg)
        if (a, b) == want:
            if g == 1 and k_size > 1:
                per_k = True
                continue
            return g, view
    for (a, b), _ in views(leaf):
        group_ix = a if layout == WeightLayout.KN else b
        if len(group_ix.terms) == 1 and group_ix.const == 0:
            (digit, coeff), = group_ix.terms
            if coeff == 1 and digit.div > 1 and k_size % digit.div:
                raise Unsupported(
                    f"group size does not divide K (K={k_size}, groups of {digit.div}): the last "
                    "group would be partial, and mixpe groups are uniform"
                )
    if per_k:
        raise Unsupported(
            f"the {what} change with every k (group size 1, K={k_size}): nothing to hoist; if they "
            "were broadcast from fewer groups (e.g. a ragged last group cut by an op mixpe cannot "
            "look through), the group size does not divide K"
        )
    expect = "[G, N]" if layout == WeightLayout.KN else "[N, G]"
    raise Unsupported(
        f"the {what} are not constant over groups of consecutive k with the weights' layout "
        f"({layout.value}: expected {what} {expect} read at k floordiv g)"
    )


# ------------------------------------------------------------------ rewriting


def _materialize(view: View, rewriter: PatternRewriter, before: Operation) -> SSAValue:
    if view.reshape is None:
        return view.leaf.value
    kind, assoc, shape = view.reshape
    elem = element_type(view.leaf.value.type)
    result_type = TensorType(elem, shape)
    reassoc = ArrayAttr([ArrayAttr([IntegerAttr(i, i64) for i in g]) for g in assoc])
    if kind == "collapse":
        new = tensor.CollapseShapeOp.build(
            operands=[view.leaf.value], result_types=[result_type], properties={"reassociation": reassoc}
        )
    else:
        new = tensor.ExpandShapeOp.build(
            operands=[view.leaf.value, []],
            result_types=[result_type],
            properties={"reassociation": reassoc, "static_output_shape": DenseArrayBase.from_list(i64, shape)},
        )
    inherit_location([new], before)
    rewriter.insert(new, InsertPoint.before(before))
    return new.result


def _signedness(c: Contraction, bits: int, width: int) -> bool:
    """docs/design.md §5: the IR decides at full width; narrower values with zero points are unsigned."""
    if bits == width or not c.dequant.q.signed:
        return c.dequant.q.signed
    return c.dequant.mode == "symmetric"


def _dead(op: Operation) -> bool:
    """Unused, and free of effects: xDSL marks no linalg op pure, but on tensors they are."""
    if any(r.uses for r in op.results):
        return False
    if isinstance(op, linalg.GenericOp | linalg.FillOp | linalg.TransposeOp | linalg.MatmulOp):
        return bool(op.results) and all(isinstance(o.type, TensorType) for o in op.operands[len(op.inputs):])
    return is_trivially_dead(op)


def _erase_dead(value: SSAValue, rewriter: PatternRewriter) -> None:
    owner = value.owner if isinstance(value, OpResult) else None
    if owner is None or not _dead(owner):
        return
    operands = list(owner.operands)
    rewriter.erase(owner)
    for operand in operands:
        _erase_dead(operand, rewriter)


def _int_accumulator(group: int, x_bits: int, w_bits: int, signed: bool) -> IntegerType:
    """i32 when |P| <= g·max|x|·max|w| provably fits, else i64 (the verifier's bound)."""
    max_w = (1 << (w_bits - 1)) if signed else (1 << w_bits) - 1
    bound = group * (1 << (x_bits - 1)) * max_w
    return IntegerType(32) if bound < (1 << 31) else IntegerType(64)


class RaiseContraction(RewritePattern):
    def __init__(self, weight_bits: int | None, act_quant: str = "none"):
        self.weight_bits = weight_bits
        self.act_quant = act_quant

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, NAMED_OPS) and any(_from_integers(v) for v in op.inputs):
            # e.g. an einsum exported as a batch-1 batch_matmul of dequantized weights
            remark(NAME, op, f"not raised: '{op.name}' is not raised (only 2-D contractions are); "
                             "it runs dense on the array")
            return
        if not isinstance(op, linalg.MatmulOp | linalg.GenericOp):
            return
        if isinstance(op, linalg.GenericOp) and ("reduction" not in {str(i.data) for i in op.iterator_types.data}
                                                 or len(op.inputs) < 2 or len(op.outputs) != 1):
            return  # elementwise ops, norms, softmax, max+argmax: not contractions, nothing to say
        try:
            c = analyse(op)
            self._check_and_rewrite(c, rewriter)
        except Unsupported as e:
            remark(NAME, op, f"not raised: {e}")

    def _check_and_rewrite(self, c: Contraction, rewriter: PatternRewriter) -> None:
        op = c.op
        if not _is_zero_init(op.outputs[0]):
            raise Unsupported("the accumulator does not start at zero (a bias or running sum in the init)")
        storage = c.dequant.q.leaf.type
        assert isinstance(storage, IntegerType)  # int_source reads integer tensors only
        width = storage.width.data
        bits = self.weight_bits or width
        if bits > width:
            raise Unsupported(f"weight-bits={bits} exceeds the {width}-bit storage {storage}")
        if bits > 8:
            raise Unsupported(f"{bits}-bit weights: the mixpe PEs take at most 8")
        if isinstance(c.dequant.zero, IntSource) and c.dequant.zero.signed != c.dequant.q.signed and bits == width:
            raise Unsupported("weights and zero points are read with different signedness")
        signed = _signedness(c, bits, width)
        if signed and bits < 2:
            raise Unsupported("1-bit signed weights")
        out_elem = acc = element_type(op.outputs[0].type)
        if c.scale is None:
            if not isinstance(out_elem, IntegerType):
                raise Unsupported(f"an integer contraction with a {out_elem} result")
            if c.zero is None and bits == width and not _dequantized_after(op):
                # no scales after it, no zero point, no narrower PE to use: not a quantized linear
                raise Unsupported(f"a plain {width}-bit integer GEMM (no scales or zero points follow) runs "
                                  f"dense on the array; give weight-bits=N if the weights hold N-bit values")
        elif not isinstance(out_elem, AnyFloat):
            raise Unsupported(f"the result {out_elem} is not a float (the scales make it one)")
        if c.x_int:
            x_elem = c.x.leaf.type
            assert isinstance(x_elem, IntegerType)  # x_int: integer activations
            acc = _int_accumulator(c.group, x_elem.width.data, bits, signed)

        modes = {
            "original": ZeroPointMode.ORIGINAL,
            "rescale": ZeroPointMode.RESCALE,
            "symmetric": ZeroPointMode.SYMMETRIC,
        }
        mode = modes[c.dequant.mode]
        x = _materialize(c.x, rewriter, op)
        q = _materialize(c.q, rewriter, op)
        z = _materialize(c.zero, rewriter, op) if c.zero else None
        result_type = op.results[0].type
        assert isinstance(result_type, TensorType)  # analyse checked the output is a 2-D tensor
        row_scales: Leaf | Const | SSAValue | None = c.x_scale
        s = None if c.scale is None else _materialize(c.scale, rewriter, op)
        with ImplicitBuilder(rewriter):
            if s is None:
                # Integer GEMM: unit scales, so the f64 epilogue returns P itself, exactly.
                s = _unit_scales(result_type.get_shape()[1], c.layout)
                result_type = TensorType(f64, result_type.get_shape())
            if self.act_quant == "per-token" and not c.x_int:
                x, row_scales = quantize_per_token(x)
                acc = _int_accumulator(c.group, 8, bits, signed)  # the i8 quantized activations
            if row_scales is not None:
                result_type = TensorType(f32, result_type.get_shape())
        gemm = MpGemmOp(
            x, q, s, z, result_type,
            group_size=c.group, weight_bits=bits, signedness=signed, layout=c.layout,
            zp_mode=mode, acc_type=acc, weight_format=WeightFormat.INT,
        )
        old_operands = list(op.operands)
        inherit_location([gemm], op)
        rewriter.insert(gemm, InsertPoint.before(op))
        with ImplicitBuilder(rewriter):
            if c.scale is None:
                # integer GEMM: out_elem checked above; acc is out_elem or _int_accumulator's
                assert isinstance(out_elem, IntegerType) and isinstance(acc, IntegerType)
                y = _exact_to_int(gemm.result, out_elem, acc)
            elif isinstance(row_scales, SSAValue):  # act-quant=per-token: sx [M] f32
                y = rescale_per_token(gemm.result, row_scales, out_elem)
            elif row_scales is not None:
                y = _scale_rows(gemm.result, row_scales, c.m_var, out_elem)
            else:
                y = gemm.result
        rewriter.replace(op, [], [y])
        for value in old_operands:
            _erase_dead(value, rewriter)


def _from_integers(value: SSAValue, depth: int = 8) -> bool:
    """Whether a float operand is converted from integers a few ops up (a dequant chain)."""
    owner = value.owner if isinstance(value, OpResult) else None
    if owner is None or depth == 0:
        return False
    if isinstance(owner, linalg.GenericOp) and any(
            isinstance(b, arith.SIToFPOp | arith.UIToFPOp) for b in owner.body.block.ops):
        return True
    if isinstance(owner, linalg.GenericOp | linalg.TransposeOp | tensor.ExpandShapeOp | tensor.CollapseShapeOp):
        return any(_from_integers(v, depth - 1) for v in owner.operands)
    return False


def _dequantized_after(op: Operation) -> bool:
    """Whether the integer result is converted to float by a following generic (the per-channel
    or per-group scales of a W8A8 linear): only then is the integer GEMM a quantized linear."""
    return any(isinstance(u.operation, linalg.GenericOp)
               and any(isinstance(b, arith.SIToFPOp | arith.UIToFPOp) for b in u.operation.body.block.ops)
               for u in op.results[0].uses)


def _unit_scales(n: int, layout: WeightLayout) -> SSAValue:
    """Per-channel scales of 1.0 in f64 ([1,N] kn, [N,1] nk): the epilogue is then exact."""
    shape = [1, n] if layout == WeightLayout.KN else [n, 1]
    return arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(TensorType(f64, shape), [1.0])).result


def _exact_to_int(y: SSAValue, out_elem: IntegerType, acc: IntegerType) -> SSAValue:
    """The f64 result of an integer GEMM back to the frontend's integer type. The values are
    integers below 2^53 in magnitude, so fptosi is exact; through i64 + trunci when the
    accumulator is wider than the result, which wraps exactly as the frontend's sum does."""
    wide = acc if acc.width.data > out_elem.width.data else out_elem

    def body(v: SSAValue) -> SSAValue:
        r = arith.FPToSIOp(v, wide).result
        return r if wide == out_elem else arith.TruncIOp(r, out_elem).result

    return lb.map_elements(y, out_elem, body)


def _affine(ix: Ix, positions: dict[str, int]) -> AffineExpr:
    """An index expression as an affine expression over the dims named in `positions`."""
    expr = None
    for digit, coeff in ix.terms:
        t = AffineExpr.dimension(positions[digit.var])
        if digit.div != 1:
            t = t // digit.div
        if digit.mod is not None:
            t = t % digit.mod
        if coeff != 1:
            t = t * coeff
        expr = t if expr is None else expr + t
    if expr is None:
        return AffineExpr.constant(ix.const)
    return expr + ix.const if ix.const else expr


def _scale_rows(y: SSAValue, scale: Leaf | Const, m_var: str, out_elem) -> SSAValue:
    """out[m,n] = f32(y[m,n] * sx[m]), converted to `out_elem`: the activation scale of integer
    activations, applied after the integer GEMM as a per-row multiply. A per-token sx (read at
    m) is first made an f32 vector [M] (an exact widening), so the multiply has the same form
    as `act-quant=per-token`'s; a per-tensor one is read through a constant map."""
    m = lb.size(y, 0)
    if isinstance(scale, Leaf) and all(not ix.terms for ix in scale.index):
        # per tensor: one broadcast read of the scale in the multiply itself
        ident = lb.dims(2, 0, 1)
        smap = AffineMap(2, 0, tuple(AffineExpr.constant(ix.const) for ix in scale.index))

        def body(v: SSAValue, s: SSAValue, _out: SSAValue) -> list[SSAValue]:
            return [lb.convert(arith.MulfOp(v, lb.convert(s, f32)).result, out_elem)]

        init = lb.empty([m, lb.size(y, 1)], out_elem)
        return lb.generic([y, scale.value], [init], [ident, smap, ident], [], body)[0]
    if isinstance(scale, Const):
        assert isinstance(scale.type, AnyFloat)  # _int_activations accepts float scales only
        value = lb.convert(arith.ConstantOp(FloatAttr(float(scale.value), scale.type)).result, f32)
        init = lb.empty([m], f32)
        sx = linalg.FillOp([value], [init], [init.type]).results[0]
    else:
        smap = AffineMap(1, 0, tuple(_affine(ix, {m_var: 0}) for ix in scale.index))
        sx = lb.generic([scale.value], [lb.empty([m], f32)], [smap, lb.dims(1, 0)], [],
                        lambda v, _out: [lb.convert(v, f32)])[0]
    return rescale_per_token(y, sx, out_elem)


class RaiseQuantizedMatmul(RewritePattern):
    """W8A8 `linalg.quantized_matmul` (i8 x i8 -> i32, scalar zero points az, zw) as a
    per-channel mpgemm: sum_k x·(w - zw) = P - zw·A with unit scales, exact in the f64
    epilogue, converted back to i32. An activation zero point adds

        sum_k (x - az)(w - zw) = sum_k x·(w - zw) - az · colsum_k(w - zw)

    after the GEMM, in i32 (wrapping like the frontend's sum): colsum_k(w) is folded at
    compile time when the weights are constant, else computed by one reduction generic; the
    term is skipped when az is the constant 0."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: linalg.QuantizedMatmulOp, rewriter: PatternRewriter) -> None:
        try:
            x, w, x_zp, w_zp = op.inputs
            out = op.outputs[0]
            if not _is_zero_init(out):
                raise Unsupported("the accumulator does not start at zero (a bias or running sum in the init)")
            if any(lb.elem(v) != IntegerType(8) for v in (x, w)) or lb.elem(out) != IntegerType(32):
                raise Unsupported("only i8 x i8 -> i32 quantized matmuls are raised")
            if x_zp.type != IntegerType(32) or w_zp.type != IntegerType(32):
                raise Unsupported("only i32 zero points are raised")
            m, k = lb.shape(x)
            n = lb.shape(w)[1]
            if k < 0 or n < 0:
                raise Unsupported("the reduction size or N is dynamic")
        except Unsupported as e:
            remark(NAME, op, f"not raised: {e}")
            return
        i32 = IntegerType(32)
        with ImplicitBuilder(rewriter):
            scales = _unit_scales(n, WeightLayout.KN)
            zeros = linalg.FillOp([w_zp], [lb.empty([1, n], i32)], [TensorType(i32, [1, n])]).results[0]
            gemm = MpGemmOp(
                x, w, scales, zeros, TensorType(f64, [m, n]),
                group_size=k, weight_bits=8, signedness=Signedness.SIGNED, layout=WeightLayout.KN,
                zp_mode=ZeroPointMode.ORIGINAL, acc_type=i32, weight_format=WeightFormat.INT,
            )
            y = _exact_to_int(gemm.result, i32, i32)
            if _scalar_constant(x_zp) != 0:
                y = _minus_act_zero_term(y, w, x_zp, w_zp, k, n)
        inherit_location([gemm], op)
        old = list(op.operands)
        rewriter.replace(op, [], [y])
        for value in old:
            _erase_dead(value, rewriter)


def _minus_act_zero_term(y: SSAValue, w: SSAValue, az: SSAValue, zw: SSAValue, k: int, n: int) -> SSAValue:
    """y[m,n] - az·(colsum_k(w)[n] - K·zw), in wrapping i32 like `linalg.quantized_matmul`."""
    i32 = IntegerType(32)
    const = ir_constants.constant_of(w)
    if const is not None:  # constant weights: the column sums are compile-time data
        values = ir_constants.integer_values(const[1], 8, signed=True).sum(axis=0)
        wrapped = ((values + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int64)
        colsum = arith.ConstantOp(
            DenseIntOrFPElementsAttr.from_list(TensorType(i32, [n]), [int(v) for v in wrapped])
        ).result
    else:  # by the vector unit: one reduction over k
        colsum = lb.reduce_into(
            [w], lb.zeros([n], i32), [lb.dims(2, 0, 1), lb.dims(2, 1)], [0],
            lambda v: lb.convert(v, i32, signed=True),
        )
    scalars = [linalg.FillOp([v], [lb.empty([n], i32)], [TensorType(i32, [n])]).results[0] for v in (az, zw)]

    def term(c: SSAValue, a: SSAValue, z: SSAValue, _out: SSAValue) -> list[SSAValue]:
        kz = arith.MuliOp(lb.scalar(k, i32), z).result
        return [arith.MuliOp(a, arith.SubiOp(c, kz).result).result]

    vec = lb.dims(1, 0)
    corr = lb.generic([colsum, *scalars], [lb.empty([n], i32)], [vec, vec, vec, vec], [], term)[0]
    ident = lb.dims(2, 0, 1)
    return lb.generic(
        [y, corr], [lb.empty([lb.size(y, 0), n], i32)], [ident, lb.dims(2, 1), ident], [],
        lambda v, c, _out: [arith.SubiOp(v, c).result],
    )[0]


def _scalar_constant(value: SSAValue) -> int | float | None:
    owner = value.owner if isinstance(value, OpResult) else None
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr | FloatAttr):
        return owner.value.value.data
    return None


MAX_WEIGHT_BITS = 8  # the widest weights a mixpe PE takes (8-bit weights run bit-serially)


def check_options(weight_bits: int | None, act_quant: str) -> None:
    """Range checks of the raise options, as one-line ValueErrors (mixpe-opt prints them and
    exits 1). A width above a particular op's storage is declined per op, with a remark."""
    if weight_bits is not None and weight_bits < 1:
        raise ValueError(f"{NAME}: weight-bits must be a positive number of bits, got {weight_bits}")
    if weight_bits is not None and weight_bits > MAX_WEIGHT_BITS:
        raise ValueError(
            f"{NAME}: weight-bits must be at most {MAX_WEIGHT_BITS} (the mixpe PEs take 1..8-bit weights), "
            f"got {weight_bits}"
        )
    if act_quant not in ("none", "per-token"):
        raise ValueError(f"{NAME}: act-quant must be none or per-token, got '{act_quant}'")


@dataclass(frozen=True)
class MixpeRaisePass(ModulePass):
    """Raises dequantize-then-matmul to `mixpe.mpgemm`.

    `weight-bits=N` declares that the integer storage holds N-bit values (torch has no
    int4 dtype, so 4-bit weights arrive in i8); without it the storage width is used.
    `act-quant=per-token` quantizes float activations dynamically to i8 per token
    (`_act_quant`), for A8 hardware; it changes the numbers, so it is opt-in.
    """

    name = NAME

    weight_bits: int | None = None
    act_quant: str = "none"

    def __post_init__(self) -> None:
        check_options(self.weight_bits, self.act_quant)

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier(
            [RaiseContraction(self.weight_bits, self.act_quant), RaiseQuantizedMatmul()]
        )
        PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)

"""`mixpe-lower-to-linalg`: every mixpe op back to upstream linalg/arith/tensor.

Users embed mixpe in other flows (IREE, torch-mlir, plain mlir-opt), so the output must
verify in upstream MLIR with no mixpe op left, while *keeping the hoisted structure*:
the group dimension stays a loop of its own, so partial sums are still computed per
group and dequantized once per group afterwards (MixPE §3.2), not re-fused into a
dequantize-then-matmul.

- `mixpe.mpgemm` is hoisted first (the `mixpe-hoist-dequant` pattern), then lowered.
- `group_psum` / `bitplane_psum` / `shift_psum`: one contraction generic over
  (m, j, n, kk[, b]) on K split into (G, g) by `tensor.expand_shape`, reducing kk (and b)
  into a zero-filled accumulator. `nk` weights are read through a transposing map.
- `act_group_sum`: a reduction generic over [M, G, g].
- `dequant_epilogue`: a generic over (m, n, j) reducing j, in f64 (the kernels'
  float64 epilogue, docs/numerics.md), then one `truncf` to the result type.
- `bitplanes` / `pow2_split`: elementwise generics (shift-and-truncate; sign and the
  float exponent of |w|).
- `#mixpe.schedule` hints are dropped: upstream has no use for them.

Runtime checks of the kernels (weights in range, ±2^p form) are not emitted.
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass

from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.linalg.ops import IndexOp
from xdsl.dialects.builtin import DYNAMIC_INDEX, Float64Type, ModuleOp, f32, f64, i1, i32
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)

from mixpe.diagnostics import remark
from mixpe.dialects.mixpe import (
    ActGroupSumOp,
    BitplanePsumOp,
    BitplanesOp,
    DequantEpilogueOp,
    GroupPsumOp,
    MpGemmOp,
    Pow2SplitOp,
    ShiftPsumOp,
    Signedness,
    WeightLayout,
    ZeroPointMode,
)
from mixpe.transforms import _linalg_build as lb
from mixpe.transforms.mixpe_hoist_dequant import HoistDequant, overflow_reason

NAME = "mixpe-lower-to-linalg"


class _Lowering(RewritePattern, ABC):
    """One op kind: decline with a remark, or build its replacement before it."""

    op_type: type[Operation]

    def decline(self, op) -> str | None:
        """Why `op` cannot be lowered, or None."""
        return None

    def lower(self, op) -> list[SSAValue]:
        """The values replacing `op`'s results, built before it."""
        raise NotImplementedError

    def rewrite(self, op, rewriter: PatternRewriter) -> None:
        with ImplicitBuilder(rewriter):
            results = self.lower(op)
        rewriter.replace(op, [], results)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, self.op_type):
            return
        if reason := self.decline(op):
            remark(NAME, op, f"not lowered: {reason}")
            return
        self.rewrite(op, rewriter)


def _dynamic_k(x: SSAValue) -> str | None:
    k = lb.shape(x)[1]
    return "the reduction dimension K is dynamic; groups need a static K" if k == DYNAMIC_INDEX else None


def _grouped_psum(op, term, *weights: tuple[SSAValue, tuple[int, ...]], extra_loops: int = 0) -> SSAValue:
    """P[m,j,n] = sum_{kk[,b]} term(x[m,j,kk] as acc, *weights...): the hot loop per group.

    Loops are (m, j, n, kk, b...); each weight operand comes with its loop positions."""
    x, g = op.x, op.group_size.value.data
    acc = op.result.type.get_element_type()
    n = 4 + extra_loops
    operands = [(lb.split_axis(x, 1, g), (0, 1, 3)), *weights]
    init = lb.zeros([_loop_size(loop, operands) for loop in (0, 1, 2)], acc)
    maps = [*(lb.dims(n, *loops) for _, loops in operands), lb.dims(n, 0, 1, 2)]
    return lb.reduce_into(
        [v for v, _ in operands], init, maps, range(3, n), lambda xs, *ws: term(lb.convert(xs, acc), *ws)
    )


def _loop_size(loop: int, operands: list[tuple[SSAValue, tuple[int, ...]]]) -> lb.Size:
    """Extent of a loop, from the first operand that it indexes (dynamic M or N too)."""
    value, loops = next((v, ls) for v, ls in operands if loop in ls)
    return lb.size(value, loops.index(loop))


def _split_weights(w: SSAValue, layout: WeightLayout, g: int) -> tuple[SSAValue, tuple[int, ...]]:
    """Weights with K split into (G, g), and the loops that index each of its axes."""
    if layout == WeightLayout.NK:
        return lb.split_axis(w, 1, g), (2, 1, 3)  # [N, G, g]: a transposing read, no copy
    return lb.split_axis(w, 0, g), (1, 3, 2)  # [G, g, N]


class LowerMpGemm(_Lowering):
    """Through its hoisted form, by the hoist pass's own pattern (the other patterns of this
    pass then lower the group sums and the epilogue)."""

    op_type = MpGemmOp

    def decline(self, op: MpGemmOp) -> str | None:
        return _dynamic_k(op.x) or overflow_reason(op)

    def rewrite(self, op: MpGemmOp, rewriter: PatternRewriter) -> None:
        HoistDequant().match_and_rewrite(op, rewriter)


class LowerGroupPsum(_Lowering):
    """P = sum over the group of x * q, both converted to the accumulator type first
    (weights read with the op's signedness: extsi/extui or sitofp/uitofp)."""

    op_type = GroupPsumOp

    def decline(self, op: GroupPsumOp) -> str | None:
        return _dynamic_k(op.x)

    def lower(self, op: GroupPsumOp) -> list[SSAValue]:
        acc = op.result.type.get_element_type()
        w = _split_weights(op.weights, op.layout.data, op.g)
        return [_grouped_psum(op, lambda x, q: lb.mul(x, lb.convert(q, acc, op.is_signed)), w)]


class LowerActGroupSum(_Lowering):
    """A[m,j] = sum over the group of x, in the accumulator type."""

    op_type = ActGroupSumOp

    def decline(self, op: ActGroupSumOp) -> str | None:
        return _dynamic_k(op.x)

    def lower(self, op: ActGroupSumOp) -> list[SSAValue]:
        out_ty = op.result.type
        acc = out_ty.get_element_type()
        x3 = lb.split_axis(op.x, 1, op.group_size.value.data)
        init = lb.zeros([lb.size(op.x, 0), out_ty.get_shape()[1]], acc)
        maps = [lb.dims(3, 0, 1, 2), lb.dims(3, 0, 1)]
        return [lb.reduce_into([x3], init, maps, [2], lambda x: lb.convert(x, acc))]


class LowerDequantEpilogue(_Lowering):
    """Y = sum_j s*(P - z*A) | s*P - z'*A | s*P in f64, then rounded once to the result type."""

    op_type = DequantEpilogueOp

    def lower(self, op: DequantEpilogueOp) -> list[SSAValue]:
        mode, out = op.zp_mode.data, op.result.type
        work = f64 if not isinstance(out.get_element_type(), Float64Type) else out.get_element_type()
        zero_signed = op.zero_signedness is None or op.zero_signedness.data == Signedness.SIGNED
        # loops (m, n, j); scales and zeros are [G,N] (kn) or [N,G] (nk)
        param = lb.dims(3, 2, 1) if op.layout.data == WeightLayout.KN else lb.dims(3, 1, 2)
        ins: list[SSAValue] = [op.psums, op.scales]
        maps = [lb.dims(3, 0, 2, 1), param]
        if mode != ZeroPointMode.SYMMETRIC:
            assert op.act_sums is not None and op.zeros is not None  # the verifier requires them
            ins += [op.act_sums, op.zeros]
            maps += [lb.dims(3, 0, 2), param]

        def term(p, s, a: SSAValue | None = None, z: SSAValue | None = None):
            p, s = lb.convert(p, work), lb.convert(s, work)
            if mode == ZeroPointMode.SYMMETRIC:
                return lb.mul(s, p)
            assert a is not None and z is not None
            za = lb.mul(lb.convert(z, work, zero_signed), lb.convert(a, work))
            if mode == ZeroPointMode.ORIGINAL:
                return lb.mul(s, lb.sub(p, za))
            return lb.sub(lb.mul(s, p), za)

        sizes = [lb.size(op.psums, 0), lb.size(op.psums, 2)]
        y = lb.reduce_into(ins, lb.zeros(sizes, work), [*maps, lb.dims(3, 0, 1)], [2], term)
        target = out.get_element_type()
        return [y if target == work else lb.map_elements(y, target, lambda v: lb.convert(v, target))]


class LowerBitplanes(_Lowering):
    """plane[b,k,n] = trunci(w >> b) to i1: the low bits, two's complement for signed w."""

    op_type = BitplanesOp

    def decline(self, op: BitplanesOp) -> str | None:
        storage = lb.int_elem(op.weights)
        bits = op.weight_bits.value.data
        if bits > storage.width.data:
            return f"{bits} bit-planes of {storage} storage would shift past its width"
        return None

    def lower(self, op: BitplanesOp) -> list[SSAValue]:
        w = op.weights
        storage = lb.int_elem(w)
        kn = op.layout.data == WeightLayout.KN
        rows, cols = (lb.size(w, 0), lb.size(w, 1)) if kn else (lb.size(w, 1), lb.size(w, 0))
        out = lb.empty([op.weight_bits.value.data, rows, cols], i1)
        maps = [lb.dims(3, 1, 2) if kn else lb.dims(3, 2, 1), lb.dims(3, 0, 1, 2)]

        def bit(q, _out):
            b = arith.IndexCastOp(IndexOp(0), storage).result
            return [arith.TruncIOp(arith.ShRUIOp(q, b), i1).result]

        return lb.generic([w], [out], maps, [], bit)


class LowerBitplanePsum(_Lowering):
    """P = sum_{kk,b} plane_b ? ±(x << s_b) : 0, with (sign, s_b) from `coefficients`
    held in two small constant vectors: a shift, a conditional negation and an add."""

    op_type = BitplanePsumOp

    def decline(self, op: BitplanePsumOp) -> str | None:
        return _dynamic_k(op.x)

    def lower(self, op: BitplanePsumOp) -> list[SSAValue]:
        coeffs = op.coefficients.get_values()
        shifts = lb.constant_vector([abs(c).bit_length() - 1 for c in coeffs], i32)
        negative = lb.constant_vector([int(c < 0) for c in coeffs], i1)
        planes = lb.split_axis(op.planes, 1, op.group_size.value.data)  # [B, G, g, N]

        def term(x, bit, shift, neg):
            return arith.SelectOp(bit, lb.negate_if(neg, lb.times_pow2(x, shift)), lb.zero(x.type)).result

        # loops (m, j, n, kk, b)
        return [_grouped_psum(op, term, (planes, (4, 1, 3, 2)), (shifts, (4,)), (negative, (4,)), extra_loops=1)]


class LowerPow2Split(_Lowering):
    """sign = w < 0; shift = log2|w|, read off the exponent field of |w| as f32
    (exact for a power of two; no count-trailing-zeros op is needed)."""

    op_type = Pow2SplitOp

    def lower(self, op: Pow2SplitOp) -> list[SSAValue]:
        w = op.weights
        kn = op.layout.data == WeightLayout.KN
        rows, cols = (lb.size(w, 0), lb.size(w, 1)) if kn else (lb.size(w, 1), lb.size(w, 0))
        shift_t = op.shift.type.get_element_type()
        outs = [lb.empty([rows, cols], i1), lb.empty([rows, cols], shift_t)]
        maps = [lb.dims(2, 0, 1) if kn else lb.dims(2, 1, 0), lb.dims(2, 0, 1), lb.dims(2, 0, 1)]

        def split(q, _sign, _shift):
            negative = arith.CmpiOp(q, lb.zero(q.type), "slt").result
            magnitude = lb.negate_if(negative, q)  # -(-2^(w-1)) wraps, but reads right unsigned
            bits = arith.BitcastOp(arith.UIToFPOp(magnitude, f32), i32).result
            exponent = lb.sub(arith.ShRUIOp(bits, lb.scalar(23, i32)).result, lb.scalar(127, i32))
            return [negative, lb.convert(exponent, shift_t, signed=False)]

        return lb.generic([w], outs, maps, [], split)


class LowerShiftPsum(_Lowering):
    """DenseShift P = sum_kk (sign ? -1 : 1) * (x << shift): one shift and one add/sub."""

    op_type = ShiftPsumOp

    def decline(self, op: ShiftPsumOp) -> str | None:
        return _dynamic_k(op.x)

    def lower(self, op: ShiftPsumOp) -> list[SSAValue]:
        g = op.group_size.value.data
        sign, shift = lb.split_axis(op.sign, 0, g), lb.split_axis(op.shift, 0, g)  # [G, g, N]

        def term(x, neg, s):
            return lb.negate_if(neg, lb.times_pow2(x, s))

        return [_grouped_psum(op, term, (sign, (1, 3, 2)), (shift, (1, 3, 2)))]


@dataclass(frozen=True)
class MixpeLowerToLinalgPass(ModulePass):
    """Replaces every mixpe op by upstream linalg/arith/tensor, keeping the group loop."""

    name = NAME

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # Two walks, each visiting every op once (so a declined op is remarked once):
        # hoist mpgemms, then lower what hoisting and the input hold.
        hoist = LowerMpGemm()
        lower = GreedyRewritePatternApplier(
            [
                LowerGroupPsum(),
                LowerActGroupSum(),
                LowerDequantEpilogue(),
                LowerBitplanes(),
                LowerBitplanePsum(),
                LowerPow2Split(),
                LowerShiftPsum(),
            ]
        )
        for patterns in (hoist, lower):
            PatternRewriteWalker(patterns, apply_recursively=False).rewrite_module(op)

"""`mixpe-hoist-dequant`: move dequantization out of the GEMM's inner loop (MixPE §3.2).

    Y = sum_j S_j * (P_j - Z_j * A_j)

`mixpe.mpgemm` becomes per-group partial sums (`mixpe.group_psum`, the hot loop on
the array), activation group sums (`mixpe.act_group_sum`, only when there are
zero points) and one `mixpe.dequant_epilogue`. Dequantization work drops from
O(K·N) inside the loop to O(M·N·G) after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerType, ModuleOp, TensorType
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from mixpe.diagnostics import inherit_location, remark
from mixpe.transforms import _linalg_build as lb
from mixpe.dialects.mixpe import (
    ActGroupSumOp,
    DequantEpilogueOp,
    GroupPsumOp,
    MpGemmOp,
    ZeroPointMode,
)

NAME = "mixpe-hoist-dequant"


def overflow_reason(op: MpGemmOp) -> str | None:
    """Proves from bit widths and g that integer partial sums fit the accumulator."""
    x_elem = lb.elem(op.x)
    acc = op.acc_type
    if not isinstance(x_elem, IntegerType):
        return None
    if not isinstance(acc, IntegerType):
        return f"integer activations with a non-integer accumulator {acc}"
    bound = op.g * (1 << (x_elem.width.data - 1)) * op.max_abs_weight()
    limit = (1 << (acc.width.data - 1)) - 1
    if bound > limit:
        return f"partial sums can reach {bound}, which overflows {acc} (limit {limit})"
    return None


class HoistDequant(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: MpGemmOp, rewriter: PatternRewriter) -> None:
        if reason := overflow_reason(op):
            remark(NAME, op, f"not hoisted: {reason}")
            return
        x_type = op.x.type
        assert isinstance(x_type, TensorType)
        m, k = x_type.get_shape()
        n = op.result.type.get_shape()[1]
        groups = k // op.g
        acc = op.acc_type

        psum = GroupPsumOp(
            op.x,
            op.weights,
            TensorType(acc, [m, groups, n]),
            group_size=op.g,
            weight_bits=op.bits,
            signedness=op.signedness.data,
            layout=op.layout.data,
            weight_format=op.weight_format.data,
        )
        new_ops: list[Operation] = [psum]
        act_sums = None
        if op.zp_mode.data != ZeroPointMode.SYMMETRIC:
            sums = ActGroupSumOp(op.x, TensorType(acc, [m, groups]), group_size=op.g)
            new_ops.append(sums)
            act_sums = sums.result
        int_zeros = op.zeros is not None and isinstance(lb.elem(op.zeros), IntegerType)
        epilogue = DequantEpilogueOp(
            psum.result,
            act_sums,
            op.scales,
            op.zeros,
            op.result.type,
            zp_mode=op.zp_mode.data,
            layout=op.layout.data,
            # mpgemm reads zero points like weights
            zero_signedness=op.signedness.data if int_zeros else None,
        )
        new_ops.append(epilogue)
        psum.result.name_hint = "psum"
        if act_sums is not None:
            act_sums.name_hint = "asum"
        inherit_location(new_ops, op)
        rewriter.replace(op, new_ops, [epilogue.result])


@dataclass(frozen=True)
class MixpeHoistDequantPass(ModulePass):
    """Rewrites every `mixpe.mpgemm` into partial sums + activation sums + epilogue."""

    name = NAME

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(HoistDequant(), apply_recursively=False).rewrite_module(op)

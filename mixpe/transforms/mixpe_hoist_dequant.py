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
from xdsl.dialects.builtin import IntegerAttr, IntegerType, ModuleOp, TensorType, i64
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from mixpe.diagnostics import inherit_location, remark
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
    x_elem = op.x.type.get_element_type()
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

        psum = GroupPsumOp.build(
            operands=[op.x, op.weights],
            result_types=[TensorType(acc, [m, groups, n])],
            properties={
                name: op.properties[name]
                for name in ("group_size", "weight_bits", "signedness", "weight_format", "layout")
            },
        )
        new_ops = [psum]
        act_sums = []
        if op.zp_mode.data != ZeroPointMode.SYMMETRIC:
            sums = ActGroupSumOp.build(
                operands=[op.x],
                result_types=[TensorType(acc, [m, groups])],
                properties={"group_size": IntegerAttr(op.g, i64)},
            )
            new_ops.append(sums)
            act_sums = [sums.result]
        props = {"zp_mode": op.zp_mode, "layout": op.layout}
        if op.zeros is not None and isinstance(op.zeros.type.get_element_type(), IntegerType):
            props["zero_signedness"] = op.signedness  # mpgemm reads zero points like weights
        epilogue = DequantEpilogueOp.build(
            operands=[psum.result, act_sums, op.scales, [op.zeros] if op.zeros else []],
            result_types=[op.result.type],
            properties=props,
        )
        new_ops.append(epilogue)
        psum.result.name_hint = "psum"
        for sums_value in act_sums:
            sums_value.name_hint = "asum"
        inherit_location(new_ops, op)
        rewriter.replace(op, new_ops, [epilogue.result])


@dataclass(frozen=True)
class MixpeHoistDequantPass(ModulePass):
    """Rewrites every `mixpe.mpgemm` into partial sums + activation sums + epilogue."""

    name = NAME

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(HoistDequant(), apply_recursively=False).rewrite_module(op)

"""`mixpe-tile{hw=NAME dataflow=os|ws|nfold objective=cycles|energy|edp}`: choose how each
partial-sum GEMM maps onto the array.

The choice is the cost model's (`mixpe.hw.choose_tile`): the mapping (the hardware's own
dataflow, or `nfold` - rows regrouped for skinny GEMMs such as decode - when the hardware's
weight port can feed it), tile sizes and loop order minimising the objective (default `edp`,
energy x cycles; `cycles` alone picks tiny output tiles that multiply DRAM traffic) for the
array, SRAMs and DRAM bandwidth described by the hardware file, with K tiles a multiple of the
group size so each group's partial sum leaves the array once for the epilogue. The pass itself
knows nothing about any accelerator: everything comes from the hardware data. It records the
result as a `#mixpe.schedule` on the op; the backend and simulator read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern
from xdsl.utils.exceptions import PassFailedException

from mixpe.diagnostics import remark
from mixpe.dialects.mixpe import (
    BitplanePsumOp,
    Dataflow,
    GroupPsumOp,
    ScheduleAttr,
    ShiftPsumOp,
)
from mixpe.dialects.linalg_named import element_type
from mixpe.hw import Hardware, HardwareError, choose_tile, default_preset, load_hardware, pe_act_bits
from mixpe.hw.dataflow import DATAFLOWS
from mixpe.hw.tiling import OBJECTIVES
from mixpe.reference.ir_types import dtype_name

NAME = "mixpe-tile"


def gemm_shape(op) -> tuple[int, int, int, int | None, int]:
    """(M, N, K, weight bits or None for the PE's own, group size) of a psum op."""
    m, k = op.x.type.get_shape()
    _, _, n = op.result.type.get_shape()
    g = op.group_size.value.data
    if isinstance(op, GroupPsumOp):
        bits = op.bits
    elif isinstance(op, BitplanePsumOp):
        coeffs = op.coefficients.get_values()
        bits = max(abs(c).bit_length() for c in coeffs) if coeffs else 1
    else:
        bits = None
    return m, n, k, bits, g


class TilePsum(RewritePattern):
    def __init__(self, hw_name: str | None, dataflow: str | None, objective: str | None = None):
        self.hw_name, self.dataflow, self.objective = hw_name, dataflow, objective
        self._hw: dict[str, Hardware] = {}

    def hardware(self, act: str) -> Hardware:
        name = self.hw_name or default_preset(act)
        if name not in self._hw:
            self._hw[name] = load_hardware(name)
        return self._hw[name]

    def match_and_rewrite(self, op, rewriter: PatternRewriter) -> None:
        if not isinstance(op, GroupPsumOp | BitplanePsumOp | ShiftPsumOp) or op.schedule is not None:
            return
        m, n, k, bits, g = gemm_shape(op)
        if m < 0 or n < 0:
            remark(NAME, op, "not tiled: dynamic M or N (the schedule depends on the token count)")
            return
        act = dtype_name(element_type(op.x.type))
        hw = self.hardware(act)
        try:
            choice = choose_tile(hw, m, n, k, weight_bits=bits, act_bits=pe_act_bits(hw, act),
                                 group_size=g, dataflow=self.dataflow, objective=self.objective)
        except ValueError as e:
            remark(NAME, op, f"not tiled: {e}")
            return
        schedule = ScheduleAttr(Dataflow(choice.dataflow), [hw.array.rows, hw.array.cols],
                                choice.tile, choice.order)
        op.properties["schedule"] = schedule
        rewriter.notify_op_modified(op)


@dataclass(frozen=True)
class MixpeTilePass(ModulePass):
    """Attaches a `#mixpe.schedule` to every partial-sum GEMM.

    `hw` names a preset or a TOML file; by default it follows each GEMM's activations
    (float -> mixpe-w4a16, i8 -> mixpe-w4a8). `dataflow` fixes the mapping (default: the
    search picks the hardware's or `nfold` per GEMM); `objective` is what the search minimises.
    """

    name = NAME

    hw: str | None = None
    dataflow: str | None = None
    objective: str | None = None

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        check_tile_options(self.dataflow, self.objective)
        pattern = TilePsum(self.hw, self.dataflow, self.objective)
        try:
            if self.hw is not None:
                pattern.hardware("")  # a bad hw name fails here, even with nothing to tile
            PatternRewriteWalker(pattern, apply_recursively=False).rewrite_module(op)
        except HardwareError as e:
            raise PassFailedException(f"{NAME}: {e}") from e


def check_tile_options(dataflow: str | None, objective: str | None) -> None:
    """One-line errors for a bad `dataflow` or `objective` option (when the pass is built)."""
    if dataflow is not None and dataflow not in DATAFLOWS:
        raise PassFailedException(f"{NAME}: dataflow must be one of {', '.join(DATAFLOWS)}, got '{dataflow}'")
    if objective is not None and objective not in OBJECTIVES:
        raise PassFailedException(f"{NAME}: objective must be one of {', '.join(OBJECTIVES)}, got '{objective}'")

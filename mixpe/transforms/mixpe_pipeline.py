"""`mixpe-pipeline{hw=NAME weight-bits=N dataflow=os|ws|nfold objective=cycles|energy|edp}`:
the whole compiler in one pass.

raise -> hoist-dequant -> shift-add -> tile: frontend linalg in, scheduled shift&add
mixpe ops out, ready for `-t mixpe-sim`. One composite keeps command lines short and
makes `mixpe-run` and `mixpe-eval` compile exactly what a user's `mixpe-opt` would.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass
from mixpe.transforms.mixpe_raise import MixpeRaisePass, check_options
from mixpe.transforms.mixpe_shift_add import MixpeShiftAddPass
from mixpe.transforms.mixpe_tile import MixpeTilePass, check_tile_options


@dataclass(frozen=True)
class MixpePipelinePass(ModulePass):
    """Options go to the stage that owns them: `weight-bits` and `act-quant` to raise,
    `hw`, `dataflow` and `objective` to tile, `detect-pow2` to shift-add."""

    name = "mixpe-pipeline"

    hw: str | None = None
    weight_bits: int | None = None
    dataflow: str | None = None
    detect_pow2: bool = False
    act_quant: str = "none"
    objective: str | None = None

    def __post_init__(self) -> None:
        # range-check raise's and tile's options when the pipeline is built, not when they run
        check_options(self.weight_bits, self.act_quant)
        check_tile_options(self.dataflow, self.objective)

    def stages(self) -> list[ModulePass]:
        return [
            MixpeRaisePass(weight_bits=self.weight_bits, act_quant=self.act_quant),
            MixpeHoistDequantPass(),
            MixpeShiftAddPass(detect_pow2=self.detect_pow2),
            MixpeTilePass(hw=self.hw, dataflow=self.dataflow, objective=self.objective),
        ]

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for stage in self.stages():
            stage.apply(ctx, op)

"""Compile-and-simulate in one call: what `mixpe-run`, `mixpe-eval` and tests share.

Everything goes through the same pieces a user would chain by hand
(`mixpe-opt -p mixpe-pipeline -t mixpe-sim`, then `mixpe-sim`), so numbers from the
Python API and from the command line cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp

from mixpe.backend.mixpe_sim import emit_program
from mixpe.context import mixpe_context
from mixpe.diagnostics import LocatingParser, verify_located
from mixpe.simulator.program import Program
from mixpe.transforms.mixpe_pipeline import MixpePipelinePass


@dataclass(frozen=True)
class CompileOptions:
    hw: str | None = None
    weight_bits: int | None = None
    dataflow: str | None = None
    detect_pow2: bool = False
    act_quant: str = "none"
    objective: str | None = None

    def pipeline(self) -> MixpePipelinePass:
        return MixpePipelinePass(
            hw=self.hw, weight_bits=self.weight_bits, dataflow=self.dataflow, detect_pow2=self.detect_pow2,
            act_quant=self.act_quant, objective=self.objective,
        )


def parse(text: str, filename: str = "<input>") -> ModuleOp:
    """Parses and verifies, with op locations recorded for diagnostics."""
    module = LocatingParser(mixpe_context(), text, filename).parse_module()
    verify_located(module)
    return module


def compile_module(module: ModuleOp, options: CompileOptions = CompileOptions()) -> ModuleOp:
    """Runs `mixpe-pipeline` in place and re-verifies: a pass bug must not reach the backend."""
    options.pipeline().apply(mixpe_context(), module)
    verify_located(module)
    return module


def to_program(module: ModuleOp, entry: str | None = None) -> Program:
    """The validated simulator program (`.to_dict()` for its JSON)."""
    return emit_program(module, entry)


def compile_to_program(text: str, options: CompileOptions = CompileOptions(), *,
                       entry: str | None = None, filename: str = "<input>") -> Program:
    return to_program(compile_module(parse(text, filename), options), entry)

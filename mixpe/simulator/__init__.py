"""Accelerator simulator: hardware descriptions and the analytical cost model."""

from .cost import GemmCost, estimate_gemm, estimate_vector
from .hardware import load_hardware

__all__ = ["load_hardware", "estimate_gemm", "estimate_vector", "GemmCost"]

# programs and functional execution (mixpe-sim)
from .execute import SimResult, SimulationError, run_program  # noqa: E402
from .program import ProgramBuilder, ProgramError, load_program  # noqa: E402

__all__ += ["ProgramBuilder", "ProgramError", "SimResult", "SimulationError", "load_program",
            "run_program"]

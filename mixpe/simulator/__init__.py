"""Accelerator simulator: the cost modes over mixpe.hw's hardware descriptions, and program execution."""

from mixpe.hw import GemmCost, load_hardware

from .cost import estimate_gemm, estimate_vector

__all__ = ["load_hardware", "estimate_gemm", "estimate_vector", "GemmCost"]

# programs and functional execution (mixpe-sim)
from .execute import SimResult, SimulationError, run_program  # noqa: E402
from .program import ProgramBuilder, ProgramError, load_program  # noqa: E402

__all__ += ["ProgramBuilder", "ProgramError", "SimResult", "SimulationError", "load_program",
            "run_program"]

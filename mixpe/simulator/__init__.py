"""Accelerator simulator: hardware descriptions and the analytical cost model."""

from .cost import GemmCost, estimate_gemm, estimate_vector
from .hardware import load_hardware

__all__ = ["load_hardware", "estimate_gemm", "estimate_vector", "GemmCost"]

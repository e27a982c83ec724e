"""mixpe: mixed-precision LLM matmuls on a shift&add accelerator, as an xDSL plugin."""

__version__ = "0.1.0"

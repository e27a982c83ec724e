"""Runs MLIR modules (xDSL IR) on numpy inputs: linalg/tensor/arith/math plus mixpe ops.

Kept apart from `mixpe.reference`, which is pure numpy and is what the simulator uses.
"""

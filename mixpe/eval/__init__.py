"""Whole-model evaluation (`mixpe-eval`): sourced model shapes, every design, paper reproduction."""

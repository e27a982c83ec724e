"""Analytical cycle and energy model for GEMMs and vector work on a MixPE-style accelerator.

Three modes, one file each, so a number can always be traced to a stated model:

* ``"scalesim"`` (``cost_scalesim.py``) - output-stationary compute cycles exactly as SCALE-Sim
  reports them, ``ceil(M/R)*ceil(N/C)*(K+R+C-2) - 1``; no tiling, no memory stalls, no vector
  work.
* ``"paper"`` (``cost_paper.py``) - a reimplementation of the MixPE authors' simulator
  (docs/design.md §4; their optimizer.py ``get_stats_fast`` and tiling/order search): compute
  ``T*ceil(b/(R*pf_a))*ceil(oc/(C*pf_w))*ic``, total = compute + max(0, DRAM - compute) +
  initial/final latency, under their best tiling, plus dequantisation as a second small FC
  layer.  Use with the ``paper-*`` presets; reproduces their published table
  (docs/paper-reproduction.md).
* ``"default"`` (``cost_default.py``) - SRAM-sized tiles under a loop order, per-fold
  fill/drain from the dataflow, DRAM traffic at the operands' true widths, stalls per
  double-buffered step, and the dequantisation work on the vector unit (``epilogue``:
  O(M*N*G); ``in_loop``: O(K*N) per pass).

Energy is Accelergy-style: ``sum(count * energy_per_action)`` over ``energy_table(hw)``, whose
rows carry the source of each figure; leakage is an action counted in PE-cycles.  The energy
table, result types, precision rules and tile search live in ``mixpe.hw`` (the compiler uses
them too); this module dispatches on the mode and re-exports them for the simulator's callers.
"""

from __future__ import annotations

from mixpe.hw.energy import (  # noqa: F401 (re-exported)
    BUFFERS,
    ActionCounts,
    Energy,
    EnergyRow,
    energy_of,
    energy_table,
    pe_op_kind,
)
from mixpe.hw.precision import (  # noqa: F401 (re-exported)
    check_shape,
    pe_act_bits,
    resolve_group_size,
    resolve_precision,
)
from mixpe.hw.results import CostSummary, GemmCost, VectorCost, combine  # noqa: F401
from mixpe.hw.tiling import TileChoice, choose_tile  # noqa: F401 (re-exported)

from .cost_default import estimate_default, estimate_vector  # noqa: F401 (re-exported)
from .cost_paper import estimate_paper, estimate_paper_conv  # noqa: F401 (re-exported)
from .cost_scalesim import estimate_scalesim

MODES = ("default", "scalesim", "paper")

__all__ = [
    "ActionCounts", "BUFFERS", "CostSummary", "Energy", "EnergyRow", "GemmCost", "MODES",
    "TileChoice", "VectorCost", "choose_tile", "combine", "energy_of", "energy_table",
    "estimate_gemm", "estimate_paper_conv", "estimate_vector", "pe_act_bits", "pe_op_kind",
]


def estimate_gemm(hw, M: int, N: int, K: int, *, weight_bits: int | None = None,
                  act_bits: int | None = None, group_size: int | None = None,
                  tile: tuple[int, int, int] | None = None, dataflow: str | None = None,
                  mode: str = "default", order: str | None = None,
                  objective: str | None = None) -> GemmCost:
    """Cycles, action counts and energy of ``[M,K] x [K,N]`` on ``hw``.

    ``weight_bits``/``act_bits``/``group_size`` default to the preset's workload; group_size 0
    means unquantised weights (no dequantisation work).  ``tile`` is ``(tm, tn, tk)``; when
    omitted, ``choose_tile`` picks it (default and paper modes). ``order`` is the loop order
    of a given tile (a permutation of "mnk", default "mnk"), as a compiler schedule records it.
    ``objective`` is what the tile search minimises when ``tile`` is omitted (default mode):
    ``cycles``, ``energy`` or ``edp`` (the default).
    """
    check_shape(M, N, K)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    g = resolve_group_size(hw, group_size)
    if mode == "scalesim":
        return estimate_scalesim(hw, M, N, K, resolve_precision(hw, weight_bits, act_bits), g)
    if mode == "paper":
        return estimate_paper(hw, M, N, K, weight_bits, act_bits, g, tile)
    return estimate_default(hw, M, N, K, resolve_precision(hw, weight_bits, act_bits), g,
                            tile=tile, dataflow=dataflow, order=order, objective=objective)

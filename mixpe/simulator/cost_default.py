"""Cost mode ``"default"``: a mapping (``os``/``ws``, or ``nfold`` for skinny GEMMs) and
SRAM-sized tiles under a loop order (``mixpe.hw.tiling``), fill/drain from the dataflow (once
while an output tile stays in the array), DRAM traffic at the operands' true widths, stalls per
double-buffered step, and the dequantisation work (``epilogue``: O(M*N*G) on the vector unit;
``in_loop``: O(K*N) per pass on the dequantiser, stalling the array when it cannot keep up).
Also the vector unit's own work (``estimate_vector``), which every mode but ``paper`` uses for
non-GEMM instructions."""

from __future__ import annotations

from mixpe.hw.energy import ActionCounts, check_count, energy_of
from mixpe.hw.hardware import Hardware
from mixpe.hw.precision import Prec, check_tile
from mixpe.hw.results import GemmCost, VectorCost, gemm_result
from mixpe.hw.tiling import choose_tile, get_dataflow, plan_counts, plan_tiles, vector_cycles, vector_work


def estimate_default(hw: Hardware, M: int, N: int, K: int, prec: Prec, g: int, *,
                     tile: tuple[int, int, int] | None, dataflow: str | None,
                     order: str | None, objective: str | None = None) -> GemmCost:
    """Default mode of ``estimate_gemm`` (shape, precision and group size already checked)."""
    if tile is None:
        choice = choose_tile(hw, M, N, K, weight_bits=prec.wb, act_bits=prec.ab,
                             group_size=g, dataflow=dataflow, objective=objective)
        tile, order, dfname = choice.tile, choice.order, choice.dataflow
    else:
        dfname = dataflow or hw.array.dataflow
        order = order or "mnk"
        if sorted(order) != ["k", "m", "n"]:
            raise ValueError(f"loop order must be a permutation of 'mnk', got {order!r}")
    df = get_dataflow(dfname)
    tile = check_tile(tile, M, N, K)
    plan = plan_tiles(hw, df, prec, M, N, K, g, tile, order, hw.defaults.out_bits, fits=False)
    assert plan is not None, "plan_tiles(fits=False) always returns a plan"
    vec_ops, busy, exposed = vector_work(hw, prec, M, N, K, g, plan)
    total = plan.compute + plan.fill_drain + plan.stall + exposed
    counts = plan_counts(hw, prec, M, N, K, g, plan, vec_ops, total)
    return gemm_result(hw, "default", dfname, M, N, K, prec, g, tile, order,
                       plan.compute, plan.fill_drain, plan.stall, exposed, busy, counts,
                       {"initial_load_bits": plan.initial_bits, "groups": plan.groups})


def estimate_vector(hw: Hardware, kind: str, elems: int) -> VectorCost:
    """Elementwise/reduction work: ceil(elems / lanes) * cycles_per_op, energy from the table."""
    if kind not in hw.vector.ops:
        raise ValueError(f"{hw.name}: unknown vector op {kind!r} (known: {', '.join(hw.vector.ops)})")
    check_count(elems, "elems")
    cycles = vector_cycles(hw, {kind: elems})
    counts = ActionCounts(vector_ops={kind: elems}, pe_leak_cycles=cycles * hw.num_pes,
                          background_cycles=cycles)
    return VectorCost(hw.name, kind, elems, cycles, counts, energy_of(counts, hw))

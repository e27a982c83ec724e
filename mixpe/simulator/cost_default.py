"""Cost mode ``"default"``: SRAM-sized tiles under a loop order (``mixpe.hw.tiling``), per-fold
fill/drain from the dataflow, DRAM traffic at the operands' true widths, stalls per
double-buffered step, and the dequantisation work on the vector unit (``epilogue``: O(M*N*G);
``in_loop``: O(K*N) per pass).  Also the vector unit's own work (``estimate_vector``), which
every mode but ``paper`` uses for non-GEMM instructions."""

from __future__ import annotations

from mixpe.hw.dataflow import ceil_div
from mixpe.hw.energy import ActionCounts, check_count, energy_of
from mixpe.hw.hardware import Hardware
from mixpe.hw.precision import Prec, check_tile
from mixpe.hw.results import GemmCost, VectorCost, gemm_result, pe_ops
from mixpe.hw.tiling import choose_tile, get_dataflow, plan_tiles, vector_cycles, vector_work


def estimate_default(hw: Hardware, M: int, N: int, K: int, prec: Prec, g: int, *,
                     tile: tuple[int, int, int] | None, dataflow: str | None,
                     order: str | None) -> GemmCost:
    """Default mode of ``estimate_gemm`` (shape, precision and group size already checked)."""
    dfname = dataflow or hw.array.dataflow
    df = get_dataflow(dfname)
    if tile is None:
        choice = choose_tile(hw, M, N, K, weight_bits=prec.wb, act_bits=prec.ab,
                             group_size=g, dataflow=dfname)
        tile, order = choice.tile, choice.order
    else:
        order = order or "mnk"
        if sorted(order) != ["k", "m", "n"]:
            raise ValueError(f"loop order must be a permutation of 'mnk', got {order!r}")
    tile = check_tile(tile, M, N, K)
    plan = plan_tiles(hw, df, prec, M, N, K, g, tile, order, hw.defaults.out_bits, fits=False)
    assert plan is not None, "plan_tiles(fits=False) always returns a plan"
    vec_ops, busy, exposed = vector_work(hw, df, prec, M, N, K, g, plan)
    acc = hw.pe.acc_bits
    if g and hw.dequant.placement == "epilogue":
        visits = max(plan.psum_visits, M * N * ceil_div(K, g))
    else:
        visits = plan.psum_visits
    total = plan.compute + plan.fill_drain + plan.stall + exposed
    counts = ActionCounts(
        pe_ops=pe_ops(hw, prec, M, N, K, plan.compute),
        sram_read_bits={"weight": plan.weight_elems * prec.wb,
                        "act": plan.act_elems * prec.ab * prec.passes,
                        "out": visits * acc},
        sram_write_bits={"weight": plan.dram_read["weight"], "act": plan.dram_read["act"],
                         "out": visits * acc},
        dram_read_bits=sum(plan.dram_read.values()),
        dram_write_bits=plan.dram_write,
        vector_ops=vec_ops,
        pe_leak_cycles=total * hw.num_pes,
        background_cycles=total,
    )
    return gemm_result(hw, "default", dfname, M, N, K, prec, g, tile, order,
                       plan.compute, plan.fill_drain, plan.stall, exposed, busy, counts,
                       {"initial_load_bits": plan.initial_bits})


def estimate_vector(hw: Hardware, kind: str, elems: int) -> VectorCost:
    """Elementwise/reduction work: ceil(elems / lanes) * cycles_per_op, energy from the table."""
    if kind not in hw.vector.ops:
        raise ValueError(f"{hw.name}: unknown vector op {kind!r} (known: {', '.join(hw.vector.ops)})")
    check_count(elems, "elems")
    cycles = vector_cycles(hw, {kind: elems})
    counts = ActionCounts(vector_ops={kind: elems}, pe_leak_cycles=cycles * hw.num_pes,
                          background_cycles=cycles)
    return VectorCost(hw.name, kind, elems, cycles, counts, energy_of(counts, hw))

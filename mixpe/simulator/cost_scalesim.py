"""Cost mode ``"scalesim"``: output-stationary compute cycles exactly as SCALE-Sim reports
them, ``ceil(M/R)*ceil(N/C)*(K+R+C-2) - 1``; no tiling, no memory stalls, no vector work.

Access counts follow SCALE-Sim v2's (checked against its reports by
test/python/simulator/test_scalesim_counts.py, fixture test/inputs/scalesim/counts.json): SRAM
reads are the unpadded operand streams; DRAM reads are compulsory unless an operand's reused
footprint does not fit the active half of its buffer, in which case every fold re-fetches it
(SCALE-Sim's double-buffered scratchpad keeps at most half a buffer of recent lines)."""

from __future__ import annotations

from mixpe.hw.dataflow import DATAFLOWS, ceil_div
from mixpe.hw.energy import ActionCounts
from mixpe.hw.hardware import Hardware
from mixpe.hw.precision import Prec
from mixpe.hw.results import GemmCost, gemm_result, pe_ops


def estimate_scalesim(hw: Hardware, M: int, N: int, K: int, prec: Prec, g: int) -> GemmCost:
    """SCALE-Sim OS: one untiled pass, folds x (K + R + C - 2) - 1, no memory or vector time."""
    R, C = hw.array.rows, hw.array.cols
    df = DATAFLOWS["os"]
    tc = df.tile_cycles(R, C, M, N, K, passes=prec.passes, pack_rows=prec.pf_a, pack_cols=prec.pf_w)
    st = df.streams(R, C, M, N, K, pack_rows=prec.pf_a, pack_cols=prec.pf_w)
    fill = tc.fill_drain - 1  # SCALE-Sim counts from cycle 0 and reports the last cycle index
    total = tc.compute + fill
    o_bits = M * N * hw.defaults.out_bits
    a_bits, w_bits = _dram_read_bits(hw, R, C, M, N, K, prec)  # each DRAM read fills its SRAM once
    counts = ActionCounts(
        pe_ops=pe_ops(hw, prec, M, N, K, tc.compute),
        sram_read_bits={"weight": st.weight_elems * prec.wb,
                        "act": st.act_elems * prec.ab * prec.passes, "out": M * N * hw.pe.acc_bits},
        sram_write_bits={"weight": w_bits, "act": a_bits, "out": M * N * hw.pe.acc_bits},
        dram_read_bits=w_bits + a_bits, dram_write_bits=o_bits,
        pe_leak_cycles=total * hw.num_pes, background_cycles=total,
    )
    return gemm_result(hw, "scalesim", "os", M, N, K, prec, g, (M, N, K), "mnk",
                       tc.compute, fill, 0, 0, 0, counts, {"folds": tc.folds})


def _fits(hw: Hardware, buffer: str, bits: int) -> bool:
    return bits <= hw.sram.capacity_bits(buffer)


def _dram_read_bits(hw: Hardware, R: int, C: int, M: int, N: int, K: int, prec: Prec) -> tuple[int, int]:
    """Activation and weight DRAM reads (bits) of SCALE-Sim's OS schedule (column folds outer, row folds
    inner).  All of X is re-streamed once per column fold, so it is fetched once if it fits the
    act buffer, else once per column fold; each column fold's K x C weight block is re-streamed
    once per row fold, so it is fetched once if it fits the weight buffer, else once per row fold."""
    rows, cols = R * prec.pf_a, C * prec.pf_w
    row_folds, col_folds = ceil_div(M, rows), ceil_div(N, cols)
    a_bits = M * K * prec.ab
    act = a_bits if col_folds == 1 or _fits(hw, "act", a_bits) else col_folds * a_bits
    weight = 0
    for blocks, width in ((N // cols, cols), (1, N % cols)):  # full column folds, then the partial one
        block = K * width * prec.wb
        weight += blocks * (block if row_folds == 1 or _fits(hw, "weight", block) else row_folds * block)
    return act, weight

"""Cost mode ``"scalesim"``: output-stationary compute cycles exactly as SCALE-Sim reports
them, ``ceil(M/R)*ceil(N/C)*(K+R+C-2) - 1``; no tiling, no memory stalls, no vector work."""

from __future__ import annotations

from mixpe.hw.dataflow import DATAFLOWS
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
    w_bits, a_bits, o_bits = K * N * prec.wb, M * K * prec.ab, M * N * hw.defaults.out_bits
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

"""paper mode reproduces the MixPE authors' single-layer formulas (DESIGN §4)."""

from math import ceil

import pytest

from mixpe.simulator import estimate_gemm, load_hardware


def pf(p, pmax, pmin):
    return int(pmax / max(p, pmin))


@pytest.mark.parametrize("preset", ["paper-mixpe-w4a8", "paper-int8", "paper-fp16",
                                    "paper-bitfusion", "paper-mixpe-w4a16"])
def test_paper_single_layer(preset):
    hw = load_hardware(preset)
    b, oc, ic = 64, 4096, 4096  # one OPT-6.7B projection, batch of 64 token rows
    tile = (64, 1024, 1024)
    cost = estimate_gemm(hw, b, oc, ic, mode="paper", tile=tile)
    R, C = hw.array.rows, hw.array.cols
    wb, ab, ob = hw.defaults.weight_bits, hw.defaults.act_bits, hw.defaults.out_bits
    pmax, pmin = hw.pe.pack_pmax, hw.pe.pack_pmin
    T = (b // tile[0]) * (oc // tile[1]) * (ic // tile[2])
    gemm = T * ceil(tile[0] / (R * pf(ab, pmax, pmin))) * ceil(tile[1] / (C * pf(wb, pmax, pmin))) * tile[2]
    compute = gemm + ceil(gemm * hw.paper.dequant_fraction)  # dequant as extra GEMM work
    assert cost.compute == compute and cost.fill_drain == 0
    # DRAM: loop order m, n, k with k innermost: weights once per m-tile (1), activations once
    # per n-tile, outputs once; the first tile pair is the initial load.
    bw = hw.dram.bandwidth_bits_per_cycle
    dram = ic * oc * wb + (oc // tile[1]) * b * ic * ab + b * oc * ob
    initial = tile[2] * tile[1] * wb + tile[0] * tile[2] * ab
    total = compute + max(0, ceil((dram - initial) / bw) - compute) + ceil(initial / bw)
    assert cost.total == total
    pes = R * C
    f_mhz = hw.clock_mhz
    static = total * 0.96923e3  # 0.96923 nJ per cycle, in pJ
    core = (total * hw.pe.leakage_uw + compute * hw.pe.dynamic_uw) / f_mhz * pes
    by = cost.energy.by_category()
    assert by["static"] == pytest.approx(static, rel=1e-12)
    assert by["pe"] + by["leakage"] == pytest.approx(core, rel=1e-12)
    dram_e = (dram - b * oc * ob) * 0.644304e3 / 1024 + b * oc * ob * 0.784104e3 / 1024
    assert by["dram"] == pytest.approx(dram_e, rel=1e-12)


def test_paper_mixpe_tags_and_packing():
    # The authors run MixPE-W4A8 with 4-bit activation tags: pf = int(8/4) = 2 on both sides.
    hw = load_hardware("paper-mixpe-w4a8")
    assert (hw.array.rows, hw.array.cols) == (64, 64)
    assert (hw.defaults.weight_bits, hw.defaults.act_bits) == (4, 4)
    assert pf(4, hw.pe.pack_pmax, hw.pe.pack_pmin) == 2
    assert hw.dram.background_pj_per_cycle == pytest.approx(969.23)

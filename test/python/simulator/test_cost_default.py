"""Default mode: internal consistency on random GEMMs, tile choice, and the precision rules."""

import pytest
from hypothesis import given, settings, strategies as st

from mixpe.simulator import estimate_gemm, load_hardware
from mixpe.hw import choose_tile
from mixpe.hw.tiling import check_tile_fits

PRESETS = ["mixpe-w4a8", "mixpe-w4a16", "int8", "w4a8-dequant", "w4a16-dequant", "bitfusion", "fp16"]
HW = {name: load_hardware(name) for name in PRESETS}


@settings(max_examples=50, deadline=None)
@given(name=st.sampled_from(PRESETS), df=st.sampled_from(["os", "ws", "nfold", None]),
       M=st.integers(1, 300), N=st.integers(1, 700), K=st.sampled_from([128, 256, 384, 1024, 2048]))
def test_default_mode_consistent(name, df, M, N, K):
    hw = HW[name]
    cost = estimate_gemm(hw, M, N, K, dataflow=df)
    assert cost.total == cost.compute + cost.fill_drain + cost.stall + cost.vector
    # Modelled time never beats the roofline: compute-only ideal and DRAM bits / bandwidth.
    assert cost.ideal_compute <= cost.compute
    assert cost.roofline_bound <= cost.total
    assert 0 < cost.utilisation <= 1
    assert cost.counts.dram_write_bits == M * N * hw.defaults.out_bits
    # Activations and weights are read from DRAM at least once, at their true widths.
    assert cost.counts.dram_read_bits >= M * K * cost.act_bits + K * N * cost.weight_bits


@pytest.mark.parametrize("objective", ["cycles", "energy", "edp"])
def test_choose_tile_fits_srams(objective):
    hw = HW["mixpe-w4a8"]
    choice = choose_tile(hw, 64, 4096, 4096, objective=objective)
    tm, tn, tk = choice.tile
    assert tk % hw.defaults.group_size == 0
    assert tk * tn * 4 <= hw.sram.capacity_bits("weight")
    assert tm * tk * 8 <= hw.sram.capacity_bits("act")
    chosen = estimate_gemm(hw, 64, 4096, 4096, objective=objective)
    assert (choice.cycles, choice.dataflow) == (chosen.total, chosen.dataflow)
    assert choice.energy_pj == pytest.approx(chosen.energy.total_pj, rel=1e-12)

    def score(c):
        return {"cycles": c.total, "energy": c.energy.total_pj, "edp": c.total * c.energy.total_pj}[objective]

    # It is the best of the tiles it considered: hand-picked alternatives that fit are no better.
    for tile in [(32, 37, 128), (64, 74, 512), (64, 1184, 128), (64, 148, 512), (64, 444, 256), (48, 222, 256)]:
        for df in ("os", "nfold"):
            try:
                check_tile_fits(hw, 64, 4096, 4096, tile, "mnk", dataflow=df)
            except ValueError:
                continue
            other = estimate_gemm(hw, 64, 4096, 4096, tile=tile, order="mnk", dataflow=df)
            assert score(other) >= score(chosen) * (1 - 1e-12)


def test_unknown_objective_is_refused():
    with pytest.raises(ValueError, match="unknown tile objective 'speed'"):
        choose_tile(HW["int8"], 8, 64, 64, objective="speed")


def test_dequant_placement_costs():
    # Same array and shape: in-loop dequantisation touches every streamed weight, the
    # epilogue only M*N*G outputs; with few tokens the epilogue does less vector work.
    M, N, K = 16, 1024, 1024
    w4a8 = estimate_gemm(HW["w4a8-dequant"], M, N, K)
    assert sum(w4a8.counts.vector_ops.values()) >= K * N
    mix = estimate_gemm(HW["mixpe-w4a8"], M, N, K)
    assert mix.counts.vector_ops["fma"] == 2 * M * N * (K // 128)


def test_precision_rules():
    hw = HW["mixpe-w4a8"]
    assert estimate_gemm(hw, 32, 64, 256, weight_bits=8).passes == 2
    with pytest.raises(ValueError, match="activations"):
        estimate_gemm(hw, 32, 64, 256, act_bits=16)
    bf = estimate_gemm(HW["bitfusion"], 32, 64, 256, weight_bits=4, act_bits=8)
    assert bf.counts.pe_ops == {"bitfusion_8b": 32 * 64 * 256 // 2}  # pf_w = int(8/4) = 2
    with pytest.raises(ValueError, match="mode"):
        estimate_gemm(hw, 1, 1, 1, mode="fast")
    with pytest.raises(ValueError, match="dataflow"):
        estimate_gemm(hw, 1, 1, 1, dataflow="rs")


def test_to_dict_is_json():
    import json
    cost = estimate_gemm(HW["mixpe-w4a16"], 8, 96, 512)
    d = json.loads(json.dumps(cost.to_dict()))
    assert d["cycles"]["total"] == cost.total

"""Energy and action counts, checked against numbers derived here from first principles."""

from math import ceil

import pytest

from mixpe.simulator import estimate_gemm, estimate_vector, load_hardware
from mixpe.hw import ActionCounts, combine


def fig(hw, dotted):
    """A figure straight from the hardware file (value), to derive expectations from."""
    node = hw
    for part in dotted.split("."):
        node = node[part] if isinstance(node, dict) or hasattr(node, "keys") else getattr(node, part)
    return node


def test_vector_energy_by_hand():
    hw = load_hardware("mixpe-w4a8")
    elems = 1000
    cost = estimate_vector(hw, "exp", elems)
    lanes, op = hw.vector.lanes, hw.vector.ops["exp"]
    cycles = ceil(elems / lanes) * op.cycles
    assert cost.cycles == cycles
    leak = cycles * hw.array.rows * hw.array.cols * hw.pe.leakage_uw / hw.clock_mhz
    leak += cycles * hw.vector.lanes * hw.vector.lane_leakage_uw / hw.clock_mhz  # the vector unit leaks too
    expected = elems * op.energy_pj + leak + cycles * hw.dram.background_pj_per_cycle
    assert cost.energy.total_pj == pytest.approx(expected, rel=1e-12)


def test_scalesim_counts_and_energy_by_hand():
    # int8 on 32x32 OS, 40x50x64: 2 row folds, 2 column folds.
    hw = load_hardware("int8")
    M, N, K = 40, 50, 64
    R, C = hw.array.rows, hw.array.cols
    cost = estimate_gemm(hw, M, N, K, mode="scalesim")
    c = cost.counts
    assert c.pe_ops == {"mac_int8": M * N * K}
    # Every column fold streams all activations, every row fold all weights (8-bit each).
    assert c.sram_read_bits["act"] == ceil(N / C) * M * K * 8
    assert c.sram_read_bits["weight"] == ceil(M / R) * N * K * 8
    assert c.dram_read_bits == (M * K + K * N) * 8
    assert c.dram_write_bits == M * N * hw.defaults.out_bits
    cycles = ceil(M / R) * ceil(N / C) * (K + R + C - 2) - 1
    e_pe = M * N * K * hw.pe.op_energy_pj
    e_dram = c.dram_read_bits * hw.dram.read_pj_per_bit + c.dram_write_bits * hw.dram.write_pj_per_bit
    e_sram = sum(c.sram_read_bits[b] * hw.sram.read_pj_per_bit[b]
                 + c.sram_write_bits[b] * hw.sram.write_pj_per_bit[b] for b in ("weight", "act", "out"))
    e_leak = cycles * (R * C * hw.pe.leakage_uw + hw.vector.lanes * hw.vector.lane_leakage_uw) / hw.clock_mhz
    assert cost.energy.total_pj == pytest.approx(e_pe + e_dram + e_sram + e_leak, rel=1e-12)


def test_dequantiser_leaks_every_cycle():
    # w4a8-dequant's 256 in-loop lanes leak for as long as the GEMM runs; int8 has none.
    hw = load_hardware("w4a8-dequant")
    cost = estimate_gemm(hw, 64, 256, 256)
    per_cycle = hw.dequant.lanes * hw.dequant.lane_leakage_uw / hw.clock_mhz
    assert cost.energy.by_action["dequant_leak_cycle"] == pytest.approx(cost.total * per_cycle, rel=1e-12)
    assert "dequant_leak_cycle" not in estimate_gemm(load_hardware("int8"), 64, 256, 256).energy.by_action


@pytest.mark.parametrize("M", [64, 1024])
def test_default_mode_dram_traffic_by_hand(M):
    # Explicit tile, loop order m, n, k (k innermost, nk > 1): each step loads a new weight tile
    # and a new activation tile, so weights (and their fp16 scale + zero) are read once per
    # m-tile and activations once per n-tile - unless all M x K activations fit the (halved)
    # activation buffer (M = 64: 256 Kbit of 1 Mbit), which then keeps them after their first
    # visit; outputs are written once.
    hw = load_hardware("mixpe-w4a8")
    N, K, g = 592, 512, 128
    tm, tn, tk = 32, 74, 256
    cost = estimate_gemm(hw, M, N, K, group_size=g, tile=(tm, tn, tk))
    w_bits = K * N * 4 + (K // g) * N * (hw.dequant.scale_bits + 4)  # scale + 4-bit zero per group
    assert w_bits > hw.sram.capacity_bits("weight")  # weights never stay whole
    act_fits = M * K * 8 <= hw.sram.capacity_bits("act")
    assert act_fits == (M == 64)
    act_reads = 1 if act_fits else N // tn
    assert cost.counts.dram_read_bits == (M // tm) * w_bits + act_reads * M * K * 8
    assert cost.counts.dram_write_bits == M * N * hw.defaults.out_bits
    # Epilogue dequantisation: 2 fma + 1 int->float cast per (m, group, n), group sums per x.
    G = K // g
    assert cost.counts.vector_ops == {"fma": 2 * M * N * G, "cast": M * N * G, "add": M * K}
    assert cost.counts.pe_ops == {"shift_add_4b": M * N * K}


def test_in_loop_dequant_counts_by_hand():
    # Conventional design: every weight streamed into the OS array is dequantised, once per
    # row fold of every tile: K * N * ceil(M / R) for a single tile.
    hw = load_hardware("w4a8-dequant")
    M, N, K = 64, 64, 256
    cost = estimate_gemm(hw, M, N, K, tile=(M, N, K))
    assert cost.counts.vector_ops == {"dequant_int8": K * N * ceil(M / hw.array.rows)}


def test_counts_are_checked():
    with pytest.raises(ValueError):
        ActionCounts(dram_read_bits=-1)
    with pytest.raises(TypeError):
        ActionCounts(pe_ops={"mac_int8": 1.5})
    with pytest.raises(TypeError):
        ActionCounts(vector_ops={"add": True})


@pytest.mark.parametrize("preset,mode", [("mixpe-w4a8", "default"), ("w4a16-dequant", "default"),
                                         ("paper-mixpe-w4a8", "paper"), ("fp16", "scalesim")])
def test_counts_non_negative_ints(preset, mode):
    hw = load_hardware(preset)
    cost = estimate_gemm(hw, 48, 200, 384, mode=mode)
    for value in _leaves(cost.counts.to_dict()):
        assert type(value) is int and value >= 0
    for value in (cost.compute, cost.fill_drain, cost.stall, cost.vector, cost.total):
        assert type(value) is int and value >= 0


def _leaves(d):
    for v in d.values():
        yield from (_leaves(v) if isinstance(v, dict) else [v])


def test_combine_sums():
    hw = load_hardware("mixpe-w4a16")
    parts = [estimate_gemm(hw, 16, 64, 256), estimate_vector(hw, "silu", 1024)]
    total = combine(parts)
    assert total.total == sum(p.total for p in parts)
    assert total.energy.total_pj == pytest.approx(sum(p.energy.total_pj for p in parts))
    assert total.counts.vector_ops["silu"] == 1024
    assert total.to_dict()["items"] == 2

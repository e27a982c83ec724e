"""Issue #13's pins for the default cost model: decode is memory-bound through the nfold mapping,
fill/drain is not paid again while an output tile stays in the array, an in-loop dequantiser
that cannot keep up stalls the array, and each tile objective is the best at what it minimises."""

import dataclasses

import pytest
from hypothesis import given, settings, strategies as st

from mixpe.hw import load_hardware
from mixpe.simulator import estimate_gemm

DEFAULTS = ["mixpe-w4a8", "mixpe-w4a16", "int8", "w4a8-dequant", "w4a16-dequant", "bitfusion", "fp16", "ant", "olive"]
HW = {name: load_hardware(name) for name in DEFAULTS}


def weight_cycles(hw, cost) -> float:
    g = cost.group_size
    bits = cost.K * cost.N * cost.weight_bits + ((cost.K // g) * cost.N * (16 + cost.weight_bits) if g else 0)
    assert not g or hw.dequant.scale_bits == 16  # fp16 scales; zero points at the weight width
    return bits / hw.dram.bandwidth_bits_per_cycle


@pytest.mark.parametrize("name", DEFAULTS)
def test_decode_reaches_its_roofline(name):
    hw = HW[name]
    for M in (1, 3, 8):
        c = estimate_gemm(hw, M, 4096, 4096)
        roof = max(weight_cycles(hw, c), c.ideal_compute)
        assert c.total <= 1.10 * roof, (M, c.dataflow, c.tile)
        assert c.dram_traffic_ratio == pytest.approx(1.0, abs=0.01)  # every weight read once


@pytest.mark.parametrize("name", ["int8", "mixpe-w4a8", "w4a8-dequant", "bitfusion"])
def test_one_token_is_memory_bound_and_tokens_on_rows_is_not(name):
    hw = HW[name]
    c = estimate_gemm(hw, 1, 4096, 4096)
    assert c.dataflow == "nfold"
    assert c.dram_cycles > c.ideal_compute  # memory-bound: weight traffic decides
    # Forcing tokens onto rows (one of 32 rows busy) makes it array-bound, several times slower.
    os_ = estimate_gemm(hw, 1, 4096, 4096, dataflow="os")
    assert os_.total > 3 * c.total


def test_decode_speedup_follows_weight_bytes():
    # Both memory-bound at one token: int8 streams 8-bit weights, w4a8-dequant 4-bit weights
    # plus an fp16 scale and a 4-bit zero per 128: the speedup is the weight-byte ratio, not a
    # column ratio.
    i8 = estimate_gemm(HW["int8"], 1, 4096, 4096)
    w4 = estimate_gemm(HW["w4a8-dequant"], 1, 4096, 4096)
    bytes_ratio = weight_cycles(HW["int8"], i8) / weight_cycles(HW["w4a8-dequant"], w4)
    assert bytes_ratio == pytest.approx(8 / (4 + 20 / 128))
    assert i8.total / w4.total == pytest.approx(bytes_ratio, rel=0.05)


def test_no_repeated_fill_drain_while_the_output_tile_stays():
    hw = HW["int8"]
    R, C = hw.array.rows, hw.array.cols
    M, N, K = 64, 64, 1024
    tile = (R, C, 256)  # one fold per tile, four K tiles
    resident = estimate_gemm(hw, M, N, K, tile=tile, order="mnk", dataflow="os")
    out_tiles = (M // R) * (N // C)
    assert resident.fill_drain == out_tiles * (R + C - 2)  # once per output tile
    assert resident.counts.sram_write_bits["out"] == M * N * hw.pe.acc_bits  # psums leave once
    # k outermost: the output tile leaves the array after every K tile.
    rotating = estimate_gemm(hw, M, N, K, tile=tile, order="kmn", dataflow="os")
    assert rotating.fill_drain == out_tiles * (K // 256) * (R + C - 2)
    assert rotating.counts.sram_write_bits["out"] == M * N * hw.pe.acc_bits * (K // 256)
    # A tile of several folds cannot stay in the PEs: fill/drain per fold per K tile.
    multi = estimate_gemm(hw, M, N, K, tile=(2 * R, C, 256), order="mnk", dataflow="os")
    assert multi.fill_drain == (M // R) * (N // C) * (K // 256) * (R + C - 2)


def test_in_loop_dequantiser_stalls_the_array_when_it_cannot_keep_up():
    hw = HW["w4a8-dequant"]
    lanes = hw.dequant.lanes
    assert lanes is not None and lanes >= 256  # sized to the DRAM weight rate (docs/hardware.md)
    fast = estimate_gemm(hw, 1, 4096, 4096)
    assert fast.vector == 0  # hidden behind the weight stream
    slow_hw = dataclasses.replace(hw, dequant=dataclasses.replace(hw.dequant, lanes=16))
    slow = estimate_gemm(slow_hw, 1, 4096, 4096, tile=fast.tile, order=fast.order, dataflow=fast.dataflow)
    assert slow.vector_busy == 4096 * 4096 // 16  # one weight per lane per cycle
    array = slow.compute + slow.fill_drain + slow.stall
    assert slow.vector == slow.vector_busy - array > 0  # the array waits for the dequantiser
    assert slow.total == slow.vector_busy


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(DEFAULTS), M=st.sampled_from([1, 5, 64, 300]), N=st.sampled_from([96, 1000, 4096]),
       K=st.sampled_from([128, 1024, 4096]))
def test_each_objective_is_best_at_what_it_minimises(name, M, N, K):
    hw = HW[name]
    by = {o: estimate_gemm(hw, M, N, K, objective=o) for o in ("cycles", "energy", "edp")}
    e = {o: c.energy.total_pj for o, c in by.items()}
    t = {o: c.total for o, c in by.items()}
    assert e["energy"] <= e["cycles"] * (1 + 1e-12)  # energy-optimal tiles never cost more energy
    assert e["energy"] <= e["edp"] * (1 + 1e-12)
    assert t["cycles"] <= t["energy"] and t["cycles"] <= t["edp"]
    assert t["edp"] * e["edp"] <= min(t[o] * e[o] for o in by) * (1 + 1e-12)
    for c in by.values():
        assert c.dram_traffic_ratio >= 1.0 - 1e-12  # nothing beats reading each operand once


def test_cycle_optimal_prefill_tiles_multiply_dram_traffic():
    # The audit's finding: fewest cycles picks tiny output tiles that re-read operands many times.
    hw = HW["int8"]
    fast = estimate_gemm(hw, 512, 4096, 4096, objective="cycles")
    lean = estimate_gemm(hw, 512, 4096, 4096, objective="energy")
    assert fast.dram_traffic_ratio > 3 * lean.dram_traffic_ratio
    assert fast.energy.total_pj > 2 * lean.energy.total_pj
    assert lean.total <= 1.15 * fast.total


def test_reports_carry_their_provenance(tmp_path):
    # Two reports of the same command differ in provenance when a hardware figure changed.
    from mixpe.hw.results import COST_MODEL_VERSION
    from mixpe.simulator.report import provenance

    hw = HW["int8"]
    p = provenance(hw)
    assert p["cost_model"] == COST_MODEL_VERSION and len(p["hardware_sha256"]) == 64
    assert provenance(load_hardware("int8")) == p  # deterministic
    other = dataclasses.replace(hw, dram=dataclasses.replace(hw.dram, read_pj_per_bit=4.0))
    assert provenance(other)["hardware_sha256"] != p["hardware_sha256"]


@pytest.mark.parametrize("name, array, group", [("ant", (128, 128), None), ("mixpe-w4a8", None, 4096)])
def test_tiles_below_one_fold_when_no_aligned_tile_fits(name, array, group):
    # A 128 x 128 fused array's aligned output tile (256 x 256 psums) overflows the output
    # buffer; a whole-K group forces tk = K = 4096, so 37 columns of weights overflow the weight
    # buffer. Partial folds still run (slower per PE), where the search used to give up.
    hw = HW[name]
    if array:
        hw = dataclasses.replace(hw, array=dataclasses.replace(hw.array, rows=array[0], cols=array[1]))
    c = estimate_gemm(hw, 512, 4096, 4096, group_size=group)
    assert c.tile[0] < hw.array.rows * 2 or c.tile[1] < hw.array.cols
    assert c.total >= c.ideal_compute

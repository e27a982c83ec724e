"""The ANT and OliVe baseline presets (docs/baselines.md): they load, every figure is sourced,
they fit the iso-area budget, and they cost LLM GEMMs at their precisions."""

import math
import tomllib

import pytest

from mixpe.hw import PRESET_DIR, energy_table, load_hardware, pe_op_kind
from mixpe.simulator import estimate_gemm

BASELINES = ["ant", "olive"]
HW = {name: load_hardware(name) for name in BASELINES}
# the PE-array area of the 32x32 INT8 MAC array, every default preset's budget (int8.toml)
_INT8 = load_hardware("int8")
BUDGET_UM2 = _INT8.array.rows * _INT8.array.cols * _INT8.pe.area_um2

# LLaMA-2-7B linears (K, N) and the two phases
LINEARS = [(4096, 12288), (4096, 4096), (4096, 11008), (11008, 4096)]
PHASES = {"decode": 1, "prefill": 128}


def _figures(node, path=""):
    """(dotted path, table) of every {value, source} table of a raw TOML tree."""
    if isinstance(node, dict):
        if "value" in node:
            yield path, node
            return
        for key, value in node.items():
            yield from _figures(value, f"{path}.{key}" if path else key)


def _numbers_outside_figures(node, path=""):
    """Dotted paths of numbers that are not the value of a {value, source} table (the
    [assumptions] overrides are sourced per side, checked in test_assumption_sides_sourced)."""
    if isinstance(node, dict):
        if "value" in node:
            return
        for key, value in node.items():
            if not path and key == "assumptions":
                continue
            yield from _numbers_outside_figures(value, f"{path}.{key}" if path else key)
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path


@pytest.mark.parametrize("name", BASELINES)
def test_loads_on_the_default_base(name):
    hw = HW[name]
    assert hw.name == name
    raw = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text())
    assert raw["base"] == "_base-28nm"
    assert hw.pe.area_um2 is not None and hw.pe.op_energy_pj is not None  # component-derived


@pytest.mark.parametrize("name", BASELINES)
def test_every_figure_sourced(name):
    raw = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text())
    assert list(_numbers_outside_figures(raw)) == []
    figures = dict(_figures(raw))
    assert figures, "no figures"
    for path, table in figures.items():
        assert set(table) == {"value", "source"}, path
        assert isinstance(table["source"], str) and table["source"].strip(), path
    hw = HW[name]
    for key in ("array.rows", "array.cols", "pe.area_um2", "pe.op_energy_pj", "pe.leakage_uw",
                "workload.weight_bits", "workload.act_bits", "workload.group_size"):
        assert hw.sources[key].strip(), key
    # figures that are not read from the design's paper or code say so
    for key in ("pe.area_um2", "pe.op_energy_pj"):
        assert "estimate" in hw.sources[key], key


@pytest.mark.parametrize("name", BASELINES)
def test_assumption_sides_sourced(name):
    raw = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text())
    assert "vector_unit" in raw["assumptions"]
    for spec in raw["assumptions"].values():
        for side in ("low", "high"):
            assert spec[side]["source"].strip()


@pytest.mark.parametrize("name", BASELINES)
def test_array_is_derived_iso_area(name):
    raw = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text())
    assert "cols" not in raw["array"]
    hw = HW[name]
    assert hw.array.cols == {"ant": 14, "olive": 42}[name]
    assert hw.sources["array.cols"].startswith("derived (iso-area): ")


@pytest.mark.parametrize("name", BASELINES)
def test_iso_area(name):
    hw = HW[name]
    rows, cols, area = hw.array.rows, hw.array.cols, hw.pe.area_um2
    assert math.isclose(BUDGET_UM2, 166_113.28)
    assert rows * cols * area <= 166_114
    assert rows * (cols + 1) * area > 166_114, "one more column would still fit the budget"


@pytest.mark.parametrize("name", BASELINES)
def test_workload_precision(name):
    d = HW[name].defaults
    assert (d.weight_bits, d.act_bits, d.group_size) == (4, 4, 0)


def test_ant_8bit_layers_cost_more_than_4bit():
    """ANT fuses four 4-bit sub-PEs for one 8-bit product: a W8A8 layer has a quarter of the
    W4A4 throughput."""
    hw = HW["ant"]
    M, K, N = 128, 4096, 4096
    c4 = estimate_gemm(hw, M, N, K, weight_bits=4, act_bits=4)
    c8 = estimate_gemm(hw, M, N, K, weight_bits=8, act_bits=8)
    assert (c4.passes, c8.passes) == (1, 1)
    assert abs(c8.ideal_compute - 4 * c4.ideal_compute) < 4  # ceil(MACs / (PEs x packing))
    assert c8.total > c4.total
    assert c8.energy.total_pj > c4.energy.total_pj
    kind = pe_op_kind(hw)
    assert c8.counts.pe_ops[kind] == 4 * c4.counts.pe_ops[kind] == M * N * K
    # mixed: 8-bit weights with 4-bit activations pack activations only
    c84 = estimate_gemm(hw, M, N, K, weight_bits=8, act_bits=4)
    assert c4.ideal_compute < c84.ideal_compute < c8.ideal_compute


def test_olive_is_a_4bit_pe():
    hw = HW["olive"]
    c4 = estimate_gemm(hw, 128, 4096, 4096)
    w8 = estimate_gemm(hw, 128, 4096, 4096, weight_bits=8)
    assert (c4.passes, w8.passes) == (1, 2)
    assert abs(w8.ideal_compute - 2 * c4.ideal_compute) < 2  # ceil(MACs x passes / PEs)
    with pytest.raises(ValueError, match="8-bit activations do not fit the 4-bit PE"):
        estimate_gemm(hw, 128, 4096, 4096, act_bits=8)


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("phase", sorted(PHASES))
@pytest.mark.parametrize("mode", ["default", "scalesim"])
def test_llm_gemms_cost(name, phase, mode):
    hw = HW[name]
    for K, N in LINEARS:
        c = estimate_gemm(hw, PHASES[phase], N, K, mode=mode)
        assert (c.weight_bits, c.act_bits, c.group_size) == (4, 4, 0)
        assert c.total > 0 and c.energy.total_pj > 0
        assert c.vector == 0  # per-channel scales: no per-group dequantisation
        if mode == "default":
            assert c.total == c.compute + c.fill_drain + c.stall + c.vector
            assert c.roofline_bound <= c.total


@pytest.mark.parametrize("name", BASELINES)
def test_energy_rows(name):
    hw = HW[name]
    table = energy_table(hw)
    kind = pe_op_kind(hw)
    assert kind == {"ant": "bitfusion_8b", "olive": "mac_int8"}[name]
    for row in (kind, "pe_leak_cycle", "dram_read_bit", "dram_write_bit",
                *(f"sram_{b}_{rw}_bit" for b in ("weight", "act", "out") for rw in ("read", "write"))):
        assert row in table and table[row].source.strip(), row
    assert table[kind].pj == hw.pe.op_energy_pj
    assert math.isclose(table["pe_leak_cycle"].pj, hw.pe.leakage_uw / hw.clock_mhz)
    c = estimate_gemm(hw, 128, 4096, 4096)
    by_action = c.energy.by_action
    assert by_action[kind] == c.counts.pe_ops[kind] * hw.pe.op_energy_pj
    assert by_action["pe_leak_cycle"] > 0 and by_action["dram_read_bit"] > 0
    categories = c.energy.by_category()
    assert categories["pe"] > 0 and categories["leakage"] > 0 and categories["vector"] == 0


def test_leakage_follows_the_default_ratio():
    """Leakage = 0.2297 x dynamic power at full activity, as every default preset."""
    for hw in HW.values():
        dynamic_uw = hw.pe.op_energy_pj * hw.clock_mhz
        assert math.isclose(hw.pe.leakage_uw, 0.2297 * dynamic_uw, rel_tol=1e-3)

"""Area as data: the iso-area budget, derived array columns, the area breakdown, the sized dequantisers."""

import dataclasses
import math
import shutil

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mixpe.hw import PRESET_DIR, HardwareError, list_presets, load_hardware
from mixpe.hw.area import (AREA_28NM, H_AREA, dequant_sizing, floor_cols, main, prefill_dequant_sizing,
                           sram_pj_per_bit, unit_area_um2, vector_lane_cycles_per_group, vector_lanes_needed,
                           vector_sizing)
from mixpe.hw.ranges import SIDES, load_variant
from mixpe.simulator import estimate_gemm

DEFAULTS = ("int8", "mixpe-w4a8", "mixpe-w4a16", "fp16", "w4a16-dequant", "w4a8-dequant", "bitfusion", "ant", "olive")
IN_LOOP = ("w4a8-dequant", "w4a16-dequant")


def test_budget_is_the_int8_reference_design():
    int8 = load_hardware("int8")
    assert (int8.array.rows, int8.array.cols) == (32, 32)
    a = int8.area
    assert a["total"] == pytest.approx(a["budget"])
    assert a["budget"] == pytest.approx(1024 * 162.22 + 32 * 4601.02)
    assert a["dequant"] == 0


def test_component_figures_match_their_derivation():
    # lane areas and PE areas are the stated Horowitz sums x (28/45)^2, rounded to 0.01 um^2
    # (the PE figures kept from before use the rounded factor 0.3872, hence rel=1e-4)
    int8, vec = load_hardware("int8"), load_hardware("int8").vector
    assert vec.lane_area_um2 == pytest.approx(unit_area_um2("fp32 FMA vector lane"), abs=0.006)
    assert int8.pe.area_um2 == pytest.approx(unit_area_um2("int8 MAC PE"), abs=0.006)
    assert load_hardware("fp16").pe.area_um2 == pytest.approx(unit_area_um2("fp16 MAC PE, fp32 accumulation"), rel=1e-4)
    assert load_hardware("w4a8-dequant").dequant.lane_area_um2 == pytest.approx(
        unit_area_um2("int4->int8 dequant lane"), abs=0.006)
    assert load_hardware("w4a16-dequant").dequant.lane_area_um2 == pytest.approx(
        unit_area_um2("int4->fp16 dequant lane"), abs=0.006)
    # the vector unit is ~89% of the INT8 PE array (issue #13)
    assert 0.85 < 32 * vec.lane_area_um2 / (1024 * int8.pe.area_um2) < 0.92
    assert AREA_28NM == pytest.approx(0.3872, abs=1e-4) and H_AREA["fadd32"] == 4184


@pytest.mark.parametrize("name", DEFAULTS)
def test_default_presets_derive_cols_within_budget(name):
    hw = load_hardware(name)
    a = hw.area
    assert a["total"] == pytest.approx(a["pe_array"] + a["vector"] + a["dequant"])
    assert a["total"] <= a["budget"] * (1 + 1e-9)
    assert a["total"] + hw.array.rows * hw.pe.area_um2 > a["budget"]  # one more column does not fit
    src = hw.sources["array.cols"]
    assert src.startswith("derived (iso-area): floor((area.budget_um2 ") and src.endswith(f"= {hw.array.cols}")
    if hw.dequant.lanes:
        assert f"dequant {hw.dequant.lanes} x" in src


def _cap(hw):
    # decode streams each weight once: at most the DRAM rate (the weight port is at least as wide)
    assert (hw.sram.weight_port_bits or 0) >= hw.dram.bandwidth_bits_per_cycle
    return hw.dram.bandwidth_bits_per_cycle // hw.defaults.weight_bits


# the in-loop dequantisers are sized for decode (dequant_sizing) at nominal and in every variant
# but dequant_sizing low (sized for prefill, below)
DECODE_SIZED = [(None, None), *((a, s) for a in ("fp_mac", "vector_unit") for s in SIDES), ("dequant_sizing", "high")]


@pytest.mark.parametrize("name,assumption,side", [(n, a, s) for n in IN_LOOP for a, s in DECODE_SIZED])
def test_in_loop_dequantisers_are_sized_by_dequant_sizing(name, assumption, side):
    hw = load_hardware(name) if side is None else load_variant(name, assumption, side)
    avail = hw.area["budget"] - hw.area["vector"]
    lanes, cols = dequant_sizing(avail, hw.array.rows, hw.pe.area_um2, hw.dequant.lane_area_um2, _cap(hw))
    assert (hw.dequant.lanes, hw.array.cols) == (lanes, cols)


def test_dequantiser_sizes():
    w4a8, w4a16 = load_hardware("w4a8-dequant"), load_hardware("w4a16-dequant")
    assert (w4a8.dequant.lanes, w4a8.num_pes) == (256, 800)  # DRAM rate: 1024 bit / 4 bit
    assert (w4a16.dequant.lanes, w4a16.num_pes) == (56, 56)  # keeps up with R x C
    for name in ("mixpe-w4a8", "mixpe-w4a16", "bitfusion", "int8", "fp16", "ant", "olive"):
        assert load_hardware(name).dequant.lanes is None  # epilogue / no dequantisation: vector unit


def test_int4_to_fp16_lane_is_an_fp16_multiply():
    # (q - z): a 4-bit subtract (half an 8-bit add); int4 -> fp16: a lookup; then one fp16 mult
    hw = load_hardware("w4a16-dequant")
    assert hw.dequant.lane_area_um2 == pytest.approx((H_AREA["fmult16"] + H_AREA["add8"] / 2) * AREA_28NM, abs=0.006)
    op = hw.vector.ops["dequant_fp16"]
    assert op.energy_pj == pytest.approx(1.1 * 28 / 45, abs=6e-5)
    assert hw.dequant.lane_leakage_uw == pytest.approx(0.2297 * op.energy_pj * hw.clock_mhz, abs=0.006)


# ---- vector_unit: the lanes a design's GEMMs need ----

def test_lanes_needed_formula():
    # (m, n, group) per cycle = PEs x packing / g; lanes = ceil(lane-cycles per (m, n, group) x that)
    assert vector_lanes_needed(load_hardware("mixpe-w4a8")) == math.ceil(3 * 32 * 37 / 128) == 28
    assert vector_lanes_needed(load_hardware("bitfusion")) == math.ceil(3 * 32 * 19 * 2 / 128) == 29  # pf_w = 2
    assert vector_lanes_needed(load_hardware("mixpe-w4a16")) == math.ceil(2 * 8 * 12 / 128) == 2  # fp: 2 fma
    for name in ("int8", "fp16", "ant", "olive", *IN_LOOP):
        hw = load_hardware(name)
        assert vector_lane_cycles_per_group(hw) == 0 and vector_lanes_needed(hw) == 1, name
    # at nominal the shared 32-lane unit keeps up with every design's epilogue
    assert all(vector_lanes_needed(load_hardware(n)) <= 32 for n in DEFAULTS)


def _afforded(hw, cols):
    """Vector lanes the budget leaves beside ``cols`` columns and the file's dequantiser."""
    left = hw.area["budget"] - hw.area["dequant"] - hw.array.rows * cols * hw.pe.area_um2
    return math.floor(left / hw.vector.lane_area_um2 * (1 + 1e-9))


@pytest.mark.parametrize("name", DEFAULTS)
def test_vector_sizing_is_the_fixed_point(name):
    hw = load_hardware(name)
    lanes, cols = vector_sizing(hw)
    # the loader's derivation with these lanes gives these columns
    avail = hw.area["budget"] - hw.area["dequant"]
    assert floor_cols(avail - lanes * hw.vector.lane_area_um2, hw.array.rows, hw.pe.area_um2) == cols
    assert vector_lanes_needed(hw, cols) <= lanes <= _afforded(hw, cols)
    # one more column would need more lanes than the area leaves beside it
    assert vector_lanes_needed(hw, cols + 1) > _afforded(hw, cols + 1)
    # the fewest lanes: one fewer stalls the array it buys
    if lanes > 1:
        fewer = floor_cols(avail - (lanes - 1) * hw.vector.lane_area_um2, hw.array.rows, hw.pe.area_um2)
        assert vector_lanes_needed(hw, fewer) > lanes - 1


@settings(max_examples=60, deadline=None)
@given(base=st.sampled_from(("mixpe-w4a8", "bitfusion", "mixpe-w4a16")), rows=st.integers(1, 64),
       pe=st.floats(150, 5000), g=st.sampled_from((32, 64, 128, 256)), budget=st.floats(2e4, 2e6))
def test_vector_sizing_fixed_point_property(base, rows, pe, g, budget):
    nominal = load_hardware(base)
    # the guarantees hold when a column of PEs is at least a lane's area (vector_sizing)
    assume(rows * pe >= nominal.vector.lane_area_um2)
    hw = dataclasses.replace(nominal, array=dataclasses.replace(nominal.array, rows=rows),
                             pe=dataclasses.replace(nominal.pe, area_um2=pe), area_budget_um2=budget,
                             defaults=dataclasses.replace(nominal.defaults, group_size=g))
    try:
        lanes, cols = vector_sizing(hw)
    except ValueError:  # not one column beside the lanes it needs
        assert vector_lanes_needed(hw, 1) > _afforded(hw, 1)
        return
    assert vector_lanes_needed(hw, cols) <= lanes <= _afforded(hw, cols)
    assert floor_cols(budget - lanes * hw.vector.lane_area_um2, rows, pe) == cols
    assert vector_lanes_needed(hw, cols + 1) > _afforded(hw, cols + 1)


@pytest.mark.parametrize("name", DEFAULTS)
def test_vector_unit_low_is_the_lanes_the_gemms_need(name):
    hw, low = load_hardware(name), load_variant(name, "vector_unit", "low")
    lanes, cols = vector_sizing(hw)
    assert low.vector.lanes == lanes
    if name != "w4a16-dequant":  # its dequantiser is re-sized (test_in_loop_dequantisers_...)
        assert low.array.cols == cols
    assert vector_lanes_needed(low) <= low.vector.lanes
    assert low.num_pes >= hw.num_pes and low.area["total"] <= low.area["budget"] * (1 + 1e-9)
    assert f"vector {lanes} x" in low.sources["array.cols"]


def test_vector_unit_sides_move_the_headline():
    pes = {n: (load_variant(n, "vector_unit", "low").num_pes, load_hardware(n).num_pes,
               load_variant(n, "vector_unit", "high").num_pes) for n in DEFAULTS}
    assert pes["int8"] == (1888, 1024, 1024)
    assert pes["mixpe-w4a8"] == (1280, 1184, 1184)
    # low: int8 gains far more PEs than MixPE (whose epilogue needs 30 lanes)
    assert pes["mixpe-w4a8"][1] > pes["int8"][1] and pes["mixpe-w4a8"][0] < pes["int8"][0]
    # high: a 64-lane unit in every design, in a budget grown by the same 32 lanes: nominal PEs
    for name in DEFAULTS:
        hi = load_variant(name, "vector_unit", "high")
        assert hi.vector.lanes == 64 and hi.num_pes == pes[name][1], name
        assert hi.area["budget"] == pytest.approx(1024 * 162.22 + 64 * hi.vector.lane_area_um2)


# ---- dequant_sizing: sized for decode (nominal) or for prefill (low) ----

@pytest.mark.parametrize("name", IN_LOOP)
def test_dequant_sizing_low_is_sized_for_prefill(name):
    hw, low = load_hardware(name), load_variant(name, "dequant_sizing", "low")
    avail = hw.area["budget"] - hw.area["vector"]
    lanes, cols = prefill_dequant_sizing(avail, hw.array.rows, hw.pe.area_um2, hw.dequant.lane_area_um2)
    assert (low.dequant.lanes, low.array.cols) == (lanes, cols)
    assert lanes >= cols  # keeps up with an output-stationary array's columns ...
    assert floor_cols(avail - (lanes - 1) * hw.dequant.lane_area_um2, hw.array.rows, hw.pe.area_um2) > lanes - 1
    assert low.num_pes > hw.num_pes  # ... so it keeps more PEs than decode sizing
    assert load_variant(name, "dequant_sizing", "high").dequant.lanes == hw.dequant.lanes  # nominal = the top


def test_dequant_sizing_low_stalls_decode_not_prefill():
    hw, low = load_hardware("w4a8-dequant"), load_variant("w4a8-dequant", "dequant_sizing", "low")
    assert (low.dequant.lanes, low.num_pes) == (31, 992)
    assert estimate_gemm(hw, 1, 4096, 4096).vector == 0
    assert estimate_gemm(low, 1, 4096, 4096).vector > 0  # decode waits on the 31 lanes
    assert estimate_gemm(low, 128, 4096, 4096).vector == 0  # prefill does not
    assert estimate_gemm(load_variant("w4a16-dequant", "dequant_sizing", "low"), 1, 4096, 4096).vector > 0


def test_paper_presets_have_no_area_total():
    for name in list_presets():
        if name.startswith("paper-"):
            hw = load_hardware(name)
            assert hw.pe.area_um2 is None and hw.area["total"] is None and hw.area["pe_array"] is None


def test_sram_interpolation_hits_horowitz_points():
    for kib, pj64 in ((8, 10.0), (32, 20.0), (1024, 100.0)):
        assert sram_pj_per_bit(kib, node_28nm=False) == pytest.approx(pj64 / 64)
    assert sram_pj_per_bit(128) == pytest.approx(sram_pj_per_bit(128, node_28nm=False) * 28 / 45)
    base = load_hardware("int8").sram
    assert base.read_pj_per_bit["weight"] == pytest.approx(sram_pj_per_bit(128), abs=6e-5)
    assert base.read_pj_per_bit["act"] == pytest.approx(sram_pj_per_bit(256), abs=6e-5)


@given(st.floats(1, 4096), st.floats(1, 4096))
def test_sram_interpolation_is_monotone(a, b):
    lo, hi = sorted((a, b))
    assert sram_pj_per_bit(lo) <= sram_pj_per_bit(hi) * (1 + 1e-12)


def test_area_command_prints_every_default_preset(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in DEFAULTS:
        assert f"| `{name}` | " in out
    assert "`fp16` fp_mac high" in out
    assert "`int8` vector_unit low | 32x59 | 1888 |" in out
    assert "`w4a8-dequant` dequant_sizing low | 32x31 | 992 |" in out


# ---- hand-written files: the derivation and its errors ----

FILE = """
name = "t"
[area]
budget_um2 = {{ value = {budget}, source = "test" }}
[array]
rows = {{ value = {rows}, source = "test" }}
[pe]
type = "mac_int8"
weight_bits = {{ value = 8, source = "t" }}
act_bits = {{ value = 8, source = "t" }}
act_format = "int"
op_energy_pj = {{ value = 0.2, source = "t" }}
leakage_uw = {{ value = 1, source = "t" }}
area_um2 = {{ value = {pe}, source = "t" }}
[vector]
lanes = {{ value = {vlanes}, source = "t" }}
lane_area_um2 = {{ value = {vlane}, source = "t" }}
[workload]
weight_bits = {{ value = 8, source = "t" }}
act_bits = {{ value = 8, source = "t" }}
[dequant]
placement = "in_loop"
{dequant}
"""


@pytest.fixture
def write(tmp_path):
    shutil.copy(PRESET_DIR / "_base-28nm.toml", tmp_path)

    def _write(budget=10000.0, rows=4, pe=100.0, vlanes=2, vlane=500.0, dequant="", extra=""):
        path = tmp_path / "t.toml"
        path.write_text('base = "_base-28nm"\n' + FILE.format(budget=budget, rows=rows, pe=pe, vlanes=vlanes,
                                                              vlane=vlane, dequant=dequant) + extra)
        return str(path)

    return _write


@settings(max_examples=60, deadline=None)
@given(budget=st.floats(2000, 1e6), rows=st.integers(1, 64), pe=st.floats(10, 3000),
       vlanes=st.integers(1, 64), vlane=st.floats(1, 20), dlanes=st.integers(0, 300), dlane=st.floats(1, 50))
def test_cols_derivation_property(tmp_path_factory, budget, rows, pe, vlanes, vlane, dlanes, dlane):
    tmp = tmp_path_factory.mktemp("area")
    shutil.copy(PRESET_DIR / "_base-28nm.toml", tmp)
    dequant = f'lanes = {{ value = {dlanes}, source = "t" }}\nlane_area_um2 = {{ value = {dlane!r}, source = "t" }}' \
        if dlanes else ""
    path = tmp / "t.toml"
    path.write_text('base = "_base-28nm"\n' + FILE.format(budget=repr(budget), rows=rows, pe=repr(pe), vlanes=vlanes,
                                                          vlane=repr(vlane), dequant=dequant))
    avail = budget - vlanes * vlane - dlanes * dlane
    expect = math.floor(avail / (rows * pe) * (1 + 1e-9)) if avail > 0 else 0
    if expect < 1:
        with pytest.raises(HardwareError, match="area budget too small"):
            load_hardware(str(path))
        return
    hw = load_hardware(str(path))
    assert hw.array.cols == expect
    assert hw.area["total"] <= budget * (1 + 1e-9)
    assert hw.area["total"] + rows * pe > budget * (1 - 1e-9)


@pytest.mark.parametrize("kwargs,field,words", [
    (dict(dequant='lanes = { value = 8, source = "t" }'), "dequant.lane_area_um2", "required when dequant.lanes"),
    (dict(budget=900.0), "array.cols", "area budget too small"),
    (dict(pe=20000.0), "array.cols", "area budget too small"),
    (dict(dequant='lanes = { value = 100, source = "t" }\nlane_area_um2 = { value = 100, source = "t" }'),
     "array.cols", "area budget too small"),
    (dict(extra='[area.extra]\n'), "area.extra", "unknown"),
])
def test_area_errors(write, kwargs, field, words):
    with pytest.raises(HardwareError) as err:
        load_hardware(write(**kwargs))
    msg = str(err.value)
    assert "\n" not in msg and f"'{field}'" in msg and words in msg and "t.toml" in msg


def test_cols_missing_without_budget_or_pe_area(tmp_path):
    shutil.copy(PRESET_DIR / "_base-28nm.toml", tmp_path)
    text = (PRESET_DIR / "int8.toml").read_text()
    path = tmp_path / "v.toml"
    path.write_text(text.replace('area_um2 = { value = 162.22,', 'x_area = { value = 162.22,', 1)
                    .replace("x_area", "#", 1))
    with pytest.raises(HardwareError, match=r"'pe.area_um2': missing: needed to derive array.cols"):
        load_hardware(str(path))
    base = (PRESET_DIR / "_base-28nm.toml").read_text()
    (tmp_path / "_base-28nm.toml").write_text(base.replace("budget_um2 = {", "# budget_um2 = {", 1))
    path.write_text(text)
    with pytest.raises(HardwareError, match=r"'array.cols': missing \(give it, or area.budget_um2"):
        load_hardware(str(path))


def test_explicit_cols_are_kept(write):
    hw = load_hardware(write(extra=""))
    assert hw.array.cols == math.floor((10000 - 1000) / 400)
    path = write()
    text = open(path).read().replace('[array]\n', '[array]\ncols = { value = 3, source = "chosen" }\n', 1)
    open(path, "w").write(text)
    hw = load_hardware(path)
    assert hw.array.cols == 3 and hw.sources["array.cols"] == "chosen"

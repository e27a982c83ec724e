"""Hardware files: presets load, every figure is sourced, bad files fail with one clear line."""

import shutil

import pytest

from mixpe.hw import PRESET_DIR, HardwareError, list_presets, load_hardware

EXPECTED = {"mixpe-w4a8", "mixpe-w4a16", "fp16", "int8", "w4a16-dequant", "w4a8-dequant",
            "bitfusion", "paper-mixpe-w4a8", "paper-mixpe-w4a16", "paper-int8", "paper-fp16",
            "paper-bitfusion"}


def test_presets_listed_and_load():
    assert EXPECTED <= set(list_presets())
    for name in list_presets():
        hw = load_hardware(name)
        assert hw.name == name
        assert all(isinstance(s, str) and s.strip() for s in hw.sources.values())
        # every numeric field we read came with a source
        assert "dram.read_pj_per_bit" in hw.sources and "array.rows" in hw.sources


def test_paper_arrays_match_the_authors():
    sizes = {n: (load_hardware(n).array.rows, load_hardware(n).array.cols)
             for n in ("paper-mixpe-w4a8", "paper-mixpe-w4a16", "paper-int8", "paper-bitfusion", "paper-fp16")}
    assert sizes == {"paper-mixpe-w4a8": (64, 64), "paper-mixpe-w4a16": (32, 32), "paper-int8": (32, 32),
                     "paper-bitfusion": (32, 40), "paper-fp16": (32, 28)}


DEFAULTS = ("int8", "mixpe-w4a8", "mixpe-w4a16", "fp16", "w4a16-dequant", "w4a8-dequant", "bitfusion")


def test_default_presets_are_iso_area():
    # PEs + vector unit + dequantiser within the budget, and within one column of it.
    int8 = load_hardware("int8")
    budget = 32 * 32 * int8.pe.area_um2 + int8.vector.lanes * int8.vector.lane_area_um2
    for name in DEFAULTS:
        hw = load_hardware(name)
        assert hw.area["budget"] == pytest.approx(budget)
        assert hw.area["total"] <= budget * (1 + 1e-9)
        assert hw.area["total"] + hw.array.rows * hw.pe.area_um2 > budget
        assert hw.sources["array.cols"].startswith("derived (iso-area)")


def test_default_dram_is_realistic():
    for name in list_presets():
        hw = load_hardware(name)
        if not name.startswith("paper-"):
            assert hw.dram.read_pj_per_bit >= 3.0


@pytest.fixture
def make(tmp_path):
    """Write a variant of the int8 preset next to a copy of its base file."""
    shutil.copy(PRESET_DIR / "_base-28nm.toml", tmp_path)
    text = (PRESET_DIR / "int8.toml").read_text()

    def _make(old, new):
        assert old in text
        path = tmp_path / "variant.toml"
        path.write_text(text.replace(old, new, 1))
        return str(path)

    return _make


@pytest.mark.parametrize("old,new,field", [
    ('rows = { value = 32,', 'rows = { value = 0,', "array.rows"),
    ('rows = { value = 32,', 'cols = { value = -4, source = "x" }\nrows = { value = 32,', "array.cols"),
    ('type = "mac_int8"', 'type = "mac_int3"', "pe.type"),
    ('[pe]', '[array.extra]\n[pe]', None),
    ('act_format = "int"', 'act_format = "int"\n[array]\ndataflow = "is"', None),
    ('op_energy_pj = { value = 0.1867, source = "int8', 'op_energy_pj = { value = 0.1867, source = "", x = "',
     "pe.op_energy_pj"),
    ('leakage_uw = { value = 21.44, source = "0.2297 (authors PE leakage/dynamic ratio) x 0.1867 pJ x 500 MHz" }', '',
     "pe.leakage_uw"),
    ('[dequant]\nplacement = "in_loop"', '[dequant]\nplacement = "sometimes"', "dequant.placement"),
    # area: a dequantiser without its lane area; a budget too small for one column
    ('[dequant]\nplacement = "in_loop"', '[dequant]\nplacement = "in_loop"\nlanes = { value = 4, source = "x" }',
     "dequant.lane_area_um2"),
    ('area_um2 = { value = 162.22,', 'area_um2 = { value = 1e9,', "array.cols"),
    # assumptions: an unknown key, an override of an unknown figure
    ('[workload]', '[assumptions.a]\nwhat = "w"\nlow = { source = "s", "dram.read_pj_per_bit" = 1 }\n'
     'high = { source = "s", "dram.read_pj_per_bit" = 2 }\nmiddle = 3\n[workload]', "assumptions.a"),
    ('[workload]', '[assumptions.a]\nwhat = "w"\nlow = { source = "s", "dram.read_pj_per_bits" = 1 }\n'
     'high = { source = "s", "dram.read_pj_per_bit" = 2 }\n[workload]', "assumptions.a.low.dram.read_pj_per_bits"),
])
def test_validation_errors(make, old, new, field):
    with pytest.raises(HardwareError) as err:
        load_hardware(make(old, new))
    msg = str(err.value)
    assert "variant.toml" in msg and "\n" not in msg
    if field:
        assert f"'{field}'" in msg


def test_zero_bandwidth_and_unsourced(tmp_path):
    base = (PRESET_DIR / "_base-28nm.toml").read_text()
    shutil.copy(PRESET_DIR / "int8.toml", tmp_path / "int8.toml")
    for old, new, field in [
        ("bandwidth_bits_per_cycle = { value = 1024,", "bandwidth_bits_per_cycle = { value = 0,",
         "dram.bandwidth_bits_per_cycle"),
        ("mhz = { value = 500, source = ", "mhz = { value = 500, note = ", "clock.mhz"),
        ("lanes = { value = 32, source", "lanes = { value = 32.5, source", "vector.lanes"),
    ]:
        (tmp_path / "_base-28nm.toml").write_text(base.replace(old, new, 1))
        with pytest.raises(HardwareError, match=f"'{field}'"):
            load_hardware(str(tmp_path / "int8.toml"))


def test_unknown_preset_and_dataflow(make):
    with pytest.raises(HardwareError, match="unknown hardware preset"):
        load_hardware("no-such-preset")
    with pytest.raises(HardwareError, match="'array.dataflow'"):
        load_hardware(make('[array]\nrows', '[array]\ndataflow = "rs"\nrows'))

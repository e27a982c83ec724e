"""Ranges on decisive assumptions: [assumptions] in hardware files and mixpe.hw.ranges variants."""

import json
import shutil
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixpe.hw import PRESET_DIR, HardwareError, list_presets, load_hardware, read_table
from mixpe.hw.ranges import SIDES, Assumption, assumptions, load_variant, main, variant_table

DEFAULTS = ("int8", "mixpe-w4a8", "mixpe-w4a16", "fp16", "w4a16-dequant", "w4a8-dequant", "bitfusion", "ant", "olive")
FP_ACT = ("fp16", "mixpe-w4a16", "w4a16-dequant")
IN_LOOP = ("w4a8-dequant", "w4a16-dequant")


def to_toml(data: dict) -> str:
    """A minimal TOML writer (figures inline, keys quoted), enough to round-trip a variant."""
    lines: list[str] = []

    def scalar(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {scalar(x)}" for k, x in v.items()) + " }"
        return json.dumps(v)

    def section(path, table):
        leaves = {k: v for k, v in table.items() if not isinstance(v, dict) or "value" in v}
        if path:
            lines.append("[" + ".".join(json.dumps(p) for p in path) + "]")
        lines.extend(f"{json.dumps(k)} = {scalar(v)}" for k, v in leaves.items())
        for k, v in table.items():
            if isinstance(v, dict) and "value" not in v:
                section([*path, k], v)

    section([], data)
    return "\n".join(lines) + "\n"


def test_api_shape():
    assert SIDES == ("low", "high")
    a = assumptions("int8")[0]
    assert isinstance(a, Assumption) and {"name", "what", "low_source", "high_source"} <= set(vars(a))


def test_required_assumptions_are_declared():
    for name in DEFAULTS:
        names = {a.name for a in assumptions(name)}
        assert {"sram_energy", "dram_energy", "vector_unit"} <= names
        assert ("fp_mac" in names) == (name in FP_ACT), name
        assert ("dequant_sizing" in names) == (name in IN_LOOP), name
    for a in assumptions("fp16"):
        assert a.what.strip() and a.low_source.strip() and a.high_source.strip()


def test_paper_presets_declare_none():
    # _paper-base replaces the SRAM and DRAM figures the base's assumptions were written about
    for name in list_presets():
        if name.startswith("paper-"):
            assert assumptions(name) == []
            assert variant_table(name, "sram_energy", "low") == read_table(name)


@pytest.mark.parametrize("name", DEFAULTS)
@pytest.mark.parametrize("side", SIDES)
def test_variants_load_and_mark_their_sources(name, side):
    nominal = load_hardware(name)
    for a in assumptions(name):
        hw = load_variant(name, a.name, side)
        changed = [k for k, v in hw.sources.items() if v.startswith(f"assumption {a.name} {side}: ")]
        assert changed, a.name
        for k in changed:
            src = hw.sources[k]
            assert (a.low_source if side == "low" else a.high_source) in src
            assert "(nominal was: " in src and nominal.sources[k] in src
        untouched = set(nominal.sources) - set(changed) - {"array.cols"}
        assert all(hw.sources[k] == nominal.sources[k] for k in untouched)


def test_variant_values():
    assert load_variant("int8", "dram_energy", "high").dram.read_pj_per_bit == 20.0
    assert load_variant("int8", "dram_energy", "low").dram.write_pj_per_bit == 1.95
    assert load_variant("int8", "sram_energy", "low").sram.read_pj_per_bit["weight"] == 0.033
    nominal = load_hardware("int8").sram.read_pj_per_bit
    high = load_variant("int8", "sram_energy", "high").sram.read_pj_per_bit
    assert all(nominal[b] < high[b] for b in nominal)


def test_fp_mac_rederives_the_array():
    pes = {name: [load_variant(name, "fp_mac", "low").num_pes, load_hardware(name).num_pes,
                  load_variant(name, "fp_mac", "high").num_pes] for name in FP_ACT}
    assert pes["fp16"][1] == 72 and pes["fp16"][2] > 130 and pes["fp16"][0] > 330  # issue #13: 72 / ~143 / ~340
    for low, nominal, high in pes.values():
        assert low > high > nominal  # both alternatives are cheaper than fp16 mult + fp32 add
    hw = load_variant("fp16", "fp_mac", "high")
    assert hw.pe.acc_bits == 16 and hw.sources["array.cols"].endswith(f"= {hw.array.cols}")
    assert "2,254.80" not in hw.sources["array.cols"] and "1,161.48" in hw.sources["array.cols"]


def test_every_default_preset_declares_vector_unit():
    # every preset with an area model (the default ones; the paper presets have no PE area)
    with_budget = [n for n in list_presets() if load_hardware(n).area["total"] is not None]
    assert set(with_budget) == set(DEFAULTS)
    for name in with_budget:
        a = {x.name: x for x in assumptions(name)}["vector_unit"]
        assert "design choice" in a.low_source and "design choice" in a.high_source
        assert "mixpe.hw.area.vector_sizing" in a.low_source


@pytest.mark.parametrize("name", DEFAULTS)
@pytest.mark.parametrize("assumption", ["vector_unit", "dequant_sizing"])
@pytest.mark.parametrize("side", SIDES)
def test_area_variants_rederive_cols(name, assumption, side):
    if assumption not in {a.name for a in assumptions(name)}:
        return
    hw = load_variant(name, assumption, side)
    src = hw.sources["array.cols"]
    assert src.startswith("derived (iso-area): ") and src.endswith(f"= {hw.array.cols}")
    assert f"vector {hw.vector.lanes} x" in src
    if hw.dequant.lanes:
        assert f"dequant {hw.dequant.lanes} x" in src
    assert hw.area["total"] <= hw.area["budget"] * (1 + 1e-9)
    assert hw.area["total"] + hw.array.rows * hw.pe.area_um2 > hw.area["budget"]


def test_ant_and_olive_derive_their_arrays():
    for name, cols in (("ant", 14), ("olive", 42)):
        assert "cols" not in read_table(name)["array"]
        hw = load_hardware(name)
        assert hw.array.cols == cols and hw.sources["array.cols"].startswith("derived (iso-area)")
        assert load_variant(name, "vector_unit", "low").array.cols > cols


def test_undeclared_assumption_gives_nominal():
    assert variant_table("int8", "fp_mac", "low") == read_table("int8")
    assert load_variant("int8", "fp_mac", "high") == load_hardware("int8")


def test_bad_side():
    with pytest.raises(HardwareError, match="unknown side 'middle'"):
        variant_table("int8", "dram_energy", "middle")


@pytest.mark.parametrize("name", DEFAULTS)
def test_variant_round_trips_through_toml(tmp_path, name):
    for a in assumptions(name):
        for side in SIDES:
            data = variant_table(name, a.name, side)
            path = tmp_path / f"{name}-{a.name}-{side}.toml"
            path.write_text(to_toml(data))
            assert tomllib.loads(path.read_text()) == data
            hw = load_hardware(str(path))
            ref = load_variant(name, a.name, side)
            assert (hw.array, hw.pe, hw.sram, hw.dram, hw.dequant, dict(hw.area)) == \
                (ref.array, ref.pe, ref.sram, ref.dram, ref.dequant, dict(ref.area))
            assert {x.name for x in assumptions(str(path))} == {x.name for x in assumptions(name)}


def test_variant_written_by_the_eval_writer_loads(tmp_path):
    sweep = pytest.importorskip("mixpe.eval.sweep")
    data = variant_table("w4a16-dequant", "fp_mac", "high")
    path = tmp_path / "v.toml"
    path.write_text(sweep.to_toml(data))  # bare dotted keys: the overrides come back nested
    hw = load_hardware(str(path))
    assert hw.num_pes == load_variant("w4a16-dequant", "fp_mac", "high").num_pes
    assert {a.name for a in assumptions(str(path))} == {"sram_energy", "dram_energy", "fp_mac", "vector_unit",
                                                         "dequant_sizing", "weight_port"}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(DEFAULTS), st.sampled_from(SIDES), st.data())
def test_overrides_are_applied_exactly(name, side, data):
    a = data.draw(st.sampled_from(assumptions(name)))
    table = variant_table(name, a.name, side)
    spec = read_table(name)["assumptions"][a.name][side]  # merged: may come from the base
    for key, value in spec.items():
        if key == "source":
            continue
        node = table
        for part in key.split("."):
            node = node[part]
        assert node["value"] == value


# ---- bad files ----

@pytest.fixture
def make(tmp_path):
    shutil.copy(PRESET_DIR / "_base-28nm.toml", tmp_path)
    text = (PRESET_DIR / "int8.toml").read_text()

    def _make(extra):
        path = tmp_path / "variant.toml"
        path.write_text(text + "\n" + extra)
        return str(path)

    return _make


GOOD = '''[assumptions.x]
what = "w"
[assumptions.x.low]
source = "s"
"dram.read_pj_per_bit" = 1.0
[assumptions.x.high]
source = "s"
"dram.read_pj_per_bit" = 9.0
'''


@pytest.mark.parametrize("extra,field,words", [
    (GOOD.replace('what = "w"', 'what = "w"\nnominal = 3'), "assumptions.x", "unknown assumption key"),
    (GOOD.replace('"dram.read_pj_per_bit" = 1.0', '"dram.read_pj_per_bits" = 1.0'),
     "assumptions.x.low.dram.read_pj_per_bits", "unknown figure"),
    (GOOD.replace('"dram.read_pj_per_bit" = 1.0', '"vector.ops.tanh.energy_pj" = 1.0'),
     "assumptions.x.low.vector.ops.tanh.energy_pj", "unknown figure"),
    (GOOD.replace('"dram.read_pj_per_bit" = 1.0', '"array.cols" = 7'),
     "assumptions.x.low.array.cols", "derived"),
    (GOOD.replace('"dram.read_pj_per_bit" = 1.0', '"array.rows" = 7.5'),
     "assumptions.x.low.array.rows", "integer"),
    (GOOD.replace('"dram.read_pj_per_bit" = 1.0', '"dram.read_pj_per_bit" = -1.0'),
     "assumptions.x.low.dram.read_pj_per_bit", ">= 0"),
    (GOOD.replace('"dram.read_pj_per_bit" = 1.0', '"dram.read_pj_per_bit" = "1"'),
     "assumptions.x.low.dram.read_pj_per_bit", "finite number"),
    (GOOD.replace('source = "s"\n"dram.read_pj_per_bit" = 1.0', 'source = "s"'),
     "assumptions.x.low", "overrides no figure"),
    (GOOD.replace('source = "s"\n"dram.read_pj_per_bit" = 1.0', '"dram.read_pj_per_bit" = 1.0'),
     "assumptions.x.low.source", "source"),
    (GOOD.replace('what = "w"\n', ''), "assumptions.x.what", "missing"),
    (GOOD.replace('[assumptions.x.high]\nsource = "s"\n"dram.read_pj_per_bit" = 9.0\n', ''),
     "assumptions.x.high", "missing"),
    (GOOD.replace("assumptions.x", "assumptions.X"), "assumptions.X", "lower-case"),
    ('[assumptions]\nx = 3\n', "assumptions.x", "must be a table"),
])
def test_assumption_errors(make, extra, field, words):
    path = make(extra)
    for call in (load_hardware, assumptions):
        with pytest.raises(HardwareError) as err:
            call(path)
        msg = str(err.value)
        assert "\n" not in msg and "variant.toml" in msg and f"'{field}'" in msg and words in msg, msg


def test_good_assumption_and_nested_form(make):
    path = make(GOOD)
    assert [a.name for a in assumptions(path)] == ["dram_energy", "sram_energy", "vector_unit", "weight_port", "x"]
    assert load_variant(path, "x", "high").dram.read_pj_per_bit == 9.0
    nested = GOOD.replace('"dram.read_pj_per_bit" = 1.0', 'dram.read_pj_per_bit = 1.0')
    assert load_variant(make(nested), "x", "low").dram.read_pj_per_bit == 1.0


def test_inherited_assumption_dropped_when_its_figure_is_replaced(make):
    path = make('[dram]\nread_pj_per_bit = { value = 5.0, source = "mine" }\n')
    assert [a.name for a in assumptions(path)] == ["sram_energy", "vector_unit", "weight_port"]
    assert load_variant(path, "dram_energy", "high").dram.read_pj_per_bit == 5.0
    # declaring it again keeps it (replaced whole)
    again = make('[dram]\nread_pj_per_bit = { value = 5.0, source = "mine" }\n'
                 + GOOD.replace("assumptions.x", "assumptions.dram_energy"))
    assert load_variant(again, "dram_energy", "high").dram.read_pj_per_bit == 9.0
    assert load_variant(again, "dram_energy", "high").dram.write_pj_per_bit == 3.9


def test_ranges_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in ("sram_energy", "dram_energy", "fp_mac", "vector_unit", "dequant_sizing", "weight_port"):
        assert f"#### `{name}`" in out
    assert "| `fp16` | PEs (array derived) | 336 | 72 | 136 |" in out
    assert "| `int8` | PEs (array derived) | 1888 | 1024 | 1024 |" in out
    assert "| `w4a8-dequant` | PEs (array derived) | 992 | 800 | 800 |" in out


def test_weight_port_bounds_decode_not_the_paper_presets():
    # A port as wide as DRAM feeds 6 row segments of 37 columns of 4-bit weights (222 per cycle),
    # under the 241 4.16-bit weights per cycle DRAM delivers: decode gets slower. The paper
    # presets restate the figure, so the assumption does not apply to them.
    from mixpe.simulator import estimate_gemm

    nominal = estimate_gemm(load_hardware("mixpe-w4a8"), 1, 4096, 4096)
    narrow = estimate_gemm(load_variant("mixpe-w4a8", "weight_port", "low"), 1, 4096, 4096)
    assert narrow.extra["groups"] == 6 and narrow.total > 1.05 * nominal.total
    assert "weight_port" not in {a.name for a in assumptions("paper-mixpe-w4a8")}

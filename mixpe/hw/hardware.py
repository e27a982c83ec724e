"""Hardware descriptions for the cost model, loaded from sourced TOML files.

Every number in a hardware file is a table ``{value = ..., source = "..."}`` so that
a figure in a report can be traced back to where it came from; the loader refuses
a number without a source.  A file may name a ``base`` file (``base = "_base-28nm"``)
whose tables are merged underneath it, so shared figures are written (and sourced)
once.  Presets ship in ``mixpe/hw/presets``; files whose name starts with ``_`` are
bases, not presets.  The schema is documented in ``docs/hardware.md``.

Area is data too: with ``[area] budget_um2`` a file may omit ``array.cols``, which the loader
derives from the budget less the vector unit and the dequantiser (``_derive_cols``, the
arithmetic recorded as the source of ``array.cols``; ``Hardware.area`` is the breakdown).
``[assumptions.<name>]`` tables give low/high alternatives of decisive figures
(``parse_assumptions``; variants in ``mixpe/hw/ranges.py``).

A ``base`` is a bare name, never a path: ``<name>.toml`` in the including file's own folder,
else the preset (or preset base) of that name.  A name with ``/``, ``\\`` or a leading ``.``
is refused, so a hardware file cannot make the loader read ``/etc/passwd`` or ``../..``.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .dataflow import DATAFLOWS as _DATAFLOW_CLASSES

from mixpe.fileio import InputTooLarge, read_limited, too_deep

PRESET_DIR = Path(__file__).parent / "presets"
PE_TYPES = ("shift_add", "mac_fp16", "mac_int8", "bitfusion")
DATAFLOWS = tuple(_DATAFLOW_CLASSES)
PLACEMENTS = ("epilogue", "in_loop")
ACT_FORMATS = ("int", "fp")
ASSUMPTION_SIDES = ("low", "high")
_ASSUMPTION_NAME = re.compile(r"[a-z][a-z0-9_]*")
# tables and arrays inside tables and arrays: the schema needs 5 (vector.ops.<kind>.cycles)
MAX_TOML_DEPTH = 32
_BASE_NAME = re.compile(r"[A-Za-z0-9_+\-][A-Za-z0-9_+.\-]*")


class HardwareError(ValueError):
    """A hardware file is missing a field, has an invalid value, or an unsourced figure."""


@dataclass(frozen=True)
class ArraySpec:
    rows: int
    cols: int
    dataflow: str


@dataclass(frozen=True)
class PESpec:
    type: str
    weight_bits: int
    act_bits: int
    act_format: str
    acc_bits: int
    leakage_uw: float
    area_um2: float | None  # absent where the source has no area model (paper presets)
    op_energy_pj: float | None  # energy per PE operation (component-derived presets)
    dynamic_uw: float | None  # dynamic power per active PE (synthesis-derived presets)
    pack_pmax: int | None  # BitFusion-style packing: pf(p) = int(pmax / max(p, pmin))
    pack_pmin: int | None


@dataclass(frozen=True)
class SRAMSpec:
    double_buffered: bool
    kib: Mapping[str, float]  # buffer -> size in KiB; buffers: weight, act, out
    read_pj_per_bit: Mapping[str, float]
    write_pj_per_bit: Mapping[str, float]
    # bits per cycle the weight buffer can hand the array; None: the C columns' own inputs only
    # (no row regrouping for skinny GEMMs, see mixpe/hw/dataflow/nfold.py)
    weight_port_bits: int | None = None

    def capacity_bits(self, buffer: str) -> int:
        """Bits usable by one tile: half the buffer when double-buffered."""
        bits = int(self.kib[buffer] * 1024 * 8)
        return bits // 2 if self.double_buffered else bits


@dataclass(frozen=True)
class DRAMSpec:
    bandwidth_bits_per_cycle: int
    read_pj_per_bit: float
    write_pj_per_bit: float
    background_pj_per_cycle: float


@dataclass(frozen=True)
class VectorOp:
    cycles: int
    energy_pj: float


@dataclass(frozen=True)
class VectorSpec:
    lanes: int
    ops: Mapping[str, VectorOp]
    lane_area_um2: float | None = None  # one lane's area (iso-area budgets charge the vector unit)
    lane_leakage_uw: float | None = None  # one lane's leakage, charged every cycle


@dataclass(frozen=True)
class DequantSpec:
    placement: str
    scale_bits: int
    lanes: int | None = None  # in-loop dequantiser: weights per cycle (None: the vector unit's lanes)
    lane_area_um2: float | None = None  # one dequantiser lane's area (required with lanes)
    lane_leakage_uw: float | None = None  # one dequantiser lane's leakage, charged every cycle


@dataclass(frozen=True)
class WorkloadDefaults:
    weight_bits: int
    act_bits: int
    group_size: int  # 0 = not quantized, no dequantization work
    out_bits: int


@dataclass(frozen=True)
class PaperSpec:
    """Paper mode only (the MixPE authors' simulator): dequantisation is an extra fully-connected
    layer of ``M x ceil(K / dequant_k_div) x ceil(N / dequant_n_div)`` tagged ``dequant_bits``,
    i.e. ``dequant_fraction = 1 / (dequant_k_div * dequant_n_div)`` of the GEMM's MACs."""

    dequant_fraction: float
    dequant_k_div: int = 1
    dequant_n_div: int = 1
    dequant_bits: int | None = None  # None: the PE's pack_pmax


@dataclass(frozen=True)
class Hardware:
    name: str
    description: str
    clock_mhz: float
    array: ArraySpec
    pe: PESpec
    sram: SRAMSpec
    dram: DRAMSpec
    vector: VectorSpec
    dequant: DequantSpec
    defaults: WorkloadDefaults
    paper: PaperSpec | None
    sources: Mapping[str, str]  # dotted field path -> source of that figure
    path: str
    area_budget_um2: float | None = None  # [area] budget_um2: PEs + vector unit + dequantiser

    @property
    def num_pes(self) -> int:
        return self.array.rows * self.array.cols

    @property
    def area(self) -> Mapping[str, float | None]:
        """Area breakdown in um^2: ``pe_array``, ``vector``, ``dequant``, ``total`` and ``budget``.
        A part is None where the file has no area figure for it (the paper presets have no PE
        area model); ``total`` is None if any part is.  ``dequant`` is 0 without a dequantiser
        of its own (``dequant.lanes`` absent: dequantisation, if any, runs on the vector unit)."""
        pe = None if self.pe.area_um2 is None else self.num_pes * self.pe.area_um2
        vec = None if self.vector.lane_area_um2 is None else self.vector.lanes * self.vector.lane_area_um2
        deq: float | None = 0.0
        if self.dequant.lanes is not None:
            deq = None if self.dequant.lane_area_um2 is None else self.dequant.lanes * self.dequant.lane_area_um2
        parts = (pe, vec, deq)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        return MappingProxyType({"pe_array": pe, "vector": vec, "dequant": deq, "total": total,
                                 "budget": self.area_budget_um2})


_BUFFERS = ("weight", "act", "out")

# dotted path -> (python type, lower bound kind); ">0" strictly positive, ">=0" non-negative.
_REQUIRED: dict[str, tuple[type, str]] = {
    "array.rows": (int, ">0"),
    "pe.weight_bits": (int, ">0"),
    "pe.act_bits": (int, ">0"),
    "pe.acc_bits": (int, ">0"),
    "pe.leakage_uw": (float, ">=0"),
    "clock.mhz": (float, ">0"),
    **{f"sram.{b}_kib": (float, ">0") for b in _BUFFERS},
    **{f"sram.{b}_{rw}_pj_per_bit": (float, ">=0") for b in _BUFFERS for rw in ("read", "write")},
    "dram.bandwidth_bits_per_cycle": (int, ">0"),
    "dram.read_pj_per_bit": (float, ">=0"),
    "dram.write_pj_per_bit": (float, ">=0"),
    "dram.background_pj_per_cycle": (float, ">=0"),
    "vector.lanes": (int, ">0"),
    "dequant.scale_bits": (int, ">0"),
    "workload.weight_bits": (int, ">0"),
    "workload.act_bits": (int, ">0"),
    "workload.group_size": (int, ">=0"),
    "workload.out_bits": (int, ">0"),
}
_OPTIONAL: dict[str, tuple[type, str]] = {
    "array.cols": (int, ">0"),  # required unless derived from area.budget_um2 (_derive_cols)
    "area.budget_um2": (float, ">0"),
    "vector.lane_area_um2": (float, ">0"),
    "dequant.lane_area_um2": (float, ">0"),
    "vector.lane_leakage_uw": (float, ">=0"),
    "dequant.lane_leakage_uw": (float, ">=0"),
    "pe.area_um2": (float, ">0"),
    "pe.op_energy_pj": (float, ">=0"),
    "pe.dynamic_uw": (float, ">=0"),
    "pe.pack_pmax": (int, ">0"),
    "pe.pack_pmin": (int, ">0"),
    "sram.weight_port_bits": (int, ">0"),
    "dequant.lanes": (int, ">0"),
    "paper.dequant_fraction": (float, ">=0"),
    "paper.dequant_k_div": (int, ">0"),
    "paper.dequant_n_div": (int, ">0"),
    "paper.dequant_bits": (int, ">0"),
}
_CHOICES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "array.dataflow": (DATAFLOWS, "os"),
    "pe.type": (PE_TYPES, None),
    "pe.act_format": (ACT_FORMATS, None),
    "dequant.placement": (PLACEMENTS, None),
}


def list_presets() -> list[str]:
    """Names accepted by ``load_hardware`` (files in the package ``presets`` folder)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml") if not p.stem.startswith("_"))


def default_preset(act_dtype: str) -> str:
    """docs/design.md §5: float activations get `mixpe-w4a16`, integer (i8) activations `mixpe-w4a8`."""
    return "mixpe-w4a8" if act_dtype.lstrip("u").startswith("i") else "mixpe-w4a16"


def load_hardware(name_or_path: str) -> Hardware:
    """Load a preset by name (``"mixpe-w4a8"``) or a TOML file by path, validated."""
    path = _resolve(name_or_path)
    data = _read_merged(path, seen=())
    return _build(data, path)


def read_table(name_or_path: str) -> dict[str, Any]:
    """The raw TOML table of a preset or file with its ``base`` files merged in, unvalidated
    (for tools that derive a variant of a preset and write it back out)."""
    return _read_merged(_resolve(name_or_path), seen=())


def _resolve(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        if candidate.is_dir():
            raise HardwareError(f"{candidate}: is a directory, not a hardware TOML file")
        if not candidate.exists():
            raise HardwareError(f"{candidate}: no such hardware file")
        return candidate
    preset = PRESET_DIR / f"{name_or_path}.toml"
    if not preset.is_file():
        raise HardwareError(
            f"{name_or_path}: unknown hardware preset (known: {', '.join(list_presets())})"
        )
    return preset


def _read_merged(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path.resolve() in seen:
        chain = " -> ".join(p.name for p in (*seen, path.resolve()))
        raise HardwareError(f"{path}: base files form a cycle ({chain})")
    try:
        data = tomllib.loads(read_limited(path, "hardware file").decode("utf-8"))
    except InputTooLarge as err:
        raise HardwareError(str(err)) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise HardwareError(f"{path}: nested too deeply (more than {MAX_TOML_DEPTH} levels of "
                            "tables and arrays)") from None
    except tomllib.TOMLDecodeError as err:
        raise HardwareError(f"{path}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        line = err.object[: err.start].count(b"\n") + 1
        raise HardwareError(f"{path}: line {line}: not UTF-8 text (byte 0x{err.object[err.start]:02x})") from None
    except OSError as err:
        raise HardwareError(f"{path}: cannot read ({err.strerror or err})") from None
    _check_depth(data, path)
    base_name = data.pop("base", None)
    if base_name is None:
        return data
    return _merge_file(_read_merged(_base_path(path, base_name), seen + (path.resolve(),)), data)


def _merge_file(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``_merge`` plus the rule for ``[assumptions]``: an assumption is replaced whole when the
    including file declares it again, and dropped when the including file replaces one of the
    figures it overrides without declaring it again (the assumption was written about the base's
    nominal figure, not about the replacement; e.g. the paper presets' own SRAM/DRAM figures)."""
    base_a, over_a = base.get("assumptions"), over.get("assumptions")
    merged = _merge({k: v for k, v in base.items() if k != "assumptions"},
                    {k: v for k, v in over.items() if k != "assumptions"})
    if not isinstance(base_a, dict) or not isinstance(over_a, (dict, type(None))):
        if over_a is not None or base_a is not None:  # malformed: validation reports it
            merged["assumptions"] = over_a if over_a is not None else base_a
        return merged
    kept = {name: spec for name, spec in base_a.items()
            if name not in (over_a or {})
            and not any(_defines(over, dotted) for dotted in _override_paths(spec))}
    kept.update(over_a or {})
    if kept:
        merged["assumptions"] = kept
    return merged


def lookup(data: dict[str, Any], dotted: str) -> Any:
    """The node at a dotted path of a (merged) TOML table, or None where the path stops."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _defines(data: dict[str, Any], dotted: str) -> bool:
    return lookup(data, dotted) is not None


def _flatten(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"sram": {"act_kib": 1}}`` and ``{"sram.act_kib": 1}`` alike -> ``{"sram.act_kib": 1}``
    (an override written with a bare dotted key, as TOML writers do, nests)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _override_paths(spec: Any) -> list[str]:
    if not isinstance(spec, dict):
        return []
    return [dotted for side in ASSUMPTION_SIDES if isinstance(spec.get(side), dict)
            for dotted in _flatten({k: v for k, v in spec[side].items() if k != "source"})]


def _check_depth(data: dict[str, Any], path: Path) -> None:
    """Refuses tables and arrays nested more than MAX_TOML_DEPTH deep (walked without recursion;
    merging, validating and printing a value all recurse)."""
    if too_deep(data, MAX_TOML_DEPTH):
        raise HardwareError(f"{path}: nested too deeply (more than {MAX_TOML_DEPTH} levels of tables and arrays)")


def _base_path(path: Path, base_name: Any) -> Path:
    """The file `base = "name"` names: `name.toml` next to `path`, else the preset `name`.
    Only a bare name is accepted, never a path (module docstring)."""
    what = "must be the name of a TOML file next to it or of a preset (no path)"
    if not isinstance(base_name, str) or not base_name:
        raise HardwareError(f"{path}: field 'base': {what}, got {base_name!r}")
    name = base_name.removesuffix(".toml")
    if not _BASE_NAME.fullmatch(name) or len(name) > 255:
        shown = base_name if len(base_name) <= 80 else base_name[:40] + f"…({len(base_name):,} characters)"
        raise HardwareError(f"{path}: field 'base': {what}, got {shown!r}")
    for candidate in (path.parent / f"{name}.toml", PRESET_DIR / f"{name}.toml"):
        if candidate.is_file():
            return candidate
    raise HardwareError(f"{path}: field 'base': no file {name}.toml next to it and no preset {name}")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` onto ``base``; a figure table ``{value, source}`` is replaced whole."""
    out = dict(base)
    for key, value in over.items():
        if (
            isinstance(value, dict)
            and isinstance(out.get(key), dict)
            and "value" not in value
            and "value" not in out[key]
        ):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class _Reader:
    """Pulls validated figures out of the merged TOML and records their sources."""

    def __init__(self, data: dict[str, Any], path: Path):
        self.data = data
        self.path = path
        self.sources: dict[str, str] = {}

    def fail(self, field: str, msg: str) -> HardwareError:
        return HardwareError(f"{self.path}: field '{field}': {msg}")

    def raw(self, dotted: str) -> Any:
        return lookup(self.data, dotted)

    def figure(self, dotted: str, typ: type, bound: str, required: bool = True) -> Any:
        node = self.raw(dotted)
        if node is None:
            if required:
                raise self.fail(dotted, "missing")
            return None
        if not isinstance(node, dict) or "value" not in node:
            raise self.fail(dotted, "must be a table {value = ..., source = \"...\"}")
        extra = set(node) - {"value", "source"}
        if extra:
            raise self.fail(dotted, f"unexpected keys {sorted(extra)}")
        source = node.get("source")
        if not isinstance(source, str) or not source.strip():
            raise self.fail(dotted, "every figure needs a non-empty 'source' string")
        value = node["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(dotted, f"value must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.fail(dotted, f"value must be finite, got {value!r}")
        if typ is int and not isinstance(value, int):
            raise self.fail(dotted, f"value must be an integer, got {value!r}")
        if bound == ">0" and not value > 0:
            raise self.fail(dotted, f"must be > 0, got {value!r}")
        if bound == ">=0" and not value >= 0:
            raise self.fail(dotted, f"must be >= 0, got {value!r}")
        self.sources[dotted] = source
        return typ(value)

    def choice(self, dotted: str) -> str:
        allowed, default = _CHOICES[dotted]
        value = self.raw(dotted)
        if value is None:
            if default is None:
                raise self.fail(dotted, "missing")
            return default
        if value not in allowed:
            raise self.fail(dotted, f"unknown value {value!r} (expected one of {', '.join(allowed)})")
        return value


@dataclass(frozen=True)
class AssumptionSpec:
    """One ``[assumptions.<name>]`` table, validated: per side its source and its overrides
    (dotted figure path -> value)."""

    name: str
    what: str
    sources: Mapping[str, str]  # side -> source
    overrides: Mapping[str, Mapping[str, int | float]]  # side -> {dotted figure path: value}


def parse_assumptions(data: dict[str, Any], path: Path | str) -> dict[str, AssumptionSpec]:
    """The validated ``[assumptions]`` of a merged table (``read_table``).  Each assumption has
    ``what`` (text) and the sides ``low`` and ``high``, each a table with one ``source`` and one or
    more overrides ``"<figure path>" = value`` of figures the schema knows (a derived
    ``array.cols`` cannot be overridden: override what it is derived from)."""
    path = Path(path)
    section = data.get("assumptions")
    if section is None:
        return {}

    def fail(field: str, msg: str) -> HardwareError:
        return HardwareError(f"{path}: field '{field}': {msg}")

    if not isinstance(section, dict):
        raise fail("assumptions", "must be a table of [assumptions.<name>] tables")
    specs: dict[str, AssumptionSpec] = {}
    for name, spec in section.items():
        where = f"assumptions.{name}"
        if not _ASSUMPTION_NAME.fullmatch(name):
            raise fail(where, "an assumption name is lower-case letters, digits and '_'")
        if not isinstance(spec, dict):
            raise fail(where, "must be a table with 'what', 'low' and 'high'")
        extra = set(spec) - {"what", *ASSUMPTION_SIDES}
        if extra:
            raise fail(where, f"unknown assumption key(s) {sorted(extra)} (expected what, low, high)")
        what = spec.get("what")
        if not isinstance(what, str) or not what.strip():
            raise fail(f"{where}.what", "missing (a non-empty string saying what is assumed)")
        sources: dict[str, str] = {}
        overrides: dict[str, Mapping[str, int | float]] = {}
        for side in ASSUMPTION_SIDES:
            table = spec.get(side)
            if not isinstance(table, dict):
                raise fail(f"{where}.{side}", "missing (a table: source = \"...\" and \"<figure>\" = value overrides)")
            source = table.get("source")
            if not isinstance(source, str) or not source.strip():
                raise fail(f"{where}.{side}.source", "every side needs a non-empty 'source' string")
            values = _flatten({k: v for k, v in table.items() if k != "source"})
            if not values:
                raise fail(f"{where}.{side}", "overrides no figure")
            for dotted, value in values.items():
                _check_override(data, dotted, value, f"{where}.{side}.{dotted}", fail)
            sources[side] = source
            overrides[side] = MappingProxyType(values)
        specs[name] = AssumptionSpec(name, what, MappingProxyType(sources), MappingProxyType(overrides))
    return specs


def _check_override(data: dict[str, Any], dotted: str, value: Any, field: str, fail: Any) -> None:
    schema = _REQUIRED.get(dotted) or _OPTIONAL.get(dotted)
    parts = dotted.split(".")
    if schema is None and len(parts) == 4 and parts[:2] == ["vector", "ops"] and parts[3] in ("cycles", "energy_pj"):
        ops = data.get("vector", {}).get("ops", {}) if isinstance(data.get("vector"), dict) else {}
        if not isinstance(ops, dict) or parts[2] not in ops:
            raise fail(field, f"overrides an unknown figure (no vector op kind {parts[2]!r})")
        schema = (int, ">0") if parts[3] == "cycles" else (float, ">=0")
    if schema is None:
        raise fail(field, "overrides an unknown figure (not a numeric field of the schema)")
    if dotted == "array.cols" and not _defines(data, "array.cols"):
        raise fail(field, "array.cols is derived from area.budget_um2 here; override the figures it is derived from")
    typ, bound = schema
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(field, f"value must be a finite number, got {value!r}")
    if typ is int and not isinstance(value, int):
        raise fail(field, f"value must be an integer, got {value!r}")
    if (bound == ">0" and not value > 0) or (bound == ">=0" and not value >= 0):
        raise fail(field, f"must be {bound[:-1]} {bound[-1]}, got {value!r}")


def _derive_cols(r: _Reader, f: dict[str, Any]) -> int:
    """Iso-area columns: floor((budget - vector unit - dequantiser) / (rows x PE area))."""
    budget = f["area.budget_um2"]
    if budget is None:
        raise r.fail("array.cols", "missing (give it, or area.budget_um2 to derive it)")
    for need in ("pe.area_um2", "vector.lane_area_um2"):
        if f[need] is None:
            raise r.fail(need, "missing: needed to derive array.cols from area.budget_um2")
    rows, pe_area = f["array.rows"], f["pe.area_um2"]
    lanes, lane_area = f["vector.lanes"], f["vector.lane_area_um2"]
    avail = budget - lanes * lane_area
    arithmetic = f"floor((area.budget_um2 {budget:,.2f} - vector {lanes} x {lane_area:,.2f}"
    if f["dequant.lanes"] is not None:
        avail -= f["dequant.lanes"] * f["dequant.lane_area_um2"]
        arithmetic += f" - dequant {f['dequant.lanes']} x {f['dequant.lane_area_um2']:,.2f}"
    exact = avail / (rows * pe_area)
    cols = math.floor(exact * (1 + 1e-9)) if exact > 0 else 0  # 1e-9: a budget defined as an exact fit
    arithmetic += f") / ({rows} rows x pe.area_um2 {pe_area:,.2f})) = floor({exact:,.3f}) = {cols}"
    if cols < 1:
        raise r.fail("array.cols", f"area budget too small, not one column of PEs fits: {arithmetic}")
    r.sources["array.cols"] = f"derived (iso-area): {arithmetic}"
    return cols


def _build(data: dict[str, Any], path: Path) -> Hardware:
    r = _Reader(data, path)
    _check_known_keys(r, data)
    f = {k: r.figure(k, *spec) for k, spec in _REQUIRED.items()}
    f.update({k: r.figure(k, *spec, required=False) for k, spec in _OPTIONAL.items()})
    if f["dequant.lanes"] is not None and f["dequant.lane_area_um2"] is None:
        raise r.fail("dequant.lane_area_um2", "missing: required when dequant.lanes is given (the dequantiser's area)")
    if f["array.cols"] is None:
        f["array.cols"] = _derive_cols(r, f)
    parse_assumptions(data, path)
    pe_type = r.choice("pe.type")
    if (f["pe.op_energy_pj"] is None) == (f["pe.dynamic_uw"] is None):
        raise r.fail("pe.op_energy_pj", "give exactly one of pe.op_energy_pj and pe.dynamic_uw")
    if (f["pe.pack_pmax"] is None) != (f["pe.pack_pmin"] is None):
        raise r.fail("pe.pack_pmin", "pack_pmax and pack_pmin go together")
    if pe_type == "bitfusion" and f["pe.pack_pmax"] is None:
        raise r.fail("pe.pack_pmax", "a bitfusion PE needs pack_pmax and pack_pmin")
    double_buffered = r.raw("sram.double_buffered")
    if not isinstance(double_buffered, bool):
        raise r.fail("sram.double_buffered", "must be true or false")
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise r.fail("name", "must be a string")
    return Hardware(
        name=name,
        description=str(data.get("description", "")),
        clock_mhz=f["clock.mhz"],
        array=ArraySpec(f["array.rows"], f["array.cols"], r.choice("array.dataflow")),
        pe=PESpec(
            type=pe_type,
            weight_bits=f["pe.weight_bits"],
            act_bits=f["pe.act_bits"],
            act_format=r.choice("pe.act_format"),
            acc_bits=f["pe.acc_bits"],
            leakage_uw=f["pe.leakage_uw"],
            area_um2=f["pe.area_um2"],
            op_energy_pj=f["pe.op_energy_pj"],
            dynamic_uw=f["pe.dynamic_uw"],
            pack_pmax=f["pe.pack_pmax"],
            pack_pmin=f["pe.pack_pmin"],
        ),
        sram=SRAMSpec(
            double_buffered=double_buffered,
            kib=MappingProxyType({b: f[f"sram.{b}_kib"] for b in _BUFFERS}),
            read_pj_per_bit=MappingProxyType({b: f[f"sram.{b}_read_pj_per_bit"] for b in _BUFFERS}),
            write_pj_per_bit=MappingProxyType({b: f[f"sram.{b}_write_pj_per_bit"] for b in _BUFFERS}),
            weight_port_bits=f["sram.weight_port_bits"],
        ),
        dram=DRAMSpec(
            bandwidth_bits_per_cycle=f["dram.bandwidth_bits_per_cycle"],
            read_pj_per_bit=f["dram.read_pj_per_bit"],
            write_pj_per_bit=f["dram.write_pj_per_bit"],
            background_pj_per_cycle=f["dram.background_pj_per_cycle"],
        ),
        vector=VectorSpec(lanes=f["vector.lanes"], ops=_vector_ops(r), lane_area_um2=f["vector.lane_area_um2"],
                          lane_leakage_uw=f["vector.lane_leakage_uw"]),
        dequant=DequantSpec(r.choice("dequant.placement"), f["dequant.scale_bits"], f["dequant.lanes"],
                            f["dequant.lane_area_um2"], f["dequant.lane_leakage_uw"]),
        defaults=WorkloadDefaults(
            f["workload.weight_bits"], f["workload.act_bits"],
            f["workload.group_size"], f["workload.out_bits"],
        ),
        paper=_paper_spec(r, f),
        sources=MappingProxyType(dict(r.sources)),
        path=str(path),
        area_budget_um2=f["area.budget_um2"],
    )


def _paper_spec(r: _Reader, f: dict[str, Any]) -> PaperSpec | None:
    frac = f["paper.dequant_fraction"]
    kdiv, ndiv, bits = f["paper.dequant_k_div"], f["paper.dequant_n_div"], f["paper.dequant_bits"]
    if frac is None:
        if (kdiv, ndiv, bits) != (None, None, None):
            raise r.fail("paper.dequant_fraction", "missing (the [paper] section needs it)")
        return None
    if kdiv is None and ndiv is None:  # a bare fraction: all of it on the output side
        kdiv, ndiv = 1, (round(1 / frac) if frac > 0 else 1)
    elif kdiv is None or ndiv is None:
        raise r.fail("paper.dequant_n_div", "dequant_k_div and dequant_n_div go together")
    if frac > 0 and abs(frac * kdiv * ndiv - 1) > 1e-9:
        raise r.fail("paper.dequant_fraction",
                     f"must be 1 / (dequant_k_div * dequant_n_div) = 1/{kdiv * ndiv}, got {frac!r}")
    return PaperSpec(frac, kdiv, ndiv, bits)


def _check_known_keys(r: _Reader, data: dict[str, Any]) -> None:
    """Reject keys the schema does not know, so a typo cannot silently drop a figure."""
    known = set(_REQUIRED) | set(_OPTIONAL) | set(_CHOICES) | {"sram.double_buffered"}
    sections = {k.split(".")[0] for k in known}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if dotted in known or dotted.startswith("vector.ops.") or dotted == "assumptions":
                continue  # [assumptions]: parse_assumptions
            if isinstance(value, dict) and (dotted in sections or dotted == "vector.ops"):
                walk(value, dotted + ".")
            elif prefix or key not in ("name", "description"):
                raise r.fail(dotted, "unknown section or key")

    walk(data, "")


def _vector_ops(r: _Reader) -> Mapping[str, VectorOp]:
    ops = r.raw("vector.ops")
    if not isinstance(ops, dict) or not ops:
        raise r.fail("vector.ops", "missing (a table of vector operation kinds)")
    return MappingProxyType({
        kind: VectorOp(
            cycles=r.figure(f"vector.ops.{kind}.cycles", int, ">0"),
            energy_pj=r.figure(f"vector.ops.{kind}.energy_pj", float, ">=0"),
        )
        for kind in sorted(ops)
    })

"""Energy accounting, Accelergy-style: ``sum(count * energy_per_action)`` over
``energy_table(hw)``, whose rows carry the source of each figure; leakage is an action counted
in PE-cycles.  Every cost mode (mixpe.simulator.cost_*) counts actions and prices them here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .hardware import Hardware

BUFFERS = ("weight", "act", "out")


@dataclass(frozen=True)
class EnergyRow:
    pj: float
    source: str


def energy_table(hw: Hardware) -> Mapping[str, EnergyRow]:
    """The hardware's energy-per-action table (pJ), each row with its source."""
    cached = _TABLES.get(id(hw))
    if cached is not None and cached[0] is hw:
        return cached[1]
    src, pe = hw.sources, hw.pe
    rows: dict[str, EnergyRow] = {}
    if pe.op_energy_pj is not None:
        rows[pe_op_kind(hw)] = EnergyRow(pe.op_energy_pj, src["pe.op_energy_pj"])
    else:
        assert pe.dynamic_uw is not None, "load_hardware: a PE has op_energy_pj or dynamic_uw"
        rows["pe_active_cycle"] = EnergyRow(
            pe.dynamic_uw / hw.clock_mhz, f"pe.dynamic_uw / clock.mhz; {src['pe.dynamic_uw']}")
    rows["pe_leak_cycle"] = EnergyRow(
        pe.leakage_uw / hw.clock_mhz, f"pe.leakage_uw / clock.mhz; {src['pe.leakage_uw']}")
    if hw.vector.lane_leakage_uw is not None:
        rows["vector_leak_cycle"] = EnergyRow(
            hw.vector.lanes * hw.vector.lane_leakage_uw / hw.clock_mhz,
            f"vector.lanes x vector.lane_leakage_uw / clock.mhz; {src['vector.lane_leakage_uw']}")
    if hw.dequant.lanes is not None and hw.dequant.lane_leakage_uw is not None:
        rows["dequant_leak_cycle"] = EnergyRow(
            hw.dequant.lanes * hw.dequant.lane_leakage_uw / hw.clock_mhz,
            f"dequant.lanes x dequant.lane_leakage_uw / clock.mhz; {src['dequant.lane_leakage_uw']}")
    for b in BUFFERS:
        for rw in ("read", "write"):
            key = f"sram.{b}_{rw}_pj_per_bit"
            rows[f"sram_{b}_{rw}_bit"] = EnergyRow(getattr(hw.sram, f"{rw}_pj_per_bit")[b], src[key])
    rows["dram_read_bit"] = EnergyRow(hw.dram.read_pj_per_bit, src["dram.read_pj_per_bit"])
    rows["dram_write_bit"] = EnergyRow(hw.dram.write_pj_per_bit, src["dram.write_pj_per_bit"])
    rows["dram_background_cycle"] = EnergyRow(
        hw.dram.background_pj_per_cycle, src["dram.background_pj_per_cycle"])
    for kind, op in hw.vector.ops.items():
        rows[f"vector_{kind}"] = EnergyRow(op.energy_pj, src[f"vector.ops.{kind}.energy_pj"])
    table = MappingProxyType(rows)
    _TABLES[id(hw)] = (hw, table)
    return table


_TABLES: dict[int, tuple[Hardware, Mapping[str, EnergyRow]]] = {}


def pe_op_kind(hw: Hardware) -> str:
    """Action name of one PE operation, e.g. ``shift_add_4b``, ``mac_fp16``, ``bitfusion_8b``."""
    pe = hw.pe
    if pe.type == "shift_add":
        return f"shift_add_{pe.weight_bits}b"
    if pe.type == "bitfusion":
        return f"bitfusion_{pe.pack_pmax}b"
    return pe.type


# ----------------------------------------------------------------------------- counts, energy


def _check_counts(mapping: Mapping[str, int], what: str) -> Mapping[str, int]:
    for key, value in mapping.items():
        check_count(value, f"{what}[{key!r}]")
    return MappingProxyType(dict(mapping))


def check_count(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a Python int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must be non-negative, got {value}")


@dataclass(frozen=True)
class ActionCounts:
    """Named integer action counts; energy is the dot product with ``energy_table``."""

    pe_ops: Mapping[str, int] = field(default_factory=dict)  # by PE operation kind
    sram_read_bits: Mapping[str, int] = field(default_factory=dict)  # by buffer
    sram_write_bits: Mapping[str, int] = field(default_factory=dict)
    dram_read_bits: int = 0
    dram_write_bits: int = 0
    vector_ops: Mapping[str, int] = field(default_factory=dict)  # by vector op kind
    pe_leak_cycles: int = 0  # PE-cycles of leakage: cycles x PEs
    background_cycles: int = 0  # cycles of DRAM background power

    def __post_init__(self) -> None:
        for name in ("pe_ops", "sram_read_bits", "sram_write_bits", "vector_ops"):
            object.__setattr__(self, name, _check_counts(getattr(self, name), name))
        for name in ("dram_read_bits", "dram_write_bits", "pe_leak_cycles", "background_cycles"):
            check_count(getattr(self, name), name)

    def actions(self) -> dict[str, int]:
        """Flatten to ``energy_table`` row names."""
        out = dict(self.pe_ops)
        out.update({f"sram_{b}_read_bit": v for b, v in self.sram_read_bits.items()})
        out.update({f"sram_{b}_write_bit": v for b, v in self.sram_write_bits.items()})
        out["dram_read_bit"] = self.dram_read_bits
        out["dram_write_bit"] = self.dram_write_bits
        out.update({f"vector_{k}": v for k, v in self.vector_ops.items()})
        out["pe_leak_cycle"] = self.pe_leak_cycles
        out["dram_background_cycle"] = self.background_cycles
        # the vector unit and dequantiser leak for as long as the array does (rows exist only
        # when the hardware file gives their leakage: see energy_of)
        out["vector_leak_cycle"] = self.background_cycles
        out["dequant_leak_cycle"] = self.background_cycles
        return out

    def __add__(self, other: ActionCounts) -> ActionCounts:
        def merge(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
            return {k: a.get(k, 0) + b.get(k, 0) for k in {**a, **b}}

        return ActionCounts(
            pe_ops=merge(self.pe_ops, other.pe_ops),
            sram_read_bits=merge(self.sram_read_bits, other.sram_read_bits),
            sram_write_bits=merge(self.sram_write_bits, other.sram_write_bits),
            dram_read_bits=self.dram_read_bits + other.dram_read_bits,
            dram_write_bits=self.dram_write_bits + other.dram_write_bits,
            vector_ops=merge(self.vector_ops, other.vector_ops),
            pe_leak_cycles=self.pe_leak_cycles + other.pe_leak_cycles,
            background_cycles=self.background_cycles + other.background_cycles,
        )

    def scaled(self, n: int) -> ActionCounts:
        """The counts of `n` repetitions (O(1) in n: batched GEMMs are multiplied, not replicated)."""
        def times(a: Mapping[str, int]) -> dict[str, int]:
            return {k: v * n for k, v in a.items()}

        return ActionCounts(
            pe_ops=times(self.pe_ops), sram_read_bits=times(self.sram_read_bits),
            sram_write_bits=times(self.sram_write_bits), dram_read_bits=self.dram_read_bits * n,
            dram_write_bits=self.dram_write_bits * n, vector_ops=times(self.vector_ops),
            pe_leak_cycles=self.pe_leak_cycles * n, background_cycles=self.background_cycles * n,
        )

    def to_dict(self) -> dict:
        return {
            "pe_ops": dict(self.pe_ops),
            "sram_read_bits": dict(self.sram_read_bits),
            "sram_write_bits": dict(self.sram_write_bits),
            "dram_read_bits": self.dram_read_bits,
            "dram_write_bits": self.dram_write_bits,
            "vector_ops": dict(self.vector_ops),
            "pe_leak_cycles": self.pe_leak_cycles,
            "background_cycles": self.background_cycles,
        }


_CATEGORY_PREFIXES = (
    ("leakage", ("pe_leak_cycle", "vector_leak_cycle", "dequant_leak_cycle")),
    ("static", ("dram_background_cycle",)),
    ("sram", ("sram_",)),
    ("dram", ("dram_read_bit", "dram_write_bit")),
    ("vector", ("vector_",)),
)


@dataclass(frozen=True)
class Energy:
    """Energy in pJ by action (``count * pJ per action``)."""

    by_action: Mapping[str, float]

    @property
    def total_pj(self) -> float:
        return math.fsum(self.by_action.values())

    def by_category(self) -> dict[str, float]:
        """pe (dynamic), leakage, static (DRAM background), sram, dram, vector."""
        out = {"pe": 0.0, **{c: 0.0 for c, _ in _CATEGORY_PREFIXES}}
        for action, pj in self.by_action.items():
            cat = next((c for c, pre in _CATEGORY_PREFIXES if action.startswith(pre)), "pe")
            out[cat] += pj
        return out

    def scaled(self, n: int) -> Energy:
        return Energy({k: v * n for k, v in self.by_action.items()})

    def __add__(self, other: Energy) -> Energy:
        keys = {**self.by_action, **other.by_action}
        return Energy({k: self.by_action.get(k, 0.0) + other.by_action.get(k, 0.0) for k in keys})

    def to_dict(self) -> dict:
        return {"total_pj": self.total_pj, "by_category_pj": self.by_category(),
                "by_action_pj": dict(self.by_action)}


_UNIT_LEAKAGE = ("vector_leak_cycle", "dequant_leak_cycle")


def energy_of(counts: ActionCounts, hw: Hardware) -> Energy:
    """Accelergy-style: sum over actions of count x energy per action."""
    table = energy_table(hw)
    by_action = {}
    for action, count in counts.actions().items():
        if count == 0:
            continue
        row = table.get(action)
        if row is None and action in _UNIT_LEAKAGE:
            continue  # a hardware file without lane leakage figures (paper presets) charges none
        if row is None:
            raise ValueError(f"{hw.name}: no energy row for action {action!r}")
        by_action[action] = count * row.pj
    return Energy(MappingProxyType(by_action))

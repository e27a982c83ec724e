"""What a cost estimate returns: one GEMM (``GemmCost``), vector-unit work (``VectorCost``) and
their sum over a program (``CostSummary``, ``combine``), plus the builders every cost mode
uses to turn cycles and action counts into a ``GemmCost``."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

from .dataflow import ceil_div
from .energy import ActionCounts, Energy, energy_of, pe_op_kind
from .hardware import Hardware
from .precision import Prec, weight_stream_bits


# Bumped whenever a formula of the cost model changes (reports carry it, docs/hardware.md):
# 2 = nfold mapping, tile objectives, resident fill/drain, charged vector/dequantiser area.
COST_MODEL_VERSION = 2


@dataclass(frozen=True)
class GemmCost:
    """Cycles, action counts and energy of one GEMM ``[M,K] x [K,N]``.

    ``total = compute + fill_drain + stall + vector``: ``stall`` is DRAM time not hidden behind
    compute (including the first load and the last write-back), ``vector`` the part of the
    vector unit's work (``vector_busy``) not hidden behind the array.
    """

    hardware: str
    mode: str
    dataflow: str
    M: int
    N: int
    K: int
    weight_bits: int
    act_bits: int
    group_size: int
    passes: int
    tile: tuple[int, int, int]
    order: str
    compute: int
    fill_drain: int
    stall: int
    vector: int
    vector_busy: int
    ideal_compute: int
    dram_cycles: int
    counts: ActionCounts
    energy: Energy
    extra: Mapping[str, int] = field(default_factory=dict)
    dram_compulsory_bits: int = 0  # each operand read once, each result written once

    @property
    def dram_traffic_ratio(self) -> float:
        """DRAM bits moved over the compulsory bits (1.0: nothing is fetched twice)."""
        moved = self.counts.dram_read_bits + self.counts.dram_write_bits
        return moved / self.dram_compulsory_bits if self.dram_compulsory_bits else 0.0

    @property
    def total(self) -> int:
        return self.compute + self.fill_drain + self.stall + self.vector

    @property
    def macs(self) -> int:
        return self.M * self.N * self.K

    @property
    def utilisation(self) -> float:
        """Ideal compute-only cycles over modelled cycles."""
        return self.ideal_compute / self.total if self.total else 0.0

    @property
    def roofline_bound(self) -> int:
        """max(compute-only ideal cycles, DRAM bits / bandwidth)."""
        return max(self.ideal_compute, self.dram_cycles)

    def to_dict(self) -> dict:
        return {
            "hardware": self.hardware, "mode": self.mode, "dataflow": self.dataflow,
            "shape": {"M": self.M, "N": self.N, "K": self.K},
            "weight_bits": self.weight_bits, "act_bits": self.act_bits,
            "group_size": self.group_size, "passes": self.passes,
            "tile": list(self.tile), "order": self.order,
            "cycles": {"compute": self.compute, "fill_drain": self.fill_drain,
                       "stall": self.stall, "vector": self.vector, "total": self.total},
            "vector_busy": self.vector_busy, "ideal_compute": self.ideal_compute,
            "dram_cycles": self.dram_cycles, "utilisation": self.utilisation,
            "roofline_bound": self.roofline_bound, "macs": self.macs,
            "counts": self.counts.to_dict(), "energy": self.energy.to_dict(),
            "dram_compulsory_bits": self.dram_compulsory_bits,
            "dram_traffic_ratio": self.dram_traffic_ratio,
            "extra": dict(self.extra),
        }


@dataclass(frozen=True)
class VectorCost:
    """Elementwise or reduction work on the vector unit."""

    hardware: str
    kind: str
    elems: int
    cycles: int
    counts: ActionCounts
    energy: Energy

    compute = fill_drain = stall = 0
    macs = ideal_compute = 0

    @property
    def vector(self) -> int:
        return self.cycles

    @property
    def total(self) -> int:
        return self.cycles

    def to_dict(self) -> dict:
        return {"hardware": self.hardware, "kind": self.kind, "elems": self.elems,
                "cycles": {"vector": self.cycles, "total": self.cycles},
                "counts": self.counts.to_dict(), "energy": self.energy.to_dict()}


@dataclass(frozen=True)
class CostSummary:
    """Sum of many GEMM / vector costs (one program)."""

    compute: int
    fill_drain: int
    stall: int
    vector: int
    macs: int
    ideal_compute: int
    items: int
    counts: ActionCounts
    energy: Energy

    @property
    def total(self) -> int:
        return self.compute + self.fill_drain + self.stall + self.vector

    @property
    def utilisation(self) -> float:
        return self.ideal_compute / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        return {"items": self.items, "macs": self.macs,
                "cycles": {"compute": self.compute, "fill_drain": self.fill_drain,
                           "stall": self.stall, "vector": self.vector, "total": self.total},
                "utilisation": self.utilisation, "counts": self.counts.to_dict(),
                "energy": self.energy.to_dict()}


def combine(costs: Iterable[GemmCost | VectorCost | CostSummary]) -> CostSummary:
    """Sum cycles, counts and energy over a program's operations (run back to back)."""
    total = CostSummary(0, 0, 0, 0, 0, 0, 0, ActionCounts(), Energy({}))
    for c in costs:
        total = CostSummary(
            compute=total.compute + c.compute, fill_drain=total.fill_drain + c.fill_drain,
            stall=total.stall + c.stall, vector=total.vector + c.vector,
            macs=total.macs + c.macs, ideal_compute=total.ideal_compute + c.ideal_compute,
            items=total.items + getattr(c, "items", 1),
            counts=total.counts + c.counts, energy=total.energy + c.energy,
        )
    return total


def repeat(cost: GemmCost | VectorCost | CostSummary, n: int) -> CostSummary:
    """`n` back-to-back runs of one cost (a batched GEMM): `combine([cost] * n)` in O(1)."""
    if n < 1:
        raise ValueError(f"a repeat count must be >= 1, got {n}")
    return CostSummary(
        compute=cost.compute * n, fill_drain=cost.fill_drain * n, stall=cost.stall * n,
        vector=cost.vector * n, macs=cost.macs * n, ideal_compute=cost.ideal_compute * n,
        items=getattr(cost, "items", 1) * n, counts=cost.counts.scaled(n), energy=cost.energy.scaled(n),
    )


# ----------------------------------------------------------------------------- builders


def pe_ops(hw: Hardware, prec: Prec, M, N, K, compute_cycles: int) -> dict[str, int]:
    """PE actions: per operation for component-derived PEs, per active PE-cycle otherwise."""
    if hw.pe.op_energy_pj is None:
        return {"pe_active_cycle": compute_cycles * hw.num_pes}
    return {pe_op_kind(hw): ceil_div(M * N * K * prec.passes, prec.pf_w * prec.pf_a)}


def gemm_result(hw, mode, dfname, M, N, K, prec, g, tile, order, compute, fill, stall, vector,
                busy, counts, extra) -> GemmCost:
    """A ``GemmCost`` from a mode's cycles and counts: ideal compute, DRAM time, energy."""
    ideal = ceil_div(M * N * K * prec.passes, hw.num_pes * prec.pf_w * prec.pf_a)
    dram_bits = counts.dram_read_bits + counts.dram_write_bits
    compulsory = weight_stream_bits(hw, prec.wb, g, K, N) + M * K * prec.ab + M * N * hw.defaults.out_bits
    return GemmCost(
        hardware=hw.name, mode=mode, dataflow=dfname, M=M, N=N, K=K,
        weight_bits=prec.wb, act_bits=prec.ab, group_size=g, passes=prec.passes,
        tile=tuple(tile), order=order, compute=compute, fill_drain=fill, stall=stall,
        vector=vector, vector_busy=busy, ideal_compute=ideal,
        dram_cycles=ceil_div(dram_bits, hw.dram.bandwidth_bits_per_cycle),
        counts=counts, energy=energy_of(counts, hw), extra=MappingProxyType(dict(extra)),
        dram_compulsory_bits=compulsory,
    )

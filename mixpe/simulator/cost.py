"""Analytical cycle and energy model for GEMMs and vector work on a MixPE-style accelerator.

Three modes, so a number can always be traced to a stated model:

* ``"scalesim"`` - output-stationary compute cycles exactly as SCALE-Sim reports them,
  ``ceil(M/R)*ceil(N/C)*(K+R+C-2) - 1``; no tiling, no memory stalls, no vector work.
* ``"paper"`` - a reimplementation of the MixPE authors' simulator (DESIGN §4; their
  optimizer.py ``get_stats_fast`` and tiling/order search): compute
  ``T*ceil(b/(R*pf_a))*ceil(oc/(C*pf_w))*ic``, total = compute + max(0, DRAM - compute) +
  initial/final latency, under their best tiling, plus dequantisation as a second small FC
  layer.  Use with the ``paper-*`` presets; reproduces their published table
  (docs/paper-reproduction.md).
* ``"default"`` - SRAM-sized tiles under a loop order, per-fold fill/drain from the dataflow,
  DRAM traffic at the operands' true widths, stalls per double-buffered step, and the
  dequantisation work on the vector unit (``epilogue``: O(M*N*G); ``in_loop``: O(K*N) per pass).

Energy is Accelergy-style: ``sum(count * energy_per_action)`` over ``energy_table(hw)``, whose
rows carry the source of each figure; leakage is an action counted in PE-cycles.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

import numpy as np

from .dataflow import DATAFLOWS, Dataflow, ceil_div
from .hardware import Hardware

MODES = ("default", "scalesim", "paper")
BUFFERS = ("weight", "act", "out")
_ORDERS = ("mnk", "nmk", "mkn", "kmn", "nkm", "knm")  # outermost loop first


# ----------------------------------------------------------------------------- energy table


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
        rows["pe_active_cycle"] = EnergyRow(
            pe.dynamic_uw / hw.clock_mhz, f"pe.dynamic_uw / clock.mhz; {src['pe.dynamic_uw']}")
    rows["pe_leak_cycle"] = EnergyRow(
        pe.leakage_uw / hw.clock_mhz, f"pe.leakage_uw / clock.mhz; {src['pe.leakage_uw']}")
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
        _check_count(value, f"{what}[{key!r}]")
    return MappingProxyType(dict(mapping))


def _check_count(value: object, what: str) -> None:
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
            _check_count(getattr(self, name), name)

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
    ("leakage", ("pe_leak_cycle",)),
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

    def __add__(self, other: Energy) -> Energy:
        keys = {**self.by_action, **other.by_action}
        return Energy({k: self.by_action.get(k, 0.0) + other.by_action.get(k, 0.0) for k in keys})

    def to_dict(self) -> dict:
        return {"total_pj": self.total_pj, "by_category_pj": self.by_category(),
                "by_action_pj": dict(self.by_action)}


def energy_of(counts: ActionCounts, hw: Hardware) -> Energy:
    """Accelergy-style: sum over actions of count x energy per action."""
    table = energy_table(hw)
    by_action = {}
    for action, count in counts.actions().items():
        if count == 0:
            continue
        row = table.get(action)
        if row is None:
            raise ValueError(f"{hw.name}: no energy row for action {action!r}")
        by_action[action] = count * row.pj
    return Energy(MappingProxyType(by_action))


# ----------------------------------------------------------------------------- results


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


# ----------------------------------------------------------------------------- precision


@dataclass(frozen=True)
class _Prec:
    wb: int
    ab: int
    passes: int  # bit-serial passes over the weights (and activations on BitFusion)
    pf_w: int  # packing factors (BitFusion only in default mode)
    pf_a: int


def _pf(p: int, pmax: int, pmin: int) -> int:
    """BitFusion packing factor: pf(p) = int(pmax / max(p, pmin))."""
    return int(pmax / max(p, pmin))


def _precision(hw: Hardware, weight_bits: int | None, act_bits: int | None) -> _Prec:
    wb = hw.defaults.weight_bits if weight_bits is None else weight_bits
    ab = hw.defaults.act_bits if act_bits is None else act_bits
    for name, v in (("weight_bits", wb), ("act_bits", ab)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    pe = hw.pe
    if pe.type == "bitfusion":
        pmax, pmin = pe.pack_pmax, pe.pack_pmin
        passes = ceil_div(wb, pmax) * ceil_div(ab, pmax)
        return _Prec(wb, ab, passes, _pf(min(wb, pmax), pmax, pmin), _pf(min(ab, pmax), pmax, pmin))
    if ab > pe.act_bits:
        raise ValueError(
            f"{hw.name}: {ab}-bit activations do not fit the {pe.act_bits}-bit PE input; "
            "quantize activations or pick a wider preset")
    if pe.type == "mac_fp16" and wb > pe.weight_bits:
        raise ValueError(f"{hw.name}: {wb}-bit weights do not fit an fp16 MAC")
    passes = 1 if pe.type == "mac_fp16" else ceil_div(wb, pe.weight_bits)
    return _Prec(wb, ab, passes, 1, 1)


def _shape(M: int, N: int, K: int) -> None:
    for name, v in (("M", M), ("N", N), ("K", K)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")


def _group_size(hw: Hardware, group_size: int | None) -> int:
    g = hw.defaults.group_size if group_size is None else group_size
    if isinstance(g, bool) or not isinstance(g, int) or g < 0:
        raise ValueError(f"group_size must be a non-negative int (0 = unquantised), got {g!r}")
    return g


# ----------------------------------------------------------------------------- tiled plan


@dataclass(frozen=True)
class TileChoice:
    tile: tuple[int, int, int]  # (tm, tn, tk)
    order: str  # loop order, outermost first, e.g. "mnk"
    cycles: int  # modelled total cycles with this tile


@dataclass(frozen=True)
class _Plan:
    tile: tuple[int, int, int]
    order: str
    compute: int
    fill_drain: int
    stall: int
    initial_bits: int
    dram_read: Mapping[str, int]  # by buffer filled: weight (incl. scales), act
    dram_write: int
    act_elems: int
    weight_elems: int
    psum_visits: int  # output-buffer visits summed over output elements
    last_tile: tuple[int, int]


def _dim_classes(extent: int, tile: int) -> list[tuple[int, int, str]]:
    """Loop positions grouped as (count, tile size, position): early, penultimate, last."""
    trips = ceil_div(extent, tile)
    out = []
    if trips >= 3:
        out.append((trips - 2, tile, "early"))
    if trips >= 2:
        out.append((1, tile, "penult"))
    out.append((1, extent - (trips - 1) * tile, "last"))
    return out


def _plan(hw, df: Dataflow, prec: _Prec, M, N, K, g, tile, order, out_bits, fits=True):
    """Walk the tile loop nest by classes of identical steps; None if the tile does not fit."""
    tm, tn, tk = tile
    R, C = hw.array.rows, hw.array.cols
    sbits = hw.dequant.scale_bits

    def w_bits(sk, sn):
        return sk * sn * prec.wb + (ceil_div(sk, g) * sn * 2 * sbits if g else 0)

    def a_bits(sm, sk):
        return sm * sk * prec.ab

    ext = {"m": M, "n": N, "k": K}
    tsz = {"m": tm, "n": tn, "k": tk}
    if fits:
        if g and tk % g and tk != K:
            return None
        inside_k = order[order.index("k") + 1:]
        foot_m = M if "m" in inside_k else tm
        foot_n = N if "n" in inside_k else tn
        if (w_bits(tk, tn) > hw.sram.capacity_bits("weight")
                or a_bits(tm, tk) > hw.sram.capacity_bits("act")
                or foot_m * foot_n * hw.pe.acc_bits > hw.sram.capacity_bits("out")):
            return None
    trips = {d: ceil_div(ext[d], tsz[d]) for d in ext}
    last = {d: ext[d] - (trips[d] - 1) * tsz[d] for d in ext}
    first = {d: tsz[d] if trips[d] > 1 else last[d] for d in ext}
    bw = hw.dram.bandwidth_bits_per_cycle
    initial = w_bits(first["k"], first["n"]) + a_bits(first["m"], first["k"])
    stall = ceil_div(initial, bw)
    rd_w, rd_a = w_bits(first["k"], first["n"]), a_bits(first["m"], first["k"])
    wr = compute = fill = act_e = wt_e = visits = 0
    kw = dict(passes=prec.passes, pack_rows=prec.pf_a, pack_cols=prec.pf_w)
    for combo in itertools.product(*(_dim_classes(ext[d], tsz[d]) for d in order)):
        count = math.prod(c[0] for c in combo)
        size = {d: c[1] for d, c in zip(order, combo)}
        pos = {d: c[2] for d, c in zip(order, combo)}
        tc = df.tile_cycles(R, C, size["m"], size["n"], size["k"], **kw)
        st = df.streams(R, C, size["m"], size["n"], size["k"], pack_rows=prec.pf_a, pack_cols=prec.pf_w)
        compute += count * tc.compute
        fill += count * tc.fill_drain
        act_e += count * st.act_elems
        wt_e += count * st.weight_elems
        visits += count * size["m"] * size["n"] * st.psum_visits
        writeback = size["m"] * size["n"] * out_bits if pos["k"] == "last" else 0
        wr += count * writeback
        level = next((i for i in range(2, -1, -1) if pos[order[i]] != "last"), None)
        if level is None:  # the final step: its write-back cannot overlap anything
            stall += ceil_div(writeback, bw)
            continue
        nxt = dict(size)
        adv = order[level]
        nxt[adv] = tsz[adv] if pos[adv] == "early" else last[adv]
        changed = {adv} | {d for d in order[level + 1:] if trips[d] > 1}
        for d in order[level + 1:]:
            nxt[d] = first[d]
        fw = w_bits(nxt["k"], nxt["n"]) if changed & {"k", "n"} else 0
        fa = a_bits(nxt["m"], nxt["k"]) if changed & {"m", "k"} else 0
        rd_w += count * fw
        rd_a += count * fa
        stall += count * max(0, ceil_div(fw + fa + writeback, bw) - tc.compute - tc.fill_drain)
    return _Plan(tile, order, compute, fill, stall, initial, {"weight": rd_w, "act": rd_a}, wr,
                 act_e, wt_e, visits, (last["m"], last["n"]))


def _candidates(extent: int, unit: int) -> list[int]:
    out, t = {extent}, unit
    while t < extent:
        out.add(t)
        t *= 2
    return sorted(out)


_TILE_CACHE: dict[tuple, tuple[Hardware, TileChoice]] = {}


def choose_tile(hw: Hardware, M: int, N: int, K: int, *, weight_bits: int | None = None,
                act_bits: int | None = None, group_size: int | None = None,
                dataflow: str | None = None) -> TileChoice:
    """Tile (tm, tn, tk) and loop order minimising modelled cycles (default mode).

    A small analytical search: tile sizes are the array-aligned powers of two (K tiles are
    multiples of the group size) plus the full extent, under all six loop orders, kept only
    if the tiles fit the (halved when double-buffered) SRAMs.
    """
    _shape(M, N, K)
    prec = _precision(hw, weight_bits, act_bits)
    g = _group_size(hw, group_size)
    dfname = dataflow or hw.array.dataflow
    key = (id(hw), M, N, K, prec, g, dfname)
    hit = _TILE_CACHE.get(key)
    if hit is not None and hit[0] is hw:
        return hit[1]
    df = _dataflow(dfname)
    R, C = hw.array.rows, hw.array.cols
    unit_m = R * prec.pf_a if dfname == "os" else 16
    unit_k = g or (R * prec.pf_a if dfname == "ws" else 16)
    best = None
    for tm in _candidates(M, unit_m):
        for tn in _candidates(N, C * prec.pf_w):
            for tk in _candidates(K, unit_k):
                for order in _ORDERS:
                    plan = _plan(hw, df, prec, M, N, K, g, (tm, tn, tk), order, hw.defaults.out_bits)
                    if plan is None:
                        continue
                    total = plan.compute + plan.fill_drain + plan.stall
                    total += _vector_work(hw, df, prec, M, N, K, g, plan)[2]
                    score = (total, sum(plan.dram_read.values()), -tm * tn * tk)
                    if best is None or score < best[0]:
                        best = (score, TileChoice((tm, tn, tk), order, total))
    if best is None:
        raise ValueError(f"{hw.name}: no tile of {M}x{N}x{K} fits the SRAMs")
    _TILE_CACHE[key] = (hw, best[1])
    return best[1]


def _dataflow(name: str) -> Dataflow:
    if name not in DATAFLOWS:
        raise ValueError(f"unknown dataflow {name!r} (known: {', '.join(DATAFLOWS)})")
    return DATAFLOWS[name]


def _vector_cycles(hw: Hardware, ops: Mapping[str, int]) -> int:
    lanes = hw.vector.lanes
    return sum(ceil_div(n, lanes) * hw.vector.ops[k].cycles for k, n in ops.items())


def _vector_work(hw, df, prec, M, N, K, g, plan: _Plan) -> tuple[dict[str, int], int, int]:
    """Dequantisation ops, vector-busy cycles, and cycles not hidden behind the array."""
    if not g:
        return {}, 0, 0
    G = ceil_div(K, g)
    if hw.dequant.placement == "epilogue":
        # Y += S * (P - Z * A) per (m, group, n): two fma, plus int->float of P on int PEs;
        # group sums A[m, j] once per activation element.
        per_out = {"fma": 2} | ({"cast": 1} if hw.pe.act_format == "int" else {})
        ops = {k: v * M * N * G for k, v in per_out.items()} | {"add": M * K}
        tail_elems = plan.last_tile[0] * plan.last_tile[1]
        tail = _vector_cycles(hw, {k: v * tail_elems for k, v in per_out.items()})
    else:
        # Every weight streamed into the array is dequantised on its way in.
        kind = "dequant_fp16" if hw.pe.act_format == "fp" else "dequant_int8"
        ops = {kind: plan.weight_elems}
        tail = 0
    busy = _vector_cycles(hw, ops)
    array = plan.compute + plan.fill_drain + plan.stall
    return ops, busy, max(tail, busy - array)


# ----------------------------------------------------------------------------- estimates


def pe_act_bits(hw: Hardware, dtype: str) -> int:
    """Activation bits a PE sees: float activations run in the PE's float format (f32 on an
    A16 PE is costed as f16, and reports say so); integers keep their width."""
    from mixpe.reference.dtypes import bit_width, is_float

    bits = bit_width(dtype)
    return min(bits, hw.pe.act_bits) if is_float(dtype) and hw.pe.act_format == "fp" else bits


def estimate_gemm(hw: Hardware, M: int, N: int, K: int, *, weight_bits: int | None = None,
                  act_bits: int | None = None, group_size: int | None = None,
                  tile: tuple[int, int, int] | None = None, dataflow: str | None = None,
                  mode: str = "default", order: str | None = None) -> GemmCost:
    """Cycles, action counts and energy of ``[M,K] x [K,N]`` on ``hw``.

    ``weight_bits``/``act_bits``/``group_size`` default to the preset's workload; group_size 0
    means unquantised weights (no dequantisation work).  ``tile`` is ``(tm, tn, tk)``; when
    omitted, ``choose_tile`` picks it (default and paper modes). ``order`` is the loop order
    of a given tile (a permutation of "mnk", default "mnk"), as a compiler schedule records it.
    """
    _shape(M, N, K)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    g = _group_size(hw, group_size)
    if mode == "scalesim":
        return _estimate_scalesim(hw, M, N, K, _precision(hw, weight_bits, act_bits), g)
    if mode == "paper":
        return _estimate_paper(hw, M, N, K, weight_bits, act_bits, g, tile)
    prec = _precision(hw, weight_bits, act_bits)
    dfname = dataflow or hw.array.dataflow
    df = _dataflow(dfname)
    if tile is None:
        choice = choose_tile(hw, M, N, K, weight_bits=prec.wb, act_bits=prec.ab,
                             group_size=g, dataflow=dfname)
        tile, order = choice.tile, choice.order
    else:
        order = order or "mnk"
        if sorted(order) != ["k", "m", "n"]:
            raise ValueError(f"loop order must be a permutation of 'mnk', got {order!r}")
    tile = _check_tile(tile, M, N, K)
    plan = _plan(hw, df, prec, M, N, K, g, tile, order, hw.defaults.out_bits, fits=False)
    vec_ops, busy, exposed = _vector_work(hw, df, prec, M, N, K, g, plan)
    acc = hw.pe.acc_bits
    visits = max(plan.psum_visits, M * N * ceil_div(K, g)) if (g and hw.dequant.placement == "epilogue") else plan.psum_visits
    total = plan.compute + plan.fill_drain + plan.stall + exposed
    counts = ActionCounts(
        pe_ops=_pe_ops(hw, prec, M, N, K, plan.compute),
        sram_read_bits={"weight": plan.weight_elems * prec.wb,
                        "act": plan.act_elems * prec.ab * prec.passes,
                        "out": visits * acc},
        sram_write_bits={"weight": plan.dram_read["weight"], "act": plan.dram_read["act"],
                         "out": visits * acc},
        dram_read_bits=sum(plan.dram_read.values()),
        dram_write_bits=plan.dram_write,
        vector_ops=vec_ops,
        pe_leak_cycles=total * hw.num_pes,
        background_cycles=total,
    )
    return _result(hw, "default", dfname, M, N, K, prec, g, tile, order,
                   plan.compute, plan.fill_drain, plan.stall, exposed, busy, counts,
                   {"initial_load_bits": plan.initial_bits})


def _check_tile(tile, M, N, K) -> tuple[int, int, int]:
    if len(tile) != 3 or any(isinstance(t, bool) or not isinstance(t, int) or t <= 0 for t in tile):
        raise ValueError(f"tile must be three positive ints (tm, tn, tk), got {tile!r}")
    return (min(tile[0], M), min(tile[1], N), min(tile[2], K))


def _pe_ops(hw: Hardware, prec: _Prec, M, N, K, compute_cycles: int) -> dict[str, int]:
    """PE actions: per operation for component-derived PEs, per active PE-cycle otherwise."""
    if hw.pe.op_energy_pj is None:
        return {"pe_active_cycle": compute_cycles * hw.num_pes}
    return {pe_op_kind(hw): ceil_div(M * N * K * prec.passes, prec.pf_w * prec.pf_a)}


def _result(hw, mode, dfname, M, N, K, prec, g, tile, order, compute, fill, stall, vector,
            busy, counts, extra) -> GemmCost:
    ideal = ceil_div(M * N * K * prec.passes, hw.num_pes * prec.pf_w * prec.pf_a)
    dram_bits = counts.dram_read_bits + counts.dram_write_bits
    return GemmCost(
        hardware=hw.name, mode=mode, dataflow=dfname, M=M, N=N, K=K,
        weight_bits=prec.wb, act_bits=prec.ab, group_size=g, passes=prec.passes,
        tile=tuple(tile), order=order, compute=compute, fill_drain=fill, stall=stall,
        vector=vector, vector_busy=busy, ideal_compute=ideal,
        dram_cycles=ceil_div(dram_bits, hw.dram.bandwidth_bits_per_cycle),
        counts=counts, energy=energy_of(counts, hw), extra=MappingProxyType(dict(extra)),
    )


def _estimate_scalesim(hw, M, N, K, prec, g) -> GemmCost:
    """SCALE-Sim OS: one untiled pass, folds x (K + R + C - 2) - 1, no memory or vector time."""
    R, C = hw.array.rows, hw.array.cols
    df = DATAFLOWS["os"]
    tc = df.tile_cycles(R, C, M, N, K, passes=prec.passes, pack_rows=prec.pf_a, pack_cols=prec.pf_w)
    st = df.streams(R, C, M, N, K, pack_rows=prec.pf_a, pack_cols=prec.pf_w)
    fill = tc.fill_drain - 1  # SCALE-Sim counts from cycle 0 and reports the last cycle index
    total = tc.compute + fill
    w_bits, a_bits, o_bits = K * N * prec.wb, M * K * prec.ab, M * N * hw.defaults.out_bits
    counts = ActionCounts(
        pe_ops=_pe_ops(hw, prec, M, N, K, tc.compute),
        sram_read_bits={"weight": st.weight_elems * prec.wb,
                        "act": st.act_elems * prec.ab * prec.passes, "out": M * N * hw.pe.acc_bits},
        sram_write_bits={"weight": w_bits, "act": a_bits, "out": M * N * hw.pe.acc_bits},
        dram_read_bits=w_bits + a_bits, dram_write_bits=o_bits,
        pe_leak_cycles=total * hw.num_pes, background_cycles=total,
    )
    return _result(hw, "scalesim", "os", M, N, K, prec, g, (M, N, K), "mnk",
                   tc.compute, fill, 0, 0, 0, counts, {"folds": tc.folds})


# ----------------------------------------------------------------------------- paper mode
#
# A reimplementation (not a copy) of the per-layer model in the MixPE authors' simulator,
# github.com/yuzhang712/mixpe_simulator @7e0d42c ("their"), a BitFusion/DNNWeaver derivative:
#
# * bitfusion/src/optimizer/optimizer.py `_optimize_for_order`/`optimize_for_order`: exhaustive
#   search over tilings b, ow=oh, ic, oc in {min(2^i, X) : i <= ceil(log2 X)} (oc is not
#   array-aligned with im2col) and all 120 orders of the loops B, OW, OH, IC, OC; the best is
#   the fewest total cycles, ties broken by `Stats.get_energy` (stats.py).
# * optimizer.py `get_stats_fast`: the DRAM/SRAM traffic of one tiling and order and the cycles
#   `compute + max(0, ceil(middle DRAM bits / if_width) - compute) + initial/final latency`.
# * simulator/accelerator.py `get_compute_cycles_output_stationary`: per tile
#   `ceil(b*oh*ow / (a*pf(iprec))) * ceil(oc / (c*pf(wprec))) * k*k*ic`, and `get_perf_factor`
#   (the one-argument definition, which overrides the two-argument one): pf(p) = int(pmax /
#   max(p, pmin)).  Rows `a` carry the batch, columns `c` the output channels.
# * A fully-connected layer is their 1x1 "convolution" with O = 1 (simulator.py `get_FC_cycles`);
#   the ViT patch embedding is a real convolution (see `estimate_paper_conv`).
#
# Everything is vectorised over (order, tiling) with numpy; the result is bit-identical to their
# code on every layer we ran it on (test_cost_paper.py holds those values).

_PAPER_LOOPS = ("B/b", "OW/ow", "OH/oh", "IC/ic", "OC/oc")
# optimizer.py tile_deps: does the loop index the (wgt, act, out) tensor?
_PAPER_DEP_ARR = np.array(((0, 1, 1), (0, 1, 1), (0, 1, 1), (1, 1, 0), (1, 0, 1)), dtype=bool)
_PAPER_ORDERS = np.array(list(itertools.permutations(range(len(_PAPER_LOOPS)))))  # outermost first
_PAPER_OPREC = 16  # get_stats_fast: oprec = 16 for output traffic
# stats.py Stats.get_energy, used only to break ties between equally fast tilings: DRAM at
# 1.18294 / 1.47797 nJ per 1024 bits (these are not the figures their energy breakdown reports).
_PAPER_TIE_DRAM_PJ = (1.18294e3 / 1024, 1.47797e3 / 1024)


@dataclass(frozen=True)
class _PaperLayer:
    """One layer as their get_stats_fast reports it (bits and cycles)."""

    cycles: int
    stall: int
    compute: int
    sram_read: Mapping[str, int]  # weight, act, out
    sram_write: Mapping[str, int]
    dram_read: int
    dram_write: int
    initial_bits: int
    tiling: tuple[int, int, int, int]  # b, ow(=oh), ic, oc
    order: tuple[str, ...]  # outermost first, their loop names


def _paper_tile_options(x: int) -> list[int]:
    """optimizer.py _optimize_for_order: min(1 << i, X) for i < int(ceil(log2 X)) + 1."""
    n = int(math.ceil(math.log(x) / math.log(2))) + 1
    return sorted({min(1 << i, x) for i in range(n)})


_PAPER_CACHE: dict[tuple, tuple[Hardware, _PaperLayer]] = {}


def _paper_layer(hw: Hardware, B: int, IC: int, OC: int, ibits: int, wbits: int, *,
                 kernel: int = 1, out: int = 1,
                 tiling: tuple[int, int, int, int] | None = None) -> _PaperLayer:
    """Their best tiling/order of one conv (``kernel``x``kernel``, ``out``x``out`` outputs) or FC
    layer, and its stats.  ``tiling`` = (b, o, ic, oc) restricts the search to that tiling."""
    key = (id(hw), B, IC, OC, ibits, wbits, kernel, out, tiling)
    hit = _PAPER_CACHE.get(key)
    if hit is not None and hit[0] is hw:
        return hit[1]
    pmax, pmin = hw.pe.pack_pmax, hw.pe.pack_pmin
    # no packing on a preset without pack_pmax (their pmax = pmin = the PE's width)
    pfi, pfw = (_pf(ibits, pmax, pmin), _pf(wbits, pmax, pmin)) if pmax else (1, 1)
    if pfi < 1 or pfw < 1:
        raise ValueError(f"{hw.name}: paper mode needs precisions <= pmax = {pmax}")
    a, c = hw.array.rows, hw.array.cols
    kk = kernel * kernel
    # get_stats_fast compares tile sizes with half of each SRAM (double buffering), in bits
    cap = [hw.sram.kib[b] * 1024 * 8 / 2 for b in BUFFERS]  # weight, act, out
    if tiling is None:
        axes = [_paper_tile_options(x) for x in (B, out, IC, OC)]
    else:
        axes = [[min(t, x)] for t, x in zip(tiling, (B, out, IC, OC))]
    b, o, ic, oc = (v.ravel() for v in np.meshgrid(*[np.array(x, dtype=np.int64) for x in axes],
                                                   indexing="ij"))

    def cdiv(x, y):
        return -(-x // y)

    nb, no, nic, noc = cdiv(B, b), cdiv(out, o), cdiv(IC, ic), cdiv(OC, oc)
    num = np.stack([nb, no, no, nic, noc])  # tile counts by loop, in _PAPER_LOOPS order
    w0 = [cdiv(kk * ic, a * pfw) * a * pfw * oc * wbits,  # weight tile, padded to the rows
          o * o * cdiv(kk * ic, c * pfi) * c * pfi * b * ibits,  # activation tile
          np.zeros_like(b)]  # writes['out'] = 0 in their code
    r0 = o * o * oc * b * _PAPER_OPREC
    fits = (w0[0] <= cap[0]) & (w0[1] <= cap[1])  # "Skip if overutilizing resources"
    if tiling is not None:
        fits[:] = True
    r0 = np.broadcast_to(r0, b.shape)
    ntiles = nb * no * no * nic * noc
    compute = ntiles * cdiv(b * o * o, a * pfi) * cdiv(oc, c * pfw) * kk * ic

    if not fits.any():
        raise ValueError(f"{hw.name}: no tiling of the layer fits the SRAMs")
    t = energy_table(hw)
    e_sram = {f"{bf}_{rw}": t[f"sram_{bf}_{rw}_bit"].pj for bf in BUFFERS for rw in ("read", "write")}
    # (a preset with per-operation PE energy has equal PE energy for every tiling: leave it out)
    e_dyn = hw.num_pes * t["pe_active_cycle"].pj if "pe_active_cycle" in t else 0.0
    bw = hw.dram.bandwidth_bits_per_cycle

    def evaluate(sel):
        """Every order x the tilings ``sel``: the promotion walk of get_stats_fast."""
        shape = (len(_PAPER_ORDERS), sel.size)
        n_sel = num[:, sel]
        w = [np.broadcast_to(x[sel], shape).copy() for x in w0]
        mw = [x.copy() for x in w]
        pw = [np.ones(shape, dtype=bool) for _ in range(3)]
        r = np.broadcast_to(r0[sel], shape).copy()
        mr, pr = r.copy(), np.ones(shape, dtype=bool)
        for pos in range(4, -1, -1):  # innermost loop first ("for loop in reversed(order_type)")
            loop = _PAPER_ORDERS[:, pos]
            n = n_sel[loop]
            for i in range(3):
                dep = _PAPER_DEP_ARR[loop, i][:, None]
                w[i] *= np.where(pw[i] & ~dep, 1, n)  # non-promoted tensors scale with every loop
                grow = pw[i] & dep
                over = grow & (w[i] > cap[i])
                mw[i] = np.where(grow & ~over, w[i], mw[i])
                pw[i] &= ~over
            dep = _PAPER_DEP_ARR[loop, 2][:, None]
            r *= np.where(pr & ~dep, 1, n)
            grow = pr & dep
            over = grow & (r > cap[2])
            # their code records writes['out'] (always 0) as the promoted read size here
            mr = np.where(grow & ~over, w[2], mr)
            pr &= ~over
        inner = (ntiles * oc * o * o * b)[sel]  # output-stationary accesses (per MAC for act/wgt)
        st = {"rd_act": inner * kk * ic[sel] * ibits, "rd_wgt": inner * kk * ic[sel] * wbits,
              "rd_out": r + inner * _PAPER_OPREC, "wr_out": w[2] + inner * _PAPER_OPREC,
              "wr_wgt": w[0], "wr_act": w[1], "dram_rd": w[0] + w[1] + w[2], "dram_wr": r,
              "initial": mw[0] + mw[1] + mw[2]}
        latency = cdiv(st["initial"], bw) + cdiv(mr, bw)
        middle = st["dram_rd"] + st["dram_wr"] - st["initial"] - mr
        st["stall"] = np.maximum(0, cdiv(middle, bw) - compute[sel]) + latency
        st["total"] = compute[sel] + st["stall"]
        # tie-break energy (stats.py get_energy) less its per-cycle terms, equal at equal cycles
        st["tie"] = (compute[sel] * e_dyn
                     + st["rd_wgt"] * e_sram["weight_read"] + st["wr_wgt"] * e_sram["weight_write"]
                     + st["rd_act"] * e_sram["act_read"] + st["wr_act"] * e_sram["act_write"]
                     + st["rd_out"] * e_sram["out_read"] + st["wr_out"] * e_sram["out_write"]
                     + st["dram_rd"] * _PAPER_TIE_DRAM_PJ[0] + st["dram_wr"] * _PAPER_TIE_DRAM_PJ[1])
        return {k: np.broadcast_to(v, shape) for k, v in st.items()}

    # Exact pruning: total >= compute, so once some tiling reaches T cycles, tilings whose
    # compute alone exceeds T cannot win; seed T with the least-compute tilings.
    cand = np.flatnonzero(fits)
    seed = cand[np.argsort(compute[cand], kind="stable")[:8]]
    best_total = int(evaluate(seed)["total"].min())
    cand = cand[compute[cand] <= best_total]
    st = evaluate(cand)
    # first minimum of (cycles, energy) in their iteration order: orders, then b, o, ic, oc
    flat = (np.arange(len(_PAPER_ORDERS))[:, None] * b.size + cand[None, :]).ravel()
    idx = int(np.lexsort((flat, st["tie"].ravel(), st["total"].ravel()))[0])
    oi, ci = divmod(idx, cand.size)
    ti = int(cand[ci])

    def at(name):
        return int(st[name][oi, ci])

    layer = _PaperLayer(
        cycles=at("total"), stall=at("stall"), compute=int(compute[ti]),
        sram_read={"weight": at("rd_wgt"), "act": at("rd_act"), "out": at("rd_out")},
        sram_write={"weight": at("wr_wgt"), "act": at("wr_act"), "out": at("wr_out")},
        dram_read=at("dram_rd"), dram_write=at("dram_wr"), initial_bits=at("initial"),
        tiling=(int(b[ti]), int(o[ti]), int(ic[ti]), int(oc[ti])),
        order=tuple(_PAPER_LOOPS[j] for j in _PAPER_ORDERS[oi]))
    _PAPER_CACHE[key] = (hw, layer)
    return layer


def _paper_bits(hw: Hardware, weight_bits: int | None, act_bits: int | None) -> tuple[int, int]:
    wb = hw.defaults.weight_bits if weight_bits is None else weight_bits
    ab = hw.defaults.act_bits if act_bits is None else act_bits
    for name, v in (("weight_bits", wb), ("act_bits", ab)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    # Their layers carry one precision tag for weights and activations (benchmarks.py
    # create_fc): a layer given two widths (8-bit stored weights on f16 activations) is
    # costed at the wider one, as their FP16 baseline moves 16-bit weights.
    tag = max(wb, ab)
    return tag, tag


def _estimate_paper(hw, M, N, K, weight_bits, act_bits, g, tile) -> GemmCost:
    """The MixPE authors' model of one quantised linear layer: the layer itself (tags
    ``weight_bits``/``act_bits``, their "precision" of the layer) plus, when ``g`` > 0,
    dequantisation as a second, small FC layer (bitfusion/src/benchmarks/gen_bench.py:
    ``gen_opt``/``gen_bitfusion``/``gen_ant`` add ``M x K x N/8`` at full precision,
    ``gen_opt_mix`` adds ``M x K/8 x N/128`` at pmax), each with its own best tiling."""
    wb, ab = _paper_bits(hw, weight_bits, act_bits)
    tiling = None
    if tile is not None:
        tm, tn, tk = _check_tile(tile, M, N, K)
        tiling = (tm, 1, tk, tn)
    parts = [_paper_layer(hw, M, K, N, ab, wb, tiling=tiling)]
    spec = hw.paper
    if g and spec is not None and spec.dequant_fraction > 0:
        bits = spec.dequant_bits or hw.pe.pack_pmax or max(wb, ab)
        # their int(h / 8), int(3h / 128): exact on all of their shapes; ceil keeps >= 1 here
        parts.append(_paper_layer(hw, M, ceil_div(K, spec.dequant_k_div),
                                  ceil_div(N, spec.dequant_n_div), bits, bits))
    return _paper_result(hw, M, N, K, wb, ab, g, parts)


def estimate_paper_conv(hw: Hardware, batch: int, out_size: int, kernel: int, in_ch: int,
                        out_ch: int, *, bits: int | None = None) -> GemmCost:
    """Paper mode for the authors' one convolution, the ViT patch embedding
    (gen_bench.py: ``[[1,3,224,224], [d,3,16,16], [1,d,14,14], [16,16], ...]``, tagged
    ``precision_bits[1]``, no dequantisation layer).  Their search tiles it as a convolution
    (b, ow=oh, ic over the 3 input channels), which differs from the im2col GEMM
    ``M = batch*out_size^2, K = kernel^2*in_ch, N = out_ch`` by up to 9% in cycles (BitFusion's
    40 columns), so it is not costed as a GEMM.  Stride does not enter their formulas."""
    for name, v in (("batch", batch), ("out_size", out_size), ("kernel", kernel),
                    ("in_ch", in_ch), ("out_ch", out_ch)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    wb, ab = _paper_bits(hw, bits, bits)
    layer = _paper_layer(hw, batch, in_ch, out_ch, ab, wb, kernel=kernel, out=out_size)
    return _paper_result(hw, batch * out_size * out_size, out_ch, kernel * kernel * in_ch,
                         wb, ab, 0, [layer])


def _paper_result(hw, M, N, K, wb, ab, g, parts: list[_PaperLayer]) -> GemmCost:
    """Sum their per-layer stats; energy as stats.py get_energy_breakdown: static = cycles x
    DRAM background, DRAM and SRAM bits, core = cycles x leakage + (cycles - stalls) x dynamic."""
    pmax, pmin = hw.pe.pack_pmax, hw.pe.pack_pmin
    prec = _Prec(wb, ab, 1, *((_pf(wb, pmax, pmin), _pf(ab, pmax, pmin)) if pmax else (1, 1)))
    compute = sum(p.compute for p in parts)
    total = sum(p.cycles for p in parts)
    stall = total - compute
    counts = ActionCounts(
        pe_ops=_pe_ops(hw, prec, M, N, K, compute),
        sram_read_bits={bf: sum(p.sram_read[bf] for p in parts) for bf in BUFFERS},
        sram_write_bits={bf: sum(p.sram_write[bf] for p in parts) for bf in BUFFERS},
        dram_read_bits=sum(p.dram_read for p in parts),
        dram_write_bits=sum(p.dram_write for p in parts),
        pe_leak_cycles=total * hw.num_pes, background_cycles=total,
    )
    main = parts[0]
    b, _, ic, oc = main.tiling
    order = "".join({"B/b": "m", "IC/ic": "k", "OC/oc": "n"}[x] for x in main.order
                    if x in ("B/b", "IC/ic", "OC/oc"))
    extra = {"gemm_cycles": main.cycles, "dequant_cycles": sum(p.cycles for p in parts[1:]),
             "initial_load_bits": main.initial_bits,
             "tiles": math.prod(ceil_div(e, t) for e, t in zip((M, N, K), (b, oc, ic)))}
    return _result(hw, "paper", "os", M, N, K, prec, g, (b, oc, ic), order, compute, 0, stall,
                   0, 0, counts, extra)


def estimate_vector(hw: Hardware, kind: str, elems: int) -> VectorCost:
    """Elementwise/reduction work: ceil(elems / lanes) * cycles_per_op, energy from the table."""
    if kind not in hw.vector.ops:
        raise ValueError(f"{hw.name}: unknown vector op {kind!r} (known: {', '.join(hw.vector.ops)})")
    _check_count(elems, "elems")
    cycles = _vector_cycles(hw, {kind: elems})
    counts = ActionCounts(vector_ops={kind: elems}, pe_leak_cycles=cycles * hw.num_pes,
                          background_cycles=cycles)
    return VectorCost(hw.name, kind, elems, cycles, counts, energy_of(counts, hw))

"""Analytical cycle and energy model for GEMMs and vector work on a MixPE-style accelerator.

Three modes, so a number can always be traced to a stated model:

* ``"scalesim"`` - output-stationary compute cycles exactly as SCALE-Sim reports them,
  ``ceil(M/R)*ceil(N/C)*(K+R+C-2) - 1``; no tiling, no memory stalls, no vector work.
* ``"paper"`` - the MixPE authors' formulas (DESIGN §4): compute
  ``T*ceil(b/(R*pf_a))*ceil(oc/(C*pf_w))*ic`` plus dequantisation as extra GEMM work, total =
  compute + max(0, DRAM - compute) + initial load.  Use with the ``paper-*`` presets.
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


def _estimate_paper(hw, M, N, K, weight_bits, act_bits, g, tile) -> GemmCost:
    """The MixPE authors' model (DESIGN §4), with their tagged precisions and packing."""
    wb = hw.defaults.weight_bits if weight_bits is None else weight_bits
    ab = hw.defaults.act_bits if act_bits is None else act_bits
    pmax, pmin = hw.pe.pack_pmax, hw.pe.pack_pmin
    pf_w = _pf(wb, pmax, pmin) if pmax else 1
    pf_a = _pf(ab, pmax, pmin) if pmax else 1
    if pf_w < 1 or pf_a < 1:
        raise ValueError(f"{hw.name}: paper mode needs precisions <= pmax = {pmax}")
    prec = _Prec(wb, ab, 1, pf_w, pf_a)
    if tile is None:
        tile = choose_tile(hw, M, N, K, weight_bits=wb, act_bits=ab, group_size=0, dataflow="os").tile
    tile = _check_tile(tile, M, N, K)
    out_bits = hw.defaults.out_bits
    plan = _plan(hw, DATAFLOWS["os"], prec, M, N, K, 0, tile, "mnk", out_bits, fits=False)
    R, C = hw.array.rows, hw.array.cols
    gemm = sum(
        cm * cn * ck * ceil_div(sm, R * pf_a) * ceil_div(sn, C * pf_w) * sk
        for (cm, sm, _), (cn, sn, _), (ck, sk, _) in itertools.product(
            _dim_classes(M, tile[0]), _dim_classes(N, tile[1]), _dim_classes(K, tile[2])))
    frac = hw.paper.dequant_fraction if (hw.paper and g) else 0.0
    dequant = math.ceil(gemm * frac)
    compute = gemm + dequant
    bw = hw.dram.bandwidth_bits_per_cycle
    dram_read = sum(plan.dram_read.values())
    middle = dram_read + plan.dram_write - plan.initial_bits
    initial = ceil_div(plan.initial_bits, bw)
    stall = max(0, ceil_div(middle, bw) - compute) + initial
    total = compute + stall
    counts = ActionCounts(
        pe_ops=_pe_ops(hw, prec, M, N, K, compute),
        sram_read_bits={"weight": M * N * K * wb, "act": M * N * K * ab, "out": M * N * out_bits},
        sram_write_bits={"weight": plan.dram_read["weight"], "act": plan.dram_read["act"],
                         "out": M * N * out_bits},
        dram_read_bits=dram_read, dram_write_bits=plan.dram_write,
        pe_leak_cycles=total * hw.num_pes, background_cycles=total,
    )
    return _result(hw, "paper", "os", M, N, K, prec, g, tile, "mnk", compute, 0, stall, 0, 0,
                   counts, {"gemm_cycles": gemm, "dequant_cycles": dequant,
                            "initial_load_cycles": initial, "tiles": math.prod(
                                ceil_div(e, t) for e, t in zip((M, N, K), tile))})


def estimate_vector(hw: Hardware, kind: str, elems: int) -> VectorCost:
    """Elementwise/reduction work: ceil(elems / lanes) * cycles_per_op, energy from the table."""
    if kind not in hw.vector.ops:
        raise ValueError(f"{hw.name}: unknown vector op {kind!r} (known: {', '.join(hw.vector.ops)})")
    _check_count(elems, "elems")
    cycles = _vector_cycles(hw, {kind: elems})
    counts = ActionCounts(vector_ops={kind: elems}, pe_leak_cycles=cycles * hw.num_pes,
                          background_cycles=cycles)
    return VectorCost(hw.name, kind, elems, cycles, counts, energy_of(counts, hw))

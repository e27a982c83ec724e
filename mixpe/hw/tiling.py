"""The tile search the compiler uses (mixpe-tile) and the default cost mode builds on.

``plan_tiles`` walks the tile loop nest of a GEMM for one tile and loop order (classes of
identical steps, not step by step): compute and fill/drain cycles from the dataflow (paid once
while an output tile stays in the array), DRAM traffic at the operands' true widths, and
stalls per double-buffered step.  ``choose_tile`` searches mappings (``os``/``ws`` and the
skinny ``nfold``), array-aligned power-of-two tiles and all six loop orders for the lowest
objective (cycles, energy or energy-delay product), counting the dequantisation work the
vector unit or dequantiser cannot hide (``vector_work``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Mapping

from .dataflow import DATAFLOWS, Dataflow, ceil_div
from .energy import ActionCounts, energy_of
from .hardware import Hardware
from .precision import Prec, check_shape, check_tile, resolve_group_size, resolve_precision, weight_stream_bits
from .results import pe_ops

ORDERS = ("mnk", "nmk", "mkn", "kmn", "nkm", "knm")  # outermost loop first


@dataclass(frozen=True)
class TileChoice:
    tile: tuple[int, int, int]  # (tm, tn, tk)
    order: str  # loop order, outermost first, e.g. "mnk"
    cycles: int  # modelled total cycles with this tile
    dataflow: str = "os"  # the mapping chosen with it
    energy_pj: float = 0.0  # modelled energy with this tile


@dataclass(frozen=True)
class Plan:
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
    groups: int = 1  # row stacks (nfold); 1 otherwise


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


def weight_groups(hw: Hardware, df: Dataflow, prec: Prec) -> int:
    """Row stacks a regrouping dataflow (``nfold``) may use on ``hw``: as many as the weight
    buffer's port (``sram.weight_port_bits``) can feed, C weights per stack per cycle (times
    the packing: a fused unit takes pack_rows k-steps of pack_cols channels)."""
    port = hw.sram.weight_port_bits
    if df.name != "nfold" or port is None:
        return 1
    per_stack = hw.array.cols * prec.pf_w * prec.pf_a * min(prec.wb, hw.pe.weight_bits)
    return max(1, min(hw.array.rows, port // per_stack))


def effective_order(order: str, trips: Mapping[str, int]) -> str:
    """The loop order without its one-trip loops: orders that agree here plan identically."""
    return "".join(d for d in order if trips[d] > 1)


def plan_tiles(hw, df: Dataflow, prec: Prec, M, N, K, g, tile, order, out_bits, fits=True):
    """Walk the tile loop nest by classes of identical steps; None if the tile does not fit.

    An output tile that is one fold of the array and whose k loop is innermost stays in the
    PEs from its first K tile to its last: its fill/drain is paid once and its partial sums
    reach the output buffer once (not once per K tile)."""
    tm, tn, tk = tile
    R, C = hw.array.rows, hw.array.cols
    groups = weight_groups(hw, df, prec)

    def w_bits(sk, sn):
        return weight_stream_bits(hw, prec.wb, g, sk, sn)

    def a_bits(sm, sk):
        return sm * sk * prec.ab

    ext = {"m": M, "n": N, "k": K}
    tsz = {"m": tm, "n": tn, "k": tk}
    if fits:
        if g and tk % g and tk != K:
            return None
        if tile_overflow(hw, prec, M, N, g, tile, order, df.name) is not None:
            return None
    trips = {d: ceil_div(ext[d], tsz[d]) for d in ext}
    last = {d: ext[d] - (trips[d] - 1) * tsz[d] for d in ext}
    first = {d: tsz[d] if trips[d] > 1 else last[d] for d in ext}
    bw = hw.dram.bandwidth_bits_per_cycle
    initial = w_bits(first["k"], first["n"]) + a_bits(first["m"], first["k"])
    stall = ceil_div(initial, bw)
    rd_w, rd_a = w_bits(first["k"], first["n"]), a_bits(first["m"], first["k"])
    wr = compute = fill = act_e = wt_e = visits = 0
    kw = dict(passes=prec.passes, pack_rows=prec.pf_a, pack_cols=prec.pf_w, groups=groups)
    # k the innermost loop that turns (loops of one trip do not separate anything)
    resident_ok = df.name in ("os", "nfold") and effective_order(order, trips)[-1:] == "k"
    for combo in itertools.product(*(_dim_classes(ext[d], tsz[d]) for d in order)):
        count = math.prod(c[0] for c in combo)
        size = {d: c[1] for d, c in zip(order, combo)}
        pos = {d: c[2] for d, c in zip(order, combo)}
        tc = df.tile_cycles(R, C, size["m"], size["n"], size["k"], **kw)
        st = df.streams(R, C, size["m"], size["n"], size["k"], pack_rows=prec.pf_a,
                        pack_cols=prec.pf_w, groups=groups)
        resident = resident_ok and tc.folds == 1
        step_fill = tc.fill_drain if not resident or pos["k"] == "last" else 0
        compute += count * tc.compute
        fill += count * step_fill
        act_e += count * st.act_elems
        wt_e += count * st.weight_elems
        if not resident or pos["k"] == "last":
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
        stall += count * max(0, ceil_div(fw + fa + writeback, bw) - tc.compute - step_fill)
    # An operand that fits its buffer whole stays there after its first visit (decode's few
    # activation rows): later tiles re-read it from SRAM, not DRAM.
    if a_bits(M, K) <= hw.sram.capacity_bits("act"):
        rd_a = min(rd_a, a_bits(M, K))
    if w_bits(K, N) <= hw.sram.capacity_bits("weight"):
        rd_w = min(rd_w, w_bits(K, N))
    return Plan(tile, order, compute, fill, stall, initial, {"weight": rd_w, "act": rd_a}, wr,
                act_e, wt_e, visits, (last["m"], last["n"]), groups)


def tile_footprint(hw, prec: Prec, M: int, N: int, g: int, tile, order: str) -> dict[str, int]:
    """Bits one step of `tile` (tm, tn, tk) under loop `order` keeps in each SRAM buffer: the
    weight tile with its scales and zero points, the activation tile, and the partial sums
    (all of M or N when that loop runs inside the k loop)."""
    tm, tn, tk = tile
    inside_k = order[order.index("k") + 1:]
    foot_m = M if "m" in inside_k else tm
    foot_n = N if "n" in inside_k else tn
    return {"weight": weight_stream_bits(hw, prec.wb, g, tk, tn), "act": tm * tk * prec.ab,
            "out": foot_m * foot_n * hw.pe.acc_bits}


def tile_overflow(hw, prec: Prec, M: int, N: int, g: int, tile, order: str,
                  dataflow: str = "os") -> tuple[str, int, int] | None:
    """(buffer, bits needed, bits usable) of the first SRAM buffer `tile` does not fit, else None.

    Usable is half the buffer when it is double-buffered (`SRAMSpec.capacity_bits`), except
    the output buffer of an output-stationary mapping (``os``, ``nfold``): a fold's partial
    sums reach it only after ``tk`` streaming cycles, while a finished tile drains to DRAM at
    the full bandwidth from the first cycle, so the drain stays ahead of the next tile's
    writes and the whole buffer holds partial sums."""
    for buf, need in tile_footprint(hw, prec, M, N, g, tile, order).items():
        have = hw.sram.capacity_bits(buf)
        if buf == "out" and dataflow in ("os", "nfold"):
            have = int(hw.sram.kib[buf] * 8192)
        if need > have:
            return buf, need, have
    return None


def check_tile_fits(hw: Hardware, M: int, N: int, K: int, tile, order: str | None = None, *,
                    weight_bits: int | None = None, act_bits: int | None = None,
                    group_size: int | None = None, dataflow: str | None = None) -> None:
    """A fixed tile (a compiler schedule's) fits the hardware's SRAM buffers, else ValueError:
    "schedule tile [tm, tn, tk] needs N KiB of the weight buffer, the hardware has M KiB"."""
    prec = resolve_precision(hw, weight_bits, act_bits)
    g = resolve_group_size(hw, group_size)
    clipped = check_tile(tile, M, N, K)
    order = order or "mnk"
    if sorted(order) != ["k", "m", "n"]:
        raise ValueError(f"loop order must be a permutation of 'mnk', got {order!r}")
    over = tile_overflow(hw, prec, M, N, g, clipped, order, dataflow or hw.array.dataflow)
    if over is None:
        return
    buf, need, have = over
    halved = (f" (half of its {_kib(hw.sram.kib[buf] * 8192)} KiB: double-buffered)"
              if hw.sram.double_buffered and have < hw.sram.kib[buf] * 8192 else "")
    raise ValueError(f"schedule tile {list(tile)} needs {_kib(need)} KiB of the {buf} buffer, "
                     f"the hardware has {_kib(have)} KiB{halved}")


def _kib(bits: float) -> str:
    kib = bits / 8192
    return f"{kib:,.0f}" if kib == int(kib) or kib >= 100 else f"{kib:,.2f}".rstrip("0").rstrip(".")


def _candidates(extent: int, unit: int, thirds: bool = False, fine: bool = False) -> list[int]:
    """unit * 2^i below extent, and extent itself; with `thirds` also unit * 3 * 2^i, so an
    output tile can approach the square the output buffer allows (e.g. 192 x 144); with
    `fine` also unit / 2, / 4, / 8."""
    out, t = {extent}, (max(1, unit // 8) if fine else unit)
    while t < extent:
        out.add(t)
        if thirds and 3 * t < extent:
            out.add(3 * t)
        t *= 2
    return sorted(out)


_TILE_CACHE: dict[tuple, tuple[Hardware, TileChoice]] = {}
OBJECTIVES = ("cycles", "energy", "edp")
DEFAULT_OBJECTIVE = "edp"


def search_dataflows(hw: Hardware, dataflow: str | None) -> tuple[str, ...]:
    """The mappings a search may pick from: the given one, else the hardware's, plus ``nfold``
    (its skinny-GEMM form) on an output-stationary array whose weight port can feed stacks."""
    if dataflow is not None:
        get_dataflow(dataflow)
        return (dataflow,)
    own = hw.array.dataflow
    return (own, "nfold") if own == "os" and hw.sram.weight_port_bits is not None else (own,)


def choose_tile(hw: Hardware, M: int, N: int, K: int, *, weight_bits: int | None = None,
                act_bits: int | None = None, group_size: int | None = None,
                dataflow: str | None = None, objective: str | None = None) -> TileChoice:
    """Mapping, tile (tm, tn, tk) and loop order minimising ``objective`` (default mode).

    A small analytical search: tile sizes are the array-aligned powers of two (K tiles are
    multiples of the group size) plus the full extent, under all six loop orders and every
    mapping of ``search_dataflows``, kept only if the tiles fit the (halved when
    double-buffered) SRAMs.  ``objective``: ``cycles``, ``energy`` or ``edp`` (energy x
    cycles, the default: fewest cycles alone inflates DRAM traffic with tiny output tiles).
    """
    check_shape(M, N, K)
    objective = objective or DEFAULT_OBJECTIVE
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown tile objective {objective!r} (known: {', '.join(OBJECTIVES)})")
    prec = resolve_precision(hw, weight_bits, act_bits)
    g = resolve_group_size(hw, group_size)
    flows = search_dataflows(hw, dataflow)
    key = (id(hw), M, N, K, prec, g, flows, objective)
    hit = _TILE_CACHE.get(key)
    if hit is not None and hit[0] is hw:
        return hit[1]
    best = _search(hw, prec, M, N, K, g, flows, objective, fine=False)
    if best is None:  # e.g. a very large array or a whole-K group: try tiles below one fold
        best = _search(hw, prec, M, N, K, g, flows, objective, fine=True)
    if best is None:
        raise ValueError(f"{hw.name}: no tile of {M}x{N}x{K} fits the SRAMs")
    _TILE_CACHE[key] = (hw, best)
    return best


def _search(hw, prec, M, N, K, g, flows, objective, fine: bool) -> TileChoice | None:
    """The best tile of ``choose_tile``'s candidates; ``fine`` adds M and N tiles of 1/2..1/8
    of the array-aligned unit (partial folds), for when no aligned tile fits the SRAMs."""
    R, C = hw.array.rows, hw.array.cols
    best = None
    for dfname in flows:
        df = get_dataflow(dfname)
        unit_m = R * prec.pf_a if dfname != "ws" else 16
        unit_k = g or (R * prec.pf_a if dfname == "ws" else 16)
        unit_n = C * prec.pf_w
        for tm in _candidates(M, unit_m, thirds=True, fine=fine):
            # nfold: also whole folds (H * C / m output channels for this tile's tokens)
            per_fold = df.fold_channels(R, C, tm, weight_groups(hw, df, prec), prec.pf_a, prec.pf_w)
            for tn in sorted(set(_candidates(N, unit_n, thirds=True, fine=fine)) | set(_candidates(N, per_fold))):
                for tk in _candidates(K, unit_k):
                    trips = {"m": ceil_div(M, tm), "n": ceil_div(N, tn), "k": ceil_div(K, tk)}
                    seen = set()
                    for order in ORDERS:
                        eff = effective_order(order, trips)
                        if eff in seen:  # the same loop nest as an order already planned
                            continue
                        seen.add(eff)
                        plan = plan_tiles(hw, df, prec, M, N, K, g, (tm, tn, tk), order, hw.defaults.out_bits)
                        if plan is None:
                            continue
                        vec_ops, _, exposed = vector_work(hw, prec, M, N, K, g, plan)
                        total = plan.compute + plan.fill_drain + plan.stall + exposed
                        energy = energy_of(plan_counts(hw, prec, M, N, K, g, plan, vec_ops, total), hw).total_pj
                        dram = sum(plan.dram_read.values())
                        primary = {"cycles": total, "energy": energy, "edp": energy * total}[objective]
                        score = (primary, total, dram, -tm * tn * tk)
                        if best is None or score < best[0]:
                            best = (score, TileChoice((tm, tn, tk), order, total, dfname, energy))
    return None if best is None else best[1]


def plan_counts(hw: Hardware, prec: Prec, M: int, N: int, K: int, g: int, plan: Plan,
                vec_ops: Mapping[str, int], total: int) -> ActionCounts:
    """Every action of a planned GEMM (what its energy is the price of)."""
    acc = hw.pe.acc_bits
    if g and hw.dequant.placement == "epilogue":
        visits = max(plan.psum_visits, M * N * ceil_div(K, g))
    else:
        visits = plan.psum_visits
    return ActionCounts(
        pe_ops=pe_ops(hw, prec, M, N, K, plan.compute),
        sram_read_bits={"weight": plan.weight_elems * prec.wb,
                        "act": plan.act_elems * prec.ab * prec.passes,
                        "out": visits * acc},
        sram_write_bits={"weight": plan.dram_read["weight"], "act": plan.dram_read["act"],
                         "out": visits * acc},
        dram_read_bits=sum(plan.dram_read.values()),
        dram_write_bits=plan.dram_write,
        vector_ops=dict(vec_ops),
        pe_leak_cycles=total * hw.num_pes,
        background_cycles=total,
    )


def get_dataflow(name: str) -> Dataflow:
    if name not in DATAFLOWS:
        raise ValueError(f"unknown dataflow {name!r} (known: {', '.join(DATAFLOWS)})")
    return DATAFLOWS[name]


def vector_cycles(hw: Hardware, ops: Mapping[str, int], lanes: int | None = None) -> int:
    lanes = lanes or hw.vector.lanes
    return sum(ceil_div(n, lanes) * hw.vector.ops[k].cycles for k, n in ops.items())


def vector_work(hw, prec, M, N, K, g, plan: Plan) -> tuple[dict[str, int], int, int]:
    """Dequantisation ops, busy cycles of the unit doing them, and cycles not hidden behind
    the array.  The epilogue runs on the vector unit; in-loop dequantisation on the
    dequantiser (``dequant.lanes`` weights per cycle, the vector unit's lanes when absent),
    which stalls the array when it cannot keep up with the weights streamed into it."""
    if not g:
        return {}, 0, 0
    G = ceil_div(K, g)
    if hw.dequant.placement == "epilogue":
        # Y += S * (P - Z * A) per (m, group, n): two fma, plus int->float of P on int PEs;
        # group sums A[m, j] once per activation element.
        per_out = {"fma": 2} | ({"cast": 1} if hw.pe.act_format == "int" else {})
        ops = {k: v * M * N * G for k, v in per_out.items()} | {"add": M * K}
        tail_elems = plan.last_tile[0] * plan.last_tile[1]
        tail = vector_cycles(hw, {k: v * tail_elems for k, v in per_out.items()})
        busy = vector_cycles(hw, ops)
    else:
        # Every weight streamed into the array is dequantised on its way in.
        kind = "dequant_fp16" if hw.pe.act_format == "fp" else "dequant_int8"
        ops = {kind: plan.weight_elems}
        tail = 0
        busy = vector_cycles(hw, ops, hw.dequant.lanes)
    array = plan.compute + plan.fill_drain + plan.stall
    return ops, busy, max(tail, busy - array)

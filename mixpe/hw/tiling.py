"""The tile search the compiler uses (mixpe-tile) and the default cost mode builds on.

``plan_tiles`` walks the tile loop nest of a GEMM for one tile and loop order (classes of
identical steps, not step by step): compute and fill/drain cycles from the dataflow, DRAM
traffic at the operands' true widths, and stalls per double-buffered step.  ``choose_tile``
searches array-aligned power-of-two tiles under all six loop orders for the fewest modelled
cycles, counting the dequantisation work the vector unit cannot hide (``vector_work``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Mapping

from .dataflow import DATAFLOWS, Dataflow, ceil_div
from .hardware import Hardware
from .precision import Prec, check_shape, check_tile, resolve_group_size, resolve_precision

ORDERS = ("mnk", "nmk", "mkn", "kmn", "nkm", "knm")  # outermost loop first


@dataclass(frozen=True)
class TileChoice:
    tile: tuple[int, int, int]  # (tm, tn, tk)
    order: str  # loop order, outermost first, e.g. "mnk"
    cycles: int  # modelled total cycles with this tile


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


def plan_tiles(hw, df: Dataflow, prec: Prec, M, N, K, g, tile, order, out_bits, fits=True):
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
        if tile_overflow(hw, prec, M, N, g, tile, order) is not None:
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
    return Plan(tile, order, compute, fill, stall, initial, {"weight": rd_w, "act": rd_a}, wr,
                 act_e, wt_e, visits, (last["m"], last["n"]))


def tile_footprint(hw, prec: Prec, M: int, N: int, g: int, tile, order: str) -> dict[str, int]:
    """Bits one step of `tile` (tm, tn, tk) under loop `order` keeps in each SRAM buffer: the
    weight tile with its scales and zero points, the activation tile, and the partial sums
    (all of M or N when that loop runs inside the k loop)."""
    tm, tn, tk = tile
    inside_k = order[order.index("k") + 1:]
    foot_m = M if "m" in inside_k else tm
    foot_n = N if "n" in inside_k else tn
    scales = ceil_div(tk, g) * tn * 2 * hw.dequant.scale_bits if g else 0
    return {"weight": tk * tn * prec.wb + scales, "act": tm * tk * prec.ab,
            "out": foot_m * foot_n * hw.pe.acc_bits}


def tile_overflow(hw, prec: Prec, M: int, N: int, g: int, tile, order: str) -> tuple[str, int, int] | None:
    """(buffer, bits needed, bits usable) of the first SRAM buffer `tile` does not fit, else None.
    Usable is half the buffer when it is double-buffered (`SRAMSpec.capacity_bits`)."""
    for buf, need in tile_footprint(hw, prec, M, N, g, tile, order).items():
        have = hw.sram.capacity_bits(buf)
        if need > have:
            return buf, need, have
    return None


def check_tile_fits(hw: Hardware, M: int, N: int, K: int, tile, order: str | None = None, *,
                    weight_bits: int | None = None, act_bits: int | None = None,
                    group_size: int | None = None) -> None:
    """A fixed tile (a compiler schedule's) fits the hardware's SRAM buffers, else ValueError:
    "schedule tile [tm, tn, tk] needs N KiB of the weight buffer, the hardware has M KiB"."""
    prec = resolve_precision(hw, weight_bits, act_bits)
    g = resolve_group_size(hw, group_size)
    clipped = check_tile(tile, M, N, K)
    order = order or "mnk"
    if sorted(order) != ["k", "m", "n"]:
        raise ValueError(f"loop order must be a permutation of 'mnk', got {order!r}")
    over = tile_overflow(hw, prec, M, N, g, clipped, order)
    if over is None:
        return
    buf, need, have = over
    halved = f" (half of its {_kib(hw.sram.kib[buf] * 8192)} KiB: double-buffered)" if hw.sram.double_buffered else ""
    raise ValueError(f"schedule tile {list(tile)} needs {_kib(need)} KiB of the {buf} buffer, "
                     f"the hardware has {_kib(have)} KiB{halved}")


def _kib(bits: float) -> str:
    kib = bits / 8192
    return f"{kib:,.0f}" if kib == int(kib) or kib >= 100 else f"{kib:,.2f}".rstrip("0").rstrip(".")


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
    check_shape(M, N, K)
    prec = resolve_precision(hw, weight_bits, act_bits)
    g = resolve_group_size(hw, group_size)
    dfname = dataflow or hw.array.dataflow
    key = (id(hw), M, N, K, prec, g, dfname)
    hit = _TILE_CACHE.get(key)
    if hit is not None and hit[0] is hw:
        return hit[1]
    df = get_dataflow(dfname)
    R, C = hw.array.rows, hw.array.cols
    unit_m = R * prec.pf_a if dfname == "os" else 16
    unit_k = g or (R * prec.pf_a if dfname == "ws" else 16)
    best = None
    for tm in _candidates(M, unit_m):
        for tn in _candidates(N, C * prec.pf_w):
            for tk in _candidates(K, unit_k):
                for order in ORDERS:
                    plan = plan_tiles(hw, df, prec, M, N, K, g, (tm, tn, tk), order, hw.defaults.out_bits)
                    if plan is None:
                        continue
                    total = plan.compute + plan.fill_drain + plan.stall
                    total += vector_work(hw, df, prec, M, N, K, g, plan)[2]
                    score = (total, sum(plan.dram_read.values()), -tm * tn * tk)
                    if best is None or score < best[0]:
                        best = (score, TileChoice((tm, tn, tk), order, total))
    if best is None:
        raise ValueError(f"{hw.name}: no tile of {M}x{N}x{K} fits the SRAMs")
    _TILE_CACHE[key] = (hw, best[1])
    return best[1]


def get_dataflow(name: str) -> Dataflow:
    if name not in DATAFLOWS:
        raise ValueError(f"unknown dataflow {name!r} (known: {', '.join(DATAFLOWS)})")
    return DATAFLOWS[name]


def vector_cycles(hw: Hardware, ops: Mapping[str, int]) -> int:
    lanes = hw.vector.lanes
    return sum(ceil_div(n, lanes) * hw.vector.ops[k].cycles for k, n in ops.items())


def vector_work(hw, df, prec, M, N, K, g, plan: Plan) -> tuple[dict[str, int], int, int]:
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
        tail = vector_cycles(hw, {k: v * tail_elems for k, v in per_out.items()})
    else:
        # Every weight streamed into the array is dequantised on its way in.
        kind = "dequant_fp16" if hw.pe.act_format == "fp" else "dequant_int8"
        ops = {kind: plan.weight_elems}
        tail = 0
    busy = vector_cycles(hw, ops)
    array = plan.compute + plan.fill_drain + plan.stall
    return ops, busy, max(tail, busy - array)

"""Component figures behind the default presets' area and energy numbers, and the area table.

The presets hold the figures themselves (each with its source); this module recomputes the ones
derived from Horowitz, "Computing's Energy Problem (and what we can do about it)", ISSCC 2014
(45 nm, 0.9 V) so tests can check the presets against their stated arithmetic, and prints the
tables docs/hardware.md shows::

    python -m mixpe.hw.area            # derivations + every preset's area breakdown and PE count
"""

from __future__ import annotations

import math
import sys

from .hardware import Hardware, list_presets, load_hardware

# 28 nm first-order scaling of the 45 nm figures (mixpe/hw/presets/_base-28nm.toml header)
ENERGY_28NM = 28 / 45  # 0.6222
AREA_28NM = (28 / 45) ** 2  # 0.3872

# Horowitz ISSCC 2014, 45 nm: area in um^2 and energy in pJ per operation
H_AREA = {"add8": 36, "add32": 137, "mult8": 282, "mult32": 3495,
          "fadd16": 1360, "fmult16": 1640, "fadd32": 4184, "fmult32": 7700}
H_ENERGY = {"add8": 0.03, "add16": 0.05, "add32": 0.1, "mult8": 0.2, "mult32": 3.1,
            "fadd16": 0.4, "fmult16": 1.1, "fadd32": 0.9, "fmult32": 3.7}
# Horowitz ISSCC 2014, 45 nm: SRAM read energy per 64-bit access by array size (bytes -> pJ)
H_SRAM_PJ_PER_64B = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}
# Horowitz ISSCC 2014: DRAM 640 pJ per 32-bit access (DDR3-era)
H_DRAM_PJ_PER_BIT = 640 / 32

# the components of each derived unit (45 nm area keys), see the presets' headers
UNITS = {
    "int8 MAC PE": ("mult8", "add32"),
    "fp16 MAC PE, fp32 accumulation": ("fmult16", "fadd32"),
    "fp16 MAC PE, fp16 accumulation": ("fmult16", "fadd16"),
    "fp32 FMA vector lane": ("fmult32", "fadd32"),
    "int4->int8 dequant lane": ("mult8", "add8"),
    "int4->fp16 dequant lane": ("fmult16", "fadd16"),
}


def unit_area_um2(unit: str) -> float:
    """A unit's 28 nm area: the sum of its Horowitz 45 nm components x (28/45)^2."""
    return sum(H_AREA[c] for c in UNITS[unit]) * AREA_28NM


def sram_pj_per_bit(kib: float, *, node_28nm: bool = True) -> float:
    """Horowitz's SRAM access energy for an array of ``kib`` KiB, per bit: log-log interpolation
    between his 8 KB, 32 KB and 1 MB points (extrapolated beyond them), x 0.6222 at 28 nm."""
    size = kib * 1024
    pts = sorted(H_SRAM_PJ_PER_64B.items())
    (s0, e0), (s1, e1) = (pts[0], pts[1]) if size <= pts[1][0] else (pts[1], pts[2])
    t = math.log(size / s0) / math.log(s1 / s0)
    pj = math.exp(math.log(e0) + t * (math.log(e1) - math.log(e0))) / 64
    return pj * ENERGY_28NM if node_28nm else pj


def dequant_sizing(avail_um2: float, rows: int, pe_area_um2: float, lane_area_um2: float,
                   cap: int) -> tuple[int, int]:
    """(lanes, cols) of an in-loop dequantiser and the array it feeds, sharing ``avail_um2``
    (the budget less the vector unit): maximise the weights per cycle the pair can take in the
    array's widest mapping, ``min(rows x cols, lanes)`` (``cap``: the most weights per cycle that
    can arrive at all, the DRAM rate / weight bits for weights streamed once), then the PEs, then
    use the fewest lanes.  Columns are
    derived from the lanes exactly as the loader derives them (floor, same tolerance)."""
    best: tuple[tuple[int, int, int], int, int] | None = None
    for lanes in range(1, cap + 1):
        exact = (avail_um2 - lanes * lane_area_um2) / (rows * pe_area_um2)
        cols = math.floor(exact * (1 + 1e-9)) if exact > 0 else 0
        if cols < 1:
            break
        key = (min(rows * cols, lanes), rows * cols, -lanes)
        if best is None or key > best[0]:
            best = (key, lanes, cols)
    if best is None:
        raise ValueError("no dequantiser and array fit the area")
    return best[1], best[2]


def _fmt(x: float | None, nd: int = 0) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def area_row(label: str, hw: Hardware) -> str:
    a = hw.area
    dq = f"{hw.dequant.lanes} x {hw.dequant.lane_area_um2:,.2f}" if hw.dequant.lanes else "-"
    share = "-" if a["total"] is None or not a["budget"] else f"{a['total'] / a['budget']:.4f}"
    return (f"| {label} | {hw.array.rows}x{hw.array.cols} | {hw.num_pes} | {_fmt(hw.pe.area_um2, 2)} | "
            f"{_fmt(a['pe_array'])} | {_fmt(a['vector'])} | {dq} | {_fmt(a['dequant'])} | "
            f"{_fmt(a['total'])} | {_fmt(a['budget'])} | {share} |")


AREA_HEADER = ("| preset | array | PEs | PE um^2 | PE array | vector | dequant lanes | dequant | total | "
               "budget | total/budget |\n|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> int:
    del argv
    print("Derived units (Horowitz ISSCC 2014, 45 nm areas x (28/45)^2):\n")
    print("| unit | components (45 nm um^2) | 28 nm um^2 |\n|---|---|---|")
    for unit, parts in UNITS.items():
        comp = " + ".join(f"{p} {H_AREA[p]}" for p in parts)
        print(f"| {unit} | {comp} = {sum(H_AREA[p] for p in parts)} | {unit_area_um2(unit):,.2f} |")
    print("\nSRAM energy, Horowitz 8 KB / 32 KB / 1 MB = 10 / 20 / 100 pJ per 64 bit, log-log interpolated:\n")
    print("| buffer size | 45 nm pJ/bit | 28 nm pJ/bit (x 0.6222) |\n|---|---|---|")
    for kib in (128, 256):
        print(f"| {kib} KiB | {sram_pj_per_bit(kib, node_28nm=False):.4f} | {sram_pj_per_bit(kib):.4f} |")
    print("\nArea breakdown (um^2; `hw.area`), nominal figures:\n")
    print(AREA_HEADER)
    from .ranges import SIDES, assumptions, load_variant

    variants = []
    for name in list_presets():
        hw = load_hardware(name)
        if hw.area["total"] is None:
            continue
        print(area_row(f"`{name}`", hw))
        for a in assumptions(name):
            for side in SIDES:
                v = load_variant(name, a.name, side)
                if dict(v.area) != dict(hw.area):
                    variants.append(area_row(f"`{name}` {a.name} {side}", v))
    if variants:
        print("\nVariants whose area changes (`mixpe.hw.ranges.load_variant`):\n")
        print(AREA_HEADER)
        print("\n".join(variants))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

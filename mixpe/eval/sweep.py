"""Design-space sweeps: `array=16x16,32x32 group=64,128 bits=2,4 dataflow=os,ws act=4,8`.

A point's hardware variant is the preset's merged TOML with the swept fields replaced, each
new figure's source saying it is a sweep override and what it replaced, so a swept number
stays as traceable as a preset's. Variants are ordinary `Design`s, so a sweep is one
evaluation over more designs, sharing the runner, the cache and the executor.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re

from mixpe.eval.files import csv_bytes, md_table, write_json, write_text
from mixpe.eval.metrics import geomean, index_totals
from mixpe.eval.runner import Design, Evaluation
from mixpe.eval.workload import Precision
from mixpe.hw import read_table

AXES = ("array", "group", "bits", "dataflow", "act")
QUANT_AXES = ("group", "bits")  # apply to designs with quantized weights only
ACT_WIDTHS = {4: "i4", 8: "i8", 16: "f16"}  # --act-bits / act=: the frontend's activation types

Point = tuple[tuple[str, str], ...]


class SweepError(ValueError):
    pass


def parse_sweep(specs: list[str]) -> list[Point]:
    """`axis=v1,v2` words -> the cartesian product of points, axes in the given order."""
    axes: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or not values:
            raise SweepError(f"--sweep {spec!r}: expected AXIS=V1,V2,... (axes: {', '.join(AXES)})")
        if key not in AXES:
            raise SweepError(f"--sweep: unknown axis '{key}' (known: {', '.join(AXES)})")
        if key in axes:
            raise SweepError(f"--sweep: axis '{key}' given twice")
        vals = [v for v in values.split(",") if v]
        for v in vals:
            _check(key, v)
        axes[key] = list(dict.fromkeys(vals))
    return [tuple(zip(axes, combo)) for combo in itertools.product(*axes.values())]


def _check(axis: str, v: str) -> None:
    ok = {"array": re.fullmatch(r"[1-9]\d*x[1-9]\d*", v), "group": re.fullmatch(r"[1-9]\d*", v),
          "bits": re.fullmatch(r"[1-8]", v), "dataflow": v in ("os", "ws"),
          "act": v.isdigit() and int(v) in ACT_WIDTHS}[axis]
    if not ok:
        want = {"array": "ROWSxCOLS", "group": "a positive group size", "bits": "1..8",
                "dataflow": "os or ws", "act": "4, 8 or 16 activation bits"}[axis]
        raise SweepError(f"--sweep {axis}={v}: expected {want}")


def point_label(point: Point) -> str:
    return ",".join(f"{k}={v}" for k, v in point) or "base"


def takes_act(table: dict, bits: int) -> bool:
    """Does the PE of a (merged, raw) hardware table take `bits`-bit activations? Integer PEs
    take any width up to their own (a packing PE's pmax); float PEs their own float format."""
    pe = table.get("pe", {})

    def val(key):
        v = pe.get(key)
        return v.get("value") if isinstance(v, dict) else v

    width = val("pack_pmax") or val("act_bits") or 0
    if pe.get("act_format") == "fp":
        return bits == 16 and bits <= width
    return bits <= 8 and bits <= width


def act_label(bits: int) -> str:
    return ACT_WIDTHS[bits]


def variant(design: Design, point: Point, origin: str = "sweep") -> Design:
    """`design` with the point's overrides that apply to it (none: the design itself):
    `group`/`bits` to designs with quantized weights, `act` to designs whose PE takes that
    activation width (`takes_act`), `array`/`dataflow` to every design. Each replaced figure's
    source says `mixpe-eval <origin> override <axis>=<value> (was <old value>: <old source>)`."""
    data = read_table(design.hw)  # the preset with its bases merged in
    applies = tuple((k, v) for k, v in point
                    if (design.precision.group or k not in QUANT_AXES)
                    and (k != "act" or takes_act(data, int(v))))
    if not applies:
        return design
    ov = dict(applies)
    label = f"{design.label}[{point_label(applies)}]"
    data["name"] = label
    data["description"] = f"{data.get('description', design.label)}; mixpe-eval {origin} variant {point_label(applies)}"

    def override(section: str, key: str, value, what: str) -> None:
        old = data.setdefault(section, {}).get(key)
        was = f" (was {old['value']}: {old['source']})" if isinstance(old, dict) else ""
        data[section][key] = {"value": value, "source": f"mixpe-eval {origin} override {what}{was}"}

    if "array" in ov:
        rows, cols = map(int, ov["array"].split("x"))
        override("array", "rows", rows, f"array={ov['array']}")
        override("array", "cols", cols, f"array={ov['array']}")
    if "dataflow" in ov:
        data.setdefault("array", {})["dataflow"] = ov["dataflow"]
    p = design.precision
    if "group" in ov:
        override("workload", "group_size", int(ov["group"]), f"group={ov['group']}")
    if "bits" in ov:
        override("workload", "weight_bits", int(ov["bits"]), f"bits={ov['bits']}")
    act = design.act
    if "act" in ov:
        override("workload", "act_bits", int(ov["act"]), f"act={ov['act']}")
        act = act_label(int(ov["act"]))
    precision = Precision(int(ov.get("bits", p.weight_bits)), act or p.act, int(ov.get("group", p.group)))
    return Design(label=label, hw=design.hw, precision=precision, toml=to_toml(data),
                  base=design.base or design.label, point=(*design.point, *applies), act=act)


def to_toml(data: dict) -> str:
    """Serialise a merged hardware table: {value, source} figures inline, sections nested."""
    lines: list[str] = []

    def is_figure(v) -> bool:
        return isinstance(v, dict) and "value" in v

    def scalar(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {scalar(x)}" for k, x in v.items()) + " }"
        return json.dumps(str(v))

    def section(path: list[str], table: dict) -> None:
        leaves = {k: v for k, v in table.items() if not isinstance(v, dict) or is_figure(v)}
        if path and leaves:
            lines.append(f"\n[{'.'.join(path)}]")
        lines.extend(f"{key(k)} = {scalar(v)}" for k, v in leaves.items())
        for k, v in table.items():
            if isinstance(v, dict) and not is_figure(v):
                section([*path, key(k)], v)

    def key(k: str) -> str:  # a bare key, else quoted ("dram.read_pj_per_bit" in [assumptions])
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)

    section([], data)
    return "\n".join(lines) + "\n"


def sweep_designs(designs: list[Design], points: list[Point]) -> tuple[list[Design], dict[Point, dict[str, str]]]:
    """All distinct variants, and for each point {base design label: variant label}."""
    out: dict[str, Design] = {}
    at: dict[Point, dict[str, str]] = {}
    for point in points:
        at[point] = {}
        for d in designs:
            v = variant(d, point)
            out.setdefault(v.label, v)
            at[point][d.label] = v.label
    return list(out.values()), at


def materialise(designs: list[Design], out: str) -> list[Design]:
    """Writes each variant's TOML to `out/hw/` and points the design at it, so local workers
    compile against the very file the report names (remote ones rebuild it from `toml`)."""
    import dataclasses

    hw_dir = os.path.join(out, "hw")
    result = []
    for d in designs:
        if d.toml is not None:
            os.makedirs(hw_dir, exist_ok=True)
            path = os.path.join(hw_dir, _safe(d.label) + ".toml")
            write_text(path, d.toml)
            d = dataclasses.replace(d, hw=path)
        result.append(d)
    return result


def sweep_rows(ev: Evaluation, at: dict[Point, dict[str, str]], baselines: list[str]) -> list[dict]:
    """Per point, workload, design and baseline: geomean over models of speedup and energy
    reduction against the baseline's variant at the same point."""
    idx = index_totals(ev)
    rows = []
    for point, labels in at.items():
        for wl in ev.workloads:
            for base in baselines:
                for d, label in labels.items():
                    if d == base:
                        continue
                    sp, er = [], []
                    for m in ev.models:
                        b, t = idx.get((wl.name, m.key, labels[base])), idx.get((wl.name, m.key, label))
                        if b and t:
                            sp.append(b["time_us"] / t["time_us"])
                            er.append(b["energy_pj"] / t["energy_pj"])
                    if sp:
                        rows.append({"point": point_label(point), "workload": wl.name, "design": d,
                                     "variant": label, "baseline": base, "baseline_variant": labels[base],
                                     "geomean_speedup": geomean(sp), "geomean_energy_reduction": geomean(er),
                                     "models": len(sp)})
    return rows


def write_sweep(ev: Evaluation, at: dict[Point, dict[str, str]], baselines: list[str], out: str,
                command: str, plots: bool = True) -> dict[str, str]:
    rows = sweep_rows(ev, at, baselines)
    paths = {"sweep_csv": os.path.join(out, "sweep.csv"), "sweep_json": os.path.join(out, "sweep.json"),
             "sweep_md": os.path.join(out, "sweep.md")}
    write_text(paths["sweep_csv"], csv_bytes(rows))
    write_json(paths["sweep_json"], {"command": command, "points": [point_label(p) for p in at],
                                     "rows": rows, "totals": ev.totals})
    if plots and rows:
        paths["sweep_png"] = _plot(rows, baselines[0], os.path.join(out, "sweep.png"))
    lines = ["# mixpe-eval sweep", "", f"Command: `{command}`", "",
             f"{len(at)} points x {len({r['design'] for r in rows} | set(baselines))} designs; compiled "
             f"{ev.distinct} distinct layers for {ev.occurrences:,} GEMM occurrences in {ev.seconds:.1f} s. "
             f"Hardware variants: `hw/*.toml` (each override's source names what it replaced). "
             "Cells: geomean over models of speedup / energy reduction against the baseline's variant at "
             "the same point.", ""]
    for wl in ev.workloads:
        for base in baselines:
            sel = [r for r in rows if r["workload"] == wl.name and r["baseline"] == base]
            designs = list(dict.fromkeys(r["design"] for r in sel))
            cell = {(r["point"], r["design"]): r for r in sel}
            lines += [f"## {wl.name} vs {base}", ""]
            lines += md_table(["point", *designs], [
                [point_label(p)] + [f"{c['geomean_speedup']:.2f}x / {c['geomean_energy_reduction']:.2f}x"
                                    if (c := cell.get((point_label(p), d))) else "-" for d in designs]
                for p in at])
    if "sweep_png" in paths:
        lines += ["![sweep](sweep.png)", ""]
    write_text(paths["sweep_md"], "\n".join(lines) + "\n")
    return paths


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", label).strip("_")


def _plot(rows: list[dict], base: str, path: str) -> str:
    from mixpe.eval.plots import grouped_bars, save, subplots  # matplotlib (~0.4 s): only when plots are made

    sel = [r for r in rows if r["baseline"] == base]
    wls = list(dict.fromkeys(r["workload"] for r in sel))
    points = list(dict.fromkeys(r["point"] for r in sel))
    designs = list(dict.fromkeys(r["design"] for r in sel))
    fig, axes = subplots(len(wls), max(8.0, 0.4 * len(points) * len(designs)), 3.5)
    for ax, wl in zip(axes, wls):
        cell = {(r["point"], r["design"]): r["geomean_speedup"] for r in sel if r["workload"] == wl}
        grouped_bars(ax, points, {d: [cell.get((p, d), math.nan) for p in points] for d in designs},
                     f"geomean speedup vs {base}", f"{wl}: sweep", rotation=20)
    return save(fig, path)

"""matplotlib figures of an evaluation (Agg backend: no display needed): speedup bars,
stacked energy breakdown, per-layer roofline. Imported only when plots are written."""

from __future__ import annotations

import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mixpe.eval.files import write_text  # noqa: E402
from mixpe.eval.metrics import index_totals, ratio_table  # noqa: E402
from mixpe.eval.runner import ENERGY_CATEGORIES as CATEGORIES  # noqa: E402
from mixpe.eval.runner import Evaluation  # noqa: E402

_COLORS = {"pe": "#4c72b0", "sram": "#55a868", "dram": "#c44e52", "vector": "#8172b2",
           "leakage": "#ccb974", "static": "#64b5cd"}


def plot_baseline(ev: Evaluation, baselines: list[str]) -> str:
    """fp16 when evaluated (the paper normalises to it), else the first baseline."""
    labels = [d.label for d in ev.designs]
    for b in ("fp16", "paper-fp16", *baselines):
        if b in labels:
            return b
    return labels[0]


def save(fig, path: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    write_text(path, buf.getvalue())
    return path


def subplots(n: int, width: float, height: float):
    fig, axes = plt.subplots(n, 1, figsize=(width, height * n), squeeze=False, layout="constrained")
    return fig, [a[0] for a in axes]


def grouped_bars(ax, groups: list[str], series: dict[str, list[float]], ylabel: str, title: str,
                 rotation: int = 0) -> None:
    """One bar per series in each group, a line at 1x (speedup-style plots)."""
    width = 0.8 / max(len(series), 1)
    for i, (label, vals) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(groups))], vals, width, label=label)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(groups))], groups, rotation=rotation,
                  fontsize=7 if rotation else None)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def speedup_plot(ev: Evaluation, base: str, path: str) -> str:
    fig, axes = subplots(len(ev.workloads), 11, 3.6)
    designs = [d.label for d in ev.designs if d.label != base]
    for ax, wl in zip(axes, ev.workloads):
        table = ratio_table(ev, wl.name, base, "time_us")
        groups = [m for m in ev.models if any(m.key in table.get(d, {}) for d in designs)]
        keys = [m.key for m in groups] + ["geomean"]
        grouped_bars(ax, [m.name for m in groups] + ["geomean"],
                     {d: [table.get(d, {}).get(k, 0.0) for k in keys] for d in designs},
                     f"speedup vs {base}", f"{wl.name}: speedup over {base} (last group: geomean over models)")
    return save(fig, path)


def energy_plot(ev: Evaluation, base: str, path: str) -> str:
    fig, axes = subplots(len(ev.workloads), 13, 4.2)
    idx = index_totals(ev)
    designs = [d.label for d in ev.designs]
    for ax, wl in zip(axes, ev.workloads):
        x, ticks, pos, groups = 0.0, [], [], []
        bottoms: dict[str, list[float]] = {c: [] for c in CATEGORIES}
        for m in ev.models:
            b = idx.get((wl.name, m.key, base))
            if not b:
                continue
            start = x
            for d in designs:
                t = idx.get((wl.name, m.key, d))
                if not t:
                    continue
                for c in CATEGORIES:
                    bottoms[c].append(t.get(f"energy_{c}_pj", 0.0) / b["energy_pj"])
                pos.append(x)
                ticks.append(d)
                x += 1
            groups.append(((start + x - 1) / 2, m.name))
            x += 1
        acc = [0.0] * len(pos)
        for c in CATEGORIES:
            if any(bottoms[c]):
                ax.bar(pos, bottoms[c], 0.8, bottom=acc, label=c, color=_COLORS[c])
                acc = [a + v for a, v in zip(acc, bottoms[c])]
        ax.set_xticks(pos, ticks, rotation=90, fontsize=6)
        for gx, name in groups:
            ax.annotate(name, (gx, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 3),
                        textcoords="offset points", fontsize=8, ha="center")
        ax.set_ylabel(f"energy / {base}")
        ax.set_title(f"{wl.name}: energy breakdown, normalised to {base}", pad=14)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save(fig, path)


def roofline_plot(ev: Evaluation, path: str) -> str:
    """MACs per DRAM byte vs MACs per cycle for every distinct layer; roofs per design."""
    fig, axes = subplots(len(ev.workloads), 9, 5)
    cmap = plt.get_cmap("tab10")
    for ax, wl in zip(axes, ev.workloads):
        distinct = {(r["design"], r["kind"], r["M"], r["K"], r["N"]): r for r in ev.layers
                    if r["workload"] == wl.name and r["dram_bits"] and r["cycles"]}
        for i, d in enumerate(ev.designs):
            mine = [r for r in distinct.values() if r["design"] == d.label]
            if not mine:
                continue
            xs = [r["macs"] / (r["dram_bits"] / 8) for r in mine]
            ys = [r["macs"] / r["cycles"] for r in mine]
            color = cmap(i % 10)
            for kind, marker in (("linear", "o"), ("attention", "^")):
                pts = [(x, y) for x, y, r in zip(xs, ys, mine) if r["kind"] == kind]
                if pts:
                    ax.scatter(*zip(*pts), s=16, color=color, marker=marker,
                               label=d.label if kind == "linear" or len(pts) == len(mine) else None)
            peak = max((r["macs"] / r["ideal_cycles"] for r in mine if r["kind"] == "linear" and r["ideal_cycles"]),
                       default=max(ys))
            bw = mine[0]["bandwidth_bits_per_cycle"] / 8
            knee = peak / bw
            ax.plot([min(xs) / 2, knee, max(max(xs) * 2, knee * 2)], [min(xs) / 2 * bw, peak, peak],
                    color=color, lw=0.8, alpha=0.7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("arithmetic intensity (MACs per DRAM byte)")
        ax.set_ylabel("MACs per cycle")
        ax.set_title(f"{wl.name}: per-layer roofline (o linear, ^ attention; lines: peak and DRAM roof)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save(fig, path)


def write_plots(ev: Evaluation, out: str, baselines: list[str]) -> dict[str, str]:
    base = plot_baseline(ev, baselines)
    return {
        "speedup": speedup_plot(ev, base, os.path.join(out, "speedup.png")),
        "energy": energy_plot(ev, base, os.path.join(out, "energy.png")),
        "roofline": roofline_plot(ev, os.path.join(out, "roofline.png")),
    }

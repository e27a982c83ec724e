"""Ranges on the cost model's decisive assumptions: variants of a hardware file.

A hardware file (or one of its bases) declares an assumption with a low and a high alternative::

    [assumptions.dram_energy]
    what = "DRAM access energy per bit"
    [assumptions.dram_energy.low]
    source = "..."
    "dram.read_pj_per_bit" = 1.95
    "dram.write_pj_per_bit" = 1.95
    [assumptions.dram_energy.high]
    ...

The file's own figures are the nominal case; a *variant* is the file with one side's overrides
applied.  Figures derived by the loader (iso-area ``array.cols``) are derived again from the
variant's figures, because the variant table leaves them out exactly as the file does.  The
schema and the rule for inherited assumptions are in ``mixpe/hw/hardware.py``
(``parse_assumptions``, ``_merge_file``) and docs/hardware.md.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .hardware import (
    ASSUMPTION_SIDES, Hardware, HardwareError, _build, _resolve, lookup, parse_assumptions, read_table,
)

SIDES = ASSUMPTION_SIDES  # ("low", "high")


@dataclass(frozen=True)
class Assumption:
    name: str
    what: str
    low_source: str
    high_source: str


def assumptions(name_or_path: str) -> list[Assumption]:
    """The assumptions a preset or file declares (itself or through its bases), by name."""
    specs = parse_assumptions(read_table(name_or_path), _resolve(name_or_path))
    return [Assumption(s.name, s.what, s.sources["low"], s.sources["high"])
            for s in sorted(specs.values(), key=lambda s: s.name)]


def variant_table(name_or_path: str, assumption: str, side: str) -> dict[str, Any]:
    """The merged raw table (as ``read_table``) with ``side``'s overrides of ``assumption``
    applied; each overridden figure's source says ``assumption <name> <side>: <source> (nominal
    was: <old source>)``.  The ``[assumptions]`` section is kept, so the result, written out as
    TOML, loads with ``load_hardware`` and declares the same assumptions.  A design that does not
    declare ``assumption`` gets its nominal table back."""
    if side not in SIDES:
        raise HardwareError(f"unknown side {side!r} of assumption {assumption!r} (expected one of {', '.join(SIDES)})")
    data = read_table(name_or_path)
    spec = parse_assumptions(data, _resolve(name_or_path)).get(assumption)
    if spec is None:
        return data
    out = copy.deepcopy(data)
    for dotted, value in spec.overrides[side].items():
        *parents, leaf = dotted.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        old = node.get(leaf)
        old_source = old.get("source") if isinstance(old, dict) else None
        was = f"nominal was: {old_source}" if old_source else "nominal: not set"
        node[leaf] = {"value": value,
                      "source": f"assumption {assumption} {side}: {spec.sources[side]} ({was})"}
    return out


def load_variant(name_or_path: str, assumption: str, side: str) -> Hardware:
    """``load_hardware`` of ``variant_table(name_or_path, assumption, side)``."""
    hw = _build(variant_table(name_or_path, assumption, side), _resolve(name_or_path))
    return hw


def _figure(data: dict[str, Any], dotted: str) -> Any:
    node = lookup(data, dotted)
    return node.get("value") if isinstance(node, dict) else None


def main(argv: list[str] | None = None) -> int:
    """``python -m mixpe.hw.ranges [preset ...]``: every assumption's low / nominal / high figures
    and the PE count of each side, as the Markdown tables in docs/hardware.md (presets with the
    same rows share one)."""
    import sys

    from .hardware import list_presets, load_hardware

    names = list(argv if argv is not None else sys.argv[1:]) or [n for n in list_presets() if assumptions(n)]
    declared: dict[str, list[str]] = {}
    for name in names:
        for a in assumptions(name):
            declared.setdefault(a.name, []).append(name)
    for assumption, presets in sorted(declared.items()):
        groups: dict[tuple[tuple[str, ...], ...], list[str]] = {}
        for name in presets:
            a = {x.name: x for x in assumptions(name)}[assumption]
            nominal = read_table(name)
            spec = parse_assumptions(nominal, _resolve(name))[assumption]
            sides = {side: variant_table(name, assumption, side) for side in SIDES}
            rows = []
            for dotted in sorted(set(spec.overrides["low"]) | set(spec.overrides["high"])):
                vals = (_figure(sides["low"], dotted), _figure(nominal, dotted), _figure(sides["high"], dotted))
                rows.append((f"`{dotted}`", *("-" if v is None else f"{v:g}" for v in vals)))
            pes = (load_variant(name, assumption, "low").num_pes, load_hardware(name).num_pes,
                   load_variant(name, assumption, "high").num_pes)
            if len(set(pes)) > 1:
                rows.append(("PEs (array derived)", *(str(p) for p in pes)))
            rows.append(("source", a.low_source, "(the preset's own figures)", a.high_source))
            groups.setdefault(tuple(rows), []).append(name)
        what = {x.name: x for x in assumptions(presets[0])}[assumption].what
        print(f"#### `{assumption}`\n\n{what}\n")
        print("| presets | figure | low | nominal | high |\n|---|---|---|---|---|")
        for rows, members in groups.items():
            who = ", ".join(f"`{m}`" for m in members)
            for row in rows:
                if row[0] != "source":
                    print(f"| {who} | " + " | ".join(row) + " |")
        print()
        for rows, members in groups.items():
            src = rows[-1]
            print(f"- {', '.join(f'`{m}`' for m in members)}: low: {src[1]}; high: {src[3]}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

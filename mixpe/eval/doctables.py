"""Refresh the measured tables of docs/eval.md from mixpe-eval output folders.

    mixpe-eval --out D --no-plots                      # the default run (with assumption ranges)
    mixpe-eval --preset paper --out P --no-plots
    mixpe-eval --compare-paper --out C
    python -m mixpe.eval.doctables docs/eval.md --default D --paper P --compare C

Every table in docs/eval.md that a run produces sits between `<!-- BEGIN <block> -->` and
`<!-- END <block> -->`; this replaces each block's body with the same table cut from the
folder's `summary.md`, so the document says exactly what those commands printed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def _table_after(text: str, heading: str, nth: int = 0) -> str:
    """The nth Markdown table after the line starting with `heading`."""
    start = text.index(heading)
    pos = start
    for _ in range(nth + 1):
        pos = text.index("\n|", pos) + 1
        table = text[pos:text.index("\n\n", pos)]
        pos += len(table)
    return table


def _between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    j = text.index(end, i)
    return text[i:text.index("\n", j)]


def blocks(default: str | None, paper: str | None, compare: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if default:
        d = (Path(default) / "summary.md").read_text()
        found = re.search(r"Compiled \*\*.*?occurrence\.", d, re.S)
        if found:
            out["default-compiled"] = found.group(0)
        out["default-assumptions"] = _table_after(d, "## Assumption ranges")
        for wl in ("prefill-512", "decode-1"):
            out[f"default-{wl}-speedup"] = _table_after(d, f"## {wl}\n", 0)
            out[f"default-{wl}-energy"] = _table_after(d, f"## {wl}\n", 1)
        out["default-prefill-512-sensitivity"] = _table_after(d, "### prefill-512: sensitivity")
    if paper:
        out["paper-published"] = _table_after((Path(paper) / "summary.md").read_text(), "## Published results")
    if compare:
        c = (Path(compare) / "summary.md").read_text()
        out["compare-table"] = _table_after(c, "## Paper vs faithful")
        out["compare-changes"] = _between(c, "What each step changed", "compile+simulate tasks in all")
        out["compare-sensitivity"] = _table_after(c, "### batch-64: sensitivity")
    return out


def refresh(doc: str, new: dict[str, str]) -> tuple[str, list[str]]:
    done = []
    for name, body in new.items():
        pattern = re.compile(rf"(<!-- BEGIN {re.escape(name)} -->\n).*?(\n<!-- END {re.escape(name)} -->)", re.S)
        doc, n = pattern.subn(lambda m, body=body: m.group(1) + body + m.group(2), doc)
        if n:
            done.append(name)
    return doc, done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mixpe.eval.doctables",
                                 description="Refresh docs/eval.md's measured tables from mixpe-eval outputs.")
    ap.add_argument("doc", help="the Markdown file to refresh (docs/eval.md)")
    ap.add_argument("--default", metavar="DIR", help="output of `mixpe-eval --out DIR`")
    ap.add_argument("--paper", metavar="DIR", help="output of `mixpe-eval --preset paper --out DIR`")
    ap.add_argument("--compare", metavar="DIR", help="output of `mixpe-eval --compare-paper --out DIR`")
    args = ap.parse_args(argv)
    path = Path(args.doc)
    doc, done = refresh(path.read_text(), blocks(args.default, args.paper, args.compare))
    path.write_text(doc)
    print(f"{path}: refreshed {', '.join(done) or 'nothing'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""File output for evaluation reports and the tools: written under mixpe's one output policy
(`mixpe.fileio`: regular files atomically, so an interrupted run never leaves a half-written
report next to a complete one; devices and FIFOs in place), JSON strict, CSV and Markdown."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math

from mixpe.fileio import write_output


def write_atomic(path: str, write) -> None:
    """Call write(binary file) for `path` under mixpe's output policy (`mixpe.fileio`):
    regular files atomically, devices/FIFOs/`-` in place, symlinks followed."""
    write_output(path, write)


def write_text(path: str, data: bytes | str) -> None:
    data = data.encode() if isinstance(data, str) else data
    write_atomic(path, lambda f: f.write(data))


def strict(obj):
    """`obj` with non-finite floats as null: JSON has no Infinity or NaN (RFC 8259), and strict
    readers (jq, browsers, Go, Rust) reject Python's extension."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strict(v) for v in obj]
    return obj


def write_json(path: str, obj) -> None:
    plain = json.loads(json.dumps(obj, default=json_default))  # numpy, dataclasses -> JSON values
    text = json.dumps(strict(plain), indent=1, allow_nan=False) + "\n"
    write_atomic(path, lambda f: f.write(text.encode()))


def json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    return str(o)


def csv_bytes(rows: list[dict]) -> bytes:
    """Rows as CSV, columns in first-seen order over all rows."""
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(keys), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table as lines (with a trailing blank line)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows), ""]

"""Atomic file output for evaluation reports: every file is written to a temp file next to
its destination and renamed over it, so an interrupted run never leaves a half-written report
next to a complete one.  (The same contract as the command-line tools' outputs in
``mixpe.tools._cli``; eval keeps its own copy so it does not depend on the tools layer.)"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import tempfile


def write_atomic(path: str, write) -> None:
    """Call write(fileobj) on a temp file next to `path`, then rename it over `path`."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".mixpe-sim-", suffix=".tmp", dir=d)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual new-file mode
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path: str, data: bytes | str) -> None:
    data = data.encode() if isinstance(data, str) else data
    write_atomic(path, lambda f: f.write(data))


def write_json(path: str, obj) -> None:
    text = json.dumps(obj, indent=1, default=json_default) + "\n"
    write_atomic(path, lambda f: f.write(text.encode()))


def json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if dataclasses.is_dataclass(o):
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

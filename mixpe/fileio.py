"""One policy for every file a mixpe tool reads or writes.

Reading: every input is read with a size limit, checked before allocating (`read_limited`):
`/dev/zero` given as a program, module or hardware file is refused after `limit` bytes instead
of filling the memory, and a regular file larger than the limit is refused from its size alone.

Writing (`-o`, `--outputs`, `--report`, eval tables):

Why: writing a temp file beside the target and renaming it over the target is right for a
regular file (a reader never sees half a file, a failed run leaves the old one), and wrong for
everything else: run as root, `-o /dev/full` turned the device into a regular file, and
`--report /dev/stdout` replaced the link. So:

- a regular file (or a new path) is written atomically: a private temp file in the target's
  folder, given the mode a normal create would give (0666 & ~umask, or the old file's mode),
  renamed over the target; the temp file is removed on any failure, SIGTERM included;
- a symlink is followed: its target is what gets written, the link stays;
- anything else that exists (a device, a FIFO, `/dev/stdout`) and `-` are written in place;
- a writable file in a folder we cannot create files in is written in place (as stock
  xdsl-opt does), since atomicity is then impossible;
- a path that is one of the tool's own inputs is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO


class OutputError(ValueError):
    """An output path that must not be written (one line; the tools exit 1)."""


class InputTooLarge(ValueError):
    """An input larger than its kind's limit (one line; the tools exit 1)."""


MiB = 1 << 20
LIMITS = {"hardware file": 1 * MiB, "program": 1024 * MiB, "MLIR file": 1024 * MiB}


def read_limited(path: str | os.PathLike, what: str, limit: int | None = None, *, text: bool = True) -> bytes:
    """The bytes of `path` if there are at most `limit` (default: LIMITS[what]); refused from
    the size of a regular file, or after `limit` bytes of a device or FIFO. A text input is
    also refused at its first NUL byte, read in chunks: `/dev/zero` costs one chunk, not the
    limit."""
    limit = LIMITS[what] if limit is None else limit
    name = os.fspath(path)
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            raise InputTooLarge(f"{name}: {st.st_size:,} bytes, over the {limit:,}-byte limit for {what}s")
        chunks, size = [], 0
        while size <= limit and (chunk := f.read(min(_CHUNK, limit + 1 - size))):
            if text and b"\0" in chunk:
                at = size + chunk.index(0)
                raise InputTooLarge(f"{name}: not text (a NUL byte at byte {at:,}); {what}s are text")
            chunks.append(chunk)
            size += len(chunk)
    if size > limit:
        raise InputTooLarge(f"{name}: more than {limit:,} bytes, the limit for {what}s")
    return b"".join(chunks)


_CHUNK = 1 << 20


def too_deep(data: object, limit: int) -> bool:
    """Whether parsed JSON/TOML nests dicts and lists more than `limit` levels, found without
    recursion (merging, validating and printing a value all recurse; a hostile file must fail
    here, with a clear message, before they do)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_not_input(path: str, inputs: Iterable[str | os.PathLike | None], flag: str) -> None:
    """Refuse to write over one of the tool's own inputs (through links and relative paths)."""
    if path == "-":
        return
    for i in inputs:
        if i is not None and os.fspath(i) != "-" and _same_file(path, os.fspath(i)):
            raise OutputError(f"refusing to overwrite {path} ({flag}): it is one of this run's inputs")


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit while a temp file exists, so `finally` removes it."""
    if sys.platform == "win32" or signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        yield
        return
    try:
        old = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _new_file_mode(existing: str) -> int:
    try:
        return stat.S_IMODE(os.stat(existing).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_output(path: str, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(binary file)` for `path` under the policy above."""
    if path == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    try:
        mode = os.stat(path).st_mode  # through links: /dev/stdout may be a pipe with no path
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as f:  # device, FIFO, pipe, terminal: written through, never replaced
            write(f)
        return
    target = os.path.realpath(path)  # a symlink's (regular) target is what gets replaced
    folder = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    except OSError as e:
        if os.path.exists(target) and os.access(target, os.W_OK):
            with open(target, "wb") as f:  # read-only folder, writable file: in place
                write(f)
            return
        raise OSError(e.errno, e.strerror, path) from None  # name the user's path, not the temp
    with _terminate_as_exit():
        try:
            os.fchmod(fd, _new_file_mode(target))
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

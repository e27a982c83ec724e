"""Plumbing shared by the mixpe command-line tools: one-line errors, atomic outputs, npz inputs.

Users of opt-style tools expect a bad input to end in one line and a non-zero exit, and a
failed run never to leave a half-written file; every tool gets that from here.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import traceback
import zipfile
from collections.abc import Callable

import numpy as np

from mixpe.fileio import InputTooLarge, OutputError, check_not_input, read_limited
from mixpe.eval.files import json_default, write_atomic, write_json  # noqa: F401 (the tools' too)
from mixpe.hw import HardwareError
from mixpe.reference.dtypes import to_numpy
from mixpe.simulator.execute import SimulationError
from mixpe.simulator.program import ProgramError, check_elements


class UsageError(Exception):
    """A bad command line or input file: reported as one line, exit code 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage and exits 2; we want one line and 1
        raise UsageError(message)


def default_max_elements() -> int:
    """--max-elements when not given: the machine's physical memory / 16 (a value's elements are
    up to 8 bytes, and executing holds several values, plus numpy temporaries, at once)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume 16 GiB
        total = 16 << 30
    return max(1, total // 16)


def add_max_elements(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-elements", type=int, metavar="N",
                   help="with --inputs: refuse to execute a program any of whose values holds more than "
                        "N elements (default: physical memory / 16 bytes)")


def check_max_elements(args, program) -> None:
    """With --inputs, before anything is allocated: every value's element count under the limit."""
    limit = args.max_elements
    if limit is not None and limit <= 0:
        raise UsageError(f"--max-elements {limit}: must be a positive number")
    if args.inputs:
        check_elements(program, limit or default_max_elements())


def check_writable(path: str, flag: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory")
    if not os.path.isdir(d):
        raise UsageError(f"{flag} {path}: directory {d} does not exist")
    if not os.access(d, os.W_OK):
        raise UsageError(f"{flag} {path}: directory {d} is not writable")


def check_output_flags(args) -> None:
    """Fail before any work if --outputs lacks --inputs or an output path is unwritable."""
    if args.outputs and not args.inputs:
        raise UsageError("--outputs needs --inputs (without inputs only costs are estimated)")
    inputs = [getattr(args, a, None) for a in ("program", "module", "inputs", "expect", "hw", "baseline")]
    written = [getattr(args, f) for f in ("outputs", "report") if getattr(args, f)]
    for flag in ("outputs", "report"):
        if getattr(args, flag):
            check_writable(getattr(args, flag), f"--{flag}")
            check_not_input(getattr(args, flag), [i for i in inputs if isinstance(i, str)], f"--{flag}")
    if len(written) == 2 and os.path.abspath(written[0]) == os.path.abspath(written[1]):
        raise UsageError(f"--outputs and --report are both {written[0]}")


def read_bytes(path, kind: str, *, limit: int | None = None, label: str | None = None) -> bytes:
    """A file's bytes (the first `limit`), or one clear line saying why they cannot be read."""
    label = label or str(path)
    try:
        if limit is not None:  # a prefix (e.g. magic bytes)
            with open(path, "rb") as f:
                return f.read(limit)
        return read_limited(path, kind.removeprefix("an ").removeprefix("a "))
    except InputTooLarge as e:
        raise UsageError(str(e)) from None
    except FileNotFoundError:
        raise UsageError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{label}: is a directory, not {kind}") from None
    except OSError as e:
        raise UsageError(f"{label}: cannot read ({e.strerror or e})") from None


def load_inputs(path: str, program) -> dict:
    """arg0..argN from an npz; bf16/int4 arrays saved by numpy come back as raw void bytes and
    are viewed as the declared ml_dtypes type."""
    npz = _open_npz(path, "--inputs")
    out = {}
    with npz:
        for i, v in enumerate(program.inputs):
            key = f"arg{i}"
            if key not in npz.files:
                raise UsageError(f"--inputs {path}: missing key {key} ('{v.name}', {v.type})")
            out[key] = _member(npz, key, v.type.dtype, f"--inputs {path}", v.type.shape)
        # result<i> keys are reference outputs that test data often ships alongside inputs.
        extra = sorted(k for k in set(npz.files) - set(out) if not re.fullmatch(r"result\d+", k))
    if extra:
        raise UsageError(f"--inputs {path}: unexpected key {extra[0]} "
                         f"(the program takes {len(program.inputs)} inputs)")
    return out


def _open_npz(path: str, flag: str):
    """np.load of an .npz archive, or one clear line saying why it cannot be read."""
    import numpy as np

    magic = read_bytes(path, "an .npz file", limit=6, label=f"{flag} {path}")
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")):
        raise UsageError(f"{flag} {path}: not a readable .npz archive (write one with numpy.savez)")
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UsageError(f"{flag} {path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UsageError(f"{flag} {path}: not a readable .npz file (truncated?): {e}") from None
    if not hasattr(npz, "files"):
        raise UsageError(f"{flag} {path}: expected an .npz archive, got a single array")
    return npz


def load_results(path: str, program, flag: str = "--expect") -> dict:
    """The `result<i>` arrays of an npz (expected outputs), checked against the program's
    results: a known index, the declared shape, numbers. Other keys (arg0.., const_*) are
    ignored, so the npz that holds a test's inputs can also hold its outputs. bf16/int4
    arrays saved by numpy (raw void bytes) are viewed as the declared type; wider dtypes
    (bf16 stored as float32) are kept as they are and compared by value."""
    npz = _open_npz(path, flag)
    out = {}
    with npz:
        for key in sorted(npz.files):
            m = re.fullmatch(r"result(\d+)", key)
            if not m:
                continue
            i = int(m.group(1))
            if i >= len(program.outputs):
                raise UsageError(f"{flag} {path}: unexpected key {key} "
                                 f"(the program has {len(program.outputs)} results)")
            v = program.outputs[i]
            a = _member(npz, key, v.type.dtype, f"{flag} {path}", v.type.shape)
            want = to_numpy(v.type.dtype)
            if a.dtype != want and a.dtype.kind not in "biuf":
                raise UsageError(f"{flag} {path}: {key} holds {a.dtype}, not numbers ({v.type})")
            if tuple(a.shape) != tuple(v.type.shape):
                raise UsageError(f"{flag} {path}: {key}: shape {list(a.shape)} does not match the "
                                 f"program's {list(v.type.shape)}")
            out[key] = a
    return out


def _member(npz, key: str, dtype: str, where: str, shape: tuple[int, ...]):
    """One npz member, checked from its header before a byte of data is read (a 3 MB zip bomb
    must not inflate to gigabytes): it may not hold more elements than `shape` declares. ml_dtypes
    values (stored as raw void bytes) are viewed as `dtype`."""
    declared = math.prod(shape)
    try:
        with npz.zip.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            header = np.lib.format.read_array_header_1_0(f) if version == (1, 0) else \
                np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise UsageError(f"{where}: cannot read {key} (not an .npy member?): {e}") from None
    found = math.prod(header[0])
    if found > declared:  # (a smaller or reshaped array gets the shape message when it is bound)
        raise UsageError(f"{where}: {key} holds {found:,} elements {list(header[0])}, more than the "
                         f"{declared:,} the program declares {list(shape)}; refused before reading it")
    try:
        a = npz[key]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise UsageError(f"{where}: cannot read {key} (truncated?): {e}") from None
    want = to_numpy(dtype)
    if a.dtype.kind == "V" and want.kind == "V" and a.dtype.itemsize == want.itemsize:
        a = a.view(want)
    return a


def plain_numpy(arrays: dict) -> tuple[dict, list[str]]:
    """Arrays that `np.load` reads back without ml_dtypes: bf16 as float32, int4/int2 as int8,
    uint4/uint2 as uint8 (all exact), and one note per conversion made. numpy stores ml_dtypes
    arrays as raw void bytes, which plain numpy cannot interpret."""
    import ml_dtypes
    import numpy as np

    wider = {np.dtype(ml_dtypes.bfloat16): np.float32, np.dtype(ml_dtypes.int4): np.int8,
             np.dtype(ml_dtypes.int2): np.int8, np.dtype(ml_dtypes.uint4): np.uint8,
             np.dtype(ml_dtypes.uint2): np.uint8}
    out, notes = {}, []
    for key, a in arrays.items():
        a = np.asarray(a)
        to = wider.get(a.dtype)
        if to is None and a.dtype.kind == "V":  # another ml_dtypes type: float32 if it is a float
            to = np.float32 if "float" in a.dtype.name else None
        if to is not None:
            notes.append(f"{key}: {a.dtype.name} written as {np.dtype(to).name} (exact)")
            a = a.astype(to)
        out[key] = a
    return out, notes



def run_guarded(prog: str, body: Callable[[], int], argv: list[str] | None) -> int:
    """Runs a tool's main body: user errors -> one line + exit 1, bugs -> short message + 2."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        return body()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; exit quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # noqa: BLE001 - the top-level guard
        if is_user_error(e):
            print(error_line(prog, e), file=sys.stderr)
            return 1
        if debug:
            traceback.print_exc()
        print(f"{prog}: internal error: {type(e).__name__}: {one_line(e)} "
              f"(rerun with --debug for the traceback)", file=sys.stderr)
        return 2


def is_user_error(e: Exception) -> bool:
    # xDSL (~0.1 s) on the error path only: mixpe-sim never imports it otherwise
    from xdsl.utils.exceptions import DiagnosticException, ParseError

    if isinstance(e, (UsageError, ProgramError, HardwareError, SimulationError, OutputError, DiagnosticException,
                      ParseError)):
        return True
    if isinstance(e, OSError):  # unreadable/unwritable files
        return True
    if getattr(e, "user", False):  # mixpe.eval.runner.TaskFailed caused by a bad request
        return True
    # input validation in the simulator and kernels raises plain ValueError with a clear message
    return type(e) is ValueError


# `file:line:col: error: ...`: a diagnostic that already says where and what
_LOCATED = re.compile(r"[^\s:][^:]*:\d+:\d+: error: ")


def error_line(prog: str, e: Exception) -> str:
    """The one line for a user error: a located diagnostic as it is (like mlir-opt), anything
    else as `prog: error: message`."""
    msg = one_line(e)
    if _LOCATED.match(msg):
        return msg
    return f"{prog}: error: {msg.removeprefix('error: ')}"


def one_line(e: Exception) -> str:
    # xDSL (mixpe.diagnostics too) on the error path only: mixpe-sim never imports it otherwise
    from xdsl.utils.exceptions import ParseError

    from mixpe.diagnostics import clip, parse_error_line, printable

    if isinstance(e, ParseError):  # file:line:col: message, not xDSL's caret drawing
        return parse_error_line(e)
    msg = str(e).strip() or type(e).__name__
    if isinstance(e, OSError) and e.filename:
        msg = f"{e.filename}: {e.strerror or msg}"
    return clip(" ".join(printable(msg).split()))

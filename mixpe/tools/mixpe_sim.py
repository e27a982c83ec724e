"""mixpe-sim: run or cost a simulator program, or estimate one GEMM, on a hardware model.

    mixpe-sim PROGRAM [--hw NAME|FILE] [--inputs in.npz --outputs out.npz] [--report r.json]
    mixpe-sim --gemm M,N,K [--hw NAME|FILE] [--array RxC] [--mode default|scalesim|paper]

Every bad input is one line `mixpe-sim: error: ...` on stderr and exit code 1; an internal
error is a short message and exit code 2 (`--debug` shows the traceback). Output files are
written to a temporary file and renamed into place, so they are never half-written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import traceback

import numpy as np

PROG = "mixpe-sim"


class UsageError(Exception):
    """A bad command line or input file: reported as one line, exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage and exits 2; we want one line and 1
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="MixPE accelerator simulator: functional results and costs.")
    p.add_argument("program", nargs="?", help="program JSON (docs/program-format.md)")
    p.add_argument("--hw", metavar="NAME|FILE",
                   help="hardware preset or TOML file (default: mixpe-w4a16 for float "
                        "activations, mixpe-w4a8 for integer ones)")
    p.add_argument("--inputs", metavar="IN.npz", help="inputs, keys arg0..argN")
    p.add_argument("--outputs", metavar="OUT.npz", help="write results, keys result0..resultN")
    p.add_argument("--report", metavar="R.json", help="write the full cost report as JSON")
    p.add_argument("--gemm", metavar="M,N,K", help="estimate one GEMM instead of running a program")
    p.add_argument("--array", metavar="RxC", help="override the PE array size")
    p.add_argument("--mode", choices=("default", "scalesim", "paper"), default="default",
                   help="cost model mode")
    p.add_argument("--weight-bits", type=int, help="--gemm: weight bits (default: the PE's)")
    p.add_argument("--act-bits", type=int, help="--gemm: activation bits (default: the PE's)")
    p.add_argument("--group-size", type=int, help="--gemm: quantization group size")
    p.add_argument("--verify-pe", choices=("auto", "always", "never"), default="auto",
                   help="re-run shift&add PEs bit-plane by bit-plane and check against the multiply")
    p.add_argument("--list-hw", action="store_true", help="list hardware presets and exit")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def _ints(text: str, sep: str, n: int, what: str) -> list[int]:
    parts = text.lower().split(sep)
    try:
        vals = [int(v) for v in parts]
    except ValueError:
        vals = []
    if len(vals) != n or any(v <= 0 for v in vals):
        raise UsageError(f"{what} must be {n} positive integers separated by '{sep}', got {text!r}")
    return vals


def _hardware(name: str | None, array: str | None):
    from mixpe.simulator.hardware import load_hardware

    hw = load_hardware(name)
    if array:
        rows, cols = _ints(array, "x", 2, "--array")
        hw = dataclasses.replace(hw, array=dataclasses.replace(hw.array, rows=rows, cols=cols))
    return hw


def _check_writable(path: str, flag: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory")
    if not os.path.isdir(d):
        raise UsageError(f"{flag} {path}: directory {d} does not exist")
    if not os.access(d, os.W_OK):
        raise UsageError(f"{flag} {path}: directory {d} is not writable")


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


def _write_json(path: str, obj) -> None:
    text = json.dumps(obj, indent=1, default=_json_default) + "\n"
    write_atomic(path, lambda f: f.write(text.encode()))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    return str(o)


def load_inputs(path: str, program) -> dict[str, np.ndarray]:
    """arg0..argN from an npz; bf16/int4 arrays saved by numpy come back as raw void bytes and
    are viewed as the declared ml_dtypes type."""
    from mixpe.reference.dtypes import to_numpy

    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UsageError(f"--inputs {path}: no such file") from None
    except (OSError, ValueError, EOFError) as e:
        raise UsageError(f"--inputs {path}: not a readable .npz file ({e})") from None
    if not hasattr(npz, "files"):
        raise UsageError(f"--inputs {path}: expected an .npz archive, got a single array")
    out = {}
    with npz:
        for i, v in enumerate(program.inputs):
            key = f"arg{i}"
            if key not in npz.files:
                raise UsageError(f"--inputs {path}: missing key {key} ('{v.name}', {v.type})")
            try:
                a = npz[key]
            except (ValueError, OSError, EOFError) as e:
                raise UsageError(f"--inputs {path}: cannot read {key} ({e})") from None
            want = to_numpy(v.type.dtype)
            if a.dtype.kind == "V" and want.kind == "V" and a.dtype.itemsize == want.itemsize:
                a = a.view(want)
            out[key] = a
        extra = sorted(set(npz.files) - set(out))
    if extra:
        raise UsageError(f"--inputs {path}: unexpected key {extra[0]} "
                         f"(the program takes {len(program.inputs)} inputs)")
    return out


def _run_gemm(args) -> int:
    from mixpe.simulator import report

    if args.program or args.inputs or args.outputs:
        raise UsageError("--gemm takes no program, --inputs or --outputs")
    M, N, K = _ints(args.gemm, ",", 3, "--gemm")
    name = args.hw or ("mixpe-w4a8" if args.act_bits and args.act_bits <= 8 else "mixpe-w4a16")
    hw = _hardware(name, args.array)
    if args.report:
        _check_writable(args.report, "--report")
    cost = report.gemm_cost(hw, M, N, K, weight_bits=args.weight_bits, act_bits=args.act_bits,
                            group_size=args.group_size, mode=args.mode)
    print(report.gemm_summary(cost, hw, M, N, K, args.mode))
    if args.report:
        _write_json(args.report, {"gemm": {"M": M, "N": N, "K": K}, "hardware": hw.name,
                                  "mode": args.mode, "cost": cost.to_dict()})
    return 0


def _run_program(args) -> int:
    from mixpe.simulator.execute import default_hardware, run_program
    from mixpe.simulator.program import load_program

    if not args.program:
        raise UsageError("give a PROGRAM, or --gemm M,N,K (see --help)")
    if args.outputs and not args.inputs:
        raise UsageError("--outputs needs --inputs (without inputs only costs are estimated)")
    for flag in ("outputs", "report"):
        if getattr(args, flag):
            _check_writable(getattr(args, flag), f"--{flag}")
    program = load_program(args.program)
    hw = _hardware(args.hw or default_hardware(program), args.array)
    inputs = load_inputs(args.inputs, program) if args.inputs else None
    result = run_program(program, hw, inputs, mode=args.mode, verify_pe=args.verify_pe)
    print(result.summary())
    if args.outputs:
        write_atomic(args.outputs, lambda f: np.savez(f, **result.outputs))
    if args.report:
        _write_json(args.report, result.to_dict())
    return 0


def main(argv: list[str] | None = None) -> int:
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        if args.list_hw:
            from mixpe.simulator.hardware import list_presets

            print("\n".join(list_presets()))
            return 0
        return _run_gemm(args) if args.gemm else _run_program(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the top-level guard
        if _is_user_error(e):
            print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
            return 1
        if debug:
            traceback.print_exc()
        print(f"{PROG}: internal error: {type(e).__name__}: {_one_line(e)} "
              f"(rerun with --debug for the traceback)", file=sys.stderr)
        return 2


def _is_user_error(e: Exception) -> bool:
    from mixpe.simulator.execute import SimulationError
    from mixpe.simulator.hardware import HardwareError
    from mixpe.simulator.program import ProgramError

    if isinstance(e, (UsageError, ProgramError, HardwareError, SimulationError)):
        return True
    if isinstance(e, OSError):  # unreadable/unwritable files
        return True
    # input validation in the simulator and kernels raises plain ValueError with a clear message
    return type(e) is ValueError


def _one_line(e: Exception) -> str:
    msg = str(e).strip() or type(e).__name__
    if isinstance(e, OSError) and e.filename:
        msg = f"{e.filename}: {e.strerror or msg}"
    return " ".join(msg.split())


if __name__ == "__main__":
    sys.exit(main())

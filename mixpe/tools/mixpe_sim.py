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
import sys
from pathlib import Path

import numpy as np

from mixpe.hw import list_presets, load_hardware
from mixpe.simulator import report
from mixpe.simulator.execute import default_hardware, run_program
from mixpe.simulator.program import load_program
from mixpe.tools._cli import (
    Parser,
    UsageError,
    add_max_elements,
    check_max_elements,
    check_output_flags,
    check_writable,
    load_inputs,
    plain_numpy,
    run_guarded,
    write_atomic,
    write_json,
)

PROG = "mixpe-sim"


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="MixPE accelerator simulator: functional results and costs.")
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
    p.add_argument("--dataflow", choices=("os", "ws", "nfold"),
                   help="--gemm: fix the mapping (default: the search picks the hardware's or nfold)")
    p.add_argument("--objective", choices=("cycles", "energy", "edp"),
                   help="--gemm: what the tile search minimises (default: edp)")
    p.add_argument("--verify-pe", choices=("auto", "always", "never"), default="auto",
                   help="re-run shift&add PEs bit-plane by bit-plane and check against the multiply")
    add_max_elements(p)
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


def _hardware(name: str, array: str | None):
    hw = load_hardware(name)
    if array:
        rows, cols = _ints(array, "x", 2, "--array")
        hw = dataclasses.replace(hw, array=dataclasses.replace(hw.array, rows=rows, cols=cols))
    return hw


def _run_gemm(args) -> int:
    if args.program or args.inputs or args.outputs:
        raise UsageError("--gemm takes no program, --inputs or --outputs")
    M, N, K = _ints(args.gemm, ",", 3, "--gemm")
    if args.mode != "default":
        for flag, value in (("--dataflow", args.dataflow), ("--objective", args.objective)):
            if value is not None and not (args.mode == "scalesim" and flag == "--dataflow" and value == "os"):
                what = ("is SCALE-Sim's untiled output-stationary model" if args.mode == "scalesim"
                        else "tiles by the MixPE authors' rules")
                raise UsageError(f"{flag} {value}: --mode {args.mode} {what}; it applies to --mode default")
    for flag, value, top in (("--weight-bits", args.weight_bits, 16), ("--act-bits", args.act_bits, 32)):
        if value is not None and not 1 <= value <= top:
            raise UsageError(f"{flag} {value}: must be in 1..{top}")
    if args.group_size is not None and (args.group_size < 0 or (args.group_size and K % args.group_size)):
        raise UsageError(f"--group-size {args.group_size}: must divide K={K} (0: not quantized)")
    name = args.hw or ("mixpe-w4a8" if args.act_bits and args.act_bits <= 8 else "mixpe-w4a16")
    hw = _hardware(name, args.array)
    if args.report:
        check_writable(args.report, "--report")
    cost = report.gemm_cost(hw, M, N, K, weight_bits=args.weight_bits, act_bits=args.act_bits,
                            group_size=args.group_size, mode=args.mode, dataflow=args.dataflow,
                            objective=args.objective)
    print(report.gemm_summary(cost, hw, M, N, K, args.mode))
    if args.report:
        write_json(args.report, {"gemm": {"M": M, "N": N, "K": K}, "hardware": hw.name,
                                  "provenance": report.provenance(hw),
                                  "mode": args.mode, "cost": cost.to_dict()})
    return 0


def _run_program(args) -> int:
    if not args.program:
        raise UsageError("give a PROGRAM, or --gemm M,N,K (see --help)")
    for flag, value in (("--dataflow", args.dataflow), ("--objective", args.objective)):
        if value is not None:
            raise UsageError(f"{flag} applies to --gemm: a program's schedules were chosen when it was "
                             "compiled (mixpe-tile{dataflow=... objective=...})")
    check_output_flags(args)
    program = load_program(Path(args.program))  # a Path: always a file, even if named '{...'
    hw = _hardware(args.hw or default_hardware(program), args.array)
    check_max_elements(args, program)
    inputs = load_inputs(args.inputs, program) if args.inputs else None
    result = run_program(program, hw, inputs, mode=args.mode, verify_pe=args.verify_pe)
    print(result.summary())
    if args.outputs:
        assert result.outputs is not None, "check_output_flags: --outputs comes with --inputs"
        arrays, notes = plain_numpy(result.outputs)  # bf16 as float32: plain numpy reads it
        for n in notes:
            print(f"note: {n}")
        write_atomic(args.outputs, lambda f: np.savez(f, **arrays))
    if args.report:
        write_json(args.report, result.to_dict())
    return 0


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = _parser().parse_args(argv)
        if args.list_hw:
            print("\n".join(list_presets()))
            return 0
        return _run_gemm(args) if args.gemm else _run_program(args)

    return run_guarded(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())

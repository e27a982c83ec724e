"""mixpe-run: compile a frontend module for the accelerator, simulate it, and compare.

    mixpe-run MODULE.mlir [--entry NAME] [--hw NAME|FILE] [--weight-bits N]
              [--inputs in.npz] [--outputs out.npz] [--report r.json]

Compiles with `mixpe-pipeline`, emits the simulator program and runs it. With
`--inputs` the function is executed (bit-exact kernels) and its results can be
written; without, only cycles and energy are estimated. The same module is also
compiled for the conventional dequantize-in-the-loop design of the same precision,
so every run states what mixpe buys, measured in that run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import sys
from pathlib import Path

import numpy as np

from mixpe.tools._cli import Parser, check_output_flags, load_inputs, read_bytes, run_guarded, write_atomic, write_json

PROG = "mixpe-run"
# The conventional design of the same precision as each default preset (DESIGN §4).
BASELINES = {"mixpe-w4a8": "w4a8-dequant", "mixpe-w4a16": "w4a16-dequant"}


def _parser() -> Parser:
    p = Parser(prog=PROG, description="Compile a module with mixpe-pipeline and simulate it.")
    p.add_argument("module", help="MLIR module (linalg on tensors, as frontends emit it)")
    p.add_argument("--entry", help="function to run (default: the only one)")
    p.add_argument("--hw", metavar="NAME|FILE", help="hardware preset or TOML (default: by activation type)")
    p.add_argument("--weight-bits", type=int, help="the integer storage holds N-bit values (e.g. 4)")
    p.add_argument("--dataflow", choices=("os", "ws"), help="override the hardware's dataflow")
    p.add_argument("--act-quant", choices=("none", "per-token"), default="none",
                   help="quantize float activations to i8 per token (for A8 hardware; changes the numbers)")
    p.add_argument("--detect-pow2", action="store_true",
                   help="run constant weights that are all ±2^p as DenseShift shifts")
    p.add_argument("--baseline", metavar="NAME|FILE",
                   help="design to compare with (default: w4a16-dequant / w4a8-dequant by activations)")
    p.add_argument("--inputs", metavar="IN.npz", help="inputs, keys arg0..argN: execute the function")
    p.add_argument("--outputs", metavar="OUT.npz", help="write the results, keys result0..resultN")
    p.add_argument("--report", metavar="R.json", help="write the full report as JSON")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def gemm_table(result) -> list[dict]:
    """Each array instruction: shape, schedule, and its share of the run's cycles and energy."""
    d = result.to_dict()
    total_cycles = d["totals"]["cycles"]["total"] or 1
    total_energy = sum(d["totals"]["energy_pj"].values()) or 1.0
    rows = []
    for r, ins in zip(d["instructions"], result.program.instructions):
        if r["unit"] != "array":
            continue
        x = result.program.values[ins.args[0]].type.shape
        out = ins.results[0].type.shape
        rows.append({
            "index": r["index"], "op": r["op"], "loc": r["loc"],
            "M": x[-2], "K": x[-1], "N": out[-1], "group_size": ins.attrs.get("group_size"),
            "weight_bits": ins.attrs.get("weight_bits"), "schedule": dict(ins.schedule),
            "cycles": r["cycles"]["total"], "cycle_share": r["cycles"]["total"] / total_cycles,
            "energy_pj": r["energy_pj"], "energy_share": (r["energy_pj"] or 0.0) / total_energy,
        })
    return rows


def _format_gemms(rows: list[dict]) -> str:
    lines = ["", "GEMMs (share of this run)"]
    for g in rows:
        s = g["schedule"]
        sched = f"{s.get('dataflow', '?')} tile {'x'.join(map(str, s['tile']))} order {s.get('order', '?')}" if "tile" in s else "default schedule"
        lines.append(
            f"  #{g['index']:<3} {g['op']:<14} M={g['M']} N={g['N']} K={g['K']} g={g['group_size']} "
            f"w{g['weight_bits']}  {sched}  cycles {100 * g['cycle_share']:.1f}%  energy {100 * g['energy_share']:.1f}%"
            + (f"  @ {g['loc']}" if g["loc"] else "")
        )
    return "\n".join(lines)


def _energy(result) -> float:
    return float(sum(result.to_dict()["totals"]["energy_pj"].values()))


def run(args) -> int:
    from mixpe import driver
    from mixpe.diagnostics import decode_source
    from mixpe.simulator.execute import default_hardware, run_program
    from mixpe.simulator.hardware import load_hardware
    from mixpe.simulator.program import parse_program

    check_output_flags(args)
    path = Path(args.module)
    text = decode_source(read_bytes(path, "an MLIR file"), str(path))

    options = driver.CompileOptions(hw=args.hw, weight_bits=args.weight_bits, dataflow=args.dataflow,
                                    act_quant=args.act_quant, detect_pow2=args.detect_pow2)
    module = driver.parse(text, str(path))
    program = driver.to_program(driver.compile_module(module, options), args.entry)
    if not any(i["op"] in ("group_psum", "bitplane_psum", "shift_psum", "mpgemm") for i in program["instructions"]):
        print(f"{PROG}: note: no quantized matmul was raised in {path}; see the remarks above", file=sys.stderr)
    parsed = parse_program(program)
    hw = load_hardware(args.hw or default_hardware(parsed))
    inputs = load_inputs(args.inputs, parsed) if args.inputs else None
    result = run_program(parsed, hw, inputs)

    base_name = args.baseline or BASELINES[default_hardware(parsed)]
    base_options = dataclasses.replace(options, hw=base_name)
    with contextlib.redirect_stderr(io.StringIO()):  # its remarks were printed for our compile
        base_module = driver.compile_module(driver.parse(text, str(path)), base_options)
    base_program = parse_program(driver.to_program(base_module, args.entry))
    baseline = run_program(base_program, load_hardware(base_name))

    gemms = gemm_table(result)
    print(result.summary())
    if args.act_quant == "per-token":
        print("note: float activations were quantized to i8 per token (--act-quant per-token): "
              "the results are those of the quantized model, not of the float one")
    print(_format_gemms(gemms))
    ours_c, base_c = result.to_dict()["totals"]["cycles"]["total"], baseline.to_dict()["totals"]["cycles"]["total"]
    speed = base_c / ours_c if ours_c else float("inf")
    energy = _energy(baseline) / _energy(result) if _energy(result) else float("inf")
    print(f"\nvs {baseline.hw.name} (dequantize in the loop): {base_c:,} cycles -> {ours_c:,}: "
          f"speedup {speed:.2f}x, energy reduction {energy:.2f}x")
    if args.outputs:
        write_atomic(args.outputs, lambda f: np.savez(f, **result.outputs))
    if args.report:
        write_json(args.report, {
            "module": str(path), "act_quant": args.act_quant, "result": result.to_dict(), "gemms": gemms,
            "baseline": {"hardware": baseline.hw.name, "result": baseline.to_dict(),
                         "speedup": speed, "energy_reduction": energy},
        })
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_guarded(PROG, lambda: run(_parser().parse_args(argv)), argv)


if __name__ == "__main__":
    sys.exit(main())

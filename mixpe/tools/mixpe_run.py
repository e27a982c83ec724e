"""mixpe-run: compile a frontend module for the accelerator, simulate it, and compare.

    mixpe-run MODULE.mlir [--entry NAME] [--hw NAME|FILE|all] [--weight-bits N]
              [--inputs in.npz [--expect out.npz] [--rtol X]] [--outputs out.npz] [--report r.json]

Compiles with `mixpe-pipeline`, emits the simulator program and runs it. With
`--inputs` the function is executed (bit-exact kernels) and its results can be
written; without, only cycles and energy are estimated. The same module is also
compiled for the conventional dequantize-in-the-loop design of the same precision,
so every run states what mixpe buys, measured in that run.

Numbers: with `--inputs`, the module as parsed (before any pass: the frontend's own
dequantize-in-the-loop computation) is also run by the numpy evaluator
(`mixpe.interp.evaluate`), and every result is compared with it and with the expected
outputs (`--expect`, else `result<i>` keys of the inputs npz): max relative error
max|sim - ref| / max|ref| and the largest ULP distance in the result's type (integer
results: exact, or how many elements differ). An error above `--rtol` (default by result
type, see DEFAULT_RTOL) is exit 1. `--hw all` runs every design in one table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mixpe.hw import list_presets, load_hardware
from mixpe.reference.dtypes import bit_width, is_float, to_numpy
from mixpe.simulator.execute import bind_inputs, default_hardware, run_program
from mixpe.simulator.program import Program
from mixpe.simulator.report import _fmt_energy
from mixpe.tools._cli import (
    Parser,
    UsageError,
    add_max_elements,
    check_max_elements,
    check_output_flags,
    is_user_error,
    load_inputs,
    load_results,
    one_line,
    plain_numpy,
    read_bytes,
    run_guarded,
    write_atomic,
    write_json,
)

PROG = "mixpe-run"
# The conventional design of the same precision as each default preset (docs/design.md §4).
BASELINES = {"mixpe-w4a8": "w4a8-dequant", "mixpe-w4a16": "w4a16-dequant"}
RAISED_OPS = ("group_psum", "bitplane_psum", "shift_psum", "mpgemm")

# Default --rtol on max|sim - ref| / max|ref|, by result type (docs/mixpe-run.md). A correct
# compile differs from the reference only by rounding: the hoisted, grouped dequantization
# rounds at other points than the frontend's dequantize-then-matmul. Over test/inputs/torch
# that is at most 1.6 ulp of max|y|. The defaults leave a margin for deeper modules (roundings
# of intermediate f16/bf16 tensors compound) and still fail a compile that gets a scale, zero
# point or group wrong: f16 1e-2 is 10-20 ulp(max|y|), bf16 2e-2 is 2.5-5 (its grid is 8x
# coarser), f32 1e-4 is ~1000 (f32 results often come from f16 intermediates). Integer results
# must match exactly.
DEFAULT_RTOL = {"f16": 1e-2, "bf16": 2e-2, "f32": 1e-4, "f64": 1e-8}
# --act-quant per-token computes a different (quantized) model than the float reference: its
# error is the i8 quantization's, up to 1.2% of max|y| over test/inputs/torch.
ACT_QUANT_RTOL = 5e-2


def _parser() -> Parser:
    p = Parser(prog=PROG, description="Compile a module with mixpe-pipeline and simulate it.")
    p.add_argument("module", help="MLIR module (linalg on tensors, as frontends emit it)")
    p.add_argument("--entry", help="function to run (default: the only one)")
    p.add_argument("--hw", metavar="NAME|FILE|all",
                   help="hardware preset or TOML (default: by activation type); 'all': every "
                        "non-paper preset in one table")
    p.add_argument("--weight-bits", type=int, help="the integer storage holds N-bit values (e.g. 4)")
    p.add_argument("--dataflow", choices=("os", "ws", "nfold"),
                   help="fix the mapping (default: the hardware's, or nfold for skinny GEMMs)")
    p.add_argument("--objective", choices=("cycles", "energy", "edp"),
                   help="what the tile search minimises (default: edp)")
    p.add_argument("--act-quant", choices=("none", "per-token"), default="none",
                   help="quantize float activations to i8 per token (for A8 hardware; changes the numbers)")
    p.add_argument("--detect-pow2", action="store_true",
                   help="run constant weights that are all ±2^p as DenseShift shifts")
    p.add_argument("--baseline", metavar="NAME|FILE",
                   help="design to compare with (default: w4a16-dequant / w4a8-dequant by activations)")
    p.add_argument("--inputs", metavar="IN.npz",
                   help="inputs, keys arg0..argN: execute the function and check its numbers against "
                        "the module's reference evaluation (result<i> keys: expected outputs)")
    p.add_argument("--expect", metavar="OUT.npz", help="expected outputs, keys result0..resultN (needs --inputs)")
    p.add_argument("--rtol", type=float, metavar="X",
                   help="fail (exit 1) when a result's max|sim - ref| / max|ref| exceeds X "
                        "(default by result type: f16 1e-2, bf16 2e-2, f32 1e-4, integers 0 = exact; "
                        f"{ACT_QUANT_RTOL:g} for float results with --act-quant per-token)")
    p.add_argument("--outputs", metavar="OUT.npz",
                   help="write the results, keys result0..resultN (bf16 as float32, int4 as int8: exact)")
    p.add_argument("--report", metavar="R.json", help="write the full report as JSON")
    add_max_elements(p)
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


# ---------------------------------------------------------------------------------------------
# GEMMs: raised or fallback


def gemm_table(result, diagnostics=()) -> list[dict]:
    """Each array instruction: shape, schedule, its share of the run's cycles and energy, and
    whether mixpe-raise raised it (`kind` "raised") or it runs as a dense `matmul`
    ("fallback", with `reason`: the mixpe-raise remark at its location, from `diagnostics`,
    the (severity, location, message) records of `collect_diagnostics`)."""
    d = result.to_dict()
    total_cycles = d["totals"]["cycles"]["total"] or 1
    total_energy = sum(d["totals"]["energy_pj"].values()) or 1.0
    remarks: dict[str, str] = {}
    for sev, loc, msg in diagnostics:
        if sev == "remark" and loc and msg.startswith("[mixpe-raise]"):
            remarks.setdefault(loc, msg)
    rows = []
    for r, ins in zip(d["instructions"], result.program.instructions):
        if r["unit"] != "array":
            continue
        x = result.program.values[ins.args[0]].type.shape
        w = result.program.values[ins.args[1]].type
        out = ins.results[0].type.shape
        raised = ins.op in RAISED_OPS
        row = {
            "index": r["index"], "op": r["op"], "loc": r["loc"], "kind": "raised" if raised else "fallback",
            "M": x[-2], "K": x[-1], "N": out[-1], "group_size": ins.attrs.get("group_size"),
            "weight_bits": ins.attrs.get("weight_bits") if raised else bit_width(w.dtype),
            "schedule": dict(ins.schedule),
            "cycles": r["cycles"]["total"], "cycle_share": r["cycles"]["total"] / total_cycles,
            "energy_pj": r["energy_pj"], "energy_share": (r["energy_pj"] or 0.0) / total_energy,
        }
        if not raised:
            row["weight_dtype"] = w.dtype
            row["reason"] = remarks.get(r["loc"]) or "no mixpe-raise remark at this location"
        rows.append(row)
    return rows


def _fallback_cost_model(hw) -> str:
    """How mixpe.simulator.execute costs a `matmul` (estimate_gemm with the weights' stored width
    and group size 0), in words."""
    pe = hw.pe
    if pe.type == "mac_fp16":
        passes = "one pass through its fp16 MACs"
    elif pe.type == "bitfusion":
        passes = "bit-fused passes of its fusion units"
    else:
        passes = f"ceil(bits / {pe.weight_bits}) passes through its {pe.weight_bits}-bit-weight PEs"
    return (f"a fallback is a dense matmul at the design's native precision, costed like any array GEMM "
            f"on {hw.name} ({hw.array.rows}x{hw.array.cols} {pe.type}): weights at their stored width, "
            f"{passes}, no group dequantization, so no shift&add or epilogue saving")


def _format_gemms(rows: list[dict], hw=None) -> str:
    lines = ["", "GEMMs (share of this run)"]
    for g in rows:
        s = g["schedule"]
        if "tile" in s:
            sched = f"{s.get('dataflow', '?')} tile {'x'.join(map(str, s['tile']))} order {s.get('order', '?')}"
        else:
            sched = "default schedule"
        prec = (f"g={g['group_size']} w{g['weight_bits']}" if g.get("kind", "raised") == "raised"
                else f"dense {g.get('weight_dtype', '?')} weights")
        lines.append(
            f"  #{g['index']:<3} {g.get('kind', 'raised'):<8} {g['op']:<14} M={g['M']} N={g['N']} K={g['K']} {prec}  "
            f"{sched}  cycles {100 * g['cycle_share']:.1f}%  energy {100 * g['energy_share']:.1f}%"
            + (f"  @ {g['loc']}" if g["loc"] else "")
        )
        if g.get("kind") == "fallback":
            lines.append(f"        reason: {g['reason']}")
    if hw is not None and any(g.get("kind") == "fallback" for g in rows):
        lines.append(f"  cost model: {_fallback_cost_model(hw)}")
    return "\n".join(lines)


def _energy(result) -> float:
    return float(sum(result.to_dict()["totals"]["energy_pj"].values()))


def _cycles(result) -> int:
    return result.to_dict()["totals"]["cycles"]["total"]


def _ratios(result, baseline) -> tuple[float, float]:
    ours_c, base_c = _cycles(result), _cycles(baseline)
    speed = base_c / ours_c if ours_c else float("inf")
    energy = _energy(baseline) / _energy(result) if _energy(result) else float("inf")
    return speed, energy


# ---------------------------------------------------------------------------------------------
# numbers


def _as_values(a: np.ndarray, dtype: str) -> np.ndarray:
    """An expected array's values in float64 (floats) or int64 (integers), with same-width
    unsigned data read as the signless type's bits (torch uint8 -> i8), as inputs are."""
    a = np.asarray(a)
    if is_float(dtype):
        return a.astype(np.float64)
    if dtype.startswith("i") and a.dtype.kind == "u" and a.dtype.itemsize * 8 == bit_width(dtype) >= 8:
        a = a.view(a.dtype.str.replace("u", "i"))
    return a.astype(np.int64)


def _ordered(a: np.ndarray) -> np.ndarray:
    """IEEE floats as integers in value order (adjacent floats differ by 1; +0 == -0)."""
    bits = a.view(f"u{a.dtype.itemsize}").astype(np.uint64)
    sign = np.uint64(1) << np.uint64(8 * a.dtype.itemsize - 1)
    mag = (bits & ~sign).astype(np.float64 if a.dtype.itemsize == 8 else np.int64)
    return np.where((bits & sign) != 0, -mag, mag)


def compare(got: np.ndarray, want: np.ndarray, dtype: str) -> dict:
    """How far `got` (a result of type `dtype`) is from `want`.

    rel_error = max|got - want| / max|want| over the finite elements (0 when both are all zero;
    inf when NaN/inf disagree or want is all zero and got is not); max_ulp = the largest
    distance in `dtype` after rounding `want` to it (floats), or max|got - want| (integers);
    mismatches = elements that differ."""
    g, w = _as_values(got, dtype), _as_values(want, dtype)
    n = int(g.size)
    if not is_float(dtype):
        diff = np.abs(g - w)
        bad = int(np.count_nonzero(diff))
        scale = int(np.abs(w).max()) if n else 0
        max_diff = int(diff.max()) if n else 0
        rel = 0.0 if not bad else (max_diff / scale if scale else math.inf)
        return {"dtype": dtype, "elements": n, "exact": bad == 0, "mismatches": bad,
                "rel_error": rel, "max_abs_error": max_diff, "max_ulp": max_diff}
    both_nan = np.isnan(g) & np.isnan(w)
    same = (g == w) | both_nan
    finite = np.isfinite(g) & np.isfinite(w)
    nonfinite_bad = int(np.count_nonzero(~same & ~finite))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf where both overflowed
        diff = np.where(finite, np.abs(g - w), 0.0)
    max_diff = float(diff.max()) if n else 0.0
    wf = np.abs(w[np.isfinite(w)])
    scale = float(wf.max()) if wf.size else 0.0
    if nonfinite_bad:
        rel = math.inf
    elif max_diff == 0.0:
        rel = 0.0
    else:
        rel = max_diff / scale if scale else math.inf
    t = to_numpy(dtype)
    with np.errstate(all="ignore"):
        gt, wt = np.asarray(got).astype(t), np.asarray(want).astype(t)
    ulps = np.abs(_ordered(gt).astype(np.float64) - _ordered(wt).astype(np.float64))
    one_nan = np.isnan(gt.astype(np.float64)) ^ np.isnan(wt.astype(np.float64))
    ulp = None if one_nan.any() else int(np.where(np.isnan(gt.astype(np.float64)), 0, ulps).max()) if n else 0
    unit = _ulp_at(scale, t)
    return {"dtype": dtype, "elements": n, "exact": bool(same.all()), "mismatches": int(np.count_nonzero(~same)),
            "rel_error": rel, "max_abs_error": max_diff, "max_ulp": ulp,
            "ulp_of_max": max_diff / unit if unit else None, "nonfinite_mismatches": nonfinite_bad}


def _ulp_at(x: float, t: np.dtype) -> float | None:
    """The spacing of type `t` at |x| (the distance to the next larger float), None if x is 0,
    not finite, or the largest finite value."""
    if not x or not math.isfinite(x):
        return None
    with np.errstate(all="ignore"):
        a = np.array([abs(x)]).astype(t)
        u = np.dtype(f"u{a.dtype.itemsize}")
        b = (a.view(u) + u.type(1)).view(t)
        step = float(b[0]) - float(a[0])
    return step if math.isfinite(step) and step > 0 else None


def default_rtol(dtype: str, act_quant: str = "none") -> float:
    if not is_float(dtype):
        return 0.0
    base = DEFAULT_RTOL.get(dtype, 1e-2)
    return max(base, ACT_QUANT_RTOL) if act_quant == "per-token" else base


@dataclasses.dataclass
class Reference:
    """The reference evaluation of the module as parsed, or why there is none."""

    outputs: dict[str, np.ndarray] | None
    note: str | None = None


def evaluate_reference(text: str, path: str, entry: str | None, inputs: dict) -> Reference:
    """Runs the module as parsed (no pass) with mixpe.interp.evaluate; an op the evaluator
    cannot run gives a note, not a failure: the simulation is still reported."""
    from mixpe import driver  # xDSL and ml_dtypes: imported on use, so --help stays instant
    from mixpe.interp.evaluate import EvaluationError, evaluate  # as above

    module = driver.parse(text, path)
    args = [inputs[f"arg{i}"] for i in range(len(inputs))]
    try:
        outs = evaluate(module, args, entry)
    except EvaluationError as e:
        return Reference(None, f"the reference evaluator cannot run {e.op_name} ({e.reason}); "
                               "numbers are not checked against the module")
    except (ValueError, ArithmeticError, NotImplementedError) as e:
        return Reference(None, f"the reference evaluator failed ({one_line(e)}); "
                               "numbers are not checked against the module")
    return Reference({f"result{i}": a for i, a in enumerate(outs)})


def check_numbers(program, outputs: dict, reference: Reference, expected: dict | None,
                  rtol: float | None, act_quant: str) -> list[dict]:
    """One row per result: its comparisons against the reference and the expected outputs,
    the tolerance used, and whether it passed."""
    rows = []
    for i, v in enumerate(program.outputs):
        key = f"result{i}"
        tol = rtol if rtol is not None else default_rtol(v.type.dtype, act_quant)
        row = {"name": key, "type": str(v.type), "rtol": tol,
               "rtol_source": "--rtol" if rtol is not None else "default",
               "vs_reference": None, "vs_expected": None}
        if reference.outputs is not None and key in reference.outputs:
            row["vs_reference"] = compare(outputs[key], reference.outputs[key], v.type.dtype)
        if expected and key in expected:
            row["vs_expected"] = compare(outputs[key], expected[key], v.type.dtype)
        row["ok"] = all(c["rel_error"] <= tol for c in (row["vs_reference"], row["vs_expected"]) if c)
        rows.append(row)
    return rows


def numbers_failure(rows: list[dict], prefix: str = "") -> str | None:
    """The one-line message for the first result over its tolerance: expected outputs first,
    then the reference."""
    for against in ("vs_expected", "vs_reference"):
        for r in rows:
            c = r[against]
            if c is None or c["rel_error"] <= r["rtol"]:
                continue
            what = "" if against == "vs_expected" else " against the reference evaluation"
            extra = ""
            if "nonfinite_mismatches" not in c:  # integers: say how many differ
                extra = f" ({c['mismatches']} of {c['elements']} elements differ)"
            elif c["nonfinite_mismatches"]:
                extra = f" ({c['nonfinite_mismatches']} NaN/inf elements differ)"
            return (f"{prefix}{r['name']}: relative error {_fmt_rel(c['rel_error'])}{what} "
                    f"exceeds --rtol {r['rtol']:g}{extra}")
    return None


def _fmt_rel(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.3g}"


def _fmt_cmp(c: dict | None) -> str:
    if c is None:
        return "-"
    if "nonfinite_mismatches" not in c:  # integers
        if c["exact"]:
            return "exact"
        return f"{c['mismatches']} of {c['elements']} differ (max |diff| {c['max_abs_error']})"
    if c["max_ulp"] is None:
        return f"rel {_fmt_rel(c['rel_error'])}, NaN mismatch"
    at_max = f" ({c['ulp_of_max']:.2g} at max)" if c["ulp_of_max"] is not None else ""
    return f"rel {_fmt_rel(c['rel_error'])}, {c['max_ulp']} ulp{at_max}"


def _format_numbers(rows, reference: Reference, expected_source: str | None, module: str,
                    conversions: Sequence[str] = ()) -> str:
    lines = ["", "Numbers (rel = max|sim - ref| / max|ref|; ulp = largest elementwise distance in the result's "
                 "type, and max|sim - ref| in ulps of max|ref|)"]
    if reference.outputs is not None:
        lines.append(f"  reference: {module} as parsed (before any pass), run by mixpe.interp.evaluate")
    else:
        lines.append(f"  note: {reference.note}")
    if expected_source:
        lines.append(f"  expected:  {expected_source}")
    for r in rows:
        parts = []
        if r["vs_reference"] is not None:
            parts.append(f"vs reference {_fmt_cmp(r['vs_reference'])}")
        if r["vs_expected"] is not None:
            parts.append(f"vs expected {_fmt_cmp(r['vs_expected'])}")
        if not parts:
            parts.append("nothing to compare with")
        verdict = "ok" if r["ok"] else "FAIL"
        lines.append(f"  {r['name']} {r['type']}  " + "   ".join(parts)
                     + f"   rtol {r['rtol']:g} ({r['rtol_source']}): {verdict}")
    for n in conversions:
        lines.append(f"  outputs npz: {n}, so plain numpy reads it")
    return "\n".join(lines)


def _json_numbers(rows) -> list[dict]:
    """JSON has no inf: an infinite relative error is written as null (see nonfinite_mismatches)."""
    out = []
    for r in rows:
        r = dict(r)
        for k in ("vs_reference", "vs_expected"):
            if r[k] is not None:
                c = dict(r[k])
                if math.isinf(c["rel_error"]):
                    c["rel_error"] = None
                r[k] = c
        out.append(r)
    return out


# ---------------------------------------------------------------------------------------------
# compile + simulate


@dataclasses.dataclass
class Compiled:
    program: Program
    diagnostics: list


def _compile(text: str, path: str, options, entry: str | None, *, quiet: bool) -> Compiled:
    """parse -> mixpe-pipeline -> program; diagnostics recorded (and printed unless quiet)."""
    from mixpe import driver  # xDSL: imported on use, so --help and usage errors stay instant
    from mixpe.diagnostics import collect_diagnostics  # xDSL, as above

    sink = contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext()
    with sink, collect_diagnostics() as seen:
        module = driver.compile_module(driver.parse(text, path), options)
    return Compiled(driver.to_program(module, entry), list(seen))


def _no_raise_note(program, path, diagnostics=()) -> None:
    if not any(i.op in RAISED_OPS for i in program.instructions):
        why = "see the remarks above" if any(d.severity == "remark" for d in diagnostics) else \
            "it has no dequantize-then-matmul (its GEMMs run dense on the array)"
        from mixpe.diagnostics import printable  # xDSL: loaded by the compile that came first

        print(f"{PROG}: note: no quantized matmul was raised in {printable(str(path))}; {why}", file=sys.stderr)


def _check_args(args) -> None:
    check_output_flags(args)
    if args.expect and not args.inputs:
        raise UsageError("--expect needs --inputs (the results to compare come from executing the function)")
    if args.rtol is not None and not (math.isfinite(args.rtol) and args.rtol >= 0):
        raise UsageError(f"--rtol {args.rtol:g}: expected a finite number >= 0")
    if args.hw == "all" and args.outputs:
        raise UsageError("--outputs cannot be used with --hw all (run one design to write its results)")


def _expected(args, program) -> tuple[dict | None, str | None]:
    if args.expect:
        exp = load_results(args.expect, program, "--expect")
        if not exp:
            raise UsageError(f"--expect {args.expect}: no result<i> keys (the program has "
                             f"{len(program.outputs)} results)")
        return exp, f"{', '.join(exp)} from {args.expect} (--expect)"
    exp = load_results(args.inputs, program, "--inputs")
    return (exp, f"{', '.join(exp)} from {args.inputs} (--inputs)") if exp else (None, None)


def run(args) -> int:
    if args.hw == "all":
        return run_all(args)
    from mixpe import driver  # xDSL: imported on use, so --help and usage errors stay instant
    from mixpe.diagnostics import decode_source  # xDSL, as above

    _check_args(args)
    path = Path(args.module)
    text = decode_source(read_bytes(path, "an MLIR file"), str(path))

    options = driver.CompileOptions(hw=args.hw, weight_bits=args.weight_bits, dataflow=args.dataflow,
                                    objective=args.objective,
                                    act_quant=args.act_quant, detect_pow2=args.detect_pow2)
    compiled = _compile(text, str(path), options, args.entry, quiet=False)
    parsed = compiled.program
    _no_raise_note(parsed, path, compiled.diagnostics)
    hw = load_hardware(args.hw or default_hardware(parsed))
    check_max_elements(args, parsed)
    inputs = load_inputs(args.inputs, parsed) if args.inputs else None
    result = run_program(parsed, hw, inputs)
    expected, expected_source = _expected(args, parsed) if args.inputs else (None, None)

    base_name = args.baseline or BASELINES[default_hardware(parsed)]
    base = _compile(text, str(path), dataclasses.replace(options, hw=base_name), args.entry, quiet=True)
    baseline = run_program(base.program, load_hardware(base_name))

    numbers = reference = None
    if inputs is not None:
        assert result.outputs is not None, "run_program computes outputs when given inputs"
        reference = evaluate_reference(text, str(path), args.entry, inputs)
        numbers = check_numbers(parsed, result.outputs, reference, expected, args.rtol, args.act_quant)

    gemms = gemm_table(result, compiled.diagnostics)
    print(result.summary())
    if args.act_quant == "per-token":
        print("note: float activations were quantized to i8 per token (--act-quant per-token): "
              "the results are those of the quantized model, not of the float one")
    print(_format_gemms(gemms, hw))
    speed, energy = _ratios(result, baseline)
    print(f"\nvs {baseline.hw.name} (dequantize in the loop): {_cycles(baseline):,} cycles -> {_cycles(result):,}: "
          f"speedup {speed:.2f}x, energy reduction {energy:.2f}x")
    plain, out_notes = plain_numpy(result.outputs) if result.outputs is not None else ({}, [])
    if numbers is not None:
        assert reference is not None, "numbers are checked against a reference"
        print(_format_numbers(numbers, reference, expected_source, str(path), out_notes))
    if args.outputs:
        write_atomic(args.outputs, lambda f: np.savez(f, **plain))
    if args.report:
        report = {
            "module": str(path), "act_quant": args.act_quant, "result": result.to_dict(), "gemms": gemms,
            "fallback_cost_model": _fallback_cost_model(hw),
            "baseline": {"hardware": baseline.hw.name, "result": baseline.to_dict(),
                         "speedup": speed, "energy_reduction": energy},
        }
        if numbers is not None:
            assert reference is not None, "numbers are checked against a reference"
            report["numbers"] = _numbers_json(numbers, reference, expected_source, str(path), out_notes)
        write_json(args.report, report)
    failure = numbers_failure(numbers) if numbers else None
    if failure:
        raise UsageError(failure)
    return 0


def _numbers_json(rows, reference: Reference, expected_source, module, out_notes) -> dict:
    return {
        "metric": "rel_error = max|sim - ref| / max|ref| over finite elements (null: infinite); max_ulp = "
                  "largest elementwise distance in the result's type; ulp_of_max = max|sim - ref| in ulps of "
                  "max|ref|; integers: exact / mismatches / max_abs_error",
        "reference": (f"{module} as parsed (before any pass), run by mixpe.interp.evaluate"
                      if reference.outputs is not None else None),
        "reference_note": reference.note,
        "expected": expected_source,
        "outputs_npz": {"policy": "results keep their dtypes, except bf16 -> float32 and int4/uint4 -> "
                                  "int8/uint8 (exact), so plain numpy reads them",
                        "conversions": list(out_notes)},
        "results": _json_numbers(rows),
    }


# ---------------------------------------------------------------------------------------------
# --hw all


def design_names() -> list[str]:
    """Every hardware preset of the registry except the paper-* ones (those mirror the MixPE
    authors' simulator and are meant for `mixpe-eval --preset paper`, in paper mode)."""
    return [p for p in list_presets() if not p.startswith("paper-")]


_INSTR_PREFIX = re.compile(r"^instruction \d+ \([^)]*\): ")
_COST_PREFIX = re.compile(r"^instruction \d+ \([^)]*\): cannot cost on [^:]+: (?:[^:]+: )?")


def _reason(e: Exception) -> str:
    return _COST_PREFIX.sub("", one_line(e))


def run_all(args) -> int:
    from mixpe import driver  # xDSL: imported on use, so --help and usage errors stay instant
    from mixpe.diagnostics import decode_source  # xDSL, as above

    _check_args(args)
    path = Path(args.module)
    text = decode_source(read_bytes(path, "an MLIR file"), str(path))
    options = driver.CompileOptions(hw=None, weight_bits=args.weight_bits, dataflow=args.dataflow,
                                    objective=args.objective,
                                    act_quant=args.act_quant, detect_pow2=args.detect_pow2)
    # one compile for the default design prints the remarks (the rest would repeat them)
    first = _compile(text, str(path), options, args.entry, quiet=False)
    _no_raise_note(first.program, path, first.diagnostics)
    default_name = default_hardware(first.program)
    check_max_elements(args, first.program)
    inputs = load_inputs(args.inputs, first.program) if args.inputs else None
    if inputs is not None:
        bind_inputs(first.program, inputs)  # a bad input is the run's error, not a design's
    expected, expected_source = _expected(args, first.program) if args.inputs else (None, None)
    reference = evaluate_reference(text, str(path), args.entry, inputs) if inputs is not None else None

    base_name = args.baseline or BASELINES[default_name]
    names = design_names()
    if base_name not in names:
        names.append(base_name)
    designs = []
    for name in names:
        d: dict[str, Any] = {"hardware": name}
        try:
            c = first if name == default_name else _compile(
                text, str(path), dataclasses.replace(options, hw=name), args.entry, quiet=True)
            hw = load_hardware(name)
            res = run_program(c.program, hw, inputs)
        except Exception as e:  # noqa: BLE001 - a design that cannot run is a row, not the end
            if not is_user_error(e):
                raise
            d.update(status="cannot run", reason=_reason(e))
            designs.append(d)
            continue
        d.update(status="ok", sim=res, gemms=gemm_table(res, c.diagnostics))
        if inputs is not None:
            assert res.outputs is not None and reference is not None, "both come with inputs"
            d["numbers"] = check_numbers(c.program, res.outputs, reference, expected, args.rtol, args.act_quant)
        designs.append(d)
    base = next((d for d in designs if d["hardware"] == base_name and d["status"] == "ok"), None)
    for d in designs:
        if d["status"] == "ok" and base is not None:
            d["speedup"], d["energy_reduction"] = _ratios(d["sim"], base["sim"])

    print(_format_designs(designs, base_name, base, reference, expected_source, args, path))
    if args.report:
        write_json(args.report, {
            "module": str(path), "act_quant": args.act_quant, "baseline": base_name,
            "designs": [_design_json(d, reference, expected_source, str(path)) for d in designs],
        })
    for d in designs:
        failure = numbers_failure(d["numbers"], f"{d['hardware']}: ") if d.get("numbers") else None
        if failure:
            raise UsageError(failure)
    return 0


def _worst(rows, against: str) -> dict | None:
    cs = [r[against] for r in rows if r[against] is not None]
    return max(cs, key=lambda c: (c["rel_error"], c["mismatches"])) if cs else None


def _fmt_cell(c: dict | None) -> str:
    """A compact comparison for the designs table: relative error and max ulp (or mismatches)."""
    if c is None:
        return "-"
    if "nonfinite_mismatches" not in c:
        return "exact" if c["exact"] else f"{c['mismatches']} differ"
    ulp = "NaN mismatch" if c["max_ulp"] is None else f"{c['max_ulp']} ulp"
    return f"{'inf' if math.isinf(c['rel_error']) else format(c['rel_error'], '.2e')}, {ulp}"


def _format_designs(designs, base_name, base, reference, expected_source, args, path) -> str:
    lines = [f"{PROG}: {path} on every design (speedup and energy reduction vs {base_name}, "
             "dequantize in the loop" + (", which cannot run this module" if base is None else "") + ")"]
    if args.act_quant == "per-token":
        lines.append("note: float activations were quantized to i8 per token (--act-quant per-token)")
    cols = []
    if reference is not None and reference.outputs is not None:
        cols.append(("vs_reference", "error vs reference"))
    if expected_source:
        cols.append(("vs_expected", "error vs expected"))
    header = f"  {'design':<15} {'cycles':>12} {'energy':>12} {'speedup':>8} {'energy red.':>11}  {'GEMMs':<18}"
    header += "".join(f"  {title:<22}" for _, title in cols)
    lines += ["", header.rstrip(), "  " + "-" * (len(header.rstrip()) - 2)]
    for d in designs:
        if d["status"] != "ok":
            lines.append(f"  {d['hardware']:<15} cannot run: {d['reason']}")
            continue
        g = d["gemms"]
        nr = sum(1 for x in g if x["kind"] == "raised")
        gemms = f"{nr} raised" + (f", {len(g) - nr} fallback" if len(g) > nr else "")
        sp = f"{d['speedup']:.2f}x" if "speedup" in d else "-"
        er = f"{d['energy_reduction']:.2f}x" if "energy_reduction" in d else "-"
        line = (f"  {d['hardware']:<15} {_cycles(d['sim']):>12,} {_fmt_energy(_energy(d['sim'])):>12} "
                f"{sp:>8} {er:>11}  {gemms:<18}")
        for key, _ in cols:
            line += f"  {_fmt_cell(_worst(d['numbers'], key)):<22}"
        if d.get("numbers") and not all(r["ok"] for r in d["numbers"]):
            line += "  FAIL"
        lines.append(line.rstrip())
    if reference is not None:
        lines.append("")
        if reference.outputs is not None:
            lines.append(f"errors: the worst result's max|sim - ref| / max|ref| and largest ulp distance; "
                         f"reference: {path} as parsed, run by mixpe.interp.evaluate")
        else:
            lines.append(f"note: {reference.note}")
        if expected_source:
            lines.append(f"expected: {expected_source}")
    if any(d["status"] != "ok" and "activations do not fit" in d["reason"] for d in designs) \
            and args.act_quant == "none":
        lines.append("note: float activations run on A8 designs only with --act-quant per-token (changes the numbers)")
    for d in designs:  # e.g. float activations on integer PEs: costed, but not a real design point
        if d["status"] == "ok":
            for n in dict.fromkeys(_INSTR_PREFIX.sub("", n) for n in d["sim"].notes):
                lines.append(f"note: {d['hardware']}: {n}")
    fallbacks = {(x["loc"], x["reason"]): None for d in designs if d["status"] == "ok"
                 for x in d["gemms"] if x["kind"] == "fallback"}
    if fallbacks:
        lines.append("note: fallback GEMMs (not raised: dense matmul) are costed like any array GEMM at the "
                     "design's native precision, without dequantization savings")
        for loc, reason in fallbacks:
            lines.append(f"  fallback{' @ ' + loc if loc else ''}: {reason}")
    return "\n".join(lines)


def _design_json(d, reference, expected_source, module) -> dict:
    if d["status"] != "ok":
        return {"hardware": d["hardware"], "status": d["status"], "reason": d["reason"]}
    out = {"hardware": d["hardware"], "status": "ok", "result": d["sim"].to_dict(), "gemms": d["gemms"],
           "fallback_cost_model": _fallback_cost_model(d["sim"].hw),
           "speedup": d.get("speedup"), "energy_reduction": d.get("energy_reduction")}
    if d.get("numbers") is not None:
        _, notes = plain_numpy(d["sim"].outputs)
        out["numbers"] = _numbers_json(d["numbers"], reference, expected_source, module, notes)
    return out


def main(argv: list[str] | None = None) -> int:
    return run_guarded(PROG, lambda: run(_parser().parse_args(argv)), argv)


if __name__ == "__main__":
    sys.exit(main())

"""mixpe-eval: model-level evaluation of every design, through the compiler.

    mixpe-eval [--models M,...] [--designs D,...] [--baselines B,...]
               [--tokens prefill=512,decode=1] [--context N] [--attention]
               [--preset default|paper] [--act-bits 4|8|16] [--array RxC]
               [--no-ranges] [--compare-paper] [--out DIR] [--jobs N]
               [--executor process|ray|dask] [--address ADDR] [--no-plots] [--quiet]
    mixpe-eval sweep array=16x16,32x32 group=64,128 bits=2,4 act=4,8 [options]   (= --sweep ...)

Every distinct GEMM (design, shape, precision) of every model is emitted as frontend linalg,
compiled with `mixpe-pipeline` for the design's hardware and simulated cost-only; repeated
layers are compiled once and counted per occurrence. Writes CSV/JSON per layer and per
model, a Markdown summary (speedup and energy-reduction tables, geomeans) and plots.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import shutil
import signal
import sys

from mixpe.eval import assumptions as A
from mixpe.eval import preset as P
from mixpe.eval import report, runner
from mixpe.eval import sweep as S
from mixpe.eval.models import load_models
from mixpe.eval.preset import PHASES, Workload
from mixpe.eval.report import ratio_table
from mixpe.eval.runner import Design, precision_of
from mixpe.hw import list_presets, load_hardware
from mixpe.tools._cli import Parser, UsageError, run_guarded

PROG = "mixpe-eval"


def _parser() -> Parser:
    p = Parser(prog=PROG, description="Evaluate models on every design, through the compiler.")
    p.add_argument("--models", nargs="+", metavar="M", help="model keys (default: the preset's; 'list' lists them)")
    p.add_argument("--designs", nargs="+", metavar="D", help="hardware presets or TOML files (default: the preset's)")
    p.add_argument("--baselines", nargs="+", metavar="B", help="designs to compare against (default: the preset's)")
    p.add_argument("--tokens", default="prefill=512,decode=1", metavar="PHASE=N,...",
                   help="workloads: prefill=N (one N-token sequence), decode=B (B sequences, one token "
                        "each), batch=N (N rows, linears only); repeatable keys (default: %(default)s)")
    p.add_argument("--context", type=int, metavar="N", help="decode KV length (default: the prefill length, else 512)")
    p.add_argument("--attention", action="store_true", help="include the QK^T and PV matmuls")
    p.add_argument("--preset", default="default", metavar="NAME", help="default | paper")
    p.add_argument("--sweep", nargs="+", metavar="AXIS=V,..",
                   help="design-space sweep: array=RxC group=G bits=B dataflow=os|ws act=4|8|16")
    p.add_argument("--act-bits", type=int, metavar="N",
                   help="what-if: cost activations at N bits (4, 8, 16) on the designs whose PEs take "
                        "that width (e.g. --preset paper --act-bits 8: W4A8 with true 8-bit activations)")
    p.add_argument("--array", metavar="RxC", help="what-if: every evaluated design on an R x C array")
    p.add_argument("--no-ranges", action="store_true",
                   help="default mode: skip the low/high evaluation of the hardware files' assumptions")
    p.add_argument("--compare-paper", action="store_true",
                   help="the paper preset's result, the faithful model's and the steps between them")
    p.add_argument("--out", default="mixpe-eval-out", metavar="DIR", help="output folder (default: %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="write into an --out folder that already holds files (they may be replaced)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="parallel workers (default: all cores)")
    p.add_argument("--executor", default="process", choices=("process", "ray", "dask"),
                   help="where tasks run: local processes (default), a Ray or a Dask cluster")
    p.add_argument("--address", metavar="ADDR", help="Ray/Dask cluster address (default: start a local one)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no table on stdout")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def _split(values: list[str] | None) -> list[str] | None:
    return None if values is None else [v for x in values for v in x.split(",") if v]


def parse_tokens(text: str, context: int | None):
    items = []
    for part in text.split(","):
        phase, sep, n = part.partition("=")
        if not sep or phase not in PHASES or not n.isdigit() or int(n) <= 0:
            raise UsageError(f"--tokens {text!r}: expected PHASE=N,... with PHASE in {', '.join(PHASES)} and N > 0")
        items.append((phase, int(n)))
    if context is not None and context <= 0:
        raise UsageError(f"--context {context}: must be > 0")
    ctx = context or next((n for ph, n in items if ph == "prefill"), 512)
    return list(dict.fromkeys(Workload(ph, n, ctx if ph == "decode" else 0) for ph, n in items))


def _choose(kind: str, given: list[str] | None, default, known: list[str]) -> list[str]:
    names = list(given) if given else list(default)
    for n in names:
        if n not in known and not (kind == "design" and n.endswith(".toml")):
            raise UsageError(f"unknown {kind} '{n}' (known: {', '.join(known)})")
    return list(dict.fromkeys(names))


def _check_out_dir(path: str, force: bool = False) -> bool:
    """Fails early on an unusable --out (or one holding a user's files, without --force);
    True when the folder is still to be created."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--out {path}: exists and is not a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(path):
        if not os.path.isdir(parent):
            raise UsageError(f"--out {path}: directory {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise UsageError(f"--out {path}: directory {parent} is not writable")
        return True
    if not os.access(path, os.W_OK):
        raise UsageError(f"--out {path}: not writable")
    if not force and (held := os.listdir(path)):
        raise UsageError(f"--out {path}: the folder already holds {len(held)} file(s); pass --force to write "
                         "into it (files of the same names are replaced), or name a new folder")
    return False


def _designs(names: list[str], preset):
    out = []
    for n in names:
        hw = load_hardware(n)  # a bad TOML is a HardwareError: one line, exit 1
        p = (preset.precision_of or precision_of)(hw)
        out.append(Design(label=hw.name if not n.endswith(".toml") else os.path.splitext(os.path.basename(n))[0],
                          hw=n, precision=p))
    return out


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked

    return lambda total: tqdm(total=total, desc=f"{PROG}: compile+simulate", unit="layer", file=sys.stderr)


@contextlib.contextmanager
def _terminate_as_exit():
    """While the evaluation runs, SIGTERM raises SystemExit(143) in the main thread, so the
    pool is stopped and a created --out folder removed as on any failure (by default SIGTERM
    ends the process on the spot, leaving both behind). A second SIGTERM during that cleanup is
    ignored. Only replaces the default action (a host program's own handler stays); the default
    is restored after. Yields `rearm()`, which installs the handler again after a library
    replaced it (`ray.init` sets its own SIGTERM handler in the driver)."""

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    try:
        installed = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        if installed:
            signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: signals cannot be handled here
        installed = False

    def rearm() -> None:
        if installed and signal.getsignal(signal.SIGTERM) not in (handler, signal.SIG_IGN):
            signal.signal(signal.SIGTERM, handler)

    try:
        yield rearm
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _sweep_argv(argv: list[str]) -> list[str]:
    """`sweep a=1,2 b=3 --opt` -> `--sweep a=1,2 b=3 --opt`."""
    if argv and argv[0] == "sweep":
        rest = argv[1:]
        n = next((i for i, a in enumerate(rest) if a.startswith("-")), len(rest))
        specs, rest = rest[:n], rest[n:]
        if not specs:
            raise UsageError("sweep: give at least one AXIS=V1,V2 (e.g. array=16x16,32x32)")
        return ["--sweep", *specs, *rest]
    return argv


def _what_if(args) -> tuple[tuple[str, str], ...]:
    """--act-bits / --array as override points (validated like sweep axes)."""
    point = []
    for axis, value in (("act", args.act_bits), ("array", args.array)):
        if value is None:
            continue
        try:
            S.parse_sweep([f"{axis}={value}"])
        except S.SweepError as e:
            flag = "--act-bits" if axis == "act" else "--array"
            raise UsageError(str(e).replace(f"--sweep {axis}=", f"{flag} ")) from None
        point.append((axis, str(value)))
    return tuple(point)


def _apply_what_if(designs: list[Design], point, act_bits: int | None) -> tuple[list[Design], list[str]]:
    """Variants of the designs for --act-bits/--array; notes saying what applied where."""
    out = [S.variant(d, point, origin="option") for d in designs]
    notes = []
    if act_bits is not None:
        took = [d.label for d, v in zip(designs, out) if ("act", str(act_bits)) in v.point]
        left = [d.label for d in designs if d.label not in took]
        if not took:
            raise UsageError(f"--act-bits {act_bits}: no evaluated design's PE takes {act_bits}-bit activations "
                             f"({', '.join(left)}); integer PEs take up to their width, float PEs 16")
        notes.append(f"--act-bits {act_bits}: activations costed at {act_bits} bits on {', '.join(took)}"
                     + (f"; {', '.join(left)} kept their own width (their PEs do not take "
                        f"{act_bits}-bit activations)" if left else ""))
    return out, notes


def _compare_paper(args, argv, all_models) -> int:
    from mixpe.eval import compare as C
    from mixpe.eval.paper import PAPER_MODELS

    for flag, given in (("--sweep", args.sweep), ("--act-bits", args.act_bits), ("--array", args.array),
                        ("--designs", args.designs), ("--baselines", args.baselines),
                        ("--attention", args.attention), ("--preset", args.preset != "default")):
        if given:
            raise UsageError(f"--compare-paper: cannot be combined with {flag} (it evaluates fixed designs, "
                             "the authors' models and workload)")
    models = [all_models[k] for k in _choose("model", _split(args.models), tuple(PAPER_MODELS), list(PAPER_MODELS))]
    _check_jobs(args)
    create = _check_out_dir(args.out, args.force)
    out, made = args.out, False
    command = shlex.join([PROG, *argv])
    with _terminate_as_exit() as rearm:
        try:
            if create:
                os.mkdir(out)
                made = True
            executor = _executor(args)
            rearm()
            with _stopping(executor):
                results, rng = C.run_compare(models, executor, out, ranges=not args.no_ranges,
                                             progress_factory=_progress(args.quiet))
            paths = C.write(results, rng, out, command)
        except BaseException:
            if made:
                shutil.rmtree(out, ignore_errors=True)
            raise
    if not args.quiet:
        print(C.printed(results, rng))
        print()
        for p in paths.values():
            print(f"wrote {p}")
    return 0


def _check_jobs(args) -> None:
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: must be >= 1")
    cpus = os.cpu_count() or 1
    if args.jobs > cpus and args.executor == "process":  # more workers than cores only costs memory
        raise UsageError(f"--jobs {args.jobs}: this machine has {cpus} CPUs; use at most {cpus}")


def _executor(args):
    try:
        return runner.make_executor(args.executor, args.jobs, args.address)
    except runner.ExecutorUnavailable as e:
        raise UsageError(str(e)) from None


@contextlib.contextmanager
def _stopping(executor):
    """Shut the executor down after the work; on SIGTERM, Ctrl-C or a failed task stop its
    workers now (the original error is the one reported)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            executor.shutdown(cancel=True)
        raise
    executor.shutdown()


def run(argv: list[str]) -> int:
    args = _parser().parse_args(_sweep_argv(argv))
    try:
        preset = P.get_preset(args.preset)
    except P.PresetUnavailable as e:
        raise UsageError(str(e)) from None
    all_models = load_models()
    if _split(args.models) == ["list"]:
        for k, m in all_models.items():
            print(f"{k:<12} {m.name:<12} {m.params() / 1e9:7.2f}B params, {m.layers} layers")
        return 0
    if args.compare_paper:
        return _compare_paper(args, argv, all_models)
    models = [all_models[k] for k in _choose("model", _split(args.models), preset.models, list(all_models))]
    known = list_presets()
    design_names = _choose("design", _split(args.designs), preset.designs, known)
    if args.baselines:
        baselines = _choose("baseline", _split(args.baselines), (), known)
        for b in baselines:
            if b not in design_names:
                raise UsageError(f"--baselines {b}: not among the evaluated designs (add it to --designs)")
    else:
        baselines = [b for b in preset.baselines if b in design_names]
    _check_jobs(args)
    workloads = list(preset.workloads) if preset.workloads else parse_tokens(args.tokens, args.context)
    points = None
    if args.sweep:
        try:
            points = S.parse_sweep(args.sweep)
        except S.SweepError as e:
            raise UsageError(str(e)) from None
    what_if = _what_if(args)
    if not args.no_plots and importlib.util.find_spec("matplotlib") is None:
        raise UsageError("plots need matplotlib (pip install 'mixpe[eval]'), or pass --no-plots")
    create = _check_out_dir(args.out, args.force)
    designs = _designs(design_names, preset)  # a bad design fails before --out is created
    base_labels = [d.label for d in designs if d.hw in baselines]
    notes: list[str] = []
    if what_if:
        variants, notes = _apply_what_if(designs, what_if, args.act_bits)
        rename = {d.label: v.label for d, v in zip(designs, variants)}
        base_labels = [rename[b] for b in base_labels]
        designs = variants
    with_ranges = preset.mode == "default" and not args.no_ranges and not points
    out = args.out
    made = False
    with _terminate_as_exit() as rearm:
        try:
            if create:
                os.mkdir(out)
                made = True
            designs = S.materialise(designs, out)  # what-if variants: the exact files in out/hw/
            # without a baseline among the designs, a sweep compares each design's points with its
            # first design (named as before the sweep makes per-point variants of it)
            sweep_bases = base_labels or [designs[0].label]
            at = None
            if points:
                designs, at = S.sweep_designs(designs, points)
                designs = S.materialise(designs, out)
            command = shlex.join([PROG, *argv])
            executor = _executor(args)
            rearm()
            cache: dict = {}
            ranges = None
            with _stopping(executor):
                ev = runner.evaluate(preset, models, designs, workloads, args.attention, executor,
                                     _progress(args.quiet), cache=cache)
                if with_ranges:
                    rng = A.evaluate_ranges(preset, models, designs, workloads, args.attention, executor,
                                            out, cache, _progress(args.quiet))
                    ranges = (rng, A.ratio_ranges(ev, rng, base_labels))
            ev.notes[:0] = notes
            if at is not None:
                report.write_tables(ev, out, [], command)
                paths = S.write_sweep(ev, at, sweep_bases, out, command, plots=not args.no_plots)
            else:
                paths = report.write_report(ev, out, base_labels, command, plots=not args.no_plots,
                                            reference=preset.reference, reference_baseline=preset.reference_baseline,
                                            ranges=ranges)
        except BaseException:
            if made:  # a failed or terminated run leaves no half-filled folder behind
                shutil.rmtree(out, ignore_errors=True)
            raise
    if not args.quiet:
        _print_summary(ev, base_labels, paths, at is not None, ranges)
    return 0


def _print_summary(ev, baselines: list[str], paths: dict[str, str], sweep: bool, ranges=None) -> None:
    print(f"{PROG}: compiled {ev.distinct} distinct layers for {ev.occurrences:,} GEMM occurrences "
          f"({len(ev.models)} models x {len(ev.designs)} designs x {len(ev.workloads)} workloads) "
          f"in {ev.seconds:.1f} s")
    if not sweep and baselines:
        for wl in ev.workloads:
            ranged = A.index(ranges[1]) if ranges else {}
            width = 44 if ranged else 22
            print(f"\n{wl.name}: geomean speedup / energy reduction over models"
                  + (" (nominal [low, high] over the assumption ranges)" if ranged else ""))
            print(f"  {'design':<16}" + "".join(f"{'vs ' + b:>{width}}" for b in baselines))
            tables = {b: (ratio_table(ev, wl.name, b, "time_us"), ratio_table(ev, wl.name, b, "energy_pj"))
                      for b in baselines}
            for d in ev.designs:
                cells = []
                for b in baselines:
                    t, e = tables[b]
                    rt, re_ = (ranged.get((wl.name, d.label, b, m)) for m in A.METRICS)
                    if d.label == b or d.label not in t:
                        cells.append("-")
                    elif rt and re_:
                        cells.append(f"{A.fmt(rt['nominal'], rt['low'], rt['high'])} / "
                                     f"{A.fmt(re_['nominal'], re_['low'], re_['high'])}")
                    else:
                        cells.append(f"{t[d.label]['geomean']:.2f}x / {e[d.label]['geomean']:.2f}x")
                print(f"  {d.label:<16}" + "".join(f"{c:>{width}}" for c in cells))
    print()
    for k, p in paths.items():
        print(f"wrote {p}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    return run_guarded(PROG, lambda: run(argv), argv)


if __name__ == "__main__":
    sys.exit(main())

"""How long does the whole evaluation take: 6 models x 7 designs, prefill-512 + decode-1,
every distinct GEMM compiled and simulated? Target: < 60 s on 2 cores for the nominal
evaluation (`--no-ranges`); with `--ranges` (every assumption's low and high side too, what a
plain `mixpe-eval` does) the target is < 240 s.

    python bench/bench_eval_speed.py [--jobs 2] [--attention] [--ranges] [--profile]

`--profile` instead runs the same evaluation in-process (--jobs 1) under cProfile and
prints where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time

from mixpe.tools.mixpe_eval import main

TARGET_S = 60.0
RANGES_TARGET_S = 240.0


def run(jobs: int, attention: bool, out: str, ranges: bool = False) -> float:
    argv = ["--out", out, "--jobs", str(jobs), "--quiet"] + (["--attention"] if attention else [])
    argv += [] if ranges else ["--no-ranges"]
    t = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit("mixpe-eval failed")
    return time.perf_counter() - t


def main_bench() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--attention", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--ranges", action="store_true", help="also evaluate every assumption's sides")
    args = ap.parse_args()
    target = RANGES_TARGET_S if args.ranges else TARGET_S
    with tempfile.TemporaryDirectory() as out:
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            seconds = run(1, args.attention, out, args.ranges)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        else:
            seconds = run(args.jobs, args.attention, out, args.ranges)
        import json

        meta = json.load(open(f"{out}/models.json"))["meta"]
    print(f"mixpe-eval, {len(meta['models'])} models x {len(meta['designs'])} designs x "
          f"{len(meta['workloads'])} workloads{' + attention' if args.attention else ''}: "
          f"{meta['distinct_compiled']} distinct GEMMs compiled+simulated for {meta['gemm_occurrences']:,} "
          f"occurrences{' (+ assumption sides)' if args.ranges else ''}")
    jobs = 1 if args.profile else args.jobs
    print(f"wall {seconds:.1f} s with --jobs {jobs}; ratio to the {target:.0f} s target: "
          f"{seconds / target:.2f} ({'met' if seconds < target else 'MISSED'})")


if __name__ == "__main__":
    main_bench()

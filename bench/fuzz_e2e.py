"""End-to-end fuzzing: 1,000 random quantized linears through the real CLIs, checked against numpy.

    python bench/fuzz_e2e.py [--cases 1000] [--seed 0] [--jobs 2]

Each case (mixpe.testing.fuzz) is a random frontend or mixpe-level module (shapes, group
size, bits, signedness, zero-point mode, layout, activation type, IR style, DenseShift
weights) on a random compatible hardware preset, compiled by `mixpe-run` (or `mixpe-opt
-t mixpe-sim` + `mixpe-sim` for detect-pow2) and compared with numpy: bit-exact for integer
activations, the docs/numerics.md bound for float ones. Prints "N cases, M mismatches,
C crashes" and, for each failure, the case and a one-line reproduction. Exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import sys
import time

import numpy as np


def _run(item):
    from mixpe.testing.fuzz import check_case

    index, case = item
    return index, case, check_case(case)


def main(argv=None) -> int:
    from mixpe.testing.fuzz import random_case, reproduction

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    cases = [(i, random_case(rng)) for i in range(a.cases)]
    t0 = time.perf_counter()
    counts = collections.Counter()
    kinds = collections.Counter()
    failures = []
    with multiprocessing.get_context("spawn").Pool(a.jobs) as pool:
        for index, case, outcome in pool.imap_unordered(_run, cases, chunksize=4):
            counts[outcome.status] += 1
            kinds[(case.weights, case.spec.act)] += 1
            if not outcome.ok:
                failures.append((index, case, outcome))
    dt = time.perf_counter() - t0
    for index, case, outcome in sorted(failures, key=lambda f: f[0]):
        print(f"[{outcome.status}] case {index} (seed {a.seed}): {case!r}")
        print("    " + "\n    ".join(outcome.detail.strip().splitlines()[-6:]))
        print(f"    reproduce: python -c \"{reproduction(case)}\"")
    print("coverage: " + ", ".join(f"{w}/{act}: {n}" for (w, act), n in sorted(kinds.items())))
    print(f"{a.cases} cases, {counts['mismatch']} mismatches, {counts['crash']} crashes "
          f"({dt:.1f} s on {a.jobs} processes)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

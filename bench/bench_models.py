#!/usr/bin/env python3
"""Every torch-mlir model piece in test/inputs/models through mixpe-run's flow, in one table.

    python bench/bench_models.py [NAME ...] [--hw NAME]

Per case: quantized projections raised, GEMMs that fell back to dense array matmuls, ops run
whole on the vector unit (`generic`), simulated cycles, and the max-norm relative error of the
bit-exact simulation against the float64 run, next to torch's own error in the same dtype and
the bound (mixpe/testing/models.py, docs/numerics.md). Exits 1 if any case fails or is out of
bound, so the table is also the check.
"""

import argparse
import sys
from pathlib import Path

from mixpe.testing.models import run_case

MODELS = Path(__file__).resolve().parents[1] / "test" / "inputs" / "models"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="cases (default: all)")
    ap.add_argument("--hw", help="hardware preset (default: by activation type)")
    args = ap.parse_args()
    paths = [MODELS / f"{n}.mlir" for n in args.names] or sorted(MODELS.glob("*.mlir"))
    bad = 0
    print(f"{'case':34} {'raised':>6} {'fallbk':>6} {'generic':>7} {'cycles':>10}  {'err vs f64':>10} "
          f"{'torch err':>10} {'bound':>9}  {'s':>5}  ok")
    for p in paths:
        try:
            r = run_case(p, args.hw)
        except Exception as e:  # a case that cannot compile or run is a failure, shown in its row
            print(f"{p.stem:34} FAILED: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
            bad += 1
            continue
        worst = max(r.errors, key=lambda e: e["err"] / e["bound"], default=None)
        err = f"{worst['err']:10.2e} {worst['torch_err']:10.2e} {worst['bound']:9.1e}" if worst else \
            f"{'exact' if all(r.exact) else 'MISMATCH':>10} {'':10} {'':9}"
        ok = r.within_bound()
        bad += not ok
        print(f"{r.name:34} {r.raised:6} {r.fallback:6} {r.generic:7} {r.cycles:10,}  {err}  {r.seconds:5.1f}  "
              f"{'ok' if ok else 'OUT OF BOUND'}")
    print(f"\n{len(paths) - bad} of {len(paths)} cases compiled, ran and stayed within the bound")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

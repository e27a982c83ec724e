#!/usr/bin/env python3
"""A cost-only answer costs little more than starting Python with numpy.

    python bench/bench_startup.py [--runs N]

Times `mixpe-sim --gemm 512,512,4096 --hw int8 --mode scalesim` against
`python -c "import numpy"`, interleaved, best of N each, and prints the ratio (target < 2x:
heavy dependencies such as ml_dtypes, matplotlib, torch and xDSL stay unimported on this path).
"""

import argparse
import subprocess
import sys
import time

GEMM = [sys.executable, "-m", "mixpe.tools.mixpe_sim", "--gemm", "512,512,4096", "--hw", "int8", "--mode", "scalesim"]
NUMPY = [sys.executable, "-c", "import numpy"]


def _once(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs
    best = {"numpy": float("inf"), "gemm": float("inf")}
    for _ in range(runs):
        best["numpy"] = min(best["numpy"], _once(NUMPY))
        best["gemm"] = min(best["gemm"], _once(GEMM))
    ratio = best["gemm"] / best["numpy"]
    print(f"python -c 'import numpy'       {best['numpy'] * 1e3:7.1f} ms")
    print(f"mixpe-sim --gemm (scalesim)    {best['gemm'] * 1e3:7.1f} ms")
    print(f"ratio {ratio:.2f}x (target < 2x): {'ok' if ratio < 2 else 'OVER'}")
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    sys.exit(main())

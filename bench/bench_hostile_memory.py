#!/usr/bin/env python3
"""Peak memory of every tool on hostile inputs, against the same tool on the legitimate input
it stands in for, measured in one run.

    python bench/bench_hostile_memory.py

Each row runs the tool twice in fresh processes (a hostile input from test/corpus, then the
legitimate counterpart: the same program with real inputs, a real hardware file, a small module)
and prints both peak RSS values and their ratio. Target: hostile <= 2x legitimate, i.e. a bad
input is refused from its header or size before it can make the tool allocate (an endless
device such as `/dev/zero` is refused at its first chunk: text inputs hold no NUL bytes).
Exits 1 when a row is over.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
C = ROOT / "test" / "corpus" / "files"
T = ROOT / "test" / "inputs" / "torch"
PY = sys.executable

MEASURE = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
           "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def tool(name: str) -> list[str]:
    return [PY, "-m", f"mixpe.tools.{name.replace('-', '_')}"]


# (what, hostile argv, legitimate argv, known to exceed: why)
CASES = [
    ("npz zip bomb (60 KB -> 64 MB) for a 4x64 argument",
     tool("mixpe-sim") + [str(C / "program/good.json"), "--inputs", str(C / "npz/zip_bomb.npz")],
     tool("mixpe-sim") + [str(C / "program/good.json"), "--inputs", str(C / "npz/good.npz")], None),
    ("fill of 10^12 elements, executed",
     tool("mixpe-sim") + [str(C / "program/huge_fill.json"), "--inputs", str(C / "npz/good.npz")],
     tool("mixpe-sim") + [str(C / "program/good.json"), "--inputs", str(C / "npz/good.npz")], None),
    ("program JSON nested 100,000 deep",
     tool("mixpe-sim") + [str(C / "program/deep_nesting.json")],
     tool("mixpe-sim") + [str(C / "program/good.json")], None),
    ("/dev/zero as a hardware file",
     tool("mixpe-sim") + ["--gemm", "8,8,8", "--hw", "/dev/zero"],
     tool("mixpe-sim") + ["--gemm", "8,8,8", "--hw", "int8"], None),
    ("MLIR nested 5,000 regions deep",
     tool("mixpe-opt") + [str(C / "mlir/deep_nesting.mlir")],
     tool("mixpe-opt") + [str(T / "gptq_uint4_g128.mlir")], None),
    ("/dev/zero as a program",
     tool("mixpe-sim") + ["/dev/zero"],
     tool("mixpe-sim") + [str(C / "program/good.json")], None),
]


def peak_kib(argv: list[str]) -> int:
    out = subprocess.run([PY, "-c", MEASURE, *argv], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def main() -> int:
    over = 0
    print(f"{'hostile input':52} {'hostile MB':>10} {'legit MB':>9} {'ratio':>6}")
    for what, hostile, legit, known in CASES:
        h, g = peak_kib(hostile), peak_kib(legit)
        ratio = h / g
        verdict = "ok" if ratio <= 2 else ("OVER (known: " + known + ")" if known else "OVER")
        over += ratio > 2 and known is None
        print(f"{what:52} {h / 1024:10.1f} {g / 1024:9.1f} {ratio:6.2f}  {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

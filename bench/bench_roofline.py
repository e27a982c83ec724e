"""How close the schedules `mixpe-tile` chooses get to the roofline, on LLaMA-2-7B's linears.

For each linear shape and token count, the layer is emitted as frontend IR, compiled by
`mixpe-pipeline` for the default hardware and costed by the simulator; the ratio printed
is roofline / modelled cycles, where roofline = max(ideal compute, DRAM traffic / bandwidth)
of the same GEMM (1.0 = on the roofline). Target: >= 0.90 with `--objective cycles` (the
default here: how close the fastest schedule gets). Under the compiler's default objective
(`edp`) prefill tiles trade up to ~12% of cycles for about half the DRAM traffic and energy, so
the same shapes print ~0.88 there (docs/tiling.md).

    python bench/bench_roofline.py [--tokens 1,16,64,256] [--objective cycles|energy|edp]
"""

from __future__ import annotations

import argparse

from mixpe import driver
from mixpe.frontend.linalg_emit import LinearSpec, emit
from mixpe.simulator.execute import run_program
from mixpe.simulator.program import parse_program

# LLaMA-2-7B (hidden 4096, intermediate 11008): name -> (K, N)
SHAPES = {"q/k/v/o": (4096, 4096), "gate/up": (4096, 11008), "down": (11008, 4096)}
DESIGNS = {"mixpe-w4a16": "f16", "mixpe-w4a8": "i8"}


def efficiency(design: str, act: str, m: int, k: int, n: int, objective: str = "cycles") -> tuple[float, str]:
    spec = LinearSpec(m=m, k=k, n=n, group=128, bits=4, signed=False, zp_mode="original", layout="nk",
                      act=act, style="torch" if act != "i8" else "generic")
    options = driver.CompileOptions(hw=design, weight_bits=4, objective=objective)
    program = parse_program(driver.compile_to_program(emit(spec), options))
    rec = next(r for r in run_program(program, design).to_dict()["instructions"] if r["unit"] == "array")
    return rec["roofline_cycles"] / rec["cycles"]["total"], rec["bound"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", default="1,16,64,256")
    p.add_argument("--objective", default="cycles", choices=("cycles", "energy", "edp"))
    args = p.parse_args()
    tokens = [int(t) for t in args.tokens.split(",")]
    worst: list[tuple[float, str]] = []
    print(f"{'design':<12} {'layer':<8} {'tokens':>6} {'roofline/cycles':>16}  bound")
    for design, act in DESIGNS.items():
        for name, (k, n) in SHAPES.items():
            for m in tokens:
                eff, bound = efficiency(design, act, m, k, n, args.objective)
                worst.append((eff, f"{design} {name} M={m}"))
                print(f"{design:<12} {name:<8} {m:>6} {eff:>16.3f}  {bound}")
    below = sorted(w for w in worst if w[0] < 0.9)
    print(f"objective {args.objective}")
    print(f"\nminimum ratio {min(worst)[0]:.3f} ({min(worst)[1]}); target 0.90; "
          f"{len(below)} of {len(worst)} below target" + ("" if not below else ": " + ", ".join(w[1] for w in below)))


if __name__ == "__main__":
    main()

"""Decode reaches its roofline on every design; prefill tiles move little more DRAM than the best
output-stationary tiling allows (issue #13).

Decode (LLaMA-2-7B, M = 1..8 tokens, every linear of a block plus the LM head): each GEMM's
modelled cycles against its roofline

    roofline = max(weight bits / DRAM bits per cycle, ideal compute cycles)

where weight bits include the group scales and zero points a quantized checkpoint stores, and
ideal compute is MACs x passes / (PEs x packing). Target: every GEMM within 10% (ratio <= 1.10).

Prefill (M = 512): the chosen tiling's DRAM traffic against the best output-stationary tiling
the on-chip buffers allow, for a 128 KiB buffer of 32-bit partial sums:

    bound = min over TM*TN*32 <= 128 KiB of  M*N*K*(a/TN + w/TM) + M*N*32   bits

(a, w: activation and weight bits per element; w includes each group's scale and zero point
spread over its weights). Target: traffic <= 1.5 x bound.

Schedules are `mixpe.hw.choose_tile`'s, the search `mixpe-tile` runs (default objective); one
GEMM per design is also compiled through `mixpe-pipeline` and its recorded schedule checked to
be the same. Designs: every non-paper preset.  Prints one table; exits 1 if a target is missed.

    python bench/bench_decode_roofline.py [--designs D ...] [--tokens 1,2,4,8]
"""

from __future__ import annotations

import argparse
import sys

from mixpe.eval.models import load_models
from mixpe.hw import list_presets, load_hardware
from mixpe.hw.precision import weight_stream_bits
from mixpe.simulator.cost import estimate_gemm

DECODE_TARGET = 1.10
PREFILL_TARGET = 1.5
PSUM_BUFFER_BITS = 128 * 1024 * 8


def weight_bits_stored(hw, K: int, N: int, wb: int, g: int) -> int:
    return weight_stream_bits(hw, wb, g, K, N)


def decode_ratio(hw, M: int, K: int, N: int):
    c = estimate_gemm(hw, M, N, K)
    roof = max(weight_bits_stored(hw, K, N, c.weight_bits, c.group_size) / hw.dram.bandwidth_bits_per_cycle,
               c.ideal_compute)
    return c.total / roof, c


def os_traffic_bound(M: int, N: int, K: int, a: float, w: float) -> float:
    best = None
    for tm in range(1, M + 1):
        tn = min(N, PSUM_BUFFER_BITS // 32 // tm)
        if tn < 1:
            break
        bits = M * N * K * (a / tn + w / tm) + M * N * 32
        best = bits if best is None or bits < best else best
    assert best is not None
    return best


def prefill_ratio(hw, M: int, K: int, N: int):
    c = estimate_gemm(hw, M, N, K)
    g = c.group_size
    w_eff = c.weight_bits + ((hw.dequant.scale_bits + c.weight_bits) / g if g else 0)
    moved = c.counts.dram_read_bits + c.counts.dram_write_bits
    return moved / os_traffic_bound(M, N, K, c.act_bits, w_eff), c


def compiled_schedule_matches(design: str, hw) -> bool:
    """One decode GEMM through the compiler: its #mixpe.schedule is the search's choice."""
    from mixpe import driver
    from mixpe.frontend.linalg_emit import LinearSpec, emit
    from mixpe.simulator.program import parse_program

    d = hw.defaults
    if not d.group_size or d.weight_bits > 8:
        return True  # a dense GEMM: no psum op carries a schedule
    act = "f16" if hw.pe.act_format == "fp" else ("i4" if hw.pe.act_bits <= 4 else "i8")
    spec = LinearSpec(m=1, k=4096, n=4096, group=d.group_size, bits=d.weight_bits, signed=False,
                      zp_mode="original", layout="nk", act=act, style="torch" if act == "f16" else "generic")
    options = driver.CompileOptions(hw=design, weight_bits=d.weight_bits)
    program = parse_program(driver.compile_to_program(emit(spec), options))
    scheds = [i.schedule for i in program.instructions if getattr(i, "schedule", None)]
    want = estimate_gemm(hw, 1, 4096, 4096, weight_bits=d.weight_bits)
    return any(s.get("tile") == list(want.tile) and s.get("dataflow") == want.dataflow for s in scheds)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--designs", nargs="+", default=[n for n in list_presets() if not n.startswith("paper-")])
    p.add_argument("--tokens", default="1,2,3,4,5,6,7,8")
    p.add_argument("--prefill", type=int, default=512)
    args = p.parse_args()
    tokens = [int(t) for t in args.tokens.split(",")]
    model = load_models()["llama-2-7b"]
    layers = model.linears() + [model.head()]
    failed = []
    print(f"LLaMA-2-7B: {', '.join(f'{n} {k}x{nn}' for n, k, nn in layers)}")
    print(f"{'design':<14} {'PEs':>5} {'decode worst':>12} {'(layer, M)':<14} {'mapping':<8} {'bound':<8}"
          f" {'prefill traffic/bound':>21} {'(layer)':<8} {'x compulsory':>12}  compiled")
    for design in args.designs:
        hw = load_hardware(design)
        worst = (0.0, None, None, None)
        for M in tokens:
            for name, K, N in layers:
                r, c = decode_ratio(hw, M, K, N)
                if r > worst[0]:
                    worst = (r, f"{name}, {M}", c, "memory" if c.dram_cycles >= c.ideal_compute else "compute")
        pre = max((prefill_ratio(hw, args.prefill, K, N) + (name,) for name, K, N in layers), key=lambda t: t[0])
        same = compiled_schedule_matches(design, hw)
        r, where, c, bound = worst
        print(f"{design:<14} {hw.num_pes:>5} {r:>12.3f} {'(' + where + ')':<14} {c.dataflow:<8} {bound:<8}"
              f" {pre[0]:>21.3f} {pre[2]:<8} {pre[1].dram_traffic_ratio:>12.2f}  {'same' if same else 'DIFFERENT'}")
        if r > DECODE_TARGET:
            failed.append(f"{design}: decode {r:.3f}x its roofline ({where})")
        if pre[0] > PREFILL_TARGET:
            failed.append(f"{design}: prefill DRAM traffic {pre[0]:.3f}x the OS bound ({pre[2]})")
        if not same:
            failed.append(f"{design}: the compiled schedule differs from the search's")
    print(f"targets: decode <= {DECODE_TARGET}x roofline for M in {tokens}; "
          f"prefill M={args.prefill} traffic <= {PREFILL_TARGET}x the OS bound")
    for f in failed:
        print(f"MISSED: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

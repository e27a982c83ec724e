"""ANT and OliVe against int8, MixPE-W4A8 and BitFusion on LLaMA-2-7B's linears (docs/baselines.md).

Each preset at its own [workload] (and ANT at W8A8, its fused 8-bit mode), default cost mode,
prefill-128 and decode-1, straight through the simulator's cost model:

    python bench/bench_baselines.py
"""

from mixpe.eval.models import load_models
from mixpe.simulator import estimate_gemm, load_hardware

model = load_models()["llama-2-7b"]
designs = [("int8", {}), ("ant", {}), ("ant", {"weight_bits": 8, "act_bits": 8}),
           ("olive", {}), ("mixpe-w4a8", {}), ("bitfusion", {})]
print("LLaMA-2-7B block linears x", model.layers, "layers, default mode, each preset's [workload] unless given")
print(f"{'design':<10} {'array':>6} {'precision':<10} {'phase':<8} {'cycles':>13} {'energy mJ':>10} "
      f"{'speedup':>8} {'energy red.':>11}")
for phase, m in (("prefill", 128), ("decode", 1)):
    ref = None
    for name, bits in designs:
        hw = load_hardware(name)
        cyc = pj = 0
        for layer, k, n in model.linears():
            c = estimate_gemm(hw, m, n, k, **bits)
            cyc += model.layers * c.total
            pj += model.layers * c.energy.total_pj
        if ref is None:
            ref = (cyc, pj)
        prec = f"w{c.weight_bits}a{c.act_bits}" + (f"g{c.group_size}" if c.group_size else "")
        arr = f"{hw.array.rows}x{hw.array.cols}"
        print(f"{name:<10} {arr:>6} {prec:<10} {phase:<8} {cyc:>13,} {pj / 1e9:>10.1f} "
              f"{ref[0] / cyc:>7.2f}x {ref[1] / pj:>10.2f}x")

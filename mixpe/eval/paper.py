"""The MixPE authors' evaluation as data: their layer list, per-design precision tags and
published table, from github.com/yuzhang712/mixpe_simulator @7e0d42c ("their code").

* ``PAPER_TABLE`` - model -> design column -> (time, energy), normalised to FP16, as in
  docs/design.md §4.  Their ``results/mixpe_res.csv`` gives the time and four energy components per
  cell (``PAPER_ENERGY_BREAKDOWN``); the energy in ``PAPER_TABLE`` is the sum of those four
  *rounded* components, so it can differ from the unrounded total by up to 0.02.
* ``PAPER_MODELS`` - their model dimensions (``benchmarks/gen_bench.py gen_benchmark``); FFN is
  modelled as 4·d for every model, LLaMA-2-13B included (real: 13824).
* ``paper_layers(model)`` - ``(name, M, K, N, count)`` with M = 64 token rows (``run_mix.py
  batch_size = 64``); for ViT the first entry is the patch-embedding convolution as its im2col
  GEMM (M = 64 images x 196 patches), see ``PAPER_CONV``.
* ``paper_workload(model, design)`` - the same layers with the precision tag each design's
  bench file gives them (ANT and BitFusion mix 4- and 8-bit layers) and whether a
  dequantisation layer is added.
* ``PAPER_DESIGNS`` - table column -> hardware preset (``mixpe/hw/presets/paper-*.toml``).

``python -m mixpe.eval.paper`` recomputes the table with ``estimate_gemm(..., mode="paper")``
and prints it beside theirs (docs/paper-reproduction.md).  This module imports the simulator
only inside ``reproduce``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mixpe.hw import load_hardware
from mixpe.simulator.cost import estimate_gemm, estimate_paper_conv

PAPER_SOURCE = "github.com/yuzhang712/mixpe_simulator @7e0d42c"
PAPER_BATCH = 64  # run_mix.py: batch_size = 64 rows for every FC (and 64 images for the conv)

# run_mix.py column order; the FP16 column is the normalisation baseline.
PAPER_DESIGNS: dict[str, str] = {
    "MixPE-W4A8": "paper-mixpe-w4a8",
    "ANT": "paper-ant",
    "BitFusion": "paper-bitfusion",
    "INT8": "paper-int8",
    "MixPE-W4A16": "paper-mixpe-w4a16",
    "FP16": "paper-fp16",
}
PAPER_BASELINE = "FP16"

# docs/design.md §4 / their results/mixpe_res.csv "Time" row and the sum of its four energy rows.
PAPER_TABLE: dict[str, dict[str, tuple[float, float]]] = {
    "vit-b": {"MixPE-W4A8": (0.15, 0.26), "ANT": (0.61, 0.39), "BitFusion": (0.70, 0.48),
              "INT8": (0.82, 0.51), "MixPE-W4A16": (0.53, 0.53), "FP16": (1.0, 1.0)},
    "vit-h": {"MixPE-W4A8": (0.12, 0.18), "ANT": (0.47, 0.30), "BitFusion": (0.67, 0.43),
              "INT8": (0.82, 0.50), "MixPE-W4A16": (0.32, 0.32), "FP16": (1.0, 1.0)},
    "opt-6.7b": {"MixPE-W4A8": (0.10, 0.14), "ANT": (0.40, 0.25), "BitFusion": (0.68, 0.43),
                 "INT8": (0.86, 0.49), "MixPE-W4A16": (0.19, 0.22), "FP16": (1.0, 1.0)},
    "llama-2-13b": {"MixPE-W4A8": (0.10, 0.14), "ANT": (0.40, 0.25), "BitFusion": (0.68, 0.43),
                    "INT8": (0.86, 0.51), "MixPE-W4A16": (0.19, 0.22), "FP16": (1.0, 1.0)},
}

# their results/mixpe_res.csv rows Static, Dram, Buffer, Core (each / FP16 total energy)
ENERGY_PARTS = ("static", "dram", "buffer", "core")
PAPER_ENERGY_BREAKDOWN: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "vit-b": {"MixPE-W4A8": (0.04, 0.02, 0.09, 0.11), "ANT": (0.15, 0.03, 0.10, 0.11),
              "BitFusion": (0.17, 0.04, 0.12, 0.15), "INT8": (0.20, 0.05, 0.12, 0.14),
              "MixPE-W4A16": (0.13, 0.05, 0.17, 0.18), "FP16": (0.24, 0.07, 0.23, 0.46)},
    "vit-h": {"MixPE-W4A8": (0.03, 0.01, 0.06, 0.08), "ANT": (0.11, 0.03, 0.08, 0.08),
              "BitFusion": (0.15, 0.03, 0.11, 0.14), "INT8": (0.19, 0.07, 0.11, 0.13),
              "MixPE-W4A16": (0.07, 0.03, 0.12, 0.10), "FP16": (0.23, 0.12, 0.23, 0.43)},
    "opt-6.7b": {"MixPE-W4A8": (0.02, 0.01, 0.05, 0.06), "ANT": (0.09, 0.03, 0.07, 0.06),
                 "BitFusion": (0.15, 0.03, 0.11, 0.14), "INT8": (0.19, 0.05, 0.11, 0.14),
                 "MixPE-W4A16": (0.04, 0.02, 0.10, 0.06), "FP16": (0.22, 0.13, 0.23, 0.42)},
    "llama-2-13b": {"MixPE-W4A8": (0.02, 0.01, 0.05, 0.06), "ANT": (0.09, 0.03, 0.07, 0.06),
                    "BitFusion": (0.15, 0.03, 0.11, 0.14), "INT8": (0.19, 0.06, 0.12, 0.14),
                    "MixPE-W4A16": (0.04, 0.02, 0.10, 0.06), "FP16": (0.22, 0.13, 0.23, 0.42)},
}

# their "Geomean" column (run_mix.py): an arithmetic mean for time; for energy a mean over wrong
# list indices (idx = i*5 instead of i*6, and the Core row averages Buffer entries for the last
# two designs), so these energy numbers are not averages of anything in the table.
PAPER_GEOMEAN: dict[str, tuple[float, ...]] = {
    "time": (0.12, 0.47, 0.68, 0.84, 0.31, 1.00),
    "static": (0.14, 0.11, 0.13, 0.11, 0.14, 0.16),
    "dram": (0.04, 0.05, 0.05, 0.03, 0.05, 0.05),
    "buffer": (0.14, 0.12, 0.12, 0.09, 0.12, 0.14),
    "core": (0.20, 0.17, 0.18, 0.10, 0.12, 0.14),
}


@dataclass(frozen=True)
class PaperModel:
    name: str  # as in their CSV header
    bench: str  # their benchmark key (benchmarks.py benchlist)
    hidden: int
    layers: int
    ffn: int  # 4 * hidden for every model (gen_opt / gen_opt_mix: hidden_states*4)
    patch_embed: bool  # ViT: a 16x16/16 convolution on 224x224x3 images first


PAPER_MODELS: dict[str, PaperModel] = {
    # gen_bench.py gen_benchmark: gen_opt(12, 768) / gen_opt(32, 1280) / gen_opt(32, 4096) /
    # gen_opt(40, 5120), each block QKV, O, FFN1, FFN2; no attention matmuls, no LM head.
    "vit-b": PaperModel("ViT", "vit", 768, 12, 4 * 768, True),
    "vit-h": PaperModel("ViT-Huge", "vit_huge", 1280, 32, 4 * 1280, True),
    "opt-6.7b": PaperModel("OPT-6.7B", "opt", 4096, 32, 4 * 4096, False),
    "llama-2-13b": PaperModel("Llama2-13B", "llama", 5120, 40, 4 * 5120, False),  # real FFN 13824, gated
}

# the ViT patch embedding: [[1,3,224,224], [d,3,16,16], [1,d,14,14], [16,16]] (gen_bench.py),
# simulated as a convolution (simulator.py get_conv_cycles), batch 64 images.
PAPER_CONV = {"patch_embed": {"batch": PAPER_BATCH, "out_size": 14, "kernel": 16, "stride": 16,
                              "in_ch": 3}}


def paper_layers(model: str) -> list[tuple[str, int, int, int, int]]:
    """Their layer list of ``model``: (name, M, K, N, count), M = 64 token rows."""
    m = PAPER_MODELS[model]
    d, f, L, B = m.hidden, m.ffn, m.layers, PAPER_BATCH
    out = []
    if m.patch_embed:
        c = PAPER_CONV["patch_embed"]
        out.append(("patch_embed", B * c["out_size"] ** 2, c["kernel"] ** 2 * c["in_ch"], d, 1))
    out += [("qkv", B, d, 3 * d, L), ("o", B, d, d, L), ("ffn1", B, d, f, L), ("ffn2", B, f, d, L)]
    return out


@dataclass(frozen=True)
class PaperLayer:
    name: str
    M: int
    K: int
    N: int
    count: int
    bits: int  # their tag: weights and activations both (benchmarks.py create_fc)
    dequant: bool  # add the design's dequantisation layer ([paper] section of the preset)
    conv: bool = False  # the ViT patch embedding (PAPER_CONV)


# Precision tags per design, from the generated bench files (gen_bench.py):
#   conv: the patch embedding's tag; linear: (tag, blocks-with-tag rule) per linear.
_FULL = {"MixPE-W4A8": 8, "ANT": 8, "BitFusion": 8, "INT8": 8, "MixPE-W4A16": 16, "FP16": 16}


def _tags(design: str, name: str, L: int) -> list[tuple[int, int]]:
    """[(tag, number of blocks)] of one linear of an L-block model."""
    if design == "MixPE-W4A8":
        return [(4, L)]  # int48_bench.py: int(precision_bits[1]/2), precision_bits = [4, 8]
    if design == "MixPE-W4A16":
        return [(8, L)]  # mixfloat_bench.py: int(16/2)
    if design == "ANT":  # gen_ant: int(L/5) random blocks at 8 bits, all four linears
        return [(4, L - L // 5), (8, L // 5)]
    if design == "BitFusion":  # gen_bitfusion: O projection at 4 bits in int(L/2) random blocks
        return [(4, L // 2), (8, L - L // 2)] if name == "o" else [(8, L)]
    return [(_FULL[design], L)]  # INT8, FP16: gen_opt, precision_bits[1]


def paper_workload(model: str, design: str) -> list[PaperLayer]:
    """``paper_layers(model)`` with ``design``'s tags; entries with zero count are dropped."""
    if design not in PAPER_DESIGNS:
        raise KeyError(f"unknown design {design!r} (known: {', '.join(PAPER_DESIGNS)})")
    L = PAPER_MODELS[model].layers
    out = []
    for name, M, K, N, count in paper_layers(model):
        if name == "patch_embed":  # tagged precision_bits[1]; no dequantisation layer
            out.append(PaperLayer(name, M, K, N, count, _FULL[design], False, True))
            continue
        for bits, n in _tags(design, name, L):
            if n:
                out.append(PaperLayer(name, M, K, N, n, bits, True))
    return out


def reproduce(models=None, designs=None) -> dict[str, dict[str, dict[str, float]]]:
    """Our paper-mode numbers: model -> design -> {time, energy, static, dram, buffer, core,
    cycles, energy_pj}, each normalised to FP16 like run_mix.py (cycles and energy summed
    over all layers of a model first)."""
    models = list(models or PAPER_MODELS)
    designs = list(designs or PAPER_DESIGNS)
    need = designs if PAPER_BASELINE in designs else designs + [PAPER_BASELINE]
    hws = {d: load_hardware(PAPER_DESIGNS[d]) for d in need}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for model in models:
        raw = {}
        for d in need:
            hw, cyc, parts = hws[d], 0, dict.fromkeys(ENERGY_PARTS, 0.0)
            for lay in paper_workload(model, d):
                if lay.conv:
                    c = PAPER_CONV["patch_embed"]
                    cost = estimate_paper_conv(hw, c["batch"], c["out_size"], c["kernel"],
                                               c["in_ch"], lay.N, bits=lay.bits)
                else:
                    cost = estimate_gemm(hw, lay.M, lay.N, lay.K, weight_bits=lay.bits,
                                         act_bits=lay.bits, group_size=None if lay.dequant else 0,
                                         mode="paper")
                cat = cost.energy.by_category()
                cyc += lay.count * cost.total
                parts["static"] += lay.count * cat["static"]
                parts["dram"] += lay.count * cat["dram"]
                parts["buffer"] += lay.count * cat["sram"]
                parts["core"] += lay.count * (cat["pe"] + cat["leakage"])
            raw[d] = (cyc, parts)
        base_cyc, base_parts = raw[PAPER_BASELINE]
        base_e = sum(base_parts.values())
        out[model] = {}
        for d in designs:
            cyc, parts = raw[d]
            row = {"time": cyc / base_cyc, "energy": sum(parts.values()) / base_e,
                   "cycles": cyc, "energy_pj": sum(parts.values())}
            row.update({k: v / base_e for k, v in parts.items()})
            out[model][d] = row
    return out


def format_table(ours: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown: ours (3 decimals; energy also as the sum of 2-decimal-rounded components,
    as the published energy is formed) beside the published table, and the largest gaps."""
    lines = ["| model | design | time (ours / paper) | energy (ours / rounded-sum / paper) | "
             "static, dram, buffer, core (ours, 2 d.p.) | paper breakdown |",
             "|---|---|---|---|---|---|"]
    dt = de = 0.0
    for model, row in ours.items():
        for d, v in row.items():
            pt, pe = PAPER_TABLE[model][d]
            rsum = sum(round(v[k], 2) for k in ENERGY_PARTS)
            dt, de = max(dt, abs(v["time"] - pt)), max(de, abs(v["energy"] - pe))
            br = ", ".join(f"{v[k]:.2f}" for k in ENERGY_PARTS)
            pbr = ", ".join(f"{x:.2f}" for x in PAPER_ENERGY_BREAKDOWN[model][d])
            lines.append(f"| {PAPER_MODELS[model].name} | {d} | {v['time']:.3f} / {pt:.2f} | "
                         f"{v['energy']:.3f} / {rsum:.2f} / {pe:.2f} | {br} | {pbr} |")
    lines.append("")
    lines.append(f"max |ours - paper|: time {dt:.4f}, energy {de:.4f} (energy vs the sum of "
                 "rounded components: 0 when every component rounds as theirs)")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mixpe.eval.paper",
                                 description="Reproduce the MixPE authors' normalised table with "
                                             "estimate_gemm(mode='paper') and the paper-* presets.")
    ap.add_argument("--model", action="append", choices=list(PAPER_MODELS))
    args = ap.parse_args(argv)
    print(format_table(reproduce(args.model)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

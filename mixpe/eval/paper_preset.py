"""`--preset paper`: the MixPE authors' evaluation (data in `mixpe.eval.paper`) as a `Preset`.

Their layer list (batch 64; QKV, O, FFN1, FFN2 with FFN = 4·d; ViT's patch embedding as its
im2col GEMM), their per-design precision tags (ANT and BitFusion mix 4- and 8-bit layers),
the `paper-*` presets, `mode="paper"`, and their published table printed beside ours. Every
layer still goes through the compiler, so the tags become frontend types: 4-bit tags i4
activations and 4-bit weights, 8-bit tags i8, 16-bit tags f16 activations with 8-bit
weights dequantized (the authors give FP16 a dequantisation layer too, +1/8 of its work).
"""

from __future__ import annotations

import functools

from mixpe.eval import paper as P
from mixpe.eval.models import Model
from mixpe.eval.workload import LayerSpec, Precision, Preset, Workload
from mixpe.hw import load_hardware

BASELINE = P.PAPER_DESIGNS[P.PAPER_BASELINE]
_COLUMN = {preset: column for column, preset in P.PAPER_DESIGNS.items()}


@functools.lru_cache(maxsize=None)
def _group(design: str) -> int:
    return load_hardware(design).defaults.group_size


def _precision(layer, design: str) -> Precision:
    group = _group(design) if layer.dequant else 0
    if layer.bits > 8:
        # A 16-bit tag with a dequantisation layer (their FP16 baseline pays one too): a
        # quantized linear with f16 activations, whose dequantisation the paper mode costs
        # as their extra layer; on a pmin = pmax = 16 PE the 8-bit storage packs nothing.
        return Precision(8, "f16", group) if group else Precision(16, "f16", 0)
    return Precision(layer.bits, "i4" if layer.bits <= 4 else "i8", group)


def paper_layers(model: Model, wl: Workload, attention: bool, design: str) -> list[LayerSpec]:
    """The authors' GEMMs of `model` for `design` (a paper-* preset); no attention matmuls."""
    if design not in _COLUMN:
        raise ValueError(f"--preset paper: design '{design}' is not one of the authors' "
                         f"({', '.join(P.PAPER_DESIGNS.values())})")
    return [LayerSpec(lay.name, "linear", lay.M, lay.K, lay.N, lay.count, _precision(lay, design))
            for lay in P.paper_workload(model.key, _COLUMN[design])]


def preset() -> Preset:
    return Preset(
        name="paper", designs=tuple(P.PAPER_DESIGNS.values()), baselines=(BASELINE,),
        models=tuple(P.PAPER_MODELS), layers_of=paper_layers, mode="paper",
        workloads=(Workload("batch", P.PAPER_BATCH),),
        reference={m: {P.PAPER_DESIGNS[c]: v for c, v in row.items()} for m, row in P.PAPER_TABLE.items()},
        reference_baseline=BASELINE,
    )

"""What an evaluation runs: designs, models, the layer list of a model under a workload, and
the cost-model mode. `--preset default` is defined here; `--preset paper` comes from
`mixpe/eval/paper.py`, which only has to return a `Preset` (see docs/eval.md), so the runner
needs no paper-specific code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Mapping

from mixpe.eval.models import Model

DEFAULT_DESIGNS = ("mixpe-w4a8", "mixpe-w4a16", "fp16", "int8", "w4a16-dequant", "w4a8-dequant", "bitfusion")
DEFAULT_BASELINES = ("fp16", "int8", "w4a16-dequant", "w4a8-dequant", "bitfusion")
DEFAULT_MODELS = ("opt-6.7b", "llama-2-7b", "llama-2-13b", "llama-3-8b", "vit-b", "vit-h")
PHASES = ("prefill", "decode", "batch")


@dataclass(frozen=True)
class Workload:
    """`prefill`: one sequence of `tokens` tokens; `decode`: `tokens` sequences generating one
    token each against a KV cache of `context`; `batch`: `tokens` independent rows (the
    MixPE authors' setting: linears only)."""

    phase: str
    tokens: int
    context: int = 0

    @property
    def name(self) -> str:
        return f"{self.phase}-{self.tokens}"


@dataclass(frozen=True)
class Precision:
    """What the frontend module of a GEMM holds: `group` 0 means unquantized weights (a
    plain matmul in `act` x `act`)."""

    weight_bits: int
    act: str  # i8 | f16 | i4 (the paper's 4-bit tag)
    group: int

    @property
    def label(self) -> str:
        a = {"i4": "a4", "i8": "a8"}.get(self.act, "a16")
        return f"w{self.weight_bits}{a}" + (f"g{self.group}" if self.group else "")


@dataclass(frozen=True)
class LayerSpec:
    """One GEMM `[m,k] x [k,n]` of a model, run `count` times per forward pass.
    kind `linear` has quantized weights (on quantized designs); `attention` multiplies two
    activations (QK^T, PV) and is never weight-quantized. `precision`, when given, replaces
    the design's (per-layer tags such as the MixPE authors' mixed 4/8-bit layers)."""

    name: str
    kind: str  # linear | attention
    m: int
    k: int
    n: int
    count: int
    precision: Precision | None = None


@dataclass(frozen=True)
class Preset:
    name: str
    designs: tuple[str, ...]
    baselines: tuple[str, ...]
    models: tuple[str, ...]
    # (model, workload, attention, design label) -> the GEMMs of one forward pass
    layers_of: Callable[[Model, Workload, bool, str], list[LayerSpec]]
    mode: str = "default"  # cost-model mode passed to run_program
    workloads: tuple[Workload, ...] | None = None  # fixed by the preset; None: from --tokens
    # published results to print beside ours: {model key: {design: (time, energy)}}, normalised
    # to `reference_baseline`
    reference: Mapping[str, Mapping[str, tuple[float, float]]] | None = None
    reference_baseline: str | None = None
    # workload precision of a design when it is not the hardware file's [workload] section
    precision_of: Callable | None = None


def transformer_layers(model: Model, wl: Workload, attention: bool, design: str = "") -> list[LayerSpec]:
    """Every GEMM of one forward pass: the block's linears x layers, plus (with `attention`)
    QK^T and PV per KV head. GQA shares one K/V head among heads/kv_heads query heads, so those
    query rows are stacked into M, as GQA kernels do. Prefill computes the full (non-causal)
    score matrix; an encoder's `prefill-N` is N token rows over ceil(N/seq_tokens) images."""
    if model.encoder and wl.phase == "decode":
        return []
    rows = wl.tokens
    out = [LayerSpec(name, "linear", rows, k, n, model.layers) for name, k, n in model.linears()]
    if not attention:
        return out
    group = model.heads // model.kv_heads
    if wl.phase == "decode":
        seqs, q_rows, ctx = wl.tokens, 1, wl.context
    elif model.encoder:
        seqs, q_rows, ctx = -(-wl.tokens // model.seq_tokens), model.seq_tokens, model.seq_tokens
    else:
        seqs, q_rows, ctx = 1, wl.tokens, wl.tokens
    count = model.layers * model.kv_heads * seqs
    hd = model.head_dim
    return out + [
        LayerSpec("attn_qk", "attention", q_rows * group, hd, ctx, count),
        LayerSpec("attn_pv", "attention", q_rows * group, ctx, hd, count),
    ]


DEFAULT = Preset(
    name="default", designs=DEFAULT_DESIGNS, baselines=DEFAULT_BASELINES, models=DEFAULT_MODELS,
    layers_of=transformer_layers,
)
PRESETS = ("default", "paper")


class PresetUnavailable(LookupError):
    pass


def get_preset(name: str) -> Preset:
    if name == "default":
        return DEFAULT
    if name == "paper":
        try:
            paper = importlib.import_module("mixpe.eval.paper")
        except ModuleNotFoundError as e:
            if e.name != "mixpe.eval.paper":
                raise
            raise PresetUnavailable(
                "--preset paper: mixpe/eval/paper.py (the MixPE authors' layer list and published "
                "table) is not in this checkout yet") from None
        if hasattr(paper, "preset"):
            return paper.preset()
        from mixpe.eval import paper_preset  # adapts the authors' data to a Preset

        return paper_preset.preset()
    raise PresetUnavailable(f"unknown preset '{name}' (known: {', '.join(PRESETS)})")

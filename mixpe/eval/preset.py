"""What an evaluation runs: designs, models, the layer list of a model under a workload, and
the cost-model mode. `--preset default` is defined here; `--preset paper` comes from
`mixpe/eval/paper_preset.py` (the authors' data in `mixpe/eval/paper.py`), which only has to
return a `Preset` (see docs/eval.md), so the runner needs no paper-specific code.
"""

from __future__ import annotations

from mixpe.eval import paper_preset
from mixpe.eval.models import Model
from mixpe.eval.workload import PHASES, LayerSpec, Precision, Preset, Workload

__all__ = ["DEFAULT", "DEFAULT_BASELINES", "DEFAULT_DESIGNS", "DEFAULT_MODELS", "LayerSpec", "PHASES",
           "PRESETS", "Precision", "Preset", "PresetUnavailable", "Workload", "get_preset",
           "transformer_layers"]

DEFAULT_DESIGNS = ("mixpe-w4a8", "mixpe-w4a16", "fp16", "int8", "w4a16-dequant", "w4a8-dequant", "bitfusion",
                   "ant", "olive")
DEFAULT_BASELINES = ("fp16", "int8", "w4a16-dequant", "w4a8-dequant", "bitfusion", "ant", "olive")
DEFAULT_MODELS = ("opt-6.7b", "llama-2-7b", "llama-2-13b", "llama-3-8b", "vit-b", "vit-h")


def transformer_layers(model: Model, wl: Workload, attention: bool, design: str = "") -> list[LayerSpec]:
    """Every GEMM of one forward pass: the block's linears x layers, the output head
    (`head_rows`: the LM head on the rows whose logits are needed, a ViT's classifier on
    [CLS]), plus (with `attention`)
    QK^T and PV per KV head. GQA shares one K/V head among heads/kv_heads query heads, so those
    query rows are stacked into M, as GQA kernels do. Prefill computes the full (non-causal)
    score matrix; an encoder's `prefill-N` is N token rows over ceil(N/seq_tokens) images."""
    if model.encoder and wl.phase == "decode":
        return []
    rows = wl.tokens
    out = [LayerSpec(name, "linear", rows, k, n, model.layers) for name, k, n in model.linears()]
    head = model.head()
    if head is not None:
        out.append(LayerSpec(head[0], "linear", head_rows(model, wl), head[1], head[2], 1))
    if not attention:
        return out
    group = model.heads // model.kv_heads
    if wl.phase == "decode":
        seqs, q_rows, ctx = wl.tokens, 1, wl.context
    elif model.encoder:
        assert model.seq_tokens, "load_models: an encoder model has seq_tokens"
        seqs, q_rows, ctx = -(-wl.tokens // model.seq_tokens), model.seq_tokens, model.seq_tokens
    else:
        seqs, q_rows, ctx = 1, wl.tokens, wl.tokens
    count = model.layers * model.kv_heads * seqs
    hd = model.head_dim
    return out + [
        LayerSpec("attn_qk", "attention", q_rows * group, hd, ctx, count),
        LayerSpec("attn_pv", "attention", q_rows * group, ctx, hd, count),
    ]


def head_rows(model: Model, wl: Workload) -> int:
    """Rows of the output head. Generation needs the logits of each sequence's last token only:
    prefill-N computes one row (one sequence), decode-B one row per sequence (B). batch-N rows
    are independent tokens, each scored (N rows). A ViT classifies its [CLS] token: one row per
    image, ceil(N / seq_tokens)."""
    if model.encoder:
        assert model.seq_tokens, "load_models: an encoder model has seq_tokens"
        return -(-wl.tokens // model.seq_tokens)
    return 1 if wl.phase == "prefill" else wl.tokens


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
        return paper_preset.preset()
    raise PresetUnavailable(f"unknown preset '{name}' (known: {', '.join(PRESETS)})")

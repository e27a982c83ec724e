"""The data an evaluation is made of: workloads, per-layer precision, the GEMM list entries and
a preset (what `--preset NAME` evaluates).  Plain data, imported by the presets, the runner
and the sweeps alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from mixpe.eval.models import Model

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

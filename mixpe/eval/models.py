"""Model architectures as sourced data (`models.toml`), and the GEMMs one forward pass runs.

Kept as data so that adding a model is a TOML table and every figure in a report can be
traced to the config it came from; the parameter count computed from the same data is
checked against the published size in the tests.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

MODELS_TOML = Path(__file__).parent / "models.toml"

_INTS = ("hidden", "heads", "kv_heads", "head_dim", "ffn", "layers", "vocab")
_BOOLS = ("gated", "tied", "bias", "encoder")
_OPTIONAL_INTS = ("seq_tokens", "patch")


class ModelError(ValueError):
    """A model table is missing a field, has a bad value, or an unsourced figure."""


@dataclass(frozen=True)
class Model:
    key: str
    name: str
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    gated: bool
    layers: int
    vocab: int
    tied: bool
    bias: bool
    encoder: bool
    seq_tokens: int | None
    patch: int | None
    params_published: float
    sources: Mapping[str, str]

    @property
    def q_width(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_width(self) -> int:
        return self.kv_heads * self.head_dim

    def linears(self) -> list[tuple[str, int, int]]:
        """(name, K, N) of one block's linears: fused QKV without GQA (as the MixPE authors
        list it), separate Q, K, V with GQA; O; FFN gate/up/down or fc1/fc2."""
        d = self.hidden
        if self.kv_heads == self.heads:
            attn = [("qkv", d, 3 * self.q_width)]
        else:
            attn = [("q", d, self.q_width), ("k", d, self.kv_width), ("v", d, self.kv_width)]
        attn.append(("o", self.q_width, d))
        if self.gated:
            ffn = [("gate", d, self.ffn), ("up", d, self.ffn), ("down", self.ffn, d)]
        else:
            ffn = [("fc1", d, self.ffn), ("fc2", self.ffn, d)]
        return attn + ffn

    def head(self) -> tuple[str, int, int] | None:
        """(name, K, N) of the output head: the LM head (`hidden x vocab`; a `tied` model shares
        its weights with the embedding, but it is still a GEMM) or a ViT's classifier (`hidden x
        classes` on the [CLS] token); None when the model data has no head (vocab 0)."""
        if not self.vocab:
            return None
        return ("cls_head" if self.encoder else "lm_head", self.hidden, self.vocab)

    def params(self) -> int:
        """Weights (and biases) from the data alone: blocks, norms, embeddings, head."""
        d = self.hidden
        block = sum(k * n + (n if self.bias else 0) for _, k, n in self.linears())
        block += 2 * 2 * d  # two LayerNorm/RMSNorm per block (weight, and bias or not: small)
        embed = self.vocab * d * (1 if self.tied else 2)
        if self.patch:  # ViT: conv patch embedding + position embeddings + [CLS]
            embed = 3 * self.patch**2 * d + d + (self.seq_tokens or 0) * d + d + self.vocab * (d + 1)
        return self.layers * block + embed + 2 * d


def load_models(path: Path = MODELS_TOML) -> dict[str, Model]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as e:
        raise ModelError(f"{path}: invalid TOML: {e}") from None
    return {key: _model(key, table, path) for key, table in data.items()}


def _model(key: str, table: dict, path) -> Model:
    sources: dict[str, str] = {}

    def figure(field: str, typ: type, required: bool = True):
        node = table.get(field)
        if node is None:
            if required:
                raise ModelError(f"{path}: [{key}] field '{field}': missing")
            return None
        if not isinstance(node, dict) or set(node) != {"value", "source"} or not str(node["source"]).strip():
            raise ModelError(f"{path}: [{key}] field '{field}': must be {{value = ..., source = \"...\"}}")
        value = node["value"]
        ok = isinstance(value, bool) if typ is bool else (
            isinstance(value, typ) and not isinstance(value, bool) and value >= 0)
        if typ is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise ModelError(f"{path}: [{key}] field '{field}': expected {typ.__name__}, got {value!r}")
        sources[field] = node["source"]
        return value

    values: dict[str, Any] = {f: figure(f, int) for f in _INTS}  # each checked against its type
    values.update({f: figure(f, bool) for f in _BOOLS})
    values.update({f: figure(f, int, required=False) for f in _OPTIONAL_INTS})
    values["params_published"] = figure("params_published", float)
    unknown = set(table) - set(values) - {"name"}
    if unknown:
        raise ModelError(f"{path}: [{key}] unknown field '{sorted(unknown)[0]}'")
    if values["heads"] % max(values["kv_heads"], 1) or not values["kv_heads"]:
        raise ModelError(f"{path}: [{key}] heads must be a multiple of kv_heads")
    if values["encoder"] and not values["seq_tokens"]:
        raise ModelError(f"{path}: [{key}] an encoder model needs seq_tokens")
    return Model(key=key, name=str(table.get("name", key)), **values, sources=MappingProxyType(sources))

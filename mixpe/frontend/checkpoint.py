"""Read one GPTQ/AWQ-packed linear layer from `.safetensors` and emit it as frontend linalg.

Why: real quantized models arrive as packed int32 words, not as the i8 tensors our frontend
IR uses; this is the front door from a checkpoint to `mixpe-raise`. The layouts
(docs/checkpoints.md) are those of AutoGPTQ/exllama v1 and AutoAWQ's GEMM format:

- GPTQ: `qweight` int32 [K*b/32, N], packed along K, low bits first;
  `qzeros` int32 [G, N*b/32], packed along N, low bits first, stored as z-1 in v1
  checkpoints (`gptq_v1_zero_offset`); `scales` f16 [G, N]; `g_idx` int32 [K].
- AWQ: `qweight` int32 [K, N/8] and `qzeros` int32 [G, N/8], packed along N with nibble i
  holding column 8c + [0,2,4,6,1,3,5,7][i]; `scales` f16 [G, N].

Unpacking is vectorised numpy (one shift per nibble position, never per element).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mixpe.frontend import linalg_emit

AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)
"""AWQ's nibble order: nibble i of a word holds column 8c + AWQ_ORDER[i]."""


class CheckpointError(ValueError):
    """A checkpoint tensor set that is not one of the supported layouts."""


@dataclass(frozen=True)
class QuantLinear:
    """One unpacked linear layer: W[k,n] = scales[k//g, n] * (q[k,n] - zeros[k//g, n]).

    `q` and `zeros` are uint8 ([K,N] and [G,N]), `scales` float16 [G,N]. `act_perm` is set
    for act-order GPTQ: the layer computes `x[:, act_perm] @ W` (rows already permuted).
    """

    q: np.ndarray
    zeros: np.ndarray
    scales: np.ndarray
    group_size: int
    bits: int
    act_perm: np.ndarray | None = None

    @property
    def k(self) -> int:
        return self.q.shape[0]

    @property
    def n(self) -> int:
        return self.q.shape[1]

    def dequantize(self) -> np.ndarray:
        """Float64 W [K,N] (rows in `act_perm` order when set)."""
        rep = lambda a: np.repeat(a.astype(np.float64), self.group_size, axis=0)  # noqa: E731
        return rep(self.scales) * (self.q.astype(np.float64) - rep(self.zeros))

    def permute_activations(self, x: np.ndarray) -> np.ndarray:
        """The activations the emitted module expects (identity unless act-order)."""
        return x if self.act_perm is None else x[..., self.act_perm]


def _unpack_words(words: np.ndarray, bits: int, axis: int) -> np.ndarray:
    """Splits each int32 into 32/bits fields (low bits first) along `axis`."""
    if 32 % bits:
        raise CheckpointError(f"{bits}-bit fields do not tile an int32 word (2, 4 or 8 bits)")
    per = 32 // bits
    u = np.ascontiguousarray(words).view(np.uint32)
    shifts = (np.arange(per, dtype=np.uint32) * bits).reshape((1,) * (axis + 1) + (per,) + (1,) * (u.ndim - axis - 1))
    fields = (np.expand_dims(u, axis + 1) >> shifts) & np.uint32((1 << bits) - 1)
    shape = list(u.shape)
    shape[axis] *= per
    return fields.reshape(shape).astype(np.uint8)


def _groups(scales: np.ndarray, k: int, n: int) -> int:
    if scales.ndim != 2 or scales.shape[1] != n or scales.shape[0] < 1 or k % scales.shape[0]:
        raise CheckpointError(f"scales {scales.shape} do not give whole groups of K={k} for N={n}")
    return k // scales.shape[0]


def unpack_gptq(
    qweight: np.ndarray,
    qzeros: np.ndarray,
    scales: np.ndarray,
    g_idx: np.ndarray | None = None,
    *,
    bits: int = 4,
    gptq_v1_zero_offset: bool = True,
) -> QuantLinear:
    """GPTQ (AutoGPTQ/exllama v1) tensors -> QuantLinear.

    `gptq_v1_zero_offset`: v1 checkpoints store z-1 and their kernels add 1 back (so a
    stored 2^b-1 means z = 2^b); GPTQ v2 / GPTQModel `gptq_v2` checkpoints store z itself.
    A permuted (act-order) `g_idx` is handled by sorting rows into groups (`act_perm`).
    """
    q = _unpack_words(qweight, bits, axis=0)
    k, n = q.shape
    g = _groups(scales, k, n)
    z = _unpack_words(qzeros, bits, axis=1)
    if z.shape != scales.shape:
        raise CheckpointError(f"qzeros unpack to {z.shape}, scales are {scales.shape}")
    if gptq_v1_zero_offset:
        z = z + np.uint8(1)  # at most 2^b (16 for 4 bits), which still fits i8 storage
    perm = None
    if g_idx is not None:
        g_idx = np.asarray(g_idx).astype(np.int64)
        if g_idx.shape != (k,):
            raise CheckpointError(f"g_idx has shape {g_idx.shape}, expected ({k},)")
        if not np.array_equal(g_idx, np.arange(k) // g):
            counts = np.bincount(g_idx, minlength=scales.shape[0]) if g_idx.min() >= 0 else None
            if counts is None or len(counts) != scales.shape[0] or np.any(counts != g):
                raise CheckpointError(
                    f"g_idx is neither k // {g} nor a permutation into groups of exactly {g} rows"
                )
            perm = np.argsort(g_idx, kind="stable")
            q = q[perm]
    return QuantLinear(q, z, scales.astype(np.float16), g, bits, perm)


def unpack_awq(qweight: np.ndarray, qzeros: np.ndarray, scales: np.ndarray) -> QuantLinear:
    """AWQ (AutoAWQ GEMM) tensors -> QuantLinear; 4-bit only, zero points stored as is."""
    inverse = np.argsort(AWQ_ORDER)

    def unpack(words: np.ndarray) -> np.ndarray:
        fields = _unpack_words(words, 4, axis=1)
        rows, cols = fields.shape
        return fields.reshape(rows, cols // 8, 8)[:, :, inverse].reshape(rows, cols)

    q, z = unpack(qweight), unpack(qzeros)
    g = _groups(scales, q.shape[0], q.shape[1])
    if z.shape != scales.shape:
        raise CheckpointError(f"qzeros unpack to {z.shape}, scales are {scales.shape}")
    return QuantLinear(q, z, scales.astype(np.float16), g, 4)


def read_linear(path: str, prefix: str = "", *, layout: str = "auto", bits: int = 4,
                gptq_v1_zero_offset: bool = True) -> QuantLinear:
    """Reads `{prefix}.qweight/.qzeros/.scales[/.g_idx]` from a safetensors file.

    `layout` is "gptq", "awq" or "auto" (decided by which axis qweight is packed along).
    """
    from safetensors import safe_open

    dot = f"{prefix}." if prefix else ""
    with safe_open(path, framework="np") as f:
        names = set(f.keys())
        missing = [t for t in ("qweight", "qzeros", "scales") if dot + t not in names]
        if missing:
            raise CheckpointError(f"{path}: no {', '.join(dot + t for t in missing)}")
        qweight, qzeros, scales = (f.get_tensor(dot + t) for t in ("qweight", "qzeros", "scales"))
        g_idx = f.get_tensor(dot + "g_idx") if dot + "g_idx" in names else None
    if qweight.dtype != np.int32 or qzeros.dtype != np.int32:
        raise CheckpointError(f"{path}: qweight/qzeros must be int32, got {qweight.dtype}/{qzeros.dtype}")
    if layout == "auto":
        n = scales.shape[-1]
        layout = "gptq" if qweight.shape[1] == n else "awq" if qweight.shape[1] * 8 == n else "?"
    if layout == "gptq":
        return unpack_gptq(qweight, qzeros, scales, g_idx, bits=bits, gptq_v1_zero_offset=gptq_v1_zero_offset)
    if layout == "awq":
        return unpack_awq(qweight, qzeros, scales)
    raise CheckpointError(f"{path}: qweight {qweight.shape} with scales {scales.shape} is neither GPTQ nor AWQ")


def emit_linear(layer: QuantLinear, m: int, act: str = "f16", style: str = "torch",
                name: str = "main") -> tuple[str, list[np.ndarray]]:
    """Frontend linalg text of `y = x @ W` plus its weight arguments `[q, scales, zeros]`.

    The function takes `(x, q, s, z)` (see `linalg_emit`); compile it with
    `mixpe-raise{weight-bits=<bits>}`. Scales convert to the activation type, exactly or
    not at all.
    """
    spec = linalg_emit.LinearSpec(
        m=m, k=layer.k, n=layer.n, group=layer.group_size, bits=layer.bits, signed=False,
        zp_mode="original", layout="kn", act=act, style=style,
    )
    s = linalg_emit.to_float(layer.scales, spec.deq)
    return linalg_emit.emit(spec, name), [layer.q, s, layer.zeros]

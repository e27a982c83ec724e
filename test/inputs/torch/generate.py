#!/usr/bin/env python3
"""Generate real torch-mlir frontend IR (linalg-on-tensors) for the mixpe-raise tests.

    python test/inputs/torch/generate.py            # regenerate every case in place
    python test/inputs/torch/generate.py NAME ...   # only these cases
    python test/inputs/torch/generate.py --check    # also run mlir-opt / xdsl-opt on the files
    python test/inputs/torch/generate.py --check-only   # only run the parsers, regenerate nothing

For every case NAME this writes, next to this script:
  NAME.mlir  the module exported by torch_mlir.fx.export_and_import(...,
             output_type=LINALG_ON_TENSORS), with a `//` header naming the torch module;
  NAME.npz   valid random inputs `arg0..argN` (function-signature order) and the
             torch-computed outputs `result0..`.  bf16 tensors are stored as float32
             (bf16 -> f32 is exact); numpy's npz cannot hold ml_dtypes.bfloat16.
             The constant-weight case also stores the baked-in buffers as `const_*`.

Everything is deterministic: each case seeds its own torch.Generator from a fixed seed.
Requires torch==2.13.0 (CPU) and torch-mlir.  See README.md for what each file contains.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MLIR_OPT = "/usr/lib/llvm-22/bin/mlir-opt"

f16, bf16, f32 = torch.float16, torch.bfloat16, torch.float32


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def dequant_nk(q, s, z, g, dtype, int_sub=False, cast_first=False):
    """GPTQ/HF style, weight stored [N,K], scales/zeros [N,G], groups along K.

    int_sub=False: W = (float(q) - float(z)) * s            (uitofp/sitofp, subf, mulf)
    int_sub=True:  W = float(int32(q) - int32(z)) * s       (extsi/extui, subi, sitofp, mulf)
    cast_first:    cast q (and z) to float on the 2-D tensors, then reshape (the IR then has
                   the cast generic on [N,K] followed by expand_shape, instead of the reverse)
    """
    N, K = q.shape
    G = K // g
    if cast_first:
        w = q.to(dtype).reshape(N, G, g) - z.to(dtype).reshape(N, G, 1)
    elif int_sub:
        w = (q.reshape(N, G, g).to(torch.int32) - z.reshape(N, G, 1).to(torch.int32)).to(dtype)
    else:
        w = q.reshape(N, G, g).to(dtype) - z.reshape(N, G, 1).to(dtype)
    w = w * s.reshape(N, G, 1)
    return w.reshape(N, K)


class Grouped(torch.nn.Module):
    """A module parameterised by the quantization group size g."""

    def __init__(self, g):
        super().__init__()
        self.g = g


class GptqLinear(torch.nn.Module):
    """y = x @ W.t(), W = (q - z) * s dequantized per group of g along K; q [N,K]."""

    def __init__(self, g, dtype=f16, int_sub=False, form="matmul_t", cast_first=False):
        super().__init__()
        self.g, self.dtype, self.int_sub, self.form = g, dtype, int_sub, form
        self.cast_first = cast_first

    def forward(self, x, q, s, z):
        w = dequant_nk(q, s, z, self.g, self.dtype, self.int_sub, self.cast_first)
        if self.form == "linear":
            return F.linear(x, w)
        return x @ w.t()


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    doc: str  # one-line description for the header
    module: torch.nn.Module
    make_args: Callable[[torch.Generator], list]  # -> list of torch tensors (forward args)
    extra_npz: Callable[[torch.nn.Module], dict] = field(default=lambda m: {})
    reference: bool = True  # False for model-size cases: no npz (it would be hundreds of MB)


CASES: list[Case] = []


def case(name, doc, extra_npz=None, reference=True):
    def deco(fn):
        module, make_args = fn()
        CASES.append(Case(name, doc, module, make_args, extra_npz or (lambda m: {}), reference))
        return fn

    return deco


def randint(gen, lo, hi, shape, dtype):
    """Uniform integers in [lo, hi] (inclusive)."""
    return torch.randint(lo, hi + 1, shape, generator=gen, dtype=torch.int64).to(dtype)


def uniform(gen, lo, hi, shape, dtype):
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def randn(gen, shape, dtype):
    return torch.randn(shape, generator=gen, dtype=torch.float32).to(dtype)


def gptq_args(x_shape, N, K, g, qmax, scale, storage=torch.uint8):
    """(x, q, s, z) of an asymmetric GPTQ linear: q, z in [0, qmax], s in `scale`=(lo, hi)."""
    G = K // g

    def args(gen):
        return [
            randn(gen, x_shape, f16),
            randint(gen, 0, qmax, (N, K), storage),
            uniform(gen, scale[0], scale[1], (N, G), f16),
            randint(gen, 0, qmax, (N, G), storage),
        ]

    return args


@case("gptq_uint4_g128", "GptqLinear(g=128, f16): asymmetric uint4 in uint8 [N,K], (float(q)-float(z))*s, x @ W.t()")
def _():
    M, K, N, g = 4, 256, 128, 128
    return GptqLinear(g, f16, int_sub=False, form="matmul_t"), gptq_args((M, K), N, K, g, 15, (0.005, 0.02))


@case("gptq_int8storage_w4_g64", "GptqLinear(g=64, f16, int_sub): uint4 values in int8 [N,K], "
      "float(int32(q)-int32(z))*s, F.linear")
def _():
    M, K, N, g = 4, 256, 64, 64
    return GptqLinear(g, f16, int_sub=True, form="linear"), gptq_args((M, K), N, K, g, 15, (0.005, 0.02), torch.int8)


class AwqRescale(Grouped):
    """AWQ/BitBLAS 'rescale': W = q*s - zs (zs = z*s precomputed, float). q stored [K,N]."""

    def forward(self, x, q, s, zs):
        K, N = q.shape
        G = K // self.g
        w = q.reshape(G, self.g, N).to(x.dtype) * s.unsqueeze(1) - zs.unsqueeze(1)
        return torch.matmul(x, w.reshape(K, N))


@case("awq_rescale_g128", "AwqRescale(g=128): uint4 in uint8 [K,N], W = float(q)*s[G,1,N] - zs[G,1,N], "
      "torch.matmul(x, W)")
def _():
    M, K, N, g = 4, 256, 128, 128
    G = K // g

    def args(gen):
        s = uniform(gen, 0.005, 0.02, (G, N), f16)
        z = randint(gen, 0, 15, (G, N), torch.float32)
        return [
            randn(gen, (M, K), f16),
            randint(gen, 0, 15, (K, N), torch.uint8),
            s,
            (z * s.float()).to(f16),  # zs = z * s, rounded to f16
        ]

    return AwqRescale(g), args


class SymmetricKN(Grouped):
    """Symmetric signed int4 (int8 storage) weight stored [K,N], scales [G,N], f32, x @ W."""

    def forward(self, x, q, s):
        K, N = q.shape
        G = K // self.g
        w = q.to(torch.float32).reshape(G, self.g, N) * s.reshape(G, 1, N)
        return x @ w.reshape(K, N)


@case("symmetric_kn_f32_g32", "SymmetricKN(g=32): int4 [-8,7] in int8 [K,N], W = float(q)*s[G,1,N], f32, x @ W")
def _():
    M, K, N, g = 4, 256, 64, 32
    G = K // g

    def args(gen):
        return [
            randn(gen, (M, K), f32),
            randint(gen, -8, 7, (K, N), torch.int8),
            uniform(gen, 0.005, 0.02, (G, N), f32),
        ]

    return SymmetricKN(g), args


class PerChannelInt8(torch.nn.Module):
    """Per-output-channel symmetric int8 (g = K): W = bf16(q) * s[:,None], F.linear."""

    def forward(self, x, q, s):
        return F.linear(x, q.to(x.dtype) * s.unsqueeze(1))


@case("perchannel_int8_bf16", "PerChannelInt8: int8 [-127,127] [N,K], per-channel scale s[N] (g=K), bf16, F.linear")
def _():
    M, K, N = 4, 256, 64

    def args(gen):
        return [
            randn(gen, (M, K), bf16),
            randint(gen, -127, 127, (N, K), torch.int8),
            uniform(gen, 0.0005, 0.002, (N,), bf16),
        ]

    return PerChannelInt8(), args


@case("act3d_uint4_g128", "GptqLinear(g=128, f16) with 3-D activations x[B,S,K], F.linear")
def _():
    B, S, K, N, g = 2, 4, 256, 64, 128
    return GptqLinear(g, f16, int_sub=False, form="linear"), gptq_args((B, S, K), N, K, g, 15, (0.005, 0.02))


class GatedMLP(Grouped):
    """LLaMA MLP: down(silu(gate(x)) * up(x)), each projection GPTQ uint4 asymmetric g=128."""

    def forward(self, x, qg, sg, zg, qu, su, zu, qd, sd, zd):
        wg = dequant_nk(qg, sg, zg, self.g, x.dtype)
        wu = dequant_nk(qu, su, zu, self.g, x.dtype)
        wd = dequant_nk(qd, sd, zd, self.g, x.dtype)
        h = F.silu(F.linear(x, wg)) * F.linear(x, wu)
        return F.linear(h, wd)


@case("gated_mlp_w4_g128", "GatedMLP(g=128): down(silu(gate(x))*up(x)), hidden 256 -> 384 -> 256, uint4 asym, f16")
def _():
    M, H, inter, g = 4, 256, 384, 128

    def proj(gen, N, K, smax):
        return [
            randint(gen, 0, 15, (N, K), torch.uint8),
            uniform(gen, smax / 4, smax, (N, K // g), f16),
            randint(gen, 0, 15, (N, K // g), torch.uint8),
        ]

    def args(gen):
        return ([randn(gen, (M, H), f16)] + proj(gen, inter, H, 0.02) + proj(gen, inter, H, 0.02)
                + proj(gen, H, inter, 0.02))

    return GatedMLP(g), args


@case("llama2_7b_mlp_w4_g128", "GatedMLP(g=128) at LLaMA-2-7B size: 16 tokens, hidden 4096 -> 11008 -> 4096, uint4 "
      "asym, f16",
      reference=False)
def _():
    M, H, inter, g = 16, 4096, 11008, 128

    def proj(gen, N, K):
        return [torch.zeros((N, K), dtype=torch.uint8), torch.full((N, K // g), 0.01, dtype=f16),
                torch.zeros((N, K // g), dtype=torch.uint8)]

    def args(gen):
        return [randn(gen, (M, H), f16)] + proj(gen, inter, H) + proj(gen, inter, H) + proj(gen, H, inter)

    return GatedMLP(g), args


class W4A8(torch.nn.Module):
    """W4A8 fake-quant (QServe/SmoothQuant simulation style): both sides dequantized to f16.

    x = f16(xq) * sx[M,1] (per token); W = f16(q)[N,G,g] * s[N,G,1] (symmetric int4, int8
    storage); y = F.linear(x, W).
    """

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, xq, sx, q, s):
        x = xq.to(torch.float16) * sx
        N, K = q.shape
        G = K // self.g
        w = (q.reshape(N, G, self.g).to(torch.float16) * s.reshape(N, G, 1)).reshape(N, K)
        return F.linear(x, w)


@case("w4a8_int8act", "W4A8(g=128): int8 activations * per-token sx, symmetric int4 (int8 storage) [N,K] * s[N,G], "
      "F.linear in f16")
def _():
    M, K, N, g = 8, 256, 64, 128
    G = K // g

    def args(gen):
        return [
            randint(gen, -127, 127, (M, K), torch.int8),
            uniform(gen, 0.005, 0.02, (M, 1), f16),
            randint(gen, -8, 7, (N, K), torch.int8),
            uniform(gen, 0.005, 0.02, (N, G), f16),
        ]

    return W4A8(g), args


class W4A8IntMM(torch.nn.Module):
    """Per-channel W4A8 with a true integer GEMM: torch._int_mm (i8 x i8 -> i32), then scales."""

    def forward(self, xq, sx, q, s):
        acc = torch._int_mm(xq, q.t())
        return acc.to(torch.float32) * sx * s


@case("w4a8_intmm_perchannel", "W4A8IntMM: torch._int_mm(xq i8[M,K], q.t()) -> i32, * sx[M,1] * s[N] (per channel), "
      "f32")
def _():
    M, K, N = 32, 256, 64  # _int_mm on CPU wants M > 16 and K, N multiples of 8

    def args(gen):
        return [
            randint(gen, -127, 127, (M, K), torch.int8),
            uniform(gen, 0.005, 0.02, (M, 1), f32),
            randint(gen, -8, 7, (N, K), torch.int8),
            uniform(gen, 0.005, 0.02, (N,), f32),
        ]

    return W4A8IntMM(), args


class W4A8GroupedEinsum(torch.nn.Module):
    """Grouped W4A8 written with integer per-group partial products (already the MixPE form):
    P[j,m,n] = einsum over k in group j of int32(xq)*int32(q); y = sum_j s[n,j] * P * sx[m]."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, xq, sx, q, s):
        M, K = xq.shape
        N = q.shape[0]
        G = K // self.g
        P = torch.einsum(
            "mgk,ngk->gmn",
            xq.reshape(M, G, self.g).to(torch.int32),
            q.reshape(N, G, self.g).to(torch.int32),
        )
        return (P.to(torch.float32) * s.t().unsqueeze(1)).sum(0) * sx


@case("w4a8_grouped_einsum", "W4A8GroupedEinsum(g=128): int32 per-group einsum (batch_matmul), then group scales, "
      "sum, per-token scale")
def _():
    M, K, N, g = 8, 256, 64, 128

    def args(gen):
        return [
            randint(gen, -127, 127, (M, K), torch.int8),
            uniform(gen, 0.005, 0.02, (M, 1), f32),
            randint(gen, -8, 7, (N, K), torch.int8),
            uniform(gen, 0.005, 0.02, (N, K // g), f32),
        ]

    return W4A8GroupedEinsum(g), args


@case("w2_g64", "GptqLinear(g=64, f16): asymmetric uint2 in uint8 [N,K], x @ W.t()")
def _():
    M, K, N, g = 4, 256, 64, 64
    return GptqLinear(g, f16), gptq_args((M, K), N, K, g, 3, (0.02, 0.08))


@case("w3_g128", "GptqLinear(g=128, f16, cast_first): asymmetric uint3 in uint8 [N,K], cast then reshape, x @ W.t()")
def _():
    M, K, N, g = 4, 256, 64, 128
    return GptqLinear(g, f16, cast_first=True), gptq_args((M, K), N, K, g, 7, (0.01, 0.04))


@case("g256_uint4", "GptqLinear(g=256, f16, cast_first): asymmetric uint4 in uint8 [N,K], K=512, F.linear")
def _():
    M, K, N, g = 4, 512, 64, 256
    return GptqLinear(g, f16, form="linear", cast_first=True), gptq_args((M, K), N, K, g, 15, (0.003, 0.012))


class ConstantWeights(torch.nn.Module):
    """Checkpoint-style module: q, s, z are registered buffers -> constants in the IR."""

    def __init__(self, g, N, K, seed):
        super().__init__()
        self.g = g
        gen = torch.Generator().manual_seed(seed)
        G = K // g
        self.register_buffer("qweight", randint(gen, 0, 15, (N, K), torch.uint8))
        self.register_buffer("scales", uniform(gen, 0.005, 0.02, (N, G), f16))
        self.register_buffer("qzeros", randint(gen, 0, 15, (N, G), torch.uint8))

    def forward(self, x):
        w = dequant_nk(self.qweight, self.scales, self.qzeros, self.g, x.dtype)
        return F.linear(x, w)


@case(
    "constant_weights_w4",
    "ConstantWeights(g=128): GptqLinear with q/s/z as module buffers (baked-in constants), F.linear",
    extra_npz=lambda m: {
        "const_qweight": m.qweight.numpy(),
        "const_scales": m.scales.numpy(),
        "const_qzeros": m.qzeros.numpy(),
    },
)
def _():
    M, K, N, g = 4, 256, 64, 128
    return ConstantWeights(g, N, K, seed=1234), lambda gen: [randn(gen, (M, K), f16)]


class LinearBias(GptqLinear):
    def forward(self, x, q, s, z, b):
        return F.linear(x, dequant_nk(q, s, z, self.g, x.dtype), b)


@case("linear_bias_uint4_g128", "LinearBias(g=128): GptqLinear + bias, F.linear(x, W, b), f16")
def _():
    M, K, N, g = 4, 256, 64, 128
    linear = gptq_args((M, K), N, K, g, 15, (0.005, 0.02))

    def args(gen):
        return linear(gen) + [randn(gen, (N,), f16)]  # the bias

    return LinearBias(g), args


class PackedUint4(Grouped):
    """Two uint4 per byte (low nibble = even k, high nibble = odd k), as packed checkpoints do."""

    def forward(self, x, qp, s, z):
        N, Kh = qp.shape
        lo = qp & 0xF
        hi = qp >> 4
        q = torch.stack([lo, hi], dim=-1).reshape(N, Kh * 2)
        return x @ dequant_nk(q, s, z, self.g, x.dtype).t()


@case("packed_uint4x2_g128", "PackedUint4(g=128): two uint4 nibbles per uint8 byte [N,K/2], unpack with &0xF / >>4, "
      "then GptqLinear")
def _():
    M, K, N, g = 4, 256, 64, 128
    G = K // g

    def args(gen):
        return [
            randn(gen, (M, K), f16),
            randint(gen, 0, 255, (N, K // 2), torch.uint8),
            uniform(gen, 0.005, 0.02, (N, G), f16),
            randint(gen, 0, 15, (N, G), torch.uint8),
        ]

    return PackedUint4(g), args


# ---- negative cases -------------------------------------------------------------------


class GroupAlongN(torch.nn.Module):
    """Groups along N (output dim), not K: s/z are [N/g, K]. Scale varies with k inside the
    reduction, so it cannot be factored out of the K sum."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, x, q, s, z):
        N, K = q.shape
        Gn = N // self.g
        w = (q.reshape(Gn, self.g, K).to(x.dtype) - z.reshape(Gn, 1, K).to(x.dtype)) * s.reshape(Gn, 1, K)
        return x @ w.reshape(N, K).t()


@case("neg_group_along_n", "NEGATIVE GroupAlongN(g=32): q [N,K], s/z [N/g, K] grouped along N (not the reduction dim)")
def _():
    M, K, N, g = 4, 256, 64, 32

    def args(gen):
        return [
            randn(gen, (M, K), f16),
            randint(gen, 0, 15, (N, K), torch.uint8),
            uniform(gen, 0.005, 0.02, (N // g, K), f16),
            randint(gen, 0, 15, (N // g, K), torch.uint8),
        ]

    return GroupAlongN(g), args


NF4_TABLE = [
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]


class NF4Lut(Grouped):
    """bitsandbytes-style NF4: W = LUT[q] * absmax per block of 64 (non-uniform; a gather)."""

    def __init__(self, g):
        super().__init__(g)
        self.register_buffer("lut", torch.tensor(NF4_TABLE, dtype=torch.float16))

    def forward(self, x, q, absmax):
        N, K = q.shape
        G = K // self.g
        w = self.lut[q.to(torch.int64)].reshape(N, G, self.g) * absmax.reshape(N, G, 1)
        return F.linear(x, w.reshape(N, K))


@case(
    "neg_nf4_lut",
    "NEGATIVE NF4Lut(g=64): W = LUT[q] * absmax (lookup-table dequant, NF4 table as a constant)",
    extra_npz=lambda m: {"const_lut": m.lut.numpy()},
)
def _():
    M, K, N, g = 4, 256, 64, 64

    def args(gen):
        return [
            randn(gen, (M, K), f16),
            randint(gen, 0, 15, (N, K), torch.uint8),
            uniform(gen, 0.02, 0.1, (N, K // g), f16),
        ]

    return NF4Lut(g), args


class FloatLinear(torch.nn.Module):
    def forward(self, x, w):
        return x @ w.t()


@case("neg_fp_weights", "NEGATIVE FloatLinear: plain f16 weights, no dequantization, x @ W.t()")
def _():
    M, K, N = 4, 256, 64
    return FloatLinear(), lambda gen: [randn(gen, (M, K), f16), randn(gen, (N, K), f16) * 0.05]


class WeightOnLeft(torch.nn.Module):
    """Dequantized W [N,K] grouped along K, but it is the *left* operand and contracts over N:
    y = W.t() @ h, i.e. y[k, m] = sum_n W[n,k] h[n,m].  The reduction runs over N, across which
    s/z vary, so grouping along K does not apply."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, h, q, s, z):
        return dequant_nk(q, s, z, self.g, h.dtype).t() @ h


@case("neg_reduce_over_n", "NEGATIVE WeightOnLeft(g=128): y = W.t() @ h with W [N,K] grouped along K; reduction over N")
def _():
    N, K, M, g = 64, 256, 4, 128

    def args(gen):
        return [
            randn(gen, (N, M), f16),
            randint(gen, 0, 15, (N, K), torch.uint8),
            uniform(gen, 0.005, 0.02, (N, K // g), f16),
            randint(gen, 0, 15, (N, K // g), torch.uint8),
        ]

    return WeightOnLeft(g), args


# ---- integer activations, act-order, ragged groups (issue #11) ------------------------


class W4A8Asym(Grouped):
    """W4A8 fake-quant with GPTQ asymmetric uint4 weights: x = f16(xq) * sx[M] (per token,
    1-D scale unsqueezed), W = (q - z) * s per group, x @ W.t()."""

    def forward(self, xq, sx, q, s, z):
        x = xq.to(torch.float16) * sx.unsqueeze(1)
        return x @ dequant_nk(q, s, z, self.g, torch.float16).t()


@case("w4a8_sitofp_pertoken", "W4A8Asym(g=64): int8 activations * per-token sx[M] (unsqueeze), asymmetric uint4 "
      "[N,K], x @ W.t(), f16")
def _():
    M, K, N, g = 6, 256, 48, 64

    def args(gen):
        return [
            randint(gen, -127, 127, (M, K), torch.int8),
            uniform(gen, 0.005, 0.02, (M,), f16),
            randint(gen, 0, 15, (N, K), torch.uint8),
            uniform(gen, 0.005, 0.02, (N, K // g), f16),
            randint(gen, 0, 15, (N, K // g), torch.uint8),
        ]

    return W4A8Asym(g), args


class W4A8PerTensor(Grouped):
    """W4A8 with a per-tensor activation scale (0-d tensor) and symmetric int4 [K,N] weights, f32."""

    def forward(self, xq, sx, q, s):
        x = xq.to(torch.float32) * sx
        K, N = q.shape
        G = K // self.g
        w = q.to(torch.float32).reshape(G, self.g, N) * s.reshape(G, 1, N)
        return x @ w.reshape(K, N)


@case("w4a8_sitofp_pertensor", "W4A8PerTensor(g=32): int8 activations * per-tensor sx (0-d), symmetric int4 [K,N] * "
      "s[G,N], x @ W, f32")
def _():
    M, K, N, g = 5, 128, 24, 32

    def args(gen):
        return [
            randint(gen, -127, 127, (M, K), torch.int8),
            uniform(gen, 0.005, 0.02, (), f32),
            randint(gen, -8, 7, (K, N), torch.int8),
            uniform(gen, 0.005, 0.02, (K // g, N), f32),
        ]

    return W4A8PerTensor(g), args


class W8A8IntMMConst(torch.nn.Module):
    """W8A8 with a true integer GEMM on constant int8 weights (a buffer):
    torch._int_mm(xq, q.t()) -> i32, then * sx[M,1] * s[N], f32."""

    def __init__(self, N, K, seed):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("qweight", randint(gen, -127, 127, (N, K), torch.int8))
        self.register_buffer("scales", uniform(gen, 0.0005, 0.002, (N,), f32))

    def forward(self, xq, sx):
        acc = torch._int_mm(xq, self.qweight.t())
        return acc.to(torch.float32) * sx * self.scales


@case(
    "w8a8_intmm_perchannel_scaled",
    "W8A8IntMMConst: torch._int_mm(xq i8[M,K], q.t()) with constant int8 q [-127,127], * sx[M,1] * s[N], f32",
    extra_npz=lambda m: {"const_qweight": m.qweight.numpy(), "const_scales": m.scales.numpy()},
)
def _():
    M, K, N = 24, 128, 32  # _int_mm on CPU wants M > 16 and K, N multiples of 8

    def args(gen):
        return [randint(gen, -127, 127, (M, K), torch.int8), uniform(gen, 0.005, 0.02, (M, 1), f32)]

    return W8A8IntMMConst(N, K, seed=4321), args


class GptqActOrder(torch.nn.Module):
    """GPTQ with desc_act=True: a constant g_idx [K] maps each input channel k to its group,
    W[n,k] = (q[n,k] - z[n, g_idx[k]]) * s[n, g_idx[k]] (index_select, a gather), F.linear."""

    def __init__(self, g, K, seed):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        perm = torch.randperm(K, generator=gen)
        self.register_buffer("g_idx", (perm // g).to(torch.int64))

    def forward(self, x, q, s, z):
        zg, sg = z.index_select(1, self.g_idx), s.index_select(1, self.g_idx)
        w = (q.to(torch.float16) - zg.to(torch.float16)) * sg
        return F.linear(x, w)


@case("gptq_act_order", "GptqActOrder(g=64): uint4 [N,K], scales/zeros index_select'ed through a constant g_idx "
      "(desc_act=True), F.linear, f16",
      extra_npz=lambda m: {"const_g_idx": m.g_idx.numpy()})
def _():
    M, K, N, g = 4, 256, 32, 64
    return GptqActOrder(g, K, seed=77), gptq_args((M, K), N, K, g, 15, (0.005, 0.02))


class RaggedGroup(Grouped):
    """Groups of g that do not divide K: the last group is partial. Scales/zeros [N, ceil(K/g)]
    are repeated g times along K and cut to K (repeat_interleave + slice)."""

    def forward(self, x, q, s, z):
        K = q.shape[1]
        s_k = s.repeat_interleave(self.g, dim=1)[:, :K]
        z_k = z.repeat_interleave(self.g, dim=1)[:, :K]
        return F.linear(x, (q.to(torch.float16) - z_k.to(torch.float16)) * s_k)


def ragged(module_class):
    """M=4, K=320, N=32 with groups of 128 (the last one partial): f16 x, uint4 q, [N,3] s/z."""
    M, K, N, g = 4, 320, 32, 128
    G = -(-K // g)

    def args(gen):
        return [
            randn(gen, (M, K), f16),
            randint(gen, 0, 15, (N, K), torch.uint8),
            uniform(gen, 0.005, 0.02, (N, G), f16),
            randint(gen, 0, 15, (N, G), torch.uint8),
        ]

    return module_class(g), args


@case("ragged_group", "RaggedGroup(g=128): K=320, scales/zeros [N,3] repeat_interleave(128)[:, :320], uint4, "
      "F.linear, f16")
def _():
    return ragged(RaggedGroup)


class RaggedGroupIndex(Grouped):
    """The ragged groups written with an index: s.index_select(1, arange(K) // g) (a gather over k)."""

    def forward(self, x, q, s, z):
        K = q.shape[1]
        idx = torch.arange(K) // self.g
        zk, sk = z.index_select(1, idx), s.index_select(1, idx)
        return F.linear(x, (q.to(torch.float16) - zk.to(torch.float16)) * sk)


@case("ragged_group_index", "RaggedGroupIndex(g=128): K=320, scales/zeros [N,3] index_select'ed at arange(K)//128, "
      "uint4, F.linear, f16")
def _():
    return ragged(RaggedGroupIndex)


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------


def to_numpy(t: torch.Tensor) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return t.to(torch.float32).numpy()  # exact; npz cannot store bfloat16
    return t.detach().numpy()


def sig(t: torch.Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')}{list(t.shape)}"


def generate(c: Case) -> None:
    from torch_mlir import fx
    from torch_mlir.compiler_utils import OutputType

    gen = torch.Generator().manual_seed(zlib.crc32(c.name.encode()))
    args = c.make_args(gen)
    c.module.eval()
    with torch.no_grad():
        out = c.module(*args) if c.reference else None
    outs = [] if out is None else out if isinstance(out, (tuple, list)) else [out]
    with torch.no_grad():
        m = fx.export_and_import(c.module, *args, output_type=OutputType.LINALG_ON_TENSORS, func_name="main")
    text = str(m)
    header = [
        "// Generated by test/inputs/torch/generate.py -- do not edit; rerun the script.",
        f"// torch module: {type(c.module).__name__} (case '{c.name}')",
        f"// {c.doc}",
        f"// torch {torch.__version__}, torch-mlir {importlib.metadata.version('torch-mlir')}, "
        "fx.export_and_import(output_type=LINALG_ON_TENSORS)",
        "// forward args: " + ", ".join(f"arg{i}={sig(a)}" for i, a in enumerate(args)),
        "// results: " + ", ".join(f"result{i}={sig(o)}" for i, o in enumerate(outs)),
        f"// reference data: {c.name}.npz (arg0.., result0..; bf16 stored as float32)"
        if c.reference else "// no reference data (model-size case: cost estimation only)",
    ]
    with open(os.path.join(HERE, c.name + ".mlir"), "w") as f:
        f.write("\n".join(header) + "\n" + text.rstrip() + "\n")
    if not c.reference:
        print(f"wrote {c.name}.mlir ({len(text)} chars)", flush=True)
        return
    arrays = {f"arg{i}": to_numpy(a) for i, a in enumerate(args)}
    arrays.update({f"result{i}": to_numpy(o) for i, o in enumerate(outs)})
    arrays.update(c.extra_npz(c.module))
    np.savez_compressed(os.path.join(HERE, c.name + ".npz"), **arrays)
    print(f"wrote {c.name}.mlir ({len(text)} chars), {c.name}.npz", flush=True)


def check(name: str) -> None:
    path = os.path.join(HERE, name + ".mlir")
    r = subprocess.run([MLIR_OPT, path], capture_output=True, text=True)
    print(f"{name}: mlir-opt {'OK' if r.returncode == 0 else 'FAIL ' + r.stderr.strip()[:300]}")
    for label, cmd in (
        ("xdsl-opt (stock, no mixpe plugin)", [sys.executable, __file__, "--xdsl-stock", path]),
        ("xdsl-opt (with mixpe plugin)", ["xdsl-opt", path, "-o", os.devnull]),
    ):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0:
            print(f"{name}: {label} OK")
        else:
            lines = [ln for ln in r.stderr.splitlines() if ln.strip().startswith("|") or "Error" in ln]
            print(f"{name}: {label} FAIL " + " ".join(ln.strip(" |") for ln in lines)[:400])


def xdsl_stock(path: str) -> None:
    """Run xdsl-opt with only xDSL's own universe (no mixpe plugin)."""
    import importlib.metadata as md

    orig = md.entry_points

    def only_xdsl(**kw):
        eps = orig(**kw)
        if kw.get("group") == "xdsl.universe":
            return md.EntryPoints([e for e in eps if e.name == "xdsl"])
        return eps

    md.entry_points = only_xdsl
    from xdsl.tools.xdsl_opt import main

    sys.argv = ["xdsl-opt", path, "-o", os.devnull]
    main()


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["--xdsl-stock"]:
        xdsl_stock(argv[1])
        sys.exit(0)
    do_check = "--check" in argv
    names = [a for a in argv if not a.startswith("--")]
    known = {c.name for c in CASES}
    for n in names:
        if n not in known:
            sys.exit(f"unknown case {n}; known: {sorted(known)}")
    todo = [c for c in CASES if not names or c.name in names]
    torch.manual_seed(0)
    if "--check-only" not in argv:
        for c in todo:
            generate(c)
    if do_check or "--check-only" in argv:
        for c in todo:
            check(c.name)

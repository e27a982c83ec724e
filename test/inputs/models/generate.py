#!/usr/bin/env python3
"""Generate torch-mlir exports of small, real quantized-model pieces.

Usage:  python test/inputs/models/generate.py [NAME...]     (no NAME: every case)

For every case NAME this writes, next to this script:
  NAME.mlir  the module exported by torch_mlir.fx.export_and_import(...,
             output_type=LINALG_ON_TENSORS), with a `//` header naming it;
  NAME.npz   inputs arg0..argN (function signature order), torch's outputs
             result0..resultM; NAME.ref.npz: (where meaningful) result0..resultM of a float64 run
             computed by the same module in float64 with the same quantized weights.
bf16 tensors are stored as float32 (exact). Everything is seeded: deterministic.

The quantized projections are written the way GPTQ/AWQ model code writes them:
integer weights in a registered uint8/int8 buffer [N, K] (HF Linear layout), per-group
scales and zero points [N, K/g], dequantized in forward with a reshape to [N, G, g].
"""
import copy
import warnings
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_mlir import fx
from torch_mlir.compiler_utils import OutputType

HERE = os.path.dirname(os.path.abspath(__file__))
F16, BF16, F32, F64 = torch.float16, torch.bfloat16, torch.float32, torch.float64
LOW = (F16, BF16)


# --------------------------------------------------------------------------- quantization
def quantize_groups(w, bits, g, *, zp_lo=None):
    """Asymmetric min/max per-group quantization of w [N, K] (float32).

    Returns q uint8 [N, K], scales float32 [N, G], zeros uint8 [N, G], G = ceil(K/g).
    The last group may be ragged when g does not divide K.
    """
    n, k = w.shape
    G = math.ceil(k / g)
    qmax = 2**bits - 1
    q = torch.empty(n, k, dtype=torch.uint8)
    s = torch.empty(n, G)
    z = torch.empty(n, G, dtype=torch.uint8)
    for j in range(G):
        blk = w[:, j * g:(j + 1) * g]
        lo = blk.min(dim=1).values.clamp(max=0)
        hi = blk.max(dim=1).values.clamp(min=0)
        sc = ((hi - lo) / qmax).clamp(min=1e-6)
        zp = torch.round(-lo / sc).clamp(0, qmax)
        q[:, j * g:(j + 1) * g] = torch.clamp(torch.round(blk / sc[:, None]) + zp[:, None], 0, qmax).to(torch.uint8)
        s[:, j] = sc
        z[:, j] = zp.to(torch.uint8)
    return q, s, z


class QLinear(nn.Module):
    """GPTQ/AWQ-style group-quantized linear (HF layout [out, in]).

    style: "linear" -> F.linear(x, w); "matmul" -> x @ w.t()
    """

    def __init__(self, k, n, *, bits=4, group=32, dtype=F32, seed=0, style="linear", bias=False,
                 wlo=-1.0, whi=1.0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        w = (torch.rand(n, k, generator=gen) * (whi - wlo) + wlo) / math.sqrt(k)
        q, s, z = quantize_groups(w, bits, group)
        self.k, self.n, self.g, self.G = k, n, group, k // group
        assert k % group == 0
        self.register_buffer("qweight", q)
        self.register_buffer("scales", s.to(dtype))
        self.register_buffer("qzeros", z)
        if bias:
            self.register_buffer("bias", (torch.randn(n, generator=gen) * 0.1).to(dtype))
        else:
            self.bias = None
        self.style = style

    def dequant(self):
        dt = self.scales.dtype
        q = self.qweight.reshape(self.n, self.G, self.g).to(dt)
        z = self.qzeros.to(dt).unsqueeze(-1)
        s = self.scales.unsqueeze(-1)
        return ((q - z) * s).reshape(self.n, self.k)

    def forward(self, x):
        w = self.dequant()
        if self.style == "linear":
            return F.linear(x, w, self.bias)
        y = x @ w.t()
        return y if self.bias is None else y + self.bias


# --------------------------------------------------------------------------- building blocks
class RMSNorm(nn.Module):
    def __init__(self, d, dtype, seed, eps=1e-6, square="pow"):
        super().__init__()
        self.square = square
        gen = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter((1.0 + 0.1 * torch.randn(d, generator=gen)).to(dtype), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        in_dt = x.dtype
        h = x.to(F32) if in_dt in LOW else x
        var = (h.pow(2) if self.square == "pow" else h * h).mean(-1, keepdim=True)
        h = h * torch.rsqrt(var + self.eps)
        return self.weight * h.to(in_dt)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Rotary(nn.Module):
    """HF LLaMA rotary embedding: cos/sin computed in forward from inv_freq."""

    def __init__(self, head_dim, base=10000.0):
        super().__init__()
        inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv)

    def forward(self, x, seq):
        dt = self.inv_freq.dtype  # f32, or f64 in the reference
        t = torch.arange(seq, dtype=dt)
        freqs = torch.outer(t, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def apply_rotary(q, k, cos, sin):
    cos = cos[None, None]
    sin = sin[None, None]
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class LlamaDecoderLayer(nn.Module):
    def __init__(self, dtype, hidden=128, heads=4, inter=256, bits=4, group=32, seed=0):
        super().__init__()
        self.h, self.hd = heads, hidden // heads
        self.input_layernorm = RMSNorm(hidden, dtype, seed + 1)
        self.post_attention_layernorm = RMSNorm(hidden, dtype, seed + 2)
        mk = lambda k, n, s: QLinear(k, n, bits=bits, group=group, dtype=dtype, seed=seed + s)
        self.q_proj = mk(hidden, hidden, 10)
        self.k_proj = mk(hidden, hidden, 11)
        self.v_proj = mk(hidden, hidden, 12)
        self.o_proj = mk(hidden, hidden, 13)
        self.gate_proj = mk(hidden, inter, 14)
        self.up_proj = mk(hidden, inter, 15)
        self.down_proj = mk(inter, hidden, 16)
        self.rotary = Rotary(self.hd)

    def forward(self, x):
        b, s, d = x.shape
        res = x
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(b, s, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(b, s, self.h, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(b, s, self.h, self.hd).transpose(1, 2)
        cos, sin = self.rotary(v, s)
        q, k = apply_rotary(q, k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        a = a.transpose(1, 2).reshape(b, s, d)
        h = res + self.o_proj(a)
        res = h
        h = self.post_attention_layernorm(h)
        h = self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return res + h


class GatedMLPRouter(nn.Module):
    """MoE-router-ish: quantized router -> softmax -> topk / argmax / max; gated MLP."""

    def __init__(self, dtype=F32, hidden=128, inter=256, experts=8, group=32):
        super().__init__()
        self.router = QLinear(hidden, experts, group=group, dtype=dtype, seed=20)
        self.gate_proj = QLinear(hidden, inter, group=group, dtype=dtype, seed=21)
        self.up_proj = QLinear(hidden, inter, group=group, dtype=dtype, seed=22, style="matmul")
        self.down_proj = QLinear(inter, hidden, group=group, dtype=dtype, seed=23)

    def forward(self, x):
        logits = self.router(x)
        probs = torch.softmax(logits, dim=-1)
        top_v, top_i = torch.topk(probs, 2, dim=-1)
        best = torch.argmax(logits, dim=-1)
        mx_v, mx_i = torch.max(probs, dim=-1)
        y = self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
        y = y * top_v.sum(dim=-1, keepdim=True)
        return y, top_v, top_i, best, mx_v, mx_i


class RotaryQK(nn.Module):
    def __init__(self, dtype=F16, hidden=128, heads=4, group=32):
        super().__init__()
        self.h, self.hd = heads, hidden // heads
        self.q_proj = QLinear(hidden, hidden, group=group, dtype=dtype, seed=30)
        self.k_proj = QLinear(hidden, hidden, group=group, dtype=dtype, seed=31, style="matmul")
        self.rotary = Rotary(self.hd)

    def forward(self, x):
        b, s, d = x.shape
        q = self.q_proj(x).view(b, s, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.h, self.hd).transpose(1, 2)
        cos, sin = self.rotary(q, s)
        return apply_rotary(q, k, cos, sin)


class ViTBlock(nn.Module):
    def __init__(self, dtype=F32, hidden=128, heads=4, inter=256, bits=8, group=64):
        super().__init__()
        self.h, self.hd = heads, hidden // heads
        gen = torch.Generator().manual_seed(40)
        self.norm1 = nn.LayerNorm(hidden, eps=1e-6)
        self.norm2 = nn.LayerNorm(hidden, eps=1e-6)
        for ln in (self.norm1, self.norm2):
            ln.weight.data = 1 + 0.1 * torch.randn(hidden, generator=gen)
            ln.bias.data = 0.1 * torch.randn(hidden, generator=gen)
            ln.requires_grad_(False)
        mk = lambda k, n, s: QLinear(k, n, bits=bits, group=group, dtype=dtype, seed=s, bias=True)
        self.qkv = mk(hidden, 3 * hidden, 41)
        self.proj = mk(hidden, hidden, 42)
        self.fc1 = mk(hidden, inter, 43)
        self.fc2 = mk(inter, hidden, 44)
        self.to(dtype)

    def forward(self, x):
        b, s, d = x.shape
        h = self.norm1(x)
        qkv = self.qkv(h).reshape(b, s, 3, self.h, self.hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        a = F.scaled_dot_product_attention(q, k, v)
        a = a.transpose(1, 2).reshape(b, s, d)
        x = x + self.proj(a)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class W8ZpHigh(nn.Module):
    """8-bit unsigned weights in uint8, zero points >= 128 (mostly-negative weights)."""

    def __init__(self, dtype=F16, k=128, n=64, group=64):
        super().__init__()
        self.lin = QLinear(k, n, bits=8, group=group, dtype=dtype, seed=50, wlo=-1.0, whi=0.25)
        assert int(self.lin.qzeros.min()) >= 128, self.lin.qzeros.min()
        assert int(self.lin.qweight.max()) >= 128

    def forward(self, x):
        return self.lin(x)


class W4A8SitofpAct(nn.Module):
    """int8 activations with a per-token scale, dequantized in forward; 4-bit weight."""

    def __init__(self, k=128, n=64, group=32):
        super().__init__()
        self.lin = QLinear(k, n, group=group, dtype=F32, seed=60)

    def forward(self, x_i8, s_x):
        x = x_i8.float() * s_x
        return self.lin(x)


class W4A8IntMatmul(nn.Module):
    """i8 x i8 -> i32 matmul (weights int8 holding signed 4-bit values), per-channel scales."""

    def __init__(self, k=128, n=64, use_int_mm=False):
        super().__init__()
        gen = torch.Generator().manual_seed(61)
        self.register_buffer("w_i8", torch.randint(-8, 8, (n, k), generator=gen, dtype=torch.int8))
        self.register_buffer("s_w", torch.rand(n, generator=gen) * 0.01 + 0.001)
        self.use_int_mm = use_int_mm

    def forward(self, x_i8, s_x):
        if self.use_int_mm:
            acc = torch._int_mm(x_i8, self.w_i8.t())
        else:
            acc = x_i8.int() @ self.w_i8.int().t()
        return acc.float() * s_x * self.s_w


class GptqActOrder(nn.Module):
    """GPTQ desc_act: g_idx maps each input channel to its (permuted) group."""

    def __init__(self, dtype=F16, k=128, n=64, group=32):
        super().__init__()
        gen = torch.Generator().manual_seed(70)
        perm = torch.randperm(k, generator=gen)
        g_idx = (torch.arange(k) // group)[perm].to(torch.int32)
        w = (torch.rand(n, k, generator=gen) * 2 - 1) / math.sqrt(k)
        G = k // group
        q = torch.empty(n, k, dtype=torch.uint8)
        s = torch.empty(n, G)
        z = torch.empty(n, G, dtype=torch.uint8)
        for j in range(G):
            cols = (g_idx == j).nonzero().flatten()
            qq, ss, zz = quantize_groups(w[:, cols], 4, len(cols))
            q[:, cols] = qq
            s[:, j] = ss[:, 0]
            z[:, j] = zz[:, 0]
        self.register_buffer("qweight", q)
        self.register_buffer("scales", s.to(dtype))
        self.register_buffer("qzeros", z)
        self.register_buffer("g_idx", g_idx)

    def forward(self, x):
        dt = self.scales.dtype
        gi = self.g_idx.long()
        w = (self.qweight.to(dt) - self.qzeros[:, gi].to(dt)) * self.scales[:, gi]
        return torch.matmul(x, w.t())


class GroupRagged(nn.Module):
    """K = 96, g = 64: the last group is ragged (32 wide).

    style "pad": zero-pad K to G*g, reshape [N, G, g], dequant, slice back to K.
    style "repeat": expand scales/zeros with repeat_interleave(g) and slice to K.
    """

    def __init__(self, style, dtype=F32, k=96, n=64, group=64):
        super().__init__()
        gen = torch.Generator().manual_seed(80)
        w = (torch.rand(n, k, generator=gen) * 2 - 1) / math.sqrt(k)
        q, s, z = quantize_groups(w, 4, group)
        self.k, self.n, self.g, self.G = k, n, group, s.shape[1]
        self.register_buffer("qweight", q)
        self.register_buffer("scales", s.to(dtype))
        self.register_buffer("qzeros", z)
        self.style = style

    def forward(self, x):
        dt = self.scales.dtype
        if self.style == "pad":
            q = F.pad(self.qweight.to(dt), (0, self.G * self.g - self.k))
            q = q.reshape(self.n, self.G, self.g)
            w = (q - self.qzeros.to(dt).unsqueeze(-1)) * self.scales.unsqueeze(-1)
            w = w.reshape(self.n, self.G * self.g)[:, : self.k]
        else:
            s = self.scales.repeat_interleave(self.g, dim=1)[:, : self.k]
            z = self.qzeros.to(dt).repeat_interleave(self.g, dim=1)[:, : self.k]
            w = (self.qweight.to(dt) - z) * s
        return F.linear(x, w)


class I4F16Acc(nn.Module):
    """Plain f16 x f16 matmul with a 4-bit dequantized weight (torch mm in f16)."""

    def __init__(self, k=128, n=64, group=32):
        super().__init__()
        self.lin = QLinear(k, n, group=group, dtype=F16, seed=90, style="matmul")

    def forward(self, x):
        return torch.mm(x, self.lin.dequant().t())


class LlamaMLPBlock(nn.Module):
    """The MLP half of a LLaMA layer (no attention): RMSNorm, gate/up/down W4, residual."""

    def __init__(self, dtype, hidden=128, inter=256, group=32, square="pow"):
        super().__init__()
        self.norm = RMSNorm(hidden, dtype, 3, square=square)
        mk = lambda k, n, s: QLinear(k, n, group=group, dtype=dtype, seed=s)
        self.gate_proj, self.up_proj, self.down_proj = (
            mk(hidden, inter, 14), mk(hidden, inter, 15), mk(inter, hidden, 16))

    def forward(self, x):
        h = self.norm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class RouterSoftmaxArgmax(nn.Module):
    """Router without topk: softmax + argmax + max(dim) (no tm_tensor.sort)."""

    def __init__(self, dtype=F32, hidden=128, experts=8, group=32):
        super().__init__()
        self.router = QLinear(hidden, experts, group=group, dtype=dtype, seed=20)

    def forward(self, x):
        logits = self.router(x)
        probs = torch.softmax(logits, dim=-1)
        mx_v, mx_i = torch.max(probs, dim=-1)
        return probs, mx_v, mx_i, torch.argmax(logits, dim=-1)


class RotaryCached(nn.Module):
    """RoPE with precomputed cos/sin buffers [S, D] (no arange in forward)."""

    def __init__(self, dtype=F16, hidden=128, heads=4, seq=16, group=32):
        super().__init__()
        self.h, self.hd = heads, hidden // heads
        self.q_proj = QLinear(hidden, hidden, group=group, dtype=dtype, seed=30)
        self.k_proj = QLinear(hidden, hidden, group=group, dtype=dtype, seed=31)
        inv = 1.0 / (10000.0 ** (torch.arange(0, self.hd, 2, dtype=F64) / self.hd))
        emb = torch.outer(torch.arange(seq, dtype=F64), inv)
        emb = torch.cat((emb, emb), -1)
        self.register_buffer("cos_cached", emb.cos().to(dtype))
        self.register_buffer("sin_cached", emb.sin().to(dtype))

    def forward(self, x):
        b, s, d = x.shape
        q = self.q_proj(x).view(b, s, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.h, self.hd).transpose(1, 2)
        return apply_rotary(q, k, self.cos_cached, self.sin_cached)


class ViTMLP(nn.Module):
    """ViT MLP half: LayerNorm, fc1 (W8 + bias), GELU, fc2 (W8 + bias), residual."""

    def __init__(self, dtype=F32, hidden=128, inter=256, bits=8, group=64):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, eps=1e-6)
        gen = torch.Generator().manual_seed(45)
        self.norm.weight.data = 1 + 0.1 * torch.randn(hidden, generator=gen)
        self.norm.bias.data = 0.1 * torch.randn(hidden, generator=gen)
        self.norm.requires_grad_(False)
        self.fc1 = QLinear(hidden, inter, bits=bits, group=group, dtype=dtype, seed=43, bias=True)
        self.fc2 = QLinear(inter, hidden, bits=bits, group=group, dtype=dtype, seed=44, bias=True)
        self.to(dtype)

    def forward(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class W4SymInt8(nn.Module):
    """Symmetric signed 4-bit in an int8 buffer ([-8, 7]), no zero points: w = q * s."""

    def __init__(self, dtype=F16, k=128, n=64, group=32):
        super().__init__()
        gen = torch.Generator().manual_seed(95)
        self.k, self.n, self.g, self.G = k, n, group, k // group
        self.register_buffer("qweight", torch.randint(-8, 8, (n, k), generator=gen, dtype=torch.int8))
        self.register_buffer("scales", (torch.rand(n, k // group, generator=gen) * 0.02 + 0.002).to(dtype))

    def forward(self, x):
        dt = self.scales.dtype
        w = self.qweight.reshape(self.n, self.G, self.g).to(dt) * self.scales.unsqueeze(-1)
        return F.linear(x, w.reshape(self.n, self.k))


class AwqKN(nn.Module):
    """AWQ-style [K, N] weight storage (unpacked): w[K, N] = (q - z[k//g]) * s[k//g]; x @ w."""

    def __init__(self, dtype=F16, k=128, n=64, group=64, bits=4):
        super().__init__()
        gen = torch.Generator().manual_seed(96)
        w = (torch.rand(n, k, generator=gen) * 2 - 1) / math.sqrt(k)
        q, s, z = quantize_groups(w, bits, group)
        self.k, self.n, self.g, self.G = k, n, group, k // group
        self.register_buffer("qweight", q.t().contiguous())       # [K, N]
        self.register_buffer("scales", s.t().contiguous().to(dtype))  # [G, N]
        self.register_buffer("qzeros", z.t().contiguous())        # [G, N]

    def forward(self, x):
        dt = self.scales.dtype
        q = self.qweight.reshape(self.G, self.g, self.n).to(dt)
        w = (q - self.qzeros.to(dt)[:, None, :]) * self.scales[:, None, :]
        return torch.matmul(x, w.reshape(self.k, self.n))


class Probe(nn.Module):
    """One quantized linear whose dequantization is written in a given (real-world) style.

    q uint8 [N, K] holds `bits`-bit values, z uint8 [N, G] zero points, s [N, G] scales.
    """

    def __init__(self, style, dtype=F16, k=128, n=64, group=32, bits=4, seed=130, wscale=1.0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        w = (torch.rand(n, k, generator=gen) * 2 - 1) / math.sqrt(k) * wscale
        q, s, z = quantize_groups(w, bits, group)
        self.k, self.n, self.g, self.G, self.style = k, n, group, k // group, style
        self.register_buffer("qweight", q)
        self.register_buffer("scales", s.to(dtype))
        self.register_buffer("qzeros", z)
        # HQQ-style float (non-integer) zero points
        self.register_buffer("fzeros", (z.float() + torch.rand(n, self.G, generator=gen) - 0.5).to(dtype))
        # per-channel (g = K) data
        qc, sc, zc = quantize_groups(w, bits, k)
        self.register_buffer("qc", qc)
        self.register_buffer("sc", sc[:, 0].to(dtype))
        self.register_buffer("zc", zc[:, 0])

    def forward(self, x):
        dt = self.scales.dtype
        n, k, g, G = self.n, self.k, self.g, self.G
        st = self.style
        if st == "hqq_float_zero":      # w = (q - z_float) * s
            w = (self.qweight.reshape(n, G, g).to(dt) - self.fzeros[..., None]) * self.scales[..., None]
        elif st == "awq_scaled_zeros":  # w = q * s - (z * s)  (precomputed scaled zeros)
            sz = (self.qzeros.to(dt) * self.scales)[..., None]
            w = self.qweight.reshape(n, G, g).to(dt) * self.scales[..., None] - sz
        elif st == "int_sub_i32":       # integer subtraction first, then convert
            d = self.qweight.reshape(n, G, g).to(torch.int32) - self.qzeros[..., None].to(torch.int32)
            w = d.to(dt) * self.scales[..., None]
        elif st == "uint8_sub_wrap":    # (q - z) in uint8: wraps mod 256 in torch when q < z
            d = self.qweight.reshape(n, G, g) - self.qzeros[..., None]
            w = d.to(dt) * self.scales[..., None]
        elif st == "const_zp8":         # GPTQ sym: constant zero point 8
            w = (self.qweight.reshape(n, G, g).to(dt) - 8) * self.scales[..., None]
        elif st == "per_channel":       # g = K, no reshape
            w = (self.qc.to(dt) - self.zc.to(dt)[:, None]) * self.sc[:, None]
            return F.linear(x, w)
        elif st == "scale_after_matmul":  # per-channel, scale applied to the matmul result
            w = self.qc.to(dt) - self.zc.to(dt)[:, None]
            return F.linear(x, w) * self.sc
        elif st == "strided_groups":    # column k belongs to group k % G (reshape [N, g, G])
            w = (self.qweight.reshape(n, g, G).to(dt) - self.qzeros[:, None, :].to(dt)) * self.scales[:, None, :]
        elif st == "groups_along_n":    # scales vary along N within a column block: [N/g', g', K]
            gn = 16
            s2 = self.scales.reshape(n // gn, gn, G)[:, 0, :].repeat_interleave(1, 0)  # [N/gn, G]
            s2 = s2[:, None, :, None]                                             # [N/gn,1,G,1]
            w = self.qweight.reshape(n // gn, gn, G, g).to(dt) * s2
        elif st == "fused_qkv_cat":     # three dequantized blocks concatenated along N
            parts = [((self.qweight[i * 16:(i + 1) * 16].reshape(16, G, g).to(dt)
                       - self.qzeros[i * 16:(i + 1) * 16, :, None].to(dt))
                      * self.scales[i * 16:(i + 1) * 16, :, None]).reshape(16, k) for i in range(3)]
            return F.linear(x, torch.cat(parts, 0))
        elif st == "batched_3d_bias":
            w = (self.qweight.reshape(n, G, g).to(dt) - self.qzeros[..., None].to(dt)) * self.scales[..., None]
            return F.linear(x, w.reshape(n, k), self.scales[:, 0] * 10)
        elif st == "weight_left":       # y = (W @ x^T)^T
            w = (self.qweight.reshape(n, G, g).to(dt) - self.qzeros[..., None].to(dt)) * self.scales[..., None]
            return (w.reshape(n, k) @ x.t()).t()
        elif st == "einsum":
            w = (self.qweight.reshape(n, G, g).to(dt) - self.qzeros[..., None].to(dt)) * self.scales[..., None]
            return torch.einsum("mk,nk->mn", x, w.reshape(n, k))
        elif st == "zp_per_channel":    # one zero point per row, scales per group
            w = (self.qweight.reshape(n, G, g).to(dt) - self.zc.to(dt)[:, None, None]) * self.scales[..., None]
        elif st == "scale_left":        # s * (q - z)
            w = self.scales[..., None] * (self.qweight.reshape(n, G, g).to(dt) - self.qzeros[..., None].to(dt))
        elif st == "f32_dequant_then_half":  # dequantize in f32, cast the weight to f16
            w = ((self.qweight.reshape(n, G, g).float() - self.qzeros[..., None].float())
                 * self.scales[..., None].float()).to(dt)
        elif st == "tied":              # the same dequantized weight used by two matmuls
            w = ((self.qweight.reshape(n, G, g).to(dt) - self.qzeros[..., None].to(dt))
                 * self.scales[..., None]).reshape(n, k)
            return F.linear(x, w), F.linear(x * 2 + 1, w)
        else:
            raise ValueError(st)
        return F.linear(x, w.reshape(n, k))


class W8Int8Signed(nn.Module):
    """8-bit signed weights in int8 [-128, 127] with signed int8 zero points, f16."""

    def __init__(self, k=128, n=64, group=64):
        super().__init__()
        gen = torch.Generator().manual_seed(150)
        self.k, self.n, self.g, self.G = k, n, group, k // group
        self.register_buffer("qweight", torch.randint(-128, 128, (n, k), generator=gen, dtype=torch.int8))
        self.register_buffer("qzeros", torch.randint(-20, 21, (n, k // group), generator=gen, dtype=torch.int8))
        self.register_buffer("scales", (torch.rand(n, k // group, generator=gen) * 1e-3 + 1e-4).half())

    def forward(self, x):
        q = self.qweight.reshape(self.n, self.G, self.g).half()
        w = (q - self.qzeros[..., None].half()) * self.scales[..., None]
        return F.linear(x, w.reshape(self.n, self.k))


class ActCast(nn.Module):
    """Integer activations converted to float in forward, times a W4 g32 weight.

    style "u8_scaled": x = x_u8.float() * s_x (uint8 pixels/activations, values 0..255)
    style "u8_plain": x = x_u8.half() (no scale)
    style "i8_plain": x = x_i8.half() (no scale)
    style "u8_int_matmul": x_u8.int() @ w_i8.int().t() (i32 accumulate), then scaled
    """

    def __init__(self, style, k=128, n=64, group=32, neg_scales=False):
        super().__init__()
        dt = F32 if style in ("u8_scaled", "u8_int_matmul") else F16
        self.lin = QLinear(k, n, group=group, dtype=dt, seed=160)
        if neg_scales:
            sign = torch.where(torch.arange(n * (k // group)).reshape(n, k // group) % 3 == 0, -1.0, 1.0)
            self.lin.scales.mul_(sign.to(dt))
        gen = torch.Generator().manual_seed(161)
        self.register_buffer("w_i8", torch.randint(-8, 8, (n, k), generator=gen, dtype=torch.int8))
        self.style = style

    def forward(self, x_int, *rest):
        st = self.style
        if st == "u8_scaled":
            return self.lin(x_int.float() * rest[0])
        if st in ("u8_plain", "i8_plain"):
            return self.lin(x_int.to(self.lin.scales.dtype))
        if st == "float":
            return self.lin(x_int)
        acc = x_int.int() @ self.w_i8.int().t()
        return acc.float() * rest[0]


class SDPAOnly(nn.Module):
    """Attention core only: q, k, v [1, 4, 16, 32] as inputs, no weights."""

    def __init__(self, causal):
        super().__init__()
        self.causal = causal

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


# --------------------------------------------------------------------------- cases
def _x(shape, dtype, seed, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=gen) * scale).to(dtype)


def _xi8(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    x_i8 = torch.randint(-127, 128, shape, generator=gen, dtype=torch.int8)
    s_x = torch.rand(shape[0], 1, generator=gen) * 0.02 + 0.005
    return x_i8, s_x


def _xu8(shape, seed, scale=True):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8)
    x[0, :8] = 255
    if not scale:
        return (x,)
    return x, torch.rand(shape[0], 1, generator=gen) * 0.02 + 0.005


def _llama(dt):
    return lambda: (LlamaDecoderLayer(dt), (_x((1, 16, 128), dt, 100),))


CASES = {
    "llama_decoder_f32": ("LLaMA decoder layer, f32, 7 x W4 g32 projections, SDPA causal, RoPE",
                          _llama(F32), 4),
    "llama_decoder_f16": ("LLaMA decoder layer, f16, 7 x W4 g32 projections, SDPA causal, RoPE",
                          _llama(F16), 4),
    "llama_decoder_bf16": ("LLaMA decoder layer, bf16, 7 x W4 g32 projections, SDPA causal, RoPE",
                           _llama(BF16), 4),
    "sdpa_causal_f32": ("attention core only: F.scaled_dot_product_attention(q, k, v, is_causal=True), f32",
                        lambda: (SDPAOnly(True), tuple(_x((1, 4, 16, 32), F32, 180 + i) for i in range(3))), 4),
    "sdpa_noncausal_f32": ("attention core only: F.scaled_dot_product_attention(q, k, v), f32",
                           lambda: (SDPAOnly(False), tuple(_x((1, 4, 16, 32), F32, 180 + i) for i in range(3))), 4),
    "gated_mlp_softmax_topk": ("MoE-router-ish: W4 g32 router + softmax/topk/argmax/max, gated MLP, f32",
                               lambda: (GatedMLPRouter(), (_x((8, 128), F32, 101),)), 4),
    "rotary_embedding": ("RoPE applied to W4 g32 q/k projections, f16",
                         lambda: (RotaryQK(), (_x((1, 16, 128), F16, 102),)), 4),
    "vit_block": ("ViT encoder block: LayerNorm, SDPA, GELU MLP, W8 g64 linears with bias, f32",
                  lambda: (ViTBlock(), (_x((1, 17, 128), F32, 103),)), 8),
    "w8_uint8_zp_high": ("W8 g64 uint8 weights, zero points >= 128, f16 activations",
                         lambda: (W8ZpHigh(), (_x((8, 128), F16, 104),)), 8),
    "w4a8_sitofp_act": ("int8 activations * per-token f32 scale, W4 g32 weight, f32",
                        lambda: (W4A8SitofpAct(), _xi8((8, 128), 105)), 4),
    "w4a8_i8i8_i32": ("x_i8.int() @ w_i8.int().t() (i32), per-token/per-channel scales; w_i8 in [-8,7]",
                      lambda: (W4A8IntMatmul(), _xi8((8, 128), 106)), 4),
    "w4a8_int_mm": ("torch._int_mm(x_i8, w_i8.t()) (i32), per-token/per-channel scales; w_i8 in [-8,7]",
                    lambda: (W4A8IntMatmul(use_int_mm=True), _xi8((32, 128), 107)), 4),
    "gptq_act_order": ("GPTQ act-order: W4 g32 with permuted g_idx, scales[:, g_idx], f16",
                       lambda: (GptqActOrder(), (_x((8, 128), F16, 108),)), 4),
    "group_not_dividing_k_pad": ("W4, K=96, g=64 (ragged last group), pad+reshape style, f32",
                                 lambda: (GroupRagged("pad"), (_x((8, 96), F32, 109),)), 4),
    "group_not_dividing_k_repeat": ("W4, K=96, g=64 (ragged last group), repeat_interleave style, f32",
                                    lambda: (GroupRagged("repeat"), (_x((8, 96), F32, 110),)), 4),
    "i4_f16acc": ("W4 g32 dequantized in f16, plain f16 torch.mm (f16 result)",
                  lambda: (I4F16Acc(), (_x((8, 128), F16, 111),)), 4),
    "llama_mlp_f32": ("LLaMA MLP half (no attention): RMSNorm, W4 g32 gate/up/down, SiLU, residual, f32",
                      lambda: (LlamaMLPBlock(F32), (_x((1, 16, 128), F32, 120),)), 4),
    "llama_mlp_f16": ("LLaMA MLP half (no attention): RMSNorm, W4 g32 gate/up/down, SiLU, residual, f16",
                      lambda: (LlamaMLPBlock(F16), (_x((1, 16, 128), F16, 120),)), 4),
    "llama_mlp_bf16": ("LLaMA MLP half (no attention): RMSNorm, W4 g32 gate/up/down, SiLU, residual, bf16",
                       lambda: (LlamaMLPBlock(BF16), (_x((1, 16, 128), BF16, 120),)), 4),
    "llama_mlp_f16_xx": ("LLaMA MLP half, RMSNorm written with x * x (no pow), W4 g32, f16",
                         lambda: (LlamaMLPBlock(F16, square="mul"), (_x((1, 16, 128), F16, 120),)), 4),
    "router_softmax_argmax": ("W4 g32 router + softmax, max(dim) values/indices, argmax (no topk), f32",
                              lambda: (RouterSoftmaxArgmax(), (_x((8, 128), F32, 121),)), 4),
    "rotary_embedding_cached": ("RoPE with precomputed cos/sin buffers on W4 g32 q/k projections, f16",
                                lambda: (RotaryCached(), (_x((1, 16, 128), F16, 122),)), 4),
    "vit_mlp_w8": ("ViT MLP half: LayerNorm, W8 g64 fc1/fc2 with bias, GELU (erf), residual, f32",
                   lambda: (ViTMLP(), (_x((1, 17, 128), F32, 123),)), 8),
    "vit_mlp_w8_f16": ("ViT MLP half: LayerNorm, W8 g64 fc1/fc2 with bias, GELU (erf), residual, f16",
                       lambda: (ViTMLP(F16), (_x((1, 17, 128), F16, 123),)), 8),
    "w4_sym_int8": ("symmetric signed W4 g32 in an int8 buffer, no zero points, f16",
                    lambda: (W4SymInt8(), (_x((8, 128), F16, 124),)), 4),
    "awq_kn_layout": ("AWQ-style [K,N] storage, W4 g64, x @ w (no transpose), f16",
                      lambda: (AwqKN(), (_x((8, 128), F16, 125),)), 4),
    "decode_m1_bf16": ("single-token decode: W4 g32 linear, x [1, 1, 128], bf16",
                       lambda: (QLinear(128, 64, group=32, dtype=BF16, seed=126), (_x((1, 1, 128), BF16, 126),)), 4),
    "w2_g16_f16": ("2-bit g16 linear, f16",
                   lambda: (QLinear(128, 64, bits=2, group=16, dtype=F16, seed=127), (_x((8, 128), F16, 127),)), 2),
    "probe_hqq_float_zero": ("W4 g32, HQQ-style non-integer float zero points (q - z_f) * s, f16",
                             lambda: (Probe("hqq_float_zero"), (_x((8, 128), F16, 131),)), 4),
    "probe_awq_scaled_zeros": ("W4 g32, w = q*s - (z*s) (scaled zeros), f16",
                               lambda: (Probe("awq_scaled_zeros"), (_x((8, 128), F16, 132),)), 4),
    "probe_int_sub_i32": ("W4 g32, (q.int() - z.int()).half() * s, f16",
                          lambda: (Probe("int_sub_i32"), (_x((8, 128), F16, 133),)), 4),
    "probe_uint8_sub_wrap": ("W4 g32, (q - z) computed in uint8 (wraps mod 256 when q < z), f16",
                             lambda: (Probe("uint8_sub_wrap"), (_x((8, 128), F16, 134),)), 4),
    "probe_const_zp8": ("W4 g32, constant zero point 8 (GPTQ sym), f16",
                        lambda: (Probe("const_zp8"), (_x((8, 128), F16, 135),)), 4),
    "probe_per_channel_w8": ("W8 per-channel (g = K) without reshape, f32",
                             lambda: (Probe("per_channel", F32, bits=8), (_x((8, 128), F32, 136),)), 8),
    "probe_scale_after_matmul": ("W8 per-channel, (x @ (q - z).T) * s (scale after the matmul), f32",
                                 lambda: (Probe("scale_after_matmul", F32, bits=8), (_x((8, 128), F32, 137),)), 8),
    "probe_strided_groups": ("W4, column k in group k % G (reshape [N, g, G]), f16",
                             lambda: (Probe("strided_groups"), (_x((8, 128), F16, 138),)), 4),
    "probe_groups_along_n": ("W4, unsigned no-zero-point, scales [N/16, G] shared by 16 output rows, f16",
                             lambda: (Probe("groups_along_n"), (_x((8, 128), F16, 139),)), 4),
    "probe_fused_qkv_cat": ("three W4 g32 blocks dequantized separately and concatenated along N, f16",
                            lambda: (Probe("fused_qkv_cat", n=48), (_x((8, 128), F16, 140),)), 4),
    "probe_batched_3d_bias": ("W4 g32 with bias, x [2, 8, 128], f32",
                              lambda: (Probe("batched_3d_bias", F32), (_x((2, 8, 128), F32, 141),)), 4),
    "probe_weight_left": ("W4 g32, y = (W @ x.T).T (weight as the left operand), f16",
                          lambda: (Probe("weight_left"), (_x((8, 128), F16, 142),)), 4),
    "probe_einsum": ("W4 g32, einsum('mk,nk->mn'), f16",
                     lambda: (Probe("einsum"), (_x((8, 128), F16, 143),)), 4),
    "probe_zp_per_channel": ("W4 g32 scales per group, one zero point per output row, f16",
                             lambda: (Probe("zp_per_channel"), (_x((8, 128), F16, 144),)), 4),
    "probe_scale_left": ("W4 g32, s * (q - z), f16",
                         lambda: (Probe("scale_left"), (_x((8, 128), F16, 145),)), 4),
    "probe_f32_dequant_then_half": ("W4 g32 dequantized in f32 then cast to f16, f16 matmul",
                                    lambda: (Probe("f32_dequant_then_half"), (_x((8, 128), F16, 146),)), 4),
    "probe_tied": ("W4 g32, one dequantized weight used by two matmuls (two results), f16",
                   lambda: (Probe("tied"), (_x((8, 128), F16, 147),)), 4),
    "probe_f16_overflow": ("W4 g32, f16, activations x3000 and weights x64 so some outputs overflow f16 to inf",
                           lambda: (Probe("scale_left", wscale=64.0), (_x((8, 128), F16, 148, 3000.0),)), 4),
    "probe_large_k": ("W4 g128, K = 2048, N = 32, M = 4, f16",
                      lambda: (Probe("scale_left", k=2048, n=32, group=128), (_x((4, 2048), F16, 149),)), 4),
    "probe_w8_int8_signed": ("W8 g64 signed int8 weights [-128,127], signed int8 zero points, f16",
                             lambda: (W8Int8Signed(), (_x((8, 128), F16, 150),)), 8),
    "probe_act_u8_scaled": ("uint8 activations (0..255) * per-token f32 scale, W4 g32, f32",
                            lambda: (ActCast("u8_scaled"), _xu8((8, 128), 170)), 4),
    "probe_act_u8_plain": ("uint8 activations (0..255) cast to f16, W4 g32, f16",
                           lambda: (ActCast("u8_plain"), _xu8((8, 128), 171, scale=False)), 4),
    "probe_act_i8_plain": ("int8 activations cast to f16, W4 g32, f16",
                           lambda: (ActCast("i8_plain"), (_xi8((8, 128), 172)[0],)), 4),
    "probe_act_u8_int_matmul": ("x_u8.int() @ w_i8.int().t() (i32), per-token scale; w_i8 in [-8,7]",
                                lambda: (ActCast("u8_int_matmul"), _xu8((8, 128), 173)), 4),
    "probe_neg_scales": ("W4 g32 with a third of the scales negative, f16",
                         lambda: (ActCast("float", neg_scales=True), (_x((8, 128), F16, 174),)), 4),
}


def _np(t):
    t = t.detach()
    if t.dtype == BF16:
        t = t.to(F32)
    return t.numpy()


def _tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def generate(name):
    desc, build, bits = CASES[name]
    torch.manual_seed(0)
    model, args = build()
    model.eval()
    with torch.no_grad():
        outs = _tuple(model(*args))
        ref_model = copy.deepcopy(model).to(F64)
        ref_args = [a.to(F64) if a.is_floating_point() else a for a in args]
        refs = _tuple(ref_model(*ref_args))
    mod = fx.export_and_import(model, *args, output_type=OutputType.LINALG_ON_TENSORS, func_name="main")
    text = mod.operation.get_asm()
    sig = ", ".join(f"{tuple(a.shape)} {str(a.dtype).replace('torch.', '')}" for a in args)
    osig = ", ".join(f"{tuple(o.shape)} {str(o.dtype).replace('torch.', '')}" for o in outs)
    header = (f"// {name}: {desc}\n"
              f"// inputs: {sig}; outputs: {osig}; run with --weight-bits {bits}\n"
              f"// generated by test/inputs/models/generate.py (torch {torch.__version__}, "
              f"torch_mlir.fx.export_and_import, linalg-on-tensors); do not edit\n")
    with open(os.path.join(HERE, f"{name}.mlir"), "w") as f:
        f.write(header + text)
    arrays = {f"arg{i}": _np(a) for i, a in enumerate(args)}
    arrays.update({f"result{i}": _np(o) for i, o in enumerate(outs)})
    np.savez(os.path.join(HERE, f"{name}.npz"), **arrays)  # what `mixpe-run --inputs` takes
    if refs:
        np.savez(os.path.join(HERE, f"{name}.ref.npz"), **{f"result{i}": _np(r) for i, r in enumerate(refs)})
    size = os.path.getsize(os.path.join(HERE, f"{name}.mlir"))
    print(f"{name}: {size / 1e6:.2f} MB mlir; inputs {sig}; outputs {osig}")


def main(argv):
    warnings.filterwarnings("ignore", category=FutureWarning)
    names = argv or list(CASES)
    bad = [n for n in names if n not in CASES]
    if bad:
        sys.exit(f"unknown case(s) {bad}; known: {', '.join(CASES)}")
    for n in names:
        generate(n)


if __name__ == "__main__":
    main(sys.argv[1:])

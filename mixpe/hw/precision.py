"""Precision rules shared by every cost mode and the tile search: the widths a GEMM runs at,
bit-serial passes, BitFusion-style packing, and the argument checks of a GEMM request."""

from __future__ import annotations

from dataclasses import dataclass

from mixpe.reference.dtypes import bit_width, is_float

from .dataflow import ceil_div
from .hardware import Hardware


@dataclass(frozen=True)
class Prec:
    wb: int
    ab: int
    passes: int  # bit-serial passes over the weights (and activations on BitFusion)
    pf_w: int  # packing factors (BitFusion only in default mode)
    pf_a: int


def packing_factor(p: int, pmax: int, pmin: int) -> int:
    """BitFusion packing factor: pf(p) = int(pmax / max(p, pmin))."""
    return int(pmax / max(p, pmin))


def workload_bits(hw: Hardware, weight_bits: int | None, act_bits: int | None) -> tuple[int, int]:
    """(weight, activation) bits: the given ones, else the preset's workload; positive ints."""
    wb = hw.defaults.weight_bits if weight_bits is None else weight_bits
    ab = hw.defaults.act_bits if act_bits is None else act_bits
    for name, v in (("weight_bits", wb), ("act_bits", ab)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    return wb, ab


def resolve_precision(hw: Hardware, weight_bits: int | None, act_bits: int | None) -> Prec:
    """Widths (the preset's workload when None), passes and packing of a GEMM on ``hw``."""
    wb, ab = workload_bits(hw, weight_bits, act_bits)
    pe = hw.pe
    if pe.type == "bitfusion":
        pmax, pmin = pe.pack_pmax, pe.pack_pmin
        assert pmax is not None and pmin is not None, "load_hardware: a bitfusion PE has pack_pmax/pack_pmin"
        passes = ceil_div(wb, pmax) * ceil_div(ab, pmax)
        return Prec(wb, ab, passes, packing_factor(min(wb, pmax), pmax, pmin),
                    packing_factor(min(ab, pmax), pmax, pmin))
    if ab > pe.act_bits:
        raise ValueError(
            f"{hw.name}: {ab}-bit activations do not fit the {pe.act_bits}-bit PE input; "
            "quantize activations or pick a wider preset")
    if pe.type == "mac_fp16" and wb > pe.weight_bits:
        raise ValueError(f"{hw.name}: {wb}-bit weights do not fit an fp16 MAC")
    passes = 1 if pe.type == "mac_fp16" else ceil_div(wb, pe.weight_bits)
    return Prec(wb, ab, passes, 1, 1)


def weight_stream_bits(hw: Hardware, wb: int, g: int, k: int, n: int) -> int:
    """Bits of a k x n weight block as a quantized checkpoint stores it: the weights, and per
    group and output channel one scale (``dequant.scale_bits``) and one zero point at the
    weight width (GPTQ/AWQ pack their qzeros like the weights)."""
    return k * n * wb + (ceil_div(k, g) * n * (hw.dequant.scale_bits + wb) if g else 0)


def pe_act_bits(hw: Hardware, dtype: str) -> int:
    """Activation bits a PE sees: float activations run in the PE's float format (f32 on an
    A16 PE is costed as f16, and reports say so); integers keep their width."""
    bits = bit_width(dtype)
    if is_float(dtype) and hw.pe.act_format == "int" and hw.pe.type == "bitfusion":
        # Fusion units compose integer bit-bricks; a float has no such decomposition (an
        # int8 MAC refuses it by width in resolve_precision).
        raise ValueError(f"{hw.name}: {dtype} activations do not run on integer fusion units; "
                         "quantize activations or pick a float preset")
    return min(bits, hw.pe.act_bits) if is_float(dtype) and hw.pe.act_format == "fp" else bits


def check_shape(M: int, N: int, K: int) -> None:
    for name, v in (("M", M), ("N", N), ("K", K)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")


def resolve_group_size(hw: Hardware, group_size: int | None) -> int:
    g = hw.defaults.group_size if group_size is None else group_size
    if isinstance(g, bool) or not isinstance(g, int) or g < 0:
        raise ValueError(f"group_size must be a non-negative int (0 = unquantised), got {g!r}")
    return g


def check_tile(tile, M: int, N: int, K: int) -> tuple[int, int, int]:
    """A given (tm, tn, tk), validated and clipped to the GEMM."""
    if len(tile) != 3 or any(isinstance(t, bool) or not isinstance(t, int) or t <= 0 for t in tile):
        raise ValueError(f"tile must be three positive ints (tm, tn, tk), got {tile!r}")
    return (min(tile[0], M), min(tile[1], N), min(tile[2], K))

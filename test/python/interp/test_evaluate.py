"""mixpe.interp.evaluate against numpy computed independently (float64 / Python ints)."""

from __future__ import annotations

import functools
import glob
import os
import subprocess

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.parser import Parser

from mixpe.context import mixpe_context
from mixpe.interp.evaluate import EvaluationError, evaluate, register_op_evaluator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MLIR_OPT = "/usr/lib/llvm-22/bin/mlir-opt"


@functools.lru_cache(maxsize=None)
def parse(text: str):
    return Parser(mixpe_context(), text).parse_module()


def run(text: str, *args, **kw):
    return evaluate(parse(text), list(args), **kw)


def unary(op: str, src: str, dst: str, shape: str = "4") -> str:
    """A function applying one arith op elementwise to a tensor, through a linalg.generic."""
    return f"""
    #id = affine_map<(d0) -> (d0)>
    func.func @f(%x: tensor<{shape}x{src}>) -> tensor<{shape}x{dst}> {{
      %e = tensor.empty() : tensor<{shape}x{dst}>
      %r = linalg.generic {{indexing_maps = [#id, #id], iterator_types = ["parallel"]}}
          ins(%x : tensor<{shape}x{src}>) outs(%e : tensor<{shape}x{dst}>) {{
      ^bb0(%a: {src}, %o: {dst}):
        %y = {op} %a : {src} to {dst}
        linalg.yield %y : {dst}
      }} -> tensor<{shape}x{dst}>
      return %r : tensor<{shape}x{dst}>
    }}"""


def binary(op: str, ty: str) -> str:
    return f"""
    func.func @f(%a: tensor<8x{ty}>, %b: tensor<8x{ty}>) -> tensor<8x{ty}> {{
      %r = {op} %a, %b : tensor<8x{ty}>
      return %r : tensor<8x{ty}>
    }}"""


# ---- elementwise semantics -------------------------------------------------------------------

# finite f16 bit patterns, subnormals included
f16_bits = st.lists(st.integers(0, 0x7BFF) | st.integers(0x8000, 0xFBFF), min_size=8, max_size=8)


@settings(max_examples=40, deadline=None)
@given(a=f16_bits, b=f16_bits)
def test_f16_arith_rounds_once_per_op(a, b):
    """f16 + - * / equal the float64 result rounded to f16 (float64 is exact or 53 >= 2*11+2)."""
    x, y = np.array(a, np.uint16).view(np.float16), np.array(b, np.uint16).view(np.float16)
    for op, fn in (("addf", np.add), ("subf", np.subtract), ("mulf", np.multiply), ("divf", np.divide)):
        (got,) = run(binary(f"arith.{op}", "f16"), x, y)
        with np.errstate(all="ignore"):
            want = fn(x.astype(np.float64), y.astype(np.float64)).astype(np.float16)
        assert got.dtype == np.float16
        np.testing.assert_array_equal(got, want, err_msg=op)


i8s = st.integers(-128, 127)


@settings(max_examples=40, deadline=None)
@given(a=st.lists(i8s, min_size=8, max_size=8), b=st.lists(i8s, min_size=8, max_size=8))
def test_i8_arith_wraps_like_twos_complement(a, b):
    def wrap8(v: int) -> int:
        return (v + 128) % 256 - 128

    def trunc_div(p: int, q: int) -> int:
        return abs(p) // abs(q) * (1 if (p < 0) == (q < 0) else -1)

    ops = {
        "addi": lambda p, q: p + q,
        "subi": lambda p, q: p - q,
        "muli": lambda p, q: p * q,
        "divsi": lambda p, q: trunc_div(p, q),
        "remsi": lambda p, q: p - trunc_div(p, q) * q,
        "divui": lambda p, q: (p % 256) // (q % 256),
        "remui": lambda p, q: (p % 256) % (q % 256),
        "andi": lambda p, q: p & q,
        "xori": lambda p, q: p ^ q,
        "maxui": lambda p, q: max(p % 256, q % 256),
        "shrui": lambda p, q: (p % 256) >> (q % 8),
        "shrsi": lambda p, q: p >> (q % 8),
        "shli": lambda p, q: p << (q % 8),
    }
    x = np.array(a, np.int8)
    for name, fn in ops.items():
        y = np.array([v if v != 0 else 1 for v in b], np.int8)  # no division by zero (UB)
        if name in ("divsi", "remsi"):  # nor INT_MIN / -1 (UB; test/python/reference checks the refusal)
            y = np.where((x == -128) & (y == -1), np.int8(1), y).astype(np.int8)
        if name.startswith("sh"):
            y = np.abs(y.astype(np.int16) % 8).astype(np.int8)
        (got,) = run(binary(f"arith.{name}", "i8"), x, y)
        want = np.array([wrap8(fn(int(p), int(q))) for p, q in zip(x, y)], np.int8)
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_extui_vs_extsi_on_negative_i8():
    x = np.array([-1, -128, 5, 127], np.int8)
    (u,) = run(unary("arith.extui", "i8", "i32"), x)
    (s,) = run(unary("arith.extsi", "i8", "i32"), x)
    assert u.dtype == s.dtype == np.int32
    np.testing.assert_array_equal(u, [255, 128, 5, 127])
    np.testing.assert_array_equal(s, [-1, -128, 5, 127])
    (t,) = run(unary("arith.trunci", "i32", "i8"), np.array([255, 256, -129, 7], np.int32))
    np.testing.assert_array_equal(t, [-1, 0, 127, 7])


def test_uitofp_on_uint8_storage():
    """torch's uint8 weights arrive as signless i8: uitofp must read the bits unsigned."""
    q = np.array([200, 15, 0, 255], np.uint8)
    (u,) = run(unary("arith.uitofp", "i8", "f16"), q)
    (s,) = run(unary("arith.sitofp", "i8", "f16"), q)
    np.testing.assert_array_equal(u, np.array([200, 15, 0, 255], np.float16))
    np.testing.assert_array_equal(s, np.array([-56, 15, 0, -1], np.float16))
    # large tensors take the 256-entry look-up-table path
    big = np.random.default_rng(9).integers(0, 256, 8192, dtype=np.uint8)
    (u,) = run(unary("arith.uitofp", "i8", "f16", "8192"), big)
    (e,) = run(unary("arith.extsi", "i8", "i32", "8192"), big)
    np.testing.assert_array_equal(u, big.astype(np.float16))
    np.testing.assert_array_equal(e, big.view(np.int8).astype(np.int32))


def test_i1_and_i4_semantics():
    (s,) = run(unary("arith.extsi", "i1", "i8"), np.array([True, False, True, True]))
    np.testing.assert_array_equal(s, [-1, 0, -1, -1])
    (f,) = run(unary("arith.uitofp", "i4", "f32"), np.array([-1, 7, -8, 0], np.int8))
    np.testing.assert_array_equal(f, [15, 7, 8, 0])
    (w,) = run(binary("arith.addi", "i4"), np.full(8, 7, ml_dtypes.int4), np.ones(8, ml_dtypes.int4))
    assert w.dtype == ml_dtypes.int4 and (w.astype(np.int8) == -8).all()


def test_casts_round_correctly_to_bf16_and_truncate_to_int():
    # 2**24 + 2**16 + 1 lies just above a bf16 tie: one rounding gives 2**24 + 2**17, rounding
    # through float32 first (ml_dtypes' int path) gives 2**24
    (b,) = run(unary("arith.sitofp", "i32", "bf16"), np.array([2**24 + 2**16 + 1, 3, -3, 0], np.int32))
    assert b.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(b.astype(np.float64), [2**24 + 2**17, 3, -3, 0])
    (i,) = run(unary("arith.fptosi", "f32", "i8"), np.array([-2.7, 2.7, -0.5, 100.9], np.float32))
    np.testing.assert_array_equal(i, [-2, 2, 0, 100])
    (h,) = run(unary("arith.truncf", "f32", "f16"), np.array([1 + 2**-11, 1 + 3 * 2**-11, 7e4, 1e-8], np.float32))
    np.testing.assert_array_equal(h, np.array([1, 1 + 2**-9, np.inf, 0], np.float16))


def test_cmp_select_maximumf():
    text = """
    func.func @f(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) {
      %lt = "arith.cmpf"(%a, %b) {predicate = 4 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
      %une = "arith.cmpf"(%a, %b) {predicate = 13 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
      %s = "arith.select"(%lt, %a, %b) : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %m = arith.maximumf %a, %b : tensor<4xf32>
      return %lt, %une, %s, %m : tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>
    }"""
    a = np.array([1, np.nan, -0.0, 3], np.float32)
    b = np.array([2, 1, 0.0, 3], np.float32)
    lt, une, s, m = run(text, a, b)
    np.testing.assert_array_equal(lt, [True, False, False, False])
    np.testing.assert_array_equal(une, [True, True, False, False])
    np.testing.assert_array_equal(s, [1, 1, 0, 3])
    np.testing.assert_array_equal(m, [2, np.nan, 0, 3])
    assert not np.signbit(m[2])  # maximumf orders -0 < +0


def test_scalar_function_and_bitcast():
    text = """
    func.func @f(%a: f16, %b: f16) -> (f16, i16) {
      %s = arith.addf %a, %b : f16
      %i = arith.bitcast %s : f16 to i16
      return %s, %i : f16, i16
    }"""
    s, i = run(text, np.float16(1.0), np.float16(2.0**-11))
    assert s.shape == () and s.dtype == np.float16 and s == 1.0  # the tie rounds to even
    assert i.shape == () and i == np.float16(1.0).view(np.int16)


def test_cmpi_unsigned_predicates():
    text = """
    func.func @f(%a: tensor<8xi8>, %b: tensor<8xi8>) -> (tensor<8xi1>, tensor<8xi1>) {
      %u = "arith.cmpi"(%a, %b) {predicate = 6 : i64} : (tensor<8xi8>, tensor<8xi8>) -> tensor<8xi1>
      %s = "arith.cmpi"(%a, %b) {predicate = 2 : i64} : (tensor<8xi8>, tensor<8xi8>) -> tensor<8xi1>
      return %u, %s : tensor<8xi1>, tensor<8xi1>
    }"""
    a = np.array([-1, 1, 0, 5, -128, 127, 3, -3], np.int8)
    b = np.array([1, -1, 0, 6, 127, -128, 3, 3], np.int8)
    u, s = run(text, a, b)
    np.testing.assert_array_equal(u, (a.view(np.uint8) < b.view(np.uint8)))
    np.testing.assert_array_equal(s, a < b)


# ---- linalg / tensor ---------------------------------------------------------------------------


def test_group_dequant_with_constant_zero_broadcast_map_and_reshapes():
    """The torch-mlir pattern: expand K into (G, g), scales through (d0, d1, 0), collapse back."""
    text = """
    #id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
    #b0 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
    func.func @f(%q: tensor<4x8xi8>, %s: tensor<4x2xf16>) -> tensor<4x8xf16> {
      %qe = tensor.expand_shape %q [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xi8> into tensor<4x2x4xi8>
      %se = tensor.expand_shape %s [[0], [1, 2]] output_shape [4, 2, 1] : tensor<4x2xf16> into tensor<4x2x1xf16>
      %e = tensor.empty() : tensor<4x2x4xf16>
      %w = linalg.generic {indexing_maps = [#id, #b0, #id], iterator_types = ["parallel", "parallel", "parallel"]}
          ins(%qe, %se : tensor<4x2x4xi8>, tensor<4x2x1xf16>) outs(%e : tensor<4x2x4xf16>) {
      ^bb0(%a: i8, %sc: f16, %o: f16):
        %f = arith.uitofp %a : i8 to f16
        %m = arith.mulf %f, %sc : f16
        linalg.yield %m : f16
      } -> tensor<4x2x4xf16>
      %c = tensor.collapse_shape %w [[0], [1, 2]] : tensor<4x2x4xf16> into tensor<4x8xf16>
      return %c : tensor<4x8xf16>
    }"""
    rng = np.random.default_rng(0)
    q = rng.integers(0, 16, (4, 8), dtype=np.uint8)
    s = rng.standard_normal((4, 2)).astype(np.float16)
    (w,) = run(text, q, s)
    want = (q.astype(np.float64) * np.repeat(s, 4, axis=1).astype(np.float64)).astype(np.float16)
    np.testing.assert_array_equal(w, want)


def test_transpose_broadcast_slices():
    text = """
    func.func @f(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2x5x3xf32>, tensor<2x2xf32>, tensor<2x3xf32>) {
      %e = tensor.empty() : tensor<3x2xf32>
      %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
      %e2 = tensor.empty() : tensor<2x5x3xf32>
      %b = linalg.broadcast ins(%x : tensor<2x3xf32>) outs(%e2 : tensor<2x5x3xf32>) dimensions = [1]
      %s = tensor.extract_slice %x[0, 1] [2, 2] [1, 1] : tensor<2x3xf32> to tensor<2x2xf32>
      %z = arith.constant dense<0.0> : tensor<2x3xf32>
      %i = tensor.insert_slice %s into %z[0, 0] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<2x3xf32>
      return %t, %b, %s, %i : tensor<3x2xf32>, tensor<2x5x3xf32>, tensor<2x2xf32>, tensor<2x3xf32>
    }"""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t, b, s, i = run(text, x)
    np.testing.assert_array_equal(t, x.T)
    np.testing.assert_array_equal(b, np.broadcast_to(x[:, None, :], (2, 5, 3)))
    np.testing.assert_array_equal(s, x[:, 1:])
    np.testing.assert_array_equal(i, np.concatenate([x[:, 1:], np.zeros((2, 1), np.float32)], axis=1))


TORCH_MATMUL = """
func.func @f(%x: tensor<3x64xf16>, %w: tensor<64x5xf16>) -> tensor<3x5xf16> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x5xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x5xf32>) -> tensor<3x5xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<3x64xf16>, tensor<64x5xf16>) outs(%acc : tensor<3x5xf32>) -> tensor<3x5xf32>
  %e16 = tensor.empty() : tensor<3x5xf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<3x5xf32>) outs(%e16 : tensor<3x5xf16>) {
  ^bb0(%a: f32, %o: f16):
    %t = arith.truncf %a : f32 to f16
    linalg.yield %t : f16
  } -> tensor<3x5xf16>
  return %r : tensor<3x5xf16>
}"""


def _f32_sequential_matmul(x, w):
    """MLIR's linalg.matmul order: acc += ext(x[:, k]) * ext(w[k]) for k = 0.. in float32."""
    acc = np.zeros((x.shape[0], w.shape[1]), np.float32)
    for k in range(x.shape[1]):
        acc = acc + x[:, k, None].astype(np.float32) * w[None, k].astype(np.float32)
    return acc


def test_fill_matmul_f16xf16_to_f32_then_truncf():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 64)).astype(np.float16)
    w = rng.standard_normal((64, 5)).astype(np.float16)
    (fast,) = run(TORCH_MATMUL, x, w)
    (ordered,) = run(TORCH_MATMUL, x, w, reductions="ordered")
    assert fast.dtype == np.float16
    exact = x.astype(np.float64) @ w.astype(np.float64)
    np.testing.assert_array_equal(fast, exact.astype(np.float32).astype(np.float16))
    np.testing.assert_array_equal(ordered, _f32_sequential_matmul(x, w).astype(np.float16))


def test_matmul_with_transposed_indexing_maps():
    text = """
    func.func @f(%x: tensor<3x8xf32>, %w: tensor<5x8xf32>, %c: tensor<3x5xf32>) -> tensor<3x5xf32> {
      %r = linalg.matmul {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                                          affine_map<(d0, d1, d2) -> (d1, d2)>,
                                          affine_map<(d0, d1, d2) -> (d0, d1)>]}
          ins(%x, %w : tensor<3x8xf32>, tensor<5x8xf32>) outs(%c : tensor<3x5xf32>) -> tensor<3x5xf32>
      return %r : tensor<3x5xf32>
    }"""
    rng = np.random.default_rng(2)
    x, w, c = (rng.standard_normal(s).astype(np.float32) for s in ((3, 8), (5, 8), (3, 5)))
    (r,) = run(text, x, w, c)
    want = (c.astype(np.float64) + x.astype(np.float64) @ w.T.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(r, want)


def _generic_matmul(body: str) -> str:
    return f"""
    func.func @f(%x: tensor<4x32xf16>, %q: tensor<32x6xi8>) -> tensor<4x6xf32> {{
      %zero = arith.constant 0.0 : f32
      %e = tensor.empty() : tensor<4x6xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x6xf32>) -> tensor<4x6xf32>
      %r = linalg.generic {{indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>,
                                            affine_map<(m, n, k) -> (m, n)>],
                           iterator_types = ["parallel", "parallel", "reduction"]}}
          ins(%x, %q : tensor<4x32xf16>, tensor<32x6xi8>) outs(%acc : tensor<4x6xf32>) {{
      ^bb0(%a: f16, %b: i8, %o: f32):
        {body}
      }} -> tensor<4x6xf32>
      return %r : tensor<4x6xf32>
    }}"""


# casts then multiply: a contraction (BLAS); product in f16 then extf: a materialised sum
CAST_THEN_MUL = """
        %bi = arith.extui %b : i8 to i32
        %bf = arith.sitofp %bi : i32 to f32
        %af = arith.extf %a : f16 to f32
        %p = arith.mulf %af, %bf : f32
        %s = arith.addf %o, %p : f32
        linalg.yield %s : f32"""
MUL_THEN_CAST = """
        %bf = arith.uitofp %b : i8 to f16
        %p = arith.mulf %a, %bf : f16
        %pe = arith.extf %p : f16 to f32
        %s = arith.addf %pe, %o : f32
        linalg.yield %s : f32"""


@pytest.mark.parametrize("body", [CAST_THEN_MUL, MUL_THEN_CAST], ids=["cast-mul", "mul-cast"])
def test_generic_matmul_with_casts(body):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 32)).astype(np.float16)
    q = rng.integers(0, 256, (32, 6), dtype=np.uint8)
    (fast,) = run(_generic_matmul(body), x, q)
    (ordered,) = run(_generic_matmul(body), x, q, reductions="ordered")
    wq = q.astype(np.float64)
    if body is MUL_THEN_CAST:  # each product rounds to f16 first
        prods = (x.astype(np.float64)[:, :, None] * wq[None]).astype(np.float16).astype(np.float64)
    else:
        prods = x.astype(np.float64)[:, :, None] * wq[None]
    np.testing.assert_array_equal(fast, prods.sum(axis=1).astype(np.float32))
    seq = np.zeros((4, 6), np.float32)
    for k in range(32):
        seq = seq + prods[:, k].astype(np.float32)
    np.testing.assert_array_equal(ordered, seq)


def test_quantized_matmul_subtracts_zero_points():
    text = """
    func.func @f(%a: tensor<3x16xi8>, %b: tensor<16x4xi8>, %za: i32, %zb: i32) -> tensor<3x4xi32> {
      %c0 = arith.constant 0 : i32
      %e = tensor.empty() : tensor<3x4xi32>
      %acc = linalg.fill ins(%c0 : i32) outs(%e : tensor<3x4xi32>) -> tensor<3x4xi32>
      %r = linalg.quantized_matmul ins(%a, %b, %za, %zb : tensor<3x16xi8>, tensor<16x4xi8>, i32, i32)
          outs(%acc : tensor<3x4xi32>) -> tensor<3x4xi32>
      return %r : tensor<3x4xi32>
    }"""
    rng = np.random.default_rng(4)
    a = rng.integers(-128, 128, (3, 16), dtype=np.int8)
    b = rng.integers(-128, 128, (16, 4), dtype=np.int8)
    (r,) = run(text, a, b, np.int32(3), np.int32(-7))
    want = (a.astype(np.int64) - 3) @ (b.astype(np.int64) + 7)
    assert r.dtype == np.int32
    np.testing.assert_array_equal(r, want)


def _reduce_d0(combiner: str) -> str:
    return f"""
    func.func @f(%x: tensor<5x3xf32>, %init: tensor<3xf32>) -> tensor<3xf32> {{
      %r = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                           iterator_types = ["reduction", "parallel"]}}
          ins(%x : tensor<5x3xf32>) outs(%init : tensor<3xf32>) {{
      ^bb0(%a: f32, %o: f32):
        %s = {combiner} %a, %o : f32
        linalg.yield %s : f32
      }} -> tensor<3xf32>
      return %r : tensor<3xf32>
    }}"""


@pytest.mark.parametrize("reductions", ["fast", "ordered"])
def test_reduction_over_outer_dim(reductions):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    init = rng.standard_normal(3).astype(np.float32)
    (s,) = run(_reduce_d0("arith.addf"), x, init, reductions=reductions)
    (m,) = run(_reduce_d0("arith.maximumf"), x, init, reductions=reductions)
    if reductions == "fast":
        want = (init.astype(np.float64) + x.astype(np.float64).sum(axis=0)).astype(np.float32)
    else:
        want = init
        for row in x:
            want = row + want
    np.testing.assert_array_equal(s, want)
    np.testing.assert_array_equal(m, np.maximum(init, x.max(axis=0)))


def test_linalg_reduce_and_non_pattern_body_fall_back_to_the_ordered_loop():
    text = """
    func.func @f(%x: tensor<3x4xf32>, %init: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
      %r = linalg.reduce ins(%x : tensor<3x4xf32>) outs(%init : tensor<3xf32>) dimensions = [1]
        (%a: f32, %o: f32) {
          %s = arith.mulf %a, %o : f32
          linalg.yield %s : f32
        }
      %two = arith.constant 2.0 : f32
      %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                           iterator_types = ["parallel", "reduction"]}
          ins(%x : tensor<3x4xf32>) outs(%init : tensor<3xf32>) {
      ^bb0(%a: f32, %o: f32):
        %h = arith.mulf %o, %two : f32
        %s = arith.addf %h, %a : f32
        linalg.yield %s : f32
      } -> tensor<3xf32>
      return %r, %g : tensor<3xf32>, tensor<3xf32>
    }"""
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    init = np.array([1, 2, 3], np.float32)
    r, g = run(text, x, init)
    want_r, want_g = init.copy(), init.copy()
    for k in range(4):
        want_r = x[:, k] * want_r
        want_g = want_g * np.float32(2) + x[:, k]
    np.testing.assert_array_equal(r, want_r)
    np.testing.assert_array_equal(g, want_g)


def test_linalg_index_and_gather():
    """A look-up-table dequant: linalg.index + tensor.extract inside the body (vectorised)."""
    text = """
    func.func @f(%q: tensor<6xi8>) -> tensor<6xf32> {
      %lut = arith.constant dense<[0.5, -1.0, 2.0, 4.0]> : tensor<4xf32>
      %e = tensor.empty() : tensor<6xf32>
      %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                           iterator_types = ["parallel"]}
          ins(%q : tensor<6xi8>) outs(%e : tensor<6xf32>) {
      ^bb0(%a: i8, %o: f32):
        %i = arith.index_cast %a : i8 to index
        %v = tensor.extract %lut[%i] : tensor<4xf32>
        %d = linalg.index 0 : index
        %di = arith.index_cast %d : index to i32
        %df = arith.sitofp %di : i32 to f32
        %s = arith.addf %v, %df : f32
        linalg.yield %s : f32
      } -> tensor<6xf32>
      return %r : tensor<6xf32>
    }"""
    q = np.array([0, 1, 2, 3, 3, 0], np.int8)
    (r,) = run(text, q)
    np.testing.assert_array_equal(r, np.array([0.5, -1, 2, 4, 4, 0.5], np.float32) + np.arange(6))


def test_dense_resource_constant_and_func_call():
    text = """
    module {
      func.func private @twice(%x: tensor<2xi32>) -> tensor<2xi32> {
        %r = arith.addi %x, %x : tensor<2xi32>
        return %r : tensor<2xi32>
      }
      func.func @main() -> tensor<2xi32> {
        %c = arith.constant dense_resource<evaluate_test_blob> : tensor<2xi32>
        %r = func.call @twice(%c) : (tensor<2xi32>) -> tensor<2xi32>
        return %r : tensor<2xi32>
      }
    }
    {-#
      dialect_resources: { builtin: { evaluate_test_blob: "0x0400000007000000F9FFFFFF" } }
    #-}"""
    (r,) = run(text)
    np.testing.assert_array_equal(r, [14, -14])


def test_register_op_evaluator_hook():
    register_op_evaluator("test.op", lambda op, vals: [vals[0] * 3])
    text = """
    func.func @f(%x: tensor<3xf16>) -> tensor<3xf16> {
      %r = "test.op"(%x) : (tensor<3xf16>) -> tensor<3xf16>
      return %r : tensor<3xf16>
    }"""
    (r,) = run(text, np.array([1, 2, 3], np.float16))
    np.testing.assert_array_equal(r, [3, 6, 9])


def test_unsupported_op_and_map_raise():
    text = """
    func.func @f(%x: i32) -> i32 {
      %r = math.ctpop %x : i32
      return %r : i32
    }"""
    with pytest.raises(EvaluationError, match=r"math\.ctpop: unsupported operation \(at: .*math\.ctpop"):
        run(text, np.int32(3))
    conv = """
    func.func @f(%x: tensor<6xf32>, %w: tensor<3xf32>, %o: tensor<4xf32>) -> tensor<4xf32> {
      %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0 + d1)>, affine_map<(d0, d1) -> (d1)>,
                                            affine_map<(d0, d1) -> (d0)>],
                           iterator_types = ["parallel", "reduction"]}
          ins(%x, %w : tensor<6xf32>, tensor<3xf32>) outs(%o : tensor<4xf32>) {
      ^bb0(%a: f32, %b: f32, %c: f32):
        %p = arith.mulf %a, %b : f32
        %s = arith.addf %c, %p : f32
        linalg.yield %s : f32
      } -> tensor<4xf32>
      return %r : tensor<4xf32>
    }"""
    # Non-projected maps (a 1-D convolution) are gathered: out[i] = sum_j x[i + j] * w[j].
    x = np.arange(6, dtype=np.float32)
    w = np.array([1, 10, 100], np.float32)
    (r,) = run(conv, x, w, np.zeros(4, np.float32))
    np.testing.assert_array_equal(r, [sum(x[i + j] * w[j] for j in range(3)) for i in range(4)])
    # ... but never read out of bounds.
    with pytest.raises(EvaluationError, match="linalg.generic: indexing map .* out of bounds"):
        run(conv.replace("tensor<6xf32>", "tensor<5xf32>"), x[:5], w, np.zeros(4, np.float32))


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="not exactly representable"):
        run(binary("arith.addf", "f16"), np.full(8, 0.1, np.float32), np.zeros(8, np.float16))
    with pytest.raises(EvaluationError, match="shape"):
        run(binary("arith.addf", "f16"), np.zeros(7, np.float16), np.zeros(8, np.float16))


# ---- real torch-mlir inputs --------------------------------------------------------------------

TORCH_DIR = os.path.join(ROOT, "test", "inputs", "torch")
# Files with reference data (model-size cases ship none: they are for cost estimation).
TORCH_FILES = sorted(p for p in glob.glob(os.path.join(TORCH_DIR, "*.mlir")) if os.path.exists(p[:-5] + ".npz"))
# |ours - torch| <= tol * (|torch| + max|torch|): both round once to the result type (up to one
# ulp apart when the f32 accumulators straddle a rounding point) and torch accumulates in f32 in
# its own order (~K * 2**-24 relative, far below an f16/bf16 ulp); f32 results see only that.
TOLERANCE = {np.dtype(np.float16): 2.0**-10, np.dtype(ml_dtypes.bfloat16): 2.0**-7, np.dtype(np.float32): 2.0**-18}


def _check_torch_case(module, path):
    data = np.load(path[: -len(".mlir")] + ".npz")
    args = [data[f"arg{i}"] for i in range(sum(k.startswith("arg") for k in data))]
    results = evaluate(module, args)
    for i, got in enumerate(results):
        want = data[f"result{i}"].astype(np.float64)
        tol = TOLERANCE[got.dtype]
        err = np.abs(got.astype(np.float64) - want)
        assert (err <= tol * (np.abs(want) + np.abs(want).max())).all(), (i, err.max())


def _parse_or_none(text):
    try:
        return parse(text)
    except Exception:
        return None


@pytest.mark.skipif(not TORCH_FILES, reason="no torch-mlir inputs generated yet")
@pytest.mark.parametrize("path", TORCH_FILES, ids=os.path.basename)
def test_torch_mlir_inputs_match_torch(path):
    module = _parse_or_none(open(path).read())
    if module is None:
        pytest.skip("xDSL cannot parse this file (see the generalized variant)")
    _check_torch_case(module, path)


@pytest.mark.mlir_opt
@pytest.mark.skipif(not (TORCH_FILES and os.path.exists(MLIR_OPT)), reason="needs inputs and mlir-opt")
@pytest.mark.parametrize("path", TORCH_FILES, ids=os.path.basename)
def test_torch_mlir_inputs_generalized_match_torch(path):
    """Upstream's own expansion of the named ops (casts included) must give the same answer."""
    text = subprocess.run(
        [MLIR_OPT, "--linalg-generalize-named-ops", path], capture_output=True, text=True, check=True
    ).stdout
    module = _parse_or_none(text)
    if module is None:
        pytest.skip("xDSL cannot parse the generalized file")
    _check_torch_case(module, path)

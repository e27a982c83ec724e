"""linalg named contractions xDSL 0.74 lacks (mixpe.dialects.linalg_named) and multi-result
linalg.generic: Python API, registration, and the numpy evaluator against numpy einsum."""

from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects import test as xdsl_test
from xdsl.dialects.builtin import MemRefType, TensorType, f16, f32, i8, i32
from xdsl.ir.affine import AffineMap
from xdsl.parser import Parser
from xdsl.utils.exceptions import VerifyException

from mixpe.context import mixpe_context
from mixpe.dialects.linalg_named import (
    NAMED_OPS,
    BatchMatmulOp,
    BatchReduceMatmulOp,
    DotOp,
    MatvecOp,
    TypeFn,
    VecmatOp,
    indexing_maps_of,
)
from mixpe.interp.evaluate import evaluate


@functools.lru_cache(maxsize=None)
def parse(text: str):
    module = Parser(mixpe_context(), text).parse_module()
    module.verify()
    return module


def run(text: str, *args, **kw):
    return evaluate(parse(text), list(args), **kw)


# ---- registration ------------------------------------------------------------------------------

NEW = ["linalg.batch_matmul", "linalg.batch_reduce_matmul", "linalg.matvec", "linalg.vecmat", "linalg.dot"]


def test_no_name_xdsl_already_has():
    """xDSL's own linalg (without our plugin installed) has none of the names we register."""
    code = "from xdsl.dialects.linalg import Linalg; print(' '.join(o.name for o in Linalg.operations))"
    stock = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split())
    assert "linalg.matmul" in stock
    assert not stock & {cls.name for cls in NAMED_OPS}


def test_registered_once_in_mixpe_context():
    from xdsl.dialects.linalg import Linalg

    ctx = mixpe_context()
    for name in NEW:
        assert ctx.get_optional_op(name) is not None, name
    names = [o.name for o in Linalg.operations]
    assert len(names) == len(set(names))


def test_stock_xdsl_opt_parses_them_in_a_fresh_process():
    text = """
    func.func @f(%a: tensor<2x4x8xf16>, %b: tensor<2x8x16xf16>, %o: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
      %r = linalg.batch_matmul ins(%a, %b : tensor<2x4x8xf16>, tensor<2x8x16xf16>) outs(%o : tensor<2x4x16xf32>)
          -> tensor<2x4x16xf32>
      func.return %r : tensor<2x4x16xf32>
    }"""
    out = subprocess.run(["xdsl-opt"], input=text, check=True, capture_output=True, text=True).stdout
    assert "linalg.batch_matmul ins(%a, %b" in out


# ---- Python API --------------------------------------------------------------------------------


def _values(*types):
    return xdsl_test.TestOp(result_types=list(types)).results


@pytest.mark.parametrize(
    "cls, shapes, maps",
    [
        (BatchMatmulOp, ([2, 4, 8], [2, 8, 16], [2, 4, 16]), ["(d0, d1, d3)", "(d0, d3, d2)", "(d0, d1, d2)"]),
        (BatchReduceMatmulOp, ([2, 4, 8], [2, 8, 16], [4, 16]), ["(d0, d1, d3)", "(d0, d3, d2)", "(d1, d2)"]),
        (MatvecOp, ([4, 8], [8], [4]), ["(d0, d1)", "(d1)", "(d0)"]),
        (VecmatOp, ([8], [8, 16], [16]), ["(d1)", "(d1, d0)", "(d0)"]),
        (DotOp, ([8], [8], []), ["(d0)", "(d0)", "()"]),
    ],
)
def test_build_mixed_precision_and_read_maps(cls, shapes, maps):
    a, b, c = _values(TensorType(f16, shapes[0]), TensorType(f16, shapes[1]), TensorType(f32, shapes[2]))
    op = cls([a, b], [c])
    op.verify()
    assert list(op.inputs) == [a, b] and list(op.outputs) == [c]
    assert op.results[0].type == c.type
    assert [str(m.data).split(" -> ")[1] for m in op.indexing_maps] == maps
    assert tuple(cls.default_indexing_maps()) == indexing_maps_of(op) == tuple(op.get_default_indexing_maps())
    assert len(op.get_iterator_types()) == cls.default_indexing_maps()[0].num_dims
    body = [o.name for o in op.body.block.ops]
    assert body == ["arith.extf", "arith.extf", "arith.mulf", "arith.addf", "linalg.yield"]


def test_build_integer_unsigned_and_transposed():
    a, b, c = _values(TensorType(i8, [2, 8, 4]), TensorType(i8, [2, 16, 8]), TensorType(i32, [2, 4, 16]))
    maps = [
        AffineMap.from_callable(lambda b, m, n, k: (b, k, m)),
        AffineMap.from_callable(lambda b, m, n, k: (b, n, k)),
        AffineMap.from_callable(lambda b, m, n, k: (b, m, n)),
    ]
    op = BatchMatmulOp([a, b], [c], indexing_maps=maps, cast=TypeFn.CAST_UNSIGNED)
    op.verify()
    assert op.is_unsigned
    assert indexing_maps_of(op) == tuple(maps)
    assert [o.name for o in op.body.block.ops][:2] == ["arith.extui", "arith.extui"]
    assert "indexing_maps = [" in str(op) and "cast_unsigned" in str(op)


def test_memref_form_has_no_result():
    a, b, c = _values(MemRefType(f32, [4, 8]), MemRefType(f32, [8]), MemRefType(f32, [4]))
    op = MatvecOp([a, b], [c])
    op.verify()
    assert not op.results


@pytest.mark.parametrize(
    "shapes, message",
    [
        (([4, 8], [2, 8, 16], [2, 4, 16]), "expected operand #0 of rank 2"),
        (([2, 4, 8], [2, 9, 16], [2, 4, 16]), "dimension #1 to be 8, but found 9"),
    ],
)
def test_verifier_rejects_bad_shapes(shapes, message):
    a, b, c = _values(*(TensorType(f32, s) for s in shapes))
    with pytest.raises(VerifyException, match=message):
        BatchMatmulOp([a, b], [c]).verify()


def test_fixed_map_ops_take_no_indexing_maps():
    a, b, c = _values(TensorType(f32, [4, 8]), TensorType(f32, [8]), TensorType(f32, [4]))
    with pytest.raises(ValueError, match="does not take indexing_maps"):
        MatvecOp([a, b], [c], indexing_maps=MatvecOp.default_indexing_maps())


# ---- evaluator against numpy -------------------------------------------------------------------

NP = {"f16": np.float16, "f32": np.float32, "i8": np.int8, "i32": np.int32}


def _ty(shape, elem):
    return f"tensor<{'x'.join(map(str, shape))}{'x' if shape else ''}{elem}>"


def _module(op: str, shapes, elems, maps: str = "", cast: str = "") -> str:
    ta, tb, tc = (_ty(s, e) for s, e in zip(shapes, elems))
    maps = f"indexing_maps = [{maps}] " if maps else ""
    cast = "{cast = #linalg.type_fn<cast_unsigned>} " if cast else ""
    return f"""
    func.func @f(%a: {ta}, %b: {tb}, %c: {tc}) -> {tc} {{
      %r = linalg.{op} {maps}{cast}ins(%a, %b : {ta}, {tb}) outs(%c : {tc}) -> {tc}
      func.return %r : {tc}
    }}"""


def _random(rng, shape, elem):
    if elem.startswith("i"):
        return rng.integers(-128, 128, size=shape).astype(NP[elem])
    return rng.standard_normal(shape).astype(NP[elem])


def _reference(spec: str, a, b, c, unsigned: bool = False):
    """c + einsum(spec) in float64 / int64, converted like cast_signed (cast_unsigned)."""
    if c.dtype.kind == "i":
        conv = (lambda x: x.view(np.uint8).astype(np.int64)) if unsigned else (lambda x: x.astype(np.int64))
        return (c.astype(np.int64) + np.einsum(spec, conv(a), conv(b))).astype(c.dtype)
    if a.dtype.kind == "i":
        a = a.view(np.uint8) if unsigned else a
        b = b.view(np.uint8) if unsigned and b.dtype.kind == "i" else b
    return (c.astype(np.float64) + np.einsum(spec, a.astype(np.float64), b.astype(np.float64))).astype(c.dtype)


def _check(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    if want.dtype.kind == "i":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-6, atol=1e-6)


# op, einsum spec, shapes from (B, M, N, K)
CASES = {
    "batch_matmul": ("bmk,bkn->bmn", lambda B, M, N, K: ([B, M, K], [B, K, N], [B, M, N])),
    "batch_reduce_matmul": ("bmk,bkn->mn", lambda B, M, N, K: ([B, M, K], [B, K, N], [M, N])),
    "matvec": ("mk,k->m", lambda B, M, N, K: ([M, K], [K], [M])),
    "vecmat": ("k,kn->n", lambda B, M, N, K: ([K], [K, N], [N])),
    "dot": ("k,k->", lambda B, M, N, K: ([K], [K], [])),
    "matmul": ("mk,kn->mn", lambda B, M, N, K: ([M, K], [K, N], [M, N])),
}
ELEMS = [("f32", "f32", "f32"), ("f16", "f16", "f32"), ("i8", "i8", "i32"), ("i8", "f16", "f32")]


@pytest.mark.parametrize("elems", ELEMS, ids=["f32", "f16-f32", "i8-i32", "i8f16-f32"])
@pytest.mark.parametrize("op", list(CASES))
def test_evaluate_default_maps(op, elems):
    spec, shapes_of = CASES[op]
    shapes = shapes_of(3, 4, 5, 16)
    rng = np.random.default_rng(hash((op, elems)) % 2**32)
    a, b, c = (_random(rng, s, e) for s, e in zip(shapes, elems))
    (got,) = run(_module(op, shapes, elems), a, b, c)
    _check(got, _reference(spec, a, b, c))


@settings(max_examples=25, deadline=None)
@given(
    op=st.sampled_from(list(CASES)),
    dims=st.tuples(*(st.integers(1, 6) for _ in range(4))),
    elems=st.sampled_from(ELEMS),
    seed=st.integers(0, 2**32 - 1),
)
def test_evaluate_random_shapes(op, dims, elems, seed):
    spec, shapes_of = CASES[op]
    shapes = shapes_of(*dims)
    rng = np.random.default_rng(seed)
    a, b, c = (_random(rng, s, e) for s, e in zip(shapes, elems))
    (got,) = run(_module(op, shapes, elems), a, b, c)
    _check(got, _reference(spec, a, b, c))


@pytest.mark.parametrize("op", ["batch_matmul", "batch_reduce_matmul", "matmul"])
def test_evaluate_cast_unsigned(op):
    spec, shapes_of = CASES[op]
    shapes = shapes_of(2, 3, 4, 8)
    rng = np.random.default_rng(7)
    a, b, c = (_random(rng, s, e) for s, e in zip(shapes, ("i8", "i8", "i32")))
    (got,) = run(_module(op, shapes, ("i8", "i8", "i32"), cast="u"), a, b, c)
    _check(got, _reference(spec, a, b, c, unsigned=True))
    assert not np.array_equal(got, _reference(spec, a, b, c))  # the cast matters here


TRANSPOSED = [
    # op, maps, einsum spec, shapes
    (
        "batch_matmul",
        "affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, "
        "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>",
        "bkm,bnk->bmn",
        ([2, 8, 3], [2, 5, 8], [2, 3, 5]),
    ),
    (
        "batch_matmul",  # weights broadcast over the batch
        "affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, "
        "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>",
        "bmk,kn->bmn",
        ([2, 3, 8], [8, 5], [2, 3, 5]),
    ),
    (
        "batch_reduce_matmul",
        "affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, "
        "affine_map<(d0, d1, d2, d3) -> (d1, d2)>",
        "bmk,bnk->mn",
        ([2, 3, 8], [2, 5, 8], [3, 5]),
    ),
    (
        "matmul",
        "affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, "
        "affine_map<(d0, d1, d2) -> (d0, d1)>",
        "km,kn->mn",
        ([8, 3], [8, 5], [3, 5]),
    ),
]


@pytest.mark.parametrize("elems", ELEMS[:3], ids=["f32", "f16-f32", "i8-i32"])
@pytest.mark.parametrize("op, maps, spec, shapes", TRANSPOSED, ids=["bmm-ta-tb", "bmm-bcast", "brm-tb", "mm-ta"])
def test_evaluate_indexing_maps(op, maps, spec, shapes, elems):
    rng = np.random.default_rng(11)
    a, b, c = (_random(rng, s, e) for s, e in zip(shapes, elems))
    (got,) = run(_module(op, shapes, elems, maps=maps), a, b, c)
    _check(got, _reference(spec, a, b, c))


LEGACY = [
    ("matmul_transpose_a", "km,kn->mn", ([8, 3], [8, 5], [3, 5])),
    ("matmul_transpose_b", "mk,nk->mn", ([3, 8], [5, 8], [3, 5])),
    ("batch_matmul_transpose_a", "bkm,bkn->bmn", ([2, 8, 3], [2, 8, 5], [2, 3, 5])),
    ("batch_matmul_transpose_b", "bmk,bnk->bmn", ([2, 3, 8], [2, 5, 8], [2, 3, 5])),
]


@pytest.mark.parametrize("op, spec, shapes", LEGACY, ids=[c[0] for c in LEGACY])
def test_evaluate_legacy_transposed_spellings(op, spec, shapes):
    """Custom form (read as matmul/batch_matmul with maps) and generic form (kept as is)."""
    elems = ("f16", "f16", "f32")
    rng = np.random.default_rng(5)
    a, b, c = (_random(rng, s, e) for s, e in zip(shapes, elems))
    custom = _module(op, shapes, elems)
    want = _reference(spec, a, b, c)
    assert "indexing_maps = [" in str(parse(custom)) and f"linalg.{op}" not in str(parse(custom))
    (got,) = run(custom, a, b, c)
    _check(got, want)
    ta, tb, tc = (_ty(s, e) for s, e in zip(shapes, elems))
    generic = f"""
    func.func @f(%a: {ta}, %b: {tb}, %c: {tc}) -> {tc} {{
      %r = "linalg.{op}"(%a, %b, %c) <{{operandSegmentSizes = array<i32: 2, 1>}}> ({{
      ^bb0(%x: f16, %y: f16, %z: f32):
        %xe = arith.extf %x : f16 to f32
        %ye = arith.extf %y : f16 to f32
        %m = arith.mulf %xe, %ye : f32
        %s = arith.addf %z, %m : f32
        linalg.yield %s : f32
      }}) : ({ta}, {tb}, {tc}) -> {tc}
      func.return %r : {tc}
    }}"""
    assert f"linalg.{op} ins(" in str(parse(generic))
    (got,) = run(generic, a, b, c)
    _check(got, want)


def test_evaluate_ordered_reductions_match_sequential_f32():
    shapes = ([2, 3, 16], [2, 16, 4], [3, 4])
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal(s).astype(np.float16) for s in shapes[:2])
    c = np.zeros(shapes[2], np.float32)
    (got,) = run(_module("batch_reduce_matmul", shapes, ("f16", "f16", "f32")), a, b, c, reductions="ordered")
    want = c.copy()
    for bi in range(2):  # MLIR's loop order: b outermost, then k (d0 ... d3)
        for k in range(16):
            want = want + (a[bi, :, k, None].astype(np.float32) * b[bi, None, k, :].astype(np.float32))
    np.testing.assert_array_equal(got, want.astype(np.float32))


# ---- multi-result linalg.generic ---------------------------------------------------------------

MAX_ARGMAX = """
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @f(%x: tensor<{m}x{n}xf32>) -> (tensor<{m}xf32>, tensor<{m}xi64>) {{
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0 : i64
  %e0 = tensor.empty() : tensor<{m}xf32>
  %e1 = tensor.empty() : tensor<{m}xi64>
  %m0 = linalg.fill ins(%ninf : f32) outs(%e0 : tensor<{m}xf32>) -> tensor<{m}xf32>
  %i0 = linalg.fill ins(%zero : i64) outs(%e1 : tensor<{m}xi64>) -> tensor<{m}xi64>
  %r:2 = linalg.generic {{indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "reduction"]}}
      ins(%x : tensor<{m}x{n}xf32>) outs(%m0, %i0 : tensor<{m}xf32>, tensor<{m}xi64>) {{
  ^bb0(%in: f32, %max: f32, %idx: i64):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i64
    %new = arith.maximumf %in, %max : f32
    %gt = arith.cmpf ogt, %in, %max : f32
    %sel = arith.select %gt, %ki, %idx : i64
    linalg.yield %new, %sel : f32, i64
  }} -> (tensor<{m}xf32>, tensor<{m}xi64>)
  func.return %r#0, %r#1 : tensor<{m}xf32>, tensor<{m}xi64>
}}"""


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 5), n=st.integers(1, 9), seed=st.integers(0, 2**32 - 1), ties=st.booleans())
def test_multi_result_generic_max_argmax(m, n, seed, ties):
    rng = np.random.default_rng(seed)
    x = (rng.integers(-2, 3, size=(m, n)) if ties else rng.standard_normal((m, n))).astype(np.float32)
    values, indices = run(MAX_ARGMAX.format(m=m, n=n), x)
    np.testing.assert_array_equal(values, x.max(axis=1))
    np.testing.assert_array_equal(indices, x.argmax(axis=1))  # first maximum, as `ogt` keeps it
    assert indices.dtype == np.int64


def test_multi_result_generic_round_trips():
    text = MAX_ARGMAX.format(m=4, n=8)
    once = str(parse(text))
    assert "-> (tensor<4xf32>, tensor<4xi64>)" in once
    assert str(parse(once)) == once


def test_multi_result_parallel_generic():
    text = """
    #id = affine_map<(d0) -> (d0)>
    func.func @f(%a: tensor<6xf32>, %b: tensor<6xf32>, %o0: tensor<6xf32>, %o1: tensor<6xf16>)
        -> (tensor<6xf32>, tensor<6xf16>) {
      %r:2 = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel"]}
          ins(%a, %b : tensor<6xf32>, tensor<6xf32>) outs(%o0, %o1 : tensor<6xf32>, tensor<6xf16>) {
      ^bb0(%p: f32, %q: f32, %u: f32, %v: f16):
        %s = arith.addf %p, %q : f32
        %m = arith.mulf %p, %q : f32
        %t = arith.truncf %m : f32 to f16
        linalg.yield %s, %t : f32, f16
      } -> (tensor<6xf32>, tensor<6xf16>)
      func.return %r#0, %r#1 : tensor<6xf32>, tensor<6xf16>
    }"""
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal(6).astype(np.float32) for _ in range(2))
    s, t = run(text, a, b, np.zeros(6, np.float32), np.zeros(6, np.float16))
    np.testing.assert_array_equal(s, a + b)
    np.testing.assert_array_equal(t, (a * b).astype(np.float16))


def test_torch_mlir_attention_export():
    """The torch-mlir export in test/filecheck/dialect/linalg-torch-export.mlir (batch_matmul,
    softmax, two-result max/argmax generic, mv, dot) against float64 numpy."""
    import pathlib

    path = pathlib.Path(__file__).parents[2] / "filecheck" / "dialect" / "linalg-torch-export.mlir"
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 4, 8)).astype(np.float16) for _ in range(3))
    w = rng.standard_normal((3, 8)).astype(np.float16)
    o, m, i, y, d = run(path.read_text(), q, k, v, w)
    q64, k64, v64, w64 = (x.astype(np.float64) for x in (q, k, v, w))
    s = q64 @ k64.transpose(0, 2, 1)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(o.astype(np.float64), p @ v64, atol=1e-2)
    np.testing.assert_array_equal(m, o.max(-1))
    np.testing.assert_array_equal(i, o.argmax(-1))
    np.testing.assert_allclose(y.astype(np.float64), w64 @ v64[0, 0], rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(float(d), v64[0, 0] @ v64[0, 1], rtol=2e-3, atol=2e-3)

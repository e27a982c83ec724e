"""Named contractions run on the array: every linalg contraction a frontend emits (matmul with any
maps, batch_matmul, batch_reduce_matmul, matvec, vecmat, dot) compiles to a dense `matmul`
instruction and reproduces the IR evaluator's numbers, whatever the element types.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixpe import driver
from mixpe.interp.evaluate import evaluate
from mixpe.simulator.execute import run_program
from mixpe.simulator.program import parse_program

NP = {"f32": np.float32, "f16": np.float16, "i8": np.int8, "i32": np.int32}


def _t(shape, dt):
    return f"tensor<{'x'.join(map(str, shape))}{'x' if shape else ''}{dt}>"


def _maps(maps):
    return "indexing_maps = [" + ", ".join(f"affine_map<{m}>" for m in maps) + "] " if maps else ""


def module(op, a, b, c, ta, tc, maps=None, init="zero"):
    """`op` on a: ta, b: ta accumulating into c: tc, from a zero fill or from an argument."""
    zero = "0.0" if tc.startswith("f") else "0"
    if init == "zero":
        sig, fill = "", (f"  %z = arith.constant {zero} : {tc}\n  %e = tensor.empty() : {_t(c, tc)}\n"
                         f"  %c = linalg.fill ins(%z : {tc}) outs(%e : {_t(c, tc)}) -> {_t(c, tc)}\n")
    else:
        sig, fill = f", %c: {_t(c, tc)}", ""
    return (f"func.func @main(%a: {_t(a, ta)}, %b: {_t(b, ta)}{sig}) -> {_t(c, tc)} {{\n{fill}"
            f"  %r = {op} {_maps(maps)}ins(%a, %b : {_t(a, ta)}, {_t(b, ta)}) outs(%c : {_t(c, tc)}) -> {_t(c, tc)}\n"
            f"  return %r : {_t(c, tc)}\n}}\n")


def check(text, args, tc):
    program = driver.compile_to_program(text)
    ops = [i.op for i in program.instructions]
    # dense on the array, unless mixpe-raise proved it a quantized GEMM (i8 x i8 matmuls)
    assert {"matmul", "mpgemm", "group_psum", "bitplane_psum"} & set(ops), ops
    got = run_program(parse_program(program), "int8" if tc == "i32" else None,
                      {f"arg{i}": a for i, a in enumerate(args)}).outputs["result0"]
    ref = evaluate(driver.parse(text), args, "main")[0]
    assert got.dtype == ref.dtype and got.shape == ref.shape
    if tc == "i32":
        np.testing.assert_array_equal(got, ref)
    else:
        tol = 2e-3 if tc == "f16" else 1e-5
        np.testing.assert_allclose(got.astype(np.float64), ref.astype(np.float64), rtol=tol,
                                   atol=tol * max(1.0, float(np.abs(ref.astype(np.float64)).max())))


def rand(rng, shape, dt):
    if dt == "i8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    return rng.standard_normal(shape).astype(NP[dt])


TYPES = [("f32", "f32"), ("f16", "f32"), ("i8", "i32")]
CASES = {
    # name: (op, maps or None, shapes of a, b, c as functions of (B, M, N, K))
    "matmul": ("linalg.matmul", None, lambda B, M, N, K: ([M, K], [K, N], [M, N])),
    "matmul_ta": ("linalg.matmul", ["(d0, d1, d2) -> (d2, d0)", "(d0, d1, d2) -> (d2, d1)", "(d0, d1, d2) -> (d0, d1)"],
                  lambda B, M, N, K: ([K, M], [K, N], [M, N])),
    "matmul_tb": ("linalg.matmul", ["(d0, d1, d2) -> (d0, d2)", "(d0, d1, d2) -> (d1, d2)", "(d0, d1, d2) -> (d0, d1)"],
                  lambda B, M, N, K: ([M, K], [N, K], [M, N])),
    "batch_matmul": ("linalg.batch_matmul", None, lambda B, M, N, K: ([B, M, K], [B, K, N], [B, M, N])),
    "batch_matmul_tb": ("linalg.batch_matmul",
                        ["(d0, d1, d2, d3) -> (d0, d1, d3)", "(d0, d1, d2, d3) -> (d0, d2, d3)",
                         "(d0, d1, d2, d3) -> (d0, d1, d2)"],
                        lambda B, M, N, K: ([B, M, K], [B, N, K], [B, M, N])),
    "batch_matmul_ta": ("linalg.batch_matmul",
                        ["(d0, d1, d2, d3) -> (d0, d3, d1)", "(d0, d1, d2, d3) -> (d0, d3, d2)",
                         "(d0, d1, d2, d3) -> (d0, d1, d2)"],
                        lambda B, M, N, K: ([B, K, M], [B, K, N], [B, M, N])),
    "batch_reduce_matmul": ("linalg.batch_reduce_matmul", None, lambda B, M, N, K: ([B, M, K], [B, K, N], [M, N])),
    "matvec": ("linalg.matvec", None, lambda B, M, N, K: ([M, K], [K], [M])),
    "vecmat": ("linalg.vecmat", None, lambda B, M, N, K: ([K], [K, N], [N])),
    "dot": ("linalg.dot", None, lambda B, M, N, K: ([K], [K], [])),
}


@pytest.mark.parametrize("ta,tc", TYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_named_contraction_runs_on_the_array(name, ta, tc):
    op, maps, shapes = CASES[name]
    a, b, c = shapes(3, 5, 4, 16)
    rng = np.random.default_rng(len(name))
    check(module(op, a, b, c, ta, tc, maps), [rand(rng, a, ta), rand(rng, b, ta)], tc)


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(sorted(CASES)), B=st.integers(1, 3), M=st.integers(1, 6), N=st.integers(1, 6),
       K=st.integers(1, 9), seed=st.integers(0, 2**31))
def test_named_contraction_accumulates_into_its_init(name, B, M, N, K, seed):
    """A non-zero init (an argument) is added once after the product."""
    op, maps, shapes = CASES[name]
    a, b, c = shapes(B, M, N, K)
    rng = np.random.default_rng(seed)
    check(module(op, a, b, c, "f32", "f32", maps, init="arg"),
          [rand(rng, a, "f32"), rand(rng, b, "f32"), rand(rng, c, "f32")], "f32")

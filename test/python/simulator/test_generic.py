"""The `generic` fallback: structured ops without a dedicated program op still compile and run.

Each module is compiled by the backend (through `mixpe-pipeline`, as mixpe-run does), simulated,
and compared with the numpy IR evaluator on the original module: the two executors share no
code for these ops (the evaluator works on xDSL IR, the simulator on the program).
"""

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixpe import driver
from mixpe.interp.evaluate import evaluate
from mixpe.simulator.execute import run_program
from mixpe.simulator.program import ProgramError, parse_program

GATHER = """
func.func @main(%x: tensor<{M}x{K}xf32>, %q: tensor<{K}x{N}xi8>, %s: tensor<{G}x{N}xf32>, %gidx: tensor<{K}xi64>)
    -> tensor<{M}x{N}xf32> {{
  %e = tensor.empty() : tensor<{K}x{N}xf32>
  %w = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                        iterator_types = ["parallel", "parallel"]}}
      ins(%q : tensor<{K}x{N}xi8>) outs(%e : tensor<{K}x{N}xf32>) {{
  ^bb0(%a: i8, %o: f32):
    %k = linalg.index 0 : index
    %n = linalg.index 1 : index
    %g = tensor.extract %gidx[%k] : tensor<{K}xi64>
    %gi = arith.index_cast %g : i64 to index
    %sc = tensor.extract %s[%gi, %n] : tensor<{G}x{N}xf32>
    %0 = arith.sitofp %a : i8 to f32
    %1 = arith.mulf %0, %sc : f32
    linalg.yield %1 : f32
  }} -> tensor<{K}x{N}xf32>
  %c0 = arith.constant 0.0 : f32
  %i = tensor.empty() : tensor<{M}x{N}xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%i : tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>
  %r = linalg.matmul ins(%x, %w : tensor<{M}x{K}xf32>, tensor<{K}x{N}xf32>) outs(%f : tensor<{M}x{N}xf32>)
      -> tensor<{M}x{N}xf32>
  return %r : tensor<{M}x{N}xf32>
}}
"""

# A fused body (sum of squares scaled by a floordiv-mapped operand) and a mod map.
FUSED = """
func.func @main(%x: tensor<{M}x{K}x{T}>, %s: tensor<{G}x{T}>) -> (tensor<{M}x{T}>, tensor<{K}x{M}x{T}>) {{
  %c0 = arith.constant 0.0 : {T}
  %i = tensor.empty() : tensor<{M}x{T}>
  %f = linalg.fill ins(%c0 : {T}) outs(%i : tensor<{M}x{T}>) -> tensor<{M}x{T}>
  %r = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1 floordiv {g})>,
                                         affine_map<(d0, d1) -> (d0)>],
                        iterator_types = ["parallel", "reduction"]}}
      ins(%x, %s : tensor<{M}x{K}x{T}>, tensor<{G}x{T}>) outs(%f : tensor<{M}x{T}>) {{
  ^bb0(%a: {T}, %b: {T}, %acc: {T}):
    %0 = arith.mulf %a, %a : {T}
    %1 = arith.mulf %0, %b : {T}
    %2 = arith.addf %acc, %1 : {T}
    linalg.yield %2 : {T}
  }} -> tensor<{M}x{T}>
  %e = tensor.empty() : tensor<{K}x{M}x{T}>
  %t = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d1, (d0 + 1) mod {K})>,
                                         affine_map<(d0, d1) -> (d0, d1)>],
                        iterator_types = ["parallel", "parallel"]}}
      ins(%x : tensor<{M}x{K}x{T}>) outs(%e : tensor<{K}x{M}x{T}>) {{
  ^bb0(%a: {T}, %o: {T}):
    %0 = math.exp %a : {T}
    linalg.yield %0 : {T}
  }} -> tensor<{K}x{M}x{T}>
  return %r, %t : tensor<{M}x{T}>, tensor<{K}x{M}x{T}>
}}
"""


def _run(text: str, args: list[np.ndarray]):
    program = driver.compile_to_program(text)
    result = run_program(parse_program(program), None, {f"arg{i}": a for i, a in enumerate(args)})
    ref = evaluate(driver.parse(text), args, "main")
    return program, [result.outputs[f"result{i}"] for i in range(len(ref))], ref, result


@settings(max_examples=15, deadline=None)
@given(M=st.integers(1, 5), N=st.integers(1, 9), G=st.integers(1, 4), g=st.sampled_from([2, 4, 8]),
       seed=st.integers(0, 2**31))
def test_gather_dequant_falls_back_and_matches(M, N, G, g, seed):
    """Act-order style dequant (scales through a g_idx gather) is not raised: it runs as a
    `generic` on the vector unit and the matmul as a dense GEMM on the array."""
    K = G * g
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((M, K)).astype(np.float32), rng.integers(-8, 8, (K, N)).astype(np.int8),
            rng.random((G, N)).astype(np.float32), rng.permutation(np.arange(K) % G).astype(np.int64)]
    program, got, ref, _ = _run(GATHER.format(M=M, K=K, N=N, G=G), args)
    ops = [i.op for i in program.instructions]
    assert "generic" in ops and "matmul" in ops
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-5 * np.abs(ref[0]).max())


@pytest.mark.parametrize("T,tol", [("f32", 1e-6), ("f16", 2e-3)])
def test_fused_reduction_and_mod_map(T, tol):
    M, K, g = 3, 12, 4
    rng = np.random.default_rng(0)
    dt = np.float32 if T == "f32" else np.float16
    args = [rng.standard_normal((M, K)).astype(dt), rng.random((K // g,)).astype(dt)]
    program, got, ref, result = _run(FUSED.format(M=M, K=K, G=K // g, g=g, T=T), args)
    assert [i.op for i in program.instructions].count("generic") == 2
    for a, b in zip(got, ref):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol)
    # cost: the body's ops at every loop point, on the vector unit
    recs = [r for r in result.records if r.op == "generic"]
    assert all(r.unit == "vector" and r.cost is not None and r.cost.total > 0 for r in recs)


def test_bool_constant_and_select():
    text = """
func.func @main(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> ((d0 * 3) mod 8)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.constant true
    %z = arith.constant 0.0 : f32
    %c = arith.cmpf ogt, %a, %z : f32
    %b = arith.andi %c, %t : i1
    %s = arith.select %b, %a, %z : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %r : tensor<8xf32>
}
"""
    x = np.linspace(-1, 1, 8, dtype=np.float32)
    _, got, ref, _ = _run(text, [x])
    np.testing.assert_array_equal(got[0], ref[0])


def _generic_program(**over) -> dict:
    attrs = {"inputs": 1, "captures": 0, "inits": [False], "shapes": [[4]], "ranges": [4],
             "iterators": ["parallel"], "maps": [[["d", 0]], [["d", 0]]],
             "body": [{"op": "exp", "args": ["in0"], "dtype": "f32"}], "yield": ["v0"]}
    attrs.update(over)
    return {"format": "mixpe-sim-program", "version": 1, "function": "f",
            "inputs": [{"name": "x", "shape": [4], "dtype": "f32"}],
            "instructions": [{"op": "generic", "args": ["x"], "attrs": attrs,
                              "results": [{"name": "y", "shape": [4], "dtype": "f32"}]}],
            "outputs": [{"name": "y", "shape": [4], "dtype": "f32"}]}


def test_valid_program_runs():
    out = run_program(parse_program(_generic_program()), None, {"x": np.zeros(4, np.float32)}).outputs
    np.testing.assert_array_equal(out["result0"], np.ones(4, np.float32))


@pytest.mark.parametrize("over,message", [
    ({"maps": [[["floordiv", ["d", 0], ["c", 0]]], [["d", 0]]]}, "divisor of floordiv must be a positive constant"),
    ({"maps": [[["d", 3]], [["d", 0]]]}, "loop d3 out of range"),
    ({"maps": [[["pow", ["d", 0], ["c", 2]]], [["d", 0]]]}, "malformed affine expression"),
    ({"ranges": [5]}, "dim 0 has size 4, loop d0 runs 5"),
    ({"iterators": ["reduction"]}, "its map must be distinct parallel loops"),
    ({"body": [{"op": "exp", "args": ["v7"], "dtype": "f32"}]}, "args must name earlier values"),
    ({"body": [{"op": "frobnicate", "args": ["in0"], "dtype": "f32"}]}, "unknown op 'frobnicate'"),
    ({"yield": ["in0", "in0"]}, "one body value per result"),
    ({"body": [{"op": "exp", "args": ["in0"], "dtype": "f16"}], "yield": ["v0"]}, "yield 0 is f16, the result is f32"),
    ({"inits": [True]}, "takes inputs + inits + captures = 1+1+0 args, got 1"),
])
def test_malformed_generic_is_one_line_error(over, message):
    with pytest.raises(ProgramError, match=re.escape(message)) as e:
        parse_program(json.loads(json.dumps(_generic_program(**over))))
    assert "\n" not in str(e.value) and "instruction 0 (generic)" in str(e.value)


def test_out_of_bounds_map_is_a_simulation_error():
    from mixpe.simulator.execute import SimulationError

    prog = parse_program(_generic_program(maps=[[["add", ["d", 0], ["c", 1]]], [["d", 0]]]))
    with pytest.raises(SimulationError, match="index 4 out of bounds for dim 0 of size 4"):
        run_program(prog, None, {"x": np.zeros(4, np.float32)})

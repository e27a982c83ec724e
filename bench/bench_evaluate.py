"""How much slower than a bare numpy matmul is the evaluator on a real-size dequant + matmul?

The module is the torch-mlir GPTQ pattern (split generics: uitofp, subf, mulf over the
(N, G, g) expansion with a (d0, d1, 0) broadcast, collapse, transpose, fill, f16 x f16 -> f32
matmul, truncf) at M=64, K=N=4096, uint4 weights in uint8, group 128.

    python bench/bench_evaluate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from xdsl.parser import Parser

from mixpe.context import mixpe_context
from mixpe.interp.evaluate import evaluate

M, K, N, GROUP = 64, 4096, 4096, 128
G = K // GROUP

MODULE = f"""
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#b3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%x: tensor<{M}x{K}xf16>, %q: tensor<{N}x{K}xi8>, %s: tensor<{N}x{G}xf16>,
                %z: tensor<{N}x{G}xi8>) -> tensor<{M}x{N}xf16> {{
  %zero = arith.constant 0.0 : f32
  %qe = tensor.expand_shape %q [[0], [1, 2]] output_shape [{N}, {G}, {GROUP}]
      : tensor<{N}x{K}xi8> into tensor<{N}x{G}x{GROUP}xi8>
  %e = tensor.empty() : tensor<{N}x{G}x{GROUP}xf16>
  %qf = linalg.generic {{indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%qe : tensor<{N}x{G}x{GROUP}xi8>) outs(%e : tensor<{N}x{G}x{GROUP}xf16>) {{
  ^bb0(%a: i8, %o: f16):
    %f = arith.uitofp %a : i8 to f16
    linalg.yield %f : f16
  }} -> tensor<{N}x{G}x{GROUP}xf16>
  %ze = tensor.expand_shape %z [[0], [1, 2]] output_shape [{N}, {G}, 1] : tensor<{N}x{G}xi8> into tensor<{N}x{G}x1xi8>
  %ez = tensor.empty() : tensor<{N}x{G}x1xf16>
  %zf = linalg.generic {{indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%ze : tensor<{N}x{G}x1xi8>) outs(%ez : tensor<{N}x{G}x1xf16>) {{
  ^bb0(%a: i8, %o: f16):
    %f = arith.uitofp %a : i8 to f16
    linalg.yield %f : f16
  }} -> tensor<{N}x{G}x1xf16>
  %d = linalg.generic {{indexing_maps = [#id3, #b3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%qf, %zf : tensor<{N}x{G}x{GROUP}xf16>, tensor<{N}x{G}x1xf16>) outs(%e : tensor<{N}x{G}x{GROUP}xf16>) {{
  ^bb0(%a: f16, %b: f16, %o: f16):
    %r = arith.subf %a, %b : f16
    linalg.yield %r : f16
  }} -> tensor<{N}x{G}x{GROUP}xf16>
  %se = tensor.expand_shape %s [[0], [1, 2]] output_shape [{N}, {G}, 1] : tensor<{N}x{G}xf16> into tensor<{N}x{G}x1xf16>
  %w3 = linalg.generic {{indexing_maps = [#id3, #b3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%d, %se : tensor<{N}x{G}x{GROUP}xf16>, tensor<{N}x{G}x1xf16>) outs(%e : tensor<{N}x{G}x{GROUP}xf16>) {{
  ^bb0(%a: f16, %b: f16, %o: f16):
    %r = arith.mulf %a, %b : f16
    linalg.yield %r : f16
  }} -> tensor<{N}x{G}x{GROUP}xf16>
  %w = tensor.collapse_shape %w3 [[0], [1, 2]] : tensor<{N}x{G}x{GROUP}xf16> into tensor<{N}x{K}xf16>
  %et = tensor.empty() : tensor<{K}x{N}xf16>
  %wt = linalg.transpose ins(%w : tensor<{N}x{K}xf16>) outs(%et : tensor<{K}x{N}xf16>) permutation = [1, 0]
  %ea = tensor.empty() : tensor<{M}x{N}xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%ea : tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>
  %mm = linalg.matmul ins(%x, %wt : tensor<{M}x{K}xf16>, tensor<{K}x{N}xf16>)
      outs(%acc : tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>
  %eh = tensor.empty() : tensor<{M}x{N}xf16>
  %y = linalg.generic {{indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}}
      ins(%mm : tensor<{M}x{N}xf32>) outs(%eh : tensor<{M}x{N}xf16>) {{
  ^bb0(%a: f32, %o: f16):
    %t = arith.truncf %a : f32 to f16
    linalg.yield %t : f16
  }} -> tensor<{M}x{N}xf16>
  return %y : tensor<{M}x{N}xf16>
}}
"""


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    repeat = ap.parse_args().repeat

    module = Parser(mixpe_context(), MODULE).parse_module()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((M, K)).astype(np.float16)
    q = rng.integers(0, 16, (N, K), dtype=np.uint8)
    s = (rng.random((N, G)) / 64).astype(np.float16)
    z = rng.integers(0, 16, (N, G), dtype=np.uint8)

    (y,) = evaluate(module, [x, q, s, z])
    w = ((q.reshape(N, G, GROUP).astype(np.float32) - z[:, :, None]) * s[:, :, None]).astype(np.float16)
    ref = (x.astype(np.float64) @ w.reshape(N, K).T.astype(np.float64)).astype(np.float32).astype(np.float16)
    assert np.array_equal(y, ref), "evaluator disagrees with numpy"

    xf, wf = x.astype(np.float32), w.reshape(N, K).T.astype(np.float32).copy()
    t_eval = best_of(lambda: evaluate(module, [x, q, s, z]), repeat)
    t_np = best_of(lambda: xf @ wf, repeat)
    print(f"M={M} K={K} N={N} g={GROUP}: evaluator {t_eval * 1e3:.0f} ms, "
          f"numpy f32 matmul {t_np * 1e3:.1f} ms, ratio {t_eval / t_np:.1f}x")


if __name__ == "__main__":
    main()

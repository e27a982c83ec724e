"""Integer activations through mixpe-raise (issue #11): frontend module vs raised vs hoisted.

- `sitofp(xq) * sx` feeding a dequantize-then-matmul: the GEMM runs on xq with exact integer
  partial sums and sx multiplies each row after it. Raised and hoisted are bit-identical, and
  both equal a numpy reference that does the integer GEMM (`kernels.mpgemm`, i32) and then
  `f32(y * sx)` rounded to the frontend's result type. The frontend itself rounds `xq * sx` to
  its float type before the GEMM, so it agrees only to that rounding.
- `i8 x i8 -> i32` matmuls and `linalg.quantized_matmul` with any activation zero point are
  bit-exact in i32 (wrapping like the frontend), before and after hoisting.
"""

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import run_passes as run

from mixpe.reference import kernels
from mixpe.reference.dtypes import round_to
from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass
from mixpe.transforms.mixpe_raise import MixpeRaisePass

NP = {"f16": np.float16, "f32": np.float32, "bf16": ml_dtypes.bfloat16}


def _frontend(m, k, n, g, act, sx_kind, layout, zp, signed):
    """Generic-style frontend IR: x = sitofp(xq) * sx, W = (q - z) * s or q * s per group,
    a matmul accumulating in f32, then a cast to the activation type."""
    G = k // g
    sx_ty = {"token2d": f"tensor<{m}x1x{act}>", "token1d": f"tensor<{m}x{act}>", "tensor": f"tensor<{act}>"}[sx_kind]
    sx_map = {"token2d": "(d0, 0)", "token1d": "(d0)", "tensor": "()"}[sx_kind]
    q_shape = f"{k}x{n}" if layout == "kn" else f"{n}x{k}"
    p_shape = f"{G}x{n}" if layout == "kn" else f"{n}x{G}"
    p_map = "(d0 floordiv %d, d1)" % g if layout == "kn" else "(d0, d1 floordiv %d)" % g
    w_map = "(d2, d1)" if layout == "kn" else "(d1, d2)"
    conv = "arith.sitofp" if signed else "arith.uitofp"
    zero_args, zero_in, zero_blk, zero_body = "", "", "", f"%c = {conv} %qq : i8 to f32"
    if zp:
        zero_args = f", %z: tensor<{p_shape}xi8>"
        zero_in = (", %z", f", tensor<{p_shape}xi8>", f", affine_map<(d0, d1) -> {p_map}>")
        zero_blk = ", %zz: i8"
        zero_body = (f"%qf = {conv} %qq : i8 to f32\n    %zf = {conv} %zz : i8 to f32\n"
                     "    %c = arith.subf %qf, %zf : f32")
    else:
        zero_in = ("", "", "")
    return f"""
func.func @main(%xq: tensor<{m}x{k}xi8>, %sx: {sx_ty}, %q: tensor<{q_shape}xi8>, %s: tensor<{p_shape}xf32>{zero_args})
    -> tensor<{m}x{n}x{act}> {{
  %ex = tensor.empty() : tensor<{m}x{k}x{act}>
  %x = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> {sx_map}>,
                                         affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}}
      ins(%xq, %sx : tensor<{m}x{k}xi8>, {sx_ty}) outs(%ex : tensor<{m}x{k}x{act}>) {{
  ^bb0(%a: i8, %b: {act}, %o: {act}):
    %af = arith.sitofp %a : i8 to {act}
    %v = arith.mulf %af, %b : {act}
    linalg.yield %v : {act}
  }} -> tensor<{m}x{k}x{act}>
  %ew = tensor.empty() : tensor<{q_shape}xf32>
  %w = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> {p_map}>{zero_in[2]},
                                         affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}}
      ins(%q, %s{zero_in[0]} : tensor<{q_shape}xi8>, tensor<{p_shape}xf32>{zero_in[1]})
      outs(%ew : tensor<{q_shape}xf32>) {{
  ^bb0(%qq: i8, %ss: f32{zero_blk}, %o: f32):
    {zero_body}
    %v = arith.mulf %c, %ss : f32
    linalg.yield %v : f32
  }} -> tensor<{q_shape}xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{m}x{n}xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %r = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> {w_map}>,
                                         affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}}
      ins(%x, %w : tensor<{m}x{k}x{act}>, tensor<{q_shape}xf32>) outs(%f : tensor<{m}x{n}xf32>) {{
  ^bb0(%a: {act}, %b: f32, %acc: f32):
    {"%af = arith.extf %a : " + act + " to f32" if act != "f32" else ""}
    %p = arith.mulf {"%af" if act != "f32" else "%a"}, %b : f32
    %o = arith.addf %acc, %p : f32
    linalg.yield %o : f32
  }} -> tensor<{m}x{n}xf32>
  %eo = tensor.empty() : tensor<{m}x{n}x{act}>
  %y = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}}
      ins(%r : tensor<{m}x{n}xf32>) outs(%eo : tensor<{m}x{n}x{act}>) {{
  ^bb0(%a: f32, %b: {act}):
    {"%t = arith.truncf %a : f32 to " + act if act != "f32" else ""}
    linalg.yield {"%t" if act != "f32" else "%a"} : {act}
  }} -> tensor<{m}x{n}x{act}>
  func.return %y : tensor<{m}x{n}x{act}>
}}"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m=st.integers(1, 5), groups=st.integers(1, 3), g=st.sampled_from([16, 32, 64]), n=st.integers(1, 9),
    act=st.sampled_from(["f16", "bf16", "f32"]), sx_kind=st.sampled_from(["token2d", "token1d", "tensor"]),
    layout=st.sampled_from(["kn", "nk"]), zp=st.booleans(), bits=st.sampled_from([2, 4, 8]),
    seed=st.integers(0, 2**32 - 1),
)
def test_scaled_int8_activations_are_integer_gemms(m, groups, g, n, act, sx_kind, layout, zp, bits, seed):
    k = g * groups
    signed = not zp  # docs/design.md §5: zero points -> unsigned codes; symmetric -> signed
    text = _frontend(m, k, n, g, act, sx_kind, layout, zp, signed)
    rng = np.random.default_rng(seed)
    xq = rng.integers(-128, 128, (m, k)).astype(np.int8)
    sx_shape = {"token2d": (m, 1), "token1d": (m,), "tensor": ()}[sx_kind]
    sx = rng.uniform(0.002, 0.05, sx_shape).astype(NP[act])
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    q_shape = (k, n) if layout == "kn" else (n, k)
    p_shape = (groups, n) if layout == "kn" else (n, groups)
    q = rng.integers(lo, hi + 1, q_shape).astype(np.uint8 if not signed else np.int8)
    s = rng.uniform(0.005, 0.05, p_shape).astype(np.float32)
    args = [xq, sx, q.view(np.int8), s]
    z = None
    if zp:
        z = rng.integers(0, hi + 1, p_shape).astype(np.uint8)
        args.append(z.view(np.int8))

    _, y0 = run(text, args, [])
    raised, y1 = run(text, args, [MixpeRaisePass(weight_bits=bits)])
    text_raised = str(raised)
    assert "mixpe.mpgemm %xq" in text_raised and "acc i32" in text_raised, text_raised
    assert "arith.sitofp" not in text_raised.split("mixpe.mpgemm")[0]
    hoisted, y2 = run(text, args, [MixpeRaisePass(weight_bits=bits), MixpeHoistDequantPass()])
    assert "mixpe.group_psum %xq" in str(hoisted)

    np.testing.assert_array_equal(y1, y2)  # integer partial sums: the same numbers
    p = kernels.mpgemm(xq, q.astype(np.int64), s, z, group_size=g, weight_bits=bits, signed=signed,
                       zp_mode="original" if zp else "symmetric", layout=layout, acc="i32", out_dtype="f32")
    sx_rows = np.broadcast_to(np.asarray(sx, dtype=np.float32).reshape(-1, 1) if sx_kind != "tensor"
                              else np.float32(sx), (m, 1))
    want = round_to((p * sx_rows).astype(np.float32).astype(np.float64), act)
    np.testing.assert_array_equal(y1.astype(np.float64), want.astype(np.float64))

    # The frontend rounds x = xq*sx to `act` (and each W to f32) before an f32 GEMM.
    x64 = xq.astype(np.float64) * np.asarray(sx, dtype=np.float64).reshape(sx_rows.shape if sx_kind != "tensor" else ())
    w64 = kernels.dequantize(q.astype(np.int64), s.astype(np.float64), None if z is None else z.astype(np.float64),
                             group_size=g, zp_mode="original" if zp else "symmetric", layout=layout)
    scale = np.abs(x64) @ np.abs(w64) + 1e-30
    u = {"f16": 2.0**-11, "bf16": 2.0**-8, "f32": 2.0**-24}[act]
    err = np.abs(y0.astype(np.float64) - y1.astype(np.float64))
    assert np.all(err <= 4 * u * scale + 2 * u * np.abs(y1.astype(np.float64))), float((err / scale).max())


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 6), k=st.sampled_from([8, 64, 256]), n=st.integers(1, 12), nk=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_int_matmul_is_bit_exact(m, k, n, nk, seed):
    """`linalg.matmul` i8 x i8 -> i32 (weights [K,N], or [N,K] through linalg.transpose)."""
    w_ty = f"tensor<{n}x{k}xi8>" if nk else f"tensor<{k}x{n}xi8>"
    transpose = (f"%et = tensor.empty() : tensor<{k}x{n}xi8>\n  %wt = linalg.transpose ins(%w : {w_ty}) "
                 f"outs(%et : tensor<{k}x{n}xi8>) permutation = [1, 0]") if nk else ""
    text = f"""
    func.func @main(%x: tensor<{m}x{k}xi8>, %w: {w_ty}) -> tensor<{m}x{n}xi32> {{
      {transpose}
      %c0 = arith.constant 0 : i32
      %e = tensor.empty() : tensor<{m}x{n}xi32>
      %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<{m}x{n}xi32>) -> tensor<{m}x{n}xi32>
      %y = linalg.matmul ins(%x, {"%wt" if nk else "%w"} : tensor<{m}x{k}xi8>, tensor<{k}x{n}xi8>)
          outs(%f : tensor<{m}x{n}xi32>) -> tensor<{m}x{n}xi32>
      func.return %y : tensor<{m}x{n}xi32>
    }}"""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (m, k)).astype(np.int8)
    w = rng.integers(-128, 128, (n, k) if nk else (k, n)).astype(np.int8)
    _, y0 = run(text, [x, w], [])
    # a full-width integer GEMM with nothing after it is not a quantized linear: left dense
    plain, _ = run(text, [x, w], [MixpeRaisePass()])
    assert "mixpe.mpgemm" not in str(plain) and "linalg.matmul" in str(plain)
    w = (w % 16 - 8).astype(np.int8)  # with 4-bit values and weight-bits=4 it runs on 4-bit PEs
    _, y0 = run(text, [x, w], [])
    raised, y1 = run(text, [x, w], [MixpeRaisePass(weight_bits=4)])
    assert "mixpe.mpgemm" in str(raised) and "linalg.matmul" not in str(raised)
    _, y2 = run(text, [x, w], [MixpeRaisePass(weight_bits=4), MixpeHoistDequantPass()])
    want = (x.astype(np.int64) @ (w.T if nk else w).astype(np.int64)).astype(np.int32)
    for y in (y0, y1, y2):
        np.testing.assert_array_equal(y, want)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 6), k=st.sampled_from([2, 16, 64, 256]), n=st.integers(1, 12), zx=st.integers(-128, 127),
       zw=st.integers(-128, 127), constant=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_quantized_matmul_with_activation_zero_point(m, k, n, zx, zw, constant, seed):
    """sum_k (x - zx)(w - zw) = P - zw·A - zx·colsum(w - zw), bit-exact in i32; with constant
    weights and zero points the column sums are folded at compile time."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (m, k)).astype(np.int8)
    w = rng.integers(-128, 128, (k, n)).astype(np.int8)
    if constant:
        rows = ", ".join("[" + ", ".join(str(int(v)) for v in row) + "]" for row in w)
        head = f"%x: tensor<{m}x{k}xi8>"
        consts = (f"%w = arith.constant dense<[{rows}]> : tensor<{k}x{n}xi8>\n"
                  f"      %zx = arith.constant {zx} : i32\n      %zw = arith.constant {zw} : i32")
        args = [x]
    else:
        head = f"%x: tensor<{m}x{k}xi8>, %w: tensor<{k}x{n}xi8>, %zx: i32, %zw: i32"
        consts = ""
        args = [x, w, np.int32(zx), np.int32(zw)]
    text = f"""
    func.func @main({head}) -> tensor<{m}x{n}xi32> {{
      {consts}
      %c0 = arith.constant 0 : i32
      %e = tensor.empty() : tensor<{m}x{n}xi32>
      %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<{m}x{n}xi32>) -> tensor<{m}x{n}xi32>
      %y = linalg.quantized_matmul ins(%x, %w, %zx, %zw : tensor<{m}x{k}xi8>, tensor<{k}x{n}xi8>, i32, i32)
          outs(%f : tensor<{m}x{n}xi32>) -> tensor<{m}x{n}xi32>
      func.return %y : tensor<{m}x{n}xi32>
    }}"""
    _, y0 = run(text, args, [])
    raised, y1 = run(text, args, [MixpeRaisePass()])
    assert "mixpe.mpgemm" in str(raised) and "linalg.quantized_matmul" not in str(raised)
    # runtime weights: a reduction
    assert ('iterator_types = ["reduction", "parallel"]' in str(raised)) == (not constant)
    _, y2 = run(text, args, [MixpeRaisePass(), MixpeHoistDequantPass()])
    want = ((x.astype(np.int64) - zx) @ (w.astype(np.int64) - zw)).astype(np.int32)
    for y in (y0, y1, y2):
        np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("name,bits", [("w4a8_sitofp_pertoken", 4), ("w4a8_sitofp_pertensor", 4), ("w4a8_int8act", 4),
                                       ("w4a8_intmm_perchannel", 4), ("w8a8_intmm_perchannel_scaled", 8)])
def test_exported_integer_activations(name, bits):
    """torch-mlir exports: raised + hoisted vs a numpy integer reference (bit-exact) and vs
    torch (which rounds x*sx to its float type first, for the sitofp forms)."""
    from pathlib import Path

    root = Path(__file__).parents[2] / "inputs" / "torch"
    data = np.load(root / f"{name}.npz")
    text = (root / f"{name}.mlir").read_text()
    args = [data[f"arg{i}"] for i in range(len([f for f in data.files if f.startswith("arg")]))]
    module, y = run(text, args, [MixpeRaisePass(weight_bits=bits), MixpeHoistDequantPass()])
    text = str(module)
    assert "mixpe.group_psum %arg0" in text and "xi32>" in text.split("mixpe.group_psum")[1].split("\n")[0]
    ref = data["result0"].astype(np.float64)
    if "intmm" in name:
        q = data["const_qweight"] if "const_qweight" in data.files else args[2]
        s = data["const_scales"] if "const_scales" in data.files else args[3]
        acc = (args[0].astype(np.int64) @ q.astype(np.int64).T).astype(np.float32)
        want = (acc * args[1].astype(np.float32)) * s.astype(np.float32)
        np.testing.assert_array_equal(y, want)  # the frontend's own f32 epilogue, on exact P
        np.testing.assert_array_equal(y, data["result0"])  # and torch's
        return
    tol = 2.0**-9 if y.dtype == np.float16 else 2.0**-20
    np.testing.assert_allclose(y.astype(np.float64), ref, rtol=0, atol=tol * np.abs(ref).max() * 4)

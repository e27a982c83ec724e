"""The front half preserves numerics: frontend module == raised == hoisted, property-tested.

For every random quantized linear (shape, g, bits, signedness, zero-point mode, layout,
activation type, IR style) emitted as frontend linalg, we evaluate
- the frontend module itself (dequantize in its float type, f32 matmul),
- after `mixpe-raise` (one mixpe.mpgemm),
- after `mixpe-hoist-dequant` (group partial sums, activation sums, epilogue),
and compare with float64 `X @ dequant(Q)`. Integer activations: raised and hoisted are
bit-identical. Float activations: each stays within its documented bound
(docs/numerics.md).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import linear_specs, run_passes

from mixpe.frontend.linalg_emit import LinearSpec, emit, random_inputs
from mixpe.reference import kernels
from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass
from mixpe.transforms.mixpe_raise import MixpeRaisePass


UNIT = {"f16": 2.0**-11, "bf16": 2.0**-8, "f32": 2.0**-24}


specs = linear_specs
run = run_passes


def reference(spec: LinearSpec, args):
    x, q, s = args[:3]
    z = args[3] if len(args) > 3 else None
    zf = None if z is None else np.asarray(z).astype(np.float64)
    w = kernels.dequantize(q.astype(np.int64), s.astype(np.float64), zf, group_size=spec.group,
                           zp_mode=spec.zp_mode, layout=spec.layout)
    y64 = kernels.reference_linear(x.astype(np.float64), w)
    xa, wa = np.abs(x.astype(np.float64)), np.abs(w)
    s_k = np.abs(np.repeat(s.astype(np.float64) if spec.layout == "kn" else s.astype(np.float64).T, spec.group, axis=0))
    q_k = np.abs(q.astype(np.float64) if spec.layout == "kn" else q.astype(np.float64).T)
    z_k = 0 if zf is None else np.abs(np.repeat(zf if spec.layout == "kn" else zf.T, spec.group, axis=0))
    mag = s_k * q_k + z_k if spec.zp_mode == "rescale" else s_k * (q_k + z_k)
    return y64, xa @ mag, xa @ wa


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), seed=st.integers(0, 2**32 - 1))
def test_frontend_raised_and_hoisted_agree(spec, seed):
    text = emit(spec)
    args = random_inputs(spec, np.random.default_rng(seed))
    _, y0 = run(text, args, [])
    raised, y1 = run(text, args, [MixpeRaisePass(weight_bits=spec.bits)])
    assert "mixpe.mpgemm" in str(raised)
    hoisted, y2 = run(text, args, [MixpeRaisePass(weight_bits=spec.bits), MixpeHoistDequantPass()])
    assert "mixpe.group_psum" in str(hoisted) and "mixpe.mpgemm" not in str(hoisted)

    y64, t, _ = reference(spec, args)
    u_out = UNIT.get(spec.out, 2.0**-24)
    eta = 2.0**-24
    if spec.act == "i8":
        # Integer activations: partial sums are exact, so both forms are the same numbers.
        np.testing.assert_array_equal(y1, y2)
    # Raised/hoisted: exact or f32 group sums, one float64 epilogue, output rounding(s).
    u_acc = 0.0 if spec.act == "i8" else 2.0**-24
    bound_mixpe = 2 * u_out * np.abs(y64) + (1 + 2 * u_out) * (u_acc + (spec.k + 8) * 2.0**-53) * t + eta
    for y in (y1, y2):
        err = np.abs(y.astype(np.float64) - y64)
        assert np.all(err <= bound_mixpe), float((err - bound_mixpe).max())
    # The frontend module rounds each dequantized weight to its float type (2 ops) and
    # accumulates in f32: a looser bound, stated in docs/numerics.md.
    u_deq = UNIT[spec.deq]
    bound_front = 2 * u_out * np.abs(y64) + (3 * u_deq + (spec.k + 2) * 2.0**-24) * t + eta
    err0 = np.abs(y0.astype(np.float64) - y64)
    assert np.all(err0 <= bound_front), float((err0 - bound_front).max())


@pytest.mark.parametrize("name", [
    "gptq_uint4_g128", "awq_rescale_g128", "symmetric_kn_f32_g32", "perchannel_int8_bf16", "act3d_uint4_g128",
    "gated_mlp_w4_g128", "w2_g64", "w3_g128", "g256_uint4", "constant_weights_w4", "linear_bias_uint4_g128",
    "packed_uint4x2_g128", "gptq_int8storage_w4_g64", "w4a8_int8act"])
def test_torch_inputs_raised_match_torch(name):
    """Real frontend files: raised + hoisted module vs torch's own output."""
    import ml_dtypes
    from pathlib import Path

    root = Path(__file__).parents[2] / "inputs" / "torch"
    data = np.load(root / f"{name}.npz")
    text = (root / f"{name}.mlir").read_text()
    args = [data[f"arg{i}"] for i in range(len([k for k in data.files if k.startswith("arg")]))]
    if "bf16" in name:
        args = [a.astype(ml_dtypes.bfloat16) if a.dtype == np.float32 else a for a in args]
    bits = {"w2_g64": 2, "w3_g128": 3, "perchannel_int8_bf16": 8}.get(name, 4)
    _, y = run(text, args, [MixpeRaisePass(weight_bits=bits), MixpeHoistDequantPass()])
    ref = data["result0"].astype(np.float64)
    tol = {np.dtype(np.float16): 2.0**-9, np.dtype(np.float32): 2.0**-16}.get(np.dtype(y.dtype), 2.0**-6)
    np.testing.assert_allclose(y.astype(np.float64), ref, rtol=0, atol=tol * (np.abs(ref).max() + 1e-3) * 4)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 6), k=st.sampled_from([16, 64, 256]), n=st.integers(1, 12), zw=st.integers(-128, 127),
       seed=st.integers(0, 2**32 - 1))
def test_quantized_matmul_raise_is_bit_exact(m, k, n, zw, seed):
    """W8A8 `linalg.quantized_matmul` -> mpgemm -> hoisted: the same i32 numbers."""
    text = f"""
    func.func @main(%x: tensor<{m}x{k}xi8>, %w: tensor<{k}x{n}xi8>, %zw: i32) -> tensor<{m}x{n}xi32> {{
      %c0 = arith.constant 0 : i32
      %e = tensor.empty() : tensor<{m}x{n}xi32>
      %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<{m}x{n}xi32>) -> tensor<{m}x{n}xi32>
      %y = linalg.quantized_matmul ins(%x, %w, %c0, %zw : tensor<{m}x{k}xi8>, tensor<{k}x{n}xi8>, i32, i32)
          outs(%f : tensor<{m}x{n}xi32>) -> tensor<{m}x{n}xi32>
      func.return %y : tensor<{m}x{n}xi32>
    }}"""
    rng = np.random.default_rng(seed)
    args = [rng.integers(-128, 128, (m, k)).astype(np.int8), rng.integers(-128, 128, (k, n)).astype(np.int8),
            np.int32(zw)]
    _, y0 = run(text, args, [])
    raised, y1 = run(text, args, [MixpeRaisePass()])
    assert "mixpe.mpgemm" in str(raised)
    _, y2 = run(text, args, [MixpeRaisePass(), MixpeHoistDequantPass()])
    want = (args[0].astype(np.int64) @ (args[1].astype(np.int64) - zw)).astype(np.int32)
    for y in (y0, y1, y2):
        np.testing.assert_array_equal(y, want)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=linear_specs(), seed=st.integers(0, 2**32 - 1))
def test_per_token_activation_quantization(spec, seed):
    """`act-quant=per-token`: float activations become i8 per token; the module computes
    exactly what a numpy reference quantizing the same way (f32) computes, and the
    simulator runs it bit for bit."""
    from mixpe import driver
    from mixpe.simulator.execute import run_program
    from mixpe.simulator.program import parse_program

    if spec.act == "i8":
        return  # integer activations are already quantized: the option leaves them alone
    text = emit(spec)
    args = random_inputs(spec, np.random.default_rng(seed))
    if seed % 5 == 0:
        args[0] = args[0].copy()
        args[0][0] = 0  # an all-zero token takes the scale 1, not a division by zero
    module, y = run(text, args, [MixpeRaisePass(weight_bits=spec.bits, act_quant="per-token")])
    assert "mixpe.mpgemm" in str(module) and "acc i32" in str(module)

    x = args[0].astype(np.float32)
    amax = np.abs(x).max(axis=1)
    sx = np.where(amax == 0, np.float32(1), amax / np.float32(127)).astype(np.float32)
    xq = np.clip(np.rint(x / sx[:, None]), -127, 127).astype(np.int8)
    z = args[3] if len(args) > 3 else None
    p = kernels.mpgemm(xq, args[1].astype(np.int64), args[2], z, group_size=spec.group, weight_bits=spec.bits,
                       signed=spec.signed, zp_mode=spec.zp_mode, layout=spec.layout, acc="i32", out_dtype="f32")
    want = (p * sx[:, None]).astype(np.float32)
    if spec.out != "f32":
        from mixpe.reference.dtypes import round_to

        want = round_to(want.astype(np.float64), spec.out)
    np.testing.assert_array_equal(y.astype(np.float64), want.astype(np.float64))

    program = parse_program(driver.compile_to_program(
        text, driver.CompileOptions(weight_bits=spec.bits, act_quant="per-token")))
    assert any(v.type.dtype == "i8" for i in program.instructions if i.op == "bitplane_psum"
               for v in [program.values[i.args[0]]])
    got = run_program(program, None, args).outputs["result0"]
    np.testing.assert_array_equal(got.astype(np.float64), y.astype(np.float64))

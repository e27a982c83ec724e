"""Round trip: frontend module -> mixpe-pipeline -> -t mixpe-sim -> simulator == the module.

Every program the backend emits must run on the simulator and reproduce the numbers
of the source module: property-tested across shapes, group sizes, bits, signedness,
zero-point modes, layouts, activation types, IR styles, dataflows and both weight
formats, and checked on every real torch-mlir input against torch's own output.
"""

from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import linear_specs

from mixpe import driver
from mixpe.frontend.linalg_emit import LinearSpec, emit, random_inputs
from mixpe.interp import mixpe_ops
from mixpe.interp.evaluate import evaluate
from mixpe.reference import kernels
from mixpe.simulator.execute import run_program
from mixpe.simulator.program import parse_program

mixpe_ops.register()
TORCH = Path(__file__).parents[2] / "inputs" / "torch"


def simulate(program: dict, args, hw=None):
    result = run_program(parse_program(program), hw, {f"arg{i}": a for i, a in enumerate(args)})
    return result.outputs["result0"], result


def specs():
    return linear_specs(groups=(32, 64, 128), max_m=8, max_n=24)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), seed=st.integers(0, 2**32 - 1), dataflow=st.sampled_from(["os", "ws"]))
def test_program_reproduces_module(spec, seed, dataflow):
    text = emit(spec)
    args = random_inputs(spec, np.random.default_rng(seed))
    options = driver.CompileOptions(weight_bits=spec.bits, dataflow=dataflow)
    hoisted = driver.parse(text)
    from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass
    from mixpe.transforms.mixpe_raise import MixpeRaisePass
    from mixpe.context import mixpe_context

    MixpeRaisePass(weight_bits=spec.bits).apply(mixpe_context(), hoisted)
    MixpeHoistDequantPass().apply(mixpe_context(), hoisted)
    (expected,) = evaluate(hoisted, args)
    program = driver.compile_to_program(text, options)
    assert any(i.op == "bitplane_psum" for i in program.instructions)
    got, result = simulate(program, args)
    assert got.dtype == expected.dtype
    # The same kernels at every step: the simulated program equals the hoisted module exactly.
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
    assert result.total is not None


def test_pow2_weights_run_as_shifts():
    """DenseShift: zero-free ±2^p weights become pow2_split + shift_psum and stay exact."""
    rng = np.random.default_rng(7)
    m, k, n, g = 8, 256, 24, 64
    text = f"""
    func.func @main(%x: tensor<{m}x{k}xi8>, %w: tensor<{n}x{k}xi8>, %s: tensor<{n}x{k // g}xf32>)
        -> tensor<{m}x{n}xf32> {{
      %y = mixpe.mpgemm %x, %w scales(%s) group {g} bits 3 signed format pow2 layout nk zp symmetric acc i32
          : (tensor<{m}x{k}xi8>, tensor<{n}x{k}xi8>, tensor<{n}x{k // g}xf32>) -> tensor<{m}x{n}xf32>
      func.return %y : tensor<{m}x{n}xf32>
    }}"""
    x = rng.integers(-128, 128, (m, k)).astype(np.int8)
    w = (rng.choice([-1, 1], (n, k)) * (1 << rng.integers(0, 4, (n, k)))).astype(np.int8)
    s = rng.uniform(0.01, 0.02, (n, k // g)).astype(np.float32)
    program = driver.compile_to_program(text)
    ops = [i.op for i in program.instructions]
    assert "pow2_split" in ops and "shift_psum" in ops, ops
    got, _ = simulate(program, [x, w, s])
    want = kernels.mpgemm(x, w.astype(np.int64), s, group_size=g, weight_bits=5, signed=True,
                          zp_mode="symmetric", layout="nk", acc="i32", out_dtype="f32")
    np.testing.assert_array_equal(got, want)


def test_out_of_range_weights_are_an_error_not_a_wrong_answer():
    spec = LinearSpec(m=2, k=64, n=4, group=32, bits=4, signed=False, zp_mode="original", layout="nk", act="f16")
    args = random_inputs(spec, np.random.default_rng(0))
    args[1] = args[1].copy()
    args[1][0, 0] = 200  # not a uint4
    program = driver.compile_to_program(emit(spec), driver.CompileOptions(weight_bits=4))
    with pytest.raises(ValueError, match="outside the unsigned 4-bit range"):
        simulate(program, args)


CASES = {
    "gptq_uint4_g128": 4, "gptq_int8storage_w4_g64": 4, "awq_rescale_g128": 4, "symmetric_kn_f32_g32": 4,
    "perchannel_int8_bf16": 8, "act3d_uint4_g128": 4, "gated_mlp_w4_g128": 4, "w2_g64": 2, "w3_g128": 3,
    "g256_uint4": 4, "constant_weights_w4": 4, "linear_bias_uint4_g128": 4, "packed_uint4x2_g128": 4,
    "w4a8_int8act": 4,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_inputs_end_to_end(name):
    """Real frontend IR through the whole compiler and the simulator, against torch."""
    data = np.load(TORCH / f"{name}.npz")
    program = driver.compile_to_program((TORCH / f"{name}.mlir").read_text(),
                                        driver.CompileOptions(weight_bits=CASES[name]), filename=f"{name}.mlir")
    inputs = parse_program(program).inputs
    args = []
    for i, v in enumerate(inputs):
        a = data[f"arg{i}"]
        args.append(a.astype(ml_dtypes.bfloat16) if v.type.dtype == "bf16" else a)
    got, _ = simulate(program, args)
    ref = data["result0"].astype(np.float64)
    ulp = {np.dtype(np.float16): 2.0**-10, np.dtype(ml_dtypes.bfloat16): 2.0**-7}.get(got.dtype, 2.0**-20)
    # torch rounds the dequantized weights to f16/bf16 and we do not: a few output ulps apart.
    np.testing.assert_allclose(got.astype(np.float64), ref, rtol=0, atol=8 * ulp * (np.abs(ref).max() + 1e-3))

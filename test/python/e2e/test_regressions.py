"""Regressions of issue #11 that the model corpus does not pin by itself."""

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mixpe import driver
from mixpe.simulator.execute import run_program
from mixpe.simulator.program import parse_program

BACKEND = Path(__file__).parents[2] / "filecheck" / "backend" / "mixpe-sim_storage.mlir"


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_iree_style_i4_dequant_into_an_f16_accumulator(seed):
    """Was: `result declared tensor<..xf16>, expected tensor<..xf32>` (an invalid program). The
    psums now live in the PE's f32 accumulator and i4 weights read through extui bind as ui4;
    the result is within f16 rounding of float64."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 64)).astype(np.float16)
    q = rng.integers(0, 16, (32, 2, 32)).astype(np.uint8)  # unsigned i4 values as a user gives them
    s = (rng.random((32, 2)) * 0.1).astype(np.float16)
    z = rng.integers(0, 16, (32, 2)).astype(np.float16)
    program = driver.compile_to_program(BACKEND.read_text(), entry="f16acc")
    y = run_program(parse_program(program), None, {"arg0": x, "arg1": q, "arg2": s, "arg3": z}).outputs["result0"]
    w = ((q.astype(np.float64) - z[:, :, None]) * s[:, :, None]).reshape(32, 64)
    y64 = x.astype(np.float64) @ w.T
    assert y.dtype == np.float16
    assert np.abs(y - y64).max() <= 2e-3 * np.abs(y64).max()  # docs/numerics.md: 2 f16 ulps


def test_uint8_weights_and_zero_points_above_127():
    """Was: the epilogue read zero points >= 128 as negative (relative error 2.19, exit 0)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 64)).astype(np.float32)
    program = driver.compile_to_program(BACKEND.read_text(), driver.CompileOptions(weight_bits=8), entry="u8")
    y = run_program(parse_program(program), None, {"arg0": x}).outputs["result0"]
    module = driver.parse(BACKEND.read_text())
    from mixpe.interp.evaluate import evaluate

    want = evaluate(module, [x], "u8")[0]
    assert np.abs(y - want).max() <= 1e-5 * np.abs(want).max()

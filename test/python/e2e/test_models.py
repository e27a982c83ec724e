"""Whole model pieces exported by torch-mlir (test/inputs/models, written by an independent user
from the README alone) compile, run bit-exactly on the simulator, and stay within the documented
bound of a float64 run: the test-suite twin of `bench/bench_models.py`.

Each case was a failure once: decoder layers did not parse (batch_matmul, two-result generics),
causal attention read `dense<0xFF800000>` as 4.3e9, uint8 weights >= 128 changed value, topk
(`tm_tensor.sort`) did not parse, RMSNorm's `pow(x, 2)`, rotary cos/sin, slices, pads and keepdim
reductions had no program equivalent, act-order dequantization could not run at all.
"""

from pathlib import Path

import numpy as np
import pytest

from mixpe.simulator.execute import SimulationError
from mixpe.testing.models import run_case

MODELS = Path(__file__).parents[2] / "inputs" / "models"
CASES = sorted(p.stem for p in MODELS.glob("*.mlir"))

# Cases that must fail, with the one-line reason a user sees.
CANNOT_RUN = {
    # u8 activations (extui) reach the GEMM as 32-bit integers: no A8 PE takes them unsigned
    "probe_act_u8_int_matmul": "32-bit activations do not fit the 8-bit PE input",
}

# What must raise (every quantized projection) in the full layers.
RAISED = {"llama_decoder_f32": 7, "llama_decoder_f16": 7, "llama_decoder_bf16": 7, "vit_block": 4,
          "gated_mlp_softmax_topk": 4, "w8_uint8_zp_high": 1, "i4_f16acc": 1, "w4a8_sitofp_act": 1,
          "w4a8_i8i8_i32": 1, "w4a8_int_mm": 1}


def test_the_corpus_is_there():
    assert len(CASES) >= 50 and {"llama_decoder_f32", "vit_block", "gated_mlp_softmax_topk"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_model_piece_compiles_runs_and_matches(name):
    if name in CANNOT_RUN:
        with pytest.raises(SimulationError, match=CANNOT_RUN[name]):
            run_case(MODELS / f"{name}.mlir")
        return
    r = run_case(MODELS / f"{name}.mlir")
    assert r.within_bound(), (r.errors, r.exact)
    if name in RAISED:
        assert r.raised == RAISED[name]
    # the float64 run is the reference; torch's own output agrees with ours to the same order
    for e in r.errors:
        if np.isfinite(e["err"]):
            assert e["vs_torch"] <= e["bound"] + e["torch_err"]


def test_decoder_layer_attention_runs_dense_on_the_array():
    """SDPA's two batch_matmuls are not quantized: they fall back to dense array GEMMs, the
    softmax, RMSNorm and RoPE run on the vector unit."""
    r = run_case(MODELS / "llama_decoder_f16.mlir")
    assert (r.raised, r.fallback) == (7, 2) and r.generic >= 1

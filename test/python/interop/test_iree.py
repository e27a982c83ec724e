"""Embedding, proven with a real client: the full-layer corpus, raised and hoisted by mixpe and
lowered back to upstream linalg (`mixpe-lower-to-linalg`), compiles with IREE (llvm-cpu) and runs
under IREE's runtime to the float64 reference within the same bound as mixpe's own simulator.

Needs the `iree` extra (iree-base-compiler, iree-base-runtime); skipped without it.
"""

import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from mixpe import driver
from mixpe.testing.models import TOLERANCE, rel_error, run_case, weight_bits

pytestmark = pytest.mark.iree
compiler = pytest.importorskip("iree.compiler")
rt = pytest.importorskip("iree.runtime")

MODELS = Path(__file__).parents[2] / "inputs" / "models"
# Every full layer and block of the corpus but the MoE router, whose topk is torch-mlir's own
# tm_tensor.sort (IREE has iree_linalg_ext.sort instead; upstream mlir-opt rejects it too).
LAYERS = ["llama_decoder_f32", "llama_decoder_f16", "llama_decoder_bf16", "vit_block", "rotary_embedding",
          "sdpa_causal_f32", "llama_mlp_f16", "w8_uint8_zp_high", "w4a8_sitofp_act"]


def lowered(name: str) -> str:
    """What another MLIR flow receives: mixpe's hoisted form as upstream linalg, in generic
    syntax with the weights' dense_resource blobs, exactly as a user pipes it from mixpe-opt."""
    path = MODELS / f"{name}.mlir"
    pipeline = f"mixpe-raise{{weight-bits={weight_bits(path)}}},mixpe-hoist-dequant,mixpe-lower-to-linalg"
    run = subprocess.run([sys.executable, "-m", "mixpe.tools.mixpe_opt", str(path), "-p", pipeline,
                          "--print-op-generic"], capture_output=True, text=True, check=True)
    assert "mixpe." not in run.stdout and "linalg" in run.stdout
    return run.stdout


def run_iree(text: str, args: list[np.ndarray]) -> list[np.ndarray]:
    vmfb = compiler.compile_str(text, target_backends=["llvm-cpu"], extra_args=["--iree-llvmcpu-target-cpu=generic"])
    cfg = rt.Config("local-sync")
    ctx = rt.SystemContext(config=cfg)
    ctx.add_vm_module(rt.VmModule.copy_buffer(cfg.vm_instance, vmfb))
    out = ctx.modules.module["main"](*args)
    return [np.asarray(o) for o in (out if isinstance(out, tuple | list) else [out])]


@pytest.mark.parametrize("name", LAYERS)
def test_lowered_layer_runs_under_iree(name):
    data = np.load(MODELS / f"{name}.npz")
    ref = np.load(MODELS / f"{name}.ref.npz")
    text = lowered(name)
    args = [data[k] for k in sorted(k for k in data if k.startswith("arg"))]
    sim = run_case(MODELS / f"{name}.mlir")
    # bf16 inputs are stored as float32 (exact); IREE takes them in their own type
    mod = driver.parse((MODELS / f"{name}.mlir").read_text())
    fn = next(op for op in mod.walk() if op.name == "func.func")
    for i, t in enumerate(fn.function_type.inputs.data):
        if "bf16" in str(t):
            args[i] = args[i].astype(ml_dtypes.bfloat16)
    outs = run_iree(text, args)
    for i, y in enumerate(outs):
        want = ref[f"result{i}"]
        dt = np.dtype(y.dtype).name if y.dtype != np.dtype(ml_dtypes.bfloat16) else "bfloat16"
        bound = max(TOLERANCE.get(dt, 1e-6), 2 * rel_error(data[f"result{i}"], want))
        err = rel_error(y, want)
        assert err <= bound, f"result{i}: IREE {err:.3g} vs float64, bound {bound:.3g}"
        # and it agrees with mixpe's simulator to the same order
        assert err <= 2 * max(e["err"] for e in sim.errors) + bound

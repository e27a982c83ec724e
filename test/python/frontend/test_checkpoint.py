"""GPTQ/AWQ checkpoints: our unpacker against an independent packer, then numerics after raise.

The packers below follow the documented layouts word by word (AutoGPTQ's `pack` loop over
rows i*8+j -> bits 4j; AutoAWQ's loop over AWQ_ORDER), not the unpacker's code.
"""

import numpy as np
import pytest

safetensors_numpy = pytest.importorskip("safetensors.numpy")

from xdsl.parser import Parser  # noqa: E402

from mixpe.context import mixpe_context  # noqa: E402
from mixpe.frontend.checkpoint import (  # noqa: E402
    CheckpointError,
    emit_linear,
    read_linear,
    unpack_gptq,
)
from mixpe.interp import mixpe_ops  # noqa: E402
from mixpe.interp.evaluate import evaluate  # noqa: E402
from mixpe.transforms.mixpe_raise import MixpeRaisePass  # noqa: E402

mixpe_ops.register()
K, N, G = 128, 16, 4
g = K // G


def pack_gptq_rows(q: np.ndarray) -> np.ndarray:
    """AutoGPTQ: word [i, n] holds rows 8i..8i+7, row 8i+j in bits 4j..4j+3."""
    out = np.zeros((q.shape[0] // 8, q.shape[1]), dtype=np.uint64)
    for i in range(out.shape[0]):
        for j in range(8):
            out[i] |= q[8 * i + j].astype(np.uint64) << np.uint64(4 * j)
    return out.astype(np.uint32).view(np.int32)


def pack_cols(z: np.ndarray, order=tuple(range(8))) -> np.ndarray:
    """Word [r, c] holds columns 8c + order[i] in bits 4i..4i+3 (AWQ: order = 0,2,4,6,1,3,5,7)."""
    out = np.zeros((z.shape[0], z.shape[1] // 8), dtype=np.uint64)
    for c in range(out.shape[1]):
        for i, col in enumerate(order):
            out[:, c] |= z[:, 8 * c + col].astype(np.uint64) << np.uint64(4 * i)
    return out.astype(np.uint32).view(np.int32)


AWQ = (0, 2, 4, 6, 1, 3, 5, 7)


@pytest.fixture
def tensors():
    rng = np.random.default_rng(0)
    q = rng.integers(0, 16, size=(K, N)).astype(np.uint8)
    z = rng.integers(1, 16, size=(G, N)).astype(np.uint8)  # v1 can store z-1 for z >= 1
    s = (rng.uniform(0.5, 1.5, size=(G, N)) / 64).astype(np.float16)
    return q, z, s


def _save(tmp_path, name, **tensors):
    path = str(tmp_path / f"{name}.safetensors")
    safetensors_numpy.save_file({f"model.layers.0.mlp.down_proj.{k}": v for k, v in tensors.items()}, path)
    return path


def _save_layer(tmp_path, fmt, q, z, s):
    """The layer in GPTQ v1 (zeros stored minus one) or AWQ packing."""
    if fmt == "gptq":
        return _save(tmp_path, fmt, qweight=pack_gptq_rows(q), qzeros=pack_cols(z - 1), scales=s)
    return _save(tmp_path, fmt, qweight=pack_cols(q, AWQ), qzeros=pack_cols(z, AWQ), scales=s)


def _check(layer, q, z, s):
    assert np.array_equal(layer.q, q) and np.array_equal(layer.zeros, z)
    assert np.array_equal(layer.scales, s) and layer.group_size == g


def test_gptq_v1_round_trip(tmp_path, tensors):
    q, z, s = tensors
    g_idx = (np.arange(K) // g).astype(np.int32)
    path = _save(tmp_path, "gptq", qweight=pack_gptq_rows(q), qzeros=pack_cols(z - 1), scales=s, g_idx=g_idx)
    layer = read_linear(path, "model.layers.0.mlp.down_proj")
    _check(layer, q, z, s)
    assert layer.act_perm is None
    # Without the v1 offset the same file reads one lower: the flag is what decides.
    assert np.array_equal(read_linear(path, "model.layers.0.mlp.down_proj", gptq_v1_zero_offset=False).zeros, z - 1)


def test_awq_round_trip(tmp_path, tensors):
    q, z, s = tensors
    path = _save(tmp_path, "awq", qweight=pack_cols(q, AWQ), qzeros=pack_cols(z, AWQ), scales=s)
    _check(read_linear(path, "model.layers.0.mlp.down_proj"), q, z, s)
    # The interleave matters: words packed in natural column order read back shuffled.
    plain = _save(tmp_path, "plain", qweight=pack_cols(q), qzeros=pack_cols(z), scales=s)
    assert not np.array_equal(read_linear(plain, "model.layers.0.mlp.down_proj", layout="awq").q, q)
    with pytest.raises(CheckpointError, match="neither GPTQ nor AWQ"):
        read_linear(path, "model.layers.0.mlp.down_proj", layout="bogus")


def test_negative_int32_words_unpack(tensors):
    """High nibbles >= 8 make the int32 negative; unpacking must not sign-extend."""
    q, z, s = tensors
    q = np.full_like(q, 15)
    layer = unpack_gptq(pack_gptq_rows(q), pack_cols(z), s, gptq_v1_zero_offset=False)
    assert (pack_gptq_rows(q) < 0).all() and np.array_equal(layer.q, q)


def test_act_order_g_idx_permutes_rows(tensors):
    q, z, s = tensors
    rng = np.random.default_rng(1)
    order = rng.permutation(K)  # quantization order; g_idx[order[i]] = i // g
    g_idx = np.empty(K, dtype=np.int32)
    g_idx[order] = np.arange(K) // g
    layer = unpack_gptq(pack_gptq_rows(q), pack_cols(z - 1), s, g_idx)
    assert layer.act_perm is not None
    w = np.empty((K, N))
    w[layer.act_perm] = layer.dequantize()
    ref = s.astype(np.float64)[g_idx] * (q.astype(np.float64) - z.astype(np.float64)[g_idx])
    assert np.array_equal(w, ref)
    x = rng.standard_normal((2, K))
    assert np.allclose(layer.permute_activations(x) @ layer.dequantize(), x @ ref)


def test_bad_g_idx_is_declined(tensors):
    q, z, s = tensors
    g_idx = np.zeros(K, dtype=np.int32)  # every row in group 0: not groups of g
    with pytest.raises(CheckpointError, match="g_idx is neither"):
        unpack_gptq(pack_gptq_rows(q), pack_cols(z), s, g_idx)


def test_missing_tensor_is_named(tmp_path, tensors):
    q, z, s = tensors
    path = _save(tmp_path, "partial", qweight=pack_gptq_rows(q), scales=s)
    with pytest.raises(CheckpointError, match=r"no model\.layers\.0\.mlp\.down_proj\.qzeros"):
        read_linear(path, "model.layers.0.mlp.down_proj")


@pytest.mark.parametrize("fmt", ["gptq", "awq"])
@pytest.mark.parametrize("act", ["f16", "f32"])
def test_emitted_layer_raises_and_matches_float64(tmp_path, tensors, fmt, act):
    q, z, s = tensors
    layer = read_linear(_save_layer(tmp_path, fmt, q, z, s), "model.layers.0.mlp.down_proj")
    text, weights = emit_linear(layer, m=3, act=act)
    ctx = mixpe_context()
    module = Parser(ctx, text).parse_module()
    MixpeRaisePass(weight_bits=4).apply(ctx, module)
    module.verify()
    assert "mixpe.mpgemm" in str(module) and "linalg.matmul" not in str(module)
    x = np.random.default_rng(2).standard_normal((3, K)).astype(np.float16 if act == "f16" else np.float32)
    y = evaluate(module, [x, *weights])[0].astype(np.float64)
    w = s.astype(np.float64).repeat(g, 0) * (q.astype(np.float64) - z.astype(np.float64).repeat(g, 0))
    ref = x.astype(np.float64) @ w
    bound = (2.0**-11 if act == "f16" else 2.0**-20) * np.abs(x.astype(np.float64)) @ np.abs(w) + 1e-12
    assert np.all(np.abs(y - ref) <= 2 * bound)


@pytest.mark.parametrize("fmt", ["gptq", "awq"])
def test_checkpoint_layer_compiles_and_simulates(tmp_path, tensors, fmt):
    """The front door end to end: safetensors -> frontend IR -> mixpe-pipeline -> simulator."""
    from mixpe import driver
    from mixpe.simulator.execute import run_program
    from mixpe.simulator.program import parse_program

    q, z, s = tensors
    layer = read_linear(_save_layer(tmp_path, fmt, q, z, s), "model.layers.0.mlp.down_proj")
    text, weights = emit_linear(layer, m=4, act="f16")
    program = parse_program(driver.compile_to_program(text, driver.CompileOptions(weight_bits=layer.bits)))
    assert any(i.op == "bitplane_psum" for i in program.instructions)
    x = np.random.default_rng(3).standard_normal((4, K)).astype(np.float16)
    result = run_program(program, None, [x, *weights])
    y = result.outputs["result0"].astype(np.float64)
    ref = x.astype(np.float64) @ layer.dequantize()
    # mixpe's documented bound (docs/numerics.md) with the final f16 rounding dominating.
    magnitude = np.abs(x.astype(np.float64)) @ np.abs(layer.dequantize())
    assert np.all(np.abs(y - ref) <= 2.0**-10 * np.abs(ref) + 2.0**-20 * magnitude + 2.0**-24)

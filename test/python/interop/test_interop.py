"""mixpe.interop on torch-mlir's upstream bindings: modules come back in the caller's context.

The input is what a torch-mlir user holds: `fx.export_and_import(..., LINALG_ON_TENSORS)` of a
GPTQ-style dequantize-then-matmul. Each export makes a fresh upstream context, which the IRDL
test needs (upstream must not have seen unregistered mixpe ops before loading the dialect).
"""

import numpy as np
import pytest

pytestmark = pytest.mark.torch_mlir
torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")
ir = pytest.importorskip("torch_mlir.ir")

from torch_mlir import fx  # noqa: E402
from torch_mlir.fx import OutputType  # noqa: E402
from xdsl.parser import Parser  # noqa: E402
from xdsl.universe import Universe  # noqa: E402

from mixpe.context import mixpe_context  # noqa: E402
from mixpe.interop import MixpeInteropError, from_xdsl, load_irdl, run_pipeline, to_xdsl  # noqa: E402
from mixpe.interp import mixpe_ops  # noqa: E402
from mixpe.interp.evaluate import evaluate  # noqa: E402

mixpe_ops.register()
N, K, G = 8, 64, 2


class GptqLinear(torch.nn.Module):
    """x @ W.t() with W = (q - z) * s, groups of K/G along K; q [N,K] uint8 holding 4 bits."""

    def forward(self, x, q, s, z):
        g = K // G
        w = (q.reshape(N, G, g).to(torch.float16) - z.reshape(N, G, 1).to(torch.float16)) * s.reshape(N, G, 1)
        return x @ w.reshape(N, K).t()


def _args():
    gen = torch.Generator().manual_seed(7)
    return (
        torch.randn(3, K, generator=gen).to(torch.float16),
        torch.randint(0, 16, (N, K), generator=gen, dtype=torch.uint8),
        (torch.rand(N, G, generator=gen) * 0.1).to(torch.float16),
        torch.randint(0, 16, (N, G), generator=gen, dtype=torch.uint8),
    )


def _export():
    with torch.no_grad():
        return fx.export_and_import(GptqLinear(), *_args(), output_type=OutputType.LINALG_ON_TENSORS, func_name="main")


@pytest.fixture(scope="module")
def exported():
    return _export()


def test_raise_and_hoist_in_callers_context(exported):
    out = run_pipeline(exported, "mixpe-raise{weight-bits=4},mixpe-hoist-dequant", allow_unregistered=True)
    assert out.context == exported.context
    assert out.operation.verify()
    text = str(out)
    assert '"mixpe.group_psum"' in text and '"mixpe.dequant_epilogue"' in text
    assert "linalg.matmul" not in text
    # Round trip: upstream re-prints and re-parses it, and xDSL reads it back unchanged.
    assert str(ir.Module.parse(text, context=exported.context)) == text
    xmod = to_xdsl(out)
    xmod.verify()
    args = [a.numpy() for a in _args()]
    y = evaluate(xmod, args)[0].astype(np.float64)
    want = GptqLinear()(*_args()).double().numpy()
    assert np.abs(y - want).max() <= 2e-3 * np.abs(want).max()


def test_unregistered_result_is_refused_without_permission():
    module = _export()
    with pytest.raises(MixpeInteropError, match="still holds 'mixpe.mpgemm'.*mixpe-lower-to-linalg"):
        run_pipeline(module, "mixpe-raise{weight-bits=4}")
    assert not module.context.allow_unregistered_dialects


def test_irdl_registered_context_verifies_mixpe_ops():
    module = _export()
    load_irdl(module)
    out = run_pipeline(module, "mixpe-raise{weight-bits=4}")
    assert not module.context.allow_unregistered_dialects
    assert out.operation.verify()
    assert '#mixpe.layout<"nk">' in str(out) and "weight_bits = 4 : i64" in str(out)


def test_lowered_pipeline_needs_no_unregistered_ops(exported):
    if "mixpe-lower-to-linalg" not in Universe.get_multiverse().all_passes:
        pytest.skip("mixpe-lower-to-linalg is not registered yet")
    module = _export()
    out = run_pipeline(module, "mixpe-raise{weight-bits=4},mixpe-lower-to-linalg")
    assert "mixpe." not in str(out) and out.operation.verify()
    assert not module.context.allow_unregistered_dialects


def test_bad_pipeline_is_one_line(exported):
    with pytest.raises(MixpeInteropError, match=r"^bad pipeline 'no-such-pass': .*no-such-pass"):
        run_pipeline(exported, "no-such-pass")


def test_pass_failure_names_the_pass(exported, monkeypatch):
    from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass

    def boom(self, ctx, op):
        raise ValueError("exploded\non two lines")

    monkeypatch.setattr(MixpeHoistDequantPass, "apply", boom)
    with pytest.raises(MixpeInteropError, match=r"^pass mixpe-hoist-dequant failed: exploded; on two lines$"):
        run_pipeline(exported, "mixpe-raise{weight-bits=4},mixpe-hoist-dequant", allow_unregistered=True)


def test_xdsl_parse_failure_has_a_location():
    context = ir.Context()
    context.allow_unregistered_dialects = True
    module = ir.Module.parse('"test.op"() {a = "x" : !quant.uniform<i8:f32, 1.0>} : () -> ()', context=context)
    with pytest.raises(MixpeInteropError,
                       match=r"^xDSL could not parse the module: <upstream module>:\d+:\d+: error: "):
        run_pipeline(module, "mixpe-hoist-dequant")


def test_upstream_reparse_failure_is_one_line(exported):
    # `#builtin.int` exists only in xDSL, so upstream cannot read it back.
    xmod = Parser(mixpe_context(allow_unregistered=True), '"test.op"() {a = #builtin.int<3>} : () -> ()').parse_module()
    with pytest.raises(MixpeInteropError, match=r"^upstream MLIR could not re-parse the result: loc\(.*\)") as info:
        from_xdsl(xmod, exported, allow_unregistered=True)
    assert "\n" not in str(info.value)

"""Hypothesis strategies and helpers shared by the numerics tests of every pass."""

from __future__ import annotations

from hypothesis import strategies as st
from xdsl.parser import Parser

from mixpe.context import mixpe_context
from mixpe.frontend.linalg_emit import LinearSpec
from mixpe.interp import mixpe_ops
from mixpe.interp.evaluate import evaluate

mixpe_ops.register()


@st.composite
def linear_specs(draw, groups=(32, 64, 128, 256), max_groups=3, max_m=6, max_n=20):
    """Random quantized linears over every style, activation type, zero-point mode, bit
    width and layout; signedness follows docs/design.md §5 (narrow values with zero points are
    unsigned)."""
    style = draw(st.sampled_from(["torch", "fused", "generic"]))
    act = draw(st.sampled_from(["f16", "bf16", "f32"] + ([] if style == "torch" else ["i8"])))
    group = draw(st.sampled_from(groups))
    zp = draw(st.sampled_from(["original", "rescale", "symmetric"]))
    bits = draw(st.sampled_from([2, 3, 4, 8]))
    return LinearSpec(
        m=draw(st.integers(1, max_m)),
        k=group * (draw(st.integers(1, max_groups)) if group < 256 else 1),
        n=draw(st.integers(1, max_n)),
        group=group,
        bits=bits,
        signed=draw(st.booleans()) if zp == "symmetric" or bits == 8 else False,
        zp_mode=zp,
        layout=draw(st.sampled_from(["kn", "nk"])),
        act=act,
        style=style,
        int_zero_sub=zp == "original" and draw(st.booleans()),
    )


def run_passes(text: str, args, passes, **evaluate_options):
    """(module after `passes`, its first result on `args`)."""
    ctx = mixpe_context()
    module = Parser(ctx, text).parse_module()
    for p in passes:
        p.apply(ctx, module)
    module.verify()
    return module, evaluate(module, args, **evaluate_options)[0]

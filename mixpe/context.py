"""One place that builds the xDSL context mixpe tools and tests parse with."""

from xdsl.context import Context

from mixpe.dialects import linalg_compat


def mixpe_context(allow_unregistered: bool = False) -> Context:
    """All dialects the environment's `xdsl.universe` plugins know (ours included), with
    xDSL 0.74's `linalg.matmul` corrected for mixed-precision frontend IR."""
    from xdsl.universe import Universe

    linalg_compat.install()
    ctx = Context(allow_unregistered=allow_unregistered)
    for name, factory in Universe.get_multiverse().all_dialects.items():
        ctx.register_dialect(name, factory)
    return ctx

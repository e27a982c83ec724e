"""One place that builds the xDSL context mixpe tools and tests parse with."""

from functools import cache

from xdsl.context import Context

from mixpe.dialects import linalg_compat


@cache
def _dialect_factories() -> tuple:
    """Scanning the `xdsl.universe` entry points is slow; the set of plugins is fixed per
    process, so it is done once (each call still gets its own, mutable, Context)."""
    from xdsl.universe import Universe

    return tuple(Universe.get_multiverse().all_dialects.items())


def mixpe_context(allow_unregistered: bool = False) -> Context:
    """All dialects the environment's `xdsl.universe` plugins know (ours included), with
    xDSL 0.74's `linalg.matmul` corrected for mixed-precision frontend IR."""
    linalg_compat.install()
    ctx = Context(allow_unregistered=allow_unregistered)
    for name, factory in _dialect_factories():
        ctx.register_dialect(name, factory)
    return ctx

"""Run mixpe passes on modules of the upstream MLIR Python bindings (torch-mlir, IREE, ...).

Why: flows that already hold an `ir.Module` (torch-mlir's FX importer, IREE's compiler
API) should not have to write files and shell out to `mixpe-opt`. The exchange is text
in *generic* form, the one both sides agree on (xDSL's custom printers differ, e.g.
`linalg.matmul` drops non-default indexing maps). The bindings are duck-typed: any
distribution (`torch_mlir.ir`, `iree.compiler.ir`, `mlir.ir`) works, and none is imported.

mixpe ops are not registered upstream. Either the pipeline ends in a lowering to
upstream-only ops (`mixpe-lower-to-linalg`), or the caller's context allows unregistered
dialects (`allow_unregistered=True` sets it), or the context registered mixpe from its
IRDL definition (`load_irdl`); the result is then spelled the way IRDL wants
(attributes, not properties; `#mixpe.layout<"nk">`). See docs/interop.md.
"""

from __future__ import annotations

import io
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.passes import PassPipeline
from xdsl.printer import Printer
from xdsl.utils.exceptions import ArgSpecParseError, ParseError

from mixpe.backend.irdl import mixpe_irdl_text, to_upstream_irdl_spelling
from mixpe.context import mixpe_context
from mixpe.diagnostics import one_line, parse_error_line, verify_located
from mixpe.dialects.mixpe import Mixpe

__all__ = ["MixpeInteropError", "from_xdsl", "load_irdl", "run_pipeline", "to_xdsl"]


class MixpeInteropError(Exception):
    """A one-line reason why a module could not make the round trip."""


def to_xdsl(module: Any, name: str = "<upstream module>") -> ModuleOp:
    """Parses an upstream `ir.Module` (or its operation) into xDSL IR, via the generic form."""
    operation = getattr(module, "operation", module)
    text = operation.get_asm(print_generic_op_form=True)
    try:
        # Ops xDSL does not know (e.g. torch.*) pass through as unregistered ops.
        return Parser(mixpe_context(allow_unregistered=True), text, name).parse_module()
    except ParseError as e:
        raise MixpeInteropError(f"xDSL could not parse the module: {parse_error_line(e)}") from e


def load_irdl(like: Any) -> None:
    """Registers the mixpe dialect from IRDL in `like`'s context, so upstream verifies mixpe ops.

    Finds `<distribution>.dialects.irdl` from the bindings `like` comes from
    (`torch_mlir._mlir_libs._mlir.ir` -> `torch_mlir.dialects.irdl`). Call it before any
    unregistered mixpe op exists in that context: upstream MLIR crashes otherwise.
    """
    import importlib

    if like.context.is_registered_operation("mixpe.mpgemm"):
        return
    root = type(like).__module__.split("._mlir_libs")[0]
    try:
        irdl_dialect = importlib.import_module(f"{root}.dialects.irdl")
    except ImportError as e:
        raise MixpeInteropError(f"the MLIR bindings in '{root}' have no IRDL dialect module") from e
    definition = type(like).parse(mixpe_irdl_text(), context=like.context)
    irdl_dialect.load_dialects(definition)
    _IRDL_DEFINITIONS.append(definition)  # the loaded dialect points into it: keep it alive


_IRDL_DEFINITIONS: list[Any] = []


def _generic_text(module: ModuleOp, irdl: bool) -> str:
    if irdl:
        module = to_upstream_irdl_spelling(module, Mixpe)
    out = io.StringIO()
    Printer(out, print_generic_format=True).print_op(module)
    return out.getvalue()


def from_xdsl(module: ModuleOp, like: Any, *, allow_unregistered: bool = False) -> Any:
    """Re-parses xDSL IR as an `ir.Module` of the same bindings and context as `like`."""
    context = like.context
    irdl = context.is_registered_operation("mixpe.mpgemm")
    leftover = next((op.name for op in module.walk() if op.name.startswith("mixpe.")), None)
    if leftover and not irdl:
        if allow_unregistered:
            context.allow_unregistered_dialects = True
        elif not context.allow_unregistered_dialects:
            raise MixpeInteropError(
                f"the result still holds '{leftover}', which upstream MLIR does not register: end the "
                "pipeline in mixpe-lower-to-linalg, pass allow_unregistered=True, or call load_irdl first"
            )
    errors: list[str] = []

    def collect(diagnostic) -> bool:  # keeps upstream diagnostics off stderr, for the message
        errors.append(f"{diagnostic.location}: {diagnostic.message}")
        return True

    handler = context.attach_diagnostic_handler(collect)
    try:
        return type(like).parse(_generic_text(module, irdl), context=context)
    except Exception as e:  # the bindings raise MLIRError (newer) or ValueError (older)
        first = errors[0] if errors else str(e)
        raise MixpeInteropError(f"upstream MLIR could not re-parse the result: {one_line(first)}") from e
    finally:
        handler.detach()


def run_pipeline(module: Any, pipeline: str, *, allow_unregistered: bool = False) -> Any:
    """Runs a mixpe pass pipeline (`"mixpe-raise{weight-bits=4},mixpe-hoist-dequant"`) on an
    upstream `ir.Module`; returns a new `ir.Module` in the caller's context.

    `allow_unregistered=True` sets `context.allow_unregistered_dialects` on the caller's
    context when mixpe ops remain (unless `load_irdl` registered them there).
    """
    from xdsl.universe import Universe

    try:
        passes = PassPipeline.parse_spec(Universe.get_multiverse().all_passes, pipeline).passes
    except (Exception, ArgSpecParseError) as e:  # ArgSpecParseError is a BaseException
        raise MixpeInteropError(f"bad pipeline '{pipeline}': {one_line(str(e))}") from e
    xmod = to_xdsl(module)
    ctx = mixpe_context(allow_unregistered=True)
    for p in passes:
        try:
            p.apply(ctx, xmod)
            verify_located(xmod)
        except Exception as e:
            raise MixpeInteropError(f"pass {p.name} failed: {one_line(str(e))}") from e
    return from_xdsl(xmod, module, allow_unregistered=allow_unregistered)

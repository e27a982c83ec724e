"""Source locations and one-line diagnostics for mixpe tools and passes.

xDSL ops carry no source position unless the text spells `loc(...)`, and its errors
are multi-line dumps. Users of opt-style tools expect `file:line:col: error: msg`,
so our parser records where each op starts, and every tool and pass reports
through the helpers here.
"""

from __future__ import annotations

import sys
import weakref
from typing import IO

from xdsl.dialects.builtin import FileLineColLoc, ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException, ParseError

_LOCATIONS: weakref.WeakKeyDictionary[Operation, str] = weakref.WeakKeyDictionary()


class LocatingParser(Parser):
    """A Parser that remembers `file:line:col` of every op it builds.

    `line_offset` is the first line of this chunk under `--split-input-file`.
    """

    line_offset: int = 0

    def parse_operation(self) -> Operation:
        loc = self._current_token.span.get_location()
        op = super().parse_operation()
        _LOCATIONS[op] = f"{loc.file}:{loc.line + self.line_offset}:{loc.col}"
        return op


def inherit_location(new_ops, old: Operation) -> None:
    """Ops a pass creates in place of `old` report `old`'s source location."""
    recorded = _LOCATIONS.get(old)
    for op in new_ops:
        if recorded is not None and op not in _LOCATIONS:
            _LOCATIONS[op] = recorded
        op.location = old.location


def op_location(op: Operation) -> str | None:
    """Where `op` came from: the parsed position, else its `loc(...)`, else None."""
    if (recorded := _LOCATIONS.get(op)) is not None:
        return recorded
    loc = getattr(op, "location", None)
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.value.data}:{loc.column.value.data}"
    return None


def one_line(message: str) -> str:
    """Collapses a multi-line xDSL message into its informative lines."""
    lines = [ln.strip(" |^-") for ln in str(message).splitlines()]
    return "; ".join(ln for ln in lines if ln)


def format_diagnostic(severity: str, message: str, op: Operation | None = None) -> str:
    where = op_location(op) if op is not None else None
    text = one_line(message)
    if op is not None and where is None:
        text = f"'{op.name}': {text}"
    return f"{where}: {severity}: {text}" if where else f"{severity}: {text}"


def emit(severity: str, message: str, op: Operation | None = None, stream: IO[str] | None = None) -> None:
    print(format_diagnostic(severity, message, op), file=stream or sys.stderr)


def remark(pass_name: str, op: Operation, message: str) -> None:
    """Why a pass left `op` alone: printed so users see what was declined."""
    emit("remark", f"[{pass_name}] {message}", op)


def parse_error_line(error: ParseError) -> str:
    return f"{error.span.get_location()}: error: {one_line(error.msg)}"


def verify_located(module: ModuleOp) -> None:
    """Verifies op by op so that the failure names the offending op's location."""
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except DiagnosticException as e:
            raise DiagnosticException(format_diagnostic("error", str(e), op)) from e

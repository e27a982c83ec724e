"""Source locations and one-line diagnostics for mixpe tools and passes.

xDSL ops carry no source position unless the text spells `loc(...)`, and its errors
are multi-line dumps. Users of opt-style tools expect `file:line:col: error: msg`,
so our parser records where each op starts, and every tool and pass reports
through the helpers here.
"""

from __future__ import annotations

import contextlib
import re
import struct
import sys
import weakref
from collections.abc import Iterator
from typing import IO, NamedTuple

from xdsl.dialects.builtin import FileLineColLoc, ModuleOp
from xdsl.ir import Operation, Region
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException, ParseError
from xdsl.utils.lexer import Span
from xdsl.utils.mlir_lexer import MLIRTokenKind

_LOCATIONS: weakref.WeakKeyDictionary[Operation, str] = weakref.WeakKeyDictionary()

# Nesting the parser accepts: regions inside regions, attributes/types inside attributes/types.
# Real IR nests a few levels deep; these limits keep every later recursive walk (verifier,
# printer, passes) well inside Python's stack, so a deeply nested file is a one-line error.
MAX_REGION_DEPTH = 100
MAX_ATTRIBUTE_DEPTH = 100
# Python frames allowed while parsing or verifying (xDSL recurses ~11 frames per region level)
_RECURSION_LIMIT = 20_000


@contextlib.contextmanager
def deep_recursion(limit: int = _RECURSION_LIMIT) -> Iterator[None]:
    """Raises Python's recursion limit to `limit` for the block (parsing and verifying IR nested
    up to the limits above needs more than the default 1000 frames)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def too_deep(what: str) -> str:
    return f"nested too deeply ({what})"


class LocatingParser(Parser):
    """A Parser that remembers `file:line:col` of every op it builds.

    `line_offset` is the first line of this chunk under `--split-input-file`.
    """

    line_offset: int = 0

    def parse_module(self, allow_implicit_module: bool = True) -> ModuleOp:
        if self._current_token.kind == MLIRTokenKind.EOF:  # xDSL: "Could not parse entire input!"
            self.raise_error("the input is empty: expected an operation (e.g. builtin.module or func.func)")
        try:
            with deep_recursion():
                return super().parse_module(allow_implicit_module)
        except RecursionError:
            # nesting the depth counters below do not see (e.g. a dense literal's brackets)
            raise ParseError(self._current_token.span,
                             too_deep("more nesting than the parser's recursion limit")) from None
        except ParseError as e:
            # xDSL reports undefined values at the end of the file; point at the first use
            uses = self.__dict__.get("_first_uses", {})
            undefined = [uses[n] for n in self.forward_ssa_references if n in uses]
            if not e.msg.startswith("values used but not defined") or not undefined:
                raise
            first = min(undefined, key=lambda span: span.start)
            raise ParseError(first, f"use of undefined value {first.text}") from None

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        loc = start.get_location()
        stack = self.__dict__.setdefault("_open_ops", [])
        stack.append(start)
        try:
            op = super().parse_operation()
        except (ParseError, RecursionError):
            raise
        except (DiagnosticException, ValueError, OverflowError, struct.error) as e:
            # an attribute or op built from the text rejected a value (an integer above i64, say):
            # report it at the token just read, as the parse error it is
            at = self.__dict__.get("_last_token", self._current_token).span
            msg = one_line(str(e))
            if isinstance(e, (OverflowError, struct.error)):  # packing into an array attribute
                msg = f"a value is out of range for the type it is stored in ({msg})"
            raise ParseError(at, msg) from None
        finally:
            stack.pop()
        _LOCATIONS[op] = f"{loc.file}:{loc.line + self.line_offset}:{loc.col}"
        return op

    def resolve_operand(self, operand, type):
        name = operand.operand_name
        if name not in self.ssa_values:
            self.__dict__.setdefault("_first_uses", {}).setdefault(name, operand.span)
        return super().resolve_operand(operand, type)

    def _get_op_by_name(self, name: str):
        if self.ctx.get_optional_op(name, dialect_stack=self._parser_state.dialect_stack):
            return super()._get_op_by_name(name)
        dialect = name.split(".")[0]
        open_ops = self.__dict__.get("_open_ops")
        at = open_ops[-1] if open_ops else None
        if dialect in self.ctx.registered_dialect_names:
            self.raise_error(f"unknown operation '{name}': dialect '{dialect}' has no such op", at)
        self.raise_error(f"unknown operation '{name}': no dialect '{dialect}' is registered "
                         "(--allow-unregistered-dialect keeps unknown ops as they are)", at)

    def _consume_token(self, expected_kind=None):
        token = super()._consume_token(expected_kind)
        self.__dict__["_last_token"] = token
        return token

    def _nested_attribute(self, parse):
        """`parse()` one attribute or type, at most MAX_ATTRIBUTE_DEPTH levels deep; a value it
        rejects (1e300 in an f16 dense literal) is a parse error spanning the attribute."""
        start = self._current_token.span
        depth = self.__dict__.get("_attribute_depth", 0)
        if depth >= MAX_ATTRIBUTE_DEPTH:
            self.raise_error(too_deep(f"more than {MAX_ATTRIBUTE_DEPTH} levels of nested attributes and types"),
                             start)
        self.__dict__["_attribute_depth"] = depth + 1
        try:
            return parse()
        except (ParseError, RecursionError):
            raise
        except (DiagnosticException, ValueError, OverflowError, struct.error) as e:
            last = self.__dict__.get("_last_token", self._current_token).span
            span = Span(start.start, max(start.end, last.end), start.input)
            msg = one_line(str(e))
            if isinstance(e, (OverflowError, struct.error)):  # "float too large to pack with e format"
                text = str(span.text)
                typ = text.rsplit(":", 1)[1].strip() if ":" in text else "its type"
                msg = f"a value is out of range for {printable(typ)} ({msg})"
            raise ParseError(span, msg) from None
        finally:
            self.__dict__["_attribute_depth"] = depth

    def parse_optional_attribute(self):
        return self._nested_attribute(super().parse_optional_attribute)

    def parse_optional_type(self):
        return self._nested_attribute(super().parse_optional_type)

    def parse_optional_region(self, arguments=None) -> Region | None:
        # remember where each open region starts, for the unterminated-region message below
        opening = self._current_token.span
        stack = self.__dict__.setdefault("_open_regions", [])
        if len(stack) >= MAX_REGION_DEPTH and self._current_token.kind == MLIRTokenKind.L_BRACE:
            self.raise_error(too_deep(f"more than {MAX_REGION_DEPTH} nested regions"), opening)
        stack.append(opening)
        try:
            return super().parse_optional_region(arguments)
        finally:
            stack.pop()

    def _parse_block(self):
        # xDSL reports a missing '}' as " in block definition" at whatever follows
        if self._current_token.kind != MLIRTokenKind.CARET_IDENT:
            stack = getattr(self, "_open_regions", None)
            where = ""
            if stack:
                loc = stack[-1].get_location()
                where = f" opened at {loc.line + self.line_offset}:{loc.col}"
            if self._current_token.kind == MLIRTokenKind.EOF:
                self.raise_error(f"unexpected end of file: the region{where} is not closed with '}}'")
            self.raise_error(f"expected an operation, a block label (^bb0:) or '}}' closing the region{where}")
        return super()._parse_block()


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
        return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
    return None


def one_line(message: str) -> str:
    """Collapses a multi-line xDSL message into its informative lines, with control characters
    (a NUL byte in binary input, say) escaped so the line prints as one line of text, and
    overlong tokens cut (`printable`)."""
    lines = [printable(ln).strip(" |^-") for ln in str(message).splitlines()]
    text = ""
    for ln in filter(None, lines):
        text += (" " if text.endswith(":") else "; " if text else "") + ln
    return clip(text)


MAX_LINE = 1000  # characters of one diagnostic line


def clip(line: str) -> str:
    """`line` cut to MAX_LINE characters, saying how long it was."""
    return line if len(line) <= MAX_LINE else f"{line[:MAX_LINE]}…({len(line):,} characters)"


MAX_TOKEN = 80  # characters of one token (a run of non-blanks) a message shows
MAX_PATH_TOKEN = 4096  # ...or of a token holding a '/': file paths are shown whole (PATH_MAX)


def printable(text: str) -> str:
    """`text` with control and other non-printable characters as escapes (\\x00, \\x7f), and
    every token longer than MAX_TOKEN characters (MAX_PATH_TOKEN for paths) cut to its start and
    `…(N characters)`: a 10 MB identifier in an input is not echoed whole."""
    def cut(m: re.Match) -> str:
        token = m.group()
        if len(token) <= (MAX_PATH_TOKEN if "/" in token else MAX_TOKEN):
            return token
        tail = token[len(token.rstrip("'\":,;)]}>")):][-3:]  # keep a closing quote or colon: 'name':
        return f"{token[:MAX_TOKEN // 2]}…({len(token):,} characters){tail}"

    text = re.sub(r"[^\s]{%d,}" % (MAX_TOKEN + 1), cut, str(text))
    return re.sub(r"[^\S \t]|[\x00-\x08\x0b-\x1f\x7f-\x9f]",
                  lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def decode_source(data: bytes | str, filename: str, line_offset: int = 0) -> str:
    """UTF-8 text of an input file, or a located one-line error at the first invalid byte."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1 + line_offset
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise DiagnosticException(
            f"{filename}:{line}:{col}: error: invalid UTF-8 byte 0x{data[e.start]:02x}: "
            f"MLIR input must be UTF-8 text"
        ) from None


def format_diagnostic(severity: str, message: str, op: Operation | None = None) -> str:
    where = op_location(op) if op is not None else None
    where = printable(where) if where else None  # the file name comes from the command line
    text = one_line(message)
    if op is not None and where is None:
        text = f"'{op.name}': {text}"
    return f"{where}: {severity}: {text}" if where else f"{severity}: {text}"


class Diagnostic(NamedTuple):
    """One emitted diagnostic, as `collect_diagnostics` records it."""

    severity: str  # "error", "warning", "remark", ...
    location: str | None  # `file:line:col` of the op, when known
    message: str  # the one-line message, e.g. "[mixpe-raise] not raised: ..."


_COLLECTORS: list[list[Diagnostic]] = []


@contextlib.contextmanager
def collect_diagnostics() -> Iterator[list[Diagnostic]]:
    """Records every diagnostic `emit` prints inside the block (they are still printed), so a
    tool can relate remarks to what it reports, e.g. why a matmul was not raised:

        with collect_diagnostics() as seen:
            compile_module(module, options)
        reasons = {d.location: d.message for d in seen if d.severity == "remark"}
    """
    seen: list[Diagnostic] = []
    _COLLECTORS.append(seen)
    try:
        yield seen
    finally:
        _COLLECTORS.remove(seen)


def emit(severity: str, message: str, op: Operation | None = None, stream: IO[str] | None = None) -> None:
    print(format_diagnostic(severity, message, op), file=stream or sys.stderr)
    if _COLLECTORS:
        record = Diagnostic(severity, op_location(op) if op is not None else None, one_line(message))
        for seen in _COLLECTORS:
            seen.append(record)


def remark(pass_name: str, op: Operation, message: str) -> None:
    """Why a pass left `op` alone: printed so users see what was declined."""
    emit("remark", f"[{pass_name}] {message}", op)


def parse_error_line(error: ParseError) -> str:
    # the file name comes from the command line: a newline in it must not split the line
    return f"{printable(str(error.span.get_location()))}: error: {one_line(error.msg)}"


def _visible(value, user: Operation, order: dict) -> bool:
    """MLIR's dominance rule inside single-block regions: a value is usable if it is an
    argument of a block enclosing `user`, or the result of an op before `user` (or before
    the op enclosing it) in an enclosing block. xDSL 0.74 does not check this."""
    from xdsl.ir import BlockArgument, OpResult

    if isinstance(value, BlockArgument):
        block = value.block
    elif isinstance(value, OpResult):
        block = value.op.parent_block()
    else:
        return True
    assert block is not None  # the values a verified module uses are defined inside it
    ancestor = user
    while ancestor is not None:
        if ancestor.parent_block() is block:
            if isinstance(value, BlockArgument):
                return True
            index = order.get(block)
            if index is None:  # positions once per block: verification stays linear
                index = order[block] = {o: i for i, o in enumerate(block.ops)}
            return index[value.op] < index[ancestor]
        ancestor = ancestor.parent_op()
    return False


def verify_located(module: ModuleOp) -> None:
    """Verifies op by op so that the failure names the offending op's location."""
    with deep_recursion():
        try:
            _verify_ops(module)
        except RecursionError:
            raise DiagnosticException(format_diagnostic(
                "error", too_deep("more nesting than the verifier's recursion limit"), module)) from None


def _verify_ops(module: ModuleOp) -> None:
    order: dict = {}
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except DiagnosticException as e:
            raise DiagnosticException(format_diagnostic("error", str(e), op)) from e
        for i, value in enumerate(op.operands):
            if not _visible(value, op, order):
                raise DiagnosticException(format_diagnostic(
                    "error", f"operand #{i} of '{op.name}' is not visible here: its definition does "
                    "not dominate this use (defined later, or in another region)", op))

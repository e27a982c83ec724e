"""`mixpe-opt`: xdsl-opt with mixpe's dialect and passes, and opt-style diagnostics.

It differs from stock `xdsl-opt` only where users of MLIR tools expect it to:
errors are one line (`file:line:col: error: ...`) with a non-zero exit instead of a
traceback, `-o` is written only when the whole run succeeded, and frontend IR
with mixed-precision `linalg.matmul` parses.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import re
import sys
import traceback
from collections.abc import Sequence
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from mixpe.fileio import check_not_input, write_output
from mixpe import __version__
from mixpe.diagnostics import (
    LocatingParser,
    decode_source,
    one_line,
    parse_error_line,
    printable,
    verify_located,
)
from mixpe.dialects import linalg_compat
from mixpe.tools._cli import _LOCATED, UsageError

PROG = "mixpe-opt"


class _DeferredOutput(io.StringIO):
    """Collects `-o` output; xDSLOptMain closes it, we keep the text until success."""

    def close(self) -> None:  # noqa: D102 - keep the buffer readable after run()
        pass


class MixpeOptMain(xDSLOptMain):
    version_format = f"{PROG} {__version__} (xDSL {{xdsl_version}})"

    def register_all_dialects(self) -> None:
        linalg_compat.install()
        super().register_all_dialects()

    def register_all_frontends(self) -> None:
        super().register_all_frontends()

        def parse_mlir(stream: IO[bytes]) -> ModuleOp:
            text = decode_source(stream.read(), self.get_input_name(), self.chunk_offset)
            parser = LocatingParser(self.ctx, text, self.get_input_name())
            parser.line_offset = self.chunk_offset
            try:
                return parser.parse_module(not self.args.no_implicit_module)
            except ParseError as e:
                if not self.args.verify_diagnostics:
                    raise
                # Like MLIR's --verify-diagnostics, parse errors are diagnostics too.
                e.span = dataclasses.replace(e.span, line_offset=self.chunk_offset)
                raise DiagnosticException(parse_error_line(e)) from e

        self.available_frontends["mlir"] = parse_mlir

    def parse_chunk(self, chunk: IO[bytes], file_extension: str, start_offset: int = 0):
        self.chunk_offset = start_offset
        return super().parse_chunk(chunk, file_extension, start_offset)

    def register_all_arguments(self, arg_parser) -> None:
        super().register_all_arguments(arg_parser)
        arg_parser.prog = PROG

        def error(message: str):  # argparse prints usage and exits 2; we want one line and 1
            raise UsageError(message)

        arg_parser.error = error
        arg_parser.add_argument(
            "--debug",
            action="store_true",
            help="show Python tracebacks for internal errors",
        )
        arg_parser.add_argument(
            "--emit-irdl",
            dest="target",
            action="store_const",
            const="irdl",
            help="write the mixpe dialect as IRDL for `mlir-opt --irdl-file` (same as -t irdl)",
        )

    def setup_pipeline(self) -> None:
        """Checks each pass's options first, so a bad one names its pass and option."""
        for spec in parse_pipeline(self.args.passes or ""):
            if spec.name not in self.available_passes:
                continue  # xDSL's "Unrecognized passes: [...]" lists them all
            pass_class = self.available_passes[spec.name]()
            _check_option_names(spec, pass_class)
            try:
                pass_class.from_pass_spec(spec)
            except ValueError as e:
                msg = _option_error(spec, str(e))
                raise UsageError(msg if msg.startswith(f"{spec.name}: ") else f"pass {spec.name}: {msg}") from None
        super().setup_pipeline()

    def prepare_output(self) -> IO[str]:
        if self.args.output_file is None:
            return sys.stdout
        self.deferred = _DeferredOutput()
        return self.deferred

    def apply_passes(self, prog: ModuleOp) -> None:
        if not self.args.disable_verify:
            verify_located(prog)
        super().apply_passes(prog)

    def commit_output(self) -> None:
        """Writes `-o` under mixpe's output policy (`mixpe.fileio`): a regular file atomically,
        so a failed run never leaves a half-written file; a device or FIFO in place."""
        if self.args.output_file is None:
            return
        check_not_input(self.args.output_file, [self.args.input_file], "-o")
        data = self.deferred.getvalue().encode()
        write_output(self.args.output_file, lambda f: f.write(data))


def _check_option_names(spec, pass_class) -> None:
    """An unknown option is named as the user spells options (weight-bits, not xDSL's internal
    weight_bits), with the closest known one."""
    options = [f.name.replace("_", "-") for f in dataclasses.fields(pass_class)
               if f.name != "name" and f.init]
    for given in spec.parameters:
        key = given.replace("_", "-")
        if key in options:
            continue
        shown = printable(given)
        if not options:
            raise UsageError(f"pass {spec.name}: unknown option {shown} (the pass takes no options)")
        close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise UsageError(f"pass {spec.name}: unknown option {shown}{hint} (options: {', '.join(options)})")


def _option_error(spec, message: str) -> str:
    """xDSL's "Incompatible types: given ('four',), expected int | None" as
    "option weight-bits: expected int, got 'four'"."""
    required = re.fullmatch(r'\S+ requires argument "(\w+)"', message.strip())
    if required:
        return f"option {required.group(1).replace('_', '-')} is required"
    m = re.fullmatch(r"Incompatible types: given (\(.*\)), expected (.*)", message.strip(), re.S)
    if not m:
        return one_line(message)
    given, expected = m.groups()
    want = expected.replace(" | None", "")
    for key, values in spec.parameters.items():
        if repr(tuple(values)) == given:
            shown = ",".join(map(repr, values))
            return f"option {key}: expected {want}, got {shown}"
    return f"expected {want}, got {given}"


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        tool = MixpeOptMain(description="mixpe modular optimizer driver", args=argv)
        tool.run()
        tool.commit_output()
        return 0
    except ParseError as e:
        return _fail(parse_error_line(e))
    except UsageError as e:
        return _fail(f"{PROG}: error: {one_line(str(e))}")
    except ArgSpecParseError as e:  # a BaseException in xDSL 0.74
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        where = lines[1].rsplit(":", 1)[-1] if len(lines) > 2 else "?"
        return _fail(f"{PROG}: error: invalid pass pipeline at column {where}: {one_line(lines[-1])}"
                     " (quote option values with '/' or spaces: hw=\"path.toml\")")
    except DiagnosticException as e:
        text = one_line(str(e)) or type(e).__name__
        return _fail(text if _LOCATED.match(text) else f"{PROG}: error: {text.removeprefix('error: ')}")
    except OSError as e:
        name = printable(str(e.filename or ""))  # from argv: a newline in it must not split the line
        return _fail(f"{PROG}: error: {name}: {one_line(str(e.strerror or e))}")
    except ValueError as e:  # xDSL and our passes report bad input as ValueError
        if debug:
            traceback.print_exc()
        return _fail(f"{PROG}: error: {one_line(str(e)) or type(e).__name__}")
    except Exception as e:  # the last guard: never a bare traceback
        if debug:
            traceback.print_exc()
        print(f"{PROG}: internal error: {type(e).__name__}: {one_line(str(e))} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 2


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()

"""`mixpe-opt`: xdsl-opt with mixpe's dialect and passes, and opt-style diagnostics.

It differs from stock `xdsl-opt` only where users of MLIR tools expect it to:
errors are one line (`file:line:col: error: ...`) with a non-zero exit instead of a
traceback, `-o` is written only when the whole run succeeded, and frontend IR
with mixed-precision `linalg.matmul` parses.
"""

from __future__ import annotations

import dataclasses
import io
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from mixpe import __version__
from mixpe.diagnostics import LocatingParser, parse_error_line, verify_located
from mixpe.dialects import linalg_compat

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
            parser = LocatingParser(self.ctx, stream.read(), self.get_input_name())
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
        """Writes `-o` atomically, so a failed run never leaves a half-written file."""
        if self.args.output_file is None:
            return
        target = os.path.abspath(self.args.output_file)
        try:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".mixpe-opt-")
        except OSError as e:
            raise OSError(e.errno, e.strerror, self.args.output_file) from e
        try:
            with os.fdopen(fd, "w") as f:
                f.write(self.deferred.getvalue())
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise


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
    except ArgSpecParseError as e:  # a BaseException in xDSL 0.74
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        where = lines[1].rsplit(":", 1)[-1] if len(lines) > 2 else "?"
        return _fail(f"{PROG}: error: invalid pass pipeline at column {where}: {lines[-1]}"
                     " (quote option values with '/' or spaces: hw=\"path.toml\")")
    except DiagnosticException as e:
        text = str(e).strip()
        first = text.splitlines()[0] if text else type(e).__name__
        return _fail(first if ": error: " in first else f"{PROG}: error: {first}")
    except OSError as e:
        name = e.filename or ""
        return _fail(f"{PROG}: error: {name}: {e.strerror or e}")
    except (ValueError, KeyError) as e:
        if debug:
            raise
        return _fail(f"{PROG}: error: {e}")
    except Exception as e:  # the last guard: never a bare traceback
        if debug:
            raise
        return _fail(
            f"{PROG}: internal error: {type(e).__name__}: {e} (rerun with --debug for the traceback)"
        )


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()

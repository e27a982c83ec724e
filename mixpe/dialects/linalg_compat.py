"""Corrections to xDSL 0.74's `linalg.matmul` that real frontend IR needs.

Frontends (torch-mlir, IREE) emit `linalg.matmul` with an accumulator wider than
its operands (f16 x f16 -> f32, i8 x i8 -> i32). Upstream MLIR's body converts
both operands to the accumulator type first; xDSL 0.74 builds its hidden region
for a single element type, so such ops fail to verify. xDSL 0.74 also drops
non-default `indexing_maps` from the custom form (a silent transpose), and cannot
parse MLIR 22's `linalg.matmul indexing_maps = [...] ins(...)` spelling.

We patch the op class in place (rather than registering a second `linalg.matmul`,
which xDSL's plugin loader would reject as a duplicate) so that stock `xdsl-opt`
with our plugin and `mixpe-opt` both accept frontend IR. The patch is idempotent
and only changes behaviour in the cases above.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.builder import Builder
from xdsl.dialects import arith
from xdsl.dialects.builtin import AnyFloat, IntegerType
from xdsl.dialects.linalg.ops import MatmulOp, YieldOp
from xdsl.ir import Attribute, BlockArgument, Region, SSAValue
from xdsl.parser import Parser
from xdsl.printer import Printer

_PATCHED = "_mixpe_patched"


def _convert(value: SSAValue, to: Attribute) -> SSAValue:
    """Converts a scalar to the accumulator type as upstream linalg's `cast_signed` does."""
    src = value.type
    if src == to:
        return value
    if isinstance(to, AnyFloat):
        if isinstance(src, AnyFloat):
            if src.bitwidth < to.bitwidth:
                return arith.ExtFOp(value, to).result
            return arith.TruncFOp(value, to).result
        return arith.SIToFPOp(value, to).result
    assert isinstance(to, IntegerType)
    if isinstance(src, IntegerType):
        if src.width.data < to.width.data:
            return arith.ExtSIOp(value, to).result
        return arith.TruncIOp(value, to).result
    return arith.FPToSIOp(value, to).result


def _hidden_region(cls: type[MatmulOp], inputs: Sequence[SSAValue], outputs: Sequence[SSAValue]) -> Region:
    arg_types = cls.body_arg_types((*inputs, *outputs))
    acc = arg_types[-1]
    add, mul = (
        (arith.AddfOp, arith.MulfOp)
        if isinstance(acc, AnyFloat)
        else (arith.AddiOp, arith.MuliOp)
    )

    @Builder.implicit_region(arg_types)
    def region(args: tuple[BlockArgument, ...]) -> None:
        lhs = _convert(args[0], acc)
        rhs = _convert(args[1], acc)
        YieldOp(add(args[2], mul(lhs, rhs)))

    return region


_original_parse = MatmulOp.parse
_original_print = MatmulOp.print


def _parse(cls: type[MatmulOp], parser: Parser) -> MatmulOp:
    maps = None
    if parser.parse_optional_keyword("indexing_maps"):
        parser.parse_punctuation("=")
        maps = parser.parse_attribute()
    op = _original_parse.__func__(cls, parser)
    if maps is not None:
        op.properties["indexing_maps"] = maps
    return op


def _print(self: MatmulOp, printer: Printer) -> None:
    default = MatmulOp.get_irdl_definition().properties["indexing_maps"].default_value
    if self.indexing_maps != default:
        printer.print_string(" indexing_maps = ")
        printer.print_attribute(self.indexing_maps)
    _original_print(self, printer)


def install() -> None:
    """Applies the corrections once; safe to call from every entry point."""
    if getattr(MatmulOp, _PATCHED, False):
        return
    MatmulOp.get_hidden_region = classmethod(_hidden_region)
    MatmulOp.parse = classmethod(_parse)
    MatmulOp.print = _print
    setattr(MatmulOp, _PATCHED, True)

"""Corrections to xDSL 0.74's `linalg.matmul` that real frontend IR needs.

Frontends (torch-mlir, IREE) emit `linalg.matmul` with an accumulator wider than
its operands (f16 x f16 -> f32, i8 x i8 -> i32). Upstream MLIR's body converts
both operands to the accumulator type first; xDSL 0.74 builds its hidden region
for a single element type, so such ops fail to verify. xDSL 0.74 also drops
non-default `indexing_maps` from the custom form (a silent transpose), and cannot
parse MLIR 22's `linalg.matmul indexing_maps = [...] ins(...)` spelling.

xDSL 0.74's `linalg.yield` also lacks upstream's check that it yields one value of the
right element type per output of the enclosing op: a `linalg.generic` whose body yields
nothing verified, and every consumer then crashed on the missing value. Its structured-op
verifier evaluates the indexing maps, and crashed (ZeroDivisionError) on `d0 floordiv 0`;
MLIR requires the divisor of floordiv/ceildiv/mod to be a positive constant, and so do we now.
Both checks are added.

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
from xdsl.dialects.builtin import ShapedType
from xdsl.dialects.linalg.ops import MatmulOp, YieldOp
from xdsl.ir import Attribute, BlockArgument, Region, SSAValue
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

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


_original_yield_verify = YieldOp.verify_


def _verify_yield(self: YieldOp) -> None:
    """Upstream's LinalgOp yield check: one value per output, of the output's element type."""
    _original_yield_verify(self)
    parent = self.parent_op()
    outs = getattr(parent, "outputs", None)
    if outs is None:
        outs = getattr(parent, "inits", None)
    if outs is None:
        return
    if len(self.operands) != len(outs):
        raise VerifyException(
            f"expected number of yield values ({len(self.operands)}) to match the number of inits / "
            f"outputs operands of the enclosing {parent.name} ({len(outs)})"
        )
    for i, (value, out) in enumerate(zip(self.operands, outs)):
        elem = out.type.get_element_type() if isinstance(out.type, ShapedType) else out.type
        if value.type != elem:
            raise VerifyException(
                f"type of yield operand {i + 1} ({value.type}) doesn't match the element type of the "
                f"enclosing {parent.name} ({elem})"
            )


def _bad_divisor(expr) -> str | None:
    from xdsl.ir.affine import AffineBinaryOpExpr, AffineBinaryOpKind, AffineConstantExpr

    if not isinstance(expr, AffineBinaryOpExpr):
        return None
    if expr.kind in (AffineBinaryOpKind.FloorDiv, AffineBinaryOpKind.CeilDiv, AffineBinaryOpKind.Mod):
        if not isinstance(expr.rhs, AffineConstantExpr) or expr.rhs.value <= 0:
            return str(expr)
    return _bad_divisor(expr.lhs) or _bad_divisor(expr.rhs)


def _with_map_check(original):
    def verify_(self) -> None:
        maps = getattr(self, "indexing_maps", None)
        for i, m in enumerate(maps.data if maps is not None else ()):
            for r in getattr(m, "data", m).results:
                if (bad := _bad_divisor(r)) is not None:
                    raise VerifyException(
                        f"indexing_map #{i}: in '{bad}' the divisor of floordiv/ceildiv/mod must be a "
                        "positive constant"
                    )
        original(self)

    return verify_


def _structured_ops() -> list[type]:
    from xdsl.dialects.linalg import ops
    from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation

    return [c for c in vars(ops).values()
            if isinstance(c, type) and issubclass(c, LinalgStructuredOperation) and "verify_" in vars(c)
            and c is not LinalgStructuredOperation]


def install() -> None:
    """Applies the corrections once; safe to call from every entry point."""
    if getattr(MatmulOp, _PATCHED, False):
        return
    YieldOp.verify_ = _verify_yield
    for cls in _structured_ops():
        cls.verify_ = _with_map_check(cls.verify_)
    MatmulOp.get_hidden_region = classmethod(_hidden_region)
    MatmulOp.parse = classmethod(_parse)
    MatmulOp.print = _print
    setattr(MatmulOp, _PATCHED, True)

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
Nor does it check a structured op's results against its outputs (upstream's destination-style
check: one result per tensor output, of the output's type). All three checks are added.

`linalg.matmul {cast = #linalg.type_fn<cast_unsigned>}` parses (as upstream: extui/uitofp
body; the attribute is registered by `mixpe.dialects.linalg_named`), and a malformed custom
form (one input, an `index` operand) is a one-line parse error instead of "Could not build".

Multi-result `linalg.generic` (`%0:2 = linalg.generic ... -> (A, B)`, torch-mlir's max +
argmax) failed to parse with "Expected '->'": GenericOp.parse read the parenthesized result
types as a function type. It now reads them (its printer already wrote them).

Upstream named ops that xDSL 0.74 lacks (`linalg.batch_matmul`, `batch_reduce_matmul`,
`matvec`, `vecmat`, `dot`, and the pre-MLIR-22 `*_transpose_a/_b` spellings) are defined in
`mixpe.dialects.linalg_named`; `install()` appends them to xDSL's `Linalg` dialect object, which
every context loads lazily (after our plugin module, hence install(), has been imported), so
stock `xdsl-opt` and `mixpe_context()` both know them. Names xDSL already has are never added.

We patch the op class in place (rather than registering a second `linalg.matmul`,
which xDSL's plugin loader would reject as a duplicate) so that stock `xdsl-opt`
with our plugin and `mixpe-opt` both accept frontend IR. The patch is idempotent
and only changes behaviour in the cases above.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from xdsl.dialects.builtin import ArrayAttr
from xdsl.dialects.linalg.ops import GenericOp, MatmulOp, YieldOp
from xdsl.ir import Attribute, Region, SSAValue
from xdsl.ir.affine import AffineMap
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from mixpe.dialects import linalg_named, parser_compat
from mixpe.dialects.linalg_named import (
    TypeFnAttr,
    contraction_region,
    convert_scalar,
    is_unsigned_cast,
    verify_destination_style,
)

_PATCHED = "_mixpe_patched"


def _convert(value: SSAValue, to: Attribute, unsigned: bool = False) -> SSAValue:
    """Converts a scalar to the accumulator type as upstream linalg's `cast_signed` does."""
    return convert_scalar(value, to, unsigned)


def _hidden_region(
    cls: type[MatmulOp], inputs: Sequence[SSAValue], outputs: Sequence[SSAValue], unsigned: bool = False
) -> Region:
    return contraction_region(inputs, outputs, unsigned)


_original_print = MatmulOp.print


def _parse(cls: type[MatmulOp], parser: Parser) -> MatmulOp:
    """Upstream's custom form, MLIR 22's `indexing_maps = [...]` and `cast` included. `cast`
    stays an attribute (xDSL 0.74's MatmulOp has no such property; upstream reads an inherent
    attribute from the attribute dictionary of the generic form too)."""
    return linalg_named.build_parsed_contraction(cls, parser, takes_maps=True, takes_cast=True)


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
    if parent is None:
        return
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
        elem = linalg_named.element_type(out.type)
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
            for r in cast(AffineMap, getattr(m, "data", m)).results:
                if (bad := _bad_divisor(r)) is not None:
                    raise VerifyException(
                        f"indexing_map #{i}: in '{bad}' the divisor of floordiv/ceildiv/mod must be a "
                        "positive constant"
                    )
        verify_destination_style(self)
        original(self)

    return verify_


def _structured_ops() -> list[type]:
    from xdsl.dialects.linalg import ops
    from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation

    return [c for c in vars(ops).values()
            if isinstance(c, type) and issubclass(c, LinalgStructuredOperation) and "verify_" in vars(c)
            and c is not LinalgStructuredOperation]


class _ResultTypesParser:
    """Forwards everything to the real parser, except that the result types after `->` may be
    a parenthesized list: `-> (tensor<4xf32>, tensor<4xi64>)`, as MLIR prints a multi-result
    `linalg.generic`. xDSL 0.74's GenericOp.parse reads them with `parse_attribute`, which takes
    `(` for a function type and fails with "Expected '->'"."""

    def __init__(self, parser: Parser):
        self._parser = parser
        self._after_arrow = False

    def __getattr__(self, name: str):
        return getattr(self._parser, name)

    def parse_optional_punctuation(self, punctuation):
        found = self._parser.parse_optional_punctuation(punctuation)
        self._after_arrow = punctuation == "->" and found is not None
        return found

    def parse_comma_separated_list(self, delimiter, parse, *args, **kwargs):
        if self._after_arrow:
            self._after_arrow = False
            types = self._parser.parse_optional_comma_separated_list(
                Parser.Delimiter.PAREN, self._parser.parse_type
            )
            if types is not None:
                return types
        return self._parser.parse_comma_separated_list(delimiter, parse, *args, **kwargs)


_original_generic_parse = GenericOp.parse


def _parse_generic(cls: type[GenericOp], parser: Parser) -> GenericOp:
    return _original_generic_parse.__func__(cls, _ResultTypesParser(parser))


def _default_maps(cls: type[MatmulOp]) -> tuple[AffineMap, ...]:
    """Like `ContractionOp.default_indexing_maps`: the maps when `indexing_maps` is absent."""
    default = cls.get_irdl_definition().properties["indexing_maps"].default_value
    assert isinstance(default, ArrayAttr)
    return tuple(m.data for m in default.data)


def _register_named_ops() -> None:
    """Adds the named ops xDSL 0.74 lacks to its `Linalg` dialect object, which every context
    (ours, and stock xdsl-opt's through the `xdsl.universe` plugin) loads lazily, after this."""
    from xdsl.dialects.linalg import Linalg

    known = {op.name for op in Linalg.operations}
    for cls in linalg_named.NAMED_OPS:
        if cls.name not in known:
            Linalg._operations.append(cls)
    if all(a.name != TypeFnAttr.name for a in Linalg.attributes):
        Linalg._attributes.append(TypeFnAttr)


def install() -> None:
    """Applies the corrections once; safe to call from every entry point."""
    parser_compat.install()
    if getattr(MatmulOp, _PATCHED, False):
        return
    YieldOp.verify_ = _verify_yield
    for cls in (*_structured_ops(), *linalg_named.NAMED_OPS):
        cls.verify_ = _with_map_check(cls.verify_)
    # Monkey patches replace methods xDSL declares, which plain assignment cannot type: setattr.
    setattr(MatmulOp, "get_hidden_region", classmethod(_hidden_region))
    setattr(MatmulOp, "parse", classmethod(_parse))
    MatmulOp.print = _print
    setattr(MatmulOp, "default_indexing_maps", classmethod(_default_maps))
    setattr(MatmulOp, "iterator_type_names", classmethod(lambda cls: ("parallel", "parallel", "reduction")))
    setattr(MatmulOp, "is_unsigned", property(is_unsigned_cast))
    setattr(GenericOp, "parse", classmethod(_parse_generic))
    _register_named_ops()
    setattr(MatmulOp, _PATCHED, True)

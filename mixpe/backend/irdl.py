"""`-t irdl`: the mixpe dialect as IRDL, so upstream `mlir-opt --irdl-file=` checks mixpe ops.

Why: flows built on upstream MLIR (IREE, torch-mlir) otherwise see mixpe ops only as
unregistered ops, with no structural checking at all. xDSL's `dialect_to_irdl` is the
starting point but emits `irdl.any` for every constraint, ignores properties and rejects
enum attributes; upstream's extensible dialects also differ from xDSL in what they accept.
This module therefore builds the IRDL itself and fixes the mismatches:

- *Properties*: upstream IRDL ops are dynamic ops, which support no properties
  ("extensible Dialects don't support properties"). Properties become `irdl.attributes`,
  and the payload must carry them in the attribute dictionary.
- *Enum attributes*: xDSL prints `#mixpe<layout nk>`; a dynamic attribute is spelled
  `#mixpe.layout<"nk">` (one string parameter, constrained by `irdl.any_of` of the cases).
- *ParametrizedAttribute params*: xDSL-only `#builtin.int` values become i64 integers.

`-t irdl` writes the dialect; `-t irdl{payload=true}` writes the input module in that
upstream spelling (generic form). See docs/interop.md for what IRDL can and cannot check.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from xdsl.builder import Builder
from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.dialects.builtin import (
    ArrayAttr,
    ArrayOfConstraint,
    IntAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
)
from xdsl.dialects.irdl import irdl
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.ir import Attribute, Block, Dialect, ParametrizedAttribute, Region, SSAValue, TypeAttribute
from xdsl.irdl import (
    AllOf,
    AnyOf,
    AttrConstraint,
    BaseAttr,
    EqAttrConstraint,
    IRDLOperation,
    OptionalDef,
    OptPropertyDef,
    RangeConstraint,
    RangeLengthConstraint,
    RangeOf,
    VariadicDef,
)
from xdsl.printer import Printer
from xdsl.rewriter import InsertPoint
from xdsl.utils.target import Target

from mixpe.dialects.mixpe import Mixpe

# xDSL builtin classes -> upstream's registered names (for `irdl.base`).
_UPSTREAM_BASE: dict[type[Attribute], str] = {
    builtin.TensorType: "!builtin.tensor",
    builtin.IntegerType: "!builtin.integer",
    builtin.IntegerAttr: "#builtin.integer",
    builtin.FloatAttr: "#builtin.float",
    builtin.StringAttr: "#builtin.string",
    builtin.ArrayAttr: "#builtin.array",
    builtin.DenseArrayBase: "#builtin.dense_array",
    TypeAttribute: "",  # abstract "any type": irdl has no such base, so irdl.any
}


class _Exporter:
    """Turns xDSL constraints into IRDL constraint ops inside one definition block."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self.local = {a: Dialect.split_name(a.name)[1] for a in dialect.attributes}

    def constraint(self, b: Builder, c: AttrConstraint | RangeConstraint) -> SSAValue:
        if isinstance(c, RangeLengthConstraint):
            c = c.constraint
        if isinstance(c, RangeOf):
            c = c.constr
        if isinstance(c, EqAttrConstraint) and _upstream_safe(c.attr):
            return b.insert(irdl.IsOp(c.attr)).output
        if isinstance(c, AnyOf | AllOf):
            args = [self.constraint(b, x) for x in c.attr_constrs]
            op = irdl.AnyOfOp(args) if isinstance(c, AnyOf) else irdl.AllOfOp(args)
            return b.insert(op).output
        if isinstance(c, ArrayOfConstraint):
            return b.insert(irdl.BaseOp(_UPSTREAM_BASE[builtin.ArrayAttr])).output
        base: type[Attribute] | None = c.attr if isinstance(c, BaseAttr) else getattr(c, "base_attr", None)
        if base is not None and base in self.local:
            ref = SymbolRefAttr(self.dialect.name, [self.local[base]])
            return b.insert(irdl.BaseOp(ref)).output
        if base is not None and _UPSTREAM_BASE.get(base):
            return b.insert(irdl.BaseOp(_UPSTREAM_BASE[base])).output
        return b.insert(irdl.AnyOp()).output  # not expressible: unchecked upstream

    def attribute(self, attr: type[Attribute]) -> irdl.AttributeOp:
        b, block = _builder()
        if issubclass(attr, EnumAttribute):
            cases = [b.insert(irdl.IsOp(StringAttr(str(v.value)))).output for v in attr.enum_type]
            names, values = ["value"], [b.insert(irdl.AnyOfOp(cases)).output]
        else:
            assert issubclass(attr, ParametrizedAttribute)
            params = attr.get_irdl_definition().parameters
            names = [n for n, _ in params]
            values = [self.constraint(b, p.constr) for _, p in params]
        b.insert(irdl.ParametersOp(values, ArrayAttr(StringAttr(n) for n in names)))
        return irdl.AttributeOp(self.local[attr], Region([block]))

    def operation(self, op: type[IRDLOperation]) -> irdl.OperationOp:
        d = op.get_irdl_definition()
        b, block = _builder()
        for defs, cls in ((d.operands, irdl.OperandsOp), (d.results, irdl.ResultsOp)):
            if defs:
                values = [self.constraint(b, x.constr) for _, x in defs]
                b.insert(cls(values, _variadicity(x for _, x in defs), _names(n for n, _ in defs)))
        # Optional properties have no IRDL counterpart (irdl.attributes are all required),
        # and operandSegmentSizes is checked by IRDL itself from the operand variadicities.
        required = {
            n: self.constraint(b, p.constr)
            for n, p in d.properties.items()
            if not isinstance(p, OptPropertyDef) and n != "operandSegmentSizes"
        }
        if required:
            b.insert(irdl.AttributesOp.get(required))
        return irdl.OperationOp(Dialect.split_name(d.name)[1], Region([block]))

    def dialect_op(self) -> irdl.DialectOp:
        body = Block([self.attribute(a) for a in self.dialect.attributes])
        for o in self.dialect.operations:
            assert issubclass(o, IRDLOperation)  # IRDL describes only IRDL-defined ops
            body.add_op(self.operation(o))
        return irdl.DialectOp(self.dialect.name, Region([body]))


def _builder() -> tuple[Builder, Block]:
    block = Block()
    return Builder(InsertPoint.at_end(block)), block


def _names(names) -> ArrayAttr[StringAttr]:
    return ArrayAttr(StringAttr(n.rstrip("_")) for n in names)


def _variadicity(defs) -> irdl.VariadicityArrayAttr:
    def one(x) -> irdl.VariadicityAttr:
        if isinstance(x, OptionalDef):
            return irdl.VariadicityAttr.OPTIONAL
        return irdl.VariadicityAttr.VARIADIC if isinstance(x, VariadicDef) else irdl.VariadicityAttr.SINGLE

    return irdl.VariadicityArrayAttr(ArrayAttr(one(x) for x in defs))


def _upstream_safe(attr: Attribute) -> bool:
    """Builtin types print the same in xDSL and upstream; xDSL-only attributes do not."""
    return isinstance(attr, builtin.IntegerType | builtin.AnyFloat | builtin.IndexType)


def dialect_to_upstream_irdl(dialect: Dialect) -> ModuleOp:
    """The IRDL module upstream `mlir-opt --irdl-file=` loads for `dialect`."""
    return ModuleOp([_Exporter(dialect).dialect_op()])


def mixpe_irdl_text() -> str:
    """The mixpe dialect as IRDL text (what `mixpe-opt --emit-irdl` writes)."""
    return _text_of(dialect_to_upstream_irdl(Mixpe))


# --------------------------------------------------------------------------- payload


def _dynamic_attr(attr: Attribute, ours: Callable[[Attribute], bool]) -> Attribute:
    """Respells one of our attributes in upstream's dynamic-attribute syntax."""
    if isinstance(attr, IntAttr):
        return IntegerAttr(attr.data, 64)
    if isinstance(attr, ArrayAttr):
        return ArrayAttr(_dynamic_attr(a, ours) for a in attr.data)
    if not ours(attr):
        return attr
    if isinstance(attr, EnumAttribute):
        text = f'"{attr.data.value}"'
    else:
        assert isinstance(attr, ParametrizedAttribute)
        text = ", ".join(_text(_dynamic_attr(p, ours)) for p in attr.parameters)
    return builtin.UnregisteredAttr.with_name_and_type(attr.name, False)(attr.name, False, False, text)


def _text(attr: Attribute) -> str:
    out = io.StringIO()
    Printer(out).print_attribute(attr)
    return out.getvalue()


def _text_of(op: ModuleOp) -> str:
    out = io.StringIO()
    Printer(out).print_op(op)
    return out.getvalue() + "\n"


def to_upstream_irdl_spelling(module: ModuleOp, dialect: Dialect) -> ModuleOp:
    """A copy of `module` whose `dialect` ops hold attributes, not properties, in IRDL spelling."""
    prefix = dialect.name + "."
    ours = lambda a: a.name.startswith(prefix)  # noqa: E731
    copy = module.clone()
    for op in copy.walk():
        if not op.name.startswith(prefix):
            continue
        moved = {**op.properties, **op.attributes}
        op.properties.clear()
        op.attributes.clear()
        op.attributes.update({k: _dynamic_attr(v, ours) for k, v in moved.items()})
    return copy


@dataclass(frozen=True)
class IRDLTarget(Target):
    """Writes the mixpe dialect as IRDL, or (`payload=true`) the module in IRDL spelling."""

    name = "irdl"

    payload: bool = False

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        if self.payload:
            out = to_upstream_irdl_spelling(module, Mixpe)
            Printer(output, print_generic_format=True).print_op(out)
            output.write("\n")
        else:
            output.write(mixpe_irdl_text())


__all__ = ["IRDLTarget", "dialect_to_upstream_irdl", "mixpe_irdl_text", "to_upstream_irdl_spelling"]

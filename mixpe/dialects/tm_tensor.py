"""torch-mlir's `tm_tensor.sort`, the one TMTensor op a linalg-on-tensors export of a model
keeps: `torch.topk` and `torch.sort` lower to it. Without it a MoE router does not parse.

    %s:2 = tm_tensor.sort dimension(1) outs(%v, %i : tensor<8x8xf32>, tensor<8x8xi64>) {
    ^bb0(%a: f32, %b: f32, %ia: i64, %ib: i64):
      %c = arith.cmpf oge, %a, %b : f32
      tm_tensor.yield %c : i1
    } -> tensor<8x8xf32>, tensor<8x8xi64>

Semantics (torch-mlir's TMTensor `SortOp`): the outs are sorted in place along `dimension`,
all permuted alike; the comparator gets (lhs, rhs) of each operand in turn and yields whether
lhs may stay before rhs. torch-mlir runs it as a bubble sort that swaps only when the comparator
says no, so a non-strict comparator (`oge`, `sle`, ...) on the first operand is a stable sort;
that is the form mixpe executes (`comparator` below names it, or says why not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr, IntegerType, TensorType, i1, i64
from xdsl.ir import Attribute, Dialect, Region, SSAValue, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsTerminator
from xdsl.utils.exceptions import VerifyException

# non-strict predicates: (cmpf, cmpi) name -> descending?
_NON_STRICT = {"oge": True, "uge": True, "sge": True, "ole": False, "ule": False, "sle": False}
_CMPF = [
    "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "ueq", "ugt", "uge", "ult", "ule", "une", "uno", "true",
]
_CMPI = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"]


@irdl_op_definition
class SortOp(IRDLOperation):
    name = "tm_tensor.sort"

    dimension = prop_def(IntegerAttr)
    outs = var_operand_def(TensorType)
    results_ = var_result_def(TensorType)
    region = region_def("single_block")

    def __init__(self, dimension: int, outs: Sequence[SSAValue], region: Region):
        super().__init__(operands=[outs], result_types=[[v.type for v in outs]],
                         properties={"dimension": IntegerAttr(dimension, i64)}, regions=[region])

    @classmethod
    def parse(cls, parser: Parser) -> SortOp:
        parser.parse_keyword("dimension")
        parser.parse_punctuation("(")
        dim = parser.parse_integer(allow_negative=False, allow_boolean=False,
                                   context_msg=" in tm_tensor.sort dimension")
        parser.parse_punctuation(")")
        parser.parse_keyword("outs")

        def operands_and_types() -> tuple[list[UnresolvedOperand], list[TypeAttribute]]:
            ops = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_unresolved_operand)
            parser.parse_punctuation(":")
            types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
            return ops, types

        (unresolved, types) = parser.parse_comma_separated_list(parser.Delimiter.PAREN, operands_and_types)[0]
        if len(unresolved) != len(types):
            parser.raise_error(f"tm_tensor.sort: {len(unresolved)} outs but {len(types)} types")
        outs = [parser.resolve_operand(o, t) for o, t in zip(unresolved, types)]
        region = parser.parse_region()
        parser.parse_punctuation("->")
        parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
        op = cls(dim, outs, region)
        if (attrs := parser.parse_optional_attr_dict()):
            op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(f" dimension({self.dimension.value.data}) outs(")
        printer.print_list(self.outs, printer.print_operand)
        printer.print_string(" : ")
        printer.print_list([v.type for v in self.outs], printer.print_attribute)
        printer.print_string(") ")
        printer.print_region(self.region)
        printer.print_string(" -> ")
        printer.print_list([r.type for r in self.results], printer.print_attribute)

    def verify_(self) -> None:
        # var_operand_def(TensorType) has checked these before verify_ runs
        types = [cast(TensorType[Attribute], v.type) for v in self.outs]
        if not types:
            raise VerifyException("tm_tensor.sort needs at least one operand")
        shape = types[0].get_shape()
        if any(t.get_shape() != shape for t in types):
            raise VerifyException("tm_tensor.sort operands must all have one shape")
        if not 0 <= self.dimension.value.data < len(shape):
            raise VerifyException(
                f"dimension {self.dimension.value.data} is not a dimension of rank-{len(shape)} operands"
            )
        if [r.type for r in self.results] != types:
            raise VerifyException("tm_tensor.sort results must have the operands' types")
        want = [e for t in types for e in (t.get_element_type(),) * 2]
        if [a.type for a in self.region.block.args] != want:
            raise VerifyException("the comparator takes (lhs, rhs) of each operand's element type")

    def comparator(self) -> tuple[int, bool] | str:
        """(operand index of the key, descending) for a non-strict compare of one operand's
        lhs and rhs, or the reason mixpe cannot execute the comparator."""
        ops = [o for o in self.region.block.ops]
        if len(ops) != 2 or not isinstance(ops[0], arith.CmpfOp | arith.CmpiOp):
            return "only a single arith.cmpf/cmpi comparator can be executed"
        cmp = ops[0]
        args: list[SSAValue] = list(self.region.block.args)
        table = _CMPF if cmp.name == "arith.cmpf" else _CMPI
        pred = table[cmp.predicate.value.data]
        lhs, rhs = cmp.operands
        if lhs not in args or rhs not in args or args.index(lhs) % 2 or args.index(rhs) != args.index(lhs) + 1:
            return "the comparator must compare one operand's lhs with its rhs"
        if pred not in _NON_STRICT or ops[1].operands[0] is not cmp.results[0]:
            return f"predicate '{pred}': only non-strict comparators (stable sorts) can be executed"
        return args.index(lhs) // 2, _NON_STRICT[pred]


@irdl_op_definition
class YieldOp(IRDLOperation):
    name = "tm_tensor.yield"

    value = operand_def(IntegerType)
    traits = traits_def(IsTerminator(), HasParent(SortOp))
    assembly_format = "$value attr-dict `:` type($value)"

    def __init__(self, value: SSAValue):
        super().__init__(operands=[value])

    def verify_(self) -> None:
        if self.value.type != i1:
            raise VerifyException("the comparator yields an i1")


TMTensor = Dialect("tm_tensor", [SortOp, YieldOp], [])

__all__ = ["SortOp", "TMTensor", "YieldOp"]

"""The `mixpe` dialect's attributes: zero-point mode, weight layout, signedness, weight format,
dataflow enums, and `#mixpe.schedule` (how a GEMM is tiled onto the systolic array). The ops are
in `mixpe.dialects.mixpe`, which re-exports these names."""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    ArrayAttr,
    IntAttr,
    StringAttr,
)
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.ir import Attribute, ParametrizedAttribute
from xdsl.ir.core import SpacedOpaqueSyntaxAttribute
from xdsl.irdl import (
    irdl_attr_definition,
    param_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

# --------------------------------------------------------------------------- enums


class ZeroPointMode(StrEnum):
    """Zero-point conventions, named like BitBLAS `zeros_mode`."""

    ORIGINAL = "original"  # W = S * (Q - Z)
    RESCALE = "rescale"  # W = Q * S - Z'   (AWQ)
    SYMMETRIC = "symmetric"  # W = S * Q


class WeightLayout(StrEnum):
    KN = "kn"
    NK = "nk"


class Signedness(StrEnum):
    SIGNED = "signed"
    UNSIGNED = "unsigned"


class WeightFormat(StrEnum):
    """`int`: two's-complement/unsigned integers; `pow2`: DenseShift zero-free ±2^p values."""

    INT = "int"
    POW2 = "pow2"


class Dataflow(StrEnum):
    OS = "os"  # output-stationary: tokens on rows, output channels on columns
    WS = "ws"  # weight-stationary
    NFOLD = "nfold"  # output-stationary with N folded over row stacks (skinny/decode GEMMs)


@irdl_attr_definition
class ZeroPointModeAttr(EnumAttribute[ZeroPointMode], SpacedOpaqueSyntaxAttribute):
    name = "mixpe.zp"


@irdl_attr_definition
class WeightLayoutAttr(EnumAttribute[WeightLayout], SpacedOpaqueSyntaxAttribute):
    name = "mixpe.layout"


@irdl_attr_definition
class SignednessAttr(EnumAttribute[Signedness], SpacedOpaqueSyntaxAttribute):
    name = "mixpe.signedness"


@irdl_attr_definition
class WeightFormatAttr(EnumAttribute[WeightFormat], SpacedOpaqueSyntaxAttribute):
    name = "mixpe.format"


@irdl_attr_definition
class DataflowAttr(EnumAttribute[Dataflow], SpacedOpaqueSyntaxAttribute):
    name = "mixpe.dataflow"


@irdl_attr_definition
class ScheduleAttr(ParametrizedAttribute):
    """How a GEMM maps onto an R x C array: tile sizes (tm, tn, tk), loop order, dataflow.

    Printed as `#mixpe.schedule<os, array = [32, 32], tile = [64, 128, 256], order = "nmk">`.
    The tile pass chooses it from hardware data; the backend and simulator read it.
    """

    name = "mixpe.schedule"

    dataflow: DataflowAttr = param_def()
    array: ArrayAttr[IntAttr] = param_def()
    tile: ArrayAttr[IntAttr] = param_def()
    order: StringAttr = param_def()

    def __init__(
        self, dataflow: Dataflow, array: Sequence[int], tile: Sequence[int], order: str
    ):
        super().__init__(
            DataflowAttr(dataflow),
            ArrayAttr(IntAttr(v) for v in array),
            ArrayAttr(IntAttr(v) for v in tile),
            StringAttr(order),
        )

    @property
    def array_shape(self) -> tuple[int, ...]:
        return tuple(v.data for v in self.array.data)

    @property
    def tile_shape(self) -> tuple[int, ...]:
        return tuple(v.data for v in self.tile.data)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        def dims(keyword: str) -> ArrayAttr[IntAttr]:
            parser.parse_punctuation(",")
            parser.parse_keyword(keyword)
            parser.parse_punctuation("=")
            values = parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, parser.parse_integer
            )
            return ArrayAttr(IntAttr(v) for v in values)

        with parser.in_angle_brackets():
            flow = DataflowAttr(parser.parse_str_enum(Dataflow))
            array, tile = dims("array"), dims("tile")
            parser.parse_punctuation(",")
            parser.parse_keyword("order")
            parser.parse_punctuation("=")
            order = StringAttr(parser.parse_str_literal())
        if msg := cls.problem(
            [v.data for v in array.data], [v.data for v in tile.data], order.data
        ):
            parser.raise_error(msg)
        return (flow, array, tile, order)

    def print_parameters(self, printer: Printer) -> None:
        array = ", ".join(map(str, self.array_shape))
        tile = ", ".join(map(str, self.tile_shape))
        printer.print_string(
            f'<{self.dataflow.data.value}, array = [{array}], tile = [{tile}], order = "{self.order.data}">'
        )

    @staticmethod
    def problem(array: Sequence[int], tile: Sequence[int], order: str) -> str | None:
        """Why these parameters are not a schedule, or None."""
        if len(array) != 2 or min(array, default=0) < 1:
            return "schedule array must be RxC with positive sizes"
        if len(tile) != 3 or min(tile, default=0) < 1:
            return "schedule tile must be MxNxK with positive sizes"
        if sorted(order) != ["k", "m", "n"]:
            return f'schedule order "{order}" must be a permutation of "mnk"'
        return None

    def verify(self) -> None:
        if msg := self.problem(self.array_shape, self.tile_shape, self.order.data):
            raise VerifyException(msg)


"""The program format's data types (docs/program-format.md): values, instructions, programs,
and the one error every problem is reported with. No behaviour: the checks live in
`program_ops`, loading and building in `program`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mixpe.reference.dtypes import bit_width

FORMAT = "mixpe-sim-program"
VERSION = 1
PE_KINDS = ("mac", "bitplane", "pow2")
SRAM_BUFFERS = ("weight", "act", "out")


class ProgramError(ValueError):
    """A malformed, truncated or inconsistent program (one line, with instruction index/loc)."""


@dataclass(frozen=True)
class TensorType:
    shape: tuple[int, ...]
    dtype: str

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Packed size: i4 takes half a byte, i1 one bit, as in SRAM."""
        return -(-self.size * bit_width(self.dtype) // 8)

    def __str__(self) -> str:
        return f"tensor<{'x'.join(map(str, self.shape))}{'x' if self.shape else ''}{self.dtype}>"


@dataclass(frozen=True)
class Value:
    name: str
    type: TensorType
    sram: tuple[str, int] | None = None  # (buffer, byte offset): resident on chip


@dataclass
class Instruction:
    index: int
    op: str
    args: tuple[str, ...]
    results: tuple[Value, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] = field(default_factory=dict)
    loc: str | None = None

    @property
    def where(self) -> str:
        return f"instruction {self.index} ({self.op}{' at ' + self.loc if self.loc else ''})"


@dataclass
class Program:
    function: str
    inputs: list[Value]
    outputs: list[Value]
    instructions: list[Instruction]
    values: dict[str, Value]

    def to_dict(self) -> dict:
        def val(v: Value) -> dict:
            d = {"name": v.name, "shape": list(v.type.shape), "dtype": v.type.dtype}
            if v.sram:
                d["sram"] = {"buffer": v.sram[0], "offset": v.sram[1]}
            return d

        instrs = []
        for ins in self.instructions:
            d = {"op": ins.op, "args": list(ins.args), "results": [val(r) for r in ins.results]}
            if ins.attrs:
                d["attrs"] = ins.attrs
            if ins.schedule:
                d["schedule"] = ins.schedule
            if ins.loc:
                d["loc"] = ins.loc
            instrs.append(d)
        return {
            "format": FORMAT,
            "version": VERSION,
            "function": self.function,
            "inputs": [val(v) for v in self.inputs],
            "outputs": [val(v) for v in self.outputs],
            "instructions": instrs,
        }


# elementwise: name -> (arity, rule); rules are checked in _check_elementwise
ELEMENTWISE: dict[str, tuple[int, str]] = {
    **{n: (2, "same") for n in ("add", "sub", "mul", "div", "max", "min", "rem")},
    "pow": (2, "samefloat"),
    **{n: (2, "sameint") for n in ("and", "or", "xor", "shl", "shrsi", "shrui")},
    **{n: (1, "same") for n in ("neg", "abs", "copy", "relu")},
    **{n: (1, "samefloat") for n in (
        "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "silu", "gelu_tanh",
        "roundeven", "floor", "ceil", "erf", "sin", "cos",
    )},
    "extf": (1, "f>f"), "truncf": (1, "f<f"),
    "sitofp": (1, "i2f"), "uitofp": (1, "i2f"), "fptosi": (1, "f2i"), "fptoui": (1, "f2i"),
    "extsi": (1, "i>i"), "extui": (1, "i>i"), "trunci": (1, "i<i"),
    "cmp": (2, "cmp"), "select": (3, "select"),
}
CMP_PREDICATES = (
    "eq", "ne", "lt", "le", "gt", "ge",
    "oeq", "one", "olt", "ole", "ogt", "oge", "ueq", "une", "ult", "ule", "ugt", "uge",
    "slt", "sle", "sgt", "sge",
)

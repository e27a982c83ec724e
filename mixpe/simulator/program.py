"""The simulator's program format (docs/program-format.md): load, validate, build, dump.

A program is JSON at tensor-op granularity, as the `-t mixpe-sim` backend emits it. Loading
validates everything that does not need the hardware (format, version, ops, fields, SSA order,
shapes and dtypes); `check_placement` validates SRAM placements against a hardware's sizes.
Every problem is a one-line `ProgramError` naming the instruction index, op and loc.
"""

from __future__ import annotations

import json
import os
from typing import Any

from mixpe.fileio import InputTooLarge, read_limited, too_deep
from mixpe.reference.dtypes import DTYPE_NAMES
from mixpe.simulator.program_ops import OPS, OpSpec, _check
from mixpe.simulator.program_types import (
    FORMAT,
    PE_KINDS,
    SRAM_BUFFERS,
    VERSION,
    Instruction,
    Program,
    ProgramError,
    TensorType,
    Value,
)

__all__ = ["FORMAT", "MAX_JSON_DEPTH", "OPS", "PE_KINDS", "SRAM_BUFFERS", "VERSION", "Instruction", "OpSpec",
           "Program", "ProgramBuilder", "ProgramError", "TensorType", "Value", "check_elements", "check_placement",
           "dumps", "load_program", "parse_program"]

# Arrays and objects inside arrays and objects: a program needs about 6 levels (attrs may hold
# lists of lists); deeper input is refused before anything walks it recursively.
MAX_JSON_DEPTH = 64


# ---------------------------------------------------------------------------------------------
# loading


def load_program(source: str | os.PathLike | dict) -> Program:
    """A validated Program from a path, a JSON string, or an already-parsed dict.

    A `str` starting with `{` is JSON text (for Python callers); tools pass command-line paths
    as `pathlib.Path`, which is always read as a file, whatever its name."""
    if isinstance(source, dict):
        return parse_program(source)
    text = str(source)
    if isinstance(source, os.PathLike) or not text.lstrip().startswith("{"):
        try:
            text = read_limited(text, "program").decode("utf-8")
        except InputTooLarge as e:
            raise ProgramError(str(e)) from None
        except OSError as e:
            raise ProgramError(f"cannot read program {source}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise ProgramError(f"program {source} is not UTF-8 text") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProgramError(
            f"program is not valid JSON (truncated?): {e.msg} at line {e.lineno} column {e.colno}"
        ) from None
    except RecursionError:  # the C decoder's own limit, near Python's recursion limit
        raise ProgramError(f"program is nested too deeply (more than {MAX_JSON_DEPTH} levels of "
                           "arrays and objects)") from None
    _check_depth(obj)
    return parse_program(obj)


def _check_depth(obj: Any) -> None:
    """Refuses JSON nested more than MAX_JSON_DEPTH levels, walking it without recursion."""
    if too_deep(obj, MAX_JSON_DEPTH):
        raise ProgramError(f"program is nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays and objects)")


def dumps(program: Program | dict) -> str:
    """Deterministic JSON text: sorted keys, fixed indentation, trailing newline."""
    obj = program.to_dict() if isinstance(program, Program) else program
    return json.dumps(obj, sort_keys=True, indent=1) + "\n"


def _type(obj: Any, what: str) -> TensorType:
    if not isinstance(obj, dict):
        raise ProgramError(f"{what}: expected an object with shape and dtype")
    for key in ("shape", "dtype"):
        if key not in obj:
            raise ProgramError(f"{what}: missing field '{key}'")
    shape, dtype = obj["shape"], obj["dtype"]
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ProgramError(f"{what}: shape must be a list of non-negative integers, got {shape!r}")
    if dtype not in DTYPE_NAMES:
        raise ProgramError(f"{what}: unknown dtype {dtype!r} (known: {', '.join(DTYPE_NAMES)})")
    return TensorType(tuple(shape), dtype)


def _value(obj: Any, what: str) -> Value:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not obj["name"]:
        raise ProgramError(f"{what}: expected an object with a non-empty string 'name'")
    what = f"{what} '{obj['name']}'"
    sram = obj.get("sram")
    if sram is not None:
        if (
            not isinstance(sram, dict)
            or sram.get("buffer") not in SRAM_BUFFERS
            or type(sram.get("offset")) is not int
            or sram["offset"] < 0
        ):
            raise ProgramError(
                f"{what}: sram must be {{\"buffer\": one of {list(SRAM_BUFFERS)}, "
                f"\"offset\": non-negative int}}"
            )
        sram = (sram["buffer"], sram["offset"])
    return Value(obj["name"], _type(obj, what), sram)


def parse_program(obj: Any) -> Program:
    """A validated Program from its JSON object; a Program (already validated) as it is."""
    if isinstance(obj, Program):
        return obj
    if not isinstance(obj, dict):
        raise ProgramError("program must be a JSON object")
    if obj.get("format") != FORMAT:
        raise ProgramError(f"not a {FORMAT} (format is {obj.get('format')!r})")
    version = obj.get("version")
    if type(version) is not int or version != VERSION:  # `true` is no version (bool is an int)
        raise ProgramError(
            f"unsupported program version {json.dumps(version)[:80]} (this simulator reads version {VERSION})"
        )
    for key in ("function", "inputs", "outputs", "instructions"):
        if key not in obj:
            raise ProgramError(f"program: missing field '{key}'")
    if not isinstance(obj["function"], str):
        raise ProgramError("program: 'function' must be a string")
    for key in ("inputs", "outputs", "instructions"):
        if not isinstance(obj[key], list):
            raise ProgramError(f"program: '{key}' must be a list")

    values: dict[str, Value] = {}
    inputs = []
    for i, raw in enumerate(obj["inputs"]):
        v = _value(raw, f"input {i}")
        if v.name in values:
            raise ProgramError(f"input {i}: value '{v.name}' is defined twice")
        values[v.name] = v
        inputs.append(v)

    instructions = []
    for i, raw in enumerate(obj["instructions"]):
        ins = _instruction(i, raw, values)
        for r in ins.results:
            values[r.name] = r
        instructions.append(ins)

    outputs = []
    for i, raw in enumerate(obj["outputs"]):
        v = _value(raw, f"output {i}")
        if v.name not in values:
            raise ProgramError(f"output {i}: value '{v.name}' is never defined")
        if values[v.name].type != v.type:
            raise ProgramError(
                f"output {i}: '{v.name}' is declared {v.type} but defined as {values[v.name].type}"
            )
        outputs.append(values[v.name])
    return Program(obj["function"], inputs, outputs, instructions, values)


def _instruction(index: int, raw: Any, values: dict[str, Value]) -> Instruction:
    if not isinstance(raw, dict):
        raise ProgramError(f"instruction {index}: expected an object")
    op, loc = raw.get("op"), raw.get("loc")
    if loc is not None and not isinstance(loc, str):
        raise ProgramError(f"instruction {index}: loc must be a string")
    where = f"instruction {index} ({op}{' at ' + loc if loc else ''})"
    if op not in OPS:
        raise ProgramError(f"{where}: unknown op {op!r}")
    for key, kind in (("args", list), ("results", list), ("attrs", dict), ("schedule", dict)):
        if key in raw and not isinstance(raw[key], kind):
            raise ProgramError(f"{where}: '{key}' must be a {kind.__name__}")
    if "results" not in raw:
        raise ProgramError(f"{where}: missing field 'results'")
    args = raw.get("args", [])
    for a in args:
        if not isinstance(a, str):
            raise ProgramError(f"{where}: args must be value names, got {a!r}")
        if a not in values:
            raise ProgramError(f"{where}: undefined value '{a}'")
    results = tuple(_value(r, f"{where}: result") for r in raw["results"])
    for r in results:
        if r.name in values or sum(x.name == r.name for x in results) > 1:
            raise ProgramError(f"{where}: value '{r.name}' is defined twice")
    ins = Instruction(index, op, tuple(args), results, dict(raw.get("attrs", {})),
                      dict(raw.get("schedule", {})), loc)
    spec = OPS[op]
    arg_types = [values[a].type for a in args]
    _check(ins, spec, arg_types)
    return ins


# ---------------------------------------------------------------------------------------------
# SRAM placement (needs the hardware's buffer sizes)


def check_placement(program: Program, sizes: dict[str, int]) -> None:
    """Placed values must fit their buffer and not overlap another placed value that is live at
    the same time (live = from its defining instruction to its last use)."""
    last_use: dict[str, int] = {}
    for ins in program.instructions:
        for a in ins.args:
            last_use[a] = ins.index
    end = len(program.instructions)
    for o in program.outputs:
        last_use[o.name] = end
    placed = []
    defs = [(-1, v) for v in program.inputs] + [
        (ins.index, r) for ins in program.instructions for r in ins.results]
    for start, v in defs:
        if v.sram is None:
            continue
        buf, off = v.sram
        where = f"value '{v.name}' in the {buf} buffer"
        if buf not in sizes:
            raise ProgramError(f"{where}: the hardware has no {buf} buffer")
        if off + v.type.nbytes > sizes[buf]:
            raise ProgramError(
                f"{where}: bytes [{off}, {off + v.type.nbytes}) are outside the buffer's {sizes[buf]} bytes"
            )
        live = (start, last_use.get(v.name, start))
        for other, obuf, ooff, olive in placed:
            if obuf == buf and off < ooff + other.type.nbytes and ooff < off + v.type.nbytes \
                    and live[0] <= olive[1] and olive[0] <= live[1]:
                raise ProgramError(f"{where}: overlaps '{other.name}' while both are live")
        placed.append((v, buf, off, live))


def check_elements(program: Program, limit: int, flag: str = "--max-elements") -> None:
    """Before executing: no value may hold more than `limit` elements (a `fill` declaring 10^12
    elements would end in MemoryError). Costing alone never allocates and needs no limit."""
    defs = [(f"input {i}", v) for i, v in enumerate(program.inputs)] + [
        (ins.where, r) for ins in program.instructions for r in ins.results]
    for where, v in defs:
        if v.type.size > limit:
            raise ProgramError(f"{where}: value '{v.name}' ({v.type}) holds {v.type.size:,} elements, more "
                               f"than the {limit:,} this run may allocate ({flag}); without --inputs the "
                               "program is only costed")


# ---------------------------------------------------------------------------------------------
# building (for the backend and tests)


class ProgramBuilder:
    """Emit programs without hand-writing JSON: inputs, ops in SSA order, outputs."""

    def __init__(self, function: str = "main"):
        self.obj: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "function": function,
            "inputs": [], "outputs": [], "instructions": [],
        }
        self._types: dict[str, tuple[list[int], str]] = {}

    def input(self, name: str, shape, dtype: str) -> str:
        self.obj["inputs"].append({"name": name, "shape": list(shape), "dtype": dtype})
        self._types[name] = (list(shape), dtype)
        return name

    def op(self, op: str, args, results, /, *, loc: str | None = None, schedule=None, **attrs) -> list[str]:
        """`results` is a list of (name, shape, dtype) or (name, shape, dtype, sram) tuples."""
        res = []
        for r in results:
            d = {"name": r[0], "shape": list(r[1]), "dtype": r[2]}
            if len(r) > 3 and r[3] is not None:
                d["sram"] = {"buffer": r[3][0], "offset": r[3][1]}
            res.append(d)
            self._types[r[0]] = (list(r[1]), r[2])
        ins: dict[str, Any] = {"op": op, "args": list(args), "results": res}
        if attrs:
            ins["attrs"] = attrs
        if schedule:
            ins["schedule"] = dict(schedule)
        if loc:
            ins["loc"] = loc
        self.obj["instructions"].append(ins)
        return [r[0] for r in results]

    def type_of(self, name: str) -> tuple[list[int], str]:
        """(shape, dtype) of a value emitted so far."""
        return self._types[name]

    def output(self, name: str) -> None:
        shape, dtype = self._types[name]
        self.obj["outputs"].append({"name": name, "shape": shape, "dtype": dtype})

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self.obj))

    def build(self) -> Program:
        return parse_program(self.to_dict())

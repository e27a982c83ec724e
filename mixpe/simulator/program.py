"""The simulator's program format (docs/program-format.md): load, validate, build, dump.

A program is JSON at tensor-op granularity, as the `-t mixpe-sim` backend emits it. Loading
validates everything that does not need the hardware (format, version, ops, fields, SSA order,
shapes and dtypes); `check_placement` validates SRAM placements against a hardware's sizes.
Every problem is a one-line `ProgramError` naming the instruction index, op and loc.
"""

from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from mixpe.reference.dtypes import DTYPE_NAMES, bit_width, is_float, is_integer

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


# ---------------------------------------------------------------------------------------------
# loading


def load_program(source: str | os.PathLike | dict) -> Program:
    """A validated Program from a path, a JSON string, or an already-parsed dict."""
    if isinstance(source, dict):
        return parse_program(source)
    text = str(source)
    if isinstance(source, os.PathLike) or not text.lstrip().startswith("{"):
        try:
            with open(text, encoding="utf-8") as f:
                text = f.read()
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
    return parse_program(obj)


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
            or not isinstance(sram.get("offset"), int)
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
    if obj.get("version") != VERSION:
        raise ProgramError(
            f"unsupported program version {obj.get('version')!r} (this simulator reads version {VERSION})"
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
# per-op checking: each checker returns the expected result types from arg types and attrs


class _Ctx:
    def __init__(self, ins: Instruction):
        self.ins = ins

    def fail(self, msg: str):
        raise ProgramError(f"{self.ins.where}: {msg}")

    def attr(self, name: str, kind, default: Any = ..., choices=None, source: str = "attrs"):
        table = self.ins.attrs if source == "attrs" else self.ins.schedule
        if name not in table:
            if default is ...:
                self.fail(f"missing {source[:-1] if source == 'attrs' else source} '{name}'")
            return default
        v = table[name]
        ok = isinstance(v, kind) and not (kind is int and isinstance(v, bool))
        if kind is int and ok:
            ok = v > 0
        if not ok:
            want = "a positive int" if kind is int else kind.__name__
            self.fail(f"{source} '{name}' must be {want}, got {v!r}")
        if choices is not None and v not in choices:
            self.fail(f"{source} '{name}' must be one of {list(choices)}, got {v!r}")
        return v

    def int_list(self, name: str, default: Any = ...):
        v = self.ins.attrs.get(name, default)
        if v is ...:
            self.fail(f"missing attr '{name}'")
        if v is not None and (
            not isinstance(v, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in v)
        ):
            self.fail(f"attr '{name}' must be a list of ints, got {v!r}")
        return v


@dataclass(frozen=True)
class OpSpec:
    unit: str  # "array": costed on the PE array; "vector": vector unit; "none": free
    arity: tuple[int, ...]  # accepted arg counts
    check: Callable[[_Ctx, list[TensorType]], list[TensorType]]


def _check(ins: Instruction, spec: OpSpec, arg_types: list[TensorType]) -> None:
    ctx = _Ctx(ins)
    if len(arg_types) not in spec.arity:
        a = spec.arity
        counts = f"{a[0]} to {a[-1]}" if len(a) > 3 else " or ".join(map(str, a))
        ctx.fail(f"takes {counts} args, got {len(arg_types)}")
    expected = spec.check(ctx, arg_types)
    if len(expected) != len(ins.results):
        ctx.fail(f"has {len(ins.results)} results, expected {len(expected)}")
    for r, t in zip(ins.results, expected):
        if t.dtype == "*":  # the result's dtype is free within a kind checked by the op
            t = TensorType(t.shape, r.type.dtype)
        if r.type != t:
            ctx.fail(f"result '{r.name}' is declared {r.type}, expected {t}")


def _rank(ctx: _Ctx, t: TensorType, n: int, what: str) -> tuple[int, ...]:
    if len(t.shape) != n:
        ctx.fail(f"{what} must be {n}-D, got {t}")
    return t.shape


def _acc_for(ctx: _Ctx, x: TensorType) -> str:
    acc = ctx.attr("acc", str, "i32" if is_integer(x.dtype) else "f32", ("i32", "f32"))
    want = "i32" if is_integer(x.dtype) else "f32"
    if acc != want:
        ctx.fail(f"acc {acc} does not match {x.dtype} activations (use {want})")
    return acc


def _weights(ctx: _Ctx, x: TensorType, q: TensorType, signed_default: Any = ...) -> tuple[int, int, int, int]:
    """(M, K, N, G) from activations, weights and the grouping attrs."""
    M, K = _rank(ctx, x, 2, "activations")
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    kq, N = _rank(ctx, q, 2, "weights")[:: 1 if layout == "kn" else -1]
    if not is_integer(q.dtype):
        ctx.fail(f"weights must have an integer dtype, got {q.dtype}")
    if kq != K:
        ctx.fail(f"activations {x} and {layout} weights {q} disagree on K")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    return M, K, N, K // g


def _weight_attrs(ctx: _Ctx) -> None:
    bits = ctx.attr("weight_bits", int)
    if bits > 16:
        ctx.fail(f"weight_bits {bits} is above 16")
    ctx.attr("signed", bool)


def _psum_type(ctx: _Ctx, x: TensorType, M: int, G: int, N: int) -> TensorType:
    return TensorType((M, G, N), _acc_for(ctx, x))


def _check_group_psum(ctx, t):
    x, q = t
    M, K, N, G = _weights(ctx, x, q)
    _weight_attrs(ctx)
    ctx.attr("pe", str, "mac", PE_KINDS, source="schedule")
    return [_psum_type(ctx, x, M, G, N)]


def _check_act_group_sum(ctx, t):
    (x,) = t
    M, K = _rank(ctx, x, 2, "activations")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    return [TensorType((M, K // g), _acc_for(ctx, x))]


def _zp_args(ctx: _Ctx, t: list[TensorType], lead: int) -> tuple[str, list[TensorType]]:
    mode = ctx.attr("zp_mode", str, choices=("original", "rescale", "symmetric"))
    want = lead + (1 if mode == "symmetric" else 2)
    if len(t) != want:
        names = "scales" if mode == "symmetric" else "scales, zeros"
        ctx.fail(f"zp_mode {mode} takes {want} args (..., {names}), got {len(t)}")
    return mode, t[lead:]


def _check_scales(ctx: _Ctx, mode: str, sz: list[TensorType], G: int, N: int) -> None:
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    want = (G, N) if layout == "kn" else (N, G)
    for what, st in zip(("scales", "zeros"), sz):
        if st.shape != want:
            ctx.fail(f"{what} {st} must have shape {list(want)} for layout {layout}")
    if not is_float(sz[0].dtype):
        ctx.fail(f"scales must be float, got {sz[0].dtype}")
    if mode == "rescale" and not is_float(sz[1].dtype):
        ctx.fail(f"rescale zero points must be float, got {sz[1].dtype}")


def _float_result(ctx: _Ctx, shape) -> TensorType:
    r = ctx.ins.results[0].type.dtype if ctx.ins.results else "f32"
    if not is_float(r):
        ctx.fail(f"result must be a float type, got {r}")
    return TensorType(tuple(shape), "*")


def _check_dequant_epilogue(ctx, t):
    mode = ctx.attr("zp_mode", str, choices=("original", "rescale", "symmetric"))
    p = t[0]
    M, G, N = _rank(ctx, p, 3, "partial sums")
    if mode == "symmetric":
        _, sz = _zp_args(ctx, t, 1)
    else:
        _, sz = _zp_args(ctx, t, 2)
        if t[1].shape != (M, G):
            ctx.fail(f"activation sums {t[1]} must have shape {[M, G]}")
        if is_integer(t[1].dtype) != is_integer(p.dtype):
            ctx.fail(f"partial sums {p.dtype} and activation sums {t[1].dtype} differ in kind")
    if p.dtype not in ("i32", "f32"):
        ctx.fail(f"partial sums must be i32 or f32, got {p.dtype}")
    _check_scales(ctx, mode, sz, G, N)
    return [_float_result(ctx, (M, N))]


def _check_mpgemm(ctx, t):
    mode, sz = _zp_args(ctx, t, 2)
    M, K, N, G = _weights(ctx, t[0], t[1])
    _weight_attrs(ctx)
    _acc_for(ctx, t[0])
    ctx.attr("pe", str, "mac", PE_KINDS, source="schedule")
    _check_scales(ctx, mode, sz, G, N)
    return [_float_result(ctx, (M, N))]


def _check_bitplanes(ctx, t):
    (q,) = t
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    K, N = _rank(ctx, q, 2, "weights")[:: 1 if layout == "kn" else -1]
    _weight_attrs(ctx)
    if not is_integer(q.dtype):
        ctx.fail(f"weights must have an integer dtype, got {q.dtype}")
    dt = ctx.ins.results[0].type.dtype if ctx.ins.results else "ui8"
    if dt not in ("ui8", "i1"):
        ctx.fail(f"bit planes must be ui8 or i1, got {dt}")
    return [TensorType((ctx.ins.attrs["weight_bits"], K, N), dt)]


def _check_bitplane_psum(ctx, t):
    x, planes = t
    M, K = _rank(ctx, x, 2, "activations")
    B, kp, N = _rank(ctx, planes, 3, "bit planes")
    if kp != K:
        ctx.fail(f"activations {x} and bit planes {planes} disagree on K")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    ctx.attr("signed", bool)
    shifts = ctx.int_list("shifts", None)
    if shifts is not None and len(shifts) != B:
        ctx.fail(f"{len(shifts)} shifts for {B} bit planes")
    if "weight_bits" in ctx.ins.attrs:
        ctx.attr("weight_bits", int)
    return [_psum_type(ctx, x, M, K // g, N)]


def _check_pow2_split(ctx, t):
    (q,) = t
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    K, N = _rank(ctx, q, 2, "weights")[:: 1 if layout == "kn" else -1]
    ctx.attr("weight_bits", int)
    return [TensorType((K, N), "i1"), TensorType((K, N), "ui8")]


def _check_shift_psum(ctx, t):
    x, sign, exp = t
    M, K = _rank(ctx, x, 2, "activations")
    if sign.shape != exp.shape or sign.dtype != "i1" or not is_integer(exp.dtype):
        ctx.fail(f"expected sign i1 and integer exponents of one shape, got {sign} and {exp}")
    kp, N = _rank(ctx, sign, 2, "signs")
    if kp != K:
        ctx.fail(f"activations {x} and signs {sign} disagree on K")
    g = ctx.attr("group_size", int)
    if K % g:
        ctx.fail(f"group_size {g} does not divide K={K}")
    if "weight_bits" in ctx.ins.attrs:  # DenseShift code width, for costing
        ctx.attr("weight_bits", int)
    return [_psum_type(ctx, x, M, K // g, N)]


def _check_matmul(ctx, t):
    a, b = t
    layout = ctx.attr("layout", str, "kn", ("kn", "nk"))
    if len(a.shape) < 2 or len(b.shape) < 2:
        ctx.fail(f"matmul operands must be at least 2-D, got {a} and {b}")
    if is_integer(a.dtype) != is_integer(b.dtype):
        ctx.fail(f"matmul of {a.dtype} and {b.dtype} mixes integer and float")
    M, K = a.shape[-2:]
    kb, N = b.shape[-2:][:: 1 if layout == "kn" else -1]
    if kb != K:
        ctx.fail(f"operands {a} and {b} ({layout}) disagree on K")
    try:
        batch = _broadcast(a.shape[:-2], b.shape[:-2])
    except ValueError:
        ctx.fail(f"batch dimensions of {a} and {b} do not broadcast")
    r = ctx.ins.results[0].type.dtype if ctx.ins.results else a.dtype
    if is_integer(r) != is_integer(a.dtype):
        ctx.fail(f"result {r} and operands {a.dtype} differ in kind")
    return [TensorType(batch + (M, N), "*")]


def _broadcast(*shapes) -> tuple[int, ...]:
    import numpy as np

    return tuple(np.broadcast_shapes(*shapes))


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


def _check_elementwise(ctx, t):
    name = ctx.attr("op", str, choices=tuple(ELEMENTWISE))
    arity, rule = ELEMENTWISE[name]
    if len(t) != arity:
        ctx.fail(f"elementwise {name} takes {arity} args, got {len(t)}")
    try:
        shape = _broadcast(*(a.shape for a in t))
    except ValueError:
        ctx.fail(f"arg shapes {[list(a.shape) for a in t]} do not broadcast")
    r = ctx.ins.results[0].type.dtype if ctx.ins.results else t[0].dtype
    src = t[0].dtype
    if rule in ("same", "samefloat", "sameint"):
        if any(a.dtype != r for a in t):
            ctx.fail(f"{name} needs args of the result type {r}, got {[a.dtype for a in t]}")
        if rule == "samefloat" and not is_float(r):
            ctx.fail(f"{name} needs a float type, got {r}")
        if rule == "sameint" and not is_integer(r):
            ctx.fail(f"{name} needs an integer type, got {r}")
    elif rule == "cmp":
        ctx.attr("predicate", str, choices=CMP_PREDICATES)
        if t[0].dtype != t[1].dtype or r != "i1":
            ctx.fail(f"cmp needs two args of one type and an i1 result, got {[a.dtype for a in t]} -> {r}")
    elif rule == "select":
        if t[0].dtype != "i1" or t[1].dtype != r or t[2].dtype != r:
            ctx.fail(f"select needs (i1, {r}, {r}), got {[a.dtype for a in t]}")
    else:
        kinds = {"f": is_float, "i": is_integer}
        a_kind, b_kind = rule[0], rule[-1]
        if not kinds[a_kind](src) or not kinds[b_kind](r):
            ctx.fail(f"{name} converts {'float' if a_kind == 'f' else 'integer'} to "
                     f"{'float' if b_kind == 'f' else 'integer'}, got {src} -> {r}")
        if rule[1] in "<>":
            wider = bit_width(r) > bit_width(src) if rule[1] == ">" else bit_width(r) < bit_width(src)
            if not wider:
                ctx.fail(f"{name} must {'widen' if rule[1] == '>' else 'narrow'} the type, got {src} -> {r}")
    return [TensorType(shape, r)]


def _same_dtype(t: TensorType, shape) -> TensorType:
    return TensorType(tuple(shape), t.dtype)


def _check_transpose(ctx, t):
    (x,) = t
    perm = ctx.int_list("perm")
    if sorted(perm) != list(range(len(x.shape))):
        ctx.fail(f"perm {perm} is not a permutation of {len(x.shape)} dims")
    return [_same_dtype(x, [x.shape[p] for p in perm])]


def _check_reshape(ctx, t):
    (x,) = t
    r = ctx.ins.results[0].type if ctx.ins.results else x
    if r.size != x.size:
        ctx.fail(f"reshape {x} -> {r} changes the number of elements")
    return [_same_dtype(x, r.shape)]


def _check_broadcast(ctx, t):
    (x,) = t
    r = ctx.ins.results[0].type if ctx.ins.results else x
    dims = ctx.int_list("dims", None)
    src = x.shape
    if dims is not None:
        if len(r.shape) - len(dims) != len(x.shape) or any(not 0 <= d < len(r.shape) for d in dims):
            ctx.fail(f"dims {dims} do not turn {x} into rank {len(r.shape)}")
        kept = [i for i in range(len(r.shape)) if i not in dims]
        src = [1] * len(r.shape)
        for i, s in zip(kept, x.shape):
            src[i] = s
    try:
        ok = _broadcast(tuple(src), r.shape) == r.shape
    except ValueError:
        ok = False
    if not ok:
        ctx.fail(f"{x} does not broadcast to {list(r.shape)}")
    return [_same_dtype(x, r.shape)]


def _check_concat(ctx, t):
    dim = ctx.ins.attrs.get("dim")
    if not isinstance(dim, int) or isinstance(dim, bool):
        ctx.fail(f"attrs 'dim' must be a dimension index, got {dim!r}")
    rank = len(t[0].shape)
    if not 0 <= dim < rank:
        ctx.fail(f"dim {dim} is not a dimension of rank-{rank} values")
    for a in t[1:]:
        if a.dtype != t[0].dtype or len(a.shape) != rank or any(
            x != y for i, (x, y) in enumerate(zip(a.shape, t[0].shape)) if i != dim
        ):
            ctx.fail(f"cannot concatenate {t[0]} and {a} along dim {dim}")
    shape = list(t[0].shape)
    shape[dim] = sum(a.shape[dim] for a in t)
    return [_same_dtype(t[0], shape)]


def _check_reduce(ctx, t):
    (x,) = t
    ctx.attr("kind", str, choices=("add", "mul", "max", "min"))
    dims = ctx.int_list("dims")
    if len(set(dims)) != len(dims) or any(not 0 <= d < len(x.shape) for d in dims):
        ctx.fail(f"dims {dims} are not distinct dims of {x}")
    keep = ctx.attr("keepdims", bool, False)
    shape = [1 if i in dims else s for i, s in enumerate(x.shape)] if keep else [
        s for i, s in enumerate(x.shape) if i not in dims]
    return [_same_dtype(x, shape)]


def _check_fill(ctx, t):
    v = ctx.ins.attrs.get("value")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        ctx.fail(f"fill needs a numeric attr 'value', got {v!r}")
    return [ctx.ins.results[0].type] if ctx.ins.results else []


def _check_constant(ctx, t):
    if not ctx.ins.results:
        return []
    r = ctx.ins.results[0].type
    given = [k for k in ("value", "data", "base64") if k in ctx.ins.attrs]
    if len(given) != 1:
        ctx.fail("constant needs exactly one of attrs 'value', 'data', 'base64'")
    k = given[0]
    v = ctx.ins.attrs[k]
    if k == "value" and not isinstance(v, (int, float)):
        ctx.fail(f"constant value must be a number, got {v!r}")
    if k == "data" and (not isinstance(v, list) or len(v) != r.size
                        or not all(isinstance(e, (int, float)) for e in v)):
        ctx.fail(f"constant data must be a flat list of {r.size} numbers")
    if k == "base64":
        if not isinstance(v, str):
            ctx.fail("constant base64 must be a string")
        try:
            raw = base64.b64decode(v, validate=True)
        except ValueError:
            ctx.fail("constant base64 is not valid base64")
        want = r.size * max(1, bit_width(r.dtype) // 8)
        if len(raw) != want:
            ctx.fail(f"constant base64 holds {len(raw)} bytes, {r} needs {want}")
    return [r]


def _slice_attrs(ctx: _Ctx, rank: int) -> tuple[list[int], list[int], list[int]]:
    offsets, sizes = ctx.int_list("offsets"), ctx.int_list("sizes")
    strides = ctx.int_list("strides", [1] * rank)
    if not (len(offsets) == len(sizes) == len(strides) == rank):
        ctx.fail(f"offsets, sizes and strides need one entry per dim ({rank})")
    if any(o < 0 for o in offsets) or any(n < 0 for n in sizes) or any(st < 1 for st in strides):
        ctx.fail("offsets and sizes must be >= 0 and strides >= 1")
    return offsets, sizes, strides


def _check_window(ctx: _Ctx, full: TensorType, what: str) -> list[int]:
    offsets, sizes, strides = _slice_attrs(ctx, len(full.shape))
    for d, (o, n, st, dim) in enumerate(zip(offsets, sizes, strides, full.shape)):
        if n and o + (n - 1) * st >= dim:
            ctx.fail(f"the slice reaches index {o + (n - 1) * st} of dim {d} of the {what} (size {dim})")
    return sizes


def _check_slice(ctx, t):
    (x,) = t
    return [TensorType(tuple(_check_window(ctx, x, "source")), x.dtype)]


def _check_insert_slice(ctx, t):
    src, dest = t
    sizes = _check_window(ctx, dest, "destination")
    if tuple(sizes) != src.shape or src.dtype != dest.dtype:
        ctx.fail(f"the source {src} does not fill the window {sizes} of {dest}")
    return [dest]


def _check_pad(ctx, t):
    (x,) = t
    low, high = ctx.int_list("low"), ctx.int_list("high")
    if len(low) != len(x.shape) or len(high) != len(x.shape) or min(low + high, default=0) < 0:
        ctx.fail(f"low and high need one non-negative entry per dim ({len(x.shape)})")
    if not isinstance(ctx.ins.attrs.get("value"), int | float):
        ctx.fail("missing numeric attr 'value'")
    return [TensorType(tuple(d + lo + hi for d, lo, hi in zip(x.shape, low, high)), x.dtype)]


def _check_sort(ctx, t):
    dim, key = ctx.ins.attrs.get("dim"), ctx.ins.attrs.get("key", 0)
    for name, v, n in (("dim", dim, len(t[0].shape)), ("key", key, len(t))):
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < n:
            ctx.fail(f"attrs '{name}' must be an index below {n}, got {v!r}")
    ctx.attr("descending", bool)
    if any(a.shape != t[0].shape for a in t):
        ctx.fail(f"sorted values must have one shape, got {[list(a.shape) for a in t]}")
    return list(t)


def _check_generic(ctx, t):
    from mixpe.simulator import generic

    try:
        expected = generic.check(ctx.ins.attrs, t, [r.type.dtype for r in ctx.ins.results])
    except generic.GenericError as e:
        ctx.fail(str(e))
    return [TensorType(tuple(shape), dt) for shape, dt in expected]


OPS: dict[str, OpSpec] = {
    "group_psum": OpSpec("array", (2,), _check_group_psum),
    "bitplane_psum": OpSpec("array", (2,), _check_bitplane_psum),
    "shift_psum": OpSpec("array", (3,), _check_shift_psum),
    "mpgemm": OpSpec("array", (3, 4), _check_mpgemm),
    "matmul": OpSpec("array", (2,), _check_matmul),
    "bitplanes": OpSpec("none", (1,), _check_bitplanes),
    "pow2_split": OpSpec("none", (1,), _check_pow2_split),
    "act_group_sum": OpSpec("vector", (1,), _check_act_group_sum),
    "dequant_epilogue": OpSpec("vector", (2, 3, 4), _check_dequant_epilogue),
    "elementwise": OpSpec("vector", tuple(range(1, 4)), _check_elementwise),
    "transpose": OpSpec("vector", (1,), _check_transpose),
    "reshape": OpSpec("none", (1,), _check_reshape),
    "broadcast": OpSpec("vector", (1,), _check_broadcast),
    "reduce": OpSpec("vector", (1,), _check_reduce),
    "concat": OpSpec("vector", tuple(range(1, 65)), _check_concat),
    "fill": OpSpec("vector", (0,), _check_fill),
    "constant": OpSpec("none", (0,), _check_constant),
    "generic": OpSpec("vector", tuple(range(0, 257)), _check_generic),
    "slice": OpSpec("vector", (1,), _check_slice),
    "insert_slice": OpSpec("vector", (2,), _check_insert_slice),
    "pad": OpSpec("vector", (1,), _check_pad),
    "sort": OpSpec("vector", tuple(range(1, 17)), _check_sort),
}


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

    def output(self, name: str) -> None:
        shape, dtype = self._types[name]
        self.obj["outputs"].append({"name": name, "shape": shape, "dtype": dtype})

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self.obj))

    def build(self) -> Program:
        return parse_program(self.to_dict())

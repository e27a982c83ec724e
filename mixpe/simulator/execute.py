"""Run a program: functional results through the numpy reference kernels, costs through the
cost model (array GEMMs via estimate_gemm, everything else via the vector unit's estimate_vector).

Shift&add PEs: the bit-plane (and ±2^p) product equals the multiply by linearity, which the
kernel tests prove; `group_psum` with `pe = "bitplane"` therefore computes P with the fast exact
GEMM and records the PE's op counts (set bits from a popcount of the weights). With
`verify_pe` it also runs the bit-plane kernels and checks they agree ("auto" does so when the
weights have at most 2^20 elements, keeping large layers fast). `pe = "pow2"` always runs
pow2_split + shift_psum, since that also validates the DenseShift codes.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mixpe.reference import kernels as K
from mixpe.reference.elementwise import elementwise, wrap
from mixpe.reference.dtypes import (
    bit_width,
    coerce,
    int_range,
    is_float,
    is_integer,
    round_to,
    to_numpy,
    widen_int,
)
from mixpe.simulator.program import OPS, Instruction, Program, check_placement, load_program
from mixpe.simulator import generic
from mixpe.simulator import report as R
from mixpe.hw import default_preset, load_hardware, pe_act_bits
from mixpe.hw.tiling import check_tile_fits

VERIFY_PE_LIMIT = 1 << 20


class SimulationError(ValueError):
    """Data-dependent failure while executing (weight out of range, overflow, bad pow2 code)."""


@dataclass
class InstrRecord:
    """One row of the per-instruction table."""

    index: int
    op: str
    loc: str | None
    unit: str  # "array", "vector" or "none"
    detail: str
    cost: Any = None  # GemmCost / VectorCost from the cost model, or None (free)
    counts: dict[str, int] = field(default_factory=dict)
    fused_into: int | None = None  # computed by the fused kernel of that instruction
    costed_in: int | None = None  # its cost is part of that GEMM's estimate (dequant work)


@dataclass
class SimResult:
    program: Program
    hw: Any
    outputs: dict[str, np.ndarray] | None  # result0..resultN, in signature order
    records: list[InstrRecord]
    total: Any
    notes: list[str]
    mode: str = "default"

    def to_dict(self) -> dict:
        return R.result_to_dict(self)

    def summary(self) -> str:
        return R.format_summary(self)


def default_hardware(program: Program) -> str:
    """docs/design.md §5: the first array instruction's activations decide (see `default_preset`)."""
    for ins in program.instructions:
        if ins.op in ("group_psum", "mpgemm", "bitplane_psum", "shift_psum", "act_group_sum"):
            return default_preset(program.values[ins.args[0]].type.dtype)
    floats = [v for v in program.inputs if is_float(v.type.dtype)]
    return default_preset(floats[0].type.dtype if floats else "i8")


def _load_hw(hw, program: Program):
    if hw is None:
        hw = default_hardware(program)
    return load_hardware(hw) if isinstance(hw, str) else hw


def bind_inputs(program: Program, inputs) -> dict[str, np.ndarray]:
    """Inputs keyed arg0..argN (or by value name, or a sequence), coerced exactly to the
    declared dtypes and checked against the declared shapes."""
    if isinstance(inputs, (list, tuple)):
        inputs = {f"arg{i}": a for i, a in enumerate(inputs)}
    inputs = dict(inputs)
    env: dict[str, np.ndarray] = {}
    used = set()
    for i, v in enumerate(program.inputs):
        key = f"arg{i}" if f"arg{i}" in inputs else v.name if v.name in inputs else None
        if key is None:
            raise ValueError(f"missing input arg{i} ('{v.name}', {v.type})")
        used.add(key)
        a = np.asarray(inputs[key])
        if a.shape != v.type.shape:
            raise ValueError(
                f"arg{i} ('{v.name}'): shape {list(a.shape)} does not match the program's "
                f"{list(v.type.shape)}"
            )
        dt = v.type.dtype
        if dt.startswith("i") and a.dtype.kind == "u" and a.dtype.itemsize * 8 == bit_width(dt) and bit_width(dt) >= 8:
            # `iN` is MLIR's signless integer: same-width unsigned data is the same bits
            # (torch's uint8 tensors arrive in i8), so it is reinterpreted, not converted.
            a = a.view(a.dtype.str.replace("u", "i"))
        elif (dt.startswith("ui") and a.dtype.kind == "i"
              and a.dtype.itemsize * 8 == bit_width(dt) and bit_width(dt) >= 8):
            # ...and the other way: a `uiN` input is a signless `iN` argument the program reads as
            # unsigned weights (mixpe_sim backend), so same-width signed data are its bits too.
            a = a.view(a.dtype.str.replace("i", "u"))
        env[v.name] = coerce(a, dt, f"arg{i} ('{v.name}')")
    extra = sorted(set(inputs) - used)
    if extra:
        raise ValueError(
            f"unexpected input key '{extra[0]}' (the program takes {len(program.inputs)} inputs)")
    return env


def run_program(program, hw=None, inputs=None, *, mode: str = "default",
                verify_pe: str = "auto") -> SimResult:
    """Cost a program on `hw` and, when `inputs` are given, compute its outputs."""
    if not isinstance(program, Program):
        program = load_program(program)
    if verify_pe not in ("auto", "always", "never"):
        raise ValueError(f"verify_pe must be auto, always or never, got {verify_pe!r}")
    hw = _load_hw(hw, program)
    check_placement(program, {b: int(kib * 1024) for b, kib in hw.sram.kib.items()})
    notes = _precision_notes(program, hw)
    env = bind_inputs(program, inputs) if inputs is not None else None
    fused = _fusions(program) if env is not None else {}
    costed_in = _dequant_owners(program)
    records: list[InstrRecord] = []
    for ins in program.instructions:
        rec = InstrRecord(ins.index, ins.op, ins.loc, OPS[ins.op].unit, _detail(program, ins))
        rec.costed_in = costed_in.get(ins.index)
        if rec.costed_in is None:
            try:
                rec.cost = _cost(program, ins, hw, mode)
            except SimulationError:
                raise
            except ValueError as e:
                raise SimulationError(f"{ins.where}: cannot cost on {hw.name}: {e}") from None
        rec.counts = _shape_counts(program, ins)
        if env is not None:
            try:
                if ins.index in fused:
                    rec.fused_into = fused[ins.index]
                    _fused_psum(ins, env, verify_pe, rec)
                else:
                    outs = _execute(ins, env, fused, program, verify_pe, rec)
                    for r, a in zip(ins.results, outs):
                        env[r.name] = _as_declared(a, r)
            except (ValueError, ArithmeticError) as e:
                raise SimulationError(f"{ins.where}: {e}") from None
        records.append(rec)
    outputs = None
    if env is not None:
        outputs = {f"result{i}": env[v.name] for i, v in enumerate(program.outputs)}
    total = R.combine_costs([r.cost for r in records if r.cost is not None], hw)
    return SimResult(program, hw, outputs, records, total, notes, mode)


def _as_declared(a: np.ndarray, r) -> np.ndarray:
    a = np.asarray(a)
    want = to_numpy(r.type.dtype)
    if a.shape != r.type.shape or a.dtype != want:
        raise AssertionError(f"internal: {r.name} computed as {a.dtype}{list(a.shape)}, declared {r.type}")
    return a


# ---------------------------------------------------------------------------------------------
# fusion: P that only feeds a dequant epilogue never leaves the array (as in the hardware)


def _fused_psum(ins: Instruction, env, verify_pe: str, rec: InstrRecord) -> None:
    """What a fused-away group_psum still does itself: its weight check (so a bad weight is
    reported here, not at the epilogue), its PE op counts, and the bit-plane verification."""
    x, q = env[ins.args[0]], env[ins.args[1]]
    at = ins.attrs
    K.check_weight_range(q, weight_bits=at["weight_bits"], signed=at["signed"])
    rec.counts.update(_data_counts(ins, env))
    if ins.schedule.get("pe") == "bitplane" and _should_verify(q, verify_pe):
        p = K.group_psum(x, q, group_size=at["group_size"], layout=at.get("layout", "kn"),
                         acc=at.get("acc", _acc(x)))
        _verify_bitplane(x, q, at, p)


def _fusions(program: Program) -> dict[int, int]:
    """{group_psum index: epilogue index} for epilogues computed by the fused mpgemm kernel."""
    producer = {r.name: ins for ins in program.instructions for r in ins.results}
    uses: dict[str, int] = {}
    for ins in program.instructions:
        for a in ins.args:
            uses[a] = uses.get(a, 0) + 1
    outs = {v.name for v in program.outputs}
    fused = {}
    for ins in program.instructions:
        if ins.op != "dequant_epilogue":
            continue
        p = producer.get(ins.args[0])
        if p is None or p.op != "group_psum" or p.schedule.get("pe", "mac") == "pow2":
            continue
        if uses[ins.args[0]] != 1 or ins.args[0] in outs:
            continue
        if p.attrs.get("layout", "kn") != ins.attrs.get("layout", "kn"):
            continue
        if ins.attrs["zp_mode"] != "symmetric":
            a = producer.get(ins.args[1])
            if a is None or a.op != "act_group_sum" or a.args[0] != p.args[0] \
                    or a.attrs["group_size"] != p.attrs["group_size"]:
                continue
        fused[p.index] = ins.index
    return fused


def _dequant_owners(program: Program) -> dict[int, int]:
    """{epilogue or act_group_sum index: psum index}: estimate_gemm with a group size already
    includes the per-group dequantisation and activation group sums, so these are not costed
    twice."""
    producer = {r.name: ins for ins in program.instructions for r in ins.results}
    owners = {}
    for ins in program.instructions:
        if ins.op != "dequant_epilogue":
            continue
        p = producer.get(ins.args[0])
        if p is None or p.op not in ("group_psum", "bitplane_psum", "shift_psum"):
            continue
        owners[ins.index] = p.index
        if ins.attrs["zp_mode"] != "symmetric":
            a = producer.get(ins.args[1])
            if a is not None and a.op == "act_group_sum" and a.args[0] == p.args[0]:
                owners[a.index] = p.index
    return owners


# ---------------------------------------------------------------------------------------------
# functional execution


def _execute(ins: Instruction, env, fused, program, verify_pe, rec) -> list[np.ndarray]:
    args = [env.get(a) for a in ins.args]  # a fused-away P is absent
    at = ins.attrs
    op = ins.op
    if op == "group_psum":
        rec.counts.update(_data_counts(ins, env))
        return [_group_psum(ins, args, verify_pe)]
    if op == "dequant_epilogue" and ins.index in fused.values():
        p_ins = program.instructions[next(i for i, e in fused.items() if e == ins.index)]
        x, q = env[p_ins.args[0]], env[p_ins.args[1]]
        s, z = (args[2], args[3]) if at["zp_mode"] != "symmetric" else (args[1], None)
        pa = p_ins.attrs
        return [K.mpgemm(x, q, s, z, group_size=pa["group_size"], weight_bits=pa["weight_bits"],
                         signed=pa["signed"], zp_mode=at["zp_mode"], layout=pa.get("layout", "kn"),
                         acc=pa.get("acc", _acc(x)), out_dtype=ins.results[0].type.dtype)]
    if op == "dequant_epilogue":
        if at["zp_mode"] == "symmetric":
            p, s = args
            a = z = None
        else:
            p, a, s, z = args
        return [K.dequant_epilogue(p, a, s, z, zp_mode=at["zp_mode"], layout=at.get("layout", "kn"),
                                   out_dtype=ins.results[0].type.dtype)]
    if op == "mpgemm":
        x, q, s = args[:3]
        z = args[3] if len(args) > 3 else None
        if ins.schedule.get("pe") == "pow2":  # DenseShift codes ±2^p are outside mpgemm's range
            p = _group_psum(ins, [x, q], verify_pe)
            a = K.act_group_sum(x, group_size=at["group_size"], acc=at.get("acc", _acc(x)))
            return [K.dequant_epilogue(p, a, s, z, zp_mode=at["zp_mode"], layout=at.get("layout", "kn"),
                                       out_dtype=ins.results[0].type.dtype)]
        rec.counts.update(_data_counts(ins, env))
        return [K.mpgemm(x, q, s, z, group_size=at["group_size"], weight_bits=at["weight_bits"],
                         signed=at["signed"], zp_mode=at["zp_mode"], layout=at.get("layout", "kn"),
                         acc=at.get("acc", _acc(x)), out_dtype=ins.results[0].type.dtype)]
    if op == "act_group_sum":
        return [K.act_group_sum(args[0], group_size=at["group_size"], acc=at.get("acc", _acc(args[0])))]
    if op == "bitplanes":
        planes = K.bitplanes(args[0], weight_bits=at["weight_bits"], signed=at["signed"],
                             layout=at.get("layout", "kn"))
        return [planes.astype(to_numpy(ins.results[0].type.dtype))]
    if op == "bitplane_psum":
        x, planes = args
        rec.counts["set_bits"] = K.popcount_total(planes)
        return [K.bitplane_psum(x, planes, group_size=at["group_size"], signed=at["signed"],
                                shifts=at.get("shifts"), weight_bits=at.get("weight_bits"),
                                acc=at.get("acc", _acc(x)))]
    if op == "pow2_split":
        sign, exp = K.pow2_split(args[0], weight_bits=at["weight_bits"], layout=at.get("layout", "kn"))
        return [sign, exp]
    if op == "shift_psum":
        x, sign, exp = args
        return [K.shift_psum(x, sign, exp, group_size=at["group_size"], acc=at.get("acc", _acc(x)))]
    if op == "matmul":
        return [_matmul(args[0], args[1], at.get("layout", "kn"), ins.results[0].type.dtype)]
    if op == "generic":  # the vector ops with several results
        return generic.execute(at, args, [r.type for r in ins.results])
    if op == "sort":
        return K.stable_sort(args, dim=at["dim"], key=at.get("key", 0), descending=at["descending"])
    return [VECTOR_EXEC[op](ins, args)]


def _acc(x: np.ndarray) -> str:
    return "i32" if is_integer(x.dtype) else "f32"


def _group_psum(ins: Instruction, args, verify_pe: str) -> np.ndarray:
    x, q = args
    at = ins.attrs
    layout = at.get("layout", "kn")
    acc = at.get("acc", _acc(x))
    pe = ins.schedule.get("pe", "mac")
    if pe == "pow2":
        sign, exp = K.pow2_split(q, weight_bits=at["weight_bits"], layout=layout)
        return K.shift_psum(x, sign, exp, group_size=at["group_size"], acc=acc)
    K.check_weight_range(q, weight_bits=at["weight_bits"], signed=at["signed"])
    p = K.group_psum(x, q, group_size=at["group_size"], layout=layout, acc=acc)
    if pe == "bitplane" and _should_verify(q, verify_pe):
        _verify_bitplane(x, q, at, p)
    return p


def _should_verify(q, verify_pe: str) -> bool:
    return verify_pe == "always" or (verify_pe == "auto" and np.size(q) <= VERIFY_PE_LIMIT)


def _verify_bitplane(x, q, at, p) -> None:
    layout = at.get("layout", "kn")
    planes = K.bitplanes(q, weight_bits=at["weight_bits"], signed=at["signed"], layout=layout)
    pb = K.bitplane_psum(x, planes, group_size=at["group_size"], signed=at["signed"],
                         weight_bits=at["weight_bits"], acc=at.get("acc", _acc(x)))
    if not np.array_equal(pb, p, equal_nan=True):
        raise AssertionError("internal: bit-plane partial sums differ from the multiply")


def _data_counts(ins: Instruction, env) -> dict[str, int]:
    """Data-dependent PE counts: set weight bits (adds a zero-skipping shift&add PE would do)."""
    if ins.schedule.get("pe", "mac") != "bitplane":
        return {}
    q = env[ins.args[1]]
    at = ins.attrs  # the range check happens where P is computed
    M = env[ins.args[0]].shape[0]
    bits = K.popcount_total(q, weight_bits=at["weight_bits"])
    return {"set_bits": bits, "nonzero_adds": M * bits}


def _matmul(a, b, layout: str, out: str) -> np.ndarray:
    """Plain GEMM: exact integers (checked to fit the result type), float64-then-round floats."""
    if layout == "nk":
        b = np.swapaxes(b, -1, -2)
    if is_integer(a.dtype):
        r = np.matmul(widen_int(a).astype(np.int64), widen_int(b).astype(np.int64))
        lo, hi = int_range(out)
        if r.size and (r.min() < lo or r.max() > hi):
            raise ValueError(f"matmul result overflows {out}")
        return r.astype(to_numpy(out))
    return round_to(np.matmul(a.astype(np.float64), b.astype(np.float64)), out)


# ---------------------------------------------------------------------------------------------
# vector unit (semantics in mixpe.reference.elementwise)


def _elementwise(ins: Instruction, args) -> np.ndarray:
    return elementwise(ins.attrs["op"], args, ins.results[0].type.dtype, ins.results[0].type.shape,
                       ins.attrs.get("predicate"))


def _reduce(ins: Instruction, args) -> np.ndarray:
    (x,) = args
    at = ins.attrs
    out = ins.results[0].type.dtype
    axis = tuple(at["dims"])
    fn = {"add": np.sum, "mul": np.prod, "max": np.max, "min": np.min}[at["kind"]]
    keep = at.get("keepdims", False)
    if is_float(x.dtype):
        return round_to(fn(x.astype(np.float64), axis=axis, keepdims=keep), out)
    return wrap(fn(widen_int(x).astype(np.int64), axis=axis, keepdims=keep), out)


def _broadcast(ins: Instruction, args) -> np.ndarray:
    (x,) = args
    shape = ins.results[0].type.shape
    dims = ins.attrs.get("dims")
    if dims is not None:
        x = np.expand_dims(x, tuple(dims))
    return np.broadcast_to(x, shape).copy()


def _constant(ins: Instruction, args) -> np.ndarray:
    t = ins.results[0].type
    at = ins.attrs
    if "base64" in at:
        raw = base64.b64decode(at["base64"])
        store = {"i1": np.uint8, "i4": np.int8, "ui4": np.uint8}.get(t.dtype, to_numpy(t.dtype))
        data = np.frombuffer(raw, dtype=np.dtype(store).newbyteorder("<")).reshape(t.shape)
        return coerce(data, t.dtype, f"constant '{ins.results[0].name}'")
    data = np.full(t.shape, at["value"]) if "value" in at else np.array(at["data"]).reshape(t.shape)
    return coerce(data, t.dtype, f"constant '{ins.results[0].name}'")


def _window(ins: Instruction) -> tuple[slice, ...]:
    at = ins.attrs
    strides = at.get("strides") or [1] * len(at["offsets"])
    return tuple(slice(o, o + (n - 1) * st + 1 if n else o, st)
                 for o, n, st in zip(at["offsets"], at["sizes"], strides))


def _insert_slice(ins: Instruction, args) -> np.ndarray:
    src, dest = args
    out = dest.copy()
    out[_window(ins)] = src
    return out


def _pad(ins: Instruction, args) -> np.ndarray:
    (x,) = args
    value = coerce(np.array(ins.attrs["value"]), ins.results[0].type.dtype, "pad value")
    return np.pad(x, list(zip(ins.attrs["low"], ins.attrs["high"])), constant_values=value)


VECTOR_EXEC = {
    "slice": lambda ins, a: np.ascontiguousarray(a[0][_window(ins)]),
    "insert_slice": _insert_slice,
    "pad": _pad,
    "elementwise": _elementwise,
    "transpose": lambda ins, a: np.ascontiguousarray(np.transpose(a[0], ins.attrs["perm"])),
    "reshape": lambda ins, a: a[0].reshape(ins.results[0].type.shape),
    "broadcast": _broadcast,
    "reduce": _reduce,
    "concat": lambda ins, a: np.concatenate(a, axis=ins.attrs["dim"]),
    "fill": lambda ins, a: coerce(np.full(ins.results[0].type.shape, ins.attrs["value"]),
                                  ins.results[0].type.dtype, f"fill '{ins.results[0].name}'"),
    "constant": _constant,
}


# ---------------------------------------------------------------------------------------------
# costs


def _gemm_shape(program: Program, ins: Instruction) -> tuple[int, int, int, int]:
    """(batch, M, N, K) of an array instruction."""
    t = [program.values[a].type for a in ins.args]
    if ins.op == "matmul":
        a, b = t
        out = ins.results[0].type.shape
        return math.prod(out[:-2]), a.shape[-2], out[-1], a.shape[-1]
    M, Kdim = t[0].shape
    N = ins.results[0].type.shape[-1]
    return 1, M, N, Kdim


def _cost(program: Program, ins: Instruction, hw, mode: str):
    unit = OPS[ins.op].unit
    if unit == "none" or (unit == "vector" and mode == "paper"):
        return None  # the MixPE authors' simulator models GEMM layers only (no vector unit)
    if unit == "array":
        batch, M, N, Kdim = _gemm_shape(program, ins)
        x = program.values[ins.args[0]].type
        w = program.values[ins.args[1]].type
        at = ins.attrs
        if ins.op == "matmul":  # 0: unquantised, no dequantisation work; float B as activations are
            wb, g = pe_act_bits(hw, w.dtype), 0
        elif ins.op == "bitplane_psum":
            wb, g = at.get("weight_bits", w.shape[0]), at["group_size"]
        elif ins.op == "shift_psum":
            wb, g = at.get("weight_bits"), at["group_size"]  # None: the PE's own width
        else:
            wb, g = at["weight_bits"], at["group_size"]
        sched = ins.schedule
        # Paper mode mirrors the MixPE authors' simulator, which tiles (and packs
        # operands) by its own rules: a compiler schedule would not be theirs.
        tile = sched.get("tile") if mode != "paper" else None
        if tile is not None:  # a fixed tile that cannot fit the SRAMs must not be costed
            if not isinstance(tile, (list, tuple)):
                raise SimulationError(f"{ins.where}: schedule tile must be [tm, tn, tk], got {tile!r}")
            tile = tuple(tile)
            try:
                check_tile_fits(hw, M, N, Kdim, tile, sched.get("order"), weight_bits=wb,
                                act_bits=pe_act_bits(hw, x.dtype), group_size=g,
                                dataflow=sched.get("dataflow"))
            except ValueError as e:
                if not str(e).startswith("schedule tile"):
                    raise  # run_program reports it as "cannot cost on <hw>"
                raise SimulationError(f"{ins.where}: {e}") from None
        return R.gemm_cost(hw, M, N, Kdim, batch=batch, weight_bits=wb, act_bits=pe_act_bits(hw, x.dtype),
                           group_size=g, tile=tile, dataflow=sched.get("dataflow"), mode=mode,
                           order=sched.get("order") if tile else None)
    return R.vector_cost(hw, _vector_work(program, ins))


def _vector_work(program: Program, ins: Instruction) -> list[tuple[str, int]]:
    """(vector-unit op kind, element count) pairs: what the modelled vector unit executes."""
    t = [program.values[a].type for a in ins.args]
    r = ins.results[0].type
    if ins.op == "act_group_sum":
        return [("reduce_add", t[0].size)]
    if ins.op == "dequant_epilogue":
        M, G, N = t[0].shape
        work = [("cast", M * G * N)] if t[0].dtype == "i32" else []
        work.append(("fma", M * G * N * (1 if ins.attrs["zp_mode"] == "symmetric" else 2)))
        if bit_width(r.dtype) < 32:
            work.append(("truncf", M * N))
        return work
    if ins.op == "elementwise":
        return [(k, r.size * n) for k, n in ELEMENTWISE_KINDS[ins.attrs["op"]]]
    if ins.op == "generic":
        return generic.work(ins.attrs, ELEMENTWISE_KINDS)
    if ins.op == "reduce":
        return [("reduce_max" if ins.attrs["kind"] in ("max", "min") else "reduce_add", t[0].size)]
    if ins.op == "sort":  # a merge network: log2(n) compare-exchange rounds over every element
        n = t[0].shape[ins.attrs["dim"]]
        rounds = max(1, math.ceil(math.log2(n))) if n > 1 else 0
        return [("max", t[0].size * rounds), ("copy", sum(a.size for a in t) * rounds)]
    if ins.op == "insert_slice":
        return [("copy", t[0].size)]  # written in place
    return [("copy", r.size)]  # transpose, broadcast, fill, slice, pad


# elementwise op -> vector-unit kinds per element (kinds from the hardware's vector.ops table)
ELEMENTWISE_KINDS: dict[str, list[tuple[str, int]]] = {
    **{n: [("add", 1)] for n in ("add", "neg", "abs", "relu", "roundeven", "floor", "ceil")},
    "sub": [("sub", 1)],
    **{n: [("max", 1)] for n in ("max", "min", "cmp", "select")},
    "mul": [("mul", 1)], "div": [("div", 1)], "rem": [("div", 1), ("fma", 1)],
    "sqrt": [("rsqrt", 1), ("mul", 1)], "rsqrt": [("rsqrt", 1)],
    "exp": [("exp", 1)], "log": [("exp", 1)], "pow": [("exp", 2), ("mul", 1)],
    "sin": [("exp", 1)], "cos": [("exp", 1)],  # a transcendental: one special-function op
    "tanh": [("exp", 1), ("div", 1)], "erf": [("exp", 1), ("div", 1)],
    "sigmoid": [("exp", 1), ("add", 1), ("div", 1)], "silu": [("silu", 1)],
    "gelu_tanh": [("exp", 1), ("div", 1), ("fma", 3)],
    "extf": [("extf", 1)], "truncf": [("truncf", 1)], "copy": [("copy", 1)],
    **{n: [("cast", 1)] for n in ("sitofp", "uitofp", "fptosi", "fptoui", "extsi", "extui", "trunci")},
    **{n: [("add", 1)] for n in ("and", "or", "xor", "shl", "shrsi", "shrui")},  # ALU ops
}


def _shape_counts(program: Program, ins: Instruction) -> dict[str, int]:
    """Shape-determined PE operation counts of an array instruction."""
    if OPS[ins.op].unit != "array":
        return {}
    batch, M, N, Kdim = _gemm_shape(program, ins)
    products = batch * M * N * Kdim
    pe = ins.schedule.get("pe", "mac")
    if ins.op == "bitplane_psum":
        planes = program.values[ins.args[1]].type.shape[0]
        return {"products": products, "plane_adds": products * planes,
                "shifts": products * (planes - 1)}
    if ins.op == "shift_psum" or pe == "pow2":
        return {"products": products, "shifts": products, "adds": products}
    if pe == "bitplane":
        b = ins.attrs["weight_bits"]
        # a shift&add product: b gated partial products, b-1 tree adds + 1 accumulate
        return {"products": products, "plane_adds": products * b, "shifts": products * (b - 1)}
    return {"macs": products}


def _detail(program: Program, ins: Instruction) -> str:
    if OPS[ins.op].unit == "array":
        batch, M, N, Kdim = _gemm_shape(program, ins)
        s = f"{batch}x" if batch > 1 else ""
        g = ins.attrs.get("group_size")
        pe = ins.schedule.get("pe")
        return f"{s}M={M} N={N} K={Kdim}" + (f" g={g}" if g else "") + (f" pe={pe}" if pe else "")
    r = ins.results[0].type if ins.results else None
    if ins.op == "generic":
        loops = "x".join(f"{n}{'r' if it == 'reduction' else ''}"
                         for n, it in zip(ins.attrs["ranges"], ins.attrs["iterators"]))
        return f"{len(ins.attrs['body'])} body ops over {loops} -> {', '.join(str(x.type) for x in ins.results)}"
    extra = ins.attrs.get("op") or ins.attrs.get("kind") or ins.attrs.get("zp_mode") or ""
    return f"{extra} -> {r}".strip()


def _precision_notes(program: Program, hw) -> list[str]:
    notes = []
    for ins in program.instructions:
        if OPS[ins.op].unit != "array":
            continue
        x = program.values[ins.args[0]].type.dtype
        fmt = "int" if is_integer(x) else "fp"
        pe = f"{hw.pe.act_format}{hw.pe.act_bits}"
        if fmt != hw.pe.act_format:
            notes.append(f"{ins.where}: {x} activations on {hw.name}'s {pe} PEs: the program "
                         f"must quantize/convert them; costed as {bit_width(x)}-bit")
        elif fmt == "fp" and bit_width(x) > hw.pe.act_bits:
            notes.append(f"{ins.where}: {x} activations are rounded to the {pe} PE format "
                         f"for costing; results are computed at {x}")
        w = program.values[ins.args[1]].type.dtype
        if ins.op == "matmul" and is_float(w) and hw.pe.act_format == "fp" and bit_width(w) > hw.pe.act_bits:
            notes.append(f"{ins.where}: dense {w} B operand costed at the {pe} PE format; "
                         f"results are computed at {w}")
    return notes

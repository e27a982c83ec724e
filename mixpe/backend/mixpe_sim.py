"""`-t mixpe-sim`: emits a function as a simulator program (docs/program-format.md).

Array work (mixpe psum ops, mpgemm, plain matmuls) becomes one instruction each,
carrying the schedule `mixpe-tile` chose; everything else in the function
(elementwise generics such as SiLU and truncf, reductions, reshapes, transposes,
constants) becomes vector-unit instructions, so the program computes exactly what
the module computes. Anything we cannot express is an error naming the op's
location, never a silently different program.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import IO

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func, tensor
from xdsl.dialects.linalg import ops as linalg
from xdsl.dialects.builtin import (
    AnyFloat,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    TensorType,
)
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue
from xdsl.ir.affine import AffineBinaryOpExpr, AffineBinaryOpKind, AffineConstantExpr, AffineDimExpr
from xdsl.utils.exceptions import DiagnosticException
from xdsl.utils.target import Target

from mixpe.diagnostics import format_diagnostic, op_location
from mixpe.dialects import mixpe as mx
from mixpe.dialects import tm_tensor
from mixpe.reference import ir_constants
from mixpe.reference.ir_types import dtype_name
from mixpe.dialects.linalg_named import NAMED_OPS, element_type, indexing_maps_of, is_unsigned_cast
from mixpe.simulator.program import Program, ProgramBuilder, ProgramError, dumps

# arith/math scalar op -> program elementwise op
_ELEMENTWISE = {
    "arith.addf": "add", "arith.addi": "add", "arith.subf": "sub", "arith.subi": "sub",
    "arith.mulf": "mul", "arith.muli": "mul", "arith.divf": "div", "arith.divsi": "div",
    "arith.remsi": "rem", "arith.remf": "rem", "arith.negf": "neg",
    "arith.maximumf": "max", "arith.maxnumf": "max", "arith.maxsi": "max",
    "arith.minimumf": "min", "arith.minnumf": "min", "arith.minsi": "min",
    "math.exp": "exp", "math.log": "log", "math.sqrt": "sqrt", "math.rsqrt": "rsqrt",
    "math.tanh": "tanh", "math.erf": "erf", "math.absf": "abs", "math.powf": "pow",
    "math.floor": "floor", "math.ceil": "ceil", "math.roundeven": "roundeven",
    "math.sin": "sin", "math.cos": "cos",
    "arith.extf": "extf", "arith.truncf": "truncf", "arith.sitofp": "sitofp",
    "arith.uitofp": "uitofp", "arith.fptosi": "fptosi", "arith.fptoui": "fptoui",
    "arith.extsi": "extsi", "arith.extui": "extui", "arith.trunci": "trunci",
    "arith.cmpf": "cmp", "arith.cmpi": "cmp", "arith.select": "select",
    "arith.andi": "and", "arith.ori": "or", "arith.xori": "xor", "arith.shli": "shl",
    "arith.shrsi": "shrsi", "arith.shrui": "shrui",
}  # fmt: skip
_REDUCE = {"arith.addf": "add", "arith.addi": "add", "arith.mulf": "mul", "arith.maximumf": "max",
           "arith.maxnumf": "max", "arith.minimumf": "min", "arith.minnumf": "min"}
_CMPF = [
    "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "ueq", "ugt", "uge", "ult", "ule", "une", "uno", "true",
]
_CMPI = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"]


# ops that move elements without changing them: a value read unsigned is unsigned before them too
_SAME_BITS = (tensor.ExpandShapeOp, tensor.CollapseShapeOp, linalg.TransposeOp)


class BackendError(DiagnosticException):
    """An op the program format cannot express; the message is a located one-liner."""


def _fail(op: Operation, message: str) -> BackendError:
    return BackendError(format_diagnostic("error", f"mixpe-sim backend: {message}", op))


def _shape(v: SSAValue, op: Operation) -> list[int]:
    if isinstance(v.type, IntegerType | AnyFloat):
        return []  # a scalar is a rank-0 value in the program
    if not isinstance(v.type, TensorType):
        raise _fail(op, f"value of type {v.type} is neither a tensor nor a scalar")
    shape = list(v.type.get_shape())
    if any(d < 0 for d in shape):
        raise _fail(op, "dynamic shapes cannot be simulated; give the function static shapes")
    return shape


def _unsigned_storage(module: ModuleOp) -> set[SSAValue]:
    """Values that mixpe ops read as *unsigned* integers: 8-bit unsigned weights in i8
    storage must be declared `ui8` in the program, or their values would change."""
    out: set[SSAValue] = set()
    for op in module.walk():
        if (isinstance(op, mx.MpGemmOp | mx.GroupPsumOp | mx.BitplanesOp)
                and op.signedness.data == mx.Signedness.UNSIGNED):
            out.add(op.weights)
            if isinstance(op, mx.MpGemmOp) and op.zeros is not None:
                out.add(op.zeros)
        if isinstance(op, mx.DequantEpilogueOp) and op.zero_signedness is not None and op.zeros is not None:
            if op.zero_signedness.data == mx.Signedness.UNSIGNED:
                out.add(op.zeros)
    # The same bits before a reshape or transpose are read the same way: declaring the source
    # (a function input, a constant) unsigned binds user data such as 11 for an i4 read by extui.
    todo = list(out)
    while todo:
        v = todo.pop()
        owner = v.owner
        if isinstance(owner, _SAME_BITS):
            src = owner.operands[0]
            if src not in out:
                out.add(src)
                todo.append(src)
    return out


@dataclass
class Emitter:
    """Walks one function in order, naming values `arg<i>` and `t<n>` deterministically."""

    fn: func.FuncOp
    unsigned: set[SSAValue]
    b: ProgramBuilder = field(init=False)
    names: dict[SSAValue, str] = field(default_factory=dict)
    counter: int = 0

    def __post_init__(self):
        self.b = ProgramBuilder(self.fn.sym_name.data)

    # -- values -------------------------------------------------------------------------

    def name(self, v: SSAValue, op: Operation) -> str:
        if v not in self.names:
            raise _fail(op, "uses a value the program does not define (an unsupported producer?)")
        return self.names[v]

    def fresh(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def emit(self, op: Operation, kind: str, args: list[str], results: list[tuple[list[int], str]],
             /, schedule=None, **attrs) -> list[str]:
        res = [(self.fresh(), shape, dt) for shape, dt in results]
        return self.b.op(kind, args, res, loc=op_location(op), schedule=schedule, **attrs)

    def define(self, op: Operation, kind: str, args: list[str], /, schedule=None, **attrs) -> None:
        # Partial sums live in the PE's accumulator (`acc`): an f16/bf16 accumulator in the IR
        # (IREE's f16 matmuls) is widened to f32 there, never narrowed; the epilogue rounds.
        acc = attrs.get("acc") if kind != "mpgemm" else None
        names = self.emit(
            op, kind, args, [(_shape(r, op), acc or self._dtype(r)) for r in op.results], schedule, **attrs
        )
        for r, n in zip(op.results, names):
            self.names[r] = n

    def _dtype(self, v: SSAValue) -> str:
        """Function inputs and constants read as unsigned weights or zero points are declared
        `ui*`, so that 8-bit values >= 128 bind exactly; a computed value keeps its signless
        type and is widened with `extui` where a mixpe op reads it (`unsigned_arg`)."""
        d = dtype_name(v.type)
        return "u" + d if self._declared_unsigned(v) and d.startswith("i") else d

    def _declared_unsigned(self, v: SSAValue) -> bool:
        if v not in self.unsigned:
            return False
        if isinstance(v, BlockArgument):
            return v.owner is self.fn.body.block
        if isinstance(v.owner, _SAME_BITS):
            return self._declared_unsigned(v.owner.operands[0])
        return isinstance(v.owner, arith.ConstantOp)

    def arg(self, v: SSAValue, op: Operation) -> str:
        """The program name of an operand of a mixpe op; a signless integer that the op reads
        unsigned (`unsigned` storage, `zeros_read unsigned`) and that was computed in the
        function is zero-extended first, so a bit pattern >= 2^(w-1) keeps its unsigned value."""
        name = self.name(v, op)
        d = dtype_name(v.type)
        if v not in self.unsigned or self._declared_unsigned(v) or not d.startswith("i") or d == "i64":
            return name
        wide = f"i{2 * int(d[1:])}"
        (name,) = self.emit(op, "elementwise", [name], [(_shape(v, op), wide)], op="extui")
        return name

    # -- driver -------------------------------------------------------------------------

    def run(self) -> ProgramBuilder:
        block = self.fn.body.block
        for i, arg in enumerate(block.args):
            self.names[arg] = self.b.input(f"arg{i}", _shape(arg, self.fn), self._dtype(arg))
        for op in block.ops:
            handler = _HANDLERS.get(type(op))
            if handler is None:
                raise _fail(op, f"'{op.name}' cannot be expressed in a simulator program")
            handler(self, op)
        self._prune()
        return self.b

    def _prune(self) -> None:
        """Drops instructions no output depends on (a zero fill that a contraction's init
        skipped, a generic's dead temporary): the program costs only what the function does."""
        used = {o["name"] for o in self.b.obj["outputs"]}
        keep = []
        for ins in reversed(self.b.obj["instructions"]):
            if any(r["name"] in used for r in ins["results"]):
                keep.append(ins)
                used.update(ins["args"])
        self.b.obj["instructions"] = keep[::-1]

    # -- mixpe --------------------------------------------------------------------------

    def _schedule(self, op, pe: str) -> dict:
        sched: dict = {"pe": pe}
        s = op.properties.get("schedule")
        if s is not None:
            sched.update(tile=list(s.tile_shape), dataflow=s.dataflow.data.value, order=s.order.data)
        return sched

    def _weight_attrs(self, op) -> dict:
        return dict(group_size=op.g, weight_bits=op.bits, signed=op.is_signed, layout=op.layout.data.value)

    def mpgemm(self, op: mx.MpGemmOp):
        args = [self.arg(v, op) for v in (op.x, op.weights, op.scales, *([op.zeros] if op.zeros else []))]
        self.define(op, "mpgemm", args, self._schedule(op, "pow2" if op.is_pow2 else "mac"),
                    zp_mode=op.zp_mode.data.value, acc=_acc(op.acc_type), **self._weight_attrs(op))

    def group_psum(self, op: mx.GroupPsumOp):
        args = [self.name(op.x, op), self.arg(op.weights, op)]
        self.define(op, "group_psum", args, self._schedule(op, "pow2" if op.is_pow2 else "mac"),
                    acc=_acc(op.result.type.get_element_type()), **self._weight_attrs(op))

    def act_group_sum(self, op: mx.ActGroupSumOp):
        self.define(op, "act_group_sum", [self.name(op.x, op)], group_size=op.group_size.value.data,
                    acc=_acc(op.result.type.get_element_type()))

    def epilogue(self, op: mx.DequantEpilogueOp):
        vals = [op.psums, *([op.act_sums] if op.act_sums else []), op.scales, *([op.zeros] if op.zeros else [])]
        self.define(op, "dequant_epilogue", [self.arg(v, op) for v in vals],
                    zp_mode=op.zp_mode.data.value, layout=op.layout.data.value)

    def bitplanes(self, op: mx.BitplanesOp):
        self.define(op, "bitplanes", [self.arg(op.weights, op)], weight_bits=op.weight_bits.value.data,
                    signed=op.signedness.data == mx.Signedness.SIGNED, layout=op.layout.data.value)

    def bitplane_psum(self, op: mx.BitplanePsumOp):
        coeffs = op.coefficients.get_values()
        shifts = [abs(c).bit_length() - 1 for c in coeffs]
        negative = [s for c, s in zip(coeffs, shifts) if c < 0]
        if len(negative) > 1 or (negative and negative[0] != max(shifts)):
            raise _fail(op, "only the most significant plane may be negative (two's complement)")
        attrs = dict(group_size=op.group_size.value.data, signed=bool(negative), shifts=shifts,
                     acc=_acc(op.result.type.get_element_type()), weight_bits=max(shifts, default=0) + 1)
        self.define(op, "bitplane_psum", [self.name(op.x, op), self.name(op.planes, op)],
                    self._schedule(op, "bitplane"), **attrs)

    def pow2_split(self, op: mx.Pow2SplitOp):
        names = self.emit(op, "pow2_split", [self.name(op.weights, op)],
                          [(_shape(op.sign, op), "i1"), (_shape(op.shift, op), "ui8")],
                          weight_bits=op.weight_bits.value.data, layout=op.layout.data.value)
        self.names[op.sign], self.names[op.shift] = names
        self.pow2_bits = op.weight_bits.value.data

    def shift_psum(self, op: mx.ShiftPsumOp):
        args = [self.name(v, op) for v in (op.x, op.sign, op.shift)]
        owner = op.sign.owner
        extra = {"weight_bits": owner.weight_bits.value.data} if isinstance(owner, mx.Pow2SplitOp) else {}
        self.define(op, "shift_psum", args, self._schedule(op, "pow2"), group_size=op.group_size.value.data,
                    acc=_acc(op.result.type.get_element_type()), **extra)

    # -- upstream ops -------------------------------------------------------------------

    def constant(self, op: arith.ConstantOp):
        if not isinstance(op.result.type, TensorType):
            return  # scalars are folded into fills and generic bodies where they are used
        try:
            value = ir_constants.tensor_value(op)
        except ValueError as e:  # e.g. a dense_resource without its blob: a located error
            raise _fail(op, str(e)) from None
        flat = np.ascontiguousarray(value)
        if self._dtype(op.result).startswith("u") and flat.dtype.kind == "i":
            flat = flat.view(flat.dtype.str.replace("i", "u"))  # the same bits, read unsigned
        if flat.size and (flat == flat.flat[0]).all():
            attrs = {"value": flat.flat[0].item()}
        else:
            store = flat.astype(np.uint8) if flat.dtype == bool else flat
            attrs = {"base64": base64.b64encode(store.astype(store.dtype.newbyteorder("<")).tobytes()).decode()}
        self.define(op, "constant", [], **attrs)

    def empty(self, op: tensor.EmptyOp):
        pass  # only ever an `outs` placeholder; a read of it is caught where it happens

    def reshape(self, op: Operation):
        self.define(op, "reshape", [self.name(op.operands[0], op)])

    def concat(self, op: tensor.ConcatOp):
        self.define(op, "concat", [self.name(v, op) for v in op.inputs], dim=op.dim.value.data)

    def _static(self, op: Operation, *props: str) -> list[list[int]]:
        if len(op.operands) != {"tensor.extract_slice": 1, "tensor.insert_slice": 2, "tensor.pad": 1}[op.name]:
            raise _fail(op, f"'{op.name}' with dynamic offsets, sizes or padding cannot be simulated")
        values = []
        for p in props:
            prop = op.properties[p]
            assert isinstance(prop, DenseArrayBase)  # the static_* properties are i64 arrays
            values.append(list(prop.get_values()))
        return values

    def extract_slice(self, op: tensor.ExtractSliceOp):
        offsets, sizes, strides = self._static(op, "static_offsets", "static_sizes", "static_strides")
        dt = self._dtype(op.result)
        (name,) = self.emit(op, "slice", [self.name(op.source, op)], [(sizes, dt)],
                            offsets=offsets, sizes=sizes, strides=strides)
        self.names[op.result] = self._reshape(op, name, _shape(op.result, op), dt)  # rank-reducing

    def insert_slice(self, op: tensor.InsertSliceOp):
        offsets, sizes, strides = self._static(op, "static_offsets", "static_sizes", "static_strides")
        src = self._reshape(op, self.name(op.source, op), sizes, self._dtype(op.source))
        self.define(op, "insert_slice", [src, self.name(op.dest, op)], offsets=offsets, sizes=sizes,
                    strides=strides)

    def pad(self, op: tensor.PadOp):
        low, high = self._static(op, "static_low", "static_high")
        y = op.region.block.last_op
        if (len(op.region.block.ops) != 1 or y is None or not y.operands
                or not isinstance(y.operands[0].owner, arith.ConstantOp)):
            raise _fail(op, "only padding with a constant value can be simulated")
        self.define(op, "pad", [self.name(op.source, op)], low=low, high=high, value=_scalar(y.operands[0], op))

    def sort(self, op: tm_tensor.SortOp):
        how = op.comparator()
        if isinstance(how, str):
            raise _fail(op, f"tm_tensor.sort: {how}")
        key, descending = how
        self.define(op, "sort", [self.name(v, op) for v in op.outs], dim=op.dimension.value.data, key=key,
                    descending=descending)

    def transpose(self, op: linalg.TransposeOp):
        self.define(op, "transpose", [self.name(op.inputs[0], op)], perm=list(op.permutation.get_values()))

    def fill(self, op: linalg.FillOp):
        value = op.inputs[0]
        if isinstance(value.owner, arith.ConstantOp):
            self.define(op, "fill", [], value=_scalar(value, op))
        else:  # a runtime scalar (e.g. a zero point argument) broadcast to the tensor
            self.define(op, "broadcast", [self.name(value, op)])

    def contraction(self, op: LinalgStructuredOperation):
        """Any named contraction (matmul with any maps, batch_matmul, batch_reduce_matmul,
        matvec, vecmat, dot) as one dense array `matmul`: operands are transposed and reshaped
        to [batch, M, K] x [batch, K, N] (or `nk` when B already is [batch, N, K]), so declined
        GEMMs run on the array at the design's native precision."""
        maps = indexing_maps_of(op)
        if any(not isinstance(r, AffineDimExpr) for m in maps for r in m.results):
            raise _fail(op, f"'{op.name}' with non-projected indexing maps is not supported")
        a_d, b_d, c_d = ([r.position for r in m.results if isinstance(r, AffineDimExpr)] for m in maps)
        batch = [d for d in c_d if d in a_d and d in b_d]
        m_d = [d for d in c_d if d in a_d and d not in b_d]
        n_d = [d for d in c_d if d in b_d and d not in a_d]
        k_d = [d for d in a_d if d in b_d and d not in c_d]
        if sorted(a_d) != sorted(batch + m_d + k_d) or sorted(b_d) != sorted(batch + k_d + n_d) \
                or sorted(c_d) != sorted(batch + m_d + n_d):
            raise _fail(op, f"'{op.name}' is not a contraction of the form [b,m,k] x [b,k,n] -> [b,m,n]")
        a, b = op.inputs
        size = {d: n for v, ds in ((a, a_d), (b, b_d)) for d, n in zip(ds, _shape(v, op))}
        prod = lambda ds: math.prod(size[d] for d in ds)  # noqa: E731
        lead = [prod(batch)] if batch else []
        acc_t = element_type(op.outputs[0].type)
        xa, xb = (self._cast_operand(op, v, acc_t) for v in (a, b))
        xa = self._arrange(op, xa, a, a_d, batch + m_d + k_d, lead + [prod(m_d), prod(k_d)])
        layout = "nk" if b_d == batch + n_d + k_d else "kn"
        order = batch + (n_d + k_d if layout == "nk" else k_d + n_d)
        xb = self._arrange(op, xb, b, b_d, order, lead + ([prod(n_d), prod(k_d)] if layout == "nk" else
                                                          [prod(k_d), prod(n_d)]))
        dt = self._dtype(op.results[0])
        (y,) = self.emit(op, "matmul", [xa, xb], [(lead + [prod(m_d), prod(n_d)], dt)], layout=layout)
        mine = batch + m_d + n_d
        if mine != c_d:  # back to the result's dim order
            y = self._reshape(op, y, [size[d] for d in mine], dt)
            perm = [mine.index(d) for d in c_d]
            (y,) = self.emit(op, "transpose", [y], [([size[d] for d in c_d], dt)], perm=perm)
        y = self._reshape(op, y, _shape(op.results[0], op), dt)
        self._accumulate(op, y)

    def _cast_operand(self, op: Operation, v: SSAValue, acc: Attribute) -> str:
        """`cast_unsigned` reads integer operands unsigned: zero-extend them to the accumulator."""
        name = self.name(v, op)
        if is_unsigned_cast(op) and isinstance(acc, IntegerType) and dtype_name(v.type) != dtype_name(acc):
            (name,) = self.emit(op, "elementwise", [name], [(_shape(v, op), dtype_name(acc))], op="extui")
        return name

    def _reshape(self, op: Operation, name: str, shape: list[int], dt: str) -> str:
        if self.b.type_of(name)[0] == list(shape):
            return name
        (name,) = self.emit(op, "reshape", [name], [(shape, dt)])
        return name

    def _arrange(self, op: Operation, name: str, v: SSAValue, dims: list[int], order: list[int],
                 shape: list[int]) -> str:
        """Operand `name` (dims `dims`) transposed to `order` and reshaped to `shape`."""
        dt = self.b.type_of(name)[1]
        if dims != order:
            src = _shape(v, op)
            perm = [dims.index(d) for d in order]
            (name,) = self.emit(op, "transpose", [name], [([src[p] for p in perm], dt)], perm=perm)
        return self._reshape(op, name, shape, dt)

    def _accumulate(self, op: LinalgStructuredOperation, product: str) -> None:
        """Named contractions add into their init: skip the add when the init is a zero fill."""
        init = op.outputs[0]
        owner = init.owner
        if isinstance(owner, linalg.FillOp) and _scalar(owner.inputs[0], owner) == 0:
            self.names[op.results[0]] = product
            return
        shape, dt = _shape(op.results[0], op), self._dtype(op.results[0])
        (total,) = self.emit(op, "elementwise", [self.name(init, op), product], [(shape, dt)], op="add")
        self.names[op.results[0]] = total

    def generic(self, op: linalg.GenericOp):
        """Elementwise generics and single-combine reductions become the dedicated vector ops;
        anything else (gather or floordiv maps, several results, fused bodies) runs as one
        `generic` instruction, so nothing that parses is left unrunnable."""
        mark = (len(self.b.obj["instructions"]), dict(self.names), self.counter)
        try:
            return self._generic_split(op)
        except BackendError:
            del self.b.obj["instructions"][mark[0]:]
            self.names, self.counter = mark[1], mark[2]
        self._generic_whole(op)

    def _generic_whole(self, op: linalg.GenericOp) -> None:
        n_in, iters = len(op.inputs), [str(i.data) for i in op.iterator_types.data]
        maps = [m.data for m in op.indexing_maps.data]
        ranges: list[int | None] = [None] * len(iters)
        for v, m in zip((*op.inputs, *op.outputs), maps):
            for axis, r in enumerate(m.results):
                if isinstance(r, AffineDimExpr):
                    ranges[r.position] = _shape(v, op)[axis]
        if None in ranges:
            raise _fail(op, "a loop of this generic is not the dimension of any operand")
        block = op.body.block
        refs: dict[SSAValue, str] = {a: f"in{i}" for i, a in enumerate(block.args[:n_in])}
        refs.update({a: f"out{i}" for i, a in enumerate(block.args[n_in:])})
        captures: list[str] = []
        body: list[dict] = []

        def ref(v: SSAValue, user: Operation) -> str:
            if v in refs:
                return refs[v]
            if isinstance(v.owner, arith.ConstantOp) and not isinstance(v.type, TensorType):
                body.extend(self._body_op(v.owner, [], len(body)))
            else:  # a tensor or runtime scalar from outside the body: read through `extract`
                captures.append(self.name(v, user))
                cap = f"cap{len(captures) - 1}"
                if isinstance(v.type, TensorType):
                    refs[v] = cap
                    return cap
                body.append({"op": "extract", "args": [cap], "dtype": _body_dtype(v.type, user)})
            refs[v] = f"v{len(body) - 1}"
            return refs[v]

        for b in block.ops:
            if isinstance(b, linalg.YieldOp):
                break
            operands = [ref(a, b) for a in b.operands]
            body += self._body_op(b, operands, len(body))
            refs[b.results[0]] = f"v{len(body) - 1}"
        else:
            raise _fail(op, "generic body without a yield")
        last = block.last_op
        assert last is not None  # the loop above found the yield
        yields = [ref(v, last) for v in last.operands]
        inits = []
        for v, a in zip(op.outputs, block.args[n_in:]):
            if v in self.names:
                inits.append(self.names[v])
            elif a.uses:
                raise _fail(op, "the body reads its output, but the init is an uninitialised tensor")
        args = [self.name(v, op) if isinstance(v.type, TensorType) else self._outer(op, v) for v in op.inputs]
        self.define(op, "generic", [*args, *inits, *captures], inputs=n_in, captures=len(captures),
                    inits=[v in self.names for v in op.outputs], shapes=[_shape(v, op) for v in op.outputs],
                    ranges=ranges, iterators=iters, maps=[[_expr(r, op) for r in m.results] for m in maps],
                    body=body, **{"yield": yields})

    def _body_op(self, b: Operation, args: list[str], first: int) -> list[dict]:
        """Body instructions for one scalar op (numbered from v<first>)."""
        dt = _body_dtype(b.results[0].type, b) if len(b.results) == 1 else None
        if dt is None:
            raise _fail(b, f"'{b.name}' with {len(b.results)} results has no vector-unit equivalent")
        if isinstance(b, linalg.IndexOp):
            return [{"op": "index", "dim": b.dim.value.data, "dtype": dt}]
        if isinstance(b, arith.ConstantOp):
            return [{"op": "constant", "value": _scalar(b.result, b), "dtype": dt}]
        if isinstance(b, tensor.ExtractOp):
            return [{"op": "extract", "args": args, "dtype": dt}]
        if b.name in ("arith.index_cast", "arith.index_castui"):
            src = _body_dtype(b.operands[0].type, b)
            kind = "copy" if src == dt else ("trunci" if int(src[1:]) > int(dt[1:]) else
                                             ("extui" if b.name.endswith("ui") else "extsi"))
            return [{"op": kind, "args": args, "dtype": dt}]
        steps = _expand(b)
        for d in steps:
            d["args"] = [args[int(a[1:])] if a[0] == "a" else f"v{first + int(a[1:])}" for a in d["args"]]
        return steps

    def _generic_split(self, op: linalg.GenericOp):
        iters = [str(i.data) for i in op.iterator_types.data]
        if "reduction" in iters:
            return self._reduction(op, iters)
        if len(op.results) != 1:
            raise _fail(op, "elementwise generics with several results are not supported")
        out_map = op.indexing_maps.data[len(op.inputs)].data
        if [r.position if isinstance(r, AffineDimExpr) else None for r in out_map.results] != list(range(len(iters))):
            raise _fail(op, "elementwise generic whose output map is not the identity")
        shape = _shape(op.results[0], op)
        env: dict[SSAValue, str] = {}
        block = op.body.block
        for i, (operand, arg) in enumerate(zip(op.inputs, block.args)):
            if arg.uses:
                env[arg] = self._broadcastable(op, operand, op.indexing_maps.data[i].data, shape)
        out_arg = block.args[len(op.inputs)]
        if out_arg.uses:
            env[out_arg] = self.name(op.outputs[0], op)
        for body_op in block.ops:
            if isinstance(body_op, linalg.YieldOp):
                v = body_op.operands[0]  # a value from a sibling region (xDSL parses it) fails cleanly
                name = env[v] if v in env else self._outer(body_op, v)
                if self.b.type_of(name)[0] != shape:  # a body computed from constants only
                    (name,) = self.emit(op, "broadcast", [name], [(shape, self.b.type_of(name)[1])])
                self.names[op.results[0]] = name
                return
            if isinstance(body_op, arith.ConstantOp):
                (env[body_op.result],) = self.emit(body_op, "constant", [], [([], dtype_name(body_op.result.type))],
                                                   value=_scalar(body_op.result, body_op))
                continue
            args = [env[a] if a in env else self._outer(body_op, a) for a in body_op.operands]
            steps: list[str] = []
            for d in _expand(body_op):
                ins = [args[int(a[1:])] if a[0] == "a" else steps[int(a[1:])] for a in d["args"]]
                out_shape = list(np.broadcast_shapes(*(tuple(self.b.type_of(a)[0]) for a in ins)))
                extra = {k: v for k, v in d.items() if k not in ("op", "args", "dtype")}
                steps += self.emit(body_op, "elementwise", ins, [(out_shape, d["dtype"])], op=d["op"], **extra)
            env[body_op.results[0]] = steps[-1]
        raise _fail(op, "generic body without a yield")

    def _outer(self, op: Operation, value: SSAValue) -> str:
        """A scalar captured from outside the body: only constants have a program equivalent."""
        if value in self.names:
            return self.names[value]
        owner = value.owner
        if not isinstance(owner, arith.ConstantOp):
            raise _fail(op, "generic bodies may only use their own arguments and scalar constants")
        (self.names[value],) = self.emit(owner, "constant", [], [([], dtype_name(value.type))],
                                         value=_scalar(value, owner))
        return self.names[value]

    def _broadcastable(self, op: Operation, operand: SSAValue, amap, shape: list[int]) -> str:
        """An input read through a projected map, laid out to numpy-broadcast over `shape`."""
        name = self.name(operand, op)
        src = _shape(operand, op)
        dims: list[int] = []
        keep: list[int] = []
        for axis, r in enumerate(amap.results):
            if isinstance(r, AffineDimExpr):
                dims.append(r.position)
                keep.append(axis)
            elif isinstance(r, AffineConstantExpr) and r.value == 0 and src[axis] == 1:
                continue  # a broadcast unit dimension
            else:
                raise _fail(op, f"indexing map {amap} is not a projection with unit broadcasts")
        if len(set(dims)) != len(dims):
            raise _fail(op, f"indexing map {amap} repeats a loop")
        dt = self._dtype(operand)
        order = sorted(range(len(dims)), key=lambda i: dims[i])
        cur_shape = [src[a] for a in keep]
        if len(keep) != len(src):
            (name,) = self.emit(op, "reshape", [name], [(cur_shape, dt)])
        if order != list(range(len(dims))):
            cur_shape = [cur_shape[i] for i in order]
            (name,) = self.emit(op, "transpose", [name], [(cur_shape, dt)], perm=order)
        sorted_dims = sorted(dims)
        full = [shape[d] if d in sorted_dims else 1 for d in range(len(shape))]
        if full != cur_shape:
            (name,) = self.emit(op, "reshape", [name], [(full, dt)])
        return name

    def _reduction(self, op: linalg.GenericOp, iters: list[str]):
        """`out = combine(in, out)` over reduction loops, init a neutral fill."""
        block = op.body.block
        ops = list(block.ops)
        if len(op.inputs) != 1 or len(ops) != 2 or ops[0].name not in _REDUCE or len(op.results) != 1:
            raise _fail(op, "only single-input reductions (add/mul/max/min) run on the vector unit; "
                            "contractions must be raised to mixpe first")
        in_map = op.indexing_maps.data[0].data
        if [r.position if isinstance(r, AffineDimExpr) else None for r in in_map.results] != list(range(len(iters))):
            raise _fail(op, "reduction input map is not the identity")
        if set(ops[0].operands) != set(block.args) or ops[1].operands[0] is not ops[0].results[0]:
            raise _fail(op, "the reduction body is not `combine(in, acc)`")
        kind = _REDUCE[ops[0].name]
        reduced = [d for d, it in enumerate(iters) if it == "reduction"]
        kept = [d for d, it in enumerate(iters) if it == "parallel"]
        shape, dt = _shape(op.results[0], op), self._dtype(op.results[0])
        out_map = op.indexing_maps.data[1].data.results
        # the kept loops in order; a constant 0 is a kept unit dim (torch's keepdim=True)
        if [r.position for r in out_map if isinstance(r, AffineDimExpr)] != kept or any(
                not isinstance(r, AffineDimExpr) and not (isinstance(r, AffineConstantExpr) and r.value == 0
                                                          and shape[i] == 1) for i, r in enumerate(out_map)):
            raise _fail(op, "reduction output map is not the kept loops in order")
        src = _shape(op.inputs[0], op)
        names = self.emit(op, "reduce", [self.name(op.inputs[0], op)], [([src[d] for d in kept], dt)],
                          kind=kind, dims=reduced)
        names = [self._reshape(op, names[0], shape, dt)]
        init = op.outputs[0].owner
        neutral = {"add": 0, "mul": 1}.get(kind)
        if isinstance(init, linalg.FillOp) and neutral is not None and _scalar(init.inputs[0], init) == neutral:
            self.names[op.results[0]] = names[0]
            return
        # Any other init is combined once at the end: add/mul/max/min are associative.
        (self.names[op.results[0]],) = self.emit(
            op, "elementwise", [self.name(op.outputs[0], op), names[0]], [(shape, dt)], op=kind
        )

    def ret(self, op: func.ReturnOp):
        for v in op.arguments:
            self.b.output(self.name(v, op))


def _scalar(v: SSAValue, op: Operation) -> float | int:
    owner = v.owner
    if isinstance(owner, arith.ConstantOp):
        attr = owner.value
        assert isinstance(attr, IntegerAttr | FloatAttr)  # a scalar constant
        value = attr.value.data
        return int(bool(value)) if v.type == IntegerType(1) else value  # `true` is stored as -1
    raise _fail(op, "the fill value must be an arith.constant")


def _expand(b: Operation) -> list[dict]:
    """One scalar arith/math op as vector-unit elementwise steps; args name the op's operands
    (`a<i>`) or earlier steps (`s<j>`). `math.fpowi` is `pow` of the exponent converted."""
    if b.name != "math.fpowi" and b.name not in _ELEMENTWISE:
        raise _fail(b, f"'{b.name}' has no vector-unit equivalent")
    dt = _body_dtype(b.results[0].type, b)
    if b.name == "math.fpowi":
        return [{"op": "sitofp", "args": ["a1"], "dtype": dt}, {"op": "pow", "args": ["a0", "s0"], "dtype": dt}]
    kind = _ELEMENTWISE[b.name]
    d = {"op": kind, "args": [f"a{i}" for i in range(len(b.operands))], "dtype": dt}
    if kind == "cmp":
        assert isinstance(b, arith.CmpfOp | arith.CmpiOp)
        d["predicate"] = (_CMPF if b.name == "arith.cmpf" else _CMPI)[b.predicate.value.data]
    return [d]


def _body_dtype(t: Attribute, op: Operation) -> str:
    try:  # (MLIR's index is i64 in the program)
        return dtype_name(t)
    except ValueError:
        raise _fail(op, f"element type {t} cannot be simulated") from None


_EXPR_KIND = {AffineBinaryOpKind.Add: "add", AffineBinaryOpKind.Mul: "mul", AffineBinaryOpKind.Mod: "mod",
              AffineBinaryOpKind.FloorDiv: "floordiv", AffineBinaryOpKind.CeilDiv: "ceildiv"}


def _expr(e, op: Operation) -> list:
    """An affine expression as the program's nested list (mixpe/simulator/generic.py)."""
    if isinstance(e, AffineDimExpr):
        return ["d", e.position]
    if isinstance(e, AffineConstantExpr):
        return ["c", e.value]
    if isinstance(e, AffineBinaryOpExpr):
        return [_EXPR_KIND[e.kind], _expr(e.lhs, op), _expr(e.rhs, op)]
    raise _fail(op, f"affine expression {e} (symbols) cannot be simulated")


def _acc(t: Attribute) -> str:
    return "i32" if isinstance(t, IntegerType) else "f32"


_HANDLERS = {
    mx.MpGemmOp: Emitter.mpgemm,
    mx.GroupPsumOp: Emitter.group_psum,
    mx.ActGroupSumOp: Emitter.act_group_sum,
    mx.DequantEpilogueOp: Emitter.epilogue,
    mx.BitplanesOp: Emitter.bitplanes,
    mx.BitplanePsumOp: Emitter.bitplane_psum,
    mx.Pow2SplitOp: Emitter.pow2_split,
    mx.ShiftPsumOp: Emitter.shift_psum,
    arith.ConstantOp: Emitter.constant,
    tensor.EmptyOp: Emitter.empty,
    tensor.ExpandShapeOp: Emitter.reshape,
    tensor.CollapseShapeOp: Emitter.reshape,
    linalg.TransposeOp: Emitter.transpose,
    tensor.ConcatOp: Emitter.concat,
    tensor.ExtractSliceOp: Emitter.extract_slice,
    tensor.InsertSliceOp: Emitter.insert_slice,
    tensor.PadOp: Emitter.pad,
    tm_tensor.SortOp: Emitter.sort,
    linalg.FillOp: Emitter.fill,
    linalg.MatmulOp: Emitter.contraction,
    **{cls: Emitter.contraction for cls in NAMED_OPS},
    linalg.GenericOp: Emitter.generic,
    func.ReturnOp: Emitter.ret,
}


def emit_program(module: ModuleOp, entry: str | None = None) -> Program:
    """The validated program of `entry` (default: the module's only function with a body):
    validated once here, so nothing downstream re-parses it."""
    funcs = [op for op in module.walk() if isinstance(op, func.FuncOp) and op.body.blocks]
    if entry is not None:
        funcs = [f for f in funcs if f.sym_name.data == entry]
        if not funcs:
            raise BackendError(f"error: mixpe-sim backend: no function @{entry} in the module")
    elif len(funcs) != 1:
        names = ", ".join("@" + f.sym_name.data for f in funcs)
        raise BackendError(f"error: mixpe-sim backend: choose a function with -t 'mixpe-sim{{entry=NAME}}' ({names})")
    builder = Emitter(funcs[0], _unsigned_storage(module)).run()
    try:
        return builder.build()  # never hand out a program the simulator would refuse
    except ProgramError as e:
        raise BackendError(f"error: mixpe-sim backend produced an invalid program: {e}") from e


@dataclass(frozen=True)
class MixpeSimTarget(Target):
    """xDSL target printing the simulator program of one function as JSON."""

    name = "mixpe-sim"

    entry: str | None = None

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        output.write(dumps(emit_program(module, self.entry)))

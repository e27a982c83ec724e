"""The `mixpe` dialect: grouped mixed-precision GEMMs and their hoisted, shift&add forms.

It follows MixPE (arXiv 2411.16158, §3.2): inside a quantization group the scale and
zero point are constant, so dequantization moves out of the inner loop:

    P[m,j,n] = sum_{k in group j} X[m,k] * Q[k,n]      (mixpe.group_psum)
    A[m,j]   = sum_{k in group j} X[m,k]               (mixpe.act_group_sum)
    Y[m,n]   = sum_j S[j,n] * (P[m,j,n] - Z[j,n]*A[m,j])  (mixpe.dequant_epilogue)

`mixpe.mpgemm` is the fused form the raise pass produces. The shift&add forms spell
out how a PE computes P without multipliers: MixPE bit-planes
(`mixpe.bitplanes` + `mixpe.bitplane_psum`) and DenseShift's zero-free `±2^p`
weights (arXiv 2208.09708; `mixpe.pow2_split` + `mixpe.shift_psum`).
`#mixpe.schedule` records how a GEMM is tiled onto the systolic array.

Layouts: weights are `[K,N]` (`kn`) or `[N,K]` (`nk`, as HF Linear stores them);
scales and zero points follow the weights: `[G,N]` for `kn`, `[N,G]` for `nk`.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence

from xdsl.dialects.builtin import (
    I64,
    AnyFloat,
    DenseArrayBase,
    IntegerAttr,
    IntegerType,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue, TypeAttribute
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from mixpe.dialects.mixpe_attrs import (
    Dataflow,
    DataflowAttr,
    ScheduleAttr,
    Signedness,
    SignednessAttr,
    WeightFormat,
    WeightFormatAttr,
    WeightLayout,
    WeightLayoutAttr,
    ZeroPointMode,
    ZeroPointModeAttr,
)

__all__ = [
    "ActGroupSumOp", "BitplanePsumOp", "BitplanesOp", "Dataflow", "DataflowAttr", "DequantEpilogueOp",
    "GroupPsumOp", "Mixpe", "MpGemmOp", "Pow2SplitOp", "ScheduleAttr", "ShiftPsumOp", "Signedness",
    "SignednessAttr", "WeightFormat", "WeightFormatAttr", "WeightLayout", "WeightLayoutAttr", "ZeroPointMode",
    "ZeroPointModeAttr",
]


# --------------------------------------------------------------------------- helpers


def _tensor(value: SSAValue, what: str, rank: int) -> TensorType[Attribute]:
    ty = value.type
    if not isinstance(ty, TensorType) or ty.get_num_dims() != rank:
        raise VerifyException(f"{what} must be a rank-{rank} tensor, got {ty}")
    return ty


def _same(a: int, b: int) -> bool:
    """Dimension equality that lets dynamic sizes (-1) through."""
    return a == b or a < 0 or b < 0


def _max_abs_int(ty: Attribute) -> int:
    """Largest |value| a signless integer activation of this type holds (read as signed)."""
    assert isinstance(ty, IntegerType)
    return 1 << (ty.width.data - 1)


OperandLike = SSAValue | Operation
"""An operand as the typed constructors take it: a value, or an op with a single result."""


def _signedness(value: Signedness | bool) -> SignednessAttr:
    """`True`/`False` read as signed/unsigned."""
    if not isinstance(value, str):  # a bool (numpy's too)
        value = Signedness.SIGNED if value else Signedness.UNSIGNED
    return SignednessAttr(Signedness(value))


class _QuantWeights(IRDLOperation, ABC):
    """Shared properties and checks of ops that read quantized weights."""

    group_size = prop_def(IntegerAttr[I64])
    weight_bits = prop_def(IntegerAttr[I64])
    signedness = prop_def(SignednessAttr)
    weight_format = prop_def(WeightFormatAttr)
    layout = prop_def(WeightLayoutAttr)

    traits = traits_def(Pure())

    def __init__(
        self,
        *,
        operands: Sequence[OperandLike | None],
        result_types: Sequence[Attribute],
        group_size: int,
        weight_bits: int,
        signedness: Signedness | bool,
        layout: WeightLayout,
        weight_format: WeightFormat = WeightFormat.INT,
        extra_properties: Mapping[str, Attribute | None] | None = None,
    ):
        """The shared weight properties, then the op's own (`None` ones are left out).

        This order is the order the generic form prints properties in."""
        super().__init__(
            operands=operands,
            result_types=result_types,
            properties={
                "group_size": IntegerAttr(group_size, i64),
                "weight_bits": IntegerAttr(weight_bits, i64),
                "signedness": _signedness(signedness),
                "weight_format": WeightFormatAttr(WeightFormat(weight_format)),
                "layout": WeightLayoutAttr(WeightLayout(layout)),
                **(extra_properties or {}),
            },
        )

    @property
    def g(self) -> int:
        return self.group_size.value.data

    @property
    def bits(self) -> int:
        return self.weight_bits.value.data

    @property
    def is_signed(self) -> bool:
        return self.signedness.data == Signedness.SIGNED

    @property
    def is_pow2(self) -> bool:
        return self.weight_format.data == WeightFormat.POW2

    def max_abs_weight(self) -> int:
        """Largest |w| the declared format allows, for static overflow proofs."""
        if self.is_pow2:
            return 1 << ((1 << (self.bits - 1)) - 1)
        return (1 << (self.bits - 1)) if self.is_signed else (1 << self.bits) - 1

    def verify_weights(self, x: SSAValue, w: SSAValue) -> tuple[int, int, int]:
        """Checks activations `[M,K]` against weights; returns (M, K, N)."""
        xt = _tensor(x, "activations", 2)
        wt = _tensor(w, "weights", 2)
        if not isinstance(xt.get_element_type(), IntegerType | AnyFloat):
            raise VerifyException(
                f"activations must have an integer or float element type, got {xt.get_element_type()}"
            )
        storage = wt.get_element_type()
        if not isinstance(storage, IntegerType):
            raise VerifyException(f"weights must have an integer element type, got {storage}")
        m, k = xt.get_shape()
        wk, n = wt.get_shape()
        if self.layout.data == WeightLayout.NK:
            wk, n = n, wk
        if not _same(k, wk):
            raise VerifyException(
                f"reduction size mismatch: activations have K={k}, weights ({self.layout.data}) have K={wk}"
            )
        k = max(k, wk)
        g, bits = self.g, self.bits
        if k < 0:
            raise VerifyException("the reduction dimension K must be static")
        if g < 1 or k % g:
            raise VerifyException(f"group size {g} does not divide K={k}")
        if self.is_pow2:
            if not 2 <= bits <= 5:
                raise VerifyException(f"pow2 weights need 2..5 code bits, got {bits}")
            need = (1 << (bits - 1)) + 1  # a signed value up to 2^(2^(b-1)-1)
            if storage.width.data < need:
                raise VerifyException(
                    f"{bits}-bit pow2 weights reach ±2^{(1 << (bits - 1)) - 1}, which does not fit {storage}"
                )
            if self.is_signed is False:
                raise VerifyException("pow2 weights are signed (±2^p)")
        else:
            if not 1 <= bits <= 8:
                raise VerifyException(f"weight bits must be in 1..8, got {bits}")
            if bits > storage.width.data:
                raise VerifyException(f"{bits}-bit weights do not fit storage type {storage}")
            if self.is_signed and bits < 2:
                raise VerifyException("signed weights need at least 2 bits")
        return m, k, n

    def verify_accumulator(self, x: SSAValue, acc: Attribute, what: str) -> None:
        """Integer activations need an integer accumulator that provably cannot overflow."""
        xe = _tensor(x, "activations", 2).get_element_type()
        if isinstance(xe, IntegerType):
            if not isinstance(acc, IntegerType):
                raise VerifyException(f"integer activations need an integer {what}, got {acc}")
            bound = self.g * _max_abs_int(xe) * self.max_abs_weight()
            if bound > (1 << (acc.width.data - 1)) - 1:
                raise VerifyException(
                    f"{what} {acc} can overflow: |sum| can reach {bound} "
                    f"(g={self.g}, {xe} activations, {self.bits}-bit weights)"
                )
        elif not isinstance(acc, AnyFloat):
            raise VerifyException(f"float activations need a float {what}, got {acc}")


def _verify_params(
    scales: SSAValue,
    zeros: SSAValue | None,
    mode: ZeroPointMode,
    layout: WeightLayout,
    groups: int,
    n: int,
) -> None:
    """Scales/zero points are [G,N] (kn) or [N,G] (nk); zero points iff not symmetric."""
    expect = (groups, n) if layout == WeightLayout.KN else (n, groups)
    for name, value in (("scales", scales), ("zero points", zeros)):
        if value is None:
            continue
        ty = _tensor(value, name, 2)
        if not all(_same(a, b) for a, b in zip(ty.get_shape(), expect)):
            raise VerifyException(
                f"{name} must have shape {expect[0]}x{expect[1]} for layout {layout.value}, "
                f"got {ty.get_shape()[0]}x{ty.get_shape()[1]}"
            )
    if not isinstance(_tensor(scales, "scales", 2).get_element_type(), AnyFloat):
        raise VerifyException("scales must have a float element type")
    if mode == ZeroPointMode.SYMMETRIC:
        if zeros is not None:
            raise VerifyException("symmetric quantization takes no zero points")
        return
    if zeros is None:
        raise VerifyException(f"zero-point mode '{mode.value}' needs zero points")
    ze = _tensor(zeros, "zero points", 2).get_element_type()
    if mode == ZeroPointMode.RESCALE and not isinstance(ze, AnyFloat):
        raise VerifyException("rescale zero points (W = Q*S - Z') must be float")
    if not isinstance(ze, IntegerType | AnyFloat):
        raise VerifyException(f"zero points must be integer or float, got {ze}")


def _verify_result(value: SSAValue, shape: Sequence[int], what: str) -> Attribute:
    ty = _tensor(value, what, len(shape))
    if not all(_same(a, b) for a, b in zip(ty.get_shape(), shape)):
        want = "x".join("?" if d < 0 else str(d) for d in shape)
        raise VerifyException(f"{what} must have shape {want}, got {ty}")
    return ty.get_element_type()


# --------------------------------------------------------------------------- ops

_WEIGHT_PROPS = (
    "`group` $group_size `bits` $weight_bits $signedness "
    "`format` $weight_format `layout` $layout"
)


@irdl_op_definition
class MpGemmOp(_QuantWeights):
    """Grouped mixed-precision GEMM: Y = X @ dequant(Q), the form the raise pass creates.

    Its numerics are defined as those of its hoisted form (group partial sums in
    the accumulator type, dequantization epilogue), which is what the hardware does.
    """

    name = "mixpe.mpgemm"

    x = operand_def(TensorType)
    weights = operand_def(TensorType)
    scales = operand_def(TensorType)
    zeros = opt_operand_def(TensorType)
    result = result_def(TensorType)

    zp_mode = prop_def(ZeroPointModeAttr)
    acc_type = prop_def(TypeAttribute)

    assembly_format = (
        "$x `,` $weights `scales` `(` $scales `)` (`zeros` `(` $zeros^ `)`)? "
        + _WEIGHT_PROPS
        + " `zp` $zp_mode `acc` $acc_type attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        x: OperandLike,
        weights: OperandLike,
        scales: OperandLike,
        zeros: OperandLike | None,
        result_type: Attribute,
        *,
        group_size: int,
        weight_bits: int,
        signedness: Signedness | bool,
        layout: WeightLayout,
        zp_mode: ZeroPointMode,
        acc_type: Attribute,
        weight_format: WeightFormat = WeightFormat.INT,
    ):
        """`zeros` is None exactly for symmetric quantization; `acc_type` is the
        partial-sum element type (`signedness` True/False read as signed/unsigned)."""
        super().__init__(
            operands=[x, weights, scales, zeros],
            result_types=[result_type],
            group_size=group_size,
            weight_bits=weight_bits,
            signedness=signedness,
            layout=layout,
            weight_format=weight_format,
            extra_properties={"zp_mode": ZeroPointModeAttr(ZeroPointMode(zp_mode)), "acc_type": acc_type},
        )

    def verify_(self) -> None:
        m, k, n = self.verify_weights(self.x, self.weights)
        _verify_params(
            self.scales, self.zeros, self.zp_mode.data, self.layout.data, k // self.g, n
        )
        self.verify_accumulator(self.x, self.acc_type, "accumulator")
        out = _verify_result(self.result, (m, n), "result")
        if not isinstance(out, AnyFloat):
            raise VerifyException(f"result must have a float element type, got {out}")


@irdl_op_definition
class GroupPsumOp(_QuantWeights):
    """Per-group partial sums P[m,j,n], computed on the array by shift-accumulate PEs."""

    name = "mixpe.group_psum"

    x = operand_def(TensorType)
    weights = operand_def(TensorType)
    result = result_def(TensorType)
    schedule = opt_prop_def(ScheduleAttr)

    assembly_format = (
        "$x `,` $weights "
        + _WEIGHT_PROPS
        + " (`schedule` qualified($schedule)^)? attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        x: OperandLike,
        weights: OperandLike,
        result_type: Attribute,
        *,
        group_size: int,
        weight_bits: int,
        signedness: Signedness | bool,
        layout: WeightLayout,
        weight_format: WeightFormat = WeightFormat.INT,
        schedule: ScheduleAttr | None = None,
    ):
        """`result_type` is the [M,G,N] partial-sum tensor (its element type the accumulator)."""
        super().__init__(
            operands=[x, weights],
            result_types=[result_type],
            group_size=group_size,
            weight_bits=weight_bits,
            signedness=signedness,
            layout=layout,
            weight_format=weight_format,
            extra_properties={"schedule": schedule},
        )

    def verify_(self) -> None:
        m, k, n = self.verify_weights(self.x, self.weights)
        acc = _verify_result(self.result, (m, k // self.g, n), "partial sums")
        self.verify_accumulator(self.x, acc, "partial-sum type")


@irdl_op_definition
class ActGroupSumOp(IRDLOperation):
    """Activation group sums A[m,j], shared by every output channel (the zero-point term)."""

    name = "mixpe.act_group_sum"

    x = operand_def(TensorType)
    result = result_def(TensorType)
    group_size = prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())
    assembly_format = "$x `group` $group_size attr-dict `:` functional-type(operands, results)"

    def __init__(self, x: OperandLike, result_type: Attribute, *, group_size: int):
        """`result_type` is the [M,G] group-sum tensor."""
        super().__init__(
            operands=[x], result_types=[result_type], properties={"group_size": IntegerAttr(group_size, i64)}
        )

    def verify_(self) -> None:
        m, k = _tensor(self.x, "activations", 2).get_shape()
        g = self.group_size.value.data
        if k < 0 or g < 1 or k % g:
            raise VerifyException(f"group size {g} does not divide K={k}")
        acc = _verify_result(self.result, (m, k // g), "group sums")
        xe = _tensor(self.x, "activations", 2).get_element_type()
        if isinstance(xe, IntegerType):
            if not isinstance(acc, IntegerType):
                raise VerifyException("integer activations need integer group sums")
            if g * _max_abs_int(xe) > (1 << (acc.width.data - 1)) - 1:
                raise VerifyException(f"group sums of {g} {xe} values can overflow {acc}")
        elif not isinstance(acc, AnyFloat):
            raise VerifyException("float activations need float group sums")


@irdl_op_definition
class DequantEpilogueOp(IRDLOperation):
    """Y[m,n] = sum_j S[j,n]*(P[m,j,n] - Z[j,n]*A[m,j]), run once per group outside the hot loop."""

    name = "mixpe.dequant_epilogue"

    psums = operand_def(TensorType)
    act_sums = opt_operand_def(TensorType)
    scales = operand_def(TensorType)
    zeros = opt_operand_def(TensorType)
    result = result_def(TensorType)

    zp_mode = prop_def(ZeroPointModeAttr)
    layout = prop_def(WeightLayoutAttr)
    zero_signedness = opt_prop_def(SignednessAttr)
    """How integer zero points are read from signless storage (the weights' signedness)."""

    traits = traits_def(Pure())
    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    assembly_format = (
        "$psums `:` type($psums) (`sums` `(` $act_sums^ `:` type($act_sums) `)`)? "
        "`scales` `(` $scales `:` type($scales) `)` (`zeros` `(` $zeros^ `:` type($zeros) `)`)? "
        "`layout` $layout `zp` $zp_mode (`zeros_read` $zero_signedness^)? attr-dict `->` type($result)"
    )

    def __init__(
        self,
        psums: OperandLike,
        act_sums: OperandLike | None,
        scales: OperandLike,
        zeros: OperandLike | None,
        result_type: Attribute,
        *,
        zp_mode: ZeroPointMode,
        layout: WeightLayout,
        zero_signedness: Signedness | bool | None = None,
    ):
        """`act_sums` and `zeros` are None exactly for symmetric quantization;
        `zero_signedness` is given exactly for integer zero points."""
        super().__init__(
            operands=[psums, act_sums, scales, zeros],
            result_types=[result_type],
            properties={
                "zp_mode": ZeroPointModeAttr(ZeroPointMode(zp_mode)),
                "layout": WeightLayoutAttr(WeightLayout(layout)),
                "zero_signedness": None if zero_signedness is None else _signedness(zero_signedness),
            },
        )

    def verify_(self) -> None:
        m, groups, n = _tensor(self.psums, "partial sums", 3).get_shape()
        mode = self.zp_mode.data
        _verify_params(self.scales, self.zeros, mode, self.layout.data, groups, n)
        if (mode == ZeroPointMode.SYMMETRIC) != (self.act_sums is None):
            raise VerifyException(
                "activation group sums are needed exactly when there are zero points"
            )
        if self.act_sums is not None:
            _verify_result(self.act_sums, (m, groups), "activation group sums")
        int_zeros = self.zeros is not None and isinstance(
            _tensor(self.zeros, "zero points", 2).get_element_type(), IntegerType
        )
        if int_zeros != (self.zero_signedness is not None):
            raise VerifyException(
                "integer zero points need `zeros_read signed|unsigned`, and only they take it"
            )
        out = _verify_result(self.result, (m, n), "result")
        if not isinstance(out, AnyFloat):
            raise VerifyException(f"result must have a float element type, got {out}")


@irdl_op_definition
class BitplanesOp(IRDLOperation):
    """Splits integer weights into bit-planes [B,K,N] (i1), always kn-oriented for the array."""

    name = "mixpe.bitplanes"

    weights = operand_def(TensorType)
    result = result_def(TensorType)
    weight_bits = prop_def(IntegerAttr[I64])
    signedness = prop_def(SignednessAttr)
    """Only checks the range of the stored values; the planes are the low bits either way."""
    layout = prop_def(WeightLayoutAttr)

    traits = traits_def(Pure())
    assembly_format = (
        "$weights `bits` $weight_bits $signedness `layout` $layout attr-dict "
        "`:` functional-type(operands, results)"
    )

    def __init__(
        self,
        weights: OperandLike,
        result_type: Attribute,
        *,
        weight_bits: int,
        signedness: Signedness | bool,
        layout: WeightLayout,
    ):
        """`result_type` is the [B,K,N] i1 plane tensor."""
        super().__init__(
            operands=[weights],
            result_types=[result_type],
            properties={
                "weight_bits": IntegerAttr(weight_bits, i64),
                "signedness": _signedness(signedness),
                "layout": WeightLayoutAttr(WeightLayout(layout)),
            },
        )

    def verify_(self) -> None:
        wt = _tensor(self.weights, "weights", 2)
        if not isinstance(wt.get_element_type(), IntegerType):
            raise VerifyException("weights must have an integer element type")
        rows, cols = wt.get_shape()
        k, n = (rows, cols) if self.layout.data == WeightLayout.KN else (cols, rows)
        elem = _verify_result(self.result, (self.weight_bits.value.data, k, n), "bit-planes")
        if elem != IntegerType(1):
            raise VerifyException(f"bit-planes must be i1, got {elem}")


@irdl_op_definition
class BitplanePsumOp(IRDLOperation):
    """MixPE PE: P = sum_i c_i * (X_g @ plane_i) with c_i = ±2^s_i: shifts and adds, no multiplier.

    `coefficients` gives each remaining plane's weight (the MSB plane of signed weights
    is negative); planes proven all-zero in constant weights are simply absent.
    """

    name = "mixpe.bitplane_psum"

    x = operand_def(TensorType)
    planes = operand_def(TensorType)
    result = result_def(TensorType)
    group_size = prop_def(IntegerAttr[I64])
    coefficients = prop_def(DenseArrayBase.constr(i64))
    schedule = opt_prop_def(ScheduleAttr)

    traits = traits_def(Pure())
    assembly_format = (
        "$x `,` $planes `group` $group_size `coefficients` $coefficients "
        "(`schedule` qualified($schedule)^)? attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        x: OperandLike,
        planes: OperandLike,
        result_type: Attribute,
        *,
        group_size: int,
        coefficients: Sequence[int],
        schedule: ScheduleAttr | None = None,
    ):
        """One `±2^s` coefficient per plane; `result_type` is the [M,G,N] partial sums."""
        super().__init__(
            operands=[x, planes],
            result_types=[result_type],
            properties={
                "group_size": IntegerAttr(group_size, i64),
                "coefficients": DenseArrayBase.from_list(i64, list(coefficients)),
                "schedule": schedule,
            },
        )

    def verify_(self) -> None:
        m, k = _tensor(self.x, "activations", 2).get_shape()
        b, pk, n = _tensor(self.planes, "bit-planes", 3).get_shape()
        coeffs = self.coefficients.get_values()
        if b >= 0 and len(coeffs) != b:
            raise VerifyException(f"{len(coeffs)} coefficients for {b} bit-planes")
        for c in coeffs:
            if c == 0 or abs(c) & (abs(c) - 1):
                raise VerifyException(f"coefficient {c} is not ±2^s")
        if not _same(k, pk):
            raise VerifyException(f"reduction size mismatch: activations K={k}, planes K={pk}")
        g = self.group_size.value.data
        if k < 0 or g < 1 or k % g:
            raise VerifyException(f"group size {g} does not divide K={k}")
        _verify_result(self.result, (m, k // g, n), "partial sums")


@irdl_op_definition
class Pow2SplitOp(IRDLOperation):
    """Splits DenseShift weights ±2^p into a sign plane (i1) and shift amounts (kn-oriented)."""

    name = "mixpe.pow2_split"

    weights = operand_def(TensorType)
    sign = result_def(TensorType)
    shift = result_def(TensorType)
    weight_bits = prop_def(IntegerAttr[I64])
    layout = prop_def(WeightLayoutAttr)

    traits = traits_def(Pure())
    assembly_format = (
        "$weights `bits` $weight_bits `layout` $layout attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        weights: OperandLike,
        sign_type: Attribute,
        shift_type: Attribute,
        *,
        weight_bits: int,
        layout: WeightLayout,
    ):
        """`sign_type` is the [K,N] i1 sign plane, `shift_type` the [K,N] integer shifts."""
        super().__init__(
            operands=[weights],
            result_types=[sign_type, shift_type],
            properties={
                "weight_bits": IntegerAttr(weight_bits, i64),
                "layout": WeightLayoutAttr(WeightLayout(layout)),
            },
        )

    def verify_(self) -> None:
        rows, cols = _tensor(self.weights, "weights", 2).get_shape()
        k, n = (rows, cols) if self.layout.data == WeightLayout.KN else (cols, rows)
        if _verify_result(self.sign, (k, n), "sign plane") != IntegerType(1):
            raise VerifyException("sign plane must be i1")
        if not isinstance(_verify_result(self.shift, (k, n), "shift plane"), IntegerType):
            raise VerifyException("shift plane must be integer")


@irdl_op_definition
class ShiftPsumOp(IRDLOperation):
    """DenseShift PE: P = sum_k (-1)^sign * (x << shift): one shift and one add/sub per product."""

    name = "mixpe.shift_psum"

    x = operand_def(TensorType)
    sign = operand_def(TensorType)
    shift = operand_def(TensorType)
    result = result_def(TensorType)
    group_size = prop_def(IntegerAttr[I64])
    schedule = opt_prop_def(ScheduleAttr)

    traits = traits_def(Pure())
    assembly_format = (
        "$x `,` $sign `,` $shift `group` $group_size (`schedule` qualified($schedule)^)? "
        "attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        x: OperandLike,
        sign: OperandLike,
        shift: OperandLike,
        result_type: Attribute,
        *,
        group_size: int,
        schedule: ScheduleAttr | None = None,
    ):
        """`result_type` is the [M,G,N] partial sums."""
        super().__init__(
            operands=[x, sign, shift],
            result_types=[result_type],
            properties={"group_size": IntegerAttr(group_size, i64), "schedule": schedule},
        )

    def verify_(self) -> None:
        m, k = _tensor(self.x, "activations", 2).get_shape()
        sk, n = _tensor(self.sign, "sign plane", 2).get_shape()
        if _tensor(self.shift, "shift plane", 2).get_shape() != (sk, n):
            raise VerifyException("sign and shift planes must have the same shape")
        if not _same(k, sk):
            raise VerifyException(f"reduction size mismatch: activations K={k}, planes K={sk}")
        g = self.group_size.value.data
        if k < 0 or g < 1 or k % g:
            raise VerifyException(f"group size {g} does not divide K={k}")
        _verify_result(self.result, (m, k // g, n), "partial sums")


Mixpe = Dialect(
    "mixpe",
    [
        MpGemmOp,
        GroupPsumOp,
        ActGroupSumOp,
        DequantEpilogueOp,
        BitplanesOp,
        BitplanePsumOp,
        Pow2SplitOp,
        ShiftPsumOp,
    ],
    [
        ZeroPointModeAttr,
        WeightLayoutAttr,
        SignednessAttr,
        WeightFormatAttr,
        DataflowAttr,
        ScheduleAttr,
    ],
)

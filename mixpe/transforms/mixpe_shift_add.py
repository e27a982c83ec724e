"""`mixpe-shift-add`: group partial sums in shift&add form, with no multiplier in the PE.

`mixpe.group_psum` (from `mixpe-hoist-dequant`) becomes, by weight format:

- `int`: MixPE bit-planes, `q·a = sum_i q_i·(a << i)`, the MSB negated for signed q
  (two's complement):

      %planes = mixpe.bitplanes %w bits 4 signed layout nk : (...) -> tensor<4xKxNxi1>
      %psum = mixpe.bitplane_psum %x, %planes group g coefficients [1, 2, 4, -8]

- `pow2`: DenseShift's zero-free `±2^p` weights, one shift and one add/sub per product:

      %sign, %shift = mixpe.pow2_split %w bits 3 layout kn
      %psum = mixpe.shift_psum %x, %sign, %shift group g

The same IR serves integer and float activations: for FP16/BF16/F32 the shift is an
add to the exponent field of the f32 accumulator type, exact like the product `x·q` it
replaces. P keeps group_psum's semantics (exact sums, rounded once to the accumulator
type) and is the same linear function of the weights, so it is the same number, bit for
bit, for integer and float activations alike. `schedule` is carried over; dynamic M, N
are kept (K is static by the verifier).

Constant weights (`arith.constant` dense or dense_resource) are read at compile time:
- Planes that are all zero are dropped with their coefficient. The remaining planes
  become an i1 `arith.constant` [B',K,N] (dense_resource if the weights were): the planes
  of constant weights are compile-time data, so the PE array streams exactly them, no new
  op is needed, and the evaluator and backend read them like any constant. Weights with no
  zero plane keep `mixpe.bitplanes` (smaller IR). All-zero weights keep plane 0.
- `detect-pow2`: weights that are all `±2^p` take the DenseShift form, with the fewest
  code bits holding the largest p; they are re-stored in i16 when the pow2 format needs
  a wider storage type, or when unsigned values would read negative from signless storage.
- A value outside the declared range is declined here, as it is an error at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerType, ModuleOp, TensorType, i1, i8
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from mixpe.reference import ir_constants
from mixpe.diagnostics import inherit_location, remark
from mixpe.dialects.mixpe import (
    BitplanePsumOp,
    BitplanesOp,
    GroupPsumOp,
    Pow2SplitOp,
    ShiftPsumOp,
    WeightLayout,
)
from mixpe.reference import kernels
from mixpe.transforms import _linalg_build as lb

NAME = "mixpe-shift-add"


class _Decline(Exception):
    """Why a group_psum is left as it is."""


def _kn_shape(op: GroupPsumOp) -> tuple[int, int]:
    rows, cols = lb.shape(op.weights)
    return (cols, rows) if op.layout.data == WeightLayout.NK else (rows, cols)


def _psum(psum: ShiftPsumOp | BitplanePsumOp) -> Operation:
    """The shift&add partial sums (built with `op`'s result type, group size and schedule)."""
    psum.result.name_hint = "psum"
    return psum


def _pow2_form(op: GroupPsumOp, weights: SSAValue, bits: int) -> list[Operation]:
    k, n = _kn_shape(op)
    split = Pow2SplitOp(
        weights, TensorType(i1, [k, n]), TensorType(i8, [k, n]), weight_bits=bits, layout=op.layout.data
    )
    split.sign.name_hint, split.shift.name_hint = "sign", "shift"
    psum = ShiftPsumOp(op.x, split.sign, split.shift, op.result.type, group_size=op.g, schedule=op.schedule)
    return [split, _psum(psum)]


def _bitplane_form(op: GroupPsumOp, q: np.ndarray | None, like: Attribute | None) -> list[Operation]:
    """Bit-planes of the weights; of constant weights (values q, attribute like), only those
    that are not all zero."""
    b, k, n = op.bits, *_kn_shape(op)
    coeffs = [(-1 if op.is_signed and i == b - 1 else 1) << i for i in range(b)]
    keep = list(range(b))
    if q is not None:
        planes = kernels.bitplanes(q, weight_bits=b, signed=op.is_signed, layout=op.layout.data.value)
        keep = [i for i in range(b) if planes[i].any()] or [0]
    if len(keep) == b:
        split = BitplanesOp(
            op.weights, TensorType(i1, [b, k, n]),
            weight_bits=b, signedness=op.signedness.data, layout=op.layout.data,
        )
    else:
        split = ir_constants.build_constant(
            planes[keep].astype(bool), TensorType(i1, [len(keep), k, n]), like, "mixpe_bitplanes"
        )
    split.results[0].name_hint = "planes"
    psum = BitplanePsumOp(
        op.x, split.results[0], op.result.type,
        group_size=op.g, coefficients=[coeffs[i] for i in keep], schedule=op.schedule,
    )
    return [split, _psum(psum)]


def _first_bad(mask: np.ndarray, q: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return f"value {int(q[idx])} at index {list(idx)}"


def _detected_pow2(op: GroupPsumOp, q: np.ndarray, like: Attribute | None) -> list[Operation]:
    """DenseShift form of constant int weights that are all ±2^p, else _Decline (why not)."""
    mag = np.abs(q)
    bad = (mag == 0) | ((mag & (mag - 1)) != 0)
    if bad.any():
        raise _Decline(f"{_first_bad(bad, q)} is not ±2^p")
    bits = max(2, 1 + (int(mag.max()).bit_length() - 1).bit_length())  # p <= 2^(bits-1) - 1
    width = lb.int_elem(op.weights).width.data
    weights: SSAValue = op.weights
    new: list[Operation] = []
    if width < (1 << (bits - 1)) + 1 or int(q.max()) >= 1 << (width - 1):
        wide = ir_constants.build_constant(q.astype(np.int16), TensorType(IntegerType(16), lb.shape(op.weights)),
                                           like, "mixpe_pow2_weights")
        wide.result.name_hint = op.weights.name_hint
        weights, new = wide.result, [wide]
    return new + _pow2_form(op, weights, bits)


@dataclass
class ShiftAdd(RewritePattern):
    detect_pow2: bool = False

    def lower(self, op: GroupPsumOp) -> list[Operation]:
        if not op.is_pow2 and not 1 <= op.bits <= 8:
            raise _Decline(f"{op.bits}-bit int weights: bit-planes are defined for 1..8 bits")
        const = ir_constants.constant_of(op.weights)
        width = lb.int_elem(op.weights).width.data
        like = None if const is None else const[0].value
        q = None if const is None else ir_constants.integer_values(const[1], width, op.is_signed or op.is_pow2)
        if op.is_pow2:
            if q is not None:
                try:
                    kernels.pow2_split(q, weight_bits=op.bits)
                except ValueError as err:
                    raise _Decline(f"constant {err}") from None
            return _pow2_form(op, op.weights, op.bits)
        if q is not None:
            try:
                kernels.check_weight_range(q, weight_bits=op.bits, signed=op.is_signed)
            except ValueError as err:
                raise _Decline(f"constant {err}") from None
        if self.detect_pow2:
            if q is None:
                what = op.weights.owner.name if isinstance(op.weights.owner, Operation) else "a block argument"
                remark(NAME, op, f"detect-pow2 not applied: the weights are not a constant ({what}); using bit-planes")
            else:
                try:
                    return _detected_pow2(op, q, like)
                except _Decline as why:
                    remark(NAME, op, f"detect-pow2 not applied: {why}; using bit-planes")
        return _bitplane_form(op, q, like)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: GroupPsumOp, rewriter: PatternRewriter) -> None:
        try:
            new_ops = self.lower(op)
        except _Decline as why:
            remark(NAME, op, f"not lowered: {why}")
            return
        weights = op.weights.owner
        inherit_location(new_ops, op)
        rewriter.replace(op, new_ops, [new_ops[-1].results[0]])
        if isinstance(weights, arith.ConstantOp) and not weights.result.uses:
            rewriter.erase(weights)  # its planes or re-stored values replaced it


@dataclass(frozen=True)
class MixpeShiftAddPass(ModulePass):
    """Lowers every `mixpe.group_psum` to bit-plane or DenseShift partial sums."""

    name = NAME

    detect_pow2: bool = False
    """Constant int weights that are all ±2^p take the DenseShift form."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(ShiftAdd(self.detect_pow2), apply_recursively=False).rewrite_module(op)

"""Pure-numpy reference semantics of the mixpe ops (no xDSL): the simulator's functional core."""

from mixpe.reference.dtypes import coerce, round_to, to_numpy, type_name
from mixpe.reference.kernels import (
    act_group_sum,
    bitplane_psum,
    bitplanes,
    check_weight_range,
    dequant_epilogue,
    dequantize,
    error_bound,
    group_psum,
    mpgemm,
    popcount_total,
    pow2_split,
    reference_linear,
    shift_psum,
)

__all__ = [
    "act_group_sum",
    "bitplane_psum",
    "bitplanes",
    "check_weight_range",
    "coerce",
    "dequant_epilogue",
    "dequantize",
    "error_bound",
    "group_psum",
    "mpgemm",
    "popcount_total",
    "pow2_split",
    "reference_linear",
    "round_to",
    "shift_psum",
    "to_numpy",
    "type_name",
]

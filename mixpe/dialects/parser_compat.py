"""A correction to xDSL 0.74's parser that real frontend IR needs: hex floats in `dense<...>`.

MLIR reads a hexadecimal element of a float `dense<...>` literal as the float's bit pattern:
torch-mlir writes a causal mask's -inf as `dense<0xFF800000> : tensor<f32>`. xDSL 0.74 reads it
as the integer 4286578688 and converts that to a float, a silent wrong answer (masked attention
scores became +4.3e9). The scalar form (`arith.constant 0xFF800000 : f32`) and quoted blobs
(`dense<"0x...">`) were already right. `install()` patches the literal's conversion in place,
once, so `mixpe-opt` and stock `xdsl-opt` with our plugin both read the bits.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import AnyFloat, BFloat16Type, Float16Type, Float32Type, Float64Type
from xdsl.parser.attribute_parser import AttrParser

from mixpe.reference import dtypes

_Element = AttrParser._TensorLiteralElement  # pyright: ignore[reportPrivateUsage]
_BITS = {Float16Type: (np.uint16, "f16"), BFloat16Type: (np.uint16, "bf16"),
         Float32Type: (np.uint32, "f32"), Float64Type: (np.uint64, "f64")}
_original_to_type = _Element.to_type


def _to_type(self, parser: AttrParser, type):
    text = self.span.text
    if isinstance(type, AnyFloat) and isinstance(self.value, int) and not isinstance(self.value, bool) \
            and text[:2] in ("0x", "0X"):
        if type.__class__ not in _BITS:
            parser.raise_error(f"hexadecimal float literals are not supported for {type}", at_position=self.span)
        store, view = _BITS[type.__class__]
        if self.value >= 1 << (8 * np.dtype(store).itemsize):
            parser.raise_error(f"hexadecimal literal {text} does not fit {type}", at_position=self.span)
        return float(np.array(self.value, dtype=store).view(dtypes.to_numpy(view)))
    return _original_to_type(self, parser, type)


def install() -> None:
    if _Element.to_type is not _to_type:
        _Element.to_type = _to_type

"""MLIR (xDSL) types -> the dtype names of ``mixpe.reference.dtypes``.

The one place that reads an IR element type as a program dtype name, shared by the compiler
passes and the backend.  Kept apart from ``dtypes`` so the numpy reference core stays free
of xDSL: only this module imports it.
"""

from __future__ import annotations

from xdsl.dialects.builtin import AnyFloat, IndexType, IntegerType, TensorType
from xdsl.ir import Attribute


def dtype_name(mlir_type: Attribute) -> str:
    """Element type (or a tensor's element type) -> dtype name: integers ``iN`` (signless
    integers are read as signed), floats their own name (``f16``, ``bf16``, ...), ``index``
    ``i64``.  Raises ValueError for any other type."""
    t = mlir_type
    if isinstance(t, TensorType):
        t = t.get_element_type()
    if isinstance(t, IntegerType):
        return f"i{t.width.data}"
    if isinstance(t, IndexType):
        return "i64"
    if isinstance(t, AnyFloat):
        return str(t)
    raise ValueError(f"unsupported element type {t}")

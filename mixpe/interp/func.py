"""`func.call`: a fresh frame per call."""

from __future__ import annotations



from mixpe.interp.core import _fail, _op


# --- func ------------------------------------------------------------------------------------


@_op("func.call")
def _call(interp, op, vals):
    name = op.callee.root_reference.data
    if name not in interp.funcs:
        raise _fail(op, f"callee @{name} not found in the module")
    return interp.call(interp.funcs[name], vals)


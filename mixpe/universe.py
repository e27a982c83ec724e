"""Registers mixpe's dialect, passes and targets with xDSL (entry point `xdsl.universe`).

Stock `xdsl-opt` imports this module while it collects plugins, so the
`linalg.matmul` correction (see `mixpe.dialects.linalg_compat`) is installed here:
frontend IR with f16 x f16 -> f32 matmuls then parses with `xdsl-opt` too.
"""

from xdsl.universe import Universe

from mixpe.dialects import linalg_compat

linalg_compat.install()


def _mixpe_dialect():
    from mixpe.dialects.mixpe import Mixpe

    return Mixpe


def _hoist_dequant():
    from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass

    return MixpeHoistDequantPass


def _raise():
    from mixpe.transforms.mixpe_raise import MixpeRaisePass

    return MixpeRaisePass


MIXPE_UNIVERSE = Universe(
    all_dialects={"mixpe": _mixpe_dialect},
    all_passes={"mixpe-raise": _raise, "mixpe-hoist-dequant": _hoist_dequant},
    all_targets={},
)

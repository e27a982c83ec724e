"""Registers mixpe's dialect, passes and targets with xDSL (entry point `xdsl.universe`).

Stock `xdsl-opt` imports this module while it collects plugins, so the
`linalg.matmul` correction (see `mixpe.dialects.linalg_compat`) is installed here:
frontend IR with f16 x f16 -> f32 matmuls then parses with `xdsl-opt` too.
Everything else is imported lazily, only when a tool asks for it.
"""

from importlib import import_module

from xdsl.universe import Universe

from mixpe.dialects import linalg_compat

linalg_compat.install()


def _lazy(module: str, attr: str):
    return lambda: getattr(import_module(module), attr)


# One row per registered object: name -> (module, attribute).
DIALECTS = {
    "mixpe": ("mixpe.dialects.mixpe", "Mixpe"),
    # torch-mlir's TMTensor (topk/sort), which linalg-on-tensors exports keep
    "tm_tensor": ("mixpe.dialects.tm_tensor", "TMTensor"),
}
PASSES = {
    "mixpe-raise": ("mixpe.transforms.mixpe_raise", "MixpeRaisePass"),
    "mixpe-hoist-dequant": ("mixpe.transforms.mixpe_hoist_dequant", "MixpeHoistDequantPass"),
    "mixpe-lower-to-linalg": ("mixpe.transforms.mixpe_lower_to_linalg", "MixpeLowerToLinalgPass"),
    "mixpe-shift-add": ("mixpe.transforms.mixpe_shift_add", "MixpeShiftAddPass"),
    "mixpe-tile": ("mixpe.transforms.mixpe_tile", "MixpeTilePass"),
    "mixpe-pipeline": ("mixpe.transforms.mixpe_pipeline", "MixpePipelinePass"),
}
TARGETS = {
    "mixpe-sim": ("mixpe.backend.mixpe_sim", "MixpeSimTarget"),
    "irdl": ("mixpe.backend.irdl", "IRDLTarget"),
}

MIXPE_UNIVERSE = Universe(
    all_dialects={k: _lazy(*v) for k, v in DIALECTS.items()},
    all_passes={k: _lazy(*v) for k, v in PASSES.items()},
    all_targets={k: _lazy(*v) for k, v in TARGETS.items()},
)

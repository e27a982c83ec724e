"""Moved to ``mixpe.hw.hardware`` (the compiler and the simulator both use it); this name is
kept so existing imports keep working."""

from mixpe.hw.hardware import (  # noqa: F401
    PRESET_DIR,
    Hardware,
    HardwareError,
    default_preset,
    list_presets,
    load_hardware,
    read_table,
)

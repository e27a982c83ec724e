"""Hardware descriptions and the cost interface the compiler needs.

What both the compiler (mixpe-tile) and the simulator build on: sourced hardware files and
presets (``hardware``, ``presets/*.toml``), dataflows (``dataflow/``), precision rules
(``precision``), energy accounting (``energy``), cost result types (``results``) and the
tile search (``tiling``).  This package imports nothing from mixpe.simulator, transforms,
backend, tools or eval; the cost modes themselves live in ``mixpe.simulator.cost_*``.
"""

from .dataflow import DATAFLOWS, Dataflow, ceil_div
from .energy import BUFFERS, ActionCounts, Energy, EnergyRow, energy_of, energy_table, pe_op_kind
from .hardware import (
    PRESET_DIR,
    Hardware,
    HardwareError,
    default_preset,
    list_presets,
    load_hardware,
    read_table,
)
from .precision import Prec, pe_act_bits
from .results import CostSummary, GemmCost, VectorCost, combine
from .tiling import ORDERS, TileChoice, choose_tile

__all__ = [
    "ActionCounts", "BUFFERS", "CostSummary", "DATAFLOWS", "Dataflow", "Energy", "EnergyRow",
    "GemmCost", "Hardware", "HardwareError", "ORDERS", "PRESET_DIR", "Prec", "TileChoice",
    "VectorCost", "ceil_div", "choose_tile", "combine", "default_preset", "energy_of",
    "energy_table", "list_presets", "load_hardware", "pe_act_bits", "pe_op_kind", "read_table",
]

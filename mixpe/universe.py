"""Registers mixpe's dialect, passes and targets with xDSL (entry point `xdsl.universe`)."""

from xdsl.universe import Universe

MIXPE_UNIVERSE = Universe(all_dialects={}, all_passes={}, all_targets={})

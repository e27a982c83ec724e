"""Dataflows by name.  A new dataflow is one new file plus one line here."""

from .base import Dataflow, Streams, TileCycles, ceil_div
from .nfold import NFold
from .os import OutputStationary
from .ws import WeightStationary

DATAFLOWS: dict[str, Dataflow] = {df.name: df for df in (OutputStationary(), WeightStationary(), NFold())}

__all__ = ["DATAFLOWS", "Dataflow", "Streams", "TileCycles", "ceil_div"]

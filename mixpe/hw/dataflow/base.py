"""The interface every dataflow implements (one class per file, as in SCALE-Sim).

A dataflow maps one tile of a GEMM, ``Y[m, n] = sum_k X[m, k] * W[k, n]``, onto an R x C
systolic array as a sequence of *folds* (one array-sized piece at a time) and says how many
cycles each fold takes, including the pipeline fill/drain of the skewed wavefront.  Folds of a
tile are padded to the full array, as a fixed-schedule controller (and SCALE-Sim) does.

``passes`` is the number of bit-serial passes (8-bit weights on a 4-bit PE: 2); ``pack_rows`` /
``pack_cols`` are BitFusion-style packing factors that make one physical row/column serve
several logical ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, NamedTuple, overload

if TYPE_CHECKING:  # numpy only for the array overload; the dataflows themselves are pure ints
    import numpy as np


class TileCycles(NamedTuple):
    folds: int
    compute: int  # streaming cycles: one operand wavefront per cycle
    fill_drain: int  # pipeline skew: cycles the wavefront spends entering and leaving


class Streams(NamedTuple):
    """Operand elements moved between the SRAMs and the array for one tile."""

    act_elems: int  # activation elements read from the activation buffer
    weight_elems: int  # weight elements read from the weight buffer
    psum_visits: int  # times each output element is written to the output buffer


@overload
def ceil_div(a: int, b: int) -> int: ...
@overload
def ceil_div(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray: ...
def ceil_div(a, b):
    """Ceiling of a / b for ints, or elementwise for integer arrays (the paper mode's search)."""
    return -(-a // b)


class Dataflow(ABC):
    name: ClassVar[str]
    formula: ClassVar[str]  # the per-fold closed form, for reports and docs

    @abstractmethod
    def tile_cycles(
        self, rows: int, cols: int, m: int, n: int, k: int,
        *, passes: int = 1, pack_rows: int = 1, pack_cols: int = 1, groups: int = 1,
    ) -> TileCycles:
        """Cycles for an m x n x k tile.  ``groups``: row stacks of a regrouping dataflow
        (``nfold``); the others ignore it."""

    @abstractmethod
    def streams(
        self, rows: int, cols: int, m: int, n: int, k: int,
        *, pack_rows: int = 1, pack_cols: int = 1, groups: int = 1,
    ) -> Streams:
        """SRAM-side operand traffic of an m x n x k tile (elements, not bits)."""

    def fold_channels(self, rows: int, cols: int, m: int, groups: int = 1, pack_rows: int = 1,
                      pack_cols: int = 1) -> int:
        """Output channels one fold covers for a tile of m token rows."""
        return cols * pack_cols

    def usable_groups(self, rows: int, m: int, groups: int, pack_rows: int = 1) -> int:
        """Row stacks a tile of m token rows actually uses (1 unless the dataflow regroups)."""
        return 1

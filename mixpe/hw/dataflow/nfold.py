"""N folded over rows: output-stationary for skinny GEMMs (decode, GEMV).

With tokens on rows, a decode GEMM (M = 1..8) keeps only M of the R rows busy, so the array
runs at M*C MACs per cycle however fast the weights arrive.  A decode accelerator packs the
rows instead: each column holds a run of outputs ordered channel-major, token-minor
((n0, m0), (n0, m1), ..., (n1, m0), ...), so the R rows of a column serve several output
channels, each in a *segment* of m rows with its own weight input.  Activations are broadcast
to every segment; every segment needs its own weight stream, so the weight buffer delivers up
to ``groups`` weights per column per cycle, and ``groups`` is a hardware figure
(``sram.weight_port_bits``, see ``mixpe.hw.tiling.weight_groups``), not a free choice.  With
m token rows and H = min(R, groups * m) outputs per column per fold:

    folds           = ceil(m * ceil(n / pack_cols) / (H * C))
    cycles per fold = ceil(k / pack_rows) * passes + m + C - 2   (a segment's skew: m + C - 2)

When m >= R there is no room for a second segment and this is exactly ``os``.  Packed PEs
(BitFusion-style, pack factors > 1) pack the K dimension instead of the rows here: a fused unit
takes ``pack_rows`` k-steps of one token per cycle (its bricks' products summed in its adder
tree, ``pack_cols`` channels side by side), so a segment stays m rows deep and the stream is
ceil(k / pack_rows) long - odd token counts then waste no half-empty packed row.  Segment
boundaries fall anywhere (a channel may be split between two columns or folds, its weights
then streamed twice), so M need not divide R: 7 tokens fill 32 rows as well as 8 do.
``mixpe.simulator.cycle_stepped.simulate_nfold`` checks the closed form.
"""

from __future__ import annotations

from .base import Dataflow, Streams, TileCycles, ceil_div
from .os import OutputStationary

_OS = OutputStationary()


class NFold(Dataflow):
    name = "nfold"
    formula = "ceil(m*n/(H*C)) folds x (k*passes + m + C - 2), H = min(R, groups*m), m < R"

    @staticmethod
    def column_outputs(rows: int, m: int, groups: int) -> int:
        """H: outputs one column holds per fold."""
        return min(rows, max(1, groups) * m)

    def fold_channels(self, rows, cols, m, groups=1, pack_rows=1, pack_cols=1):
        if m >= rows:
            return cols * pack_cols
        return max(1, self.column_outputs(rows, m, groups) * cols // m) * pack_cols

    def _folds(self, rows: int, cols: int, m: int, n: int, groups: int, pack_cols: int) -> int:
        """ceil(m * ceil(n / pack_cols) / (H * C)) for a skinny tile (m < R)."""
        return ceil_div(m * ceil_div(n, pack_cols), self.column_outputs(rows, m, groups) * cols)

    def usable_groups(self, rows: int, m: int, groups: int, pack_rows: int = 1) -> int:
        return 1 if m >= rows else ceil_div(self.column_outputs(rows, m, groups), m)

    def tile_cycles(self, rows, cols, m, n, k, *, passes=1, pack_rows=1, pack_cols=1, groups=1):
        if m >= rows:
            return _OS.tile_cycles(rows, cols, m, n, k, passes=passes, pack_rows=pack_rows, pack_cols=pack_cols)
        folds = self._folds(rows, cols, m, n, groups, pack_cols)
        return TileCycles(folds, folds * ceil_div(k, pack_rows) * passes, folds * (m + cols - 2))

    def streams(self, rows, cols, m, n, k, *, pack_rows=1, pack_cols=1, groups=1):
        if m >= rows:
            return _OS.streams(rows, cols, m, n, k, pack_rows=pack_rows, pack_cols=pack_cols)
        h = self.column_outputs(rows, m, groups)
        nc = ceil_div(n, pack_cols)
        folds = self._folds(rows, cols, m, n, groups, pack_cols)
        # A channel split by a column or fold boundary streams its weights into both parts.
        splits = 0 if h % m == 0 else min(nc, folds * cols - 1)
        return Streams(act_elems=folds * m * k, weight_elems=(n + splits * pack_cols) * k, psum_visits=1)

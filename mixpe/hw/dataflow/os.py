"""Output-stationary dataflow: tokens (M) on rows, output channels (N) on columns, K streams.

Each PE owns one output and accumulates it in place.  X[i, k] enters row i at cycle i + k and
moves right; W[k, j] enters column j at cycle j + k and moves down; they meet in PE(i, j) at
cycle i + j + k.  The last product of a fold is therefore made at cycle (R-1) + (C-1) + (K-1):

    cycles per fold = K + R + C - 2          (K streaming + R + C - 2 fill/drain)

which is SCALE-Sim's OS convention; SCALE-Sim reports folds * (K + R + C - 2) - 1 in total.
Results leave through shadow registers while the next fold runs, so no extra drain is charged.
Bit-serial weights stream K once per pass inside the same fold (partial sums stay in the PE).
"""

from __future__ import annotations

from .base import Dataflow, Streams, TileCycles, ceil_div


class OutputStationary(Dataflow):
    name = "os"
    formula = "ceil(m/R)*ceil(n/C) folds x (k*passes + R + C - 2)"

    def tile_cycles(self, rows, cols, m, n, k, *, passes=1, pack_rows=1, pack_cols=1, groups=1):
        folds = ceil_div(m, rows * pack_rows) * ceil_div(n, cols * pack_cols)
        return TileCycles(folds, folds * k * passes, folds * (rows + cols - 2))

    def streams(self, rows, cols, m, n, k, *, pack_rows=1, pack_cols=1, groups=1):
        # Each column fold re-streams the activations; each row fold re-streams the weights.
        return Streams(
            act_elems=ceil_div(n, cols * pack_cols) * m * k,
            weight_elems=ceil_div(m, rows * pack_rows) * n * k,
            psum_visits=1,
        )

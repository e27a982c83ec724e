"""Weight-stationary dataflow: a K x N block of weights is pinned (k on rows, n on columns).

A fold first shifts its R x C weight block down into the PEs (R cycles, not overlapped).  Then the
m activation rows stream: X[t, r] enters row r at cycle R + t + r and moves right; partial sums
move down and leave the bottom of column j at cycle R + t + (R-1) + j.  The last result of a
fold leaves at cycle R + (m-1) + (R-1) + (C-1):

    cycles per fold = 2R + C + m - 2         (m streaming + 2R + C - 2 load/fill/drain)

SCALE-Sim's paper (Samajdar et al., 2018) writes the same 2*Sr + Sc + T - 2 with T = m.  Folds
tile K by R and N by C; partial sums of different K folds meet in the output buffer.  Each
bit-serial weight pass is a separate fold (a separate weight load).
"""

from __future__ import annotations

from .base import Dataflow, Streams, TileCycles, ceil_div


class WeightStationary(Dataflow):
    name = "ws"
    formula = "ceil(k/R)*ceil(n/C)*passes folds x (2R + C + m - 2)"

    def tile_cycles(self, rows, cols, m, n, k, *, passes=1, pack_rows=1, pack_cols=1, groups=1):
        folds = ceil_div(k, rows * pack_rows) * ceil_div(n, cols * pack_cols) * passes
        return TileCycles(folds, folds * m, folds * (2 * rows + cols - 2))

    def streams(self, rows, cols, m, n, k, *, pack_rows=1, pack_cols=1, groups=1):
        return Streams(
            act_elems=ceil_div(n, cols * pack_cols) * m * k,
            weight_elems=k * n,
            psum_visits=ceil_div(k, rows * pack_rows),
        )

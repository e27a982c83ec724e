"""N folded over rows: output-stationary for skinny GEMMs (decode, GEMV).

With tokens on rows, a decode GEMM (M = 1..8) keeps only M of the R rows busy, so the array
runs at M*C MACs per cycle however fast the weights arrive.  A decode accelerator regroups the
rows instead: the R rows become ``groups`` stacks of ``mr = ceil(m / pack_rows)`` token rows,
each stack an mr x C output-stationary array working on its own slice of the output channels.
A fold then covers ``groups * C`` output channels at once:

    cycles per fold = k * passes + mr + C - 2     (each stack's skew is its own, mr + C - 2)
    folds           = ceil(m / (R * pack_rows)) * ceil(n / (C * pack_cols * groups))

Activations are broadcast to every stack (read once from the activation buffer per fold);
every stack needs its own weights, so the weight buffer delivers ``groups * C`` weights per
cycle.  How many stacks a design can feed is therefore a hardware figure
(``sram.weight_port_bits``, see ``max_groups``), not a free choice.  With ``groups = 1`` (or
m >= R) this is exactly ``os``.  ``mixpe.simulator.cycle_stepped.simulate_nfold`` checks it.
"""

from __future__ import annotations

from .base import Dataflow, Streams, TileCycles, ceil_div


class NFold(Dataflow):
    name = "nfold"
    formula = "ceil(m/R)*ceil(n/(C*groups)) folds x (k*passes + mr + C - 2), mr = min(R, m)"

    @staticmethod
    def stack_rows(rows: int, m: int, pack_rows: int = 1) -> int:
        return min(rows, ceil_div(m, pack_rows))

    def usable_groups(self, rows: int, m: int, groups: int, pack_rows: int = 1) -> int:
        """Stacks of the tile's token rows that fit in R rows, at most `groups`."""
        return max(1, min(groups, rows // self.stack_rows(rows, m, pack_rows)))

    def tile_cycles(self, rows, cols, m, n, k, *, passes=1, pack_rows=1, pack_cols=1, groups=1):
        g = self.usable_groups(rows, m, groups, pack_rows)
        mr = self.stack_rows(rows, m, pack_rows)
        folds = ceil_div(m, rows * pack_rows) * ceil_div(n, cols * pack_cols * g)
        return TileCycles(folds, folds * k * passes, folds * (mr + cols - 2))

    def streams(self, rows, cols, m, n, k, *, pack_rows=1, pack_cols=1, groups=1):
        g = self.usable_groups(rows, m, groups, pack_rows)
        return Streams(
            act_elems=ceil_div(n, cols * pack_cols * g) * m * k,
            weight_elems=ceil_div(m, rows * pack_rows) * n * k,
            psum_visits=1,
        )

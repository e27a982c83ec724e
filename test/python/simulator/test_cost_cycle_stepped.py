"""The analytical dataflows must equal the cycle-stepped array model exactly."""

import numpy as np
from hypothesis import given, settings, strategies as st

from mixpe.hw.dataflow import DATAFLOWS
from mixpe.simulator.cycle_stepped import simulate

dims = st.integers(1, 9)
arr = st.integers(1, 5)


@settings(max_examples=60, deadline=None)
@given(df=st.sampled_from(sorted(DATAFLOWS)), m=dims, n=dims, k=dims, rows=arr, cols=arr,
       seed=st.integers(0, 2**16))
def test_analytical_equals_cycle_stepped(df, m, n, k, rows, cols, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-8, 8, (m, k))
    w = rng.integers(-8, 8, (k, n))
    stepped = simulate(df, x, w, rows, cols)
    model = DATAFLOWS[df].tile_cycles(rows, cols, m, n, k)
    assert stepped.cycles == model.compute + model.fill_drain
    assert (stepped.output == x @ w).all()  # the stepped model really computes the GEMM


def test_closed_forms_per_fold():
    # One fold each: OS is K + R + C - 2, WS is 2R + C + M - 2 (derivations in the docstrings).
    os_, ws = DATAFLOWS["os"], DATAFLOWS["ws"]
    R, C, M, N, K = 4, 3, 4, 3, 7
    assert sum(os_.tile_cycles(R, C, M, N, K)[1:]) == K + R + C - 2
    assert sum(ws.tile_cycles(R, C, M, N, R)[1:]) == 2 * R + C + M - 2

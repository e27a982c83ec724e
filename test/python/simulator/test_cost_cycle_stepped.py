"""The analytical dataflows must equal the cycle-stepped array model exactly."""

import numpy as np
from hypothesis import given, settings, strategies as st

from mixpe.hw.dataflow import DATAFLOWS
from mixpe.simulator.cycle_stepped import simulate

dims = st.integers(1, 9)
arr = st.integers(1, 5)


@settings(max_examples=60, deadline=None)
@given(df=st.sampled_from(sorted(DATAFLOWS)), m=dims, n=dims, k=dims, rows=arr, cols=arr,
       groups=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_analytical_equals_cycle_stepped(df, m, n, k, rows, cols, groups, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-8, 8, (m, k))
    w = rng.integers(-8, 8, (k, n))
    stepped = simulate(df, x, w, rows, cols, groups)
    model = DATAFLOWS[df].tile_cycles(rows, cols, m, n, k, groups=groups)
    assert stepped.cycles == model.compute + model.fill_drain
    assert (stepped.output == x @ w).all()  # the stepped model really computes the GEMM


def test_closed_forms_per_fold():
    # One fold each: OS is K + R + C - 2, WS is 2R + C + M - 2 (derivations in the docstrings).
    os_, ws = DATAFLOWS["os"], DATAFLOWS["ws"]
    R, C, M, N, K = 4, 3, 4, 3, 7
    assert sum(os_.tile_cycles(R, C, M, N, K)[1:]) == K + R + C - 2
    assert sum(ws.tile_cycles(R, C, M, N, R)[1:]) == 2 * R + C + M - 2


def test_nfold_is_os_when_tokens_fill_the_rows():
    # m >= R leaves no room for a second stack: nfold is exactly output-stationary.
    os_, nf = DATAFLOWS["os"], DATAFLOWS["nfold"]
    for m in (4, 5, 9):
        assert nf.tile_cycles(4, 3, m, 10, 7, groups=8) == os_.tile_cycles(4, 3, m, 10, 7)
        assert nf.streams(4, 3, m, 10, 7, groups=8) == os_.streams(4, 3, m, 10, 7)


def test_nfold_decode_uses_every_stack():
    # One token on a 32 x 37 array with 13 stacks: a fold covers 13 * 37 = 481 channels, each
    # stack is 1 row deep (fill/drain 1 + 37 - 2), and each activation is read once per fold.
    nf = DATAFLOWS["nfold"]
    tc = nf.tile_cycles(32, 37, 1, 4096, 128, groups=13)
    folds = -(-4096 // 481)
    assert tc == (folds, folds * 128, folds * 36)
    assert nf.streams(32, 37, 1, 4096, 128, groups=13) == (folds * 128, 4096 * 128, 1)
    # Against tokens on rows (os): 1 of 32 rows busy, 4096/37 folds.
    assert DATAFLOWS["os"].tile_cycles(32, 37, 1, 4096, 128).compute == -(-4096 // 37) * 128

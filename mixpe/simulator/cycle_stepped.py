"""A cycle-stepped reference model of the systolic array, to check the closed forms.

It moves real operands through per-PE registers one cycle at a time, computes the GEMM, and
counts cycles until the last result is produced.  It is slow (numpy per cycle) and meant only
for small shapes in tests: the analytical dataflows must agree with it exactly.

Conventions shared with ``mixpe/hw/dataflow/``: folds run back to back, each fold is padded to the full
R x C array (the controller streams zeros into unused rows/columns), one fold = one
array-sized piece of the GEMM.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SteppedResult(NamedTuple):
    cycles: int
    output: np.ndarray


def _pad(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    out[: a.shape[0], : a.shape[1]] = a
    return out


def simulate_os(x: np.ndarray, w: np.ndarray, rows: int, cols: int) -> SteppedResult:
    """Output-stationary: X rows skewed into array rows, W columns into array columns."""
    m, k = x.shape
    n = w.shape[1]
    y = np.zeros((m, n), dtype=np.int64)
    total = 0
    for i0 in range(0, m, rows):
        for j0 in range(0, n, cols):
            xa = _pad(x[i0 : i0 + rows], (rows, k))
            wb = _pad(w[:, j0 : j0 + cols], (k, cols))
            a = np.zeros((rows, cols), dtype=np.int64)  # operand registers moving right
            b = np.zeros((rows, cols), dtype=np.int64)  # operand registers moving down
            acc = np.zeros((rows, cols), dtype=np.int64)
            done = np.zeros((rows, cols), dtype=np.int64)  # products made per PE
            a_valid = np.zeros((rows, cols), dtype=bool)
            b_valid = np.zeros((rows, cols), dtype=bool)
            t = 0
            while not (done == k).all():
                a[:, 1:], a_valid[:, 1:] = a[:, :-1].copy(), a_valid[:, :-1].copy()
                b[1:, :], b_valid[1:, :] = b[:-1, :].copy(), b_valid[:-1, :].copy()
                for r in range(rows):  # row r is skewed by r cycles
                    kk = t - r
                    a_valid[r, 0] = 0 <= kk < k
                    a[r, 0] = xa[r, kk] if a_valid[r, 0] else 0
                for c in range(cols):
                    kk = t - c
                    b_valid[0, c] = 0 <= kk < k
                    b[0, c] = wb[kk, c] if b_valid[0, c] else 0
                fire = a_valid & b_valid
                acc += np.where(fire, a * b, 0)
                done += fire
                t += 1
            total += t
            y[i0 : i0 + rows, j0 : j0 + cols] = acc[: min(rows, m - i0), : min(cols, n - j0)]
    return SteppedResult(total, y)


def simulate_ws(x: np.ndarray, w: np.ndarray, rows: int, cols: int) -> SteppedResult:
    """Weight-stationary: W[k0:k0+R, j0:j0+C] pinned, all m activation rows stream through."""
    m, k = x.shape
    n = w.shape[1]
    y = np.zeros((m, n), dtype=np.int64)
    total = 0
    for k0 in range(0, k, rows):
        for j0 in range(0, n, cols):
            wf = _pad(w[k0 : k0 + rows, j0 : j0 + cols], (rows, cols))
            xf = _pad(x[:, k0 : k0 + rows], (m, rows))
            # Weight load: rows shift down from the top, bottom row first.
            wreg = np.zeros((rows, cols), dtype=np.int64)
            t = 0
            for step in range(rows):
                wreg[1:] = wreg[:-1].copy()
                wreg[0] = wf[rows - 1 - step]
                t += 1
            assert (wreg == wf).all()
            a = np.zeros((rows, cols), dtype=np.int64)
            a_valid = np.zeros((rows, cols), dtype=bool)
            psum = np.zeros((rows, cols), dtype=np.int64)
            out_seen = np.zeros(cols, dtype=np.int64)  # results that left each column
            s = 0
            while not (out_seen == m).all():
                a[:, 1:], a_valid[:, 1:] = a[:, :-1].copy(), a_valid[:, :-1].copy()
                for r in range(rows):
                    tt = s - r
                    a_valid[r, 0] = 0 <= tt < m
                    a[r, 0] = xf[tt, r] if a_valid[r, 0] else 0
                above = np.vstack([np.zeros((1, cols), dtype=np.int64), psum[:-1]])
                psum = above + np.where(a_valid, a * wreg, 0)
                for c in np.nonzero(a_valid[rows - 1])[0]:  # bottom row emits a result
                    tt = s - (rows - 1) - c
                    if j0 + c < n:  # padded columns compute zeros
                        y[tt, j0 + c] += psum[rows - 1, c]
                    out_seen[c] += 1
                s += 1
            total += t + s
    return SteppedResult(total, y)


def simulate_nfold(x: np.ndarray, w: np.ndarray, rows: int, cols: int, groups: int = 1) -> SteppedResult:
    """N folded over rows: each column holds H = min(R, groups*m) outputs per fold, ordered
    channel-major, token-minor; each run of one channel's tokens is a segment with its own
    weight input.  Every segment is stepped as a one-column output-stationary array of its
    height; all C columns run (padded ones on zeros), so a fold lasts the longest segment plus
    the C - 1 cycles of column skew.  m >= R is plain output-stationary."""
    m, k = x.shape
    n = w.shape[1]
    if m >= rows:
        return simulate_os(x, w, rows, cols)
    h = min(rows, max(1, groups) * m)
    outputs = [(j, t) for j in range(n) for t in range(m)]  # channel-major, token-minor
    y = np.zeros((m, n), dtype=np.int64)
    total = 0
    for f0 in range(0, len(outputs), h * cols):
        longest = 0
        for c in range(cols):
            column = outputs[f0 + c * h : f0 + (c + 1) * h]
            segments: dict[int, list[int]] = {}
            for j, t in column:
                segments.setdefault(j, []).append(t)
            for j, toks in segments.items():
                part = simulate_os(x[toks], w[:, j : j + 1], len(toks), 1)
                y[toks, j] = part.output[:, 0]
                longest = max(longest, part.cycles)
        total += max(longest, k + m - 1) + cols - 1  # a fold is as long as a full m-row segment
    return SteppedResult(total, y)


def simulate(dataflow: str, x: np.ndarray, w: np.ndarray, rows: int, cols: int,
             groups: int = 1) -> SteppedResult:
    if dataflow == "nfold":
        return simulate_nfold(x, w, rows, cols, groups)
    return {"os": simulate_os, "ws": simulate_ws}[dataflow](x, w, rows, cols)

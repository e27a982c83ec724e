"""numpy reference semantics of the mixpe ops (docs/design.md §1), fast enough to run real layer shapes.

Shapes: X [M,K]; integer weights Q [K,N] (layout "kn") or [N,K] ("nk"); group size g divides K,
G = K/g; scales S and zero points Z are [G,N] ("kn") or [N,G] ("nk").

Exactness. For integer X the group partial sums P and activation group sums A are exact (i32).
Exact integer dot products whose bound max|x|·max|q|·g is below 2^24 are computed with float32
BLAS (every partial sum is an integer below 2^24, so float32 never rounds) — an order of
magnitude faster than numpy's integer matmul; below 2^53 float64 BLAS; otherwise int64 (and
Python ints past 2^63). For float X (f16/bf16/f32) P and A are computed in float64 and rounded
once to f32.

Float bound of the dequant epilogue (tested in test/python/reference/test_kernels.py, derived in
docs/numerics.md). With Y64 = X @ dequantize(Q,S,Z) in float64,
T[m,n] = sum_k |X[m,k]|·(|S[j,n]|·(|Q[k,n]| + |Z[j,n]|)) for `original`/`symmetric` and
sum_k |X[m,k]|·(|S[j,n]·Q[k,n]| + |Z'[j,n]|) for `rescale` (j = k // g):

    |Y - Y64| <= u_out·|Y64| + (1 + u_out)·(u_acc + 1.01·(K + G + 4)·2^-53)·T + eta_out

u_out = 2^-11 (f16), 2^-8 (bf16), 2^-24 (f32), 2^-53 (f64); u_acc = 0 for integer X, 2^-24 for
float X; eta_out = half the smallest subnormal of the output type. Overflow of the output type
gives ±inf (IEEE), as the hardware would.
"""

from __future__ import annotations

import numpy as np

from mixpe.reference.dtypes import (
    is_float,
    is_integer,
    round_to,
    to_numpy,
    type_name,
    widen_int,
)

LAYOUTS = ("kn", "nk")
ZP_MODES = ("original", "rescale", "symmetric")
ACCS = ("i32", "f32")
_I32 = (-(2**31), 2**31 - 1)


# ---------------------------------------------------------------------------------------------
# argument checking


def _layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    return layout


def _groups(K: int, group_size: int) -> int:
    if not isinstance(group_size, (int, np.integer)) or group_size <= 0 or K % group_size:
        raise ValueError(f"group_size {group_size} must be a positive divisor of K={K}")
    return K // int(group_size)


def _int_array(q, what: str) -> np.ndarray:
    """Integer view of a weight array; integral floats are accepted (torch has no int4)."""
    q = np.asarray(q)
    if is_integer(q.dtype):
        return widen_int(q)
    f = q.astype(np.float64)
    if f.size and not (np.isfinite(f).all() and (np.floor(f) == f).all()):
        raise ValueError(f"{what}: {q.dtype} storage holds non-integer values")
    return f.astype(np.int64)


def _weight_limits(weight_bits: int, signed: bool) -> tuple[int, int]:
    if not 1 <= int(weight_bits) <= 32:
        raise ValueError(f"weight_bits must be in 1..32, got {weight_bits}")
    b = int(weight_bits)
    return (-(2 ** (b - 1)), 2 ** (b - 1) - 1) if signed else (0, 2**b - 1)


def check_weight_range(q, *, weight_bits: int, signed: bool, what: str = "weights") -> np.ndarray:
    """Integer weights, after checking they fit `weight_bits` (docs/design.md §5: an out-of-range weight
    is an error, never a wrong answer)."""
    qi = _int_array(q, what)
    lo, hi = _weight_limits(weight_bits, signed)
    if qi.size:
        qmin, qmax = int(qi.min()), int(qi.max())
        if qmin < lo or qmax > hi:
            bad = qmin if qmin < lo else qmax
            idx = [int(i) for i in np.argwhere(qi == bad)[0]]
            kind = "signed" if signed else "unsigned"
            raise ValueError(
                f"{what}: value {bad} at index {idx} is outside the {kind} {weight_bits}-bit "
                f"range [{lo}, {hi}]"
            )
    return qi


def _check_acc(x: np.ndarray, acc: str) -> None:
    if acc not in ACCS:
        raise ValueError(f"acc must be one of {ACCS}, got {acc!r}")
    want = "i32" if is_integer(x.dtype) else "f32"
    if acc != want:
        raise ValueError(
            f"acc {acc} does not match {type_name(x.dtype)} activations (use {want})"
        )


def _kn(q: np.ndarray, layout: str) -> np.ndarray:
    return q if _layout(layout) == "kn" else q.T


def _gn(s, layout: str) -> np.ndarray | None:
    if s is None:
        return None
    s = np.asarray(s)
    return s if _layout(layout) == "kn" else s.T


def _absmax(a: np.ndarray) -> int:
    if not a.size:
        return 0
    return max(abs(int(a.min())), abs(int(a.max())))


def _check_fits_i32(lo: int, hi: int, what: str) -> None:
    if lo < _I32[0] or hi > _I32[1]:
        raise ValueError(f"{what}: value {lo if lo < _I32[0] else hi} overflows the i32 accumulator")


# ---------------------------------------------------------------------------------------------
# core: exact grouped products


def _compute_x(x: np.ndarray, w: np.ndarray, g: int) -> np.ndarray:
    """X in the cheapest dtype whose grouped dot products with `w` cannot round: float32 when
    the bound max|x|·max|q|·g < 2^24, float64 below 2^53, int64 below 2^63, else Python ints.
    Float X is computed in float64."""
    if not is_integer(x.dtype):
        return x.astype(np.float64)
    xi = widen_int(x)
    bound = _absmax(xi) * _absmax(w) * g
    for limit, ct in ((2**24, np.float32), (2**53, np.float64), (2**63, np.int64)):
        if bound < limit:
            return xi.astype(ct)
    return xi.astype(object)


def _psum_blocks(xc: np.ndarray, w: np.ndarray, g: int, cols: slice = slice(None)):
    """Yield (j, P_j[:, cols]) exactly; each (g, cols) weight slab is converted just in time,
    so it is still in cache for the BLAS call (cheaper than converting all weights first)."""
    wj = None
    for j in range(xc.shape[1] // g):
        ks = slice(j * g, (j + 1) * g)
        slab = w[ks, cols]
        if wj is None:
            wj = np.empty(slab.shape, dtype=xc.dtype)
        np.copyto(wj, slab, casting="unsafe")
        yield j, xc[:, ks] @ wj


def _psum_values(x: np.ndarray, w: np.ndarray, g: int, what: str = "group_psum") -> np.ndarray:
    """P [M,G,N], exact, as int32 for integer X (checked to fit) or float64 for float X."""
    M, K = x.shape
    out = np.empty((M, K // g, w.shape[1]), dtype=np.int32 if is_integer(x.dtype) else np.float64)
    with _blas_one_thread(M * K * w.shape[1]):
        for j, pj in _psum_blocks(_compute_x(x, w, g), w, g):
            if out.dtype == np.int32 and pj.dtype != np.float32 and pj.size:
                _check_fits_i32(int(pj.min()), int(pj.max()), what)
            out[:, j, :] = pj
    return out


def _blas_one_thread(work: int):
    """Pin BLAS to one thread (if threadpoolctl is installed) for big grouped GEMMs: the
    per-group GEMMs are thin (K = g), and multi-threaded OpenBLAS runs them several times
    slower than one thread. Small ones skip the ~1 ms it costs to pin."""
    if work < 1 << 22:
        import contextlib

        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _scaled_psum_sum(x: np.ndarray, w: np.ndarray, g: int, s: np.ndarray, acc: str) -> np.ndarray:
    """float64 sum_j S_j ⊙ P_j without materialising P: the fused MixPE epilogue.

    With BLAS pinned to one thread (threadpoolctl), large GEMMs are split by output columns
    over threads instead (numpy and BLAS release the GIL); every column is computed in the
    same order either way, so results are bit-identical.
    """
    M, N = x.shape[0], w.shape[1]
    xc = _compute_x(x, w, g)
    y = np.zeros((M, N))

    def columns(cols: slice) -> None:
        yc = np.zeros((M, cols.stop - cols.start))
        for j, pj in _psum_blocks(xc, w, g, cols):
            if acc == "f32":
                pj = pj.astype(np.float32)
            elif pj.dtype != np.float32:
                pj = _exact_i32(pj, "group_psum")
            yc += np.multiply(pj, s[j, cols], dtype=np.float64)
        y[:, cols] = yc

    workers = _workers(M * N * x.shape[1], N)
    with _blas_one_thread(M * N * x.shape[1]):
        if workers == 1:
            columns(slice(0, N))
            return y
        from concurrent.futures import ThreadPoolExecutor

        step = -(-N // workers)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(columns, [slice(c, min(N, c + step)) for c in range(0, N, step)]))
    return y


def _workers(work: int, N: int) -> int:
    if work < 1 << 24 or N < 256:
        return 1
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return 1
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cpus or 1))


def _exact_i32(values: np.ndarray, what: str) -> np.ndarray:
    if values.size:
        _check_fits_i32(int(values.min()), int(values.max()), what)
    return values.astype(np.int32)


def group_psum(x, q, *, group_size: int, layout: str = "kn", acc: str = "i32") -> np.ndarray:
    """P [M,G,N]: per-group partial products, the MixPE hot loop (exact i32 / float64->f32)."""
    x = np.asarray(x)
    _check_acc(x, acc)
    w = _kn(_int_array(q, "weights"), layout)
    M, K = _check_x(x, w)
    g = K // _groups(K, group_size)
    p = _psum_values(x, w, g)
    return p if acc == "i32" else p.astype(np.float32)


def _check_x(x: np.ndarray, w: np.ndarray) -> tuple[int, int]:
    if x.ndim != 2 or w.ndim != 2:
        raise ValueError(f"expected 2-D activations and weights, got {x.shape} and {w.shape}")
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"activations {x.shape} and weights (as [K,N]) {w.shape} disagree on K")
    return x.shape


def _act_values(x: np.ndarray, g: int) -> np.ndarray:
    M, K = x.shape
    if is_integer(x.dtype):
        return widen_int(x).reshape(M, K // g, g).sum(axis=2, dtype=np.int64)
    return x.astype(np.float64).reshape(M, K // g, g).sum(axis=2)


def act_group_sum(x, *, group_size: int, acc: str = "i32") -> np.ndarray:
    """A [M,G]: activation group sums, shared by every output channel (exact i32 / f32)."""
    x = np.asarray(x)
    _check_acc(x, acc)
    if x.ndim != 2:
        raise ValueError(f"expected 2-D activations, got shape {x.shape}")
    g = x.shape[1] // _groups(x.shape[1], group_size)
    a = _act_values(x, g)
    return _exact_i32(a, "act_group_sum") if acc == "i32" else a.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# epilogue


def _scale_args(scales, zeros, zp_mode: str, layout: str, G: int, N: int):
    if zp_mode not in ZP_MODES:
        raise ValueError(f"zp_mode must be one of {ZP_MODES}, got {zp_mode!r}")
    s = _gn(scales, layout)
    assert s is not None, "the epilogue needs scales"
    if s.shape != (G, N):
        raise ValueError(f"scales have shape {np.shape(scales)}, expected {_shape_for(G, N, layout)}")
    s = _f64(s)
    z = None
    if zp_mode != "symmetric":
        if zeros is None:
            raise ValueError(f"zp_mode {zp_mode} needs zero points")
        z = _gn(zeros, layout)
        assert z is not None  # zeros is not None here
        if z.shape != (G, N):
            raise ValueError(
                f"zeros have shape {np.shape(zeros)}, expected {_shape_for(G, N, layout)}"
            )
        z = _f64(z)
    return s, z


def _shape_for(G: int, N: int, layout: str) -> tuple[int, int]:
    return (G, N) if layout == "kn" else (N, G)


def _f64(a: np.ndarray) -> np.ndarray:
    return widen_int(a).astype(np.float64)


def _epilogue_values(p: np.ndarray, a, s: np.ndarray, z, zp_mode: str) -> np.ndarray:
    """float64 Y = sum_j S_j * P_j - A @ (S*Z | Z'): O(M·G·N) work outside the hot loop."""
    M, G, N = p.shape
    y = np.zeros((M, N))
    tmp = np.empty((M, N))
    for j in range(G):
        np.multiply(p[:, j, :], s[j], out=tmp, casting="unsafe")
        y += tmp
    return y - _zero_term(a, s, z, zp_mode)


def _zero_term(a, s: np.ndarray, z, zp_mode: str):
    """sum_j A[m,j]·(S·Z)[j,n] (original) or A·Z' (rescale): one small [M,G]x[G,N] GEMM."""
    if zp_mode == "symmetric":
        return 0.0
    return widen_int(np.asarray(a)).astype(np.float64) @ (s * z if zp_mode == "original" else z)


def dequant_epilogue(p, a, scales, zeros, *, zp_mode: str, layout: str = "kn",
                     out_dtype: str = "f32") -> np.ndarray:
    """Y [M,N] from group sums: MixPE dequantizes once per group, after the integer loop."""
    p = np.asarray(p)
    if p.ndim != 3:
        raise ValueError(f"partial sums must be [M,G,N], got shape {p.shape}")
    M, G, N = p.shape
    s, z = _scale_args(scales, zeros, zp_mode, layout, G, N)
    if zp_mode != "symmetric":
        if a is None or np.shape(a) != (M, G):
            got = None if a is None else list(np.shape(a))
            raise ValueError(f"activation sums must be [M,G] = {[M, G]}, got {got}")
    out = type_name(to_numpy(out_dtype))
    if not is_float(out):
        raise ValueError(f"out_dtype must be a float type, got {out}")
    return round_to(_epilogue_values(widen_int(p), a, s, z, zp_mode), out)


def mpgemm(x, q, scales, zeros=None, *, group_size: int, weight_bits: int, signed: bool,
           zp_mode: str, layout: str = "kn", acc: str = "i32", out_dtype: str = "f32") -> np.ndarray:
    """Fused mixed-precision GEMM, defined as dequant_epilogue(group_psum, act_group_sum).

    Runs the same arithmetic without materialising P as i32 (the exact float32 values feed the
    epilogue directly), which is what makes the functional simulator fast.
    """
    x = np.asarray(x)
    _check_acc(x, acc)
    w = _kn(check_weight_range(q, weight_bits=weight_bits, signed=signed), layout)
    M, K = _check_x(x, w)
    G = _groups(K, group_size)
    g = K // G
    s, z = _scale_args(scales, zeros, zp_mode, layout, G, w.shape[1])
    a = None
    if zp_mode != "symmetric":
        a = _act_values(x, g)
        a = _exact_i32(a, "act_group_sum") if acc == "i32" else a.astype(np.float32)
    out = type_name(to_numpy(out_dtype))
    if not is_float(out):
        raise ValueError(f"out_dtype must be a float type, got {out}")
    y = _scaled_psum_sum(x, w, g, s, acc)
    return round_to(y - _zero_term(a, s, z, zp_mode), out)


# ---------------------------------------------------------------------------------------------
# float64 references for bounds


def dequantize(q, scales, zeros=None, *, group_size: int, zp_mode: str, layout: str = "kn") -> np.ndarray:
    """float64 W [K,N] the way frontends write it: (q - z)·s, q·s - z', or q·s."""
    w = _kn(_int_array(q, "weights"), layout).astype(np.float64)
    K, N = w.shape
    G = _groups(K, group_size)
    s, z = _scale_args(scales, zeros, zp_mode, layout, G, N)
    g = K // G
    s_k = np.repeat(s, g, axis=0)
    if zp_mode == "symmetric":
        return w * s_k
    assert z is not None  # _scale_args requires zero points for the other modes
    if zp_mode == "original":
        return (w - np.repeat(z, g, axis=0)) * s_k
    return w * s_k - np.repeat(z, g, axis=0)  # rescale


def reference_linear(x, w) -> np.ndarray:
    """float64 X @ W, the yardstick of the documented bound."""
    return np.asarray(x).astype(np.float64) @ np.asarray(w, dtype=np.float64)


def error_bound(x, q, scales, zeros, y64, *, group_size: int, zp_mode: str, layout: str,
                out_dtype: str) -> np.ndarray:
    """The module docstring's |Y - Y64| bound, elementwise [M,N]."""
    x = np.asarray(x)
    xa = np.abs(x.astype(np.float64))
    w = np.abs(_kn(_int_array(q, "weights"), layout).astype(np.float64))
    K, N = w.shape
    G = _groups(K, group_size)
    s, z = _scale_args(scales, zeros, zp_mode, layout, G, N)
    g = K // G
    s_k = np.abs(np.repeat(s, g, axis=0))
    z_k = np.zeros_like(w) if z is None else np.abs(np.repeat(z, g, axis=0))
    mag = s_k * w + z_k if zp_mode == "rescale" else s_k * (w + z_k)
    t = xa @ mag
    out = type_name(to_numpy(out_dtype))
    u_out = {"f16": 2.0**-11, "bf16": 2.0**-8, "f32": 2.0**-24, "f64": 2.0**-53}[out]
    eta = {"f16": 2.0**-25, "bf16": 2.0**-134, "f32": 2.0**-150, "f64": 2.0**-1075}[out]
    u_acc = 0.0 if is_integer(x.dtype) else 2.0**-24
    return u_out * np.abs(y64) + (1 + u_out) * (u_acc + 1.01 * (K + G + 4) * 2.0**-53) * t + eta


# ---------------------------------------------------------------------------------------------
# shift&add forms


def bitplanes(q, *, weight_bits: int, signed: bool, layout: str = "kn") -> np.ndarray:
    """uint8 [B,K,N] bit planes of the (two's complement) weights: the MixPE PE's view of q."""
    qi = _kn(check_weight_range(q, weight_bits=weight_bits, signed=signed), layout)
    # arithmetic >> on the signed storage reads two's complement bits directly
    return np.stack([((qi >> i) & 1).astype(np.uint8) for i in range(int(weight_bits))])


def _plane_coeffs(n_planes: int, *, signed: bool, shifts, weight_bits) -> list[int]:
    shifts = list(range(n_planes)) if shifts is None else [int(s) for s in shifts]
    if len(shifts) != n_planes:
        raise ValueError(f"{len(shifts)} shifts given for {n_planes} bit planes")
    if any(s < 0 for s in shifts) or len(set(shifts)) != len(shifts):
        raise ValueError(f"shifts must be distinct non-negative bit positions, got {shifts}")
    msb = None
    if signed:
        if weight_bits is None and shifts != list(range(n_planes)):
            raise ValueError("signed bit planes with explicit shifts need weight_bits (the MSB position)")
        msb = n_planes - 1 if weight_bits is None else int(weight_bits) - 1
        if max(shifts) > msb:
            raise ValueError(f"shift {max(shifts)} is above the sign bit {msb}")
    return [(-1 if s == msb else 1) << s for s in shifts]


def bitplane_psum(x, planes, *, group_size: int, signed: bool, shifts=None, weight_bits=None,
                  acc: str = "i32") -> np.ndarray:
    """P = sum_i c_i·2^shift_i·(X_g @ plane_i), c_i = -1 for a signed MSB: shift&add MAC.

    By linearity this is X_g @ (sum_i c_i·2^shift_i·plane_i): the planes are recombined with
    O(B·K·N) shifts and adds and then multiplied once, so it costs one GEMM, not B.
    """
    planes = widen_int(np.asarray(planes))
    if planes.ndim != 3:
        raise ValueError(f"bit planes must be [B,K,N], got shape {planes.shape}")
    if planes.size and (planes.min() < 0 or planes.max() > 1):
        raise ValueError("bit planes must hold only 0 and 1")
    coeffs = _plane_coeffs(planes.shape[0], signed=signed, shifts=shifts, weight_bits=weight_bits)
    w = np.zeros(planes.shape[1:], dtype=np.int64)
    for c, plane in zip(coeffs, planes):
        w += c * plane.astype(np.int64)
    return group_psum(x, _narrow(w), group_size=group_size, layout="kn", acc=acc)


def _narrow(w: np.ndarray) -> np.ndarray:
    """Smallest int dtype holding `w`: the per-group conversion in _psum_values is then cheaper."""
    for dt in (np.int8, np.int16, np.int32):
        lo, hi = np.iinfo(dt).min, np.iinfo(dt).max
        if not w.size or (w.min() >= lo and w.max() <= hi):
            return w.astype(dt)
    return w


def pow2_split(q, *, weight_bits: int, layout: str = "kn") -> tuple[np.ndarray, np.ndarray]:
    """(sign bool [K,N], exp uint8 [K,N]) of DenseShift weights ±2^p, p in [0, 2^(b-1)-1]."""
    b = int(weight_bits)
    if b < 2:
        raise ValueError(f"DenseShift needs weight_bits >= 2 (sign + exponent), got {b}")
    qi = _kn(_int_array(q, "weights"), layout).astype(np.int64)
    mag = np.abs(qi)
    pmax = min(2 ** (b - 1) - 1, 62)
    ok = (mag > 0) & ((mag & (mag - 1)) == 0) & (mag <= (1 << pmax))
    if not ok.all():
        idx = [int(i) for i in np.argwhere(~ok)[0]]
        raise ValueError(
            f"weights: value {int(qi[tuple(idx)])} at index {idx} is not ±2^p with p in [0, {pmax}] "
            f"({b}-bit DenseShift code)"
        )
    exp = (np.frexp(mag.astype(np.float64))[1] - 1).astype(np.uint8)
    return qi < 0, exp


def shift_psum(x, sign, exp, *, group_size: int, acc: str = "i32") -> np.ndarray:
    """P with DenseShift weights: one shift and one add/subtract per product."""
    sign = np.asarray(sign).astype(bool)
    e = widen_int(np.asarray(exp)).astype(np.int64)
    if sign.shape != e.shape:
        raise ValueError(f"sign {sign.shape} and exponent {e.shape} shapes differ")
    if e.size and (e.min() < 0 or e.max() > 62):
        raise ValueError("exponents must be in [0, 62]")
    w = np.left_shift(np.int64(1), e)
    return group_psum(x, _narrow(np.where(sign, -w, w)), group_size=group_size, layout="kn", acc=acc)


def popcount_total(q, *, weight_bits: int | None = None) -> int:
    """Set bits of bit planes (weight_bits=None) or of `weight_bits`-bit two's complement
    weights: the adds a zero-skipping bit-serial PE would do per activation row.

    Byte weights are counted in cache-sized slabs with np.bitwise_count, and the per-byte
    counts (each <= 8) are summed eight at a time by a multiply-by-0x0101.. word trick, so
    counting 16M weights costs a few ms, not a 16M-element int64 reduction.
    """
    a = widen_int(np.asarray(q))
    if weight_bits is None:
        return int(np.count_nonzero(a))
    b = int(weight_bits)
    if a.dtype.itemsize != 1 or b > 8:
        mask = (1 << b) - 1
        return int(np.bitwise_count(a.astype(np.int64) & mask).sum(dtype=np.int64))
    flat = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    mask = np.uint8((1 << b) - 1)
    total, step = 0, 1 << 19
    buf = np.empty(step, np.uint8)
    for start in range(0, flat.size, step):
        n = min(step, flat.size - start)
        chunk = buf[:n]
        np.bitwise_and(flat[start:start + n], mask, out=chunk)
        np.bitwise_count(chunk, out=chunk)
        whole = n - n % 8
        words = chunk[:whole].view(np.uint64) * np.uint64(0x0101010101010101)
        total += int((words >> np.uint64(56)).sum(dtype=np.uint64)) + int(chunk[whole:].sum())
    return total


def stable_sort(arrays, *, dim: int, key: int = 0, descending: bool = False) -> list[np.ndarray]:
    """`tm_tensor.sort` with a non-strict comparator on `arrays[key]`: every array permuted
    alike along `dim`, equal keys keeping their order (torch-mlir's bubble sort only swaps
    when the comparator says no, so it is stable)."""
    k = np.asarray(arrays[key])
    if np.issubdtype(k.dtype, np.floating) or k.dtype.kind == "V":
        k = k.astype(np.float64)
    if descending:  # stable descending: sort the reversed keys ascending, then reverse back
        n = k.shape[dim]
        order = np.flip(n - 1 - np.argsort(np.flip(k, dim), axis=dim, kind="stable"), dim)
    else:
        order = np.argsort(k, axis=dim, kind="stable")
    return [np.take_along_axis(np.asarray(a), order, axis=dim) for a in arrays]

"""Property tests of the numpy reference kernels against int64 / float64 references."""

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixpe.reference import (
    act_group_sum,
    bitplane_psum,
    bitplanes,
    coerce,
    dequant_epilogue,
    dequantize,
    error_bound,
    group_psum,
    mpgemm,
    popcount_total,
    pow2_split,
    reference_linear,
    round_to,
    shift_psum,
    to_numpy,
)
from mixpe.reference import kernels

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ACT_DTYPES = {"i8": np.int8, "f16": np.float16, "bf16": ml_dtypes.bfloat16, "f32": np.float32}


def _range(bits, signed):
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


@st.composite
def cases(draw):
    """A random quantized linear layer: shapes, grouping, bits, layout, zero-point mode."""
    G = draw(st.integers(1, 4))
    g = draw(st.sampled_from([1, 2, 4, 8, 16, 32]))
    c = dict(
        M=draw(st.integers(1, 5)), N=draw(st.integers(1, 6)), G=G, g=g, K=G * g,
        bits=draw(st.sampled_from([2, 3, 4, 8])), signed=draw(st.booleans()),
        zp_mode=draw(st.sampled_from(["original", "rescale", "symmetric"])),
        layout=draw(st.sampled_from(["kn", "nk"])),
        act=draw(st.sampled_from(list(ACT_DTYPES))),
        out=draw(st.sampled_from(["f16", "bf16", "f32"])),
        float_zero=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    rng = np.random.default_rng(c["seed"])
    M, N, K = c["M"], c["N"], c["K"]
    lo, hi = _range(c["bits"], c["signed"])
    store = np.int8 if c["signed"] else np.uint8
    q = rng.integers(lo, hi + 1, size=(K, N)).astype(store)
    if c["act"] == "i8":
        x = rng.integers(-128, 128, size=(M, K)).astype(np.int8)
    else:
        x = (rng.standard_normal((M, K)) * 4).astype(ACT_DTYPES[c["act"]])
    smax = 0.05 / 2 ** max(0, c["bits"] - 4)  # keeps |Y| well inside f16's range
    s = (rng.uniform(smax / 50, smax, (G, N)) * rng.choice([-1, 1], (G, N))).astype(np.float16)
    if c["zp_mode"] == "original" and not c["float_zero"]:
        z = rng.integers(lo, hi + 1, size=(G, N)).astype(store)
    elif c["zp_mode"] == "original":
        z = rng.uniform(-hi, hi + 1, (G, N)).astype(np.float16)
    else:  # rescale: z' is in units of the dequantized weight
        z = (rng.uniform(-1, 1, (G, N)) * (hi + 1) * smax).astype(np.float16)
    if c["zp_mode"] == "symmetric":
        z = None
    if c["layout"] == "nk":
        q, s, z = q.T.copy(), s.T.copy(), None if z is None else z.T.copy()
    c.update(x=x, q=q, s=s, z=z)
    return c


def _kn(c):
    return c["q"] if c["layout"] == "kn" else c["q"].T


def _psum64(x, qkn, g):
    M, K = x.shape
    return np.einsum("mjk,jkn->mjn", x.astype(np.int64).reshape(M, K // g, g),
                     qkn.astype(np.int64).reshape(K // g, g, -1))


@SETTINGS
@given(cases())
def test_mpgemm_within_documented_bound(c):
    kw = dict(group_size=c["g"], zp_mode=c["zp_mode"], layout=c["layout"])
    acc = "i32" if c["act"] == "i8" else "f32"
    y = mpgemm(c["x"], c["q"], c["s"], c["z"], weight_bits=c["bits"], signed=c["signed"],
               acc=acc, out_dtype=c["out"], **kw)
    assert y.dtype == to_numpy(c["out"])
    y64 = reference_linear(c["x"], dequantize(c["q"], c["s"], c["z"], **kw))
    bound = error_bound(c["x"], c["q"], c["s"], c["z"], y64, out_dtype=c["out"], **kw)
    err = np.abs(y.astype(np.float64) - y64)
    assert (err <= bound).all(), (err - bound).max()


@SETTINGS
@given(cases())
def test_mpgemm_is_epilogue_of_psum_and_act_sum(c):
    acc = "i32" if c["act"] == "i8" else "f32"
    kw = dict(zp_mode=c["zp_mode"], layout=c["layout"], out_dtype=c["out"])
    p = group_psum(c["x"], c["q"], group_size=c["g"], layout=c["layout"], acc=acc)
    a = act_group_sum(c["x"], group_size=c["g"], acc=acc)
    want = dequant_epilogue(p, a, c["s"], c["z"], **kw)
    got = mpgemm(c["x"], c["q"], c["s"], c["z"], group_size=c["g"], weight_bits=c["bits"],
                 signed=c["signed"], acc=acc, **kw)
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@SETTINGS
@given(cases())
def test_psum_and_act_sum_exact_or_rounded_once(c):
    x, g = c["x"], c["g"]
    if c["act"] == "i8":
        p = group_psum(x, c["q"], group_size=g, layout=c["layout"], acc="i32")
        assert p.dtype == np.int32
        np.testing.assert_array_equal(p, _psum64(x, _kn(c), g))
        a = act_group_sum(x, group_size=g, acc="i32")
        np.testing.assert_array_equal(a, x.astype(np.int64).reshape(c["M"], c["G"], g).sum(2))
    else:
        p = group_psum(x, c["q"], group_size=g, layout=c["layout"], acc="f32")
        assert p.dtype == np.float32
        xf = x.astype(np.float64).reshape(c["M"], c["G"], g)
        exact = np.einsum("mjk,jkn->mjn", xf, _kn(c).astype(np.float64).reshape(c["G"], g, -1))
        mag = np.einsum("mjk,jkn->mjn", np.abs(xf), np.abs(_kn(c).astype(np.float64)).reshape(c["G"], g, -1))
        assert (np.abs(p - exact) <= 2.0**-24 * np.abs(exact) + 2 * g * 2.0**-53 * mag).all()


@SETTINGS
@given(cases())
def test_shift_and_add_paths_equal_multiply(c):
    x = c["x"]
    acc = "i32" if c["act"] == "i8" else "f32"
    ref = group_psum(x, c["q"], group_size=c["g"], layout=c["layout"], acc=acc)
    planes = bitplanes(c["q"], weight_bits=c["bits"], signed=c["signed"], layout=c["layout"])
    assert planes.shape == (c["bits"], c["K"], c["N"]) and planes.dtype == np.uint8
    got = bitplane_psum(x, planes, group_size=c["g"], signed=c["signed"], acc=acc)
    np.testing.assert_array_equal(got, ref)
    assert popcount_total(planes) == popcount_total(c["q"], weight_bits=c["bits"])
    # a compiler may drop all-zero planes and pass the remaining shifts
    keep = [i for i in range(c["bits"]) if planes[i].any()]
    if keep:
        got = bitplane_psum(x, planes[keep], group_size=c["g"], signed=c["signed"], shifts=keep,
                            weight_bits=c["bits"], acc=acc)
        np.testing.assert_array_equal(got, ref)


@SETTINGS
@given(st.integers(2, 4), st.integers(1, 4), st.sampled_from([1, 4, 16]), st.integers(0, 2**32 - 1),
       st.sampled_from(["i8", "f16"]), st.sampled_from(["kn", "nk"]))
def test_pow2_path_equals_multiply(bits, G, g, seed, act, layout):
    rng = np.random.default_rng(seed)
    K, N, M = G * g, 3, 2
    w = rng.choice([-1, 1], (K, N)) * 2 ** rng.integers(0, 2 ** (bits - 1), (K, N))
    q = w.astype(np.int16) if layout == "kn" else w.T.astype(np.int16)
    x = rng.integers(-128, 128, (M, K)).astype(np.int8) if act == "i8" else \
        rng.standard_normal((M, K)).astype(np.float16)
    acc = "i32" if act == "i8" else "f32"
    sign, exp = pow2_split(q, weight_bits=bits, layout=layout)
    assert sign.dtype == np.bool_ and exp.dtype == np.uint8 and exp.max() <= 2 ** (bits - 1) - 1
    np.testing.assert_array_equal(
        shift_psum(x, sign, exp, group_size=g, acc=acc),
        group_psum(x, q, group_size=g, layout=layout, acc=acc))


@SETTINGS
@given(cases(), st.booleans())
def test_out_of_range_weights_raise(c, above):
    lo, hi = _range(c["bits"], c["signed"])
    bad = hi + 1 if above else lo - 1
    q = c["q"].astype(np.int16)
    q.flat[len(q.flat) // 2] = bad
    with pytest.raises(ValueError, match=rf"value {bad} at index .* outside the"):
        mpgemm(c["x"], q, c["s"], c["z"], group_size=c["g"], weight_bits=c["bits"],
               signed=c["signed"], zp_mode=c["zp_mode"], layout=c["layout"],
               acc="i32" if c["act"] == "i8" else "f32")
    with pytest.raises(ValueError, match="outside the"):
        bitplanes(q, weight_bits=c["bits"], signed=c["signed"], layout=c["layout"])


def test_wide_integer_paths_stay_exact():
    """Bounds past 2^24 (float64 BLAS) and 2^53 (int64) give the same exact sums."""
    rng = np.random.default_rng(1)
    x16 = rng.integers(-(2**15), 2**15, (3, 64)).astype(np.int16)
    q = rng.integers(-128, 128, (64, 5)).astype(np.int8)
    np.testing.assert_array_equal(group_psum(x16, q, group_size=64), _psum64(x16, q, 64))
    x32 = np.zeros((2, 4), np.int32)
    x32[0, 0] = 2**30
    q32 = np.ones((4, 1), np.int32) * 2**24  # bound 2^30 * 2^24 * 4 > 2^53: int64 path
    with pytest.raises(ValueError, match="overflows the i32 accumulator"):
        group_psum(x32, q32, group_size=4)
    x32[0, 0] = 3
    np.testing.assert_array_equal(group_psum(x32, q32, group_size=4)[0, 0, 0], 3 * 2**24)
    x64 = np.array([[2**40, -(2**40), 5, 0]], np.int64)  # bound > 2^63: Python-int path
    q64 = np.full((4, 1), 2**26, np.int64)
    np.testing.assert_array_equal(group_psum(x64, q64, group_size=4), [[[5 * 2**26]]])
    y = mpgemm(x64, q64, np.ones((1, 1)), None, group_size=4, weight_bits=32, signed=True,
               zp_mode="symmetric", out_dtype="f64")
    assert y[0, 0] == 5 * 2**26


def test_argument_errors():
    x = np.ones((2, 8), np.int8)
    q = np.ones((8, 3), np.int8)
    with pytest.raises(ValueError, match="positive divisor of K=8"):
        group_psum(x, q, group_size=3)
    with pytest.raises(ValueError, match="acc f32 does not match i8"):
        group_psum(x, q, group_size=4, acc="f32")
    with pytest.raises(ValueError, match="layout"):
        group_psum(x, q, group_size=4, layout="kk")
    with pytest.raises(ValueError, match="not ±2\\^p"):
        pow2_split(np.array([[3]]), weight_bits=3)
    with pytest.raises(ValueError, match="not ±2\\^p"):
        pow2_split(np.array([[16]]), weight_bits=3)
    with pytest.raises(ValueError, match="need weight_bits"):
        bitplane_psum(x, np.zeros((2, 8, 3), np.uint8), group_size=4, signed=True, shifts=[0, 2])


def test_coerce_exact_or_clear_error():
    with pytest.raises(ValueError,
                       match=r"^arg1: float32 value 0.1 at index \[0\] is not exactly representable as bf16$"):
        coerce(np.array([0.1], np.float32), "bf16", "arg1")
    assert coerce(np.array([1.5, -2.0], np.float32), "bf16", "x").dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(coerce(np.array([0, 15], np.uint8), "ui4", "q").astype(int), [0, 15])
    with pytest.raises(ValueError, match="uint8 value 16"):
        coerce(np.array([1, 16], np.uint8), "ui4", "q")
    with pytest.raises(ValueError, match="int8 value -1"):
        coerce(np.array([-1], np.int8), "ui8", "q")
    with pytest.raises(ValueError, match="value 2.5"):
        coerce(np.array([2.5]), "i8", "q")
    with pytest.raises(ValueError, match="16777217"):
        coerce(np.array([2**24 + 1], np.int64), "f32", "x")
    with pytest.raises(ValueError, match="not exactly representable as f16"):
        coerce(np.array([1e6]), "f16", "x")  # overflows to inf
    nan = coerce(np.array([np.nan, np.inf]), "f16", "x")
    assert np.isnan(nan[0]) and np.isinf(nan[1])


def test_round_to_bf16_rounds_once():
    # float64 -> float32 -> bf16 double-rounds this to 1.0; the correct answer is 1 + 2^-7
    y = np.array([1 + 2**-8 + 2**-30, -(1 + 2**-8 + 2**-30), 1 + 2**-8, 3.0e38 * 1.2])
    r = round_to(y, "bf16").astype(np.float64)
    assert r[0] == 1 + 2**-7 and r[1] == -(1 + 2**-7) and r[2] == 1.0 and math.isinf(r[3])


def test_threaded_columns_are_bit_identical(monkeypatch):
    """The column-parallel fused path computes every column in the serial order."""
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, (8, 256)).astype(np.int8)
    q = rng.integers(-8, 8, (256, 300)).astype(np.int8)
    s = rng.uniform(0.001, 0.01, (4, 300)).astype(np.float16)
    z = rng.integers(-8, 8, (4, 300)).astype(np.int8)
    kw = dict(group_size=64, weight_bits=4, signed=True, zp_mode="original", out_dtype="f32")
    serial = mpgemm(x, q, s, z, **kw)
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(kernels, "_workers", lambda work, n: 3)
    np.testing.assert_array_equal(mpgemm(x, q, s, z, **kw).view(np.uint32), serial.view(np.uint32))

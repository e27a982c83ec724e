"""`mixpe-shift-add` preserves numerics exactly, property-tested.

- Frontend linalg (`linalg_emit`) -> raise -> hoist, then shift-add: the module evaluates to
  the same numbers, bit for bit, for i8 and float activations alike. Bit-plane and shift
  partial sums are the same linear function of the weights as `group_psum`, with the same
  semantics (exact sums rounded once to the accumulator type), so float results are identical
  too, not merely close.
- `group_psum` with constant weights (dense or dense_resource; random, with zeroed planes,
  or all ±2^p), with and without `detect-pow2`, and with pow2-format runtime weights.
- Out-of-range weights are a clear error at run time, never a wrong answer.
"""

import itertools
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xdsl.parser import Parser

from mixpe.context import mixpe_context
from mixpe.frontend.linalg_emit import LinearSpec, emit, random_inputs
from strategies import linear_specs as shared_specs
from strategies import run_passes
from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass
from mixpe.transforms.mixpe_raise import MixpeRaisePass
from mixpe.transforms.mixpe_shift_add import MixpeShiftAddPass


NP = {"f16": np.float16, "bf16": ml_dtypes.bfloat16, "f32": np.float32}
_handles = itertools.count()


def run(text: str, args, passes) -> tuple[str, np.ndarray]:
    """(IR after `passes`, its first result on `args`)."""
    module, y = run_passes(text, args, passes)
    return str(module), y


def linear_specs():
    return shared_specs(groups=(16, 32, 64), max_m=4, max_n=12)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=linear_specs(), pow2=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_frontend_hoisted_and_shift_add_agree(spec, pow2, seed):
    rng = np.random.default_rng(seed)
    args = random_inputs(spec, rng)
    if pow2 and spec.signed and spec.bits >= 2:  # ±2^p runtime weights still take bit-planes
        p = rng.integers(0, spec.bits - 1, size=args[1].shape)
        args[1] = (rng.choice([-1, 1], size=p.shape) << p).astype(np.int8)
    front = [MixpeRaisePass(weight_bits=spec.bits), MixpeHoistDequantPass()]
    _, y_hoisted = run(emit(spec), args, front)
    ir, y_shift = run(emit(spec), args, [*front, MixpeShiftAddPass(detect_pow2=True)])
    assert "mixpe.bitplane_psum" in ir and "mixpe.group_psum" not in ir
    coeffs = [(-1 if spec.signed and i == spec.bits - 1 else 1) << i for i in range(spec.bits)]
    assert f"coefficients [{', '.join(map(str, coeffs))}]" in ir
    np.testing.assert_array_equal(y_hoisted, y_shift)


@pytest.mark.parametrize("name,bits", [("constant_weights_w4", 4), ("gptq_uint4_g128", 4), ("w2_g64", 2),
                                       ("w3_g128", 3), ("w4a8_int8act", 4), ("perchannel_int8_bf16", 8)])
def test_torch_inputs_shift_add_exact(name, bits):
    """Real torch-mlir files (dense_resource constants among them): identical to the hoisted form."""
    case = Path(__file__).parents[2] / "inputs" / "torch" / name
    with np.load(case.with_suffix(".npz")) as data:
        arrays = [data[f"arg{i}"] for i in range(sum(k.startswith("arg") for k in data.files))]
    wide = "bf16" in name  # bf16 arguments are stored as float32
    args = [a.astype(ml_dtypes.bfloat16) if wide and a.dtype == np.float32 else a for a in arrays]
    text = case.with_suffix(".mlir").read_text()
    front = [MixpeRaisePass(weight_bits=bits), MixpeHoistDequantPass()]
    _, y_hoisted = run(text, args, front)
    ir, y_shift = run(text, args, [*front, MixpeShiftAddPass(detect_pow2=True)])
    assert "mixpe.bitplane_psum" in ir and "mixpe.group_psum" not in ir
    np.testing.assert_array_equal(y_hoisted, y_shift)


def psum_module(w: np.ndarray, *, act: str, m: int, g: int, bits: int, signed: bool, fmt: str,
                layout: str, storage: str = "i8", resource: bool = False) -> str:
    """`func @main(x) -> P` with constant weights `w` (stored orientation)."""
    k, n = w.shape if layout == "kn" else w.shape[::-1]
    acc = "i32" if act == "i8" else "f32"
    wt = f"tensor<{w.shape[0]}x{w.shape[1]}x{storage}>"
    stored = w.astype({"i8": np.int8, "i16": np.int16}[storage])
    trailer = ""
    if resource:
        handle = f"shift_add_test_{next(_handles)}"
        value = f"dense_resource<{handle}>"
        little = stored.astype(stored.dtype.newbyteorder("<"))
        blob = stored.dtype.itemsize.to_bytes(4, "little").hex() + little.tobytes().hex()
        trailer = f'{{-#\n  dialect_resources: {{ builtin: {{ {handle}: "0x{blob}" }} }}\n#-}}\n'
    else:
        value = f"dense<{stored.tolist()}>"
    sign = "signed" if signed else "unsigned"
    return (
        f"func.func @main(%x: tensor<{m}x{k}x{act}>) -> tensor<{m}x{k // g}x{n}x{acc}> {{\n"
        f"  %w = arith.constant {value} : {wt}\n"
        f"  %p = mixpe.group_psum %x, %w group {g} bits {bits} {sign} format {fmt} layout {layout} : "
        f"(tensor<{m}x{k}x{act}>, {wt}) -> tensor<{m}x{k // g}x{n}x{acc}>\n"
        f"  func.return %p : tensor<{m}x{k // g}x{n}x{acc}>\n}}\n" + trailer
    )


def activations(rng, act: str, m: int, k: int) -> np.ndarray:
    if act == "i8":
        return rng.integers(-128, 128, size=(m, k)).astype(np.int8)
    return (rng.standard_normal((m, k)) * 4).astype(NP[act])


@st.composite
def constant_cases(draw):
    bits = draw(st.sampled_from([1, 2, 3, 4, 8]))
    signed = bits > 1 and draw(st.booleans())
    kind = draw(st.sampled_from(["random", "zero-planes", "pow2", "zeros"]))
    g = draw(st.sampled_from([4, 8, 16]))
    k, n = g * draw(st.integers(1, 3)), draw(st.integers(1, 6))
    return dict(bits=bits, signed=signed, kind=kind, g=g, k=k, n=n, m=draw(st.integers(1, 3)),
                act=draw(st.sampled_from(["i8", "f16", "bf16", "f32"])), layout=draw(st.sampled_from(["kn", "nk"])),
                resource=draw(st.booleans()), detect=draw(st.booleans()))


def constant_weights(rng, c) -> np.ndarray:
    bits, signed = c["bits"], c["signed"]
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    shape = (c["k"], c["n"]) if c["layout"] == "kn" else (c["n"], c["k"])
    q = rng.integers(lo, hi + 1, size=shape)
    if c["kind"] == "zero-planes":  # clear a random subset of bits (the sign bit included)
        q = q & ((1 << bits) - 1) & ~int(rng.integers(0, 1 << bits))
        q = np.where(signed & (q >= 1 << (bits - 1)), q - (1 << bits), q)
    elif c["kind"] == "pow2":
        p = rng.integers(0, bits - 1 if signed else bits, size=shape)  # 2^p <= hi, -2^p >= lo
        q = np.where(signed & (rng.random(shape) < 0.5), -1, 1) << p
    elif c["kind"] == "zeros":
        q = np.zeros(shape, np.int64)
    return q


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=constant_cases(), seed=st.integers(0, 2**32 - 1))
def test_constant_weights_exact(c, seed):
    rng = np.random.default_rng(seed)
    q = constant_weights(rng, c)
    text = psum_module(q, act=c["act"], m=c["m"], g=c["g"], bits=c["bits"], signed=c["signed"], fmt="int",
                       layout=c["layout"], resource=c["resource"])
    x = activations(rng, c["act"], c["m"], c["k"])
    _, before = run(text, [x], [])
    ir, after = run(text, [x], [MixpeShiftAddPass(detect_pow2=c["detect"])])
    np.testing.assert_array_equal(before, after)
    mag = np.abs(q)
    if c["detect"] and (mag > 0).all() and ((mag & (mag - 1)) == 0).all():
        assert "mixpe.shift_psum" in ir
        return
    assert "mixpe.bitplane_psum" in ir
    pattern = q & ((1 << c["bits"]) - 1)
    live = max(1, sum(1 for i in range(c["bits"]) if (pattern >> i & 1).any()))  # all-zero: plane 0
    assert ("mixpe.bitplanes" in ir) == (live == c["bits"])
    assert f"tensor<{live}x{c['k']}x{c['n']}xi1>" in ir


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bits=st.integers(2, 4), act=st.sampled_from(["i8", "f16", "bf16", "f32"]), layout=st.sampled_from(["kn", "nk"]),
       g=st.sampled_from([4, 8]), groups=st.integers(1, 3), n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_pow2_format_runtime_weights(bits, act, layout, g, groups, n, seed):
    """DenseShift weights as a function argument: pow2_split + shift_psum, exactly equal."""
    rng = np.random.default_rng(seed)
    k, pmax = g * groups, (1 << (bits - 1)) - 1
    storage = "i8" if bits <= 3 else "i16"
    shape = (k, n) if layout == "kn" else (n, k)
    q = (rng.choice([-1, 1], size=shape) << rng.integers(0, pmax + 1, size=shape)).astype(np.int16)
    text = psum_module(q, act=act, m=2, g=g, bits=bits, signed=True, fmt="pow2", layout=layout, storage=storage)
    wt = f"tensor<{shape[0]}x{shape[1]}x{storage}>"
    text = text.replace(f"(%x: tensor<2x{k}x{act}>)", f"(%x: tensor<2x{k}x{act}>, %w: {wt})")
    text = "\n".join(line for line in text.splitlines() if "arith.constant" not in line)
    x = activations(rng, act, 2, k)
    w = q.astype(np.int8 if storage == "i8" else np.int16)
    _, before = run(text, [x, w], [])
    ir, after = run(text, [x, w], [MixpeShiftAddPass()])
    assert "mixpe.pow2_split" in ir and "mixpe.shift_psum" in ir
    np.testing.assert_array_equal(before, after)


def test_out_of_range_weights_are_errors():
    """A runtime weight outside the declared range raises with its value, not a wrong P."""
    spec = LinearSpec(m=2, k=32, n=4, group=16, bits=3, signed=False, zp_mode="symmetric", layout="nk", act="f16")
    args = random_inputs(spec, np.random.default_rng(0))
    args[1][1, 5] = 9
    passes = [MixpeRaisePass(weight_bits=3), MixpeHoistDequantPass(), MixpeShiftAddPass()]
    with pytest.raises(ValueError, match=r"value 9 at index \[1, 5\] is outside the unsigned 3-bit range"):
        run(emit(spec), args, passes)
    # DenseShift: a weight that is not ±2^p
    q = np.array([[1, -2], [4, 3]], np.int8)
    text = psum_module(q, act="f32", m=1, g=2, bits=3, signed=True, fmt="pow2", layout="kn")
    text = text.replace("(%x: tensor<1x2xf32>)", "(%x: tensor<1x2xf32>, %w: tensor<2x2xi8>)")
    text = "\n".join(line for line in text.splitlines() if "arith.constant" not in line)
    with pytest.raises(ValueError, match=r"value 3 at index \[1, 1\] is not ±2\^p"):
        run(text, [np.ones((1, 2), np.float32), q], [MixpeShiftAddPass()])


def test_out_of_range_constant_is_declined(capsys):
    """Constant weights are checked at compile time: the pass leaves the op as it is."""
    q = np.array([[1, 9], [2, 3]])
    text = psum_module(q, act="i8", m=1, g=2, bits=3, signed=False, fmt="int", layout="kn")
    ctx = mixpe_context()
    module = Parser(ctx, text).parse_module()
    MixpeShiftAddPass().apply(ctx, module)
    assert "mixpe.group_psum" in str(module)
    assert "value 9 at index [0, 1] is outside the unsigned 3-bit range" in capsys.readouterr().err

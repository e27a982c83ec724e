"""`mixpe-lower-to-linalg` preserves numerics: lowered == hoisted, property-tested.

- Random quantized linears (the same strategy as test_raise_hoist_numerics.py) go
  frontend -> raise -> hoist -> lower; the lowered module holds no mixpe op and evaluates,
  in MLIR's sequential reduction order, to the hoisted module's numbers: bit-identical for
  i8 activations, within the bound of docs/numerics.md ("Lowering to linalg") for float.
- The shift&add ops are lowered from hand-built modules and compared with
  `mixpe.reference.kernels`.
- With upstream tools present, one lowered module is compiled by mlir-opt and run by
  mlir-runner, and its bits are compared with the evaluator's.
"""

import subprocess
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_raise_hoist_numerics import UNIT, reference, run, specs
from xdsl.parser import Parser

from mixpe.context import mixpe_context
from mixpe.frontend.linalg_emit import LinearSpec, emit, random_inputs
from mixpe.interp import mixpe_ops
from mixpe.interp.evaluate import evaluate
from mixpe.reference import kernels
from mixpe.transforms.mixpe_hoist_dequant import MixpeHoistDequantPass
from mixpe.transforms.mixpe_lower_to_linalg import MixpeLowerToLinalgPass
from mixpe.transforms.mixpe_raise import MixpeRaisePass

mixpe_ops.register()

ETA = {"f16": 2.0**-25, "bf16": 2.0**-134, "f32": 2.0**-150}
NP = {"f16": np.float16, "bf16": ml_dtypes.bfloat16, "f32": np.float32}


def front_half(spec: LinearSpec):
    return [MixpeRaisePass(weight_bits=spec.bits), MixpeHoistDequantPass()]


def lowered(text: str, passes=()) -> tuple[object, str]:
    """The module after `passes` and the lowering; no mixpe op may be left."""
    ctx = mixpe_context()
    module = Parser(ctx, text).parse_module()
    for p in [*passes, MixpeLowerToLinalgPass()]:
        p.apply(ctx, module)
    module.verify()
    body = str(module)
    assert "mixpe." not in body, body
    return module, body


def lowering_bound(spec: LinearSpec, y_hoist, t):
    """docs/numerics.md, "Lowering to linalg": f32 group sums accumulated in order."""
    u_out = UNIT.get(spec.out, 2.0**-24)
    gamma = 0.0 if spec.act == "i8" else 1.01 * (spec.group + 1) * 2.0**-24
    d = (gamma + 2 * (spec.groups + 4) * 2.0**-53) * t
    return 4.1 * u_out * np.abs(y_hoist.astype(np.float64)) + (1 + 2.01 * u_out) * d + 5 * ETA[spec.out]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), seed=st.integers(0, 2**32 - 1))
def test_lowered_matches_hoisted(spec, seed):
    text = emit(spec)
    args = random_inputs(spec, np.random.default_rng(seed))
    _, y_hoist = run(text, args, front_half(spec))
    module, body = lowered(text, front_half(spec))
    assert "linalg.generic" in body and "tensor.expand_shape" in body  # the group loop is kept
    y_low = evaluate(module, args, reductions="ordered")[0]
    assert y_low.dtype == y_hoist.dtype
    if spec.act == "i8":
        np.testing.assert_array_equal(y_low, y_hoist)
        return
    _, t, _ = reference(spec, args)
    err = np.abs(y_low.astype(np.float64) - y_hoist.astype(np.float64))
    bound = lowering_bound(spec, y_hoist, t)
    assert np.all(err <= bound), float((err - bound).max())


def test_mpgemm_lowers_directly():
    """mpgemm itself (no separate hoist run) lowers through its hoisted form."""
    spec = LinearSpec(m=3, k=64, n=5, group=32, bits=4, signed=False, zp_mode="original", layout="nk", act="i8",
                      style="generic")
    args = random_inputs(spec, np.random.default_rng(0))
    _, y_raised = run(emit(spec), args, [MixpeRaisePass(weight_bits=4)])
    module, _ = lowered(emit(spec), [MixpeRaisePass(weight_bits=4)])
    np.testing.assert_array_equal(evaluate(module, args)[0], y_raised)


def test_dynamic_extents():
    """Dynamic M and N are read with tensor.dim: same numbers as the mixpe ops."""
    text = """func.func @f(%x: tensor<?x64xi8>, %w: tensor<?x64xi8>, %s: tensor<?x2xf32>) -> tensor<?x?xf32> {
  %p = mixpe.group_psum %x, %w group 32 bits 8 signed format int layout nk
      : (tensor<?x64xi8>, tensor<?x64xi8>) -> tensor<?x2x?xi32>
  %y = mixpe.dequant_epilogue %p : tensor<?x2x?xi32> scales(%s : tensor<?x2xf32>) layout nk zp symmetric
      -> tensor<?x?xf32>
  func.return %y : tensor<?x?xf32>
}"""
    rng = np.random.default_rng(1)
    args = [activations(rng, "i8", (3, 64)), activations(rng, "i8", (5, 64)),
            rng.uniform(0.01, 0.1, (5, 2)).astype(np.float32)]
    expect = evaluate(Parser(mixpe_context(), text).parse_module(), args)[0]
    np.testing.assert_array_equal(run_lowered(text, args)[0], expect)


# --------------------------------------------------------------------------- shift&add forms


def _t(shape, elem):
    return "tensor<" + "x".join(map(str, shape)) + f"x{elem}>"


def _module(name: str, params: list[str], results: list[str], op_text: str) -> str:
    sig = ", ".join(f"%a{i}: {t}" for i, t in enumerate(params))
    outs = ", ".join(f"%r{i}" for i in range(len(results)))
    rtypes = ", ".join(results)
    return (
        f"func.func @{name}({sig}) -> ({rtypes}) {{\n  {outs} = {op_text} : ({', '.join(params)}) -> ({rtypes})\n"
        f"  func.return {outs} : {rtypes}\n}}\n"
    )


def run_lowered(text: str, args) -> list[np.ndarray]:
    return evaluate(lowered(text)[0], args, reductions="ordered")


def check_psum(x, p_low, p_ref, w_abs, g, planes_per_k):
    """Integer X: exact. Float X: in-order f32 sums of g·B exact terms vs one rounding."""
    if x.dtype == np.int8:
        np.testing.assert_array_equal(p_low, p_ref)
        return
    m, k = x.shape
    t = np.einsum("mjk,jkn->mjn", np.abs(x.astype(np.float64)).reshape(m, k // g, g), w_abs.reshape(k // g, g, -1))
    bound = 1.01 * (g * planes_per_k + 1) * 2.0**-24 * t
    assert np.all(np.abs(p_low.astype(np.float64) - p_ref.astype(np.float64)) <= bound)


def activations(rng, act: str, shape):
    if act == "i8":
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    return rng.standard_normal(shape).astype(NP[act])


shift_cases = st.fixed_dictionaries(
    {
        "act": st.sampled_from(["i8", "f16", "bf16", "f32"]),
        "layout": st.sampled_from(["kn", "nk"]),
        "g": st.sampled_from([4, 8, 16]),
        "groups": st.integers(1, 3),
        "m": st.integers(1, 3),
        "n": st.integers(1, 5),
        "seed": st.integers(0, 2**32 - 1),
    }
)


@settings(max_examples=20, deadline=None)
@given(case=shift_cases, signed=st.booleans(), bits=st.sampled_from([2, 4, 8]))
def test_bitplanes_and_bitplane_psum(case, signed, bits):
    rng = np.random.default_rng(case["seed"])
    g, k, n, m, layout = case["g"], case["g"] * case["groups"], case["n"], case["m"], case["layout"]
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    wshape = (k, n) if layout == "kn" else (n, k)
    q = rng.integers(lo, hi + 1, size=wshape).astype(np.int8 if signed else np.uint8)
    sign = "signed" if signed else "unsigned"
    text = _module("planes", [_t(wshape, "i8")], [_t((bits, k, n), "i1")],
                   f"mixpe.bitplanes %a0 bits {bits} {sign} layout {layout}")
    (planes,) = run_lowered(text, [q])
    want = kernels.bitplanes(q, weight_bits=bits, signed=signed, layout=layout).astype(bool)
    np.testing.assert_array_equal(planes, want)

    # drop one plane when there are several: absent planes are allowed (all-zero in constants)
    shifts = [s for s in range(bits) if bits == 2 or s != 1]
    coeffs = [(-1 if signed and s == bits - 1 else 1) << s for s in shifts]
    act = case["act"]
    acc = "i32" if act == "i8" else "f32"
    x = activations(rng, act, (m, k))
    kept = planes[shifts]
    text = _module("psum", [_t((m, k), act), _t((len(shifts), k, n), "i1")], [_t((m, k // g, n), acc)],
                   f"mixpe.bitplane_psum %a0, %a1 group {g} coefficients [{', '.join(map(str, coeffs))}]")
    (p,) = run_lowered(text, [x, kept])
    ref = kernels.bitplane_psum(x, kept, group_size=g, signed=signed, shifts=shifts, weight_bits=bits, acc=acc)
    w_abs = np.einsum("b,bkn->kn", np.abs(coeffs).astype(np.float64), kept)
    check_psum(x, p, ref, w_abs, g, len(shifts))


@settings(max_examples=20, deadline=None)
@given(case=shift_cases, bits=st.sampled_from([2, 3, 4]))
def test_pow2_split_and_shift_psum(case, bits):
    rng = np.random.default_rng(case["seed"])
    g, k, n, m, layout = case["g"], case["g"] * case["groups"], case["n"], case["m"], case["layout"]
    wshape = (k, n) if layout == "kn" else (n, k)
    pmax = (1 << (bits - 1)) - 1
    storage = "i8" if pmax < 7 else "i16"  # +-2^7 needs 9 bits
    q = (rng.choice([-1, 1], size=wshape) << rng.integers(0, pmax + 1, size=wshape)).astype(
        np.int8 if storage == "i8" else np.int16)
    text = _module("split", [_t(wshape, storage)], [_t((k, n), "i1"), _t((k, n), "i8")],
                   f"mixpe.pow2_split %a0 bits {bits} layout {layout}")
    sign, exp = run_lowered(text, [q])
    ref_sign, ref_exp = kernels.pow2_split(q, weight_bits=bits, layout=layout)
    np.testing.assert_array_equal(sign, ref_sign)
    np.testing.assert_array_equal(exp, ref_exp.astype(np.int8))

    act = case["act"]
    acc = "i32" if act == "i8" else "f32"
    x = activations(rng, act, (m, k))
    text = _module("shift", [_t((m, k), act), _t((k, n), "i1"), _t((k, n), "i8")], [_t((m, k // g, n), acc)],
                   f"mixpe.shift_psum %a0, %a1, %a2 group {g}")
    (p,) = run_lowered(text, [x, sign, exp])
    ref = kernels.shift_psum(x, sign, exp, group_size=g, acc=acc)
    check_psum(x, p, ref, np.ldexp(1.0, exp.astype(np.int64)), g, 1)


# --------------------------------------------------------------------------- upstream execution

LLVM_BIN = Path("/usr/lib/llvm-22/bin")
LLVM_LIB = Path("/usr/lib/llvm-22/lib")
RUNNER_LIBS = [LLVM_LIB / "libmlir_c_runner_utils.so.22.1", LLVM_LIB / "libmlir_runner_utils.so.22.1"]
LOWER_TO_LLVM = [
    "--convert-elementwise-to-linalg",
    "--one-shot-bufferize=bufferize-function-boundaries",
    "--convert-linalg-to-loops",
    "--convert-scf-to-cf",
    "--expand-strided-metadata",
    "--lower-affine",
    "--finalize-memref-to-llvm",
    "--convert-arith-to-llvm",
    "--convert-index-to-llvm",
    "--convert-cf-to-llvm",
    "--convert-func-to-llvm",
    "--reconcile-unrealized-casts",
]
MLIR_TYPE = {np.dtype(np.float16): "f16", np.dtype(ml_dtypes.bfloat16): "bf16", np.dtype(np.float32): "f32",
             np.dtype(np.int8): "i8", np.dtype(np.uint8): "i8"}


def _dense(a: np.ndarray) -> str:
    """An exact constant: the little-endian bytes as a hex dense literal."""
    blob = np.ascontiguousarray(a).tobytes().hex().upper()
    return f'arith.constant dense<"0x{blob}"> : {_t(a.shape, MLIR_TYPE[a.dtype])}'


def generic_text(module) -> str:
    """The module's top-level ops in generic form, the exchange format with upstream MLIR."""
    import io

    from xdsl.printer import Printer

    buf = io.StringIO()
    printer = Printer(stream=buf, print_generic_format=True)
    for op in module.ops:
        printer.print_op(op)
        buf.write("\n")
    return buf.getvalue()


def run_upstream(module, args: list[np.ndarray], out_shape, out_elem: str) -> np.ndarray:
    """Calls @main on constant inputs, prints the result's f32 bits as i32 (exact)."""
    lines = [f"  %c{i} = {_dense(a)}" for i, a in enumerate(args)]
    types = ", ".join(_t(a.shape, MLIR_TYPE[a.dtype]) for a in args)
    rt = _t(out_shape, out_elem)
    y = "%y"
    lines.append(f"  %y = func.call @main({', '.join(f'%c{i}' for i in range(len(args)))}) : ({types}) -> {rt}")
    if out_elem != "f32":
        lines.append(f"  %y32 = arith.extf %y : {rt} to {_t(out_shape, 'f32')}")
        y = "%y32"
    lines += [
        f"  %bits = arith.bitcast {y} : {_t(out_shape, 'f32')} to {_t(out_shape, 'i32')}",
        f"  %u = tensor.cast %bits : {_t(out_shape, 'i32')} to tensor<*xi32>",
        "  func.call @printMemrefI32(%u) : (tensor<*xi32>) -> ()",
        "  func.return",
    ]
    entry = "func.func @entry() {\n" + "\n".join(lines) + "\n}\nfunc.func private @printMemrefI32(tensor<*xi32>)\n"
    text = generic_text(module) + entry
    llvm = subprocess.run([str(LLVM_BIN / "mlir-opt"), *LOWER_TO_LLVM], input=text, capture_output=True, text=True,
                          check=True).stdout
    out = subprocess.run(
        [str(LLVM_BIN / "mlir-runner"), "-e", "entry", "-entry-point-result=void",
         *(f"-shared-libs={p}" for p in RUNNER_LIBS)],
        input=llvm, capture_output=True, text=True, check=True,
    ).stdout
    data = out[out.index("data =") + len("data =") :]
    words = data.replace("[", " ").replace("]", " ").replace(",", " ").split()
    ints = np.array([int(v) for v in words], dtype=np.int64)
    return ints.astype(np.int32).view(np.float32).reshape(out_shape)


@pytest.mark.mlir_opt
@pytest.mark.skipif(
    not (LLVM_BIN / "mlir-runner").exists() or not all(p.exists() for p in RUNNER_LIBS),
    reason="needs Debian's mlir-22-tools (mlir-opt, mlir-runner and the runner utils)",
)
@pytest.mark.parametrize("act", ["i8", "f16"])
def test_upstream_execution_matches_evaluator(act):
    """mlir-opt bufferizes and lowers the module to LLVM, mlir-runner runs it: the same bits
    as our evaluator in MLIR's sequential order."""
    spec = LinearSpec(m=2, k=64, n=3, group=32, bits=4, signed=False, zp_mode="original", layout="nk", act=act,
                      style="generic" if act == "i8" else "torch")
    args = random_inputs(spec, np.random.default_rng(7))
    module, _ = lowered(emit(spec), front_half(spec))
    expect = evaluate(module, args, reductions="ordered")[0]
    got = run_upstream(module, args, expect.shape, spec.out)
    np.testing.assert_array_equal(got, expect.astype(np.float32))

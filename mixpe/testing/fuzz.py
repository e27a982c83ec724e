"""End-to-end fuzz cases: a random quantized linear, compiled by the real CLIs, checked against numpy.

A `Case` is everything needed to reproduce one run (its `repr` is valid Python):

- `weights="arg"`: a frontend linalg module (`mixpe.frontend.linalg_emit`: torch-mlir, IREE-fused
  or generic style) with the weights as an argument, run by `mixpe-run --inputs --outputs`;
- `weights="gptq_i8"`: the same, but narrow unsigned values stored in i8 and read with
  `extsi`/`sitofp` (GPTQ's int8 storage, docs/design.md §5);
- `weights="const_int"`: integer weights baked in as an `arith.constant`, some bit planes all
  zero (so `mixpe-shift-add` prunes them), run by `mixpe-run`;
- `weights="const_pow2"`: DenseShift `±2^p` weights baked in as an `arith.constant`, compiled by
  `mixpe-opt -p 'mixpe-pipeline{... detect-pow2=true}' -t mixpe-sim` and run by `mixpe-sim`
  (`mixpe-run` has no `--detect-pow2` flag);
- `weights="pow2_ir"`: mixpe-level IR, a `mixpe.mpgemm ... format pow2` over `±2^p` weights,
  run by `mixpe-run`.

The hardware is a random preset whose PE takes the activation format (`compatible_presets`).

`check_case` compares the simulated result with numpy: bit-exact against
`kernels.mpgemm` for integer activations; within the bound of docs/numerics.md against
`X @ dequantize(Q)` in float64 otherwise (one output rounding for f32 results and mixpe-level
IR, two for frontends that `truncf` the f32 matmul to f16/bf16).

`draw_case(choose)` builds a case from a chooser (`choose(label, options) -> option`), so the
same generator serves hypothesis (`data.draw(sampled_from)`, with shrinking) and the seeded
benchmark (`random_case(rng)`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from mixpe.frontend.linalg_emit import INT_ACTS, LinearSpec, emit, random_inputs
from mixpe.hw import list_presets, load_hardware, pe_act_bits
from mixpe.reference import kernels
from mixpe.reference.dtypes import to_numpy
from mixpe.tools import mixpe_opt, mixpe_run, mixpe_sim

_T = TypeVar("_T")


class Chooser(Protocol):
    """Picks one of `options` for the decision `label` (random, or a hypothesis draw)."""

    def __call__(self, label: str, options: Sequence[_T], /) -> _T: ...


WEIGHT_KINDS = ("arg", "gptq_i8", "const_int", "const_pow2", "pow2_ir")


@dataclass(frozen=True)
class Case:
    spec: LinearSpec
    hw: str
    seed: int
    dataflow: str | None = None
    weights: str = "arg"  # one of WEIGHT_KINDS

    def __post_init__(self):
        if self.weights not in WEIGHT_KINDS:
            raise ValueError(f"unknown weight kind {self.weights!r}")


@dataclass
class Outcome:
    status: str  # "ok" | "mismatch" | "crash"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# ------------------------------------------------------------------------------------- hardware


def compatible_presets(act: str) -> list[str]:
    """Presets whose PEs take `act` activations in their own format (int PEs for i8/i4, float
    PEs for f16/bf16/f32) and at most their width (f32 runs on A16 PEs, costed as f16; that is
    the documented conversion, not a quantization). The simulator also accepts integer
    activations on float PEs (with a note), but docs/design.md §1 makes no such design point."""
    fmt = "int" if act in INT_ACTS else "fp"
    out = []
    for name in list_presets():
        hw = load_hardware(name)
        if hw.pe.act_format != fmt:
            continue
        if hw.pe.type != "bitfusion" and pe_act_bits(hw, act) > hw.pe.act_bits:
            continue
        out.append(name)
    return out


_PRESETS: dict[str, list[str]] = {}


def _presets(act: str) -> list[str]:
    if act not in _PRESETS:
        _PRESETS[act] = compatible_presets(act)
    return _PRESETS[act]


# ------------------------------------------------------------------------------------- generation


def draw_case(choose: Chooser) -> Case:
    weights = choose("weights", ["arg", "arg", "gptq_i8", "const_int", "const_pow2", "pow2_ir"])
    style = "generic" if weights == "pow2_ir" else choose("style", ["torch", "fused", "generic"])
    acts = ["f16", "bf16", "f32"] + ([] if style == "torch" else ["i8", "i4"])
    act = choose("act", acts)
    group = choose("group", [8, 16, 32, 64, 128])
    k = group * choose("groups", [1, 2, 3, 4])
    m = choose("m", [1, 2, 3, 4, 5, 7, 8, 16, 17])
    n = choose("n", [1, 2, 3, 5, 8, 16, 24, 33])
    layout = choose("layout", ["kn", "nk"])
    if weights == "pow2_ir":
        bits = choose("bits", [2, 3, 4])
        zp = choose("zp", ["symmetric", "rescale"])
        signed = True
    else:
        zp = choose("zp", ["original", "rescale", "symmetric"])
        bits = choose("bits", {"gptq_i8": [2, 3, 4, 5, 6, 7], "const_pow2": [2, 3, 4, 5, 8]}.get(
            weights, [1, 2, 3, 4, 5, 6, 7, 8]))
        if weights == "gptq_i8":
            if zp == "symmetric":
                zp = "original"
            signed = True  # extsi/sitofp on i8 storage, values in [0, 2^bits - 1]
        elif bits == 1:
            signed = False  # signed weights need 2 bits
        elif zp == "symmetric" or bits == 8:
            signed = choose("signed", [True, False])
        else:
            signed = False
    spec = LinearSpec(
        m=m, k=k, n=n, group=group, bits=bits, signed=signed, zp_mode=zp, layout=layout, act=act,
        style=style, int_zero_sub=zp == "original" and bool(choose("int_zero_sub", [False, True])),
    )
    hw = choose("hw", _presets(act))
    dataflow = choose("dataflow", [None, "os", "ws"])
    seed = choose("seed", range(1 << 32))
    return Case(spec, hw, int(seed), dataflow, weights)


class _RngChooser:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def __call__(self, label: str, options: Sequence[_T], /) -> _T:
        return options[int(self.rng.integers(len(options)))]


def random_case(rng: np.random.Generator) -> Case:
    return draw_case(_RngChooser(rng))


# ------------------------------------------------------------------------------------- inputs


def _pow2_values(rng, shape, bits: int, signed: bool) -> np.ndarray:
    """Zero-free ±2^p that fit `bits` in their signedness."""
    if signed:
        # {±2^p : p <= bits - 2} and -2^(bits-1)
        p = rng.integers(0, bits - 1, size=shape)
        v = np.where(rng.integers(0, 2, size=shape) == 1, -1, 1) * (1 << p)
        lo = rng.integers(0, 8, size=shape) == 0
        return np.where(lo, -(1 << (bits - 1)), v).astype(np.int64)
    return (1 << rng.integers(0, bits, size=shape)).astype(np.int64)


def _not_splat(q: np.ndarray, choices: tuple[int, int]) -> np.ndarray:
    """`q` with two distinct values at least: mixpe-raise reads a splat constant as a scalar, not
    as a weight tensor, and declines the layer (with a remark) - a known limitation, not fuzzed."""
    if q.size > 1 and (q == q.flat[0]).all():
        q = q.copy()
        q.flat[-1] = choices[0] if q.flat[0] != choices[0] else choices[1]
    return q


def _pow2_ir_values(rng, shape, bits: int) -> np.ndarray:
    """DenseShift codes: ±2^p with p in [0, 2^(bits-1) - 1]."""
    p = rng.integers(0, 1 << (bits - 1), size=shape)
    return (np.where(rng.integers(0, 2, size=shape) == 1, -1, 1) * (1 << p)).astype(np.int64)


def _pow2_storage(bits: int) -> str:
    return "i8" if (1 << (bits - 1)) + 1 <= 8 else "i16"


def case_inputs(case: Case) -> tuple[list[np.ndarray], np.ndarray]:
    """(the module's arguments in signature order, the integer weight values [as stored layout])."""
    spec = case.spec
    rng = np.random.default_rng(case.seed)
    if case.weights == "gptq_i8":
        args = random_inputs(dataclasses.replace(spec, signed=False), rng)
        args[1] = args[1].astype(np.int8)  # values < 128: same bits
        if spec.zp_mode == "original":
            args[3] = args[3].astype(np.int8)
        return args, args[1].astype(np.int64)
    args = random_inputs(spec, rng)
    if case.weights == "arg":
        return args, args[1].astype(np.int64)
    if case.weights == "const_pow2":
        q = _not_splat(_pow2_values(rng, spec.weight_shape(), spec.bits, spec.signed),
                       (1, -1) if spec.signed else (1, 2))
        return [args[0], *args[2:]], q
    if case.weights == "const_int":
        b = spec.bits
        mask = int(rng.integers(0, 1 << b))  # keep some bit planes only (two's complement bits)
        u = args[1].astype(np.int64) & ((1 << b) - 1) & mask
        q = np.where(u >= 1 << (b - 1), u - (1 << b), u) if spec.signed else u
        return [args[0], *args[2:]], _not_splat(q, (0, 1))
    # pow2_ir: the scales of random_inputs assume |q| < 2^bits; rescale them to |q| <= 2^pmax
    q = _pow2_ir_values(rng, spec.weight_shape(), spec.bits)
    pmax = (1 << (spec.bits - 1)) - 1
    store = {"i8": np.int8, "i16": np.int16}[_pow2_storage(spec.bits)]
    s = args[2]
    s = (s.astype(np.float64) * 2.0 ** (spec.bits - pmax)).astype(s.dtype)
    out = [args[0], q.astype(store), s]
    if spec.zp_mode == "rescale":
        z = rng.integers(-4, 5, size=spec.param_shape()).astype(np.float64)
        out.append((z * s.astype(np.float64)).astype(s.dtype))
    return out, q


# ------------------------------------------------------------------------------------- modules


def _const_literal(q: np.ndarray) -> str:
    stored = q.astype(np.int64)
    stored = np.where(stored >= 128, stored - 256, stored)  # i8 bits of unsigned values
    rows = ", ".join("[" + ", ".join(map(str, r)) + "]" for r in stored.tolist())
    return f"dense<[{rows}]>"


def case_module(case: Case, q: np.ndarray) -> str:
    spec = case.spec
    if case.weights in ("arg", "gptq_i8"):
        return emit(spec)
    if case.weights in ("const_pow2", "const_int"):
        text = emit(spec)
        wt = "tensor<" + "x".join(map(str, spec.weight_shape())) + "xi8>"
        text = text.replace(f"%arg1: {wt}, ", "", 1)
        head, body = text.split("{\n", 1)
        return f"{head}{{\n  %arg1 = arith.constant {_const_literal(q)} : {wt}\n{body}"
    # pow2_ir: mixpe-level IR
    def t(shape, e):
        return "tensor<" + "x".join(map(str, shape)) + f"x{e}>"

    x_t = t((spec.m, spec.k), spec.act)
    w_t = t(spec.weight_shape(), _pow2_storage(spec.bits))
    p_t = t(spec.param_shape(), spec.deq)
    y_t = t((spec.m, spec.n), spec.out)
    acc = "i32" if spec.act in INT_ACTS else "f32"
    zarg = f", %z: {p_t}" if spec.zp_mode == "rescale" else ""
    zuse = " zeros(%z)" if spec.zp_mode == "rescale" else ""
    types = ", ".join([x_t, w_t, p_t] + ([p_t] if zarg else []))
    return (
        f"func.func @main(%x: {x_t}, %w: {w_t}, %s: {p_t}{zarg}) -> {y_t} {{\n"
        f"  %y = mixpe.mpgemm %x, %w scales(%s){zuse} group {spec.group} bits {spec.bits} signed format pow2 "
        f"layout {spec.layout} zp {spec.zp_mode} acc {acc} : ({types}) -> {y_t}\n"
        f"  func.return %y : {y_t}\n}}\n"
    )


# ------------------------------------------------------------------------------------- reference


_U_OUT = {"f16": 2.0**-11, "bf16": 2.0**-8, "f32": 2.0**-24}
_ETA = {"f16": 2.0**-25, "bf16": 2.0**-134, "f32": 2.0**-150}


def _magnitude(x, q, s, z, spec: LinearSpec) -> np.ndarray:
    """T of docs/numerics.md: sum_k |x|·|s|·(|q| + |z|) (or |x|·(|s·q| + |z'|) for rescale)."""
    xa = np.abs(np.asarray(x).astype(np.float64))
    qa = np.abs(q.astype(np.float64))
    sa = np.abs(np.asarray(s).astype(np.float64))
    if spec.zp_mode == "original":
        za = np.abs(np.asarray(z).astype(np.float64))
        return xa @ kernels.dequantize(qa, sa, -za, group_size=spec.group, zp_mode="original", layout=spec.layout)
    if spec.zp_mode == "rescale":
        za = np.abs(np.asarray(z).astype(np.float64))
        return xa @ kernels.dequantize(qa, sa, -za, group_size=spec.group, zp_mode="rescale", layout=spec.layout)
    return xa @ kernels.dequantize(qa, sa, group_size=spec.group, zp_mode="symmetric", layout=spec.layout)


def expected(case: Case, args: list[np.ndarray], q: np.ndarray):
    """('exact', bits) for integer activations; ('bound', (y64, bound)) for float ones."""
    spec = case.spec
    x = args[0]
    rest = args[1:] if case.weights in ("const_pow2", "const_int") else args[2:]
    s = rest[0]
    z = rest[1] if spec.zp_mode != "symmetric" else None
    if z is not None and spec.zp_mode == "original":
        # integer zero points are read with the weights' conversion (sitofp/extsi or uitofp/extui)
        z = z.view(np.uint8).astype(np.int64) if not spec.signed else z.astype(np.int64)
    if spec.act in INT_ACTS:
        bits = max(int(np.abs(q).max()).bit_length() + 1, 2) if q.size else 2
        y = kernels.mpgemm(x, q, s, z, group_size=spec.group, weight_bits=min(bits, 32), signed=True,
                           zp_mode=spec.zp_mode, layout=spec.layout, acc="i32", out_dtype=spec.out)
        return "exact", y
    y64 = np.asarray(x).astype(np.float64) @ kernels.dequantize(
        q, s, z, group_size=spec.group, zp_mode=spec.zp_mode, layout=spec.layout)
    t = _magnitude(x, q, s, z, spec)
    K, G = spec.k, spec.groups
    u_acc = 2.0**-24
    u = _U_OUT[spec.out]
    if spec.out == "f32" or case.weights == "pow2_ir":
        # one rounding of the mpgemm result (docs/numerics.md, "The one rounding")
        bound = u * np.abs(y64) + (1 + u) * (u_acc + 1.01 * (K + G + 4) * 2.0**-53) * t + _ETA[spec.out]
    else:
        # the f32 mpgemm result, then the frontend's truncf ("Raised or hoisted vs float64")
        bound = 2 * u * np.abs(y64) + (1 + 2 * u) * (u_acc + 1.01 * (K + G + 8) * 2.0**-53) * t + 2.0**-24
    return "bound", (y64, bound)


# ------------------------------------------------------------------------------------- running


def _call(main, argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def _load_result(path: str, out: str) -> np.ndarray:
    with np.load(path, allow_pickle=False) as npz:
        y = npz["result0"]
    want = to_numpy(out)
    if y.dtype.kind == "V" and y.dtype.itemsize == want.itemsize:
        y = y.view(want)
    return y


def run_cli(case: Case, workdir: str) -> tuple[np.ndarray | None, str, list[np.ndarray], np.ndarray]:
    """Runs the case through the command-line tools; (result or None, error text, args, q)."""
    args, q = case_inputs(case)
    text = case_module(case, q)
    mlir = os.path.join(workdir, "case.mlir")
    inp = os.path.join(workdir, "in.npz")
    outp = os.path.join(workdir, "out.npz")
    with open(mlir, "w") as f:
        f.write(text)
    # numpy's stub types **kwds as if they could bind its `allow_pickle: bool` keyword
    np.savez(inp, **{f"arg{i}": a for i, a in enumerate(args)})  # pyright: ignore[reportArgumentType]
    flow = ["--dataflow", case.dataflow] if case.dataflow else []
    if case.weights == "const_pow2":
        opts = f"weight-bits={case.spec.bits} hw={case.hw} detect-pow2=true"
        if case.dataflow:
            opts += f" dataflow={case.dataflow}"
        prog = os.path.join(workdir, "prog.json")
        rc, _, err = _call(mixpe_opt.main, [mlir, "-p", f"mixpe-pipeline{{{opts}}}", "-t", "mixpe-sim", "-o", prog])
        if rc:
            return None, f"mixpe-opt exit {rc}: {err.strip()}", args, q
        with open(prog) as f:
            ops = [i["op"] for i in json.load(f)["instructions"]]
        if "shift_psum" not in ops:
            return None, f"detect-pow2 did not produce shift_psum: {ops} ({err.strip()})", args, q
        rc, _, err = _call(mixpe_sim.main, [prog, "--hw", case.hw, "--inputs", inp, "--outputs", outp])
        if rc:
            return None, f"mixpe-sim exit {rc}: {err.strip()}", args, q
    else:
        wb = [] if case.weights == "pow2_ir" else ["--weight-bits", str(case.spec.bits)]
        rc, _, err = _call(mixpe_run.main, [mlir, *wb, "--hw", case.hw, *flow, "--inputs", inp, "--outputs", outp])
        if rc:
            return None, f"mixpe-run exit {rc}: {err.strip()}", args, q
    return _load_result(outp, case.spec.out), "", args, q


def check_case(case: Case, workdir: str | None = None) -> Outcome:
    """Runs `case` through the CLIs and compares with numpy; never raises."""
    try:
        if workdir is None:
            with tempfile.TemporaryDirectory(prefix="mixpe-fuzz-") as d:
                return _check(case, d)
        return _check(case, workdir)
    except Exception:  # noqa: BLE001 - a crash of the harness or of the tools is a finding
        return Outcome("crash", traceback.format_exc(limit=8))


def _check(case: Case, workdir: str) -> Outcome:
    got, err, args, q = run_cli(case, workdir)
    if got is None:
        return Outcome("crash", err)
    kind, want = expected(case, args, q)
    spec = case.spec
    if got.shape != (spec.m, spec.n):
        return Outcome("mismatch", f"shape {got.shape}, expected {(spec.m, spec.n)}")
    if kind == "exact":
        assert isinstance(want, np.ndarray), "expected(): ('exact', array)"
        if got.dtype != want.dtype or not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
            diff = np.argwhere(got.astype(np.float64) != want.astype(np.float64))
            i = tuple(diff[0]) if len(diff) else (0, 0)
            return Outcome("mismatch", f"not bit-exact: {len(diff)} elements differ, first at {list(i)}: "
                                       f"got {got[i]!r}, want {want[i]!r} ({got.dtype} vs {want.dtype})")
        return Outcome("ok")
    y64, bound = want
    err_abs = np.abs(got.astype(np.float64) - y64)
    bad = ~(err_abs <= bound)
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        return Outcome("mismatch", f"{int(bad.sum())} elements exceed the bound, first at {list(i)}: got "
                                   f"{float(got[i])!r}, float64 {y64[i]!r}, |err| {err_abs[i]:.3g} > {bound[i]:.3g}")
    return Outcome("ok")


def reproduction(case: Case) -> str:
    """Python that reruns one case."""
    return ("from mixpe.testing.fuzz import *; from mixpe.frontend.linalg_emit import LinearSpec; "
            f"print(check_case({case!r}))")

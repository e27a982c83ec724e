"""Emit a quantized linear layer as linalg-on-tensors, the way real frontends write it.

Property tests, fuzzing and model-level evaluation all need many quantized linears of
every shape and convention *as frontend IR*, so that each goes through the same
`mixpe-raise` a user's module would. Three styles mirror what we see in the wild
(test/inputs/torch/README.md):

- `torch`: torch-mlir's FX importer: one elementwise generic per op, groups made by
  `tensor.expand_shape`, scales broadcast by a constant-0 map, `collapse_shape` back,
  `linalg.transpose` for `[N,K]` weights, `linalg.fill` + `linalg.matmul` into f32,
  then `truncf`.
- `fused`: IREE style: one contraction generic over (m, n, G, g) that dequantizes
  3-D `[N,G,g]` / `[G,g,N]` weights inside its body.
- `generic`: a dequant generic with a `k floordiv g` map and a generic matmul whose
  body converts the activations (the form integer activations need).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOAT_ACTS = ("f16", "bf16", "f32")
INT_ACTS = ("i8", "i4")  # i4: the MixPE authors' 4-bit activation tag (mixpe-eval --preset paper)
ACTS = (*FLOAT_ACTS, *INT_ACTS)
STYLES = ("torch", "fused", "generic")


@dataclass(frozen=True)
class LinearSpec:
    m: int
    k: int
    n: int
    group: int
    bits: int
    signed: bool
    zp_mode: str  # original | rescale | symmetric
    layout: str  # kn | nk
    act: str  # f16 | bf16 | f32 | i8
    style: str = "torch"
    int_zero_sub: bool = False  # original mode: extsi/subi/sitofp instead of float sub

    def __post_init__(self):
        if self.k % self.group:
            raise ValueError(f"group {self.group} does not divide K={self.k}")
        if self.act not in ACTS or self.style not in STYLES:
            raise ValueError(f"unknown activation {self.act} or style {self.style}")
        if self.act in INT_ACTS and self.style == "torch":
            raise ValueError("integer activations need the 'generic' or 'fused' style")

    @property
    def groups(self) -> int:
        return self.k // self.group

    @property
    def deq(self) -> str:
        """The float type the frontend dequantizes into."""
        return "f32" if self.act in INT_ACTS else self.act

    @property
    def out(self) -> str:
        return "f32" if self.act in (*INT_ACTS, "f32") else self.act

    def weight_shape(self) -> tuple[int, int]:
        return (self.n, self.k) if self.layout == "nk" else (self.k, self.n)

    def param_shape(self) -> tuple[int, int]:
        return (self.n, self.groups) if self.layout == "nk" else (self.groups, self.n)

    def arg_types(self) -> list[str]:
        types = [_t((self.m, self.k), self.act), _t(self.weight_shape(), "i8"), _t(self.param_shape(), self.deq)]
        if self.zp_mode == "original":
            types.append(_t(self.param_shape(), "i8"))  # integer zero points, as GPTQ stores them
        elif self.zp_mode == "rescale":
            types.append(_t(self.param_shape(), self.deq))
        return types


def _t(shape, elem: str) -> str:
    return "tensor<" + "x".join(map(str, shape)) + f"x{elem}>"


def _cast(spec: LinearSpec) -> str:
    return "arith.sitofp" if spec.signed else "arith.uitofp"


def _ext(spec: LinearSpec) -> str:
    return "arith.extsi" if spec.signed else "arith.extui"


_PAR3 = '["parallel", "parallel", "parallel"]'
_PAR2 = '["parallel", "parallel"]'


def emit(spec: LinearSpec, name: str = "main") -> str:
    """MLIR text of `func.func @name(x, q, s[, z]) -> y` computing X @ dequant(Q)."""
    body = {"torch": _torch, "fused": _fused, "generic": _generic}[spec.style](spec)
    args = ", ".join(f"%arg{i}: {t}" for i, t in enumerate(spec.arg_types()))
    out = _t((spec.m, spec.n), spec.out)
    return f"func.func @{name}({args}) -> {out} {{\n{body}}}\n"


@dataclass(frozen=True)
class MatmulSpec:
    """An unquantized `[M,K] x [K,N]` matmul: fp16/int8 baselines and attention (act x act)."""

    m: int
    k: int
    n: int
    act: str  # f16 | bf16 | f32 | i8: both operands

    def __post_init__(self):
        if self.act not in ACTS:
            raise ValueError(f"unknown operand type {self.act}")

    @property
    def deq(self) -> str:
        """Type of the second operand (named as in LinearSpec so the matmul tail is shared)."""
        return self.act

    @property
    def out(self) -> str:
        return "i32" if self.act in INT_ACTS else self.act


def emit_matmul(spec: MatmulSpec, name: str = "main") -> str:
    """MLIR text of `func.func @name(a, b) -> y`: fill, linalg.matmul into f32 (i32 for i8),
    truncf back for f16/bf16, exactly the tail a quantized linear has after dequantization."""
    lines: list[str] = []
    _matmul_tail(spec, "%arg1", lines)
    args = f"%arg0: {_t((spec.m, spec.k), spec.act)}, %arg1: {_t((spec.k, spec.n), spec.act)}"
    body = "\n".join(lines) + "\n"
    return f"func.func @{name}({args}) -> {_t((spec.m, spec.n), spec.out)} {{\n{body}}}\n"


def _dequant_body(spec: LinearSpec, q: str, s: str, z: str | None, ind: str) -> tuple[list[str], str]:
    """Scalar ops turning q (i8), s and z into a `deq` weight; returns (lines, value)."""
    d = spec.deq
    lines = [f"{ind}%qf = {_cast(spec)} {q} : i8 to {d}"]
    if spec.zp_mode == "original" and spec.int_zero_sub:
        lines = [
            f"{ind}%qi = {_ext(spec)} {q} : i8 to i32",
            f"{ind}%zi = {_ext(spec)} {z} : i8 to i32",
            f"{ind}%di = arith.subi %qi, %zi : i32",
            f"{ind}%dc = arith.sitofp %di : i32 to {d}",
            f"{ind}%w = arith.mulf %dc, {s} : {d}",
        ]
    elif spec.zp_mode == "original":
        lines += [
            f"{ind}%zf = {_cast(spec)} {z} : i8 to {d}",
            f"{ind}%dc = arith.subf %qf, %zf : {d}",
            f"{ind}%w = arith.mulf %dc, {s} : {d}",
        ]
    elif spec.zp_mode == "rescale":
        lines += [f"{ind}%qs = arith.mulf %qf, {s} : {d}", f"{ind}%w = arith.subf %qs, {z} : {d}"]
    else:
        lines += [f"{ind}%w = arith.mulf %qf, {s} : {d}"]
    return lines, "%w"


def _matmul_tail(spec: LinearSpec | MatmulSpec, w: str, lines: list[str]) -> None:
    """fill + linalg.matmul into the accumulator (+ truncf back to the activation type), as
    torch-mlir emits: f32 for float/dequantized operands, i32 for i8 x i8."""
    m, n, k, acc = spec.m, spec.n, spec.k, _acc_type(spec)
    zero = "0" if acc == "i32" else "0.000000e+00"
    lines += [
        f"  %cst0 = arith.constant {zero} : {acc}",
        f"  %acc0 = tensor.empty() : {_t((m, n), acc)}",
        f"  %acc = linalg.fill ins(%cst0 : {acc}) outs(%acc0 : {_t((m, n), acc)}) -> {_t((m, n), acc)}",
        f"  %mm = linalg.matmul ins(%arg0, {w} : {_t((m, k), spec.act)}, {_t((k, n), spec.deq)}) "
        f"outs(%acc : {_t((m, n), acc)}) -> {_t((m, n), acc)}",
    ]
    _finish(spec, "%mm", lines)


def _acc_type(spec: LinearSpec | MatmulSpec) -> str:
    return "i32" if spec.deq in INT_ACTS else "f32"


def _finish(spec: LinearSpec | MatmulSpec, y: str, lines: list[str]) -> None:
    m, n = spec.m, spec.n
    if spec.out == _acc_type(spec):
        lines.append(f"  func.return {y} : {_t((m, n), spec.out)}")
        return
    lines += [
        f"  %y0 = tensor.empty() : {_t((m, n), spec.out)}",
        "  %y = linalg.generic {indexing_maps = "
        "[affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], "
        f"iterator_types = {_PAR2}}} ins({y} : {_t((m, n), 'f32')}) outs(%y0 : {_t((m, n), spec.out)}) {{",
        f"  ^bb0(%in: f32, %o: {spec.out}):",
        f"    %t = arith.truncf %in : f32 to {spec.out}",
        f"    linalg.yield %t : {spec.out}",
        f"  }} -> {_t((m, n), spec.out)}",
        f"  func.return %y : {_t((m, n), spec.out)}",
    ]


def _torch(spec: LinearSpec) -> str:
    n, k, G, g, d = spec.n, spec.k, spec.groups, spec.group, spec.deq
    nk = spec.layout == "nk"
    w3 = (n, G, g) if nk else (G, g, n)
    p3 = (n, G, 1) if nk else (G, 1, n)
    assoc_w = "[[0], [1, 2]]" if nk else "[[0, 1], [2]]"
    bmap = "affine_map<(d0, d1, d2) -> (d0, d1, 0)>" if nk else "affine_map<(d0, d1, d2) -> (d0, 0, d2)>"
    idm = "affine_map<(d0, d1, d2) -> (d0, d1, d2)>"
    lines = [
        f"  %qe = tensor.expand_shape %arg1 {assoc_w} output_shape [{', '.join(map(str, w3))}] : "
        f"{_t(spec.weight_shape(), 'i8')} into {_t(w3, 'i8')}",
        f"  %e3 = tensor.empty() : {_t(w3, d)}",
    ]

    def unary(res: str, src: str, src_t: str, shape, op: str, out_t: str) -> None:
        lines.extend([
            f"  %{res}0 = tensor.empty() : {_t(shape, out_t)}",
            f"  %{res} = linalg.generic {{indexing_maps = [{idm}, {idm}], iterator_types = {_PAR3}}} "
            f"ins({src} : {_t(shape, src_t)}) outs(%{res}0 : {_t(shape, out_t)}) {{",
            f"  ^bb0(%in: {src_t}, %o: {out_t}):",
            f"    %c = {op} %in : {src_t} to {out_t}",
            f"    linalg.yield %c : {out_t}",
            f"  }} -> {_t(shape, out_t)}",
        ])

    def binary(res: str, a: str, b: str, op: str, elem: str = d) -> None:
        lines.extend([
            f"  %{res} = linalg.generic {{indexing_maps = [{idm}, {bmap}, {idm}], iterator_types = {_PAR3}}} "
            f"ins({a}, {b} : {_t(w3, elem)}, {_t(p3, elem)}) "
            f"outs(%e3{'i' if elem == 'i32' else ''} : {_t(w3, elem)}) {{",
            f"  ^bb0(%a: {elem}, %b: {elem}, %o: {elem}):",
            f"    %r = {op} %a, %b : {elem}",
            f"    linalg.yield %r : {elem}",
            f"  }} -> {_t(w3, elem)}",
        ])

    def expand_param(res: str, arg: str, elem: str) -> None:
        lines.append(
            f"  %{res} = tensor.expand_shape {arg} [[0], [1, 2]] output_shape [{', '.join(map(str, p3))}] : "
            f"{_t(spec.param_shape(), elem)} into {_t(p3, elem)}"
        )

    expand_param("se", "%arg2", d)
    if spec.zp_mode == "original" and spec.int_zero_sub:
        unary("qi", "%qe", "i8", w3, _ext(spec), "i32")
        expand_param("ze", "%arg3", "i8")
        unary("zi", "%ze", "i8", p3, _ext(spec), "i32")
        lines.append(f"  %e3i = tensor.empty() : {_t(w3, 'i32')}")
        binary("di", "%qi", "%zi", "arith.subi", "i32")
        unary("dc", "%di", "i32", w3, "arith.sitofp", d)
        binary("w3", "%dc", "%se", "arith.mulf")
    else:
        unary("qf", "%qe", "i8", w3, _cast(spec), d)
        if spec.zp_mode == "original":
            expand_param("ze", "%arg3", "i8")
            unary("zf", "%ze", "i8", p3, _cast(spec), d)
            binary("dc", "%qf", "%zf", "arith.subf")
            binary("w3", "%dc", "%se", "arith.mulf")
        elif spec.zp_mode == "rescale":
            expand_param("ze", "%arg3", d)
            binary("qs", "%qf", "%se", "arith.mulf")
            binary("w3", "%qs", "%ze", "arith.subf")
        else:
            binary("w3", "%qf", "%se", "arith.mulf")
    lines.append(f"  %w2 = tensor.collapse_shape %w3 {assoc_w} : {_t(w3, d)} into {_t(spec.weight_shape(), d)}")
    w = "%w2"
    if nk:
        lines += [
            f"  %wt0 = tensor.empty() : {_t((k, n), d)}",
            f"  %wt = linalg.transpose ins(%w2 : {_t((n, k), d)}) outs(%wt0 : {_t((k, n), d)}) permutation = [1, 0]",
        ]
        w = "%wt"
    _matmul_tail(spec, w, lines)
    return "\n".join(lines) + "\n"


def _param_reads(spec: LinearSpec, ks: str) -> tuple[str, str]:
    """Affine results reading the weights and the [G]-indexed params for k spelled `ks`."""
    if spec.layout == "nk":
        return f"d1, {ks}", "d1, {g}"
    return f"{ks}, d1", "{g}, d1"


def _contraction(spec: LinearSpec, dims: str, iters: str, x_res: str, w_res: str, p_res: str,
                 x_t: str, w_t: str, w_src: str) -> list[str]:
    """One generic over `dims` computing out += conv(x) * dequant(...)."""
    m, n, d = spec.m, spec.n, spec.deq
    acc_t = _t((m, n), "f32")
    operands = ["%arg0", w_src, "%arg2"] + (["%arg3"] if spec.zp_mode != "symmetric" else [])
    p_t = _t(spec.param_shape(), d)
    z_t = _t(spec.param_shape(), "i8" if spec.zp_mode == "original" else d)
    types = [x_t, w_t, p_t] + ([z_t] if spec.zp_mode != "symmetric" else [])
    maps = [x_res, w_res, p_res] + ([p_res] if spec.zp_mode != "symmetric" else [])
    map_txt = ", ".join(f"affine_map<({dims}) -> ({r})>" for r in [*maps, "d0, d1"])
    z_elem = "i8" if spec.zp_mode == "original" else d
    args = [f"%xa: {spec.act}", "%qq: i8", f"%ss: {d}"] + ([f"%zz: {z_elem}"] if spec.zp_mode != "symmetric" else [])
    deq, w = _dequant_body(spec, "%qq", "%ss", "%zz" if spec.zp_mode != "symmetric" else None, "    ")
    conv = {"i8": "arith.sitofp", "i4": "arith.sitofp", "f16": "arith.extf", "bf16": "arith.extf"}
    xconv = [f"    %xf = {conv[spec.act]} %xa : {spec.act} to f32"] if spec.act != "f32" else []
    wconv = [f"    %wf = arith.extf {w} : {d} to f32"] if d != "f32" else []
    xv = "%xf" if xconv else "%xa"
    wv = "%wf" if wconv else w
    lines = [
        "  %cst0 = arith.constant 0.000000e+00 : f32",
        f"  %acc0 = tensor.empty() : {acc_t}",
        f"  %acc = linalg.fill ins(%cst0 : f32) outs(%acc0 : {acc_t}) -> {acc_t}",
        f"  %mm = linalg.generic {{indexing_maps = [{map_txt}], iterator_types = {iters}}} "
        f"ins({', '.join(operands)} : {', '.join(types)}) outs(%acc : {acc_t}) {{",
        f"  ^bb0({', '.join(args)}, %o: f32):",
        *deq,
        *xconv,
        *wconv,
        f"    %p = arith.mulf {xv}, {wv} : f32",
        "    %r = arith.addf %o, %p : f32",
        "    linalg.yield %r : f32",
        f"  }} -> {acc_t}",
    ]
    return lines


def _generic(spec: LinearSpec) -> str:
    """2-D weights, params read at `d2 floordiv g`: a single generic contraction."""
    w_res, p_tmpl = _param_reads(spec, "d2")
    lines = _contraction(
        spec, "d0, d1, d2", '["parallel", "parallel", "reduction"]', "d0, d2", w_res,
        p_tmpl.format(g=f"d2 floordiv {spec.group}"), _t((spec.m, spec.k), spec.act),
        _t(spec.weight_shape(), "i8"), "%arg1",
    )
    _finish(spec, "%mm", lines)
    return "\n".join(lines) + "\n"


def _fused(spec: LinearSpec) -> str:
    """IREE style: K split into (G, g) loops, weights and activations expanded to 3-D."""
    G, g, m, n = spec.groups, spec.group, spec.m, spec.n
    nk = spec.layout == "nk"
    w3 = (n, G, g) if nk else (G, g, n)
    lines = [
        f"  %x3 = tensor.expand_shape %arg0 [[0], [1, 2]] output_shape [{m}, {G}, {g}] : "
        f"{_t((m, spec.k), spec.act)} into {_t((m, G, g), spec.act)}",
        f"  %q3 = tensor.expand_shape %arg1 {'[[0], [1, 2]]' if nk else '[[0, 1], [2]]'} output_shape "
        f"[{', '.join(map(str, w3))}] : {_t(spec.weight_shape(), 'i8')} into {_t(w3, 'i8')}",
    ]
    w_res = "d1, d2, d3" if nk else "d2, d3, d1"
    p_res = "d1, d2" if nk else "d2, d1"
    body = _contraction(
        spec, "d0, d1, d2, d3", '["parallel", "parallel", "reduction", "reduction"]', "d0, d2, d3",
        w_res, p_res, _t((m, G, g), spec.act), _t(w3, "i8"), "%q3",
    )
    body = [ln.replace("ins(%arg0,", "ins(%x3,") for ln in body]
    lines += body
    _finish(spec, "%mm", lines)
    return "\n".join(lines) + "\n"


def to_float(values: np.ndarray, elem: str) -> np.ndarray:
    """`values` in the numpy dtype of MLIR float type `elem`; a clear error if that rounds."""
    import ml_dtypes

    dtype = {"f16": np.float16, "bf16": ml_dtypes.bfloat16, "f32": np.float32}[elem]
    out = np.asarray(values).astype(dtype)
    if not np.array_equal(out.astype(np.float64), np.asarray(values).astype(np.float64)):
        raise ValueError(f"values do not convert exactly to {elem}")
    return out


def random_inputs(spec: LinearSpec, rng: np.random.Generator) -> list[np.ndarray]:
    """Valid inputs in signature order: weights in range, scales keeping |y| moderate."""
    import ml_dtypes

    lo, hi = (-(1 << (spec.bits - 1)), (1 << (spec.bits - 1)) - 1) if spec.signed else (0, (1 << spec.bits) - 1)
    np_t = {"f16": np.float16, "bf16": ml_dtypes.bfloat16, "f32": np.float32}
    if spec.act in INT_ACTS:
        lim = 1 << (int(spec.act[1:]) - 1)
        x = rng.integers(-lim, lim, size=(spec.m, spec.k), dtype=np.int64).astype(
            np.int8 if spec.act == "i8" else ml_dtypes.int4)
    else:
        x = rng.standard_normal((spec.m, spec.k)).astype(np_t[spec.act])
    storage = np.int8 if spec.signed else np.uint8
    q = rng.integers(lo, hi + 1, size=spec.weight_shape()).astype(storage)
    d = np_t[spec.deq]
    scale = 1.0 / (max(hi - lo, 1) * np.sqrt(spec.k))
    s = (rng.uniform(0.5, 1.5, size=spec.param_shape()) * scale).astype(d)
    args = [x, q, s]
    if spec.zp_mode == "original":
        args.append(rng.integers(lo, hi + 1, size=spec.param_shape()).astype(storage))
    elif spec.zp_mode == "rescale":
        z = rng.integers(lo, hi + 1, size=spec.param_shape()).astype(np.float64)
        args.append((z * s.astype(np.float64)).astype(d))
    return args

"""Hand-built simulator programs and inputs shared by the simulator and CLI tests."""

import numpy as np

from mixpe.simulator.program import ProgramBuilder


def w4a8_linear(M=4, K=64, N=8, g=16, *, pe="bitplane", zp_mode="original", layout="kn",
                p_output=False):
    """MixPE form: group_psum + act_group_sum + dequant_epilogue (i8 x u4 weights -> f16)."""
    G = K // g
    b = ProgramBuilder("linear")
    b.input("x", [M, K], "i8")
    b.input("q", [K, N] if layout == "kn" else [N, K], "ui8")
    sg = [G, N] if layout == "kn" else [N, G]
    b.input("s", sg, "f16")
    if zp_mode != "symmetric":
        b.input("z", sg, "ui8" if zp_mode == "original" else "f16")
    b.op("group_psum", ["x", "q"], [("p", [M, G, N], "i32")], group_size=g, layout=layout,
         acc="i32", weight_bits=4, signed=False, schedule={"pe": pe}, loc="model.py:10")
    if zp_mode != "symmetric":
        b.op("act_group_sum", ["x"], [("a", [M, G], "i32")], group_size=g, acc="i32")
    args = ["p", "a", "s", "z"] if zp_mode != "symmetric" else ["p", "s"]
    b.op("dequant_epilogue", args, [("y", [M, N], "f16")], zp_mode=zp_mode, layout=layout,
         loc="model.py:11")
    b.output("y")
    if p_output:
        b.output("p")
    return b


def w4a8_inputs(M=4, K=64, N=8, g=16, *, zp_mode="original", layout="kn", seed=0):
    rng = np.random.default_rng(seed)
    G = K // g
    x = rng.integers(-128, 128, (M, K)).astype(np.int8)
    q = rng.integers(0, 16, (K, N) if layout == "kn" else (N, K)).astype(np.uint8)
    sg = (G, N) if layout == "kn" else (N, G)
    s = rng.uniform(0.001, 0.01, sg).astype(np.float16)
    ins = {"arg0": x, "arg1": q, "arg2": s}
    if zp_mode == "original":
        ins["arg3"] = rng.integers(0, 16, sg).astype(np.uint8)
    elif zp_mode == "rescale":
        ins["arg3"] = rng.uniform(-0.1, 0.1, sg).astype(np.float16)
    return ins

"""How much slower than stock xdsl-opt parse+print is the whole mixpe compiler on a model-size
module? The module is a 32-layer LLaMA-2-7B in one function: 32 x (q, k, v, o, gate, up, down)
GPTQ linears (torch-mlir style from linalg_emit; W4, group 128, f16 activations), each layer
feeding the next. Target: pipeline (parse, mixpe-pipeline, -t mixpe-sim) <= 3x parse+print.

    python bench/bench_compile_speed.py [--layers 32] [--tokens 64] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import tempfile
import time

from mixpe.frontend.linalg_emit import LinearSpec, emit

HIDDEN, FFN = 4096, 11008
TARGET = 3.0


def llama_module(layers: int, tokens: int) -> str:
    """One function: per layer h -> q,k,v = lin(h); o = lin(q); gate, up = lin(o); h = down(up)."""
    args = [f"%x: tensor<{tokens}x{HIDDEN}xf16>"]
    body: list[str] = []
    h = "%x"
    for layer in range(layers):
        outs = {}
        for name, k, n, src in (("q", HIDDEN, HIDDEN, "h"), ("k", HIDDEN, HIDDEN, "h"), ("v", HIDDEN, HIDDEN, "h"),
                                ("o", HIDDEN, HIDDEN, "q"), ("gate", HIDDEN, FFN, "o"), ("up", HIDDEN, FFN, "o"),
                                ("down", FFN, HIDDEN, "up")):
            spec = LinearSpec(m=tokens, k=k, n=n, group=128, bits=4, signed=False, zp_mode="original",
                              layout="nk", act="f16")
            prefix = f"l{layer}_{name}_"
            text = emit(spec)
            sig, inner = text.split("{\n", 1)
            inner = inner.rsplit("}", 1)[0]
            # the linear's own names get a per-linear prefix; its weights become function
            # arguments and its activation the value it is fed
            args += [f"%{prefix}arg{i}: {t}" for i, t in re.findall(r"%arg(\d+): (tensor<[^>]*>)", sig)[1:]]
            ret = re.search(r"func\.return (%\w+) :", inner).group(1)
            inner = re.sub(r"^\s*func\.return.*$", "", inner, flags=re.M)
            inner = re.sub(r"%([A-Za-z_]\w*)", rf"%{prefix}\1", inner)
            inner = re.sub(rf"%{prefix}arg0\b", h if src == "h" else outs[src], inner)
            body.append(inner)
            outs[name] = f"%{prefix}{ret[1:]}"
        h = outs["down"]
    return ("func.func @llama(" + ", ".join(args) + f") -> tensor<{tokens}x{HIDDEN}xf16> {{\n"
            + "".join(body) + f"  func.return {h} : tensor<{tokens}x{HIDDEN}xf16>\n}}\n")


def time_parse_print(path: str) -> float:
    """Stock xdsl-opt, in process: parse, verify, print (to /dev/null)."""
    from xdsl.xdsl_opt_main import xDSLOptMain

    t = time.perf_counter()
    xDSLOptMain(args=[path, "-o", os.devnull]).run()
    return time.perf_counter() - t


def time_pipeline(text: str) -> tuple[float, int]:
    """The whole compiler as mixpe-run uses it: parse, mixpe-pipeline, -t mixpe-sim."""
    from mixpe import driver

    t = time.perf_counter()
    program = driver.compile_to_program(text, driver.CompileOptions(hw="mixpe-w4a16", weight_bits=4))
    return time.perf_counter() - t, sum(i.op == "bitplane_psum" for i in program.instructions)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--profile", action="store_true", help="cProfile the pipeline run")
    args = ap.parse_args()
    text = llama_module(args.layers, args.tokens)
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(text)
    try:
        time_parse_print(f.name)  # warm-up: imports, context, entry points
        base = time_parse_print(f.name)
        prof = cProfile.Profile() if args.profile else None
        if prof:
            prof.enable()
        ours, raised = time_pipeline(text)
        if prof:
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    finally:
        os.unlink(f.name)
    print(f"module: {args.layers} layers x 7 GPTQ linears = {7 * args.layers} linears, {len(text.splitlines()):,} "
          f"lines, {len(text) / 1e6:.1f} MB; {raised} raised to bit-plane psums")
    print(f"xdsl-opt parse+print: {base:.2f} s; mixpe pipeline (parse, mixpe-pipeline, -t mixpe-sim): "
          f"{ours:.2f} s; ratio {ours / base:.2f}x (target <= {TARGET:.0f}x: "
          f"{'met' if ours / base <= TARGET else 'MISSED'})")


if __name__ == "__main__":
    main()

"""Speed of the simulator's functional path: a grouped, bit-exact W4A8 GEMM vs float32 numpy.

    python bench/bench_sim_functional.py [--shape 64,4096,4096] [--group 128] [--repeat 5]
                                         [--threads N]

Runs the MixPE program (group_psum on shift&add PEs + act_group_sum + dequant_epilogue, i8 x
signed 4-bit weights -> f16) through `run_program` — input checks, the exact kernels and the PE
op counts, plus the cost model — and a float32 `x @ w` of the same shape, interleaved in the same
process, best of `--repeat`. The hardware is loaded once, as a CLI run does. Prints the ratio of
the functional path (run_program minus a cost-only run_program) and of the whole run_program to
the float32 matmul; the target (<= 3x) is judged on the functional path. With `--threads N` the
BLAS thread count is fixed first (on a shared machine 1 is the most stable).
"""

import argparse
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", default="64,4096,4096", help="M,N,K")
    ap.add_argument("--group", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, help="BLAS threads (sets OPENBLAS/OMP/MKL_NUM_THREADS)")
    ap.add_argument("--target", type=float, default=3.0)
    args = ap.parse_args()
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)

    import time

    import numpy as np

    from mixpe.reference import act_group_sum, dequant_epilogue, group_psum
    from mixpe.simulator.execute import run_program
    from mixpe.hw import load_hardware
    from mixpe.simulator.program import ProgramBuilder

    M, N, K = (int(v) for v in args.shape.split(","))
    g = args.group
    G = K // g
    b = ProgramBuilder("bench_w4a8")
    b.input("x", [M, K], "i8")
    b.input("q", [K, N], "i8")
    b.input("s", [G, N], "f16")
    b.input("z", [G, N], "i8")
    b.op("group_psum", ["x", "q"], [("p", [M, G, N], "i32")], group_size=g, acc="i32",
         weight_bits=4, signed=True, schedule={"pe": "bitplane"})
    b.op("act_group_sum", ["x"], [("a", [M, G], "i32")], group_size=g, acc="i32")
    b.op("dequant_epilogue", ["p", "a", "s", "z"], [("y", [M, N], "f16")], zp_mode="original")
    b.output("y")
    prog = b.build()
    hw = load_hardware("mixpe-w4a8")

    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (M, K)).astype(np.int8)
    q = rng.integers(-8, 8, (K, N)).astype(np.int8)
    s = rng.uniform(1e-4, 1e-3, (G, N)).astype(np.float16)
    z = rng.integers(-8, 8, (G, N)).astype(np.int8)
    inputs = {"arg0": x, "arg1": q, "arg2": s, "arg3": z}
    xf = x.astype(np.float32)
    wf = q.astype(np.float32)

    # bit-exactness against the unfused reference kernels, once
    y = run_program(prog, hw, inputs).outputs["result0"]
    want = dequant_epilogue(group_psum(x, q, group_size=g), act_group_sum(x, group_size=g), s, z,
                            zp_mode="original", out_dtype="f16")
    if not np.array_equal(y.view(np.uint16), want.view(np.uint16)):
        print("FAIL: simulator output differs from the reference kernels")
        return 1

    def best(fn):
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    times = {"sim": [], "cost": [], "f32": []}
    for _ in range(args.repeat):
        times["sim"].append(best(lambda: run_program(prog, hw, inputs)))
        times["cost"].append(best(lambda: run_program(prog, hw)))
        times["f32"].append(best(lambda: xf @ wf))
    sim, cost, f32 = (min(times[k]) for k in ("sim", "cost", "f32"))
    functional = sim - cost
    ratio = functional / f32
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"W4A8 GEMM M={M} N={N} K={K} g={g}, BLAS threads: {threads}, best of {args.repeat}")
    print(f"  run_program with inputs (functional + cost): {sim * 1e3:8.1f} ms")
    print(f"  run_program cost only:                       {cost * 1e3:8.1f} ms")
    print(f"  numpy float32 matmul:                        {f32 * 1e3:8.1f} ms")
    print(f"  functional path / float32 = {ratio:.2f}x (target <= {args.target:g}x): "
          f"{'PASS' if ratio <= args.target else 'FAIL'}; whole run_program = {sim / f32:.2f}x")
    return 0 if ratio <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())

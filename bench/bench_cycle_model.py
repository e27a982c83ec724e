"""Time the scalesim-mode estimate of 512x512x4096 on a 32x32 array against a 10 ms target.

SCALE-Sim itself needed 567 s for this GEMM (docs/design.md §4); the closed form should take microseconds.
"""

import statistics
import time

from mixpe.simulator import estimate_gemm, load_hardware

TARGET_S = 0.010
REPEATS = 200


def main() -> None:
    hw = load_hardware("int8")  # 32 x 32 output-stationary
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        cost = estimate_gemm(hw, 512, 512, 4096, mode="scalesim")
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(f"scalesim 512x512x4096 on {hw.array.rows}x{hw.array.cols}: {cost.total:,} cycles")
    print(f"median of {REPEATS}: {median * 1e6:.1f} us; ratio to the 10 ms target: {median / TARGET_S:.5f}")


if __name__ == "__main__":
    main()

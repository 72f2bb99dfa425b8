"""Design points per second of a full workload evaluation, by batch size (one core).

    python benchmarks/bench_model.py [--accelerator systolic] [--workload videomae-b] [--max-batch 1000000]

Each batch draws random designs (rows, cols, glb_kib, dram_gbps, clock_mhz, dataflow) and evaluates the
whole workload in one vectorized call. Prints a table: batch, seconds per call, points per second,
and the single-point latency. Run with OPENBLAS/OMP threads = 1 for a one-core figure.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from dse import accelerators  # noqa: E402
from dse.workloads import build  # noqa: E402


def designs(acc, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    names = {p.name for p in acc.params}
    space = {
        "rows": rng.choice([8, 16, 32, 64], n),
        "cols": rng.choice([8, 16, 32, 64], n),
        "glb_kib": rng.choice([64, 128, 256, 512, 1024], n),
        "dram_gbps": rng.choice([6.4, 12.8, 25.6, 51.2], n),
        "clock_mhz": rng.choice([200, 500, 800, 1000], n),
    }
    return {k: v for k, v in space.items() if k in names}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accelerator", default="systolic")
    ap.add_argument("--workload", default="videomae-b")
    ap.add_argument("--max-batch", type=int, default=1_000_000)
    args = ap.parse_args()
    acc, wl = accelerators.get(args.accelerator), build(args.workload)
    rng = np.random.default_rng(0)
    print(f"{args.accelerator} on {args.workload}: {len(wl.ops)} unique ops")
    print(f"{'batch':>9} {'s/call':>10} {'points/s':>12}")
    n = 1
    while n <= args.max_batch:
        p = designs(acc, n, rng)
        reps = max(1, min(200, 200_000 // n))
        acc.evaluate(wl, p)  # warm-up
        t0 = time.perf_counter()
        for _ in range(reps):
            acc.evaluate(wl, p)
        dt = (time.perf_counter() - t0) / reps
        print(f"{n:>9} {dt:>10.3g} {n / dt:>12.4g}")
        n *= 10


if __name__ == "__main__":
    main()

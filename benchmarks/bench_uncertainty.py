"""Robust front speed: N joint samples × D front designs on videomae-b, one core (issue 13: 1,000 × 200 ≤ 2 s).

    python benchmarks/bench_uncertainty.py [--designs 200] [--samples 1000] [--repeats 3]

Builds the quickstart's problem (``sweeps/quickstart.toml``: RTSA on videomae-b 16×160²), draws ``designs``
random designs from its space as a stand-in front, and times :func:`dse.search.robust.robust_front`: the
declared non-design inputs sampled, every design × sample evaluated in one vectorized model call, p_pareto
(one moocore front per sample) and the 5/50/95% columns. Prints the best of ``repeats`` timed runs after a
warm-up (imports and first-call costs excluded): the model evaluation alone, and the whole step in wall
and CPU time (the CPU time is the fairer figure on a shared machine). Run with OPENBLAS/OMP threads = 1 (set
here) and ``taskset -c 0`` for a one-core figure.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dse.search import robust  # noqa: E402
from dse.search.spec import load_spec  # noqa: E402

SPEC = Path(__file__).resolve().parents[1] / "sweeps" / "quickstart.toml"


def front(problem, d: int, seed: int = 0) -> pd.DataFrame:
    """``d`` random designs of the problem's grid axes (the quickstart's space)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: rng.choice(values, d) for name, values in problem.grid_axes()})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--designs", type=int, default=200)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    problem = load_spec(SPEC)
    df = front(problem, args.designs)
    robust.robust_front(problem, df, 16)  # warm-up: imports, workload build cache
    dr = robust.draws(problem, args.samples)
    points = {k: df[k].to_numpy() for k in df.columns}
    best_total = best_eval = best_cpu = np.inf
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        robust.sampled_batch(problem, points, len(df), dr)
        best_eval = min(best_eval, time.perf_counter() - t0)
        t0, c0 = time.perf_counter(), time.process_time()
        out = robust.robust_front(problem, df, args.samples)
        best_total = min(best_total, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    n = args.designs * args.samples
    print(f"{problem.spec.accelerator} on {problem.spec.scenario.model}: {args.designs} designs × {args.samples} "
          f"samples = {n:,} points, {len(dr.inputs)} declared inputs")  # fmt: skip
    print(f"  model evaluation (one call): {best_eval:.3f} s  ({n / best_eval:,.0f} points/s)")
    print(f"  robust front end to end:     {best_total:.3f} s wall, {best_cpu:.3f} s CPU time "
          f"(p_pareto median {out.table['p_pareto'].median():.2f})")  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark of ``rtsa-dse sweep``: trials/s per sampler and storage, grid points/s, hypervolume vs evaluations.

    python benchmarks/bench_sweep.py            # everything (a few minutes on 2 cores)
    python benchmarks/bench_sweep.py --quick    # smaller counts
    python benchmarks/bench_sweep.py --only grid,hv --json out.json

Sections:
* ``samplers``: trials/s of each sampler on the default (embedded journal) storage, quickstart space.
* ``storages``: NSGA-II trials/s on the embedded default, the journal file written directly (1 and 2
  processes), SQLite, and PostgreSQL (1 and 2 processes; skipped without a local server).
* ``grid``: an exhaustive grid of about 10⁶ systolic designs: evaluation and exact-front times.
* ``hv``: hypervolume reached vs evaluations on a realistic ``rtsa`` space, as a fraction of the
  exhaustive grid's (same normalisation: the grid's feasible ideal and nadir).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dse.search import load_spec, run_sweep  # noqa: E402
from dse.search.grid import evaluate_grid  # noqa: E402
from dse.search.pareto import bounds, normalized_hypervolume  # noqa: E402
from dse.search.runner import quiet_optuna  # noqa: E402

PG_URL = os.environ.get("RTSA_DSE_BENCH_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")

QUICKSTART_SPACE = """
[workload]
model = "deit-tiny"
resolution = 224

[objectives]
latency_s = "minimize"
energy_j = "minimize"
area_mm2 = "minimize"

[space]
rows = { low = 8, high = 128, step = 8 }
cols = { low = 8, high = 128, step = 8 }
dataflow = ["os", "ws", "is"]
glb_kib = { low = 32, high = 4096, log = true }
dram_gbps = [12.8, 25.6, 51.2]

[constraints]
area_mm2 = { max = 20.0 }
power_w = { max = 5.0 }
"""

# about 10^6 systolic designs: 32 x 32 x 3 x 41 x 4 x 2 = 1,007,616
GRID_SPACE = """
[workload]
model = "deit-tiny"
resolution = 224

[objectives]
latency_s = "minimize"
energy_j = "minimize"
area_mm2 = "minimize"

[space]
rows = { low = 4, high = 128, step = 4 }
cols = { low = 4, high = 128, step = 4 }
dataflow = ["os", "ws", "is"]
glb_kib = { low = 16, high = 8192, log = true, points = 41 }
dram_gbps = [6.4, 12.8, 25.6, 51.2]
clock_mhz = [250, 500]

[constraints]
area_mm2 = { max = 20.0 }
"""

# a realistic RTSA space (VideoMAE-B 16x224^2), discretised so the exhaustive grid is feasible: 752,640 designs
RTSA_SPACE = """
[workload]
model = "videomae-b"
resolution = 224
frames = 16

[objectives]
latency_s = "minimize"
energy_j = "minimize"
area_mm2 = "minimize"

[space]
rows = { low = 4, high = 64, step = 4 }
cols = { low = 4, high = 64, step = 4 }
lanes = [1, 2, 4, 8]
glb_kib = { low = 64, high = 4096, log = true, points = 7 }
dram_gbps = [12.8, 25.6, 51.2]
sparsity_linear = { low = 0.3, high = 0.9, step = 0.1 }
sparsity_attention = { low = 0.5, high = 0.9, step = 0.1 }
clock_mhz = 500

[constraints]
area_mm2 = { max = 8.0 }
max_accuracy_drop = 1.0
"""


def spec_file(tmp: Path, study: str, accelerator: str, sampler: str, trials: int, body: str, seed: int = 0) -> Path:
    path = tmp / f"{study}.toml"
    path.write_text(
        f'study = "{study}"\naccelerator = "{accelerator}"\nsampler = "{sampler}"\ntrials = {trials}\nseed = {seed}\n'
        + body
    )
    return path


def timed_sweep(tmp: Path, study: str, sampler: str, trials: int, body=QUICKSTART_SPACE, acc="systolic", **kw):
    problem = load_spec(spec_file(tmp, study, acc, sampler, trials, body))
    t0 = time.perf_counter()
    report = run_sweep(problem, results_dir=str(tmp / "results"), **kw)
    return report, time.perf_counter() - t0


def bench_samplers(tmp: Path, quick: bool) -> list[dict]:
    n = 500 if quick else 2000
    counts = {"nsga2": n, "nsga3": n, "random": n, "qmc": n, "tpe": 100 if quick else 300}
    rows = []
    for sampler, trials in counts.items():
        report, wall = timed_sweep(tmp, f"s_{sampler}", sampler, trials)
        rows.append({"sampler": sampler, "storage": "embedded journal", "trials": trials, "wall_s": wall,
                     "trials_per_s": trials / wall, "evaluations": report.stats.evaluations})  # fmt: skip
        print(f"  sampler {sampler:7s} {trials:5d} trials  {wall:6.2f} s  {trials / wall:7.0f} trials/s", flush=True)
    return rows


def _postgres_ok() -> bool:
    try:
        import psycopg2

        psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3).close()
        return True
    except Exception:
        return False


def bench_storages(tmp: Path, quick: bool) -> list[dict]:
    n = 500 if quick else 2000
    small = 150 if quick else 500
    cases = [
        ("embedded journal (default)", n, {}),
        ("journal file, 1 process", small, {"storage": str(tmp / "direct.journal")}),
        ("journal file, --jobs 2", small, {"storage": str(tmp / "jobs.journal"), "jobs": 2}),
        ("sqlite, 1 process", small, {"storage": f"sqlite:///{tmp / 'b.db'}"}),
    ]
    pg_studies = []
    if _postgres_ok():
        for jobs in (1, 2):
            name = f"bench_{uuid.uuid4().hex[:8]}"
            pg_studies.append(name)
            cases.append((f"postgresql, --jobs {jobs}", small, {"storage": PG_URL, "jobs": jobs, "_study": name}))
    else:
        print("  (no PostgreSQL at 127.0.0.1:5432: skipped)")
    rows = []
    for label, trials, kw in cases:
        study = kw.pop("_study", f"st_{len(rows)}")
        report, wall = timed_sweep(tmp, study, "nsga2", trials, **kw)
        assert report.n_complete == trials, (label, report.n_complete)
        rows.append(
            {"storage": label, "sampler": "nsga2", "trials": trials, "wall_s": wall, "trials_per_s": trials / wall}
        )
        print(f"  storage {label:28s} {trials:5d} trials  {wall:6.2f} s  {trials / wall:7.0f} trials/s", flush=True)
    if pg_studies:
        import optuna

        with quiet_optuna():
            for name in pg_studies:
                optuna.delete_study(study_name=name, storage=PG_URL)
    return rows


def bench_grid(tmp: Path, quick: bool) -> dict:
    body = GRID_SPACE.replace("clock_mhz = [250, 500]", "clock_mhz = 500") if quick else GRID_SPACE
    problem = load_spec(spec_file(tmp, "grid", "systolic", "grid", 1, body))
    n = problem.grid_size()
    with quiet_optuna():
        result = evaluate_grid(problem)
    row = {"points": n, "eval_s": result.eval_s, "front_s": result.front_s, "total_s": result.eval_s + result.front_s,
           "points_per_s": n / result.eval_s, "front_size": int(result.pareto.sum())}  # fmt: skip
    print(f"  grid {n:,} points: evaluate {result.eval_s:.2f} s ({n / result.eval_s:,.0f} points/s), exact front "
          f"{result.front_s:.2f} s ({row['front_size']} designs), total {row['total_s']:.2f} s", flush=True)  # fmt: skip
    t0 = time.perf_counter()
    report = run_sweep(problem, results_dir=str(tmp / "results"))
    row["sweep_command_s"] = time.perf_counter() - t0
    row["sweep_steps_s"] = dict(report.timings)
    steps = ", ".join(f"{k} {v:.2f}" for k, v in report.timings.items())
    print(f"  grid as a sweep on {report.grid.engine}, --table {report.table}: {row['sweep_command_s']:.1f} s "
          f"({steps} s; benchmarks/bench_perf.py splits it further)")  # fmt: skip
    assert len(report.pareto) == len(np.unique(np.flatnonzero(result.pareto)))
    return row


def bench_hv(tmp: Path, quick: bool, seeds: int) -> list[dict]:
    body = RTSA_SPACE
    grid_problem = load_spec(spec_file(tmp, "hvgrid", "rtsa", "grid", 1, body))
    with quiet_optuna():
        grid = evaluate_grid(grid_problem)
    size = len(grid)
    dirs = grid_problem.directions
    ideal, nadir = bounds(grid.batch.objectives[grid.batch.feasible], dirs)
    exhaustive = normalized_hypervolume(grid.batch.objectives[grid.pareto], dirs, ideal, nadir)
    print(f"  rtsa grid: {size:,} designs, {int(grid.batch.feasible.sum()):,} feasible, front {int(grid.pareto.sum())}, "
          f"evaluated + front in {grid.eval_s + grid.front_s:.1f} s")  # fmt: skip
    budget = int(0.02 * size)
    checkpoints = sorted({c for c in (250, 1000, 2000, 5000, budget) if c <= budget})
    samplers = {"nsga2": budget, "random": budget} if not quick else {"nsga2": min(budget, 3000)}
    if not quick:
        samplers["nsga3"] = min(budget, 5000)
    rows = []
    for sampler, trials in samplers.items():
        for seed in range(seeds):
            problem = load_spec(spec_file(tmp, f"hv_{sampler}_{seed}", "rtsa", sampler, trials, body, seed=seed))
            t0 = time.perf_counter()
            report = run_sweep(problem, results_dir=str(tmp / "results"))
            wall = time.perf_counter() - t0
            df = report.trials.sort_values("number")
            for c in [c for c in checkpoints if c <= trials]:
                head = df.iloc[:c]
                f = head[head["feasible"]][["latency_s", "energy_j", "area_mm2"]].to_numpy(dtype=float)
                ratio = normalized_hypervolume(f, dirs, ideal, nadir) / exhaustive
                rows.append({"sampler": sampler, "seed": seed, "evaluations": c, "share_of_grid": c / size,
                             "hv_ratio": ratio, "wall_s": wall})  # fmt: skip
                print(f"  hv {sampler:6s} seed {seed} {c:6d} evals ({100 * c / size:5.2f}% of grid)  "
                      f"HV {100 * ratio:6.2f}% of exhaustive", flush=True)  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller counts")
    ap.add_argument("--only", default="samplers,storages,grid,hv", help="comma-separated sections")
    ap.add_argument("--seeds", type=int, default=2, help="seeds of the hypervolume section")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    sections = args.only.split(",")
    out: dict = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "samplers" in sections:
            print("trials/s per sampler (systolic on deit-tiny, quickstart space, embedded storage)")
            out["samplers"] = bench_samplers(tmp, args.quick)
        if "storages" in sections:
            print("trials/s per storage (NSGA-II)")
            out["storages"] = bench_storages(tmp, args.quick)
        if "grid" in sections:
            print("exhaustive grid")
            out["grid"] = bench_grid(tmp, args.quick)
        if "hv" in sections:
            print("hypervolume vs evaluations (rtsa on videomae-b), fraction of the exhaustive grid's")
            out["hv"] = bench_hv(tmp, args.quick, args.seeds)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

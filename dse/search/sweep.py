"""One sweep end to end: pick the storage and driver, run, write the outputs, summarise."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from dse.errors import InputError
from dse.search.export import check_format, pareto_table, study_tables, write_table, write_text
from dse.search.grid import GridResult, evaluate_grid, grid_table, store_grid
from dse.search.pareto import HV_REFERENCE, hypervolume, minimization_form, normalized_hypervolume
from dse.search.runner import RunStats, open_study, quiet_optuna, run_embedded, run_workers
from dse.search.space import Problem
from dse.search.storage import StorageConfig, exclusive, recover_dead_trials, storage_config

DEFAULT_RESULTS = "results"


@dataclass
class SweepReport:
    """What a sweep did and where its outputs are (the CLI prints it)."""

    problem: Problem
    out_dir: Path
    storage: StorageConfig
    trials: pd.DataFrame
    pareto: pd.DataFrame
    stats: RunStats
    wall_s: float
    target: int
    previously_complete: int
    hypervolume: float
    hv_kind: str
    paths: list[Path] = field(default_factory=list)
    baselines: list[dict[str, Any]] = field(default_factory=list)
    grid: GridResult | None = None

    @property
    def n_complete(self) -> int:
        return int((self.trials["state"] == "COMPLETE").sum()) if len(self.trials) else 0

    @property
    def n_feasible(self) -> int:
        return int(self.trials["feasible"].sum()) if len(self.trials) else 0

    def best(self) -> list[tuple[str, str, float, dict[str, Any]]]:
        """Per objective: (metric, direction, best feasible value, the design's row)."""
        out = []
        ok = self.trials[self.trials["feasible"]]
        for obj in self.problem.spec.objectives:
            if not len(ok):
                continue
            col = ok[obj.metric].astype(float)
            i = col.idxmax() if obj.direction == "maximize" else col.idxmin()
            out.append((obj.metric, obj.direction, float(col[i]), ok.loc[i].to_dict()))
        return out


def front_hypervolume(problem: Problem, trials: pd.DataFrame) -> tuple[float, str]:
    """Hypervolume of the feasible front: in metric units if every objective has a reference, else normalised."""
    objs = problem.spec.objectives
    names = [o.metric for o in objs]
    ok = trials[trials["feasible"]] if len(trials) else trials
    if not len(ok):
        return 0.0, "no feasible design"
    values = ok[names].to_numpy(dtype=float)
    if all(o.reference is not None for o in objs):
        ref = minimization_form(np.array([[o.reference for o in objs]]), problem.directions)[0]
        return hypervolume(minimization_form(values, problem.directions), ref), "reference point from the spec"
    kind = f"objectives normalised to [0, 1], reference {HV_REFERENCE}"
    return normalized_hypervolume(values, problem.directions), kind


def run_sweep(
    problem: Problem,
    *,
    storage: str | None = None,
    jobs: int = 1,
    results_dir: str | None = None,
    fmt: str = "csv",
    progress: bool = False,
    heartbeat_s: int = 10,
    on_batch: Callable[[RunStats], None] | None = None,
) -> SweepReport:
    """Run (or resume) the sweep of ``problem`` and write ``trials``, ``pareto``, the spec copy and baselines."""
    spec = problem.spec
    check_format(fmt)
    if jobs < 1:
        raise InputError("--jobs", f"must be ≥ 1, got {jobs}")
    out_dir = Path(results_dir or spec.results_dir or DEFAULT_RESULTS) / spec.study
    cfg = storage_config(storage, out_dir, heartbeat_s)
    if jobs > 1 and not cfg.concurrent:
        raise InputError(
            "--jobs", "one SQLite file does not take concurrent writers; use the default journal or a PostgreSQL URL"
        )
    if jobs > 1 and spec.sampler == "grid":
        raise InputError("--jobs", "the grid sampler is vectorized in one process; drop --jobs")
    t0 = time.perf_counter()
    stats = RunStats()
    grid = None
    hold = exclusive(out_dir) if cfg.embedded else contextlib.nullcontext()
    with hold, quiet_optuna():
        if spec.sampler == "grid":
            grid, study, previously = _run_grid(problem, cfg, progress)
            trials = grid_table(problem, grid)
            pareto = pareto_table(trials, problem.param_names, problem.objective_names)
            stats.run = len(grid) - previously
            stats.evaluations = len(grid)
            target = len(grid)
        else:
            target = spec.trials
            if cfg.embedded and jobs == 1:
                study, stats = run_embedded(problem, cfg, target, progress=progress, on_batch=on_batch)
            else:
                study = open_study(problem, cfg.open())  # before any worker starts
                if cfg.embedded:
                    stats.recovered += recover_dead_trials(study, all_running=True)
                stats += run_workers(problem, cfg, target, jobs, progress)
                study = optuna.load_study(study_name=spec.study, storage=cfg.open())
            trials, pareto, _ = study_tables(study)
            previously = int((trials["state"] == "COMPLETE").sum()) - stats.run
        wall = time.perf_counter() - t0
        hv, hv_kind = front_hypervolume(problem, trials)
        report = SweepReport(
            problem, out_dir, cfg, trials, pareto, stats, wall, target, previously, hv, hv_kind, grid=grid
        )
        report.baselines = problem.evaluate_baselines()
        report.paths = write_outputs(report, fmt)
    return report


def _run_grid(problem: Problem, cfg: StorageConfig, progress: bool) -> tuple[GridResult, optuna.Study, int]:
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=problem.grid_size(), unit="pt", unit_scale=True, leave=False, dynamic_ncols=True)
    try:
        result = evaluate_grid(problem, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    study = open_study(problem, cfg.open())
    previously = len(result) if study.user_attrs.get("dse:grid_points") == len(result) else 0
    store_grid(study, problem, result)
    return result, study, previously


def write_outputs(report: SweepReport, fmt: str) -> list[Path]:
    """``trials``, ``pareto``, ``spec.toml`` and ``baselines`` into the results directory, atomically."""
    out = report.out_dir
    paths = [write_table(report.trials, out / "trials", fmt), write_table(report.pareto, out / "pareto", fmt)]
    spec = report.problem.spec
    if spec.source:
        paths.append(write_text(spec.source, out / "spec.toml"))
    if report.baselines:
        paths.append(write_table(pd.DataFrame(report.baselines), out / "baselines", fmt))
    if report.storage.kind == "journal":
        paths.append(Path(report.storage.location))
    return paths


def count_complete(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))

"""Exhaustive search: every point of the discretised space, evaluated in large vectorized batches.

No optuna trial is created per point (a 2,560-point ``GridSampler`` took 283 s; this path evaluates
about 10⁶ points in seconds). The full table is written as ``trials.csv`` like any study's; the study
storage receives the points as COMPLETE trials (``study.add_trials``) when there are at most
``sampler.store_limit`` of them (default 20,000 on a journal, 2,000 on an RDB), otherwise only the
Pareto-optimal ones, so ``export`` and optuna's plots see the front either way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd
from optuna.storages import JournalStorage
from optuna.trial import TrialState

from dse.search.export import constraint_column
from dse.search.pareto import nondominated
from dse.search.space import Batch, Problem

DEFAULT_BATCH = 1 << 17
DEFAULT_STORE_LIMIT = 20_000
DEFAULT_STORE_LIMIT_RDB = 2_000  # one transaction per trial on an RDB server
GRID_ATTR = "dse:grid_points"


@dataclass
class GridResult:
    """All grid points: parameter columns, the evaluated batch, the Pareto mask and timings."""

    params: dict[str, np.ndarray]
    batch: Batch
    pareto: np.ndarray
    eval_s: float
    front_s: float

    def __len__(self) -> int:
        return len(self.pareto)


def _concat(batches: list[Batch]) -> Batch:
    if len(batches) == 1:
        return batches[0]
    return Batch(
        {k: np.concatenate([b.metrics[k] for b in batches]) for k in batches[0].metrics},
        np.concatenate([b.objectives for b in batches]),
        np.concatenate([b.constraints for b in batches]),
        np.concatenate([b.ok for b in batches]),
    )


def evaluate_grid(problem: Problem, batch_points: int | None = None, progress=None) -> GridResult:
    """Evaluate the whole grid and extract its exact Pareto front (feasible points only)."""
    axes = problem.grid_axes()
    sizes = [len(v) for _, v in axes]
    total = int(np.prod(sizes)) if sizes else 1
    step = batch_points or problem.spec.option("batch_size", DEFAULT_BATCH)
    t0 = time.perf_counter()
    params = {name: np.empty(total, dtype=vals.dtype) for name, vals in axes}
    batches = []
    for start in range(0, total, step):
        idx = np.arange(start, min(total, start + step))
        sub = np.unravel_index(idx, sizes) if sizes else ()
        points = {name: vals[s] for (name, vals), s in zip(axes, sub, strict=True)}
        for name, v in points.items():
            params[name][start : start + len(idx)] = v
        batches.append(problem.evaluate(points))
        if progress is not None:
            progress.update(len(idx))
    batch = _concat(batches)
    t1 = time.perf_counter()
    feasible = batch.feasible
    pareto = np.zeros(total, dtype=bool)
    if feasible.any():
        pareto[feasible] = nondominated(batch.objectives[feasible], problem.directions)
    return GridResult(params, batch, pareto, t1 - t0, time.perf_counter() - t1)


def grid_table(problem: Problem, result: GridResult) -> pd.DataFrame:
    """The grid as a trials table (same columns as a study's ``trials.csv``)."""
    n = len(result)
    cols: dict[str, object] = {"number": np.arange(n), "state": np.where(result.batch.ok, "COMPLETE", "FAIL")}
    for name in problem.param_names:
        cols[name] = result.params[name] if name in result.params else np.full(n, problem.fixed[name], dtype=object)
    cols.update(result.batch.metrics)
    for j, name in enumerate(problem.constraint_names):
        cols[constraint_column(name)] = result.batch.constraints[:, j]
    per_point = (result.eval_s / n) if n else 0.0
    cols.update(feasible=result.batch.feasible, duration_s=np.full(n, per_point), datetime_start=None)
    cols["pareto"] = result.pareto
    return pd.DataFrame(cols)


def store_grid(study: optuna.Study, problem: Problem, result: GridResult) -> int:
    """Add the grid points (all, or the front if more than ``store_limit``) to the study; returns the count.

    Skipped when the study already holds this grid (a re-run adds nothing).
    """
    n = len(result)
    if study.user_attrs.get(GRID_ATTR) == n:
        return 0
    default = DEFAULT_STORE_LIMIT if isinstance(study._storage, JournalStorage) else DEFAULT_STORE_LIMIT_RDB
    limit = problem.spec.option("store_limit", default)
    rows = np.arange(n) if n <= limit else np.flatnonzero(result.pareto)
    done = {t.system_attrs.get("dse:grid_index") for t in study.get_trials(deepcopy=False)}
    rows = [i for i in rows if int(i) not in done]  # an interrupted earlier store: add only the rest
    dists = problem.distributions()
    report = list(result.batch.metrics)
    metrics = np.column_stack([np.asarray(result.batch.metrics[m], dtype=float) for m in report])
    trials = []
    now = optuna.trial.create_trial  # local alias
    for i in rows:
        ok = bool(result.batch.ok[i])
        system_attrs = {
            f"constraints:{c}": float(result.batch.constraints[i, j]) for j, c in enumerate(problem.constraint_names)
        }
        system_attrs["dse:grid_index"] = int(i)
        trials.append(
            now(
                state=TrialState.COMPLETE if ok else TrialState.FAIL,
                values=result.batch.objectives[i].tolist() if ok else None,
                params={k: _py(result.params[k][i]) for k in dists},
                distributions=dists,
                user_attrs=dict(zip(report, metrics[i].tolist(), strict=True)),
                system_attrs=system_attrs,
            )
        )
    backend = getattr(study._storage, "_backend", None) if isinstance(study._storage, JournalStorage) else None
    if hasattr(backend, "batch"):
        with backend.batch():
            study.add_trials(trials)
    else:
        study.add_trials(trials)
    study.set_user_attr(GRID_ATTR, n)
    study.set_user_attr("dse:grid_stored", "all" if n <= limit else "pareto")
    return len(trials)


def _py(v):
    return v.item() if hasattr(v, "item") else v

"""Robust fronts: the designs of a sweep's front re-evaluated jointly under the declared uncertainty.

After a sweep, every design of the front is evaluated under the same N joint samples of the declared
inputs (:mod:`dse.uncertainty`) that are not design choices — data spreads (delta and attention sparsity),
technology factors (MAC, SRAM, DRAM energy, leakage, areas, the V–f law, the FPGA gap) and calibration
factors — in one vectorized call per chunk of :data:`MAX_POINTS` design × sample points, the designs on one
axis and the samples on another (:func:`dse.scenario.evaluate`'s ``block``): what depends on the design
alone (cycles, traffic) is computed once per design, not once per sample. A sweep's designs are the user's
own, so ``design`` inputs (RTSA's unpublished array size, clock …) are not perturbed.

Per design, ``pareto.csv`` gains

* ``p_pareto``: the share of samples in which the design is feasible and not dominated by another feasible
  design of the front in the same sample (the probability of being Pareto-optimal among the front);
* ``p_feasible``: the share of samples in which it satisfies the constraints and its accelerator's rules;
* ``{metric}_p5``, ``{metric}_p50``, ``{metric}_p95`` for each objective's metric.

A quantile objective (``latency_s = { direction = "minimize", quantile = 0.9 }``) is searched on that quantile
over ``[uncertainty] search_samples`` samples per design (:func:`quantile_columns`), the same samples for
every design (common random numbers: the seed fixes them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dse.accelerators.base import Accelerator
from dse.hardware import factors as F
from dse.search.pareto import nondominated
from dse.search.space import Batch, Problem
from dse.uncertainty import montecarlo as mc
from dse.uncertainty.declared import Declared, load_overrides

#: the declared inputs a sweep's designs are re-evaluated under (not ``design``: the designs are the user's)
ROBUST_KINDS = ("data", "technology", "calibration")
#: design × sample points per model call
MAX_POINTS = 250_000


@dataclass
class RobustFront:
    """The front with its robustness columns, and what the run was."""

    table: pd.DataFrame
    samples: int = 0
    seed: int = 0
    inputs: tuple[str, ...] = ()
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.samples:
            return "robust front: skipped (" + ("; ".join(self.notes) or "no samples") + ")"
        p = self.table["p_pareto"] if len(self.table) else pd.Series(dtype=float)
        n, held = len(self.table), int((p >= 0.5).sum())
        return (f"robust front: {n} design{'s' * (n != 1)} × {self.samples} joint samples of {len(self.inputs)} "
                f"declared inputs in {self.seconds:.2f} s; p_pareto median {p.median():.2f}, "
                f"{held} design{'s' * (held != 1)} Pareto-optimal in at least half the samples")  # fmt: skip


def declared(problem: Problem) -> Declared:
    return load_overrides(problem.spec.uncertainty.file)


def seed_of(problem: Problem) -> int:
    s = problem.spec.uncertainty.seed
    return problem.spec.seed if s is None else s


def draws(problem: Problem, n: int, acc: Accelerator | None = None) -> mc.Draws:
    """``n`` joint samples of the non-design inputs that perturb ``acc`` (default: the study's accelerator)."""
    inputs = mc.inputs_for([acc or problem.accelerator], declared(problem), kinds=ROBUST_KINDS)
    return mc.sample(inputs, n, seed_of(problem))


def _axes(problem: Problem, n: int, design: bool) -> tuple[int, ...]:
    """The shape of a value along the design axis (``design``) or the sample axis of a (designs, samples)
    block; a mix's points are one more, last axis."""
    shape = (n, 1) if design else (1, n)
    return (*shape, 1) if problem.scenario.is_mix else shape


def _perturbed(problem: Problem, acc: Accelerator, points: dict[str, np.ndarray], fixed: dict[str, Any], d: int,
               dr: mc.Draws) -> dict[str, np.ndarray]:  # fmt: skip
    """``points`` (d designs) on the design axis of a (d, N) block and the data inputs applied along its
    sample axis: a parameter an input perturbs becomes (d, N) (a searched one), (1, N) (fixed), or
    (1, N, points) (a fixed value per point of a mix)."""
    out = {k: np.asarray(v).reshape(_axes(problem, d, True)) for k, v in points.items()}
    names = {p.name for p in acc.params}
    for j, u in enumerate(dr.inputs):
        if u.target != "param" or u.key not in names or acc.name not in u.accelerators:
            continue
        param = acc.param(u.key)
        x = dr._values(j)
        shift = np.where(np.isnan(x), 0.0, x - float(param.default)).reshape(_axes(problem, dr.n, False))
        if u.key in points:
            nominal = np.asarray(points[u.key], dtype=np.float64).reshape(_axes(problem, d, True))
        elif acc is problem.accelerator and u.key in problem.per_point and u.key in fixed:
            nominal = problem.per_point[u.key]  # (1, points) of a mix
        else:
            nominal = np.asarray(fixed.get(u.key, param.default), dtype=np.float64)
        v = np.clip(nominal + shift, -np.inf if param.low is None else param.low,
                    np.inf if param.high is None else param.high)  # fmt: skip
        out[u.key] = np.round(v) if param.kind == "int" else v
    return out


def sampled_batch(problem: Problem, points: dict[str, np.ndarray], d: int, dr: mc.Draws) -> Batch:
    """The study's objectives, constraints and metrics of ``d`` designs under every sample of ``dr``: rows
    ``design · N + sample``; one vectorized call over the (designs, samples) block."""
    pts = _perturbed(problem, problem.accelerator, points, problem.fixed, d, dr)
    # a structural parameter with several values is evaluated value by value and scattered back on the
    # parameters' joint shape (Accelerator.evaluate): give it the whole block, samples included
    full = (d, dr.n, 1) if problem.scenario.is_mix else (d, dr.n)
    for k in problem.accelerator.structural:
        if k in pts and np.unique(pts[k]).size > 1:
            pts[k] = np.broadcast_to(pts[k], np.broadcast_shapes(np.shape(pts[k]), full))
    with F.applied(dr.factors(_axes(problem, dr.n, False))):
        return problem.evaluate(pts, robust=False, block=(d, dr.n))


def quantile_columns(problem: Problem, points: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Each quantile objective's column (``latency_s@q90``) for ``n`` designs: the quantile of its metric over
    ``[uncertainty] search_samples`` joint samples (the same samples for every design)."""
    dr = draws(problem, problem.spec.uncertainty.search_samples)
    out: dict[str, list[np.ndarray]] = {}
    step = max(1, MAX_POINTS // dr.n)
    for lo in range(0, n, step):
        chunk = {k: np.asarray(v)[lo : lo + step] for k, v in points.items()}
        d = min(step, n - lo)
        b = sampled_batch(problem, chunk, d, dr)
        for o in problem.spec.objectives:
            if o.quantile is not None:
                vals = np.asarray(b.metrics[o.metric], dtype=np.float64).reshape(d, dr.n)
                out.setdefault(o.column, []).append(np.quantile(vals, o.quantile, axis=1))
    return {k: np.concatenate(v) for k, v in out.items()}


def baseline_quantiles(problem: Problem, acc: Accelerator, params: dict[str, Any]) -> dict[str, float]:
    """A baseline's quantile-objective columns under the same kind of samples (its own non-design inputs)."""
    dr = draws(problem, problem.spec.uncertainty.search_samples, acc)
    pts = _perturbed(problem, acc, {}, params, 1, dr)
    with F.applied(dr.factors(_axes(problem, dr.n, False))):
        result = problem._evaluate(acc, pts, params, dr.n, block=(1, dr.n))
    out = {}
    for o in problem.spec.objectives:
        if o.quantile is not None and o.metric in result.metrics:
            v = np.broadcast_to(np.asarray(result.metrics[o.metric], dtype=np.float64), (dr.n,))
            out[o.column] = float(np.quantile(v, o.quantile))
    return out


def p_pareto(values: np.ndarray, feasible: np.ndarray, directions) -> np.ndarray:
    """Per design, the share of samples in which it is feasible and non-dominated among the feasible designs
    of that sample. ``values``: (designs, samples, objectives); ``feasible``: (designs, samples)."""
    d, n, _ = values.shape
    hits = np.zeros(d)
    ok = (feasible & np.all(np.isfinite(values), axis=2)).T  # (samples, designs)
    by_sample = np.moveaxis(values, 1, 0)  # (samples, designs, objectives)
    for s in np.flatnonzero(ok.any(axis=1)):  # one front per sample (moocore), over the designs
        idx = np.flatnonzero(ok[s])
        hits[idx[nondominated(by_sample[s, idx], directions)]] += 1
    return hits / n


def robust_front(problem: Problem, pareto: pd.DataFrame, samples: int | None = None) -> RobustFront:
    """``pareto`` (the sweep's front) with ``p_pareto``, ``p_feasible`` and the objectives' 5/50/95% columns
    over ``samples`` (default ``[uncertainty] samples``) joint samples; unchanged when there is nothing to do."""
    n = problem.spec.uncertainty.samples if samples is None else samples
    if not len(pareto) or n < 1:
        return RobustFront(pareto, notes=["no front" if not len(pareto) else "[uncertainty] samples = 0"])
    t0 = time.perf_counter()
    dr = draws(problem, n)
    d = len(pareto)
    points = {dim.name: pareto[dim.name].to_numpy() for dim in problem.searched if dim.name in pareto.columns}
    metrics = sorted(set(problem.objective_metrics), key=problem.objective_metrics.index)
    vals = {m: np.empty((d, n)) for m in metrics}
    feasible = np.empty((d, n), dtype=bool)
    step = max(1, MAX_POINTS // n)
    for lo in range(0, d, step):
        hi = min(d, lo + step)
        b = sampled_batch(problem, {k: v[lo:hi] for k, v in points.items()}, hi - lo, dr)
        for m in metrics:
            vals[m][lo:hi] = np.asarray(b.metrics[m], dtype=np.float64).reshape(hi - lo, n)
        feasible[lo:hi] = (b.feasible & b.ok).reshape(hi - lo, n)
    cube = np.stack([vals[o.metric] for o in problem.spec.objectives], axis=2)
    out = pareto.copy()
    out["p_pareto"] = p_pareto(cube, feasible, problem.directions)
    out["p_feasible"] = feasible.mean(axis=1)
    for m in metrics:
        q = mc.quantiles(vals[m], axis=1)
        for name, v in q.items():
            out[f"{m}_{name}"] = v
    return RobustFront(out, n, seed_of(problem), tuple(u.name for u in dr.inputs), time.perf_counter() - t0)

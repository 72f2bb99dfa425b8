"""One evaluation of designs on a scenario: a single (resolution, frames) point or a weighted resolution mix.

Every place that evaluates a design on a study's workload (the search, report, pareto, compare,
breakdown) calls :func:`evaluate`, so a mix is aggregated one way everywhere:

* ``mean``: the weighted mean of each metric over the mix's points (energy and latency of a battery
  scenario that spends ``weight`` of its inputs at each resolution);
* ``max`` (worst case): per metric, its worst value over the points — the largest for a metric to
  minimise, the smallest for one to maximise (directions from :mod:`dse.metrics`).

A per-objective aggregate (``aggregates={"energy_j": "mean", "latency_s": "max"}``) overrides the
scenario's default for that metric. Per-resolution values are kept as ``metric@R`` columns.

Shapes: ``n`` design points × ``r`` scenario points; a single point evaluates with shape ``(n,)``. A
``block`` of design axes (``(d, N)``: d designs × N Monte Carlo samples) is evaluated in one model call with
each value on its own axes and flattened to ``n = d·N`` rows afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dse.accelerators.base import Accelerator, Evaluation, broadcast_to
from dse.errors import choice_error
from dse.metrics import METRICS
from dse.workloads import Workload, build

AGGREGATES = ("mean", "max")


@dataclass(frozen=True)
class Point:
    """One workload point of a scenario: resolution (H, W), frames, weight in the mix and its column label."""

    height: int
    width: int
    frames: int
    weight: float
    label: str


@dataclass(frozen=True)
class Scenario:
    """A model and its workload points (one, or a weighted mix) with the mix's default aggregate."""

    model: str
    points: tuple[Point, ...]
    aggregate: str = "mean"
    #: per-metric aggregate overriding ``aggregate`` (e.g. mean energy, worst-case latency)
    aggregates: Mapping[str, str] = field(default_factory=dict)
    #: workload builder options (architecture overrides) passed to :func:`dse.workloads.build`
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for how in (self.aggregate, *self.aggregates.values()):
            if how not in AGGREGATES:
                raise choice_error("aggregate", how, AGGREGATES)

    @property
    def is_mix(self) -> bool:
        return len(self.points) > 1

    @property
    def weights(self) -> np.ndarray:
        w = np.asarray([p.weight for p in self.points], dtype=np.float64)
        return w / w.sum()

    def how(self, metric: str) -> str:
        return self.aggregates.get(metric, self.aggregate)

    def workload(self, n: int = 1) -> Workload:
        """The workload over all points: shape ``(1, r)`` for a mix, ``()`` for a single point."""
        if not self.is_mix:
            p = self.points[0]
            return build(self.model, (p.height, p.width), p.frames, **self.options)
        h = np.asarray([[p.height for p in self.points]])
        w = np.asarray([[p.width for p in self.points]])
        f = np.asarray([[p.frames for p in self.points]])
        return build(self.model, (h, w), f, **self.options)


def single(model: str, resolution=None, frames=None, **options) -> Scenario:
    """A one-point scenario at ``resolution`` (R or (H, W); default: the model's) and ``frames``."""
    wl = build(model, resolution, frames, **options)
    h, w, f = int(np.asarray(wl.height)), int(np.asarray(wl.width)), int(np.asarray(wl.frames))
    return Scenario(model, (Point(h, w, f, 1.0, str(h) if h == w else f"{h}x{w}"),), options=dict(options))


@dataclass(frozen=True)
class ScenarioResult:
    """Designs evaluated on a scenario.

    ``evaluation``: the raw evaluation, arrays of shape ``(n,)`` (single point) or ``(n, r)`` (mix), or the
    ``block``'s shape ``block + (r,)`` when one was given; ``metrics``: per design, each metric aggregated
    over the mix (shape ``(n,)``); ``per_point``: ``metric@label`` columns of a mix (shape ``(n,)`` each;
    empty for a single point); ``raw``: the numeric metrics as evaluated, ``(n,)`` or ``(n, r)`` (float).
    """

    scenario: Scenario
    evaluation: Evaluation
    metrics: Mapping[str, np.ndarray]
    per_point: Mapping[str, np.ndarray]
    raw: Mapping[str, np.ndarray] = field(default_factory=dict)

    def point_index(self, metric: str = "latency_s") -> np.ndarray:
        """Per design, the index of the scenario point the aggregate of ``metric`` stands for: its worst
        point under ``max``, ``-1`` (all points, weighted) under ``mean`` or for a single point."""
        n = len(next(iter(self.metrics.values())))
        if not self.scenario.is_mix or self.scenario.how(metric) == "mean":
            return np.full(n, -1)
        raw = np.asarray(self.evaluation.metrics[metric], dtype=np.float64)
        m = METRICS.get(metric)
        return np.argmin(raw, axis=1) if (m is not None and m.maximize) else np.argmax(raw, axis=1)

    def breakdown(self, i: int) -> tuple[dict[str, float], dict[str, float]]:
        """Design ``i``'s stage latencies (s) and component energies (J), consistent with its aggregated
        ``latency_s`` and ``energy_j``: the weighted mean over a mix under ``mean``, the worst point's
        (for latency and for energy respectively) under ``max``."""
        ev = self.evaluation
        w = self.scenario.weights

        def pick(a, j: int) -> float:
            a = np.asarray(a, dtype=np.float64)
            row = a[i] if a.ndim >= 1 and a.shape[0] > i else a
            if not self.scenario.is_mix:
                return float(np.asarray(row).reshape(-1)[0])
            row = np.broadcast_to(row, w.shape)
            return float(row[j]) if j >= 0 else float(row @ w)

        j_lat = int(self.point_index("latency_s")[i])
        j_en = int(self.point_index("energy_j")[i])
        stages = {s: pick(st.latency_s, j_lat) for s, st in ev.stages.items()}
        comps = {c: pick(v, j_en) for c, v in ev.energy.items()}
        return stages, comps


def aggregate(scenario: Scenario, raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Aggregate ``(n, r)`` per-point metrics over the mix (identity for a single point)."""
    if not scenario.is_mix:
        return {k: np.asarray(v) for k, v in raw.items()}
    w = scenario.weights
    out = {}
    for k, v in raw.items():
        v = np.asarray(v, dtype=np.float64)
        if scenario.how(k) == "mean":
            out[k] = v @ w
        else:
            m = METRICS.get(k)
            out[k] = v.min(axis=1) if (m is not None and m.maximize) else v.max(axis=1)
    return out


def evaluate(
    acc: Accelerator,
    scenario: Scenario,
    values: Mapping[str, Any],
    n: int | None = None,
    resolution: Any = None,
    frames: Any = None,
    block: tuple[int, ...] | None = None,
) -> ScenarioResult:
    """Evaluate designs ``values`` (parameter → scalar or array of ``n``) on ``scenario`` in one model call.

    ``resolution`` / ``frames`` (arrays of ``n``): per-design workload values when the search varies them
    (a resolution replaces a single point's; frames apply to every point of a mix).
    ``block``: the designs as a block of axes instead, e.g. ``(d, N)`` for d designs under N Monte Carlo
    samples; every value (and factor) is then broadcastable to ``block`` (a mix's points on one more, last
    axis), so what depends on the design only is computed once per design, and the result is flattened to
    ``n = d·N`` rows, row ``i·N + j`` (the same numbers as the ``n`` rows given one by one).
    Raises ``InputError`` for malformed parameter values; invalid designs come back with ``valid`` = 0.
    """
    vals = {k: np.asarray(v) for k, v in values.items()}
    if block is not None:
        n = int(np.prod(block))
    elif n is None:
        n = max((v.shape[0] for v in vals.values() if v.ndim), default=1)
    lead = (n,) if block is None else tuple(block)
    if scenario.is_mix:
        if block is None:
            vals = {k: (v.reshape(-1, 1) if v.ndim == 1 else v) for k, v in vals.items()}  # (1, r): per point
        shape: tuple[int, ...] = (*lead, len(scenario.points))
        wl = scenario.workload()
        if frames is not None:
            f = np.asarray(frames) if block is not None else np.asarray(frames).reshape(-1, 1)
            wl = build(scenario.model, (wl.height, wl.width), f, **scenario.options)
    else:
        shape = lead
        wl = scenario.workload()
        if resolution is not None or frames is not None:
            p = scenario.points[0]
            res = (p.height, p.width) if resolution is None else resolution
            if isinstance(res, tuple):
                res = tuple(np.asarray(x) for x in res)
            wl = build(scenario.model, res, p.frames if frames is None else np.asarray(frames), **scenario.options)
    ev = acc.evaluate(wl, vals)
    raw = {
        k: broadcast_to(np.asarray(v, dtype=np.float64), tuple(shape))
        for k, v in ev.metrics.items()
        if np.asarray(v).dtype.kind in "biuf"
    }
    if block is not None:  # (d, N[, r]) → (d·N[, r])
        raw = {k: v.reshape(n, *shape[len(lead) :]) for k, v in raw.items()}
    metrics = aggregate(scenario, raw)
    per_point: dict[str, np.ndarray] = {}
    if scenario.is_mix:
        for k, v in raw.items():
            for j, p in enumerate(scenario.points):
                per_point[f"{k}@{p.label}"] = v[:, j]
        # a design is valid only if it is valid at every point of the mix
        if "valid" in raw:
            metrics["valid"] = raw["valid"].min(axis=1)
    return ScenarioResult(scenario, ev, metrics, per_point, raw)

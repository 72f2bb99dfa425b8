"""The search problem: a validated spec bound to its accelerator and workload, evaluated in batches.

:class:`Problem` checks the spec against the accelerator (parameter names, kinds and ranges, metric
names, workload dimensions), turns the space into optuna distributions or grid axes, and evaluates
many design points in one vectorized model call. A resolution mix is evaluated as one call with
arrays of shape ``(n_points, n_resolutions)`` and aggregated along axis 1.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from dse import accelerators
from dse.accelerators import Accelerator, Param
from dse.errors import InputError
from dse.search.spec import WORKLOAD_DIMS, Dimension, Resolution, Spec
from dse.workloads import build, get_spec

MAX_WORKLOAD_VALUES = 10_000
DEFAULT_GRID_MAX_POINTS = 2_000_000


@dataclass
class Batch:
    """Evaluated design points: per-point metrics (aggregated over a mix), objectives, constraints."""

    metrics: dict[str, np.ndarray]
    objectives: np.ndarray  # (n, n_objectives), in the metrics' own sense
    constraints: np.ndarray  # (n, n_constraints), relative violation, ≤ 0 feasible
    ok: np.ndarray  # (n,) objectives are numbers (not NaN)

    @property
    def feasible(self) -> np.ndarray:
        return self.ok & np.all(self.constraints <= 0, axis=1)

    def __len__(self) -> int:
        return len(self.ok)


def _res_label(res: Resolution | None) -> str:
    return "default" if res is None else (str(res) if isinstance(res, int) else f"{res[0]}x{res[1]}")


class Problem:
    """A spec validated against its accelerator, ready to be searched or enumerated."""

    def __init__(self, spec: Spec, accelerator: Accelerator | None = None):
        self.spec = spec
        self.accelerator = accelerator or accelerators.get(spec.accelerator)
        try:
            self.model = get_spec(spec.scenario.model)
        except InputError as err:
            raise InputError("workload.model", str(err).split(": ", 1)[1]) from None
        self._check_scenario()
        self.dims: dict[str, Dimension] = {}
        for dim in spec.space:
            self.dims[dim.name] = self._check_dimension(dim)
        self.fixed = {d.name: d.value for d in self.dims.values() if not d.searched}
        self.searched = [d for d in self.dims.values() if d.searched]
        self.param_names = list(self.dims)
        self.metric_names = self._probe_metrics()
        self._check_metrics()
        self._check_sampler()
        self.baselines = [self._check_baseline(i, b) for i, b in enumerate(spec.baselines)]

    # -- validation ---------------------------------------------------------------------------

    def _build(self, resolution: Any, frames: Any, field: str):
        try:
            return build(self.model.name, resolution, frames)
        except InputError as err:
            msg = str(err).split(": ", 1)[1]
            if field == "workload":
                raise InputError(f"workload.{err.field}", msg) from None
            raise InputError(field, msg if field.endswith(err.field) else str(err)) from None

    def _check_scenario(self) -> None:
        sc = self.spec.scenario
        for res, frames in zip(sc.resolutions, sc.frames, strict=True):
            field = "workload.resolutions" if sc.is_mix else "workload"
            self._build(res, frames, field)

    def _check_dimension(self, dim: Dimension) -> Dimension:
        where = f"space.{dim.name}"
        names = [p.name for p in self.accelerator.params]
        if dim.name in WORKLOAD_DIMS:
            return self._check_workload_dim(dim, where)
        if dim.name not in names:
            raise InputError(
                where,
                f"{self.accelerator.name} has no parameter {dim.name!r}; allowed: {', '.join(names + list(WORKLOAD_DIMS))}",
            )
        param = self.accelerator.param(dim.name)
        if param.kind == "choice" and dim.kind in ("fixed", "choice"):
            allowed = [str(c) for c in param.choices]
            given = [dim.value] if dim.kind == "fixed" else list(dim.choices)
            bad = next((c for c in given if str(c) not in allowed), None)
            if bad is not None:
                field = where if dim.kind == "fixed" else f"{where}.choices"
                raise InputError(field, f"unknown value {bad!r}; allowed: {', '.join(allowed)}")
        if dim.kind == "fixed":
            return Dimension(dim.name, "fixed", value=_native(param, self._coerce(param, dim.value, where)))
        if dim.kind == "choice":
            self._coerce(param, list(dim.choices), f"{where}.choices")
            return Dimension(dim.name, "choice", choices=tuple(_native(param, v) for v in dim.choices))
        if param.kind == "choice":
            raise InputError(where, f"{dim.name} is a choice parameter: use choices = [...] from {param.range_text()}")
        if param.kind == "int" and dim.kind != "int":
            raise InputError(where, f"{dim.name} is an integer parameter: low, high and step must be integers")
        self._coerce(param, [dim.low, dim.high], where)
        if param.kind == "float":
            return Dimension(dim.name, "float", low=float(dim.low), high=float(dim.high),
                             step=None if dim.step is None else float(dim.step), log=dim.log, points=dim.points)  # fmt: skip
        return dim

    @staticmethod
    def _coerce(param: Param, value: Any, where: str) -> np.ndarray:
        try:
            return param.coerce(value)
        except InputError as err:
            raise InputError(where, str(err).split(": ", 1)[1]) from None

    def _check_workload_dim(self, dim: Dimension, where: str) -> Dimension:
        sc = self.spec.scenario
        if dim.name == "resolution" and sc.resolutions != (None,):
            raise InputError(where, "resolution is also set in [workload]; set it in one place")
        if dim.name == "frames" and sc.frames != (None,) * len(sc.frames):
            raise InputError(where, "frames is also set in [workload]; set it in one place")
        if dim.kind == "float":
            raise InputError(where, f"{dim.name} takes integers: choices = [...] or low/high/step integers")
        if dim.kind == "int" and dim.step is None:
            raise InputError(
                where, f"a {dim.name} range needs an integer step (e.g. the patch size {self.model.patch})"
            )
        values = np.asarray(self._values_of(dim))
        if values.dtype.kind not in "iu" and not (values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0)):
            raise InputError(where, f"{dim.name} takes integers (square resolutions / frame counts), got {values!r}")
        if values.size > MAX_WORKLOAD_VALUES:
            raise InputError(where, f"{values.size} values; at most {MAX_WORKLOAD_VALUES}")
        if dim.name == "resolution":
            self._build(values.astype(np.int64), sc.frames[0], where)
        else:
            res = np.asarray([r if r is not None else self.model.resolution for r in sc.resolutions][:1])
            self._build(res, values.astype(np.int64), where)
        if dim.kind == "fixed":
            return Dimension(dim.name, "fixed", value=int(dim.value))
        if dim.kind == "choice":
            return Dimension(dim.name, "choice", choices=tuple(int(v) for v in dim.choices))
        return dim

    def _probe_metrics(self) -> list[str]:
        point = {d.name: np.asarray([self._values_of(d)[0]]) for d in self.searched}
        ev = self._evaluate_raw(self.accelerator, point, {**self.fixed}, 1)
        return [k for k, v in ev.items() if np.asarray(v).dtype.kind in "biuf"]

    def _check_metrics(self) -> None:
        allowed = ", ".join(self.metric_names)
        for obj in self.spec.objectives:
            if obj.metric not in self.metric_names:
                raise InputError(
                    f"objectives.{obj.metric}", f"unknown metric of {self.accelerator.name}; allowed: {allowed}"
                )
        for con in self.spec.constraints:
            if con.metric not in self.metric_names:
                if con.name in ("fpga_fit", "max_accuracy_drop"):
                    raise InputError(
                        f"constraints.{con.name}",
                        f"{self.accelerator.name} reports no {con.metric} metric; metrics: {allowed}",
                    )
                raise InputError(
                    f"constraints.{con.metric}", f"unknown metric of {self.accelerator.name}; allowed: {allowed}"
                )

    def _check_sampler(self) -> None:
        spec = self.spec
        if spec.sampler == "gp" and importlib.util.find_spec("torch") is None:
            raise InputError(
                "sampler",
                "gp needs PyTorch (pip install torch); samplers without it: nsga2, nsga3, tpe, random, qmc, grid",
            )
        if spec.sampler == "grid":
            for d in self.searched:
                if d.kind == "float" and d.step is None and d.points is None:
                    raise InputError(f"space.{d.name}", "the grid sampler needs step or points for a float range")
            size = self.grid_size()
            limit = spec.option("max_points", DEFAULT_GRID_MAX_POINTS)
            if size > limit:
                raise InputError("space", f"the grid has {size:,} points, more than sampler.max_points = {limit:,}")
        elif not self.searched:
            raise InputError("space", "nothing to search: every parameter is fixed (give a range or choices)")

    def _check_baseline(self, i: int, baseline) -> tuple[str, Accelerator, dict[str, Any]]:
        where = f"baselines[{i}]"
        try:
            acc = accelerators.get(baseline.accelerator)
        except InputError as err:
            raise InputError(f"{where}.accelerator", str(err).split(": ", 1)[1]) from None
        params = {}
        for key, value in baseline.params:
            names = [p.name for p in acc.params]
            if key not in names:
                raise InputError(
                    f"{where}.params.{key}", f"{acc.name} has no such parameter; allowed: {', '.join(names)}"
                )
            params[key] = _native(acc.param(key), self._coerce(acc.param(key), value, f"{where}.params.{key}"))
        return baseline.label, acc, params

    # -- space ----------------------------------------------------------------------------------

    @staticmethod
    def _values_of(dim: Dimension) -> list[Any]:
        """The discrete values of a dimension (grid axis); a continuous range gives its endpoints."""
        if dim.kind == "fixed":
            return [dim.value]
        if dim.kind == "choice":
            return list(dim.choices)
        lo, hi = dim.low, dim.high
        if dim.points is not None:
            vals = np.geomspace(lo, hi, dim.points) if dim.log else np.linspace(lo, hi, dim.points)
            if dim.kind == "int":
                return [int(v) for v in np.unique(np.round(vals).astype(np.int64))]
            return [float(f"{v:.6g}") for v in vals] if dim.log else list(vals)
        if dim.kind == "int":
            return list(range(int(lo), int(hi) + 1, int(dim.step or 1)))
        if dim.step is not None:
            n = int(round((hi - lo) / dim.step))
            return list(lo + dim.step * np.arange(n + 1))
        return [lo, hi]

    def grid_axes(self) -> list[tuple[str, np.ndarray]]:
        return [(d.name, np.asarray(self._values_of(d))) for d in self.searched]

    def grid_size(self) -> int:
        size = 1
        for d in self.searched:
            size *= len(self._values_of(d))
        return size

    def distributions(self) -> dict[str, BaseDistribution]:
        """The searched dimensions as optuna distributions, the same discrete values as the grid where
        discretised: ``step`` → a stepped range; ``points`` → a stepped range (linear) or the values as
        choices (log or integer, which no stepped distribution expresses)."""
        out: dict[str, BaseDistribution] = {}
        for d in self.searched:
            if d.points is not None:
                values = self._values_of(d)
                if d.kind == "float" and not d.log:
                    out[d.name] = FloatDistribution(d.low, d.high, step=(d.high - d.low) / (d.points - 1))
                else:
                    out[d.name] = CategoricalDistribution([_round(v) for v in values])
            elif d.kind == "choice":
                out[d.name] = CategoricalDistribution(d.choices)
            elif d.kind == "int":
                out[d.name] = IntDistribution(int(d.low), int(d.high), log=d.log, step=int(d.step or 1))
            else:
                out[d.name] = FloatDistribution(d.low, d.high, log=d.log, step=d.step)
        return out

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.spec.objectives]

    @property
    def objective_names(self) -> list[str]:
        return [o.metric for o in self.spec.objectives]

    @property
    def constraint_names(self) -> list[str]:
        return [c.name for c in self.spec.constraints]

    def report_names(self) -> list[str]:
        """Columns reported per design: every metric, plus per-resolution objectives of a mix."""
        sc = self.spec.scenario
        extra = [f"{m}@{_res_label(r)}" for m in self.objective_names for r in sc.resolutions] if sc.is_mix else []
        return self.metric_names + extra

    # -- evaluation -----------------------------------------------------------------------------

    def _evaluate_raw(self, acc: Accelerator, points: dict[str, np.ndarray], fixed: dict[str, Any], n: int) -> dict:
        """Metrics broadcast to ``(n,)`` or ``(n, n_resolutions)``: one vectorized model call, or one per
        value of a parameter the model takes as a single value per call (structural, e.g. a block count)."""
        try:
            return self._evaluate_once(acc, points, fixed, n)
        except InputError as err:
            key = err.field
            if key not in points or np.unique(np.asarray(points[key])).size <= 1:
                raise
        vals = np.asarray(points[key])
        out: dict[str, np.ndarray] = {}
        for v in np.unique(vals):
            idx = np.flatnonzero(vals == v)
            part = self._evaluate_raw(acc, {k: np.asarray(a)[idx] for k, a in points.items()}, fixed, len(idx))
            for k, a in part.items():
                if k not in out:
                    out[k] = np.empty((n, *a.shape[1:]), dtype=a.dtype)
                out[k][idx] = a
        return out

    def _evaluate_once(self, acc: Accelerator, points: dict[str, np.ndarray], fixed: dict[str, Any], n: int) -> dict:
        sc = self.spec.scenario
        mix = sc.is_mix
        values = {**fixed, **points}
        res = values.pop("resolution", None)
        frames = values.pop("frames", None)
        if mix:
            default = self.model.resolution
            pairs = [(r, r) if isinstance(r, int) else (r or (default, default)) for r in sc.resolutions]
            h = np.asarray([[p[0] for p in pairs]])
            w = np.asarray([[p[1] for p in pairs]])
            if frames is None:
                frames = np.asarray([[f or self.model.frames for f in sc.frames]])
            else:
                frames = np.asarray(frames).reshape(-1, 1)
            resolution: Any = (h, w)
            values = {k: (np.asarray(v).reshape(-1, 1) if np.ndim(v) else v) for k, v in values.items()}
            shape: tuple[int, ...] = (n, len(pairs))
        else:
            resolution = sc.resolutions[0] if res is None else np.asarray(res)
            if isinstance(resolution, tuple):
                resolution = tuple(np.asarray(x) for x in resolution)
            frames = sc.frames[0] if frames is None else np.asarray(frames)
            shape = (n,)
        wl = build(self.model.name, resolution, frames)
        ev = acc.evaluate(wl, values)
        return {k: np.broadcast_to(np.asarray(v, dtype=float) if np.asarray(v).dtype.kind in "biuf" else v, shape)
                for k, v in ev.metrics.items()}  # fmt: skip

    def _aggregate(self, raw: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Mix → per-point metrics (weighted mean or worst case) plus per-resolution objective columns."""
        sc = self.spec.scenario
        if not sc.is_mix:
            return raw, {}
        maximized = {o.metric for o in self.spec.objectives if o.direction == "maximize"}
        w = np.asarray(sc.weights)
        out = {}
        for k, v in raw.items():
            if sc.aggregate == "mean":
                out[k] = v @ w
            else:
                out[k] = v.min(axis=1) if k in maximized else v.max(axis=1)
        extra = {
            f"{m}@{_res_label(r)}": raw[m][:, j] for m in self.objective_names for j, r in enumerate(sc.resolutions)
        }
        return out, extra

    def evaluate(self, points: dict[str, np.ndarray]) -> Batch:
        """Evaluate design points given as ``{searched parameter: array (n,)}``."""
        n = len(next(iter(points.values()))) if points else 1
        raw = self._evaluate_raw(self.accelerator, {k: np.asarray(v) for k, v in points.items()}, self.fixed, n)
        metrics, extra = self._aggregate({k: raw[k] for k in self.metric_names})
        objectives = np.column_stack([metrics[m] for m in self.objective_names])
        cons = []
        for c in self.spec.constraints:
            v = c.violation(raw[c.metric])  # worst case over a mix: every resolution must satisfy it
            v = v.max(axis=1) if v.ndim == 2 else v
            cons.append(np.where(np.isnan(v), np.inf, v))
        constraints = np.column_stack(cons) if cons else np.zeros((n, 0))
        ok = ~np.any(np.isnan(objectives), axis=1)
        return Batch({**metrics, **extra}, objectives, constraints, ok)

    def evaluate_baselines(self) -> list[dict[str, Any]]:
        """Each baseline at its defaults (overlaid with its params) on the same scenario: one row each."""
        rows = []
        for label, acc, params in self.baselines:
            raw = self._evaluate_raw(acc, {}, params, 1)
            metrics, extra = self._aggregate(raw)
            row: dict[str, Any] = {"baseline": label, "accelerator": acc.name}
            row.update({k: float(np.asarray(v).reshape(-1)[0]) for k, v in {**metrics, **extra}.items()
                        if np.asarray(v).dtype.kind in "biuf"})  # fmt: skip
            feasible = True
            for c in self.spec.constraints:
                if c.metric in raw:
                    v = np.asarray(c.violation(raw[c.metric]), dtype=float)
                    feasible &= bool(np.all(v <= 0))
            row["feasible"] = feasible
            rows.append(row)
        return rows


def _round(v: Any) -> Any:
    """A grid value as a plain number, floats to 6 significant digits (readable, stable choices)."""
    v = v.item() if hasattr(v, "item") else v
    return v if isinstance(v, int) else float(f"{v:.6g}")


def _native(param: Param, x: Any) -> Any:
    """A validated scalar as a plain Python value of the parameter's kind (int stays int)."""
    v = np.asarray(x).item() if isinstance(x, np.ndarray | np.generic) else x
    if param.kind == "int":
        return int(v)
    if param.kind == "float":
        return float(v)
    return v

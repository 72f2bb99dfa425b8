"""The search problem: a validated spec bound to its accelerator and workload, evaluated in batches.

:class:`Problem` checks the spec against the accelerator (parameter names, kinds and ranges, metric
names, workload dimensions), turns the space into optuna distributions or grid axes, and evaluates
many design points in one vectorized model call. A resolution mix is evaluated as one call with
arrays of shape ``(n_points, n_resolutions)`` and aggregated along axis 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from dse import accelerators, scenario
from dse.accelerators import Accelerator, Param
from dse.accelerators.base import broadcast_to
from dse.errors import InputError
from dse.search import samplers
from dse.search.spec import SPECIAL_CONSTRAINTS, WORKLOAD_DIMS, Dimension, Resolution, Spec
from dse.workloads import build
from dse.workloads.models import load_model

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
        sc = spec.scenario
        try:  # a zoo name, model file or ONNX graph, with the spec's architecture overrides
            self.model = load_model(sc.model, sc.base_dir or None, "workload.model", **dict(sc.overrides)).spec
        except InputError as err:
            field = err.field if err.field.startswith("workload") else f"workload.{err.field}"
            raise InputError(field, str(err).split(": ", 1)[1]) from None
        #: what build() takes for this model, and its options (overrides, the sparsity table minus the
        #: quantities an explicitly set knob overrides)
        self.model_ref = sc.model_ref
        self.build_options = sc.build_options(explicit=[d.name for d in spec.space])
        #: fixed values that differ per point of a mix (``{ video = … }`` knobs): shape (1, points)
        self.per_point = {d.name: np.asarray([d.per_point]) for d in spec.space if d.per_point and sc.is_mix}
        self._check_scenario()
        self.dims: dict[str, Dimension] = {}
        for dim in spec.space:
            self.dims[dim.name] = self._check_dimension(dim)
        self.fixed = {d.name: d.value for d in self.dims.values() if not d.searched}
        self.searched = [d for d in self.dims.values() if d.searched]
        self.param_names = list(self.dims)
        self._check_limits()
        self.metric_names = [m for m in self.accelerator.metrics]
        self.scenario = self._scenario()
        self._check_metrics()
        self._check_sampler()
        self.baselines = [self._check_baseline(i, b) for i, b in enumerate(spec.baselines)]

    # -- validation ---------------------------------------------------------------------------

    def _build(self, resolution: Any, frames: Any, field: str):
        try:
            return build(self.model_ref, resolution, frames, **self.build_options)
        except InputError as err:
            msg = str(err).split(": ", 1)[1]
            if field == "workload":
                raise InputError(f"workload.{err.field}", msg) from None
            raise InputError(field, msg if field.endswith(err.field) else str(err)) from None

    def _check_limits(self) -> None:
        """A physical limit (:meth:`Accelerator.limits`, e.g. the node's maximum clock) broken at every point
        of the space is an input error, as ``rtsa-dse eval`` makes it for one design: otherwise every trial
        would come out invalid. Checked in one vectorized call on the fixed values, each searched parameter
        on its own axis at its candidate values (:meth:`_limit_axes`); a limit broadcasts over the axes of
        the parameters it reads only."""
        names = {p.name for p in self.accelerator.params}
        axes = self._limit_axes([d for d in self.searched if d.name in names])
        fixed = {k: v for k, v in self.fixed.items() if k in names}
        p = self.accelerator.resolve({**fixed, **axes})
        for lim in self.accelerator.limits(p):
            if not np.all(lim.violated):
                continue
            dim = self.dims.get(lim.field)
            if dim is None:
                got = f"{_fmt(np.asarray(p.get(lim.field, '?')))} (its default; set it in [space])"
            elif dim.kind == "choice":
                got = f"every choice ({', '.join(map(_fmt, dim.choices))})"
            elif dim.searched:
                got = f"every value from {_fmt(dim.low)} to {_fmt(dim.high)}"
            else:
                got = _fmt(dim.value)
            raise InputError(f"space.{lim.field}", f"{lim.message} at every point of the space; got {got}")

    def _limit_axes(self, dims: list[Dimension], budget: int = 1 << 20) -> dict[str, np.ndarray]:
        """The searched ``dims`` on axes of their own (dimension i: shape ``(1, …, k_i, …, 1)``), at their grid
        values (a continuous range: 9 points, log-spaced for a log range), each cut to at most
        ``budget ** (1 / len(dims))`` values, evenly spaced and keeping both ends, so that the full
        combination stays within ``budget`` points."""
        cap = max(2, int(budget ** (1 / max(len(dims), 1))))
        out = {}
        for i, d in enumerate(dims):
            if d.kind in ("int", "float") and d.step is None and d.points is None:
                values = np.geomspace(d.low, d.high, 9) if d.log else np.linspace(d.low, d.high, 9)
                values = np.unique(np.round(values)) if d.kind == "int" else values
            else:
                values = np.asarray(self._values_of(d))
            if len(values) > cap:
                values = values[np.unique(np.round(np.linspace(0, len(values) - 1, cap)).astype(int))]
            shape = [1] * len(dims)
            shape[i] = len(values)
            out[d.name] = values.reshape(shape)
        return out

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

    def _scenario(self) -> scenario.Scenario:
        """The spec's workload as a :class:`dse.scenario.Scenario` (defaults resolved, columns labelled)."""
        sc = self.spec.scenario
        points = []
        for res, frames, weight in zip(sc.resolutions, sc.frames, sc.weights, strict=True):
            wl = build(self.model_ref, res, frames, **self.build_options)
            h, w, f = int(np.asarray(wl.height)), int(np.asarray(wl.width)), int(np.asarray(wl.frames))
            points.append(scenario.Point(h, w, f, float(weight), _res_label(res)))
        aggregates = {o.metric: o.aggregate for o in self.spec.objectives if o.aggregate}
        return scenario.Scenario(self.model_ref, tuple(points), sc.aggregate, aggregates, options=self.build_options)

    def _check_metrics(self) -> None:
        allowed = ", ".join(self.metric_names)
        for obj in self.spec.objectives:
            if obj.metric not in self.metric_names:
                raise InputError(
                    f"objectives.{obj.metric}", f"unknown metric of {self.accelerator.name}; allowed: {allowed}"
                )
        labels = [p.label for p in self.scenario.points]
        for obj in self.spec.objectives:
            if obj.aggregate and not self.scenario.is_mix:
                raise InputError(
                    f"objectives.{obj.metric}.aggregate", "only with a resolution mix (workload.resolutions)"
                )
        for con in self.spec.constraints:
            base, _, at = con.metric.partition("@")
            if at and base in self.metric_names:  # a per-resolution constraint (latency_s@112) of a mix
                if not self.scenario.is_mix or at not in labels:
                    raise InputError(
                        f"constraints.{con.metric}", f"no workload point {at!r} in the resolution mix; points: "
                        f"{', '.join(labels) if self.scenario.is_mix else 'none (a single resolution)'}",
                    )  # fmt: skip
                continue
            if con.metric not in self.metric_names:
                if con.name in SPECIAL_CONSTRAINTS:
                    raise InputError(
                        f"constraints.{con.name}",
                        f"{self.accelerator.name} reports no {con.metric} metric; metrics: {allowed}",
                    )
                raise InputError(
                    f"constraints.{con.metric}", f"unknown metric of {self.accelerator.name}; allowed: {allowed}"
                )

    def _check_sampler(self) -> None:
        spec = self.spec
        missing = samplers.get(spec.sampler).missing()
        if missing:
            usable = ", ".join(n for n in samplers.names() if not samplers.get(n).missing())
            need = " ".join(missing)
            raise InputError("sampler", f"{spec.sampler} needs {need} (pip install {need}); samplers ready: {usable}")
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
            # 0.1 + 0.05 * 1 is 0.15000000000000002: round to 12 significant digits (the nearest double to the
            # decimal value), as the other samplers' optuna FloatDistribution(step=...) values are
            return [float(f"{v:.12g}") for v in lo + dim.step * np.arange(n + 1)]
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
        """The objectives' columns: the metric, or ``metric@qNN`` for a quantile objective."""
        return [o.column for o in self.spec.objectives]

    @property
    def objective_metrics(self) -> list[str]:
        return [o.metric for o in self.spec.objectives]

    @property
    def constraint_names(self) -> list[str]:
        """Constraint columns: the spec's constraints, then ``valid`` (the accelerator's own rules)."""
        return [c.name for c in self.spec.constraints] + ["valid"]

    def report_names(self) -> list[str]:
        """Columns reported per design: every metric, plus per-resolution objectives of a mix."""
        sc = self.spec.scenario
        extra = [f"{m}@{_res_label(r)}" for m in self.objective_metrics for r in sc.resolutions] if sc.is_mix else []
        return self.metric_names + [o.column for o in self.spec.objectives if o.quantile is not None] + extra

    # -- evaluation -----------------------------------------------------------------------------

    def _evaluate(self, acc: Accelerator, points: dict[str, np.ndarray], fixed: dict[str, Any], n: int,
                  block: tuple[int, ...] | None = None):  # fmt: skip
        """One vectorized evaluation of ``n`` designs on the study's scenario (:func:`dse.scenario.evaluate`;
        ``block``: the designs as a block of axes, see there)."""
        values = {**fixed, **{k: v for k, v in self.per_point.items() if k in fixed}, **points}
        res = values.pop("resolution", None)
        frames = values.pop("frames", None)
        return scenario.evaluate(acc, self.scenario, values, n, resolution=res, frames=frames, block=block)

    def evaluate(self, points: dict[str, np.ndarray], robust: bool = True, block: tuple[int, ...] | None = None
                 ) -> Batch:  # fmt: skip
        """Evaluate design points given as ``{searched parameter: array (n,)}``.

        A quantile objective's column (``latency_s@q90``) comes from ``[uncertainty] search_samples`` joint
        samples per design (:func:`dse.search.robust.quantile_columns`); with ``robust=False`` it is the
        nominal metric (one evaluation per design, as the robust step itself needs). ``block`` (with
        ``robust=False``): the points as a block of axes, e.g. ``(d, N)`` for d designs × N samples, each array
        broadcastable to it; the batch has ``d·N`` rows, row ``i·N + j`` (:func:`dse.scenario.evaluate`).
        """
        if block is not None:
            if robust:
                raise ValueError("Problem.evaluate: a block of points is evaluated with robust=False")
            n = int(np.prod(block))
        else:
            n = len(next(iter(points.values()))) if points else 1
        result = self._evaluate(self.accelerator, {k: np.asarray(v) for k, v in points.items()}, self.fixed, n, block)
        if block is not None:  # the evaluation keeps the block's axes; its flattened metrics are in raw
            raw: dict[str, Any] = dict(result.raw)
        else:
            raw = {k: broadcast_to(np.asarray(v, dtype=float), (n, *np.shape(v)[1:])) if np.ndim(v) else v
                   for k, v in result.evaluation.metrics.items()}  # fmt: skip
        metrics = {k: result.metrics[k] for k in self.metric_names}
        extra = {k: v for k, v in result.per_point.items() if k.split("@")[0] in self.objective_metrics}
        quantiles = [o for o in self.spec.objectives if o.quantile is not None]
        if quantiles and robust:
            from dse.search.robust import quantile_columns

            metrics.update(quantile_columns(self, points, n))
        elif quantiles:
            metrics.update({o.column: metrics[o.metric] for o in quantiles})
        objectives = np.column_stack([metrics[m] for m in self.objective_names])
        cons = self.violations(raw, n)
        # the accelerator's own rules: an invalid design (valid = 0) violates this implicit constraint
        valid = result.metrics.get("valid", np.ones(n))  # an accelerator that declares no rules breaks none
        cons.append(np.where(valid > 0.5, -1.0, 1.0))
        constraints = np.column_stack(cons)
        ok = ~np.any(np.isnan(objectives), axis=1)
        return Batch({**metrics, **extra}, objectives, constraints, ok)

    def invalid_reasons(self, points: dict[str, np.ndarray]) -> list[str]:
        """Why each design of ``points`` (``{searched parameter: array (n,)}``) breaks its accelerator's own rules
        ("" for a valid one), from one vectorized evaluation; over a resolution mix, the distinct reasons of
        its points joined with "; ". The trials table keeps only ``valid``: this says why, for a few designs."""
        n = len(next(iter(points.values()))) if points else 1
        result = self._evaluate(self.accelerator, {k: np.asarray(v) for k, v in points.items()}, self.fixed, n)
        if result.evaluation.reasons is None:
            return [""] * n
        arr = np.asarray(result.evaluation.reasons, dtype=object)
        rows = (np.broadcast_to(arr, (n,)) if arr.ndim <= 1 else arr).reshape(n, -1)
        return ["; ".join(dict.fromkeys(r for cell in row for r in str(cell).split("; ") if r)) for row in rows]

    def violations(self, raw: dict[str, Any], n: int) -> list[np.ndarray]:
        """Per spec constraint, the relative violation of ``n`` designs (shape ``(n,)``, ≤ 0 feasible).

        ``raw``: metrics as evaluated, ``(n,)`` or ``(n, points)`` over a resolution mix. Over a mix the
        worst point counts (every resolution must satisfy the constraint), or the one point ``R`` of a
        per-resolution constraint ``metric@R``. A metric the design does not report, or reports as NaN,
        violates (+inf): a missing value is never feasible.
        """
        labels = [p.label for p in self.scenario.points]
        mix = self.scenario.is_mix
        out = []
        for c in self.spec.constraints:
            base, _, at = c.metric.partition("@")
            if base not in raw:
                out.append(np.full(n, np.inf))
                continue
            a = np.asarray(raw[base], dtype=float)
            if mix:  # to (n, points): a row per design (n = 1: the points alone), or a value per design
                r = len(labels)
                if a.ndim == 1 and a.size == r and n == 1:
                    a = a.reshape(1, r)
                elif a.ndim == 1 and a.size == n:
                    a = a.reshape(n, 1)
                a = np.broadcast_to(a, (n, r))
                a = a[:, labels.index(at)] if at else a
            v = np.asarray(c.violation(a), dtype=float)
            if v.ndim == 2:
                v = v.max(axis=1)  # NaN anywhere stays NaN
            v = np.broadcast_to(v, (n,))
            out.append(np.where(np.isnan(v), np.inf, v))
        return out

    def evaluate_baselines(self) -> list[dict[str, Any]]:
        """Each baseline at its defaults (overlaid with its params) on the same scenario: one row each."""
        rows = []
        for label, acc, params in self.baselines:
            result = self._evaluate(acc, {}, params, 1)
            raw, metrics, extra = result.evaluation.metrics, result.metrics, result.per_point
            row: dict[str, Any] = {"baseline": label, "accelerator": accelerators.label(acc, params)}
            row.update({k: float(np.asarray(v).reshape(-1)[0]) for k, v in {**metrics, **extra}.items()
                        if np.asarray(v).dtype.kind in "biuf"})  # fmt: skip
            valid = bool(np.all(np.asarray(metrics.get("valid", 1.0)) > 0.5))
            violations = self.violations(raw, 1)  # a metric the baseline does not report violates
            row["feasible"] = valid and all(bool(v[0] <= 0) for v in violations)
            violated = [c.name for c, v in zip(self.spec.constraints, violations, strict=True) if not v[0] <= 0]
            if not valid:  # its accelerator's own rules, with why (over a mix, the distinct reasons of its points)
                cells = () if result.evaluation.reasons is None else np.ravel(result.evaluation.reasons)
                reason = "; ".join(dict.fromkeys(r for cell in cells for r in str(cell).split("; ") if r))
                violated.append(f"invalid: {reason}" if reason else "invalid")
            row["violated"] = ", ".join(violated)
            if any(o.quantile is not None for o in self.spec.objectives):
                from dse.search.robust import baseline_quantiles

                row.update(baseline_quantiles(self, acc, params))
            rows.append(row)
        return rows


def _round(v: Any) -> Any:
    """A grid value as a plain number, floats to 6 significant digits (readable, stable choices)."""
    v = v.item() if hasattr(v, "item") else v
    return v if isinstance(v, int) else float(f"{v:.6g}")


def _fmt(x: Any) -> str:
    """A parameter value for a message: numbers as ``%g`` (3000, 0.25), anything else as written."""
    v = x.item() if hasattr(x, "item") else x
    return f"{v:g}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def _native(param: Param, x: Any) -> Any:
    """A validated scalar as a plain Python value of the parameter's kind (int stays int)."""
    v = np.asarray(x).item() if isinstance(x, np.ndarray | np.generic) else x
    if param.kind == "int":
        return int(v)
    if param.kind == "float":
        return float(v)
    return v

"""Which declared inputs move a metric: Sobol', Morris and one-at-a-time rankings (SALib), one call each.

The question is a :class:`Question`: a metric of one accelerator on one workload, or the ratio of a second
accelerator's metric over the first's (``over``: e.g. ViTCoD latency / RTSA latency = RTSA's speedup). Every
method builds its design in the unit cube of the inputs, maps it through each input's distribution
(:class:`~dse.uncertainty.montecarlo.Draws`) and evaluates all its points in one vectorized call per
accelerator:

``sobol``
    Saltelli's sampling and Sobol' first-order (S1) and total (ST) indices with bootstrap confidence
    (SALib ``sample.sobol`` / ``analyze.sobol``, N·(k + 2) points) [src:salib]; ranked by ST.
``morris``
    Morris elementary effects on a 4-level grid (SALib ``sample.morris`` / ``analyze.morris``, N·(k + 1)
    points): μ* (mean absolute effect across the input's 5–95% … full range) and σ; ranked by μ*.
``oat``
    one at a time: each input at its 5th and 95th percentile with the others nominal (2k + 1 points);
    ranked by the swing |y(high) − y(low)| — the tornado.

:func:`first_order` ranks the inputs of an existing Monte Carlo sample by their first-order index
(SALib RBD-FAST on given data, Plischke's EASI) — what ``reproduce --uncertainty`` reports per row.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dse.accelerators.base import Accelerator
from dse.errors import InputError
from dse.metrics import metric as declared_metric
from dse.uncertainty import montecarlo as mc
from dse.uncertainty.declared import BUILTIN, Declared, Uncertain

METHODS = ("sobol", "morris", "oat")
DEFAULT_SAMPLES = {"sobol": 512, "morris": 64, "oat": 1}
MORRIS_LEVELS = 4


@dataclass(frozen=True)
class Question:
    """A metric of ``accelerator`` on ``workload`` (or ``over``'s metric / ``accelerator``'s: a ratio).

    ``values`` / ``explicit``: the first accelerator's parameter values and the names the user set;
    ``over_values`` / ``over_explicit`` the same for ``over``.
    """

    accelerator: Accelerator
    workload: Any
    metric: str
    values: Mapping[str, Any] = field(default_factory=dict)
    explicit: Collection[str] = ()
    over: Accelerator | None = None
    over_values: Mapping[str, Any] = field(default_factory=dict)
    over_explicit: Collection[str] = ()

    @property
    def accelerators(self) -> list[Accelerator]:
        return [self.accelerator] + ([self.over] if self.over is not None else [])

    @property
    def label(self) -> str:
        """What is ranked, platforms named by preset (``cpu`` → ``cpu:xeon16``)."""
        from dse.accelerators import label

        a = label(self.accelerator, dict(self.values))
        if self.over is None:
            return f"{self.metric} of {a}"
        return f"{label(self.over, dict(self.over_values))} {self.metric} / {a} {self.metric}"

    def inputs(self, declared: Declared = BUILTIN) -> tuple[Uncertain, ...]:
        """The declared inputs that can move the answer (design inputs the user fixed left out)."""
        out = {u.name: u for u in mc.inputs_for([self.accelerator], declared, explicit=self.explicit)}
        if self.over is not None:
            for u in mc.inputs_for([self.over], declared, explicit=self.over_explicit):
                out.setdefault(u.name, u)
        return tuple(out.values())

    def evaluate(self, draws: mc.Draws) -> np.ndarray:
        """The answer for each sample of ``draws`` (N,): one vectorized call per accelerator."""
        y = _metric(mc.evaluate(self.accelerator, self.workload, self.values, draws, self.explicit), self.metric)
        if self.over is None:
            return y
        y2 = _metric(mc.evaluate(self.over, self.workload, self.over_values, draws, self.over_explicit), self.metric)
        return y2 / y


def check_metric(name: str, accs: list[Accelerator]) -> str:
    """The declared metric ``name`` (aliases allowed) that every accelerator of ``accs`` reports."""
    m = declared_metric(name).name
    for acc in accs:
        if m not in acc.metrics:
            raise InputError("--metric", f"{acc.name} does not report {m}; it reports: {', '.join(acc.metrics)}")
    return m


def _metric(ev, name: str) -> np.ndarray:
    return np.asarray(ev.metrics[name], dtype=np.float64).reshape(-1)


@dataclass(frozen=True)
class Sensitivity:
    """A ranking: ``table`` has one row per input (best first) with its method's indices; ``nominal`` is the
    answer with every input nominal; ``points`` the model evaluations it took."""

    method: str
    question: str
    metric: str
    nominal: float
    table: pd.DataFrame
    points: int
    samples: int
    seed: int
    ratio: bool = False  # the answer is a ratio of two accelerators' metric (unitless)

    @property
    def ranking(self) -> list[str]:
        return list(self.table["input"])


def _problem(inputs: tuple[Uncertain, ...]) -> dict[str, Any]:
    return {"num_vars": len(inputs), "names": [u.name for u in inputs], "bounds": [[0.0, 1.0]] * len(inputs)}


def _base_rows(inputs: tuple[Uncertain, ...]) -> dict[str, list]:
    return {
        "input": [u.name for u in inputs],
        "kind": [u.kind for u in inputs],
        "distribution": [u.distribution.text() for u in inputs],
    }


def analyze(question: Question, method: str = "sobol", samples: int | None = None, seed: int = 0,
            declared: Declared = BUILTIN) -> Sensitivity:  # fmt: skip
    """Rank the declared inputs of ``question`` by ``method`` (see the module docstring).

    ``samples``: Sobol' base samples (a power of 2, default 512), Morris trajectories (default 64); unused
    by ``oat``. Raises ``InputError`` for an unknown method or a bad sample count.
    """
    if method not in METHODS:
        raise InputError("--method", f"unknown value {method!r}; allowed: {', '.join(METHODS)}")
    inputs = question.inputs(declared)
    if not inputs:
        raise InputError("--accelerator", f"no declared uncertain input moves {question.label}")
    n = samples or DEFAULT_SAMPLES[method]
    if n < 2 and method != "oat":
        raise InputError("--samples", f"must be ≥ 2, got {n}")
    problem = _problem(inputs)
    y0 = float(question.evaluate(mc.nominal(inputs))[0])
    rows = _base_rows(inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SALib's bootstrap on a constant output
        if method == "sobol":
            from SALib.analyze import sobol as sobol_analyze
            from SALib.sample import sobol as sobol_sample

            if n & (n - 1):
                raise InputError("--samples", f"Sobol' sampling takes a power of 2, got {n}")
            unit = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
            y = question.evaluate(mc.Draws(inputs, unit, seed, "sobol"))
            res = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=100, seed=seed)
            rows.update(S1=res["S1"], S1_conf=res["S1_conf"], ST=res["ST"], ST_conf=res["ST_conf"])
            key = "ST"
        elif method == "morris":
            from SALib.analyze import morris as morris_analyze
            from SALib.sample import morris as morris_sample

            unit = morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
            y = question.evaluate(mc.Draws(inputs, unit, seed, "morris"))
            res = morris_analyze.analyze(problem, unit, y, num_levels=MORRIS_LEVELS, num_resamples=100, seed=seed)
            scale = abs(y0) if y0 else 1.0
            rows.update(mu_star=res["mu_star"], mu_star_conf=res["mu_star_conf"], sigma=res["sigma"],
                        mu_star_rel=np.asarray(res["mu_star"]) / scale)  # fmt: skip
            key = "mu_star"
        else:
            k = len(inputs)
            unit = np.full((2 * k, k), np.nan)
            for j in range(k):
                unit[2 * j, j] = mc.QUANTILES[0]
                unit[2 * j + 1, j] = mc.QUANTILES[-1]
            y = question.evaluate(mc.Draws(inputs, unit, seed, "oat"))
            # the values the model ran with (an integer input rounded, as the draws round it)
            lo_in = [float(u.values(mc.QUANTILES[0])) for u in inputs]
            hi_in = [float(u.values(mc.QUANTILES[-1])) for u in inputs]
            rows.update(input_low=lo_in, input_high=hi_in, y_low=y[0::2], y_high=y[1::2],
                        swing=np.abs(y[1::2] - y[0::2]))  # fmt: skip
            rows["swing_rel"] = rows["swing"] / (abs(y0) if y0 else 1.0)
            key = "swing"
    table = pd.DataFrame(rows)
    table = table.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)
    return Sensitivity(
        method, question.label, question.metric, y0, table, int(len(y)), n, seed, question.over is not None
    )


def first_order(draws: mc.Draws, y, top: int = 3, floor: float = 0.05, seed: int = 0) -> list[tuple[str, float]]:
    """The ``top`` inputs of a Monte Carlo sample ``draws`` with the largest first-order index on ``y`` (N,),
    estimated from the given data (SALib RBD-FAST with Plischke's EASI reordering) [src:salib]; inputs
    below ``floor`` (the estimator's noise at a few hundred samples) and a constant ``y`` give none."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    k = len(draws.inputs)
    if (
        k == 0
        or y.size < 16
        or not np.all(np.isfinite(y))
        or np.ptp(y) <= 1e-12 * max(abs(float(np.median(y))), 1e-300)
    ):
        return []
    from SALib.analyze import rbd_fast

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = rbd_fast.analyze(_problem(draws.inputs), draws.unit, y, M=10, num_resamples=5, seed=seed)
    s1 = np.nan_to_num(np.asarray(res["S1"], dtype=np.float64), nan=0.0)
    order = np.argsort(-s1, kind="stable")
    return [(draws.inputs[j].name, float(s1[j])) for j in order[:top] if s1[j] >= floor]

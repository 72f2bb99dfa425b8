"""Monte Carlo over the declared inputs: N joint samples evaluated in one vectorized model call.

A :class:`Draws` holds N samples of some declared inputs as points of the unit cube (``unit``: shape
``(N, k)``; NaN = the input at its nominal value, used by one-at-a-time designs). Applied to an accelerator
(:func:`evaluate`), each parameter input becomes an array of N values and each factor input an array of N
factors (:mod:`dse.hardware.factors`), so one ``Accelerator.evaluate`` call returns every metric with a
trailing sample axis: shape ``workload shape + (N,)`` when the workload's own axes end in a singleton (a
scalar workload gives ``(N,)``; resolutions as a column ``(R, 1)`` give ``(R, N)``).

Two accelerators evaluated with the same :class:`Draws` share every input of the same name (a joint sample):
the same MAC energy, the same delta sparsity — so a ratio between them carries only what differs.

Summaries are the median and the 5–95% interval (:data:`QUANTILES`) along the sample axis.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from dse.accelerators.base import Accelerator, Evaluation
from dse.errors import InputError
from dse.hardware import factors as F
from dse.uncertainty.declared import BUILTIN, KINDS, Declared, Uncertain, fabrics

#: the reported quantiles: low (5%), median, high (95%)
QUANTILES = (0.05, 0.5, 0.95)
QUANTILE_NAMES = ("p5", "p50", "p95")
DEFAULT_SAMPLES = 256
MAX_SAMPLES = 1_000_000


@dataclass(frozen=True)
class Draws:
    """N samples of ``inputs`` as unit-cube points ``unit`` (N, k); NaN means "nominal" for that input."""

    inputs: tuple[Uncertain, ...]
    unit: np.ndarray
    seed: int = 0
    method: str = "lhs"
    #: the values (N, k) when already computed (a tiled copy carries them: no second inverse-CDF pass)
    values: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.unit.shape[0])

    @property
    def names(self) -> list[str]:
        return [u.name for u in self.inputs]

    def column(self, name: str) -> np.ndarray:
        """Sampled values of input ``name`` (N,), NaN where nominal."""
        j = self.names.index(name)
        return self._values(j)

    def _values(self, j: int) -> np.ndarray:
        if self.values is not None:
            return self.values[:, j]
        u = self.unit[:, j]
        x = self.inputs[j].values(np.nan_to_num(u, nan=0.5))
        return np.where(np.isnan(u), np.nan, x)

    def matrix(self) -> np.ndarray:
        """The sampled values (N, k), NaN where nominal."""
        if self.values is not None:
            return self.values
        return np.column_stack([self._values(j) for j in range(len(self.inputs))]) if self.inputs else self.unit

    def subset(self, names) -> Draws:
        """The same samples of only the inputs in ``names`` (declaration order kept)."""
        keep = [j for j, u in enumerate(self.inputs) if u.name in set(names)]
        return replace(self, inputs=tuple(self.inputs[j] for j in keep), unit=self.unit[:, keep],
                       values=None if self.values is None else self.values[:, keep])  # fmt: skip

    def tile(self, designs: int) -> Draws:
        """The same N samples for each of ``designs`` designs, design-major: row ``d·N + s`` is sample ``s``."""
        return replace(self, unit=np.tile(self.unit, (designs, 1)), values=np.tile(self.matrix(), (designs, 1)))

    def factors(self, shape: tuple[int, ...] | None = None) -> F.Factors:
        """The factor inputs as :class:`~dse.hardware.factors.Factors` of arrays (N,) (or ``shape``); 1 where
        nominal. Inputs on the same factor multiply."""
        out: dict[str, Any] = {}
        for j, u in enumerate(self.inputs):
            if u.target != "factor":
                continue
            x = np.nan_to_num(self._values(j), nan=1.0)
            if shape is not None:
                x = x.reshape(shape)
            out[u.key] = out[u.key] * x if u.key in out else x
        return F.make(**out)


def sample(inputs: Iterable[Uncertain], n: int, seed: int = 0) -> Draws:
    """``n`` Latin-hypercube samples of ``inputs`` (scipy.stats.qmc, seeded: the same seed, the same draws)."""
    inputs = tuple(inputs)
    if not 1 <= n <= MAX_SAMPLES:
        raise InputError("--uncertainty", f"samples must be in [1, {MAX_SAMPLES:,}], got {n}")
    from scipy.stats import qmc  # imported here: scipy.stats takes seconds to import

    k = len(inputs)
    unit = qmc.LatinHypercube(d=k, seed=seed).random(n) if k else np.zeros((n, 0))
    return Draws(inputs, unit, seed, "lhs")


def nominal(inputs: Iterable[Uncertain] = ()) -> Draws:
    """One sample with every input at its nominal value."""
    inputs = tuple(inputs)
    return Draws(inputs, np.full((1, len(inputs)), np.nan), 0, "nominal")


def param_values(acc: Accelerator, values: Mapping[str, Any], explicit: Collection[str], draws: Draws,
                 kinds: Collection[str] = KINDS) -> dict[str, Any]:  # fmt: skip
    """``values`` with the parameter inputs of ``draws`` that perturb ``acc`` applied (arrays of N values).

    ``design`` inputs replace a parameter only when it is not in ``explicit`` (the user's own values);
    ``data`` inputs shift the value in use by (sample − default). Results are clipped to the parameter's
    range and rounded for integer parameters. Inputs of kinds outside ``kinds`` are left out.
    """
    out = dict(values)
    names = {p.name for p in acc.params}
    for j, u in enumerate(draws.inputs):
        if u.target != "param" or u.kind not in kinds or u.key not in names:
            continue
        if acc.name not in u.accelerators and getattr(acc.param(u.key), "uncertainty", None) is not u:
            continue
        if u.kind == "design" and u.key in explicit:
            continue
        param = acc.param(u.key)
        x = draws._values(j)
        nominal_value = np.asarray(out.get(u.key, param.default), dtype=np.float64)
        if u.kind == "design":
            v = np.where(np.isnan(x), nominal_value, x)
        else:
            v = nominal_value + np.where(np.isnan(x), 0.0, x - float(param.default))
        lo = -np.inf if param.low is None else param.low
        hi = np.inf if param.high is None else param.high
        v = np.clip(v, lo, hi)
        out[u.key] = np.round(v) if param.kind == "int" else v
    return out


def evaluate(acc: Accelerator, workload, values: Mapping[str, Any] | None, draws: Draws,
             explicit: Collection[str] = (), factor_shape: tuple[int, ...] | None = None) -> Evaluation:  # fmt: skip
    """One vectorized evaluation of ``acc`` on ``workload`` under the N samples of ``draws``.

    ``values``: parameter values (the user's or resolved defaults); ``explicit``: the names the user set
    (design inputs leave those alone). Metrics come back with a trailing axis of N samples (see the module
    docstring). Raises ``InputError`` only for malformed values.
    """
    vals = param_values(acc, values or {}, explicit, draws)
    with F.applied(draws.factors(factor_shape)):
        return acc.evaluate(workload, vals)


def inputs_for(accs: Iterable[Accelerator], declared: Declared = BUILTIN, kinds: Collection[str] = KINDS,
               explicit: Collection[str] = ()) -> tuple[Uncertain, ...]:  # fmt: skip
    """The declared inputs that perturb any of ``accs``; design inputs on ``explicit`` parameters of every
    accelerator left out (they would not move anything)."""
    accs = list(accs)
    out = []
    for u in declared.for_accelerators(accs, kinds):
        if u.kind == "design" and u.key in explicit:
            continue
        out.append(u)
    return tuple(out)


# -- summaries ---------------------------------------------------------------------------------------


def quantiles(x, axis: int = -1) -> dict[str, np.ndarray]:
    """``{"p5", "p50", "p95"}`` of ``x`` along ``axis`` (the sample axis)."""
    q = np.quantile(np.asarray(x, dtype=np.float64), QUANTILES, axis=axis)
    return dict(zip(QUANTILE_NAMES, q, strict=True))


def numeric_metrics(ev: Evaluation) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in ev.metrics.items() if np.asarray(v).dtype.kind in "biuf"}


def interval_frame(nominal_ev: Evaluation, sampled: Evaluation) -> pd.DataFrame:
    """One row per metric of a single design: unit, nominal value, p5, p50, p95 (``valid``: the share of
    samples in which the design is valid, as p50)."""
    from dse.metrics import is_declared, metric

    nom = numeric_metrics(nominal_ev)
    rows = []
    for k, v in numeric_metrics(sampled).items():
        v = v.reshape(-1)
        q = quantiles(v)
        row = {"metric": k, "unit": metric(k).unit if is_declared(k) else "",
               "nominal": float(np.asarray(nom.get(k, np.nan)).reshape(-1)[0])}  # fmt: skip
        row.update({name: float(val) for name, val in q.items()})
        if k == "valid":
            row.update(p5=float(v.min()), p50=float(v.mean()), p95=float(v.max()))
        rows.append(row)
    return pd.DataFrame(rows)


def describe_inputs(draws: Draws) -> list[dict[str, Any]]:
    """The inputs a run sampled, for JSON output."""
    return [u.as_dict() for u in draws.inputs]


__all__ = [
    "DEFAULT_SAMPLES", "Draws", "QUANTILES", "QUANTILE_NAMES", "describe_inputs", "evaluate", "fabrics", "inputs_for",
    "interval_frame", "nominal", "numeric_metrics", "param_values", "quantiles", "sample",
]  # fmt: skip

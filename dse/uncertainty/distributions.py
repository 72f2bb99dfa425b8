"""Distributions of uncertain inputs: uniform, log-uniform, triangular and a normal truncated to bounds.

Each :class:`Distribution` maps unit-cube samples ``u`` ∈ [0, 1] to values through its inverse CDF
(:meth:`Distribution.ppf`), so one Latin-hypercube, Sobol (Saltelli) or Morris design in the unit cube serves
every input whatever its distribution. Bounds are always finite: a normal is truncated at ``low``/``high``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dse.errors import InputError, choice_error

KINDS = ("uniform", "loguniform", "triangular", "normal")


@dataclass(frozen=True)
class Distribution:
    """A bounded distribution. ``mode``: the triangular's peak; ``mean``, ``sd``: the normal before truncation.

    Raises ``InputError`` (field ``field``) when the parameters are inconsistent (see :meth:`check`).
    """

    kind: str
    low: float
    high: float
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None

    def check(self, field: str = "distribution") -> Distribution:
        """Validate; returns ``self``."""
        if self.kind not in KINDS:
            raise choice_error(f"{field}.distribution", self.kind, KINDS)
        for name in ("low", "high", "mode", "mean", "sd"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise InputError(f"{field}.{name}", f"must be finite, got {v!r}")
        if not self.low < self.high:
            raise InputError(field, f"needs low < high, got low={self.low:.4g}, high={self.high:.4g}")
        if self.kind == "loguniform" and self.low <= 0:
            raise InputError(f"{field}.low", f"a log-uniform range needs low > 0, got {self.low:.4g}")
        if self.kind == "triangular":
            if self.mode is None or not self.low <= self.mode <= self.high:
                raise InputError(f"{field}.mode", f"a triangular needs low ≤ mode ≤ high, got mode={self.mode!r}")
        if self.kind == "normal":
            if self.mean is None or self.sd is None or self.sd <= 0:
                raise InputError(f"{field}.sd", "a normal needs mean and sd > 0 (truncated at low and high)")
        return self

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF: unit samples ``u`` (array, values in [0, 1]) → values in [low, high]."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        lo, hi = self.low, self.high
        if self.kind == "uniform":
            return lo + u * (hi - lo)
        if self.kind == "loguniform":
            return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
        from scipy import stats  # imported here: scipy.stats takes seconds to import

        if self.kind == "triangular":
            return stats.triang.ppf(u, (self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        return np.clip(stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd), lo, hi)

    def quantile(self, q: float) -> float:
        return float(self.ppf(q))

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    def text(self) -> str:
        """``uniform(500, 1000)``, ``triangular(0.64, 0.7, 0.78)``, ``normal(1, 0.1) in [0.7, 1.3]``."""
        if self.kind == "triangular":
            return f"triangular({self.low:.4g}, {self.mode:.4g}, {self.high:.4g})"
        if self.kind == "normal":
            return f"normal({self.mean:.4g}, {self.sd:.4g}) in [{self.low:.4g}, {self.high:.4g}]"
        return f"{self.kind}({self.low:.4g}, {self.high:.4g})"

    def as_dict(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {"distribution": self.kind, "low": self.low, "high": self.high}
        for k in ("mode", "mean", "sd"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


def uniform(low: float, high: float) -> Distribution:
    return Distribution("uniform", low, high).check()


def loguniform(low: float, high: float) -> Distribution:
    return Distribution("loguniform", low, high).check()


def triangular(low: float, mode: float, high: float) -> Distribution:
    return Distribution("triangular", low, high, mode=mode).check()


def normal(mean: float, sd: float, low: float, high: float) -> Distribution:
    return Distribution("normal", low, high, mean=mean, sd=sd).check()

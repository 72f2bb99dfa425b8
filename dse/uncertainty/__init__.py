"""Declared uncertainty of the model's inputs, Monte Carlo intervals and sensitivity analysis.

* :mod:`dse.uncertainty.distributions` — bounded distributions (uniform, log-uniform, triangular, normal);
* :mod:`dse.uncertainty.declared` — every uncertain input with its range and source, user overrides (TOML);
* :mod:`dse.uncertainty.montecarlo` — N joint samples evaluated in one vectorized call, medians and 5–95%
  intervals;
* :mod:`dse.uncertainty.sensitivity` — Sobol (Saltelli), Morris and one-at-a-time rankings (SALib), and the
  first-order ranking of a given Monte Carlo sample.
"""

from dse.uncertainty.declared import BUILTIN, DECLARED, Declared, Uncertain, load_overrides
from dse.uncertainty.distributions import Distribution
from dse.uncertainty.montecarlo import QUANTILES, Draws, evaluate, inputs_for, nominal, quantiles, sample

__all__ = [
    "BUILTIN", "DECLARED", "Declared", "Distribution", "Draws", "QUANTILES", "Uncertain", "evaluate", "inputs_for",
    "load_overrides", "nominal", "quantiles", "sample",
]  # fmt: skip

"""Design-space search: TOML sweep specs, optuna studies, the vectorized grid, Pareto fronts, exports.

``load_spec(path)`` → :class:`Problem` (validated); ``run_sweep(problem, ...)`` → :class:`SweepReport`.
Modules: ``spec`` (schema), ``space`` (problem, evaluation), ``samplers`` (the sampler registry), ``runner`` (ask/tell
drivers), ``grid`` (exhaustive, in chunks on local cores or a Dask cluster), ``columnar`` (tables streamed as
partitioned Parquet or CSV), ``storage``, ``pareto`` (moocore), ``export``, ``sweep`` (end to end).
"""

from __future__ import annotations

from dse.search.space import Batch, Problem
from dse.search.spec import Spec, load_spec, read_spec
from dse.search.sweep import SweepReport, run_sweep

__all__ = ["Batch", "Problem", "Spec", "SweepReport", "load_spec", "read_spec", "run_sweep"]

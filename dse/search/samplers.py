"""optuna samplers by name, with the options a spec may set, and how many trials to ask per batch."""

from __future__ import annotations

import warnings

import optuna
from optuna.samplers import BaseSampler

from dse.search.spec import Spec

DEFAULT_POPULATION = 50
#: trials asked before telling: a GA generation; model-free samplers in large batches; TPE/GP one by one
RANDOM_BATCH = 256


def make_sampler(spec: Spec, seed: int | None) -> BaseSampler:
    """The spec's sampler (constraints reach it through ``trial.set_constraint``)."""
    opts = dict(spec.sampler_options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-feature warnings
        match spec.sampler:
            case "nsga2":
                opts.setdefault("population_size", DEFAULT_POPULATION)
                return optuna.samplers.NSGAIISampler(seed=seed, **opts)
            case "nsga3":
                opts.setdefault("population_size", DEFAULT_POPULATION)
                return optuna.samplers.NSGAIIISampler(seed=seed, **opts)
            case "tpe":
                opts.setdefault("multivariate", True)
                return optuna.samplers.TPESampler(seed=seed, **opts)
            case "gp":
                return optuna.samplers.GPSampler(seed=seed, **opts)
            case "qmc":
                return optuna.samplers.QMCSampler(seed=seed, **opts)
            case "random":
                return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"no optuna sampler for {spec.sampler!r}")


def batch_size(spec: Spec) -> int:
    """Trials asked together and evaluated in one vectorized model call (embedded storage)."""
    if spec.sampler in ("nsga2", "nsga3"):
        return spec.option("population_size", DEFAULT_POPULATION)
    if spec.sampler in ("random", "qmc"):
        return RANDOM_BATCH
    return 1

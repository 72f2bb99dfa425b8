"""The sampler registry: one row per sampler (factory, options, requirements, batch size).

A spec's ``[sampler]`` table names a row and sets its options; :mod:`dse.search.spec` checks them against
the row, :mod:`dse.search.space` checks the row's requirements are installed, and the ask/tell driver
builds the optuna sampler with :func:`make_sampler` and asks :func:`batch_size` trials at a time (a GA
generation; model-free samplers in large batches; TPE and GP one by one, as each ask learns from the last).
``grid`` has no factory: it is evaluated without optuna trials (:mod:`dse.search.grid`).

optuna is imported inside the factories only, so reading the registry (the CLI's help text, spec
checks) stays cheap. A plugin adds a row with :func:`register`.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dse import plugins
from dse.errors import InputError, choice_error

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from dse.search.spec import Spec

DEFAULT_POPULATION = 50
#: trials asked before telling for the model-free samplers (random, QMC)
RANDOM_BATCH = 256


@dataclass(frozen=True)
class Option:
    """One ``[sampler]`` option: its type and the values allowed (``low``/``high`` inclusive, or ``choices``)."""

    type: type
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class SamplerEntry:
    """One sampler. ``factory(seed, options)`` → an optuna sampler (None: not driven by optuna trials);
    ``defaults`` fill options the spec leaves out; ``requires``: modules that must be importable (also the
    pip package names); ``batch``: trials asked per batch, a number or the name of the option that sets it."""

    name: str
    description: str
    factory: Callable[[int | None, dict[str, Any]], BaseSampler] | None
    options: Mapping[str, Option] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    batch: int | str = 1

    def missing(self) -> list[str]:
        """Required modules that are not installed."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]


_REGISTRY: dict[str, SamplerEntry] = {}


def register(entry: SamplerEntry) -> SamplerEntry:
    """Add a sampler row; ``InputError`` (field ``plugin``) if the name is taken by another row."""
    if not isinstance(entry, SamplerEntry):
        raise InputError("plugin", f"samplers.register() takes a SamplerEntry, got {entry!r}")
    old = _REGISTRY.get(entry.name)
    if old is not None and old != entry:
        raise InputError("plugin", f"sampler {entry.name!r} already exists")
    if isinstance(entry.batch, str) and entry.batch not in entry.defaults:
        raise InputError("plugin", f"sampler {entry.name!r}: batch option {entry.batch!r} needs a default")
    _REGISTRY[entry.name] = entry
    plugins.note("sampler", entry.name)
    return entry


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str, field_name: str = "sampler") -> SamplerEntry:
    """The row called ``name``; ``InputError`` naming ``field_name`` and listing the samplers otherwise."""
    if name not in _REGISTRY:
        raise choice_error(field_name, name, names())
    return _REGISTRY[name]


def make_sampler(spec: Spec, seed: int | None) -> BaseSampler:
    """The spec's sampler (constraints reach it through ``trial.set_constraint``)."""
    entry = get(spec.sampler)
    if entry.factory is None:
        raise ValueError(f"{spec.sampler!r} is not an optuna sampler")
    opts = {**entry.defaults, **dict(spec.sampler_options)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-feature warnings
        return entry.factory(seed, opts)


def batch_size(spec: Spec) -> int:
    """Trials asked together and evaluated in one vectorized model call (embedded storage)."""
    entry = get(spec.sampler)
    if isinstance(entry.batch, str):
        return int(spec.option(entry.batch, entry.defaults[entry.batch]))
    return int(entry.batch)


# -- the built-in rows ---------------------------------------------------------------------------------


def _nsga2(seed, opts):
    import optuna

    return optuna.samplers.NSGAIISampler(seed=seed, **opts)


def _nsga3(seed, opts):
    import optuna

    return optuna.samplers.NSGAIIISampler(seed=seed, **opts)


def _tpe(seed, opts):
    import optuna

    return optuna.samplers.TPESampler(seed=seed, **opts)


def _gp(seed, opts):
    import optuna

    return optuna.samplers.GPSampler(seed=seed, **opts)


def _random(seed, opts):
    import optuna

    return optuna.samplers.RandomSampler(seed=seed, **opts)


def _qmc(seed, opts):
    import optuna

    return optuna.samplers.QMCSampler(seed=seed, **opts)


_PROB = Option(float, 0.0, 1.0)
_GA = MappingProxyType(
    {
        "population_size": Option(int, 2, help="trials per generation (also the ask/tell batch)"),
        "mutation_prob": _PROB,
        "crossover_prob": _PROB,
        "swapping_prob": _PROB,
    }
)
_GA_DEFAULTS = MappingProxyType({"population_size": DEFAULT_POPULATION})

for _entry in (
    SamplerEntry("nsga2", "NSGA-II genetic algorithm (one generation per batch)", _nsga2, _GA, _GA_DEFAULTS,
                 batch="population_size"),
    SamplerEntry("nsga3", "NSGA-III (reference points; for 3+ objectives)", _nsga3, _GA, _GA_DEFAULTS,
                 batch="population_size"),
    SamplerEntry("tpe", "multivariate tree-structured Parzen estimator (one trial at a time)", _tpe,
                 {"n_startup_trials": Option(int, 1), "multivariate": Option(bool), "constant_liar": Option(bool)},
                 {"multivariate": True}),
    SamplerEntry("gp", "Gaussian-process Bayesian optimisation (one trial at a time)", _gp,
                 {"n_startup_trials": Option(int, 1)}, requires=("torch", "scipy")),
    SamplerEntry("random", "uniform random sampling", _random, batch=RANDOM_BATCH),
    SamplerEntry("qmc", "quasi-Monte Carlo (Sobol or Halton)", _qmc,
                 {"qmc_type": Option(str, choices=("sobol", "halton")), "scramble": Option(bool)},
                 requires=("scipy",), batch=RANDOM_BATCH),
    SamplerEntry("grid", "every point of the discretised space, vectorized, without optuna trials", None,
                 {"batch_size": Option(int, 1), "store_limit": Option(int, 1), "max_points": Option(int, 1)}),
):  # fmt: skip
    _REGISTRY[_entry.name] = _entry  # built-in: not counted as a plugin's registration
del _entry

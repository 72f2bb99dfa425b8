"""The sampler registry (dse/search/samplers.py): each row builds its optuna sampler with the spec's
options, batches as declared, and a new row is usable from a spec with no other change."""

from __future__ import annotations

import optuna
import pytest

from dse.errors import InputError
from dse.search import samplers
from dse.search.samplers import Option, SamplerEntry
from dse.search.spec import parse_spec

BASE = {
    "study": "s",
    "accelerator": "rtsa",
    "trials": 10,
    "workload": {"model": "deit-tiny"},
    "objectives": {"latency_s": "minimize"},
}
EXPECTED = {
    "nsga2": optuna.samplers.NSGAIISampler,
    "nsga3": optuna.samplers.NSGAIIISampler,
    "tpe": optuna.samplers.TPESampler,
    "gp": optuna.samplers.GPSampler,
    "random": optuna.samplers.RandomSampler,
    "qmc": optuna.samplers.QMCSampler,
}


def spec(sampler) -> object:
    return parse_spec({**BASE, "sampler": sampler})


def test_the_builtin_rows():
    assert samplers.names() == ["nsga2", "nsga3", "tpe", "gp", "random", "qmc", "grid"]
    assert samplers.get("gp").requires == ("torch", "scipy")
    assert samplers.get("qmc").requires == ("scipy",)
    assert samplers.get("grid").factory is None


@pytest.mark.parametrize("name", [n for n in EXPECTED if not samplers.get(n).missing()])
def test_each_row_builds_its_optuna_sampler(name):
    assert isinstance(samplers.make_sampler(spec(name), seed=0), EXPECTED[name])


def test_batch_sizes():
    assert samplers.batch_size(spec("nsga2")) == samplers.DEFAULT_POPULATION
    assert samplers.batch_size(spec({"name": "nsga3", "population_size": 12})) == 12
    assert samplers.batch_size(spec("random")) == samplers.RANDOM_BATCH
    assert samplers.batch_size(spec("tpe")) == 1


def test_options_are_checked_against_the_row():
    s = spec({"name": "nsga2", "population_size": 8, "mutation_prob": 0.2})
    assert s.sampler_options == (("population_size", 8), ("mutation_prob", 0.2))
    for bad, field in (
        ({"name": "nsga2", "population_size": 1}, "sampler.population_size"),
        ({"name": "nsga2", "crossover_prob": 1.5}, "sampler.crossover_prob"),
        ({"name": "qmc", "qmc_type": "lattice"}, "sampler.qmc_type"),
        ({"name": "tpe", "population_size": 8}, "sampler.population_size"),
        ({"name": "annealing"}, "sampler"),
    ):
        with pytest.raises(InputError) as err:
            spec(bad)
        assert err.value.field == field


def test_a_registered_row_is_usable_from_a_spec():
    entry = SamplerEntry(
        "random-batch", "random sampling in batches of 'chunk'",
        lambda seed, opts: optuna.samplers.RandomSampler(seed=seed),
        {"chunk": Option(int, 1)}, {"chunk": 32}, batch="chunk",
    )  # fmt: skip
    samplers.register(entry)
    try:
        s = spec({"name": "random-batch", "chunk": 7})
        assert samplers.batch_size(s) == 7
        assert isinstance(samplers.make_sampler(s, seed=1), optuna.samplers.RandomSampler)
        samplers.register(entry)  # the same row again: a no-op
        with pytest.raises(InputError, match="already exists"):
            samplers.register(SamplerEntry("random-batch", "another", None))
    finally:
        samplers.unregister("random-batch")
    with pytest.raises(InputError):
        spec("random-batch")


def test_a_batch_option_needs_a_default():
    with pytest.raises(InputError, match="needs a default"):
        samplers.register(SamplerEntry("x", "x", None, {"n": Option(int, 1)}, batch="n"))

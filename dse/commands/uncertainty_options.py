"""Command-line options of the Monte Carlo runs: ``--uncertainty [N]``, ``--uncertainty-file FILE``, ``--seed``."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

from dse.errors import InputError
from dse.uncertainty.declared import Declared, load_overrides
from dse.uncertainty.montecarlo import DEFAULT_SAMPLES, MAX_SAMPLES

uncertainty_file_option = click.option(
    "--uncertainty-file", "uncertainty_file", metavar="FILE.toml",
    help="Replace, add or switch off declared uncertain inputs ([inputs.\"NAME\"] tables: distribution, low, "
    "high, mode, mean, sd, kind, source; off = true). See `rtsa-dse accelerators` for the declared ones.",
)  # fmt: skip


def uncertainty_options(default: int = DEFAULT_SAMPLES) -> Callable:
    """Decorator adding ``--uncertainty [N]`` (N Monte Carlo samples; the flag alone takes ``default``),
    ``--uncertainty-file`` and ``--seed``."""

    def deco(f: Callable) -> Callable:
        command = f

        @functools.wraps(command)
        def f(*args, **kwargs):
            if kwargs.get("uncertainty_file") and not kwargs.get("uncertainty"):
                raise InputError("--uncertainty-file", "applies to a Monte Carlo run: add --uncertainty [N]")
            if kwargs.get("seed") is not None and not kwargs.get("uncertainty"):
                raise InputError("--seed", "seeds the Monte Carlo samples: add --uncertainty [N]")
            kwargs["seed"] = 0 if kwargs.get("seed") is None else check_seed(kwargs["seed"])
            return command(*args, **kwargs)

        f = click.option("--seed", type=int, default=None, help="Seed of the Monte Carlo samples (default 0).")(f)
        f = uncertainty_file_option(f)
        return click.option(
            "--uncertainty", "uncertainty", type=int, callback=_samples, is_flag=False, flag_value=default,
            default=None, metavar="[N]",
            help=f"Evaluate N joint samples of the declared uncertain inputs in one vectorized call and report the "
            f"median and the 5–95% interval of every metric and ratio (the flag alone: N = {default}).",
        )(f)  # fmt: skip

    return deco


def check_seed(seed: int) -> int:
    """``seed`` within numpy's and optuna's 32-bit range (the sweep spec's rule), else an input error."""
    from dse.search.spec import MAX_SEED

    if not 0 <= seed <= MAX_SEED:
        raise InputError("--seed", f"must be an integer in [0, {MAX_SEED}], got {seed}")
    return seed


def _samples(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """``--uncertainty N`` within [2, MAX_SAMPLES], worded as a negative N is (dse.cli)."""
    if value is not None and not 2 <= value <= MAX_SAMPLES:
        raise InputError("--uncertainty", f"expected Monte Carlo samples, an integer in [2, {MAX_SAMPLES:,}], "
                         f"got {value}")  # fmt: skip
    return value


def declared_from(path: str | None) -> Declared:
    return load_overrides(path)

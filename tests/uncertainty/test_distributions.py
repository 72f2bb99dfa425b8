"""Distributions of the declared inputs: bounds, medians, monotone inverse CDFs, one-line errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.errors import InputError
from dse.uncertainty.distributions import Distribution, loguniform, normal, triangular, uniform

ALL = [uniform(2.0, 6.0), loguniform(0.5, 2.0), triangular(0.64, 0.7, 0.78), normal(1.0, 0.2, 0.7, 1.4)]


@pytest.mark.parametrize("d", ALL, ids=lambda d: d.kind)
def test_ends_map_to_the_bounds(d):
    assert d.quantile(0.0) == pytest.approx(d.low)
    assert d.quantile(1.0) == pytest.approx(d.high)


@settings(max_examples=40, deadline=None)
@given(u=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=50))
def test_values_stay_in_bounds_and_grow_with_u(u):
    u = np.sort(np.asarray(u))
    for d in ALL:
        x = d.ppf(u)
        assert np.all(x >= d.low - 1e-12) and np.all(x <= d.high + 1e-12)
        assert np.all(np.diff(x) >= -1e-12)


def test_medians_by_hand():
    assert uniform(2.0, 6.0).median == pytest.approx(4.0)
    assert loguniform(0.5, 2.0).median == pytest.approx(1.0)  # geometric mean
    # triangular(a, c, b) with c ≥ (a+b)/2: median = a + sqrt((b-a)(c-a)/2)
    a, c, b = 0.64, 0.74, 0.78
    assert triangular(a, c, b).median == pytest.approx(a + math.sqrt((b - a) * (c - a) / 2))
    assert normal(1.0, 0.2, 0.6, 1.4).median == pytest.approx(1.0)  # symmetric truncation


@pytest.mark.parametrize(
    "args,field",
    [
        (("uniform", 2.0, 1.0), "d"),
        (("loguniform", 0.0, 1.0), "d.low"),
        (("triangular", 0.0, 1.0, 2.0), "d.mode"),
        (("normal", 0.0, 1.0, None, 0.5, None), "d.sd"),
        (("beta", 0.0, 1.0), "d.distribution"),
    ],
)
def test_inconsistent_parameters_name_the_field(args, field):
    with pytest.raises(InputError) as err:
        Distribution(*args).check("d")
    assert err.value.field == field and "\n" not in str(err.value)


def test_text_is_readable():
    assert uniform(500, 1000).text() == "uniform(500, 1000)"
    assert triangular(0.64, 0.7, 0.78).text() == "triangular(0.64, 0.7, 0.78)"

"""Hand-derived unit tests of the load-imbalance factor (:mod:`dse.sparsity.imbalance`).

The equation (module docstring): n = max(candidates / P, 1) candidates per PE, kept with probability q;
μ = n·q, σ = √(n·q·(1 − q)); factor = min(1 + σ·√(2 ln P)/μ, 1/q).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dse.sparsity.imbalance import imbalance_factor

LN2 = math.log(2)


@pytest.mark.parametrize(
    ("candidates", "q", "pes", "expected"),
    [
        # n = 16/4 = 4, μ = 2, σ = √(4·0.5·0.5) = 1, √(2 ln 4) = 2√(ln 2) → 1 + 2√(ln 2)/2 = 1 + √(ln 2) ≈ 1.833
        (16, 0.5, 4, 1 + math.sqrt(LN2)),
        # n = 400/2 = 200, μ = 40, σ = √(200·0.2·0.8) = √32 = 4√2, √(2 ln 2)
        #   → 1 + 4√2·√2·√(ln 2)/40 = 1 + √(ln 2)/5 ≈ 1.167
        (400, 0.2, 2, 1 + math.sqrt(LN2) / 5),
        # n = 64/4 = 16, q = 0.25: μ = 4, σ = √3 → 1 + √3·2√(ln 2)/4 = 1 + √(3 ln 2)/2 ≈ 1.721
        (64, 0.25, 4, 1 + math.sqrt(3 * LN2) / 2),
        # fewer candidates than PEs: n = max(1/2, 1) = 1, μ = 0.2, σ = 0.4 → 1 + 2√(2 ln 2) ≈ 3.355 (< cap 5);
        # without the clamp (n = 0.5) it would be 1 + √8·√(2 ln 2) ≈ 4.33
        (1, 0.2, 2, 1 + 2 * math.sqrt(2 * LN2)),
    ],
)
def test_hand_values(candidates, q, pes, expected):
    assert float(imbalance_factor(candidates, q, pes)) == pytest.approx(expected, rel=1e-12)


def test_cap_at_one_over_q():
    # n = 4/4 = 1, q = 0.5: μ = 0.5, σ = 0.5 → 1 + 0.5·2√(ln 2)/0.5 = 1 + 2√(ln 2) ≈ 2.665 > 1/q = 2 → exactly 2
    assert imbalance_factor(4, 0.5, 4) == 2.0
    # n = 256/256 = 1, q = 0.1: σ/μ = √(0.9/0.1) = 3, √(2 ln 256) = √(16 ln 2) ≈ 3.330 → 1 + 3·3.330 ≈ 10.99 > 10:
    # the busiest PE does at most all its candidates (q·factor ≤ 1) → exactly 1/q = 10
    assert imbalance_factor(256, 0.1, 256) == 10.0


@pytest.mark.parametrize("candidates", [1, 16, 1e6])
@pytest.mark.parametrize("q", [0.01, 0.5, 0.99])
def test_one_pe_is_exactly_balanced(candidates, q):
    # P = 1: √(2 ln 1) = 0
    assert imbalance_factor(candidates, q, 1) == 1.0


@pytest.mark.parametrize("candidates", [1, 16, 1e6])
@pytest.mark.parametrize("pes", [1, 2, 256, 4096])
def test_dense_is_exactly_balanced(candidates, pes):
    # q = 1: σ = 0
    assert imbalance_factor(candidates, 1.0, pes) == 1.0


def test_vectorized_matches_scalar_calls():
    n = np.array([16, 400, 64, 1, 4, 1e6])
    q = np.array([0.5, 0.2, 0.25, 0.2, 0.5, 1.0])
    pes = np.array([4, 2, 4, 2, 4, 256])
    batch = imbalance_factor(n, q, pes)
    assert batch.shape == (6,)
    for i in range(6):
        assert batch[i] == pytest.approx(float(imbalance_factor(n[i], q[i], pes[i])), rel=1e-12)


_n = st.floats(1, 1e9)
_q = st.floats(0.01, 1.0)
_p = st.integers(1, 4096)


@settings(max_examples=100, deadline=None)
@given(_n, _q, _p)
def test_between_one_and_one_over_q(n, q, pes):
    f = float(imbalance_factor(n, q, pes))
    assert 1.0 <= f <= 1.0 / q * (1 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(_n, _q, _p, _p)
def test_more_pes_never_less_imbalance(n, q, p1, p2):
    lo, hi = sorted((p1, p2))
    assert imbalance_factor(n, q, hi) >= imbalance_factor(n, q, lo) * (1 - 1e-12)


@settings(max_examples=100, deadline=None)
@given(_n, _n, _q, _p)
def test_more_candidates_never_more_imbalance(n1, n2, q, pes):
    lo, hi = sorted((n1, n2))
    assert imbalance_factor(hi, q, pes) <= imbalance_factor(lo, q, pes) * (1 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(_n, _q, _q, _p)
def test_denser_never_more_imbalance(n, q1, q2, pes):
    lo, hi = sorted((q1, q2))
    assume(lo < hi)
    assert imbalance_factor(n, hi, pes) <= imbalance_factor(n, lo, pes) * (1 + 1e-12)

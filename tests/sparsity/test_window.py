"""Hand-derived unit tests of windowed attention (:mod:`dse.sparsity.window`).

The equations (module docstring): a patch query at grid position (i, j) keeps the patch keys within radius
r = ⌊(k − 1)/2⌋ on each axis, clipped at the borders, so along an axis of g positions

  S(g, k) = Σ_{i<g} (min(i, r) + min(g − 1 − i, r) + 1)       pairs = S(g_h, k)·S(g_w, k)

and with a CLS token (N = g_h·g_w + 1) every patch query also keeps the CLS key (N − 1 pairs) and the CLS
query keeps every key (N pairs). kept fraction = pairs / N².
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.sparsity.window import window_kept_fraction, windowed_pairs
from dse.workloads import build


def _brute_pairs(gh: int, gw: int, k: int, cls: bool) -> int:
    """Count the kept (query, key) pairs one by one."""
    r = (k - 1) // 2
    cells = [(i, j) for i in range(gh) for j in range(gw)]
    pairs = sum(abs(qi - ki) <= r and abs(qj - kj) <= r for qi, qj in cells for ki, kj in cells)
    n = gh * gw + cls
    return pairs + ((n - 1) + n if cls else 0)


@pytest.mark.parametrize(
    ("gh", "gw", "k", "cls", "pairs"),
    [
        # 3×3 grid, 3×3 window (r = 1): per axis, windows 2, 3, 2 → S = 7; 7·7 = 49
        (3, 3, 3, False, 49),
        # + CLS (N = 10): 9 patch queries keep the CLS key, the CLS query keeps 10 keys → 49 + 9 + 10 = 68
        (3, 3, 3, True, 68),
        # 2×3 grid: S(2, 3) = 2 + 2 = 4 (both rows see both), S(3, 3) = 7 → 28
        (2, 3, 3, False, 28),
        # 5×5, k = 5 (r = 2): windows 3, 4, 5, 4, 3 → S = 19; 19² = 361
        (5, 5, 5, False, 361),
        # k = 1: each patch only itself → 4·6 = 24
        (4, 6, 1, False, 24),
        # window wider than the grid (2×2, k = 5): every pair kept → (2·2)² = 16; with CLS, N² = 25
        (2, 2, 5, False, 16),
        (2, 2, 5, True, 25),
        # one patch: 1 pair, + CLS: 1 + 1 + 2 = 4 = N²
        (1, 1, 3, False, 1),
        (1, 1, 3, True, 4),
    ],
)
def test_hand_counts(gh, gw, k, cls, pairs):
    assert windowed_pairs(gh, gw, k, cls) == pairs
    assert _brute_pairs(gh, gw, k, cls) == pairs  # the hand count, checked by enumeration


def test_fraction_of_hand_count():
    # 68 kept of N² = 100
    assert window_kept_fraction(3, 3, 3) == 0.68
    assert window_kept_fraction(4, 6, 1, cls=False) == 24 / 576


def test_deit_tiny_224_3x3():
    """The poster's figure [src:windowed-poster]: 5.14% kept, 94.86% pruned, for DeiT-Tiny at 224² with a 3×3 window.

    14×14 grid: per axis the two border positions see 2, the 12 others 3 → S = 2·2 + 12·3 = 40;
    pairs = 40² + 196 (patch → CLS) + 197 (CLS → all) = 1993; N² = 197² = 38809; 1993/38809 = 5.135%.
    """
    wl = build("deit-tiny")
    gh, gw = (int(g) for g in wl.grid)
    assert (gh, gw, wl.spec.cls) == (14, 14, True)
    assert windowed_pairs(gh, gw, 3) == 1993
    assert window_kept_fraction(gh, gw, 3) == 1993 / 197**2
    assert round(100 * float(window_kept_fraction(gh, gw, 3)), 2) == 5.14
    assert round(100 * (1 - float(window_kept_fraction(gh, gw, 3))), 2) == 94.86


@pytest.mark.parametrize("k", [27, 29, 63])
def test_window_covering_the_grid_is_dense(k):
    # r = ⌊(k − 1)/2⌋ ≥ 13 = g − 1: every patch sees every patch
    assert windowed_pairs(14, 14, k) == 197**2
    assert window_kept_fraction(14, 14, k) == 1.0


def test_vectorized_matches_scalar_calls():
    gh, gw = np.array([3, 2, 5, 14, 14, 1]), np.array([3, 3, 5, 14, 14, 1])
    k = np.array([3, 3, 5, 3, 29, 1])
    for cls in (False, True):
        pairs, frac = windowed_pairs(gh, gw, k, cls), window_kept_fraction(gh, gw, k, cls)
        for i in range(len(k)):
            assert pairs[i] == windowed_pairs(gh[i], gw[i], k[i], cls)
            assert frac[i] == window_kept_fraction(gh[i], gw[i], k[i], cls)


_grid = st.integers(1, 7)
_odd = st.integers(0, 8).map(lambda r: 2 * r + 1)


@settings(max_examples=60, deadline=None)
@given(_grid, _grid, _odd, st.booleans())
def test_matches_enumeration(gh, gw, k, cls):
    assert windowed_pairs(gh, gw, k, cls) == _brute_pairs(gh, gw, k, cls)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), _odd, _odd, st.booleans())
def test_pairs_bounded_and_monotone_in_window(gh, gw, k1, k2, cls):
    lo, hi = sorted((k1, k2))
    n = gh * gw + cls
    a, b = windowed_pairs(gh, gw, lo, cls), windowed_pairs(gh, gw, hi, cls)
    assert n <= a <= b <= n * n  # at least each query with itself, at most every pair
    assert 0 < window_kept_fraction(gh, gw, lo, cls) <= 1

"""Hand-derived unit tests of the vector-scalar array (:mod:`dse.sparsity.vecscalar`).

The equations (module docstring), R×C PEs of V lanes, e bytes per element:

  dense_units = B·M·K·⌈N/V⌉                         (one unit: scalar A[m, k] × a V-chunk of row B[k, :])
  cycles      = ⌈units·imbalance / P⌉ + R + C − 2    (fill and drain once per op)
  sram_bytes  = units·e·(1/C + V/R) + out·acc_bytes  (a cycle reads R scalars and C vectors for R·C units:
                                                      R/(R·C) = 1/C scalars and C·V/(R·C) = V/R vector elements
                                                      per unit; one output write of acc_bytes each)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.sparsity.vecscalar import cycles, dense_units, sram_bytes


@pytest.mark.parametrize(
    ("batch", "m", "k", "n", "lanes", "units"),
    [
        (1, 8, 4, 16, 4, 128),  # 8·4·⌈16/4⌉ = 8·4·4
        (1, 8, 4, 17, 4, 160),  # ⌈17/4⌉ = 5: the last chunk runs 1 of 4 lanes
        (1, 8, 4, 16, 1, 512),  # V = 1: one unit per MAC
        (2, 8, 4, 16, 4, 256),  # batch doubles it
        (1, 8, 4, 3, 16, 32),  # N < V: one (mostly idle) chunk per scalar
    ],
)
def test_dense_units(batch, m, k, n, lanes, units):
    assert dense_units(batch, m, k, n, lanes) == units


@pytest.mark.parametrize(
    ("units", "pes", "rows", "cols", "imbalance", "expected"),
    [
        (100, 8, 2, 4, 1.0, 17),  # ⌈100/8⌉ = 13, + 2 + 4 − 2 = 17
        (96, 8, 2, 4, 1.0, 16),  # 96/8 = 12 exactly, + 4
        (100, 8, 2, 4, 1.5, 23),  # ⌈150/8⌉ = ⌈18.75⌉ = 19, + 4
        (0, 8, 2, 4, 1.0, 4),  # no work: fill and drain only
        (37, 1, 1, 1, 1.0, 37),  # one PE: no fill/drain, one unit a cycle
        (1000, 256, 16, 16, 1.0, 34),  # ⌈3.90625⌉ = 4, + 30
    ],
)
def test_cycles(units, pes, rows, cols, imbalance, expected):
    assert cycles(units, pes, rows, cols, imbalance) == expected


def test_sram_bytes():
    # 64 units on R = 4, C = 8, V = 4, e = 2: per unit 1/8 scalar + 4/4 vector elements = 1.125 elements
    #   → 64·2·1.125 = 144 bytes read; 10 outputs × 4 bytes = 40 written → 184
    assert sram_bytes(64, 4, 8, 4, 2, 10, 4) == 184
    # R = C = 1: every unit reads its scalar and its V = 4 elements: 10·(1 + 4)·1 = 50, no output
    assert sram_bytes(10, 1, 1, 4, 1, 0, 4) == 50


def test_sram_bytes_count_per_cycle():
    """The closed form equals counting a cycle's buffer reads: R scalars + C vectors of V for R·C units."""
    rows, cols, lanes, e = 16, 8, 4, 2
    units = 3 * rows * cols  # three full cycles
    per_cycle = (rows * 1 + cols * lanes) * e
    assert sram_bytes(units, rows, cols, lanes, e, 0, 4) == 3 * per_cycle


def test_vectorized_matches_scalar_calls():
    units = np.array([100.0, 96, 0, 37, 1000])
    pes, rows, cols = np.array([8, 8, 8, 1, 256]), np.array([2, 2, 2, 1, 16]), np.array([4, 4, 4, 1, 16])
    imb = np.array([1.0, 1.0, 1.5, 1.0, 1.2])
    lanes = np.array([4, 4, 8, 1, 16])
    c, s = cycles(units, pes, rows, cols, imb), sram_bytes(units, rows, cols, lanes, 2, 10, 4)
    d = dense_units(1, 8, 4, np.array([16, 17, 3, 1, 64]), lanes)
    for i in range(5):
        assert c[i] == cycles(units[i], pes[i], rows[i], cols[i], imb[i])
        assert s[i] == pytest.approx(sram_bytes(units[i], rows[i], cols[i], lanes[i], 2, 10, 4), rel=1e-15)
        assert d[i] == dense_units(1, 8, 4, [16, 17, 3, 1, 64][i], lanes[i])


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 8),
    st.integers(1, 4096),
    st.integers(1, 4096),
    st.integers(1, 4096),
    st.sampled_from([1, 2, 4, 8, 16, 32]),
    st.integers(1, 64),
    st.integers(1, 64),
)
def test_physics_bounds(batch, m, k, n, lanes, rows, cols):
    """Dense units cover every MAC with less than one idle chunk per scalar; cycles ≥ MACs / peak."""
    u = dense_units(batch, m, k, n, lanes)
    macs = batch * m * k * n
    assert macs <= u * lanes < macs + batch * m * k * lanes
    assert cycles(u, rows * cols, rows, cols) >= macs / (rows * cols * lanes)

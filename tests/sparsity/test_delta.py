"""Hand-derived unit tests of inter-frame delta sparsity (:mod:`dse.sparsity.delta`).

The equations (module docstring): with t temporal slices, k_s = ⌈t / key_interval⌉ dense key slices and
non-key share f = (t − k_s) / t, delta sparsity s, V lanes, P PEs, e bytes per element:

  density  = 1 − f·s                                    macs = MACs · density
  units    = B·M·K·⌈N/V⌉ · ((1 − f) + f·(1 − s)·imb)     imb = imbalance_factor(B·M·K·f, 1 − s, P)
  spill    : (A + O)/(B·M) > glb/4, with A = B·M·K·e (input bytes), O = B·M·N·e (output bytes): one token
             position's input and output row (rows run position-major)
  extra    = f·(A + O) if spill and s > 0, else 0       (re-read xₜ₋₁ and yₜ₋₁ for every non-key slice)
  meta     = 2 · nnz · ⌈log₂ max(K, 2)⌉ / 8 if s > 0     nnz = B·M·K·f·(1 − s)   (written once, read once)
  elementwise = f·(B·M·K + B·M·N) if s > 0              (Δ subtract/compare + output accumulate)

The reference op, worked on paper: a linear layer with batch 1, M = 8 tokens in t = 4 temporal slices,
K = 4, N = 16; V = 4 lanes, e = 1 byte:

  dense MACs  = 1·8·4·16 = 512          dense units = 1·8·4·⌈16/4⌉ = 128
  Δ candidates B·M·K = 32               A = 32 B, O = 128 B, one token's rows (A + O)/(B·M) = 160/8 = 20 B
  spill threshold: 20 > glb/4  ⇔  glb < 80 B
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.sparsity.delta import delta_linear, key_slices
from dse.workloads.ops import Op

OP = Op("fc", "linear", "b", 1, batch=1, m=8, k=4, n=16, t_slices=4)
BIG = 1 << 20  # a 1 MiB buffer: no spill for the reference op
FIELDS = ("density", "macs", "units", "extra_dram_bytes", "meta_bytes", "elementwise")


def _delta(op=OP, s=0.75, key_interval=2, pes=1, lanes=4, elem_bytes=1, glb=BIG):
    return delta_linear(op, s, key_interval, pes, lanes, elem_bytes, glb)


# --- key slices -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "interval", "keys"),
    [
        (4, 2, 2),  # slices 0, 2
        (8, 3, 3),  # slices 0, 3, 6
        (9, 3, 3),  # slices 0, 3, 6
        (10, 3, 4),  # slices 0, 3, 6, 9
        (4, 1, 4),  # every slice is a key slice
        (4, 8, 1),  # interval longer than the clip: only slice 0
        (1, 8, 1),  # an image: one slice, a key slice
        (16, 8, 2),  # slices 0, 8
    ],
)
def test_key_slices_hand_counts(t, interval, keys):
    assert key_slices(t, interval) == keys


def test_key_slices_vectorized():
    t, interval = np.array([4, 8, 9, 10, 1]), np.array([2, 3, 3, 3, 8])
    np.testing.assert_array_equal(key_slices(t, interval), [2, 3, 3, 4, 1])


# --- the reference op ---------------------------------------------------------------------------------------


def test_reference_op_exact():
    # s = 0.75, key_interval = 2, P = 1 (imbalance exactly 1), no spill:
    #   k_s = ⌈4/2⌉ = 2, f = (4 − 2)/4 = 0.5
    #   density = 1 − 0.5·0.75 = 0.625                  macs = 512·0.625 = 320
    #   units = 128·(0.5 + 0.5·0.25·1) = 128·0.625 = 80
    #   nnz = 32·0.5·0.25 = 4; index ⌈log₂ 4⌉ = 2 bits; meta = 2·4·2/8 = 2 bytes
    #   elementwise = 0.5·(32 + 128) = 80                 extra = 0 (1 MiB buffer)
    w = _delta()
    assert w.density == 0.625
    assert w.macs == 320
    assert w.units == 80
    assert w.meta_bytes == 2
    assert w.elementwise == 80
    assert w.extra_dram_bytes == 0


def test_reference_op_with_imbalance():
    # s = 0.5, key_interval = 2, P = 4: f = 0.5, density = 1 − 0.25 = 0.75, macs = 384.
    # imbalance over the 32·0.5 = 16 non-key Δ candidates, q = 0.5: n = 16/4 = 4 per PE, μ = 2,
    # σ = √(4·0.5·0.5) = 1, √(2 ln 4) = 2√(ln 2) → imb = 1 + 1·2√(ln 2)/2 = 1 + √(ln 2) ≈ 1.8326 (< cap 2)
    # units = 128·(0.5 + 0.5·0.5·imb) = 64 + 32·imb = 96 + 32√(ln 2) ≈ 122.64
    # nnz = 32·0.5·0.5 = 8 → meta = 2·8·2/8 = 4 bytes; elementwise = 0.5·160 = 80
    w = _delta(s=0.5, pes=4)
    assert w.density == 0.75
    assert w.macs == 384
    assert float(w.units) == pytest.approx(96 + 32 * math.sqrt(math.log(2)), rel=1e-12)
    assert w.meta_bytes == 4
    assert w.elementwise == 80


def test_key_interval_longer_than_clip():
    # key_interval = 8 > t = 4: k_s = 1, f = 3/4; s = 0.5, P = 1
    #   density = 1 − 0.75·0.5 = 0.625; units = 128·(0.25 + 0.75·0.5) = 80
    #   nnz = 32·0.75·0.5 = 12 → meta = 2·12·2/8 = 6; elementwise = 0.75·160 = 120
    #   spilling (glb = 0): extra = 0.75·(32 + 128) = 120
    w = _delta(s=0.5, key_interval=8, glb=0)
    assert (w.density, w.units, w.meta_bytes, w.elementwise, w.extra_dram_bytes) == (0.625, 80, 6, 120, 120)


# --- metadata: ⌈log₂ K⌉ bits per non-zero, written and read ----------------------------------------------


@pytest.mark.parametrize(
    ("k", "bits"),
    [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4), (768, 10)],  # K = 1: a 1-bit floor (max(K, 2))
)
def test_meta_bytes_index_width(k, bits):
    # s = 0.75, key_interval = 2: nnz = 8·K·0.5·0.25 = K → meta = 2·K·bits/8 = K·bits/4
    op = Op("fc", "linear", "b", 1, batch=1, m=8, k=k, n=16, t_slices=4)
    assert _delta(op).meta_bytes == k * bits / 4


def test_meta_bytes_scale_with_batch():
    # batch 3 triples the Δ candidates: nnz = 3·4 = 12 → meta = 2·12·2/8 = 6
    op = OP.with_(batch=3)
    assert _delta(op).meta_bytes == 6


# --- spill rule: one token position's input + output row against a quarter of the buffer ------------------


@pytest.mark.parametrize(
    ("glb", "extra"),
    [
        (81, 0.0),  # 20 ≤ 20.25: fits
        (80, 0.0),  # 20 ≤ 20: fits exactly (the rule is a strict >)
        (79, 80.0),  # 20 > 19.75: spills, f·(A + O) = 0.5·160 = 80 bytes re-read
        (40, 80.0),  # far below: the same 80 bytes (the re-read does not depend on how far)
        (159, 0.0),  # a whole slice (40 B) would not fit a quarter, one token's rows do: no re-read
    ],
)
def test_spill_threshold(glb, extra):
    assert _delta(glb=glb).extra_dram_bytes == extra


def test_spill_threshold_with_two_byte_elements():
    # e = 2: A = 64, O = 256, one token's rows = 320/8 = 40 B → spills iff glb < 160; extra = 0.5·320 = 160
    assert _delta(elem_bytes=2, glb=160).extra_dram_bytes == 0
    assert _delta(elem_bytes=2, glb=159).extra_dram_bytes == 160


def test_no_spill_cost_without_delta():
    # a dense op (s = 0) or all-key slices (key_interval 1, one slice) never re-reads the previous slice
    assert _delta(s=0.0, glb=0).extra_dram_bytes == 0
    assert _delta(key_interval=1, glb=0).extra_dram_bytes == 0
    assert _delta(OP.with_(t_slices=1), glb=0).extra_dram_bytes == 0


# --- edge cases: no saving ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        {"s": 0.0},  # no delta sparsity
        {"key_interval": 1},  # every slice a key slice: f = 0
        {"op": OP.with_(t_slices=1)},  # an image: one slice, a key slice
        {"op": OP.with_(t_slices=1), "key_interval": 8},
        {"s": 0.0, "pes": 256},  # q = 1: no imbalance even on many PEs
    ],
)
def test_no_saving_is_exactly_dense(case):
    w = _delta(**case)
    assert w.density == 1
    assert w.macs == 512
    assert w.units == 128
    assert w.meta_bytes == 0
    assert w.elementwise == 0
    assert w.extra_dram_bytes == 0


# --- vectorized over design points -------------------------------------------------------------------------


def test_vectorized_knobs_match_scalar_calls():
    s = np.array([0.0, 0.5, 0.75, 0.9, 0.3])
    ki = np.array([1, 2, 8, 3, 4])
    pes = np.array([1, 4, 16, 256, 64])
    lanes = np.array([4, 4, 8, 16, 1])
    glb = np.array([BIG, 159, 160, 0, 100])
    batch = delta_linear(OP, s, ki, pes, lanes, 1, glb)
    for i in range(len(s)):
        one = delta_linear(OP, s[i], ki[i], pes[i], lanes[i], 1, glb[i])
        for f in FIELDS:
            assert getattr(batch, f)[i] == pytest.approx(float(getattr(one, f)), rel=1e-12, abs=1e-12), f


def test_vectorized_op_shapes_match_scalar_ops():
    m, k, t = np.array([8, 16, 64]), np.array([4, 5, 768]), np.array([4, 8, 1])
    op = Op("fc", "linear", "b", 1, batch=1, m=m, k=k, n=16, t_slices=t)
    batch = delta_linear(op, 0.75, 2, 16, 4, 1, 200)
    for i in range(3):
        one = delta_linear(op.with_(m=m[i], k=k[i], t_slices=t[i]), 0.75, 2, 16, 4, 1, 200)
        for f in FIELDS:
            assert getattr(batch, f)[i] == pytest.approx(float(getattr(one, f)), rel=1e-12, abs=1e-12), f


# --- properties ----------------------------------------------------------------------------------------------

_ops = st.builds(
    lambda b, m, k, n, t: Op("fc", "linear", "b", 1, batch=b, m=m * t, k=k, n=n, t_slices=t),
    st.integers(1, 4),
    st.integers(1, 64),
    st.integers(1, 1024),
    st.integers(1, 1024),
    st.integers(1, 32),
)


@settings(max_examples=80, deadline=None)
@given(_ops, st.floats(0, 0.99), st.floats(0, 0.99), st.integers(1, 64), st.integers(1, 1024))
def test_density_monotone_in_sparsity(op, s1, s2, ki, pes):
    lo, hi = sorted((s1, s2))
    a, b = delta_linear(op, lo, ki, pes, 4, 1, BIG), delta_linear(op, hi, ki, pes, 4, 1, BIG)
    assert b.density <= a.density
    assert b.macs <= a.macs
    assert 1 - hi <= b.density <= 1  # only the non-key slices save, and at most s of them


@settings(max_examples=80, deadline=None)
@given(_ops, st.floats(0, 0.99), st.integers(1, 64), st.integers(1, 64))
def test_density_monotone_in_key_interval(op, s, k1, k2):
    lo, hi = sorted((k1, k2))
    assert delta_linear(op, s, hi, 1, 4, 1, BIG).density <= delta_linear(op, s, lo, 1, 4, 1, BIG).density


@settings(max_examples=80, deadline=None)
@given(_ops, st.floats(0, 0.99), st.integers(1, 64), st.integers(1, 4096), st.sampled_from([1, 4, 16]))
def test_units_between_ideal_and_dense(op, s, ki, pes, lanes):
    """Imbalance ≥ 1 keeps units ≥ density·dense; its 1/q cap keeps them ≤ dense."""
    w = delta_linear(op, s, ki, pes, lanes, 1, BIG)
    dense = op.batch * op.m * op.k * np.ceil(op.n / lanes)
    assert w.density * dense * (1 - 1e-12) <= w.units <= dense * (1 + 1e-12)
    assert w.meta_bytes >= 0 and w.elementwise >= 0 and w.extra_dram_bytes >= 0

"""Hand-derived unit tests of sub-vector attention sparsity (:mod:`dse.sparsity.subvector`).

The equations (module docstring): queries M, keys (N for QKᵀ, K for A·V), head dim dₕ (K for QKᵀ, N for A·V),
sub-vector length L, pruned share p, keep q = 1 − p, V lanes, P PEs, e bytes per element:

  candidates  = B·⌈M/L⌉·keys                     (sub-vectors: L consecutive queries of one key column)
  units_dense = candidates·dₕ·⌈L/V⌉               (a kept sub-vector costs dₕ vector-scalar units in either op)
  units       = units_dense·q·imbalance_factor(candidates, q, P)  (+ mask_overhead·units_dense for QKᵀ only)
  macs        = MACs·q
  mask_bytes  = candidates / 8 if p > 0          (1 bit per candidate sub-vector, per op that reads it)
  score_bytes_saved = p·B·M·keys·e               (pruned scores not moved)

The reference ops, worked on paper: 2 heads (B = 2), M = 8 queries, 16 keys, dₕ = 4; L = 4, V = 4, e = 2 bytes:

  candidates  = 2·⌈8/4⌉·16 = 64       units_dense = 64·4·⌈4/4⌉ = 256 (= MACs/V = 1024/4)
  scores      = 2·8·16 = 256          MACs = 2·8·4·16 = 1024
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.sparsity.subvector import subvector_attention
from dse.workloads.ops import Op

QK = Op("qk", "attn_score", "b", 1, batch=2, m=8, k=4, n=16, b_is_weight=False, role="qk")
AV = Op("av", "attn_context", "b", 1, batch=2, m=8, k=16, n=4, b_is_weight=False, role="av")
FIELDS = ("keep", "macs", "units", "mask_bytes", "score_bytes_saved")


def _sv(op=QK, p=0.75, sub_len=4, pes=1, lanes=4, mask_overhead=0.0, elem_bytes=2):
    return subvector_attention(op, p, sub_len, pes, lanes, mask_overhead, elem_bytes)


@pytest.mark.parametrize("op", [QK, AV], ids=["qk", "av"])
def test_reference_ops_exact(op):
    # p = 0.75 (q = 0.25), P = 1 (imbalance exactly 1):
    #   units = 256·0.25·1 = 64      macs = 1024·0.25 = 256
    #   mask  = 64 bits / 8 = 8 bytes                saved = 0.75·256 scores·2 B = 384 bytes
    w = _sv(op)
    assert w.keep == 0.25
    assert w.units == 64
    assert w.macs == 256
    assert w.mask_bytes == 8
    assert w.score_bytes_saved == 384


def test_mask_overhead_charged_to_qk_only():
    # mask_overhead = 0.5 of the dense QKᵀ work: QKᵀ units = 64 + 0.5·256 = 192; A·V keeps 64
    assert _sv(QK, mask_overhead=0.5).units == 192
    assert _sv(AV, mask_overhead=0.5).units == 64


@pytest.mark.parametrize("op", [QK, AV], ids=["qk", "av"])
def test_imbalance_over_pes(op):
    # P = 4, q = 0.25 over 64 candidates: n = 16 per PE, μ = 4, σ = √(16·0.25·0.75) = √3,
    # √(2 ln 4) = 2√(ln 2) → imb = 1 + √3·2√(ln 2)/4 = 1 + √(3 ln 2)/2 ≈ 1.7210 (< cap 4)
    # units = 256·0.25·imb = 64·(1 + √(3 ln 2)/2) ≈ 110.14; macs unchanged (imbalance costs time, not MACs)
    w = _sv(op, pes=4)
    assert float(w.units) == pytest.approx(64 * (1 + math.sqrt(3 * math.log(2)) / 2), rel=1e-12)
    assert w.macs == 256


def test_ragged_sub_vectors_and_lanes():
    # M = 10 queries, L = 6: ⌈10/6⌉ = 2 blocks; V = 4: ⌈6/4⌉ = 2 units per feature (2 lanes idle in the 2nd)
    #   candidates = 1·2·16 = 32; units_dense = 32·4·2 = 256; p = 0.5 → units = 128
    #   macs = 1·10·4·16·0.5 = 320; mask = 32/8 = 4 bytes; saved = 0.5·(1·10·16)·2 = 160 bytes
    op = Op("qk", "attn_score", "b", 1, batch=1, m=10, k=4, n=16, b_is_weight=False)
    w = _sv(op, p=0.5, sub_len=6)
    assert (w.units, w.macs, w.mask_bytes, w.score_bytes_saved) == (128, 320, 4, 160)


def test_sub_len_one_is_element_sparsity():
    # L = 1: one candidate per score (2·8·16 = 256 → mask 32 bytes); each unit does 1 useful MAC of V = 4 lanes,
    # so units_dense = 256·4·⌈1/4⌉ = 1024 = MACs; p = 0.75 → 256 units
    w = _sv(sub_len=1)
    assert (w.units, w.mask_bytes) == (256, 32)


@pytest.mark.parametrize("op", [QK, AV], ids=["qk", "av"])
@pytest.mark.parametrize("pes", [1, 16, 1024])
def test_no_pruning_is_exactly_dense(op, pes):
    # p = 0: q = 1 → imbalance 1 on any P; no mask, nothing saved
    w = _sv(op, p=0.0, pes=pes)
    assert (w.keep, w.units, w.macs, w.mask_bytes, w.score_bytes_saved) == (1, 256, 1024, 0, 0)


def test_mask_bytes_do_not_depend_on_how_much_is_pruned():
    # the mask has one bit per candidate, pruned or not
    assert {float(_sv(p=p).mask_bytes) for p in (0.1, 0.5, 0.75, 0.99)} == {8.0}


def test_vectorized_matches_scalar_calls():
    p = np.array([0.0, 0.5, 0.75, 0.9, 0.3])
    sub_len = np.array([4, 6, 1, 16, 8])
    pes = np.array([1, 4, 16, 256, 64])
    lanes = np.array([4, 4, 8, 16, 1])
    over = np.array([0.0, 0.5, 0.1, 0.0, 1.0])
    for op in (QK, AV):
        batch = subvector_attention(op, p, sub_len, pes, lanes, over, 2)
        for i in range(len(p)):
            one = subvector_attention(op, p[i], sub_len[i], pes[i], lanes[i], over[i], 2)
            for f in FIELDS:
                got = np.broadcast_to(getattr(batch, f), p.shape)[i]
                assert got == pytest.approx(float(getattr(one, f)), rel=1e-12, abs=1e-12), f


# --- properties ----------------------------------------------------------------------------------------------

_attn = st.builds(
    lambda kind, b, m, keys, dh: (
        Op("qk", "attn_score", "b", 1, batch=b, m=m, k=dh, n=keys, b_is_weight=False)
        if kind
        else Op("av", "attn_context", "b", 1, batch=b, m=m, k=keys, n=dh, b_is_weight=False)
    ),
    st.booleans(),
    st.integers(1, 48),
    st.integers(1, 4096),
    st.integers(1, 4096),
    st.sampled_from([32, 64, 128]),
)


@settings(max_examples=80, deadline=None)
@given(_attn, st.floats(0, 0.99), st.integers(1, 256), st.integers(1, 4096), st.sampled_from([1, 4, 16]))
def test_units_between_ideal_and_dense(op, p, sub_len, pes, lanes):
    """Imbalance ≥ 1 keeps units ≥ q·dense; its 1/q cap keeps them ≤ dense (no mask-prediction overhead)."""
    w = _sv(op, p=p, sub_len=sub_len, pes=pes, lanes=lanes)
    dh = op.k if op.kind == "attn_score" else op.n
    keys = op.n if op.kind == "attn_score" else op.k
    dense = op.batch * np.ceil(op.m / sub_len) * keys * dh * np.ceil(sub_len / lanes)
    assert (1 - p) * dense * (1 - 1e-12) <= w.units <= dense * (1 + 1e-12)
    assert w.units * lanes >= w.macs * (1 - 1e-12)  # a unit does at most V MACs


@settings(max_examples=80, deadline=None)
@given(_attn, st.floats(0, 0.99), st.floats(0, 0.99), st.integers(1, 256))
def test_more_pruning_fewer_macs_and_more_saved(op, p1, p2, sub_len):
    lo, hi = sorted((p1, p2))
    a, b = _sv(op, p=lo, sub_len=sub_len), _sv(op, p=hi, sub_len=sub_len)
    assert b.macs <= a.macs and b.units <= a.units * (1 + 1e-12)
    assert b.score_bytes_saved >= a.score_bytes_saved

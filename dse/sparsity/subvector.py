"""Sub-vector attention sparsity (RTSA [src:rtsa-tc2025]).

Each column of the attention matrix (one key j, all queries) is cut into sub-vectors of ``L``
consecutive queries; a fraction ``p`` of the sub-vectors is pruned. QKᵀ computes only the kept
sub-vectors (SDDMM): for each of the dₕ feature positions d, the vector Q[block, d] (length L) times
the scalar K[j, d]. A·V consumes only them (SpMM): the vector A[block, j] times the scalar V[j, d].
Both are vector-scalar products of length L, so with vector width V a kept sub-vector costs
dₕ·⌈L/V⌉ units in either op.

Costs accounted: kept work; 1 bit of mask per candidate sub-vector (read by QKᵀ and A·V); load
imbalance across PEs (:mod:`dse.sparsity.imbalance`, a function of L, p and the PE count: longer
sub-vectors mean fewer, larger units and more imbalance); a mask-prediction overhead expressed as a
fraction of the dense QKᵀ work (a knob: RTSA does not publish its predictor's cost); softmax on kept
scores only; the score matrix moves to/from DRAM only for its kept entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dse.sparsity.imbalance import imbalance_factor
from dse.workloads import Op


@dataclass
class SubvectorWork:
    keep: np.ndarray
    macs: np.ndarray
    units: np.ndarray  # after imbalance and mask-prediction overhead
    mask_bytes: np.ndarray
    score_bytes_saved: np.ndarray  # DRAM bytes of pruned scores not moved


def subvector_attention(op: Op, sparsity, sub_len, pes, lanes, mask_overhead, elem_bytes) -> SubvectorWork:
    """For an ``attn_score`` (Q·Kᵀ: M queries × N keys) or ``attn_context`` (A·V: M queries × K keys) op."""
    p = np.asarray(sparsity, dtype=np.float64)
    keep = 1.0 - p
    L = np.asarray(sub_len, dtype=np.float64)
    queries = op.m.astype(np.float64)
    score = op.kind_is("attn_score")  # QKᵀ: N keys, K = dₕ; A·V: K keys, N = dₕ
    keys = np.where(score, op.n, op.k).astype(np.float64)
    dh = np.where(score, op.k, op.n).astype(np.float64)
    candidates = op.batch * np.ceil(queries / L) * keys
    imb = imbalance_factor(candidates, keep, pes)
    units_dense = candidates * dh * np.ceil(L / lanes)
    units = units_dense * np.minimum(keep * imb, 1.0)  # ≤ dense exactly (imb ≤ 1/q; no rounding above it)
    units = units + np.where(score, mask_overhead, 0.0) * units_dense  # the mask predictor runs before QKᵀ
    scores = op.batch * queries * keys
    return SubvectorWork(
        keep=keep,
        macs=op.macs * keep,
        units=units,
        mask_bytes=np.where(p > 0, candidates / 8.0, 0.0),
        score_bytes_saved=p * scores * elem_bytes,
    )

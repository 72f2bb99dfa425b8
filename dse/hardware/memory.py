"""Buffer-aware DRAM traffic of a GEMM: a small vectorized mapper over candidate tilings.

The global buffer is double-buffered, so one tile set may use half of it. Four candidate tilings are
evaluated in closed form for every design point and the one with least DRAM traffic is kept:

1. **A panel resident**: ``tm`` full-K rows of A stay on chip, B streamed → B read ⌈M/tm⌉ times.
2. **B panel resident**: ``tn`` full-K columns of B stay on chip, A streamed → A read ⌈N/tn⌉ times.
3. **Output tile resident**: a ``t × t`` accumulator tile stays on chip while K streams in chunks of
   ``K_CHUNK``; A read ⌈N/t⌉ times and B read ⌈M/t⌉ times.
4. (1 and 2 with the whole operand resident are the "everything fits" case: each tensor moves once.)

Outputs are written once (partial sums never leave the chip in these tilings). Batched GEMMs
(attention heads) tile each batch element independently; a weight matrix (``b_is_weight``) is shared.
"""

from __future__ import annotations

import numpy as np

#: Mapper choice, not a hardware constant: the non-resident operand streams through the buffer in slices
#: of 16 elements (one edge of the default 16-wide array); it only sizes the candidate tiles.
K_CHUNK = 16.0
STREAM = 16.0


def gemm_dram_bytes(batch, m, k, n, elem_bytes, acc_bytes, glb_bytes, b_is_weight: bool = True):
    """Minimum DRAM bytes over the candidate tilings (arrays in, array out)."""
    m, k, n = (np.asarray(x, dtype=np.float64) for x in (m, k, n))
    b = np.asarray(batch, dtype=np.float64)
    e = np.asarray(elem_bytes, dtype=np.float64)
    cap = np.asarray(glb_bytes, dtype=np.float64) / 2.0  # double-buffered
    a, w, o = m * k * e, k * n * e, m * n * e
    # 1. A row panel resident: tm·K·e + K·STREAM·e + tm·STREAM·acc ≤ cap
    tm = np.floor((cap - k * STREAM * e) / (k * e + STREAM * acc_bytes))
    t1 = np.where(tm >= 1, a + w * np.ceil(m / np.maximum(tm, 1)) + o, np.inf)
    # 2. B column panel resident
    tn = np.floor((cap - k * STREAM * e) / (k * e + STREAM * acc_bytes))
    t2 = np.where(tn >= 1, a * np.ceil(n / np.maximum(tn, 1)) + w + o, np.inf)
    # 3. output tile resident: t²·acc + 2·t·K_CHUNK·e ≤ cap  →  t = (−2Ke + √(4K²e² + 4·acc·cap)) / (2·acc)
    kc = np.minimum(k, K_CHUNK)
    t = np.floor((-kc * e + np.sqrt((kc * e) ** 2 + acc_bytes * cap)) / acc_bytes)
    t = np.maximum(t, 1.0)
    t3 = a * np.ceil(n / np.minimum(t, n)) + w * np.ceil(m / np.minimum(t, m)) + o
    per_elem = np.minimum(np.minimum(t1, t2), t3)
    if b_is_weight:
        # weights shared across the batch: count them once, the activations per batch element
        return b * (per_elem - w) + w
    return b * per_elem


def tensor_bytes(elems, elem_bytes):
    return np.asarray(elems, dtype=np.float64) * elem_bytes

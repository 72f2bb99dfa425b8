"""Buffer-aware DRAM traffic of a GEMM: a small vectorized mapper over candidate tilings.

The global buffer is double-buffered, so that DRAM transfers overlap compute: a tile set that is replaced
while the GEMM runs may use half of it. Four candidate tilings are evaluated in closed form for every design
point and the one with least DRAM traffic is kept:

1. **A panel resident**: ``tm`` full-K rows of A stay on chip, B streamed → B read ⌈M/tm⌉ times.
2. **B panel resident**: ``tn`` full-K columns of B stay on chip, A streamed → A read ⌈N/tn⌉ times.
3. **Output tile resident**: a ``t × t`` accumulator tile stays on chip while K streams in chunks of
   ``K_CHUNK``; A read ⌈N/t⌉ times and B read ⌈M/t⌉ times.
4. **A whole operand resident**: all of A (or B) is loaded once and never replaced, so it needs no second
   buffer; only the other operand's streamed slices and the output tile are double-buffered. Each tensor
   moves once. (Checked against ZigZag's mapping search [src:zigzag], tests/hardware/test_zigzag.py: without this case
   the mapper paid a second pass over the streamed operand whenever the resident one fitted the buffer but
   not half of it.)

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
    # the streamed operand moves in slices of STREAM × kc elements (kc = K_CHUNK, or K if smaller); the
    # resident panel's outputs accumulate over the K chunks
    kc = np.minimum(k, K_CHUNK)
    # 1. A row panel resident: tm·K·e + kc·STREAM·e + tm·STREAM·acc ≤ cap
    tm = np.floor((cap - kc * STREAM * e) / (k * e + STREAM * acc_bytes))
    t1 = np.where(tm >= 1, a + w * np.ceil(m / np.maximum(tm, 1)) + o, np.inf)
    # 2. B column panel resident (the same size by symmetry)
    t2 = np.where(tm >= 1, a * np.ceil(n / np.maximum(tm, 1)) + w + o, np.inf)
    # 3. output tile resident: t²·acc + 2·t·kc·e ≤ cap  →  t = (−2·kc·e + √(4·kc²·e² + 4·acc·cap)) / (2·acc)
    t = np.floor((-kc * e + np.sqrt((kc * e) ** 2 + acc_bytes * cap)) / acc_bytes)
    t = np.maximum(t, 1.0)
    t3 = a * np.ceil(n / np.minimum(t, n)) + w * np.ceil(m / np.minimum(t, m)) + o
    # 4. a whole operand resident, loaded once: it needs no second buffer (nothing replaces it), only the
    #    streamed slices of the other operand and the output tile are double-buffered
    fits = (m * k * e <= 2.0 * cap - 2.0 * (kc * STREAM * e + m * STREAM * acc_bytes)) | (
        k * n * e <= 2.0 * cap - 2.0 * (kc * STREAM * e + n * STREAM * acc_bytes)
    )
    t4 = np.where(fits, a + w + o, np.inf)
    per_elem = np.minimum(np.minimum(np.minimum(t1, t2), t3), t4)
    if b_is_weight:
        # weights shared across the batch: count them once, the activations per batch element
        return b * (per_elem - w) + w
    return b * per_elem


def tensor_bytes(elems, elem_bytes):
    return np.asarray(elems, dtype=np.float64) * elem_bytes

"""Windowed attention (the poster [src:windowed-poster]): each patch query sees a k×k window of patch keys on the
grid (clipped at the borders) plus the CLS key; the CLS query sees every key.

The kept fraction of the N×N attention map is computed exactly from the grid: 5.14% (94.86% pruned)
for DeiT-Tiny at 224² (14×14 grid + CLS) with a 3×3 window.
"""

from __future__ import annotations

import numpy as np


def _clipped_sum(g, r):
    """Σ over i in [0, g) of min(i, r): the keys a window reaches on one side of its query, clipped at the edge."""
    return np.where(g - 1 <= r, (g - 1) * g / 2, r * (r + 1) / 2 + r * (g - 1 - r))


def _row_sum(g, k):
    """Σ over positions i in [0, g) of the window size along one axis: Σ (min(i,a) + min(g−1−i,b) + 1), with
    a = ⌊(k−1)/2⌋ keys before the query and b = ⌊k/2⌋ after it (a centred window for odd k; an even window
    reaches one key further after the query than before it)."""
    g = np.asarray(g, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return g + _clipped_sum(g, (k - 1) // 2) + _clipped_sum(g, k // 2)


def windowed_pairs(grid_h, grid_w, k, cls: bool = True):
    """Number of kept (query, key) pairs of one head's attention map."""
    pairs = _row_sum(grid_h, k) * _row_sum(grid_w, k)
    if cls:
        n = np.asarray(grid_h, dtype=np.float64) * grid_w + 1
        pairs = pairs + (n - 1) + n  # every patch query keeps the CLS key; the CLS query keeps all keys
    return pairs


def window_kept_fraction(grid_h, grid_w, k, cls: bool = True):
    n = np.asarray(grid_h, dtype=np.float64) * grid_w + (1 if cls else 0)
    return windowed_pairs(grid_h, grid_w, k, cls) / (n * n)

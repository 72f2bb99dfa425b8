"""Windowed attention (the poster [src:windowed-poster]): each patch query sees a k×k window of patch keys on the
grid (clipped at the borders) plus the CLS key; the CLS query sees every key.

The kept fraction of the N×N attention map is computed exactly from the grid: 5.14% (94.86% pruned)
for DeiT-Tiny at 224² (14×14 grid + CLS) with a 3×3 window.
"""

from __future__ import annotations

import numpy as np


def _row_sum(g, k):
    """Σ over positions i in [0, g) of the window size along one axis: Σ (min(i,r) + min(g−1−i,r) + 1)."""
    g = np.asarray(g, dtype=np.float64)
    r = (np.asarray(k, dtype=np.float64) - 1) // 2
    tri = np.where(g - 1 <= r, (g - 1) * g / 2, r * (r + 1) / 2 + r * (g - 1 - r))
    return g + 2 * tri


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

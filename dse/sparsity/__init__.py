"""Sparsity transforms: dense operations → effective work, data movement and metadata (vectorized)."""

from dse.sparsity.delta import DeltaWork, delta_linear
from dse.sparsity.imbalance import imbalance_factor
from dse.sparsity.subvector import SubvectorWork, subvector_attention
from dse.sparsity.window import window_kept_fraction, windowed_pairs

__all__ = [
    "DeltaWork", "delta_linear", "imbalance_factor", "SubvectorWork", "subvector_attention",
    "window_kept_fraction", "windowed_pairs",
]  # fmt: skip

"""Inter-frame delta sparsity for linear projections (RTSA [src:rtsa-tc2025]).

Frame slice t computes ``W·Δₜ`` with ``Δₜ = xₜ − xₜ₋₁`` pruned below a threshold, then adds the previous
slice's output: ``yₜ = yₜ₋₁ + W·Δₜ``. Work scales with the non-zero deltas. Every ``key_interval``-th
temporal slice (and the first) is a dense key slice. As vector-scalar products each non-zero Δ element
(a scalar) multiplies one row of W (a vector of length N): units = nnz · ⌈N/V⌉.

Costs accounted:
* work: dense for key slices, (1 − s) of it for the others (s = ``delta_sparsity``);
* load imbalance of the non-zeros over the PEs (:mod:`dse.sparsity.imbalance`);
* the previous slice's input xₜ₋₁ and output yₜ₋₁ *of the same token position*: the array takes a GEMM's
  rows position-major (the T temporal slices of one token position one after another; the row order leaves
  the mapper's tiles and DRAM traffic unchanged, and outputs are written back to their natural token order
  by address, so the attention's sub-vectors of consecutive queries are unchanged), so it keeps one input
  row (K elements) and one output row (N elements) per position in flight. They stay on chip when one
  token's input and output row fit in a quarter of the global buffer, otherwise both are re-read from DRAM
  for every non-key slice. The rows held are not taken from the buffer the DRAM mapper tiles with (an
  approximation: (K + N)·e bytes, a few KiB, which can move the mapper's ⌈M/tm⌉ passes by one where a panel
  just fits). [assumption] RTSA's loop order is not published [NF] [src:rtsa-tc2025]; a slice-major order
  would instead hold a whole slice (every token of xₜ₋₁ and yₜ₋₁) and spill on nearly every edge design;
* metadata: an index of ⌈log₂ K⌉ bits per non-zero, written and read in the buffer;
* the subtract/compare of every Δ element and the accumulate of every output: element-wise SFU work.
Images (one temporal slice) are all key slices: no saving, as RTSA's mechanism is temporal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dse.sparsity.imbalance import imbalance_factor
from dse.sparsity.vecscalar import dense_units
from dse.workloads import Op


@dataclass
class DeltaWork:
    density: np.ndarray  # performed / dense MACs
    macs: np.ndarray
    units: np.ndarray  # vector-scalar units after imbalance
    extra_dram_bytes: np.ndarray
    meta_bytes: np.ndarray
    elementwise: np.ndarray  # Δ computations + output accumulations


def key_slices(t_slices, key_interval):
    """Number of dense key slices among ``t_slices`` (slice 0, K, 2K, ...)."""
    return np.ceil(np.asarray(t_slices, dtype=np.float64) / np.maximum(key_interval, 1))


def delta_linear(op: Op, sparsity, key_interval, pes, lanes, elem_bytes, glb_bytes) -> DeltaWork:
    t = op.t_slices.astype(np.float64)
    nonkey = (t - np.minimum(key_slices(t, key_interval), t)) / t  # share of non-key slices
    s = np.asarray(sparsity, dtype=np.float64)
    density = 1.0 - nonkey * s
    units_dense = dense_units(op.batch, op.m, op.k, op.n, lanes)
    rows_k = op.batch * op.m * op.k.astype(np.float64)  # Δ elements (candidates)
    imb = imbalance_factor(rows_k * nonkey, 1.0 - s, pes)
    # ≤ dense exactly (imb ≤ 1/q): clipped so that floating-point rounding never adds a cycle over dense
    units = units_dense * np.minimum((1.0 - nonkey) + nonkey * np.minimum((1.0 - s) * imb, 1.0), 1.0)
    a_bytes = op.in_elems * elem_bytes
    o_bytes = op.out_elems * elem_bytes
    row_bytes = (a_bytes + o_bytes) / (op.batch * op.m)  # one token position's input row and output row
    spill = row_bytes > glb_bytes / 4.0
    extra = np.where(spill & (s > 0), nonkey * (a_bytes + o_bytes), 0.0)
    nnz = rows_k * nonkey * (1.0 - s)
    meta = np.where(s > 0, 2.0 * nnz * np.ceil(np.log2(np.maximum(op.k, 2))) / 8.0, 0.0)
    elementwise = np.where(s > 0, nonkey * (rows_k + op.out_elems), 0.0)
    return DeltaWork(density, op.macs * density, units, extra, meta, elementwise)

"""The vector-scalar array (RTSA's augmented PEs): R×C PEs, each multiplies a length-V vector by a scalar
and accumulates (V MACs per cycle).

A GEMM A(M×K)·B(K×N) is a sum of vector-scalar products: for each scalar A[m, k], the row B[k, :] is
consumed in ⌈N/V⌉ chunks of V — one *unit* each. The array is an outer-product arrangement: each cycle
PE (i, j) takes scalar i (broadcast along its row) and vector chunk j (broadcast down its column), so
a cycle reads R scalars and C vectors from the buffer for R·C units. Units are spread over the R·C PEs;
the slowest PE (load imbalance) sets the time; the array fills and drains once per op (R + C − 2).
"""

from __future__ import annotations

import numpy as np


def cycles(units, pes, rows, cols, imbalance=1.0):
    return np.ceil(np.asarray(units, dtype=np.float64) * imbalance / pes) + rows + cols - 2


def sram_bytes(units, rows, cols, lanes, elem_bytes, out_elems, acc_bytes):
    """Buffer reads (scalars and vector chunks, with row/column broadcast) + one output write."""
    return units * elem_bytes * (1.0 / cols + lanes / rows) + out_elems * acc_bytes


def dense_units(batch, m, k, n, lanes):
    return np.asarray(batch, dtype=np.float64) * m * k * np.ceil(np.asarray(n, dtype=np.float64) / lanes)

"""Compute cycles of a GEMM on a rows × cols PE array, counted the way SCALE-Sim v3 counts them.

SCALE-Sim maps two GEMM dimensions spatially onto the array and streams the third [src:scalesim3]:

==========  ================  ================  ========
dataflow    spatial on rows   spatial on cols   streamed
==========  ================  ================  ========
``os``      M                 N                 K
``ws``      K                 N                 M
``is``      K                 M                 N
==========  ================  ================  ========

Each fold (one tile of the two spatial dimensions) costs ``T + rows + cols − 2`` cycles for OS (stream
K, skewed in from both edges) and ``T + 2·rows + cols − 2`` for WS/IS (the extra ``rows`` cycles
load the stationary operand). Total = folds × per-fold cycles. With ``lanes`` > 1 each PE is a
``lanes``-wide dot-product unit over K (the reduction dimension), which shortens K by that factor.
SCALE-Sim 3.0.0 reports one cycle less per layer (its last cycle index): ``total = folds × per-fold − 1``,
which this model reproduces exactly (tests/test_scalesim.py, 123 reference runs, relative error 0).
"""

from __future__ import annotations

import numpy as np

DATAFLOWS = ("os", "ws", "is")


def cdiv(a, b):
    return -(-a // b)


def gemm_cycles(batch, m, k, n, rows, cols, dataflow, lanes=1):
    """Cycles of ``batch`` independent (M×K)·(K×N) GEMMs; all arguments broadcast as arrays.

    Returns float cycles. ``dataflow`` holds strings ``os``/``ws``/``is`` (array or scalar).
    """
    m, k, n = (np.asarray(x, dtype=np.float64) for x in (m, k, n))
    rows, cols = np.asarray(rows, dtype=np.float64), np.asarray(cols, dtype=np.float64)
    ke = np.ceil(k / np.asarray(lanes, dtype=np.float64))  # reduction steps per PE
    df = np.asarray(dataflow)
    if df.ndim == 0:  # fast path: one dataflow for all points
        out = _fold_cycles(df.item(), m, ke, n, rows, cols)
    else:
        out = np.zeros(np.broadcast(m, ke, n, rows, cols, df).shape)
        for name in DATAFLOWS:
            sel = df == name
            if np.any(sel):
                out = np.where(sel, _fold_cycles(name, m, ke, n, rows, cols), out)
    # SCALE-Sim's "−1" would put a 1 × 1 output-stationary array one cycle under its peak rate: never below
    # the MACs (per lane) / PEs
    return np.asarray(batch) * np.maximum(out - 1.0, m * ke * n / (rows * cols))


def _fold_cycles(dataflow: str, m, k, n, rows, cols):
    if dataflow == "os":
        return np.ceil(m / rows) * np.ceil(n / cols) * (k + rows + cols - 2)
    if dataflow == "ws":
        return np.ceil(k / rows) * np.ceil(n / cols) * (m + 2 * rows + cols - 2)
    if dataflow == "is":
        return np.ceil(k / rows) * np.ceil(m / cols) * (n + 2 * rows + cols - 2)
    raise ValueError(dataflow)


def sram_traffic_elems(batch, m, k, n, rows, cols, dataflow, lanes=1):
    """On-chip buffer (SRAM) element accesses of a GEMM: (A reads, B reads, output writes+reads).

    As in SCALE-Sim's SRAM traces: the stationary operand is read once; the streamed operands are
    re-read once per fold of the other spatial dimension; partial sums of a folded reduction
    dimension are written and read back once per extra fold.
    """
    m, k, n = (np.asarray(x, dtype=np.float64) for x in (m, k, n))
    rows, cols = np.asarray(rows, dtype=np.float64), np.asarray(cols, dtype=np.float64)
    kr = np.ceil(k / np.asarray(lanes, dtype=np.float64))
    b = np.asarray(batch, dtype=np.float64)
    a_e, b_e, o_e = b * m * k, b * k * n, b * m * n
    df = np.asarray(dataflow)

    def one(name):
        if name == "os":
            return a_e * np.ceil(n / cols), b_e * np.ceil(m / rows), o_e
        if name == "ws":
            return a_e * np.ceil(n / cols), b_e, o_e * (2 * np.ceil(kr / rows) - 1)
        return a_e, b_e * np.ceil(m / cols), o_e * (2 * np.ceil(kr / rows) - 1)

    if df.ndim == 0:
        return one(df.item())
    res = [np.zeros(np.broadcast(a_e, rows, cols, df).shape) for _ in range(3)]
    for name in DATAFLOWS:
        sel = df == name
        if np.any(sel):
            res = [np.where(sel, v, r) for v, r in zip(one(name), res, strict=False)]
    return tuple(res)

"""RTSA's central argument, made as the paper makes it: one array running both stages in turn against a
split design whose linear and attention arrays are sized once, when the resolution moves the bottleneck.

Per resolution, with the same PEs, buffer, bandwidth and clock for all three:

* **RTSA** (``rtsa``): one array; latency = period = the two stages in turn.
* **oracle split** (``rtsa-split`` with its PE split re-tuned at every resolution): the best any split
  design could do at that resolution — nobody can build it, as the split is fixed in silicon.
* **static split** (``rtsa-split`` with one split for every resolution: the given one, or the best static
  split for the resolution set — tuned once, buildable), with its stall share: the share of its PE-cycles
  idle because the other array is the bottleneck.

Both period (steady-state time per input, what a pipelined split is built for) and latency (one input end
to end) are compared like with like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dse import accelerators
from dse.workloads import build


def _splits(rows: int) -> np.ndarray:
    return np.arange(1, rows) / rows


def unified_vs_split(
    model: str,
    resolutions: Sequence[int],
    values: Mapping[str, Any] | None = None,
    frames: int | None = None,
    static_split: float | None = None,
    **options: Any,
) -> tuple[pd.DataFrame, float]:
    """One row per resolution (see the module docstring) and the static split used.

    ``values``: the shared design (rows, cols, lanes, buffer, bandwidth, clock, sparsity knobs); a ``split``
    in it is taken as the static split. ``static_split`` None and no ``split`` given: the split with the
    lowest mean period over ``resolutions`` (tuned once for the set). ``options``: workload build options
    (architecture overrides, a sparsity table: :func:`dse.workloads.build`).
    """
    values = dict(values or {})
    given = values.pop("split", static_split)
    split_acc = accelerators.get("rtsa-split")
    rtsa = accelerators.get("rtsa")
    shared = {k: v for k, v in values.items() if k in {p.name for p in rtsa.params}}
    rows = int(np.asarray(split_acc.resolve(values)["rows"]))
    res = np.asarray(resolutions)
    wl = build(model, res.reshape(1, -1), frames, **options)
    splits = _splits(rows).reshape(-1, 1)
    grid = split_acc.evaluate(wl, {**values, "split": splits})  # (splits, resolutions)
    period = np.asarray(grid["period_s"])
    oracle = np.argmin(period, axis=0)
    static = float(splits[int(np.argmin(period.mean(axis=1))), 0]) if given is None else float(given)
    st = split_acc.evaluate(wl, {**values, "split": static})
    uni = rtsa.evaluate(build(model, res, frames, **options), shared)
    cols = np.arange(res.size)
    df = pd.DataFrame(
        {
            "resolution": res,
            "rtsa_latency_ms": np.asarray(uni["latency_s"]) * 1e3,
            "rtsa_period_ms": np.asarray(uni["period_s"]) * 1e3,
            "rtsa_bound": np.asarray(uni.bound),
            "oracle_split": splits[oracle, 0],
            "oracle_period_ms": period[oracle, cols] * 1e3,
            "oracle_latency_ms": np.asarray(grid["latency_s"])[oracle, cols] * 1e3,
            "static_split": np.broadcast_to(np.asarray(st["split_effective"]).reshape(-1), res.shape),
            "static_period_ms": np.asarray(st["period_s"]).reshape(-1) * 1e3,
            "static_latency_ms": np.asarray(st["latency_s"]).reshape(-1) * 1e3,
            "static_stall_share": np.asarray(st["stall_share"]).reshape(-1),
        }
    )
    df["rtsa_vs_static_period"] = df["static_period_ms"] / df["rtsa_period_ms"]
    df["rtsa_vs_oracle_period"] = df["oracle_period_ms"] / df["rtsa_period_ms"]
    df["rtsa_vs_static_latency"] = df["static_latency_ms"] / df["rtsa_latency_ms"]
    return df, static

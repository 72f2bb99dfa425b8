"""``rtsa-dse breakdown``: stage latencies per resolution — which stage bounds, and the split design's stall."""

from __future__ import annotations

import click
import numpy as np
import pandas as pd

from dse import accelerators
from dse.commands.evaluate import parse_sets
from dse.commands.output import echo_frame, echo_json, format_option
from dse.errors import InputError
from dse.workloads import build


def parse_int_list(field: str, text: str) -> np.ndarray:
    try:
        vals = np.array([int(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise InputError(field, f"expected comma-separated positive integers, got {text!r}") from None
    if vals.size == 0 or np.any(vals <= 0):
        raise InputError(field, f"expected comma-separated positive integers, got {text!r}")
    return vals


def breakdown_frame(acc_name: str, model: str, resolutions: np.ndarray, frames, values: dict) -> pd.DataFrame:
    """One vectorized evaluation over all resolutions → one row per resolution."""
    acc = accelerators.get(acc_name)
    wl = build(model, resolutions, frames)
    ev = acc.evaluate(wl, values)
    st = ev.stages
    df = pd.DataFrame(
        {
            "resolution": resolutions,
            "tokens": np.broadcast_to(wl.tokens, resolutions.shape),
            "linear_ms": st["linear"]["latency_s"] * 1e3,
            "attention_ms": st["attention"]["latency_s"] * 1e3,
            "other_ms": st["other"]["latency_s"] * 1e3,
            "latency_ms": ev["latency_s"] * 1e3,
            "attention_share": st["attention"]["cycles"] / (st["linear"]["cycles"] + st["attention"]["cycles"]),
            "bound": ev.bound,
            "dense_bound": np.where(wl.attention_macs > wl.linear_macs, "attention", "linear"),
        }
    )
    if acc_name == "rtsa-split" or np.any(ev["stall_cycles"] > 0):
        df["stall_ms"] = ev["stall_cycles"] / (
            np.asarray(values.get("clock_mhz", acc.param("clock_mhz").default)) * 1e3
        )
        df["stall_share"] = ev["stall_share"]
    return df


@click.command("breakdown")
@click.option("--accelerator", "-a", default="rtsa", show_default=True)
@click.option("--workload", "-w", required=True)
@click.option("--resolutions", default="112,160,224,320,448", show_default=True, help="Comma-separated resolutions.")
@click.option("--frames", "-f", type=int)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE")
@format_option
def command(accelerator, workload, resolutions, frames, sets, fmt) -> None:
    """Per resolution: latency of the linear and attention stages, which one bounds, and any stall.

    ``dense_bound`` is the stage with more MACs before sparsity: where the workload's bottleneck lies.
    """
    res = parse_int_list("resolutions", resolutions)
    acc = accelerators.get(accelerator)
    values = acc.resolve(parse_sets(sets))
    df = breakdown_frame(accelerator, workload, res, frames, values)
    if fmt == "json":
        echo_json({"accelerator": accelerator, "workload": workload, "rows": df.to_dict(orient="records")})
        return
    echo_frame(df, fmt, title=f"{accelerator} on {workload}: stage latency by resolution")

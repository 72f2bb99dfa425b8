"""``rtsa-dse workloads``: list the model zoo and show one model's operations."""

from __future__ import annotations

import click
import numpy as np
import pandas as pd

from dse.commands.output import echo_frame, echo_json, format_option
from dse.commands.workload_options import note_free_size
from dse.workloads import SPECS, Workload, build
from dse.workloads.zoo import ATTENTION_TYPES


def parse_resolution(value: str | None) -> int | tuple[int, int] | None:
    """``224`` or ``224x320`` (H×W)."""
    if value is None:
        return None
    parts = value.lower().replace("×", "x").split("x")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise click.BadParameter(
            f"expected R or HxW with positive integers, got {value!r}", param_hint="resolution"
        ) from None
    if len(nums) == 1:
        return nums[0]
    if len(nums) == 2:
        return nums[0], nums[1]
    raise click.BadParameter(f"expected R or HxW, got {value!r}", param_hint="resolution")


def ops_frame(wl: Workload) -> pd.DataFrame:
    """One row per unique op (scalar workload), with totals over repeats."""
    rows = []
    for op in wl.ops:
        rows.append(
            {
                "block": op.block, "op": op.name, "kind": op.kind, "stage": op.stage, "role": op.role,
                "repeat": op.repeat,
                "batch": int(op.batch), "M": int(op.m), "K": int(op.k), "N": int(op.n),
                "macs": int(op.macs) * op.repeat, "in_elems": int(op.in_elems), "weight_elems": int(op.weight_elems),
                "out_elems": int(op.out_elems),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def published_for(spec) -> dict | None:
    """The input a model's published MAC count is for (its default resolution and frames), if it has one."""
    if spec.published_gmacs is None:
        return None
    return {"resolution": [int(spec.resolution), int(spec.resolution)], "frames": int(spec.frames)}


def published_macs(wl: Workload) -> float | None:
    """The published MAC count of ``wl``'s model when ``wl`` is that input on that architecture, else None
    (another resolution, frame count or architecture override has no published figure)."""
    spec = wl.spec
    if spec.published_gmacs is None or np.ndim(wl.height) or np.ndim(wl.width) or np.ndim(wl.frames):
        return None
    zoo = SPECS.get(spec.name)
    if zoo is not None and zoo != spec:  # an architecture override (--depth 6, --dim, ...)
        return None
    if (int(wl.height), int(wl.width), int(wl.frames)) != (spec.resolution, spec.resolution, spec.frames):
        return None
    return spec.published_gmacs * 1e9


def summary(wl: Workload) -> dict:
    return {
        "model": wl.model,
        "resolution": [int(wl.height), int(wl.width)],
        "frames": int(wl.frames),
        "tokens": int(wl.tokens),
        "macs": int(wl.macs),
        "linear_macs": int(wl.linear_macs),
        "attention_macs": int(wl.attention_macs),
        "other_macs": int(wl.total("macs", "other")),
        "attention_share": float(wl.attention_macs / wl.macs),
        # the published count applies only to the input and architecture it was published for
        "published_macs": published_macs(wl),
        "published_for": published_for(wl.spec),
        "source": wl.spec.source,
    }


@click.group("workloads", invoke_without_command=True)
@click.pass_context
def command(ctx: click.Context) -> None:
    """List the model zoo (default) or show one model's operations."""
    if ctx.invoked_subcommand is None:
        rows = [
            {"model": s.name, "family": s.family, "resolution": s.resolution, "frames": s.frames,
             "published_gmacs": s.published_gmacs, "dim": s.dim,
             "depth": s.depth if s.family != "swin" else sum(s.depths), "heads": s.heads, "patch": s.patch,
             "tubelet": s.tubelet, "description": s.description}
            for s in SPECS.values()
        ]  # fmt: skip
        echo_frame(pd.DataFrame(rows), "table")


@command.command("show")
@click.argument("model")
@click.option("--resolution", "-r", help="Input resolution: R (square) or HxW.")
@click.option("--frames", "-f", type=int, help="Number of input frames.")
@click.option("--depth", type=int, help="Override: number of blocks.")
@click.option("--dim", type=int, help="Override: embedding dimension.")
@click.option("--heads", type=int, help="Override: attention heads.")
@click.option("--mlp-ratio", type=float, help="Override: MLP hidden / dim.")
@click.option("--patch", type=int, help="Override: patch size (pixels).")
@click.option("--tubelet", type=int, help="Override: tubelet depth (frames).")
@click.option("--window", type=int, help="Override (Video Swin): spatial window side.")
@click.option("--attention", type=click.Choice(tuple(ATTENTION_TYPES)), help="Override (video models): attention type.")
@format_option
def show(model, resolution, frames, fmt, **overrides) -> None:
    """Per-operation shapes and MACs of MODEL (a zoo name, a model .toml or an ONNX graph), with totals."""
    wl = build(model, parse_resolution(resolution), frames, **overrides)
    note_free_size(model, resolution, frames)
    df = ops_frame(wl)
    if fmt == "json":
        echo_json({**summary(wl), "ops": df.to_dict(orient="records")})
        return
    if fmt == "csv":
        echo_frame(df, "csv")
        return
    s = summary(wl)
    click.echo(f"{s['model']} {s['resolution'][0]}x{s['resolution'][1]} frames={s['frames']} tokens={s['tokens']}")
    echo_frame(df, "table")
    click.echo(
        f"total {s['macs'] / 1e9:.2f} GMACs  linear {s['linear_macs'] / 1e9:.2f}  attention "
        f"{s['attention_macs'] / 1e9:.2f} ({100 * s['attention_share']:.1f}%)  other {s['other_macs'] / 1e9:.2f}"
    )

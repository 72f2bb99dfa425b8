"""Per-layer sparsity tables: measured delta sparsity and attention keep shares, attached to a workload's ops.

A table is a CSV with one row per (layer, resolution, frames[, sub-vector length]) — what
``rtsa-dse profile-model`` writes for a user's model, or written by hand. Columns (:data:`COLUMNS`):

* ``layer`` (required): which ops the row is for — ``block.3.qkv`` (one layer instance: block name,
  index in the repeated block, op name), ``block.qkv`` (every instance of the block), ``qkv`` (every op of
  that name or role: ``qkv``, ``proj``, ``fc1``, ``fc2``, ``patch_embed``, ``temporal_fc``, …). Attention
  rows name an attention group: ``block.3.attn`` (``t_attn``/``s_attn`` in blocks with two), ``block.attn``,
  ``attn`` or ``attention`` (every group). The most specific row that covers an instance wins.
* ``resolution`` (required): input size R (or ``HxW``, taken as √(H·W)); ``frames`` (optional: rows apply
  to the nearest frame count; blank = any).
* a delta row: ``delta_sparsity`` — the share of the linear layer's input delta elements below the
  threshold (RTSA's sparse linear projection) — and optionally ``delta_p10``/``delta_p90`` (spread over
  the profiled clips) and ``threshold`` (the threshold used; one per table);
* an attention row: ``sub_len`` (sub-vector length L), ``keep`` — the share of length-L sub-vectors of the
  attention matrix kept — optionally ``keep_p10``/``keep_p90``, ``mass_lost`` (share of attention mass in the
  pruned sub-vectors) and ``attention_threshold`` (one per table);
* ``role``, ``samples``: informational.

How values reach the model: :func:`apply_sparsity` sets each covered op's ``sparsity`` to an
:class:`OpSparsity` holding its values over the workload's design points, and the accelerator model uses
them instead of its model-wide knobs (``sparsity_linear``, ``sparsity_attention``), which stay the value
for ops the table does not cover and override the table when set explicitly (:class:`SparsityRef`).

Interpolation [assumption]: linear in the resolution between tabulated sizes, flat beyond the smallest and
largest; keep shares linear in log₂ L between tabulated lengths, flat beyond. An op standing for R
identical layers (a repeated block) takes the mean of its layers' values: the work of delta and
sub-vector sparsity is linear in the sparsity, so the MACs are exact; load imbalance is evaluated at the
mean. Malformed rows and layers that match no op raise :class:`~dse.errors.InputError` in one line.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dse.errors import InputError

COLUMNS = (
    "layer", "role", "resolution", "frames", "threshold", "delta_sparsity", "delta_p10", "delta_p90",
    "attention_threshold", "sub_len", "keep", "keep_p10", "keep_p90", "mass_lost", "samples",
)  # fmt: skip
DELTA_KINDS = ("linear", "patch_embed")
ATTENTION_KINDS = ("attn_score", "softmax", "attn_context")
ATTENTION_WORDS = ("attention", "attn")


@dataclass(frozen=True)
class Row:
    """One validated row (``line``: its line in the file, header = 1)."""

    line: int
    layer: str
    resolution: float
    frames: int | None
    kind: str  # delta | attention
    value: float  # delta sparsity or keep share
    p10: float = math.nan
    p90: float = math.nan
    sub_len: int | None = None
    mass_lost: float = math.nan


@dataclass(frozen=True)
class SparsityTable:
    """A validated table: its rows and the thresholds it was measured at (NaN when not given)."""

    path: str
    rows: tuple[Row, ...]
    threshold: float = math.nan
    attention_threshold: float = math.nan

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


@dataclass(frozen=True)
class SparsityRef:
    """A table to attach, and which of its quantities to use (an explicitly set scalar knob overrides the
    table model-wide: ``delta=False`` when ``sparsity_linear`` is set, ``attention=False`` for
    ``sparsity_attention``)."""

    path: str
    delta: bool = True
    attention: bool = True


@dataclass(frozen=True, eq=False)
class OpSparsity:
    """Measured sparsity of one op over the design points (arrays broadcastable to the workload's shape).

    ``delta``: delta sparsity of a linear layer's input (share of Δ elements skipped); ``sub_lens`` and
    ``keep`` (shape ``(len(sub_lens), *points)``): kept share of attention sub-vectors per length L;
    ``mass_lost`` (same shape): attention mass in the pruned sub-vectors; ``*_p10``/``*_p90``: spread.
    """

    delta: np.ndarray | None = None
    delta_p10: np.ndarray | None = None
    delta_p90: np.ndarray | None = None
    sub_lens: tuple[int, ...] = ()
    keep: np.ndarray | None = None
    mass_lost: np.ndarray | None = None
    source: str = field(default="", compare=False)

    def delta_sparsity(self, default):
        """The op's delta sparsity, else ``default`` (the accelerator's model-wide knob)."""
        return default if self.delta is None else self.delta

    def attention_sparsity(self, default, sub_len):
        """Pruned share of attention sub-vectors at sub-vector length ``sub_len`` (arrays), else ``default``."""
        return default if self.keep is None else 1.0 - self.keep_at(sub_len)

    def keep_at(self, sub_len) -> np.ndarray:
        """Keep share at ``sub_len`` (array over design points): linear in log₂ L, flat outside the table."""
        return _interp_len(self.sub_lens, self.keep, sub_len)

    def mass_lost_at(self, sub_len) -> np.ndarray | None:
        return None if self.mass_lost is None else _interp_len(self.sub_lens, self.mass_lost, sub_len)


def _interp_len(lens: tuple[int, ...], values: np.ndarray, sub_len) -> np.ndarray:
    x = np.log2(np.maximum(np.asarray(sub_len, dtype=np.float64), 1.0))
    xp = np.log2(np.asarray(lens, dtype=np.float64))
    if len(xp) == 1:
        return np.broadcast_to(values[0], np.broadcast_shapes(values[0].shape, x.shape)).astype(np.float64)
    values = np.asarray(values, dtype=np.float64)
    xc = np.clip(x, xp[0], xp[-1])
    hi = np.clip(np.searchsorted(xp, xc, side="right"), 1, len(xp) - 1)
    lo = hi - 1
    frac = (xc - xp[lo]) / (xp[hi] - xp[lo])
    shape = np.broadcast_shapes(values.shape[1:], x.shape)
    lead = (1,) * (len(shape) - (values.ndim - 1))  # align the per-point axes of values with the points
    v = np.broadcast_to(values.reshape(values.shape[0], *lead, *values.shape[1:]), (len(xp), *shape))
    lo_b, hi_b, frac_b = (np.broadcast_to(a, shape) for a in (lo, hi, frac))
    v_lo = np.take_along_axis(v, lo_b[None], axis=0)[0]
    v_hi = np.take_along_axis(v, hi_b[None], axis=0)[0]
    return v_lo + (v_hi - v_lo) * frac_b


# ---------------------------------------------------------------------------------------------------
# reading


def _short(text: object, n: int = 24) -> str:
    """A cell of a foreign file, quoted and cut: an error names it without echoing the file."""
    t = str(text)
    return repr(t if len(t) <= n else t[:n] + "…")


def _bad(name: str, line: int | None, msg: str) -> InputError:
    where = f"{name} row {line}" if line is not None else name
    return InputError("sparsity", f"{where}: {msg}")


def _num(raw, name: str, line: int, col: str, lo: float = 0.0, hi: float = 1.0) -> float:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise _bad(name, line, f"{col} = {raw!r} is not a number") from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise _bad(name, line, f"{col} = {raw!r} must be in [{lo:g}, {hi:g}]")
    return v


def _pos_int(raw, name: str, line: int, col: str) -> int:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise _bad(name, line, f"{col} = {raw!r} is not a positive integer") from None
    if not (math.isfinite(v) and v > 0 and v == int(v)):
        raise _bad(name, line, f"{col} = {raw!r} is not a positive integer")
    return int(v)


def _resolution(raw, name: str, line: int) -> float:
    text = str(raw).strip().lower().replace("×", "x")
    parts = text.split("x")
    if len(parts) == 2:
        h, w = (_pos_int(p, name, line, "resolution") for p in parts)
        return math.sqrt(h * w)
    return float(_pos_int(text, name, line, "resolution"))


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def read_table(path: str | os.PathLike) -> SparsityTable:
    """Read and validate a sparsity table (cached per file version); InputError (field ``sparsity``)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise InputError("sparsity", f"file not found: {p}") from None
    if not p.is_file():
        raise InputError("sparsity", f"not a file: {p}")
    return _read(str(p.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int, size: int) -> SparsityTable:
    name = os.path.basename(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        msg = " ".join(str(err).split()) or type(err).__name__
        raise _bad(name, None, f"not a readable CSV table: {msg}") from None
    df.columns = [str(c).strip() for c in df.columns]
    unknown = [c for c in df.columns if c not in COLUMNS]
    if unknown:
        raise _bad(name, None, f"unknown column {_short(unknown[0])}; allowed: {', '.join(COLUMNS)}")
    for col in ("layer", "resolution"):
        if col not in df.columns:
            raise _bad(name, None, f"missing column {col!r} (required: layer, resolution)")
    if not len(df):
        raise _bad(name, None, "no rows")
    rows: list[Row] = []
    thresholds: dict[str, set[float]] = {"threshold": set(), "attention_threshold": set()}
    seen: dict[tuple, int] = {}
    for i, rec in enumerate(df.to_dict(orient="records")):
        line = i + 2
        get = {k: (None if _blank(v) else v) for k, v in rec.items()}
        layer = (get.get("layer") or "").strip()
        if not layer:
            raise _bad(name, line, "empty layer")
        if get.get("resolution") is None:
            raise _bad(name, line, "empty resolution")
        res = _resolution(get["resolution"], name, line)
        frames = None if get.get("frames") is None else _pos_int(get["frames"], name, line, "frames")
        has_delta = get.get("delta_sparsity") is not None
        has_attn = get.get("keep") is not None or get.get("sub_len") is not None
        if has_delta == has_attn:
            raise _bad(name, line, "give delta_sparsity (a linear layer) or sub_len and keep (an attention layer)")
        for key in thresholds:
            if get.get(key) is not None:
                thresholds[key].add(_num(get[key], name, line, key, 0.0, math.inf))
        if has_delta:
            v = _num(get["delta_sparsity"], name, line, "delta_sparsity")
            p10 = _num(get["delta_p10"], name, line, "delta_p10") if get.get("delta_p10") is not None else math.nan
            p90 = _num(get["delta_p90"], name, line, "delta_p90") if get.get("delta_p90") is not None else math.nan
            row = Row(line, layer, res, frames, "delta", v, p10, p90)
        else:
            if get.get("sub_len") is None or get.get("keep") is None:
                raise _bad(name, line, "an attention row needs both sub_len and keep")
            L = _pos_int(get["sub_len"], name, line, "sub_len")
            v = _num(get["keep"], name, line, "keep")
            p10 = _num(get["keep_p10"], name, line, "keep_p10") if get.get("keep_p10") is not None else math.nan
            p90 = _num(get["keep_p90"], name, line, "keep_p90") if get.get("keep_p90") is not None else math.nan
            lost = _num(get["mass_lost"], name, line, "mass_lost") if get.get("mass_lost") is not None else math.nan
            row = Row(line, layer, res, frames, "attention", v, p10, p90, L, lost)
        if not (math.isnan(row.p10) or math.isnan(row.p90)) and row.p10 > row.p90:
            raise _bad(name, line, f"p10 = {row.p10:g} > p90 = {row.p90:g}")
        key = (row.layer, row.resolution, row.frames, row.sub_len)
        if key in seen:
            raise _bad(name, line, f"duplicate of row {seen[key]} (same layer, resolution, frames, sub_len)")
        seen[key] = line
        rows.append(row)
    for key, vals in thresholds.items():
        if len(vals) > 1:
            raise _bad(name, None, f"{key} takes {len(vals)} values ({', '.join(f'{v:g}' for v in sorted(vals))}); "
                       "one table is one operating point: write one threshold per file")  # fmt: skip
    th = {k: (next(iter(v)) if v else math.nan) for k, v in thresholds.items()}
    return SparsityTable(path, tuple(rows), th["threshold"], th["attention_threshold"])


# ---------------------------------------------------------------------------------------------------
# attaching to a workload


@dataclass(frozen=True)
class _Target:
    """One op of the workload that a table may cover, with the names rows can use for it."""

    index: int  # position in workload.ops
    kind: str  # delta | attention
    block: str
    name: str  # op name, or attention group name (attn, t_attn, ...)
    role: str
    repeat: int


def _targets(workload) -> list[_Target]:
    out = []
    for i, op in enumerate(workload.ops):
        if op.kind in DELTA_KINDS:
            out.append(_Target(i, "delta", op.block, op.name, op.role, op.repeat))
        elif op.kind in ATTENTION_KINDS and op.group:
            out.append(_Target(i, "attention", op.block, op.group.split("/", 1)[-1], "attention", op.repeat))
    return out


def _specificity(t: _Target, layer: str, index: int) -> int:
    """3: ``block.index.name``; 2: ``block.name``; 1: name or role; 0: no match."""
    if layer == f"{t.block}.{index}.{t.name}":
        return 3
    if layer == f"{t.block}.{t.name}":
        return 2
    if layer == t.name or (t.role and layer == t.role) or (t.kind == "attention" and layer in ATTENTION_WORDS):
        return 1
    return 0


def _interp_rows(rows: Sequence[Row], r: np.ndarray, f: np.ndarray, attr: str = "value") -> np.ndarray:
    """Rows of one selector → values at resolutions ``r`` and frames ``f`` (see the module docstring)."""
    groups: dict[int | None, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.frames, []).append(row)
    keys = list(groups)
    vals = []
    for k in keys:
        g = sorted(groups[k], key=lambda x: x.resolution)
        vals.append(np.interp(r, [x.resolution for x in g], [getattr(x, attr) for x in g]))
    if len(keys) == 1:
        return vals[0]
    dist = np.stack([np.zeros_like(f, dtype=np.float64) if k is None else np.abs(f - k).astype(np.float64)
                     for k in keys])  # fmt: skip
    choice = np.argmin(dist, axis=0)
    return np.take_along_axis(np.stack(vals), choice[None], axis=0)[0]


def _resolve(ref) -> tuple[SparsityTable, bool, bool]:
    if isinstance(ref, SparsityTable):
        return ref, True, True
    if isinstance(ref, SparsityRef):
        return read_table(ref.path), ref.delta, ref.attention
    return read_table(ref), True, True


def apply_sparsity(workload, ref):
    """``workload`` with each op the table covers carrying its :class:`OpSparsity` (see the module docstring).

    ``ref``: a CSV path, :class:`SparsityRef` or :class:`SparsityTable`.
    """
    table, use_delta, use_attention = _resolve(ref)
    targets = _targets(workload)
    name = table.name
    # every row must match some op of its kind
    for row in table.rows:
        hits = [
            t for t in targets if t.kind == row.kind and any(_specificity(t, row.layer, i) for i in range(t.repeat))
        ]
        if not hits:
            others = [t for t in targets if t.kind != row.kind and
                      any(_specificity(t, row.layer, i) for i in range(t.repeat))]  # fmt: skip
            if others:
                what = "delta_sparsity" if row.kind == "delta" else "sub_len/keep"
                raise _bad(name, row.line, f"layer {row.layer!r} is {'an attention' if row.kind == 'delta' else 'a linear'}"
                           f" layer of {workload.model}: {what} does not apply")  # fmt: skip
            examples = _examples(targets, row.kind)
            raise _bad(name, row.line, f"layer {row.layer!r} matches no {row.kind} layer of {workload.model}; "
                       f"e.g. {examples}")  # fmt: skip
    shape = np.broadcast_shapes(np.shape(workload.height), np.shape(workload.width), np.shape(workload.frames))
    r = np.broadcast_to(np.sqrt(np.asarray(workload.height, dtype=np.float64) * workload.width), shape)
    f = np.broadcast_to(np.asarray(workload.frames, dtype=np.float64), shape)
    ops = list(workload.ops)
    per_op: dict[int, dict] = {}
    for t in targets:
        if (t.kind == "delta" and not use_delta) or (t.kind == "attention" and not use_attention):
            continue
        rows = [row for row in table.rows if row.kind == t.kind]
        instances = []
        for i in range(t.repeat):
            best = 0
            chosen: list[Row] = []
            for row in rows:
                sp = _specificity(t, row.layer, i)
                if sp > best:
                    best, chosen = sp, [row]
                elif sp == best and sp > 0:
                    chosen.append(row)
            instances.append(chosen)
        covered = [bool(c) for c in instances]
        if not any(covered):
            continue
        if not all(covered):
            missing = covered.index(False)
            raise _bad(name, None, f"rows cover {sum(covered)} of the {t.repeat} layers of {t.block}.{t.name} "
                       f"(not {t.block}.{missing}.{t.name}); give every layer or one row for the block")  # fmt: skip
        per_op[t.index] = {"target": t, "instances": instances}
    for idx, item in per_op.items():
        t, instances = item["target"], item["instances"]
        if t.kind == "delta":
            vals = np.mean([_interp_rows(c, r, f) for c in instances], axis=0)
            p10 = _spread(instances, r, f, "p10")
            p90 = _spread(instances, r, f, "p90")
            sp = OpSparsity(delta=vals, delta_p10=p10, delta_p90=p90, source=name)
        else:
            lens = sorted({row.sub_len for c in instances for row in c})
            for c in instances:
                have = {row.sub_len for row in c}
                if have != set(lens):
                    lack = sorted(set(lens) - have)[0]
                    raise _bad(name, c[0].line, f"layer {c[0].layer!r} has no rows at sub_len {lack}, which other "
                               f"layers of {t.block}.{t.name} have")  # fmt: skip
            keep = np.stack([np.mean([_interp_rows([x for x in c if x.sub_len == L], r, f) for c in instances], axis=0)
                             for L in lens])  # fmt: skip
            lost = None
            if all(not math.isnan(x.mass_lost) for c in instances for x in c):
                lost = np.stack([np.mean([_interp_rows([x for x in c if x.sub_len == L], r, f, "mass_lost")
                                          for c in instances], axis=0) for L in lens])  # fmt: skip
            sp = OpSparsity(sub_lens=tuple(int(L) for L in lens), keep=keep, mass_lost=lost, source=name)
        ops[idx] = ops[idx].with_(sparsity=sp)
    from dataclasses import replace

    return replace(workload, ops=tuple(ops))


def _spread(instances: list[list[Row]], r, f, attr: str) -> np.ndarray | None:
    if any(math.isnan(getattr(x, attr)) for c in instances for x in c):
        return None
    return np.mean([_interp_rows(c, r, f, attr) for c in instances], axis=0)


def _examples(targets: list[_Target], kind: str) -> str:
    seen: list[str] = []
    for t in targets:
        if t.kind != kind:
            continue
        for s in (f"{t.block}.0.{t.name}", f"{t.block}.{t.name}", t.role if kind == "delta" else "attention"):
            if s and s not in seen:
                seen.append(s)
    return ", ".join(seen[:6]) or "none"

"""The Pareto figure: trials, the study's front as a step line, and the baselines on the same scenario.

One panel for a pair of metrics; for three or more objectives a lower-triangular matrix of panels, one
per objective pair. Feasible trials are light dots, infeasible ones hollow grey circles; the front
(``pareto.csv``) is drawn as markers joined by a step line through the points non-dominated in that
panel's two metrics; each baseline is a labelled marker.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from dse.errors import InputError
from dse.plots import style
from dse.plots.results import Results
from dse.search.pareto import nondominated
from dse.search.results_schema import COLUMNS

MAX_CLOUD = 20_000  # trials drawn per cloud (feasible / infeasible); a fixed-seed sample beyond
FULL_FRONT_COLOR = "#e6550d"  # designs of the full (3+-objective) front, apart from each panel's 2-D front
BASELINE_COLORS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#2ca02c", "#17becf", "#7f7f7f")


@dataclass
class ParetoPlot:
    """A drawn Pareto figure and the data in it (raw metric units), for checks and reports."""

    figure: Figure
    pairs: list[tuple[str, str]]
    front: pd.DataFrame  # the front rows drawn (pareto.csv)
    steps: dict[tuple[str, str], np.ndarray]  # per pair: (k, 2) step-line points in drawing order
    baselines: pd.DataFrame
    legend: list[str] = field(default_factory=list)
    log_axes: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ranges: dict[str, AxisRange | None] = field(default_factory=dict)  # axis limits, display units


def _direction(results: Results, metric: str) -> str:
    if metric in results.objectives:
        return results.direction(metric)
    from dse.metrics import is_declared
    from dse.metrics import metric as declared

    return declared(metric).direction if is_declared(metric) else "minimize"


def pairs_for(results: Results, x: str | None, y: str | None) -> list[tuple[str, str]]:
    """The panels to draw: the given pair, else every objective pair (one pair with two objectives)."""
    if x is not None or y is not None:
        x = results.metric(x, "--x") if x is not None else None
        y = results.metric(y, "--y") if y is not None else None
        others = [
            m for m in [*results.objectives, results.size_metric, "energy_j", "latency_s"] if m in results.metrics
        ]
        x = x or next(m for m in others if m != y)
        y = y or next(m for m in others if m != x)
        if x == y:
            raise InputError("--y", f"same metric as --x ({x}); pick two different metrics")
        return [(x, y)]
    objs = results.objectives
    if len(objs) >= 2:
        return list(combinations(objs, 2))
    other = next(
        m
        for m in (results.size_metric, "energy_j", "latency_s", *results.metrics)
        if m in results.metrics and m != objs[0]
    )
    return [(objs[0], other)]


def _sample(df: pd.DataFrame) -> pd.DataFrame:
    return df.sample(MAX_CLOUD, random_state=0).sort_index() if len(df) > MAX_CLOUD else df


def _count(n: int) -> str:
    """A cloud's size for the legend, saying so when only a sample of it is drawn (:func:`_sample`)."""
    return f"{n}, {MAX_CLOUD:,} of them drawn at random" if n > MAX_CLOUD else str(n)


def step_front(front: pd.DataFrame, x: str, y: str, dirs: tuple[str, str]) -> np.ndarray:
    """Points of ``front`` non-dominated in (x, y), best-x first: the step line's vertices."""
    pts = front[[x, y]].to_numpy(dtype=float)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        return pts.reshape(0, 2)
    pts = np.unique(pts[nondominated(pts, dirs)], axis=0)
    order = np.lexsort(
        (pts[:, 1] * (-1 if dirs[1] == "maximize" else 1), pts[:, 0] * (-1 if dirs[0] == "maximize" else 1))
    )
    return pts[order]


def _axis_values(results: Results, metric: str) -> np.ndarray:
    """The drawn trials' values of ``metric`` (raw units): what sets an axis (baselines never do)."""
    return results.complete[metric].to_numpy(dtype=float)


@dataclass(frozen=True)
class AxisRange:
    """An axis in display units: its limits and whether it is logarithmic."""

    lo: float
    hi: float
    log: bool

    def contains(self, v: float) -> bool:
        return bool(np.isfinite(v)) and self.lo <= v <= self.hi and (v > 0 or not self.log)


def axis_range(values: np.ndarray, log: bool | None = None) -> AxisRange | None:
    """Limits of an axis showing ``values`` (display units): their range padded by 5 % (of the decades on a
    log axis); log when they are positive and span more than a decade. None without a finite value."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if log is None:
        log = style.spans_decades(v)
    if log:
        v = v[v > 0]
    if not v.size:
        return None
    t = np.log10(v) if log else v
    lo, hi = float(t.min()), float(t.max())
    pad = 0.05 * (hi - lo) if hi > lo else (0.1 if log else max(abs(lo) * 0.05, 1e-12))
    lo, hi = lo - pad, hi + pad
    return AxisRange(10**lo, 10**hi, True) if log else AxisRange(lo, hi, False)


def _fmt_value(metric: str, raw: float, inputs: str) -> str:
    label = style.metric_label(metric, inputs=inputs)
    v = raw * label.scale
    text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return f"{text}{' ' + label.unit if label.unit else ''}"


def _baseline_point(ax: Axes, i: int, b: pd.Series, x: str, y: str, ranges: dict[str, AxisRange | None],
                    inputs: str, texts: list, off_scale: list) -> bool:  # fmt: skip
    """One baseline: a labelled marker inside the axes; off scale, a marker at the edge pointing outward and an
    entry with its values in the panel's "off scale" key (``off_scale``). Returns whether it was drawn (a
    baseline without both values is not, and sets no axis)."""
    lx, ly = style.metric_label(x), style.metric_label(y)
    bx, by = float(b.get(x, np.nan)), float(b.get(y, np.nan))
    if not (np.isfinite(bx) and np.isfinite(by)):
        return False
    px, py = bx * lx.scale, by * ly.scale
    rx, ry = ranges[x], ranges[y]
    marker = style.BASELINE_MARKERS[i % len(style.BASELINE_MARKERS)]
    color = BASELINE_COLORS[i % len(BASELINE_COLORS)]
    values = []
    for axis, v, r, metric in (("x", px, rx, x), ("y", py, ry, y)):
        if r is None or r.contains(v):
            continue
        beyond_hi = v > r.hi
        if axis == "x":
            px = r.hi if beyond_hi else r.lo
            marker, arrow = (">", "→") if beyond_hi else ("<", "←")
        else:
            py = r.hi if beyond_hi else r.lo
            marker, arrow = ("^", "↑") if beyond_hi else ("v", "↓")
        values.append(f"{_fmt_value(metric, bx if axis == 'x' else by, inputs)} {arrow}")
    ax.scatter([px], [py], marker=marker, s=42 if not values else 30, color=color, edgecolors="black",
               linewidths=0.5, zorder=5, clip_on=False)  # fmt: skip
    if values:
        handle = Line2D([], [], ls="", marker=marker, ms=4.5, color=color, mec="black", mew=0.5)
        off_scale.append((handle, f"{b['baseline']}: {', '.join(values)}", str(b["baseline"])))
    else:
        texts.append(ax.text(px, py, str(b["baseline"]), fontsize="x-small", zorder=6))
    return True


def _panel(ax: Axes, results: Results, x: str, y: str, color: str | None, baselines: pd.DataFrame,
           norm, ranges: dict[str, AxisRange | None], many: bool, inputs: str,
           off_scale: list | None = None) -> np.ndarray:  # fmt: skip
    """Draw one pair; returns the step-line points (raw units, drawing order): the 2-D front of this pair over
    the feasible trials. With ``many`` (3+ objectives) the designs of the full front are marked apart. Baselines
    off scale go into ``off_scale`` when given (the caller's legend lists them), else into a key of the panel."""
    lx, ly = style.metric_label(x), style.metric_label(y)
    done = results.complete
    feas, infeas = _sample(done[done[COLUMNS.feasible]]), _sample(done[~done[COLUMNS.feasible]])
    ax.scatter(infeas[x] * lx.scale, infeas[y] * ly.scale, s=6, facecolors="none", edgecolors="#9a9a9a",
               linewidths=0.4, alpha=0.6, zorder=1)  # fmt: skip
    kw = {"c": feas[color], "cmap": "viridis", "norm": norm} if color else {"color": style.CLOUD_COLOR}
    ax.scatter(feas[x] * lx.scale, feas[y] * ly.scale, s=5, alpha=0.45, linewidths=0, zorder=2, **kw)
    front = results.pareto
    steps = step_front(results.feasible, x, y, (_direction(results, x), _direction(results, y)))
    ax.plot(steps[:, 0] * lx.scale, steps[:, 1] * ly.scale, drawstyle="steps-post", color=style.FRONT_COLOR,
            linewidth=0.9, zorder=3, marker="o" if many else None, ms=2.2)  # fmt: skip
    _intervals(ax, front, x, y, lx.scale, ly.scale)
    if many:  # the full front's designs, which need not be on this pair's 2-D front
        ax.scatter(front[x] * lx.scale, front[y] * ly.scale, s=14, facecolors="none", edgecolors=FULL_FRONT_COLOR,
                   linewidths=0.6, marker="D", zorder=4)  # fmt: skip
    else:
        fkw = {"c": front[color], "cmap": "viridis", "norm": norm} if color else {"color": style.FRONT_COLOR}
        ax.scatter(front[x] * lx.scale, front[y] * ly.scale, s=9, edgecolors=style.FRONT_COLOR, linewidths=0.6,
                   zorder=4, **fkw)  # fmt: skip
    for axis, metric in (("x", x), ("y", y)):
        r = ranges[metric]
        if r is None:
            continue
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log" if r.log else "linear")
        (ax.set_xlim if axis == "x" else ax.set_ylim)(r.lo, r.hi)
        if r.log:
            style.log_ticks(ax.xaxis if axis == "x" else ax.yaxis, [r.lo, r.hi])
    texts: list = []
    own_key = off_scale is None
    off_scale = [] if off_scale is None else off_scale
    for i, (_, b) in enumerate(baselines.iterrows()):
        _baseline_point(ax, i, b, x, y, ranges, inputs, texts, off_scale)
    if off_scale and own_key:  # a key of its own, placed where it hides the fewest points
        from matplotlib.legend import Legend

        key = Legend(ax, [e[0] for e in off_scale], [e[1] for e in off_scale], loc="best", title="off scale",
                     fontsize="xx-small", title_fontsize="xx-small", framealpha=0.85, handletextpad=0.3,
                     borderpad=0.3, labelspacing=0.25)  # fmt: skip
        key.set_zorder(8)
        ax.add_artist(key)
    if not len(feas):
        ax.text(0.5, 0.5, "no feasible design", transform=ax.transAxes, ha="center", va="center", color="#b00000",
                fontsize="small", zorder=7, bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})  # fmt: skip
    _place_labels(ax, texts)
    return steps


def _place_labels(ax: Axes, texts: list) -> None:
    """Move the baseline labels so that they neither overlap each other nor leave the axes (adjustText)."""
    if not texts:
        return
    import logging

    from adjustText import adjust_text

    logging.getLogger("adjustText").setLevel(logging.ERROR)  # a label wider than a small panel stays whole
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # adjustText's own use of Logger.warn
        adjust_text(texts, ax=ax, ensure_inside_axes=True, expand=(1.1, 1.3), avoid_self=True)


def interval_columns(front: pd.DataFrame, metric: str) -> tuple[str, str] | None:
    """The 5% and 95% columns of ``metric`` (or of the metric of a quantile column ``metric@qNN``) that the
    robust front (:mod:`dse.search.robust`) wrote into pareto.csv, if there."""
    base = metric.split("@q")[0]
    lo, hi = f"{base}_p5", f"{base}_p95"
    return (lo, hi) if lo in front.columns and hi in front.columns else None


def _intervals(ax: Axes, front: pd.DataFrame, x: str, y: str, sx: float, sy: float) -> None:
    """Each front design's 5–95% interval over the declared uncertainty, as a horizontal (x) and a vertical
    (y) bar through its nominal point. The bars of one axis are one line broken by NaN (one path): drawn
    and hit-tested (legend placement, label placement) at once, where a collection of thousands of segments
    costs seconds on a log axis."""
    cx, cy = interval_columns(front, x), interval_columns(front, y)
    kw = {"color": style.FRONT_COLOR, "alpha": 0.35, "linewidth": 0.5, "zorder": 3.5, "solid_capstyle": "butt"}
    if cx is not None:
        ax.plot(*_bars(front[cx[0]] * sx, front[cx[1]] * sx, front[y] * sy, front[y] * sy), **kw)
    if cy is not None:
        ax.plot(*_bars(front[x] * sx, front[x] * sx, front[cy[0]] * sy, front[cy[1]] * sy), **kw)


def _bars(x0, x1, y0, y1) -> tuple[np.ndarray, np.ndarray]:
    """Segments (x0, y0)–(x1, y1) as the vertices of one polyline, each segment followed by a NaN break."""
    gap = np.full(len(x0), np.nan)
    xs = np.column_stack([np.asarray(x0, dtype=float), np.asarray(x1, dtype=float), gap]).ravel()
    ys = np.column_stack([np.asarray(y0, dtype=float), np.asarray(y1, dtype=float), gap]).ravel()
    return xs, ys


def _legend_handles(results: Results, baselines: pd.DataFrame, color: str | None, many: bool,
                    single: bool = False, off_scale: list | None = None) -> list[Line2D]:  # fmt: skip
    """The legend: trials, front(s), intervals, baselines (with their values when ``off_scale`` lists them)."""
    off = {e[2]: e[1].split(": ", 1)[1] for e in off_scale or []}
    done = results.complete
    nf, ni = int(done[COLUMNS.feasible].sum()), int((~done[COLUMNS.feasible]).sum())
    handles = [
        Line2D([], [], ls="", marker="o", ms=3, color=style.CLOUD_COLOR if not color else "#5e9c76", alpha=0.7,
               label=f"feasible trials ({_count(nf)})"),
        Line2D([], [], ls="", marker="o", ms=3, mfc="none", mec="#9a9a9a", label=f"infeasible trials ({_count(ni)})"),
    ]  # fmt: skip
    if many:
        handles += [
            Line2D([], [], color=style.FRONT_COLOR, marker="o", ms=2.2, lw=0.9, drawstyle="steps-post",
                   label="front of these two metrics (2-D)" if single else "front of each panel's pair (2-D)"),
            Line2D([], [], ls="", marker="D", ms=3.5, mfc="none", mec=FULL_FRONT_COLOR,
                   label=f"Pareto-optimal in all {len(results.objectives)} objectives ({len(results.pareto)})"),
        ]  # fmt: skip
    else:
        handles.append(Line2D([], [], color=style.FRONT_COLOR, marker="o", ms=3, lw=0.9, drawstyle="steps-post",
                              label=f"Pareto front ({len(results.pareto)})"))  # fmt: skip
    if any(interval_columns(results.pareto, m) for m in results.objectives):
        handles.append(Line2D([], [], color=style.FRONT_COLOR, alpha=0.35, lw=0.8,
                              label="front: 5–95% under the declared uncertainty"))  # fmt: skip
    for i, (_, b) in enumerate(baselines.iterrows()):
        flag = "" if bool(b.get("feasible", True)) else " (violates constraints)"
        if str(b["baseline"]) in off:
            flag += f"; off scale: {off[str(b['baseline'])]}"
        handles.append(Line2D([], [], ls="", marker=style.BASELINE_MARKERS[i % len(style.BASELINE_MARKERS)], ms=6,
                              color=BASELINE_COLORS[i % len(BASELINE_COLORS)], mec="black", mew=0.5,
                              label=f"{b['baseline']}{flag}"))  # fmt: skip
    return handles


def degenerate_notes(results: Results) -> list[str]:
    """What makes a study's figure say less than usual: no feasible design, one design, one objective."""
    notes = []
    if not len(results.feasible):
        notes.append(f"no feasible design among {len(results.complete)} completed trials: no front is drawn")
    elif len(results.pareto) == 1 or _distinct(results.feasible, results.searched) == 1:
        notes.append("a single distinct design on the front: nothing to trade off")
    if len(results.objectives) == 1:
        notes.append(f"a single objective ({results.objectives[0]}): its front is the best design; the second axis "
                     "is another metric for context")  # fmt: skip
    return notes


def _distinct(df: pd.DataFrame, params: Sequence[str]) -> int:
    cols = [p for p in params if p in df.columns]
    return len(df.drop_duplicates(subset=cols)) if cols else len(df)


def pareto_figure(
    results: Results,
    x: str | None = None,
    y: str | None = None,
    color: str | None = None,
    baselines: Sequence[str] | None = None,
    baseline_table: pd.DataFrame | None = None,
    options: style.FigureOptions | None = None,
) -> ParetoPlot:
    """Draw the Pareto figure of ``results`` (single panel, or a matrix for 3+ objectives).

    ``baselines``: accelerator names or spec baseline labels (default: the spec's, else ViTCoD, HeatViT,
    CPU, GPU; unregistered ones are skipped with a note); ``baseline_table`` reuses evaluated rows.
    Axes are set by the trials; a baseline beyond them is drawn at the edge with its value. ``options``:
    title, size, font size and legend placement for a paper (:class:`~dse.plots.style.FigureOptions`).
    A degenerate study (no feasible design, one design, one objective) gets a visible note.
    """
    options = options or style.FigureOptions()
    pairs = pairs_for(results, x, y)
    color = results.metric(color, "--color") if color else None
    notes: list[str] = []
    if baseline_table is None:
        chosen, notes = results.baselines(baselines)
        baseline_table = results.evaluate_baselines(chosen)
    if not len(results.complete):
        raise InputError("RESULTS_DIR", f"{results.path} has no completed trial to plot")
    inputs = results.input_word
    metrics = sorted({m for p in pairs for m in p})
    ranges = {m: axis_range(_axis_values(results, m) * style.metric_label(m).scale) for m in metrics}
    log = {m: bool(r is not None and r.log) for m, r in ranges.items()}
    many = len(pairs) > 1 or len(results.objectives) > 2
    degenerate = degenerate_notes(results)
    steps: dict[tuple[str, str], np.ndarray] = {}
    with style.styled(options):
        norm = None
        if color:
            from matplotlib.colors import LogNorm, Normalize

            cv = results.complete[color].to_numpy(dtype=float)
            cv = cv[np.isfinite(cv)]
            if cv.size:
                norm = (LogNorm if style.spans_decades(cv) else Normalize)(vmin=cv.min(), vmax=cv.max())
            else:
                color = None
        handles = _legend_handles(results, baseline_table, color, many)
        if len(pairs) == 1:
            w, h = options.size or (style.COLUMN_W, 2.9)
            fig = style.figure(w, h)
            ax = fig.add_subplot()
            off_scale: list = []
            steps[pairs[0]] = _panel(ax, results, *pairs[0], color, baseline_table, norm, ranges, many, inputs,
                                     off_scale)  # fmt: skip
            handles = _legend_handles(results, baseline_table, color, many, True, off_scale)
            ax.set_xlabel(style.metric_label(pairs[0][0], inputs=inputs).axis())
            ax.set_ylabel(style.metric_label(pairs[0][1], inputs=inputs).axis())
            if options.title:
                ax.set_title(textwrap.fill(results.title(), 60))
            where = options.legend
            if where == "auto":
                where = "best" if len(handles) <= style.SHORT_LEGEND else "outside"
            if where == "best":
                ax.legend(handles=handles, loc="best", fontsize="x-small", frameon=True, framealpha=0.85,
                          edgecolor="none")  # fmt: skip
            elif where == "outside":  # below the axes, the figure grown to hold it
                ncol = 1 if max(len(h.get_label()) for h in handles) > 40 else 2
                if options.size is None:
                    fig.set_figheight(h + 0.13 * -(-len(handles) // ncol))
                fig.legend(handles=handles, loc="outside lower center", ncol=ncol, fontsize="x-small")
            axes = [ax]
        else:
            objs = results.objectives
            m = len(objs)
            side = min(style.WIDE_W, 2.2 * (m - 1) + 0.8)
            w, h = options.size or (side, side * 0.9)
            fig = style.figure(w, h)
            grid = fig.add_gridspec(m - 1, m - 1)
            axes = []
            cells: dict[tuple[int, int], Axes] = {}
            for i in range(m - 1):
                for j in range(i + 1):
                    # one x axis per column (first drawn on the diagonal), one y axis per row
                    ax = fig.add_subplot(grid[i, j], sharex=cells.get((j, j)), sharey=cells.get((i, 0)))
                    cells[(i, j)] = ax
                    pair = (objs[j], objs[i + 1])
                    steps[pair] = _panel(ax, results, *pair, color, baseline_table, norm, ranges, many, inputs)
                    if i == m - 2:
                        ax.set_xlabel(style.metric_label(pair[0], inputs=inputs).axis())
                    else:
                        ax.tick_params(labelbottom=False)
                    if j == 0:
                        ax.set_ylabel(style.metric_label(pair[1], inputs=inputs).axis())
                    else:
                        ax.tick_params(labelleft=False)
                    axes.append(ax)
            if options.title:
                fig.suptitle(textwrap.fill(results.title(), 90), fontsize="medium")
            if options.legend != "none":  # the empty upper-right triangle holds it
                fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.99, 0.93), fontsize="x-small")
            pairs = list(steps)
        if degenerate:
            fig.text(0.5, 0.005, textwrap.fill("note: " + "; ".join(degenerate), 110), ha="center", va="bottom",
                     fontsize="x-small", color="#b00000")  # fmt: skip
        if color and norm is not None:
            from matplotlib.cm import ScalarMappable
            from matplotlib.colors import LogNorm

            cb = fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=axes, shrink=0.8 if len(axes) > 1 else 1.0,
                              pad=0.02)  # fmt: skip
            lc = style.metric_label(color, inputs=inputs)
            cb.set_label(lc.axis())
            if isinstance(norm, LogNorm):
                style.log_ticks(cb.ax.yaxis, [norm.vmin, norm.vmax])
            cb.ax.yaxis.set_major_formatter(_scaled_formatter(lc.scale))
    return ParetoPlot(fig, pairs, results.pareto, steps, baseline_table, [h.get_label() for h in handles], log,
                      notes + degenerate, ranges)  # fmt: skip


def _scaled_formatter(scale: float):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v * scale:.3g}")


def plot_pareto(results: Results, out: str | Path, **kwargs) -> ParetoPlot:
    """Draw (see :func:`pareto_figure`) and save to ``out`` (.png, .svg or .pdf)."""
    style.output_format(Path(out))
    plot = pareto_figure(results, **kwargs)
    style.save(plot.figure, out, kwargs.get("options"))
    return plot

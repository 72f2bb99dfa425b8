"""The Pareto figure: trials, the study's front as a step line, and the baselines on the same scenario.

One panel for a pair of metrics; for three or more objectives a lower-triangular matrix of panels, one
per objective pair. Feasible trials are light dots, infeasible ones hollow grey circles; the front
(``pareto.csv``) is drawn as markers joined by a step line through the points non-dominated in that
panel's two metrics; each baseline is a labelled marker.
"""

from __future__ import annotations

import textwrap
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

MAX_CLOUD = 20_000  # trials drawn per cloud (feasible / infeasible); a fixed-seed sample beyond
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
        others = [m for m in [*results.objectives, "area_mm2", "energy_j", "latency_s"] if m in results.metrics]
        x = x or next(m for m in others if m != y)
        y = y or next(m for m in others if m != x)
        if x == y:
            raise InputError("--y", f"same metric as --x ({x}); pick two different metrics")
        return [(x, y)]
    objs = results.objectives
    if len(objs) >= 2:
        return list(combinations(objs, 2))
    other = next(
        m for m in ("area_mm2", "energy_j", "latency_s", *results.metrics) if m in results.metrics and m != objs[0]
    )
    return [(objs[0], other)]


def _sample(df: pd.DataFrame) -> pd.DataFrame:
    return df.sample(MAX_CLOUD, random_state=0).sort_index() if len(df) > MAX_CLOUD else df


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


def _axis_values(results: Results, metric: str, baselines: pd.DataFrame) -> np.ndarray:
    vals = [results.complete[metric].to_numpy(dtype=float)]
    if metric in baselines.columns:
        vals.append(baselines[metric].to_numpy(dtype=float))
    return np.concatenate(vals)


def _panel(ax: Axes, results: Results, x: str, y: str, color: str | None, baselines: pd.DataFrame,
           norm, log: dict[str, bool]) -> np.ndarray:  # fmt: skip
    """Draw one pair; returns the step-line points (raw units, drawing order)."""
    lx, ly = style.metric_label(x), style.metric_label(y)
    done = results.complete
    feas, infeas = _sample(done[done["feasible"]]), _sample(done[~done["feasible"]])
    ax.scatter(infeas[x] * lx.scale, infeas[y] * ly.scale, s=6, facecolors="none", edgecolors="#9a9a9a",
               linewidths=0.4, alpha=0.6, label=f"infeasible ({int((~done['feasible']).sum())})", zorder=1)  # fmt: skip
    kw = {"c": feas[color], "cmap": "viridis", "norm": norm} if color else {"color": style.CLOUD_COLOR}
    ax.scatter(feas[x] * lx.scale, feas[y] * ly.scale, s=5, alpha=0.45, linewidths=0,
                    label=f"feasible ({int(done['feasible'].sum())})", zorder=2, **kw)  # fmt: skip
    front = results.pareto
    steps = step_front(front, x, y, (_direction(results, x), _direction(results, y)))
    ax.plot(steps[:, 0] * lx.scale, steps[:, 1] * ly.scale, drawstyle="steps-post", color=style.FRONT_COLOR,
            linewidth=0.9, zorder=3)  # fmt: skip
    fkw = {"c": front[color], "cmap": "viridis", "norm": norm} if color else {"color": style.FRONT_COLOR}
    ax.scatter(front[x] * lx.scale, front[y] * ly.scale, s=9, edgecolors=style.FRONT_COLOR, linewidths=0.6,
               zorder=4, **fkw)  # fmt: skip
    for i, (_, b) in enumerate(baselines.iterrows()):
        bx, by = b.get(x, np.nan), b.get(y, np.nan)
        if not (np.isfinite(bx) and np.isfinite(by)):
            continue
        ax.scatter([bx * lx.scale], [by * ly.scale], marker=style.BASELINE_MARKERS[i % len(style.BASELINE_MARKERS)],
                   s=42, color=BASELINE_COLORS[i % len(BASELINE_COLORS)], edgecolors="black", linewidths=0.5,
                   zorder=5)  # fmt: skip
        ax.annotate(b["baseline"], (bx * lx.scale, by * ly.scale), xytext=(4, 3), textcoords="offset points",
                    fontsize=6, zorder=6)  # fmt: skip
    if log[x]:
        ax.set_xscale("log")
        style.log_ticks(ax.xaxis, _axis_values(results, x, baselines) * lx.scale)
    if log[y]:
        ax.set_yscale("log")
        style.log_ticks(ax.yaxis, _axis_values(results, y, baselines) * ly.scale)
    return steps


def _legend_handles(results: Results, baselines: pd.DataFrame, color: str | None) -> list[Line2D]:
    done = results.complete
    nf, ni = int(done["feasible"].sum()), int((~done["feasible"]).sum())
    handles = [
        Line2D([], [], ls="", marker="o", ms=3, color=style.CLOUD_COLOR if not color else "#5e9c76", alpha=0.7,
               label=f"feasible trials ({nf})"),
        Line2D([], [], ls="", marker="o", ms=3, mfc="none", mec="#9a9a9a", label=f"infeasible trials ({ni})"),
        Line2D([], [], color=style.FRONT_COLOR, marker="o", ms=3, lw=0.9, drawstyle="steps-post",
               label=f"Pareto front ({len(results.pareto)})"),
    ]  # fmt: skip
    for i, (_, b) in enumerate(baselines.iterrows()):
        flag = "" if bool(b.get("feasible", True)) else " (violates constraints)"
        handles.append(Line2D([], [], ls="", marker=style.BASELINE_MARKERS[i % len(style.BASELINE_MARKERS)], ms=6,
                              color=BASELINE_COLORS[i % len(BASELINE_COLORS)], mec="black", mew=0.5,
                              label=f"{b['baseline']}{flag}"))  # fmt: skip
    return handles


def pareto_figure(
    results: Results,
    x: str | None = None,
    y: str | None = None,
    color: str | None = None,
    baselines: Sequence[str] | None = None,
    baseline_table: pd.DataFrame | None = None,
) -> ParetoPlot:
    """Draw the Pareto figure of ``results`` (single panel, or a matrix for 3+ objectives).

    ``baselines``: accelerator names or spec baseline labels (default: the spec's, else ViTCoD, HeatViT,
    CPU, GPU; unregistered ones are skipped with a note); ``baseline_table`` reuses evaluated rows.
    """
    pairs = pairs_for(results, x, y)
    color = results.metric(color, "--color") if color else None
    notes: list[str] = []
    if baseline_table is None:
        chosen, notes = results.baselines(baselines)
        baseline_table = results.evaluate_baselines(chosen)
    if not len(results.complete):
        raise InputError("RESULTS_DIR", f"{results.path} has no completed trial to plot")
    metrics = sorted({m for p in pairs for m in p})
    log = {m: style.spans_decades(_axis_values(results, m, baseline_table)) for m in metrics}
    steps: dict[tuple[str, str], np.ndarray] = {}
    with style.styled():
        norm = None
        if color:
            from matplotlib.colors import LogNorm, Normalize

            cv = results.complete[color].to_numpy(dtype=float)
            cv = cv[np.isfinite(cv)]
            if cv.size:
                norm = (LogNorm if style.spans_decades(cv) else Normalize)(vmin=cv.min(), vmax=cv.max())
            else:
                color = None
        handles = _legend_handles(results, baseline_table, color)
        if len(pairs) == 1:
            fig = style.figure(style.COLUMN_W, 2.9)
            ax = fig.add_subplot()
            steps[pairs[0]] = _panel(ax, results, *pairs[0], color, baseline_table, norm, log)
            ax.set_xlabel(style.metric_label(pairs[0][0]).axis())
            ax.set_ylabel(style.metric_label(pairs[0][1]).axis())
            ax.set_title(textwrap.fill(results.title(), 60))
            ax.legend(handles=handles, loc="best", fontsize=5.5)
            axes = [ax]
        else:
            objs = results.objectives
            m = len(objs)
            size = min(style.WIDE_W, 2.2 * (m - 1) + 0.8)
            fig = style.figure(size, size * 0.9)
            grid = fig.add_gridspec(m - 1, m - 1)
            axes = []
            cells: dict[tuple[int, int], Axes] = {}
            for i in range(m - 1):
                for j in range(i + 1):
                    # one x axis per column (first drawn on the diagonal), one y axis per row
                    ax = fig.add_subplot(grid[i, j], sharex=cells.get((j, j)), sharey=cells.get((i, 0)))
                    cells[(i, j)] = ax
                    pair = (objs[j], objs[i + 1])
                    steps[pair] = _panel(ax, results, *pair, color, baseline_table, norm, log)
                    if i == m - 2:
                        ax.set_xlabel(style.metric_label(pair[0]).axis())
                    else:
                        ax.tick_params(labelbottom=False)
                    if j == 0:
                        ax.set_ylabel(style.metric_label(pair[1]).axis())
                    else:
                        ax.tick_params(labelleft=False)
                    axes.append(ax)
            fig.suptitle(textwrap.fill(results.title(), 90), fontsize=8)
            fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.99, 0.93), fontsize=6.5)
            pairs = list(steps)
        if color and norm is not None:
            from matplotlib.cm import ScalarMappable
            from matplotlib.colors import LogNorm

            cb = fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=axes, shrink=0.8 if len(axes) > 1 else 1.0,
                              pad=0.02)  # fmt: skip
            lc = style.metric_label(color)
            cb.set_label(lc.axis())
            if isinstance(norm, LogNorm):
                style.log_ticks(cb.ax.yaxis, [norm.vmin, norm.vmax])
            cb.ax.yaxis.set_major_formatter(_scaled_formatter(lc.scale))
    return ParetoPlot(fig, pairs, results.pareto, steps, baseline_table, [h.get_label() for h in handles], log, notes)


def _scaled_formatter(scale: float):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v * scale:.3g}")


def plot_pareto(results: Results, out: str | Path, **kwargs) -> ParetoPlot:
    """Draw (see :func:`pareto_figure`) and save to ``out`` (.png, .svg or .pdf)."""
    style.output_format(Path(out))
    plot = pareto_figure(results, **kwargs)
    style.save(plot.figure, out)
    return plot

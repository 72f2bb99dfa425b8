"""The report's other figures: hypervolume vs trials, breakdowns, resolution scaling, importances.

Each ``*_figure`` function takes the data its companion function computes and returns a Figure; the
data functions are plain (numbers in, frames out) so the report can quote the same numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import optuna
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from dse.plots import style
from dse.plots.results import Breakdown, Results
from dse.search.pareto import HV_REFERENCE, normalized_hypervolume
from dse.search.pareto import bounds as bounds_of
from dse.search.results_schema import COLUMNS, GRID_FRONT, STUDY
from dse.workloads import STAGES

MAX_HV_POINTS = 400  # hypervolume evaluated at most at this many trial counts
MIN_IMPORTANCE_TRIALS = 30


# -- hypervolume vs trials ----------------------------------------------------------------------


def hypervolume_curve(results: Results, bounds=None) -> pd.DataFrame:
    """Normalised hypervolume of the feasible front after each number of completed trials.

    Every objective is scaled to [0, 1] between the ideal and nadir of *all* feasible trials (so the
    curve is monotone and ends at the sweep's own figure), or of ``bounds`` = (ideal, nadir) in minimisation
    form (a grid that stored only its front: every feasible grid point's), and the reference point is 1.1
    per objective (``dse.search.pareto.normalized_hypervolume``, moocore's hypervolume).
    """
    done = results.complete.sort_values(COLUMNS.number, kind="stable")
    objs, dirs = results.objectives, results.directions
    n = len(done)
    feas = done[COLUMNS.feasible].to_numpy(dtype=bool)
    values = done[objs].to_numpy(dtype=float)
    if not feas.any():
        return pd.DataFrame({"trials": [n], "hypervolume": [0.0]})
    ideal, nadir = bounds_of(values[feas], dirs) if bounds is None else (np.asarray(b, dtype=float) for b in bounds)
    counts = np.unique(np.linspace(1, n, min(n, MAX_HV_POINTS)).round().astype(int))
    hv = [normalized_hypervolume(values[:k][feas[:k]], dirs, ideal, nadir) if feas[:k].any() else 0.0 for k in counts]
    return pd.DataFrame({"trials": counts, "hypervolume": hv})


def hypervolume_figure(curve: pd.DataFrame, title: str) -> Figure:
    fig = style.figure(style.COLUMN_W, 2.2)
    ax = fig.add_subplot()
    ax.plot(curve["trials"], curve["hypervolume"], drawstyle="steps-post", color=style.FRONT_COLOR)
    last = curve.iloc[-1]
    ax.annotate(f"{last['hypervolume']:.4g}", (last["trials"], last["hypervolume"]), xytext=(-2, -9),
                textcoords="offset points", ha="right", fontsize=6.5)  # fmt: skip
    ax.set_xlabel("completed trials")
    ax.set_ylabel("normalised hypervolume")
    ax.text(0.98, 0.04, f"objectives scaled to [0, 1], reference {HV_REFERENCE}", transform=ax.transAxes,
            ha="right", fontsize=6, color="#555555")  # fmt: skip
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    return fig


# -- breakdowns -----------------------------------------------------------------------------------


def breakdown_table(items: Sequence[Breakdown]) -> pd.DataFrame:
    """One row per design: latency (s) per stage, energy (J) per component, totals."""
    order = list(style.COMPONENT_COLORS)
    comps = sorted(
        {c for b in items for c in b.component_energy_j}, key=lambda c: (order.index(c) if c in order else 99, c)
    )
    rows = []
    for b in items:
        row = {"design": b.label, "accelerator": b.accelerator, "latency_s": b.latency_s, "energy_j": b.energy_j}
        row.update({f"{s}_s": b.stage_latency_s.get(s, 0.0) for s in STAGES})
        row.update({f"{c}_j": b.component_energy_j.get(c, 0.0) for c in comps})
        rows.append(row)
    return pd.DataFrame(rows)


def _stacked(ax, labels: list[str], parts: dict[str, np.ndarray], colors: dict[str, str], totals: np.ndarray,
             unit: str) -> None:  # fmt: skip
    """100 % stacked horizontal bars, the absolute total written at each bar's end."""
    y = np.arange(len(labels))[::-1]
    whole = np.sum(list(parts.values()), axis=0)
    whole = np.where(whole > 0, whole, 1.0)
    left = np.zeros(len(labels))
    for name, v in parts.items():
        share = v / whole * 100
        ax.barh(y, share, left=left, color=colors.get(name, "#cccccc"), label=name, height=0.7, linewidth=0)
        left += share
    for yi, t in zip(y, totals, strict=True):
        ax.text(101, yi, f"{t:.3g} {unit}" if t < 1000 else f"{t:,.0f} {unit}", va="center", fontsize=6)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 100)
    ax.grid(axis="y", visible=False)
    if not parts:  # the model reports no breakdown: say so instead of an empty legend
        ax.text(50, float(np.mean(y)) if len(y) else 0.0, "no breakdown reported", ha="center", va="center",
                fontsize=6.5, color="#555555")  # fmt: skip
        return
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(parts), fontsize=6, handlelength=1.0,
              columnspacing=0.8)  # fmt: skip


def breakdown_figure(table: pd.DataFrame) -> Figure:
    """Left: share of latency by stage; right: share of energy by component (totals at bar ends)."""
    comps = [c[:-2] for c in table.columns if c.endswith("_j") and c != "energy_j"]
    labels = [f"{d}" for d in table["design"]]
    fig = style.figure(style.WIDE_W, 0.8 + 0.24 * len(table))
    left, right = fig.subplots(1, 2, sharey=True)
    _stacked(left, labels, {s: table[f"{s}_s"].to_numpy() for s in STAGES}, style.STAGE_COLORS,
             table["latency_s"].to_numpy() * 1e3, "ms")  # fmt: skip
    left.set_xlabel("share of latency by stage (%)")
    _stacked(right, labels, {c: table[f"{c}_j"].to_numpy() for c in comps}, style.COMPONENT_COLORS,
             table["energy_j"].to_numpy() * 1e3, "mJ")  # fmt: skip
    right.set_xlabel("share of energy by component (%)")
    right.tick_params(labelleft=False)
    return fig


# -- resolution scaling ---------------------------------------------------------------------------


def scaling_figure(df: pd.DataFrame, design: str) -> Figure:
    """Left: linear / attention / other share of the design's latency per resolution; right: speedup
    of the design over each baseline per resolution."""
    fig = style.figure(style.WIDE_W, 2.3)
    left, right = fig.subplots(1, 2)
    res = df["resolution"].to_numpy()
    total = df["latency_s"].to_numpy()
    bottom = np.zeros(len(df))
    x = np.arange(len(df))
    for s in STAGES:
        share = df[f"{s}_s"].to_numpy() / total * 100
        left.bar(x, share, bottom=bottom, color=style.STAGE_COLORS[s], label=s, width=0.7, linewidth=0)
        bottom += share
    left.set_xticks(x, [f"{r}²" for r in res])
    left.set_ylim(0, 100)
    left.set_xlabel("input resolution")
    left.set_ylabel("share of latency (%)")
    left.grid(axis="x", visible=False)
    left.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=6)
    cols = [c for c in df.columns if c.startswith("speedup_")]
    for i, c in enumerate(cols):
        right.plot(res, df[c], marker=style.BASELINE_MARKERS[i % len(style.BASELINE_MARKERS)],
                   label=f"vs {c[len('speedup_'):]}")  # fmt: skip
    right.axhline(1.0, color="black", linewidth=0.6, linestyle=":")
    right.set_xscale("log")
    right.set_xticks(res, [f"{r}²" for r in res])
    right.xaxis.set_minor_formatter(NullFormatter())
    vals = df[cols].to_numpy(dtype=float).ravel() if cols else np.array([1.0])
    if style.spans_decades(np.append(vals, 1.0)):
        right.set_yscale("log")
        style.log_ticks(right.yaxis, np.append(vals, 1.0))
    right.set_xlabel("input resolution")
    right.set_ylabel(f"speedup of {design} (×)")
    right.set_title("speedup = baseline latency / design latency", fontsize=6.5)
    if cols:
        right.legend(loc="best", fontsize=6)
    else:
        right.text(0.5, 0.5, "no baselines", transform=right.transAxes, ha="center")
    return fig


# -- parameter importances ------------------------------------------------------------------------


def importances(study: optuna.Study | None, results: Results) -> tuple[pd.DataFrame | None, str]:
    """PED-ANOVA importances (``optuna.importance``, no extra dependency) per objective, or a note why not.

    Returns (frame with one row per parameter and one column per objective, method text or reason).
    """
    if study is None:
        return None, "no optuna study found in the results directory"
    if study.user_attrs.get(STUDY.grid_stored) == GRID_FRONT:
        return None, "the grid stored only its Pareto designs in the study; importances would be biased"
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(trials) < MIN_IMPORTANCE_TRIALS:
        return None, f"{len(trials)} completed trials; importances need at least {MIN_IMPORTANCE_TRIALS}"
    seen: dict[str, set[str]] = {}
    for t in trials:
        for k, v in t.params.items():
            seen.setdefault(k, set()).add(repr(v))
    varying = sorted(k for k, vals in seen.items() if len(vals) > 1)
    if len(varying) < 2:
        return None, f"{len(varying)} varying parameter(s); importances need at least 2"
    names = study.metric_names or results.objectives
    out = {}
    evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    for i, (name, direction) in enumerate(zip(names, study.directions, strict=True)):
        sign = -1.0 if direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp = optuna.importance.get_param_importances(
                study, evaluator=evaluator, params=varying, target=lambda t, i=i, s=sign: s * t.values[i]
            )
        out[name] = pd.Series(imp, dtype=float)
    df = pd.DataFrame(out).reindex(varying).fillna(0.0)
    df = df.loc[df.mean(axis=1).sort_values(ascending=False, kind="stable").index]
    return df, "PED-ANOVA (optuna.importance.PedAnovaImportanceEvaluator, top 10 % of trials per objective)"


def importance_figure(df: pd.DataFrame) -> Figure:
    """Grouped horizontal bars: one group per parameter, one bar per objective."""
    fig = style.figure(style.COLUMN_W, 0.9 + 0.32 * len(df))
    ax = fig.add_subplot()
    k = len(df.columns)
    h = 0.8 / k
    y = np.arange(len(df))[::-1]
    for j, col in enumerate(df.columns):
        ax.barh(y + (k - 1 - 2 * j) * h / 2, df[col], height=h, label=style.metric_label(col).name, linewidth=0)
    ax.set_yticks(y, list(df.index))
    ax.set_xlabel("importance (PED-ANOVA)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right", fontsize=6)
    return fig


# -- unified array vs split design ------------------------------------------------------------------


def split_argument_figure(df: pd.DataFrame, static_split: float, title: str = "") -> Figure:
    """Period per input vs resolution: RTSA, the per-resolution oracle split and the static split (with its
    stall share annotated), from :func:`dse.split_argument.unified_vs_split`."""
    fig = style.figure(style.COLUMN_W, 2.4)
    ax = fig.add_subplot()
    x = df["resolution"].to_numpy()
    ax.plot(x, df["rtsa_period_ms"], marker="o", color=style.FRONT_COLOR, label="RTSA (one array, stages in turn)")
    ax.plot(x, df["oracle_period_ms"], marker="^", ls="--", color="#2ca02c",
            label="split, re-tuned per resolution (oracle)")  # fmt: skip
    ax.plot(x, df["static_period_ms"], marker="s", color="#d62728", label=f"split fixed at {static_split:.3g} of rows")
    for k, (xi, yi, st) in enumerate(zip(x, df["static_period_ms"], df["static_stall_share"], strict=True)):
        ha = "right" if k == len(x) - 1 else ("left" if k == 0 else "center")
        ax.annotate(f"{st * 100:.0f}% idle", (xi, yi), xytext=(0, 5), textcoords="offset points", ha=ha,
                    fontsize=5.5, color="#d62728")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(x, [str(int(v)) for v in x])
    ax.xaxis.set_minor_formatter(NullFormatter())
    style.log_ticks(ax.yaxis, np.concatenate([df["rtsa_period_ms"], df["static_period_ms"]]))
    top = float(np.max(df[["rtsa_period_ms", "oracle_period_ms", "static_period_ms"]].to_numpy()))
    ax.set_ylim(top=max(ax.get_ylim()[1], top * 1.5))  # room for the idle-share labels above the points
    ax.set_xlabel("input resolution (px, square)")
    ax.set_ylabel("period per input (ms)")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left")
    return fig

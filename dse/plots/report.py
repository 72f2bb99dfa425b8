"""``report.md`` and its figures for a sweep's results directory.

Writes into ``results/<study>/``: ``pareto.<fmt>`` (all objective pairs), and under ``figures/`` one
Pareto figure per objective pair, ``hypervolume``, ``breakdown``, ``scaling`` and ``importance``; then
``report.md`` embedding them with the key numbers. No dates are written: the same study gives the same
files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from dse.errors import InputError
from dse.plots import figures, style
from dse.plots.pareto import pairs_for, plot_pareto
from dse.plots.results import Results, load_results
from dse.search.export import results_lock, write_text
from dse.search.pareto import HV_REFERENCE
from dse.search.storage import require_existing


@dataclass
class Report:
    """What :func:`write_report` wrote, and notes for the user (skipped baselines, missing parts)."""

    paths: list[Path]
    notes: list[str] = field(default_factory=list)


def _fmt(metric: str, value: float) -> str:
    label = style.metric_label(metric)
    v = value * label.scale
    return (
        f"{v:,.0f}{' ' + label.unit if label.unit else ''}"
        if abs(v) >= 1e4
        else f"{v:.4g}{' ' + label.unit if label.unit else ''}"
    )


def _design_text(results: Results, row: pd.Series) -> str:
    parts = []
    for name in results.searched:
        v = row[name]
        parts.append(f"{name}={v:.4g}" if isinstance(v, float) else f"{name}={v}")
    return " ".join(parts)


def _draw(path: Path, build: Callable[..., Figure], *args: Any) -> Path:
    with style.styled():
        fig = build(*args)
    return style.save(fig, path)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def write_report(
    results_dir: str | Path,
    *,
    fmt: str = "png",
    baselines: Sequence[str] | None = None,
    storage: str | None = None,
) -> Report:
    """Write every figure and ``report.md`` of ``results_dir``; returns the paths and notes.

    ``baselines``: accelerator names or spec baseline labels (default: the spec's, else ViTCoD,
    HeatViT, CPU, GPU); ``storage``: the optuna storage URL when the study is not in the directory
    (it must exist: reading never creates one). Every file is written to a temporary file and renamed,
    under the results directory's lock (:func:`dse.search.export.results_lock`).
    """
    if storage is not None:
        require_existing(storage)
    if not Path(results_dir).is_dir():
        load_results(results_dir)  # the one-line error for a missing directory
    with results_lock(Path(results_dir)):
        return _write_report(results_dir, fmt=fmt, baselines=baselines, storage=storage)


def _write_report(
    results_dir: str | Path,
    *,
    fmt: str = "png",
    baselines: Sequence[str] | None = None,
    storage: str | None = None,
) -> Report:
    if fmt not in style.FORMATS:
        raise InputError("--format", f"unknown value {fmt!r}; allowed: {', '.join(style.FORMATS)}")
    results = load_results(results_dir)
    if not len(results.complete):
        raise InputError("RESULTS_DIR", f"{results.path} has no completed trial to report")
    out, figdir = results.path, results.path / "figures"
    chosen, notes = results.baselines(baselines)
    btable = results.evaluate_baselines(chosen)
    paths: list[Path] = []
    md: list[str] = [f"# Study {results.path.name}: {results.title()}", ""]
    if results.spec.description:
        md += [results.spec.description, ""]

    # key numbers
    done, feas = results.complete, results.feasible
    curve = figures.hypervolume_curve(results)
    hv = float(curve["hypervolume"].iloc[-1])
    md += _table(
        ["", ""],
        [
            ["accelerator", results.spec.accelerator],
            ["workload", results.scenario_text()],
            ["objectives", ", ".join(f"{o.direction} {o.metric}" for o in results.spec.objectives)],
            [
                "constraints",
                ", ".join(
                    f"{c.metric} {'≤' if c.sense == 'max' else '≥'} {c.bound:g}" for c in results.spec.constraints
                )
                or "none",
            ],  # fmt: skip
            ["sampler", results.spec.sampler],
            ["trials (completed)", f"{len(results.trials)} ({len(done)})"],
            ["feasible", str(len(feas))],
            ["Pareto-optimal designs", str(len(results.pareto))],
            [
                "hypervolume",
                f"{hv:.4g} (objectives scaled to [0, 1] between the ideal and nadir of the feasible "
                f"trials, reference point {HV_REFERENCE} per objective; moocore)",
            ],  # fmt: skip
        ],
    )
    selected = results.selected_designs()
    if selected:
        md += ["", "## Selected front designs", ""]
        md += _table(
            ["design", *(style.metric_label(m).name for m in results.objectives), "parameters"],
            [[label, *(_fmt(m, float(row[m])) for m in results.objectives), _design_text(results, row)]
             for label, row in selected],
        )  # fmt: skip
    if len(btable):
        md += ["", "## Baselines on the same workload", ""]
        md += _table(
            ["baseline", "accelerator", *(style.metric_label(m).name for m in results.objectives), "meets constraints"],
            [[str(b["baseline"]), str(b["accelerator"]),
              *(_fmt(m, float(b[m])) if m in b and pd.notna(b[m]) else "–" for m in results.objectives),
              "yes" if bool(b["feasible"]) else "no"] for _, b in btable.iterrows()],
        )  # fmt: skip

    # Pareto figures
    md += ["", "## Pareto front", ""]
    plot_pareto(results, out / f"pareto.{fmt}", baseline_table=btable)
    paths.append(out / f"pareto.{fmt}")
    md.append(f"![Pareto front](pareto.{fmt})")
    pairs = pairs_for(results, None, None)
    if len(pairs) > 1:
        for x, y in pairs:
            p = figdir / f"pareto_{x}_{y}.{fmt}"
            plot_pareto(results, p, x=x, y=y, baseline_table=btable)
            paths.append(p)
            md += ["", f"![{y} vs {x}](figures/{p.name})"]

    # hypervolume
    paths.append(_draw(figdir / f"hypervolume.{fmt}", figures.hypervolume_figure, curve, results.title()))
    md += ["", "## Hypervolume vs trials", "", f"![hypervolume](figures/hypervolume.{fmt})", "",
           f"Final normalised hypervolume {hv:.4g} after {len(done)} completed trials."]  # fmt: skip

    # breakdowns: selected front designs and the baselines
    items = [results.breakdown(label, results.spec.accelerator, results.design_params(row)) for label, row in selected]
    items += [results.breakdown(b.label, b.accelerator, dict(b.params)) for b in chosen]
    if items:
        table = figures.breakdown_table(items)
        paths.append(_draw(figdir / f"breakdown.{fmt}", figures.breakdown_figure, table))
        mix = " (weighted mean over the resolution mix)" if results.spec.scenario.is_mix else ""
        md += ["", "## Latency and energy breakdown", "", f"![breakdown](figures/breakdown.{fmt})", "",
               f"Share of latency by stage and of energy by component{mix}; totals at the bar ends."]  # fmt: skip

    # resolution scaling of the best design
    if selected:
        lead = "latency_s" if "latency_s" in results.objectives else results.objectives[0]
        row = results.best(lead)
        word = "max" if results.direction(lead) == "maximize" else "min"
        number = int(row["number"])
        scale = results.scaling(results.design_params(row), chosen)
        paths.append(_draw(figdir / f"scaling.{fmt}", figures.scaling_figure, scale, f"design #{number}"))
        md += ["", "## Resolution scaling", "", f"![scaling](figures/scaling.{fmt})", "",
               f"Design #{number} ({word} {style.metric_label(lead).name} on the front: "
               f"{_design_text(results, row)}) at square inputs, frames as in the study; "
               "speedup = baseline latency / design latency."]  # fmt: skip
        md += [""] + _table(
            ["resolution", "latency", "attention share",
             *(f"speedup vs {c[len('speedup_'):]}" for c in scale if c.startswith("speedup_"))],
            [[f"{int(r['resolution'])}²", _fmt("latency_s", r["latency_s"]),
              f"{r['attention_s'] / r['latency_s'] * 100:.1f} %",
              *(f"{r[c]:.3g}×" for c in scale if c.startswith("speedup_"))] for _, r in scale.iterrows()],
        )  # fmt: skip
        if results.spec.accelerator in ("rtsa", "rtsa-split"):
            md += _split_section(results, results.design_params(row), number, figdir, fmt, paths)
    else:
        notes.append("no feasible design: no breakdown of front designs and no resolution scaling")

    # parameter importances
    md += ["", "## Parameter importances", ""]
    try:
        study = results.load_study(storage)
    except Exception as err:  # an unreadable or foreign storage: the report goes on without it
        study, why = None, f"cannot open the study: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
    else:
        why = ""
    imp, method = figures.importances(study, results) if not why else (None, why)
    if imp is not None:
        paths.append(_draw(figdir / f"importance.{fmt}", figures.importance_figure, imp))
        md += [f"![importances](figures/importance.{fmt})", "", f"Method: {method}."]
    else:
        md.append(f"Not computed: {method}.")
        notes.append(f"importances: {method}")

    skipped = [n for n in notes if n.startswith("baseline ")]
    if skipped:
        md += ["", "## Notes", ""] + [f"- {n}" for n in skipped]
    md_path = out / "report.md"
    write_text("\n".join(md) + "\n", md_path)
    paths.append(md_path)
    return Report(paths, notes)


def _split_section(results: Results, params: dict[str, Any], number: int, figdir: Path, fmt: str,
                   paths: list[Path]) -> list[str]:  # fmt: skip
    """The unified-vs-split argument for the selected design (same PEs, buffer, bandwidth, clock)."""
    from dse.split_argument import unified_vs_split

    values = {k: v for k, v in params.items() if k not in ("resolution", "frames")}
    frames = params.get("frames") or results.spec.scenario.frames[0]
    res = [r for r in (112, 160, 224, 320, 448)]
    sc = results.spec.scenario
    df, static = unified_vs_split(sc.model_ref, res, values, frames,
                                  **sc.build_options([d.name for d in results.spec.space]))  # fmt: skip
    paths.append(_draw(figdir / f"split.{fmt}", figures.split_argument_figure, df, static,
                       f"design #{number}: one array vs a split design"))  # fmt: skip
    md = ["", "## One array or two: RTSA against the split design", "", f"![split](figures/split.{fmt})", "",
          f"Design #{number}'s PEs, buffer, bandwidth and clock as RTSA (one array, stages in turn), as a split "
          "design re-tuned at every resolution (an oracle: the split is fixed in silicon) and as a split fixed "
          f"at {static:.3g} of the rows (the best single split for these resolutions); period = time per input "
          "in steady state, idle = the split design's PE-cycles waiting on the other array.", ""]  # fmt: skip
    md += _table(
        ["resolution", "RTSA period", "oracle split period", "static split period", "static idle",
         "RTSA gain vs static (period)", "RTSA gain vs static (latency)"],
        [[f"{int(r['resolution'])}²", f"{r['rtsa_period_ms']:.4g} ms", f"{r['oracle_period_ms']:.4g} ms",
          f"{r['static_period_ms']:.4g} ms", f"{r['static_stall_share'] * 100:.0f} %",
          f"{r['rtsa_vs_static_period']:.3g}×", f"{r['rtsa_vs_static_latency']:.3g}×"] for _, r in df.iterrows()],
    )  # fmt: skip
    return md


def write_default_figures(results_dir: str | Path) -> list[Path]:
    """The figures and ``report.md`` a sweep writes when it ends (PNG, default baselines)."""
    return write_report(results_dir).paths

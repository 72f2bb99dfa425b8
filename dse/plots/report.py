"""``report.md`` and its figures for a sweep's results directory.

Writes into ``results/<study>/``: ``pareto.<fmt>`` (all objective pairs), and under ``figures/`` one
Pareto figure per objective pair, ``hypervolume``, ``breakdown``, ``scaling`` and ``importance``; then
``report.md`` embedding them with the key numbers. No dates are written: the same study gives the same
files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from dse import accelerators
from dse.errors import InputError
from dse.plots import figures, style
from dse.plots.pareto import pairs_for, plot_pareto
from dse.plots.results import Results, load_results
from dse.search.export import constraint_column, results_lock, study_tables, write_text
from dse.search.feasibility import closest_to_feasible, violated_text, violation_shares
from dse.search.pareto import HV_REFERENCE
from dse.search.results_schema import COLUMNS, GRID_FRONT, REPORT_FILE, STUDY
from dse.search.storage import require_existing


@dataclass
class Report:
    """What :func:`write_report` wrote, and notes for the user (skipped baselines, missing parts)."""

    paths: list[Path]
    notes: list[str] = field(default_factory=list)


def _fmt(metric: str, value: float, unit: bool = True) -> str:
    label = style.metric_label(metric)
    v = value * label.scale
    text = f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"
    return text + (f" {label.unit}" if unit and label.unit else "")


#: the robust front's columns of pareto.csv (:mod:`dse.search.robust`) shown with the selected designs
ROBUST_SHARES = ("p_pareto", "p_feasible")


def _robust_cells(results: Results) -> tuple[list[str], Callable[[pd.Series], list[str]]] | None:
    """Header and row cells of the selected designs' table: ``p_pareto``, ``p_feasible`` where present, then each
    objective as ``nominal (p5–p95)`` where its interval is; None when ``pareto.csv`` has no robustness column."""
    cols = results.pareto.columns
    shares = [c for c in ROBUST_SHARES if c in cols]
    spread = {m for m in results.objectives if f"{m}_p5" in cols and f"{m}_p95" in cols}
    if not shares and not spread:
        return None

    def value(m: str, row: pd.Series) -> str:
        nominal = _fmt(m, float(row[m]))
        if m not in spread:
            return nominal
        lo, hi = (pd.to_numeric(row[f"{m}_{q}"], errors="coerce") for q in ("p5", "p95"))
        if pd.isna(lo) or pd.isna(hi):
            return nominal
        return f"{nominal} ({_fmt(m, float(lo), unit=False)}–{_fmt(m, float(hi), unit=False)})"

    def cells(row: pd.Series) -> list[str]:
        p = [pd.to_numeric(row[c], errors="coerce") for c in shares]
        return [*("–" if pd.isna(x) else f"{x:.2f}" for x in p), *(value(m, row) for m in results.objectives)]

    header = [*shares, *(style.metric_label(m).name + (" (p5–p95)" if m in spread else "")
                         for m in results.objectives)]  # fmt: skip
    return header, cells


#: said wherever the report judges designs on an estimated accuracy drop (:mod:`dse.accuracy`)
ACCURACY_NOTE = (
    "accuracy_drop is an estimate, not a measurement: a line through the origin fitted to published operating "
    "points of each sparsity method, never above a published bound (at a point published only as a bound, such as "
    "ViTCoD's, it is that bound; dse/accuracy.py, `rtsa-dse accelerators` lists the points)"
)


def _accuracy_note(results: Results, btables: Sequence[pd.DataFrame]) -> list[str]:
    """One line when the study constrains the accuracy drop or a baseline fails such a constraint: the verdict
    rests on :mod:`dse.accuracy`'s estimate; with the designs and baselines past the published points
    (``accuracy_extrapolated`` = 1)."""
    names = {c.name for c in results.spec.constraints if c.metric.split("@")[0].startswith("accuracy_")}
    failing = [str(b["baseline"]) for t in btables for _, b in t.iterrows()
               if not bool(b["feasible"]) and names & {v.strip() for v in str(b.get("violated", "")).split(",")}]  # fmt: skip
    if not names and not failing:
        return []
    text = ACCURACY_NOTE
    if failing:
        text += f"; {', '.join(failing)} fail{'s' if len(failing) == 1 else ''} {' or '.join(sorted(names))} on it"
    if "accuracy_extrapolated" in results.complete.columns:
        flag = pd.to_numeric(results.complete["accuracy_extrapolated"], errors="coerce") > 0
        past = [str(b["baseline"]) for t in btables for _, b in t.iterrows()
                if pd.to_numeric(b.get("accuracy_extrapolated", 0), errors="coerce") > 0]  # fmt: skip
        text += (f". accuracy_extrapolated = 1 marks an estimate beyond the largest published point (unreliable): "
                 f"{int(flag.sum())} of {len(flag)} completed designs"
                 + (f" and the baselines {', '.join(past)}" if past else "") + ".")  # fmt: skip
    else:
        text += "."
    return ["", f"> note: {text}"]


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


def _constraints_section(results: Results) -> list[str]:
    """Each constraint's violation share; without a feasible design, the designs closest to feasibility."""
    names = [c.name for c in results.spec.constraints]
    names += ["valid"] if constraint_column("valid") in results.trials.columns else []
    shares = violation_shares(results.trials, names)
    if not any(s.violated for s in shares):
        return []
    lines = ["", "## Constraints", "", "Completed designs violating each constraint (a missing value violates):", ""]
    lines += _table(["constraint", "violated by", "designs"],
                    [[s.name, f"{s.share:.1%}", f"{s.violated} of {s.total}"] for s in shares])  # fmt: skip
    if not len(results.feasible):
        lines += ["", "**No design meets every constraint.** The designs closest to feasibility (smallest sum of the "
                  "violations, each relative to its bound):", ""]  # fmt: skip
        closest = closest_to_feasible(results.trials, names)
        lines += _table(["design", "violates", "parameters"],
                        [[f"#{int(r['number'])}", violated_text(r, names), _design_text(results, r)]
                         for _, r in closest.iterrows()])  # fmt: skip
    return lines


def write_report(
    results_dir: str | Path,
    *,
    fmt: str = "png",
    baselines: Sequence[str] | None = None,
    storage: str | None = None,
    options: style.FigureOptions | None = None,
) -> Report:
    """Write every figure and ``report.md`` of ``results_dir``; returns the paths and notes.

    ``baselines``: accelerator names, ``NAME:PRESET`` or spec baseline labels (default: the spec's, else
    vitcod, heatvit, cpu:xeon16, gpu:h100), shown at their published configuration and matched to the lead
    front design's peak MAC rate, buffer and bandwidth; ``storage``: the optuna storage URL when the study is not in the directory
    (it must exist: reading never creates one). Every file is written to a temporary file and renamed,
    under the results directory's lock (:func:`dse.search.export.results_lock`).
    """
    if storage is not None:
        require_existing(storage)
    if not Path(results_dir).is_dir():
        load_results(results_dir)  # the one-line error for a missing directory
    with results_lock(Path(results_dir)):
        return _write_report(results_dir, fmt=fmt, baselines=baselines, storage=storage, options=options)


def _write_report(
    results_dir: str | Path,
    *,
    fmt: str = "png",
    baselines: Sequence[str] | None = None,
    storage: str | None = None,
    options: style.FigureOptions | None = None,
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

    try:
        study = results.load_study(storage)
    except Exception as err:  # an unreadable or foreign storage: the report goes on without it
        study, why = None, f"cannot open the study: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
    else:
        why = ""
    # a grid that stored only its front normalises by every feasible grid point, as its sweep did
    grid_bounds = study.user_attrs.get(STUDY.grid_bounds) if study is not None else None
    grid_front = study is not None and study.user_attrs.get(STUDY.grid_stored) == GRID_FRONT
    results, counts = _whole_grid(results, study)

    # key numbers
    done, feas = results.complete, results.feasible
    n_trials, n_done, n_feas = (len(results.trials), len(done), len(feas)) if counts is None else counts
    curve = figures.hypervolume_curve(results, grid_bounds if grid_front else None)
    hv = float(curve["hypervolume"].iloc[-1])
    hv_max = HV_REFERENCE ** len(results.objectives)  # every scaled objective at 0: the whole reference box
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
            ["sampler", results.samplers_text(study)],
            ["command-line overrides", results.overrides_text() or "none"],
            [
                "trials (completed)",
                f"{n_trials} ({n_done})"
                + ("" if counts is None else " grid designs; the study and tables keep the front"),
            ],
            ["feasible", str(n_feas)],
            ["Pareto-optimal designs", str(len(results.pareto))],
            [
                "hypervolume",
                f"{hv:.4g} of at most {hv_max:.4g} (objectives scaled to [0, 1] between the ideal and nadir of the "
                f"feasible trials, reference point {HV_REFERENCE} per objective; moocore)",
            ],  # fmt: skip
        ],
    )
    md += _constraints_section(results) if counts is None else []
    md += [] if len(btable) else _accuracy_note(results, [])
    selected = results.selected_designs()
    if selected:
        md += ["", "## Selected front designs", ""]
        fpga = results.is_fpga  # an FPGA design's size is its DSP, BRAM and LUT use, not an area
        robust = _robust_cells(results)
        header, cells = robust or ([style.metric_label(m).name for m in results.objectives],
                                   lambda row: [_fmt(m, float(row[m])) for m in results.objectives])  # fmt: skip
        md += _table(
            ["design", *header, *(["FPGA use"] if fpga else []), "parameters"],
            [[label, *cells(row), *([results.fpga_use_text(row)] if fpga else []), _design_text(results, row)]
             for label, row in selected],
        )  # fmt: skip
        if robust:
            md += ["", "Robustness (pareto.csv, the front re-evaluated under joint samples of the declared uncertain "
                   "inputs): p_pareto is the share of samples in which the design is feasible and Pareto-optimal "
                   "among the front, p_feasible the share in which it meets every constraint and its accelerator's "
                   "rules, and (p5–p95) the 5th–95th percentile of the objective over the samples; a p_feasible "
                   "well below 1 means the nominal values may not hold."]  # fmt: skip
    if len(btable):
        md += ["", "## Baselines on the same workload", "", "At their published configuration:", ""]
        md += _table(
            ["baseline", "accelerator", *(style.metric_label(m).name for m in results.objectives), "meets constraints"],
            [[str(b["baseline"]), str(b["accelerator"]),
              *(_fmt(m, float(b[m])) if m in b and pd.notna(b[m]) else "–" for m in results.objectives),
              _meets(b)] for _, b in btable.iterrows()],
        )  # fmt: skip
        matched_md, mtable = _matched_section(results, chosen)
        md += matched_md + _accuracy_note(results, [btable, mtable])

    # Pareto figures
    md += ["", "## Pareto front", ""]
    plot = plot_pareto(results, out / f"pareto.{fmt}", baseline_table=btable, options=options)
    degenerate = [n for n in plot.notes if not n.startswith("baseline ")]
    paths.append(out / f"pareto.{fmt}")
    md.append(f"![Pareto front](pareto.{fmt})")
    md += [f"> note: {n}" for n in degenerate]
    pairs = pairs_for(results, None, None)
    if len(pairs) > 1:
        for x, y in pairs:
            p = figdir / f"pareto_{x}_{y}.{fmt}"
            plot_pareto(results, p, x=x, y=y, baseline_table=btable, options=options)
            paths.append(p)
            md += ["", f"![{y} vs {x}](figures/{p.name})"]

    # hypervolume
    paths.append(_draw(figdir / f"hypervolume.{fmt}", figures.hypervolume_figure, curve, results.title()))
    md += ["", "## Hypervolume vs trials", "", f"![hypervolume](figures/hypervolume.{fmt})", ""]
    if grid_front and grid_bounds is not None:
        md += [f"Final normalised hypervolume {hv:.4g} (at most {hv_max:.4g}) of the grid's front ({len(done)} stored "
               "designs; objectives scaled between the ideal and nadir of every feasible grid design, as the sweep "
               "reported it; the curve follows the stored designs in grid order)."]  # fmt: skip
    else:
        md += [f"Final normalised hypervolume {hv:.4g} (at most {hv_max:.4g}) after {len(done)} completed trials."]

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
        number = int(row[COLUMNS.number])
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
    imp, method = figures.importances(study, results) if not why else (None, why)
    if imp is not None:
        paths.append(_draw(figdir / f"importance.{fmt}", figures.importance_figure, imp))
        md += [f"![importances](figures/importance.{fmt})", "", f"Method: {method}."]
    else:
        md.append(f"Not computed: {method}.")
        notes.append(f"importances: {method}")

    skipped = [n for n in notes if n.startswith("baseline ")]
    if skipped or degenerate:
        md += ["", "## Notes", ""] + [f"- {n}" for n in degenerate + skipped]
    notes += degenerate
    md_path = out / REPORT_FILE
    write_text("\n".join(md) + "\n", md_path)
    paths.append(md_path)
    _remove_older_figures(out, paths, {f"pareto_{x}_{y}" for x, y in pairs_for(results, None, None)})
    return Report(paths, notes)


def _whole_grid(results: Results, study) -> tuple[Results, tuple[int, int, int] | None]:
    """``results`` with every grid design where the trials table keeps only the front but the study all of them
    (``--table front`` on a grid the study stores whole), and, where neither keeps them (a large grid's front),
    the grid's (designs, evaluated, feasible) counts its sweep stored; else ``results`` and None."""
    if study is None or not study.user_attrs.get(STUDY.grid_points):
        return results, None
    if study.user_attrs.get(STUDY.grid_stored) == GRID_FRONT:
        counts = study.user_attrs.get(STUDY.grid_counts)
        if counts and len(results.complete) < int(counts[1]):  # the table too keeps only the front
            return results, tuple(int(c) for c in counts)
        return results, None
    if len(results.complete) < study.user_attrs[STUDY.grid_points]:
        trials = study_tables(study)[0]
        if len(trials) > len(results.trials):
            return replace(results, trials=trials), None
    return results, None


#: the figures under ``figures/`` a report draws besides its Pareto panels (``pareto_<x>_<y>``)
REPORT_FIGURES = frozenset({"hypervolume", "breakdown", "scaling", "importance", "split"})


def _remove_older_figures(out: Path, kept: Sequence[Path], panels: set[str]) -> None:
    """Remove the figures an earlier report drew that this one did not (another ``--format``, a section this
    study no longer has): left beside the new ones they would show an older state under the report's names.
    Only the report's own names go (``pareto.*``, ``figures/`` + :data:`REPORT_FIGURES` and the Pareto panels
    ``panels``); a figure of the user's own there stays."""
    keep = {p.resolve() for p in kept}
    for p in _figure_files(out):
        ours = p.parent == out or p.stem in REPORT_FIGURES or p.stem in panels
        if ours and p.resolve() not in keep and p.is_file():
            p.unlink()


def _figure_files(out: Path) -> list[Path]:
    """The figures a report owns in ``out``: ``pareto.*`` and ``figures/*`` in every figure format."""
    found = [out / f"pareto.{f}" for f in style.FORMATS]
    if (out / "figures").is_dir():
        found += [p for f in style.FORMATS for p in (out / "figures").glob(f"*.{f}")]
    return found


def _matched_section(results: Results, chosen: Sequence[Any]) -> tuple[list[str], pd.DataFrame]:
    """The baselines again, each matched to the front's lead design's peak MAC rate, buffer and bandwidth; and
    their table (empty when none is matched)."""
    none = pd.DataFrame(columns=["baseline", "feasible"])
    if not results.selected_designs():
        return [], none
    lead = "latency_s" if "latency_s" in results.objectives else results.objectives[0]
    row = results.best(lead)
    from dse.compare import clip_matched

    matched, beyond = [], {}
    for b, o in results.matched_baselines(results.design_params(row), chosen):
        # a match beyond a baseline's parameter range: evaluated at the range's edge and invalid, as in `compare`
        clipped, reasons = clip_matched(accelerators.get(b.accelerator), o)
        b = replace(b, params=tuple({**dict(b.params), **clipped}.items()))
        matched.append((b, clipped))
        beyond[b.label] = "; ".join(reason for _, reason in reasons)
    if not matched:
        return [], none
    try:
        table = results.evaluate_baselines([b for b, _ in matched])
    except InputError as err:  # a value no clipping repairs: said, not fatal to the report
        return ["", f"Not matched to design #{int(row['number'])}: {err}."], none
    for i, label in enumerate(table["baseline"]):
        if beyond.get(str(label)):
            table.loc[i, "feasible"] = False
            was = str(table.loc[i, "violated"]) if "violated" in table and pd.notna(table.loc[i, "violated"]) else ""
            extra = beyond[str(label)]
            table.loc[i, "violated"] = (f"{was}; {extra}" if "invalid:" in was
                                        else ", ".join(x for x in (was, f"invalid: {extra}") if x))  # fmt: skip
    over = {b.label: ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in o.items())
            for b, o in matched}  # fmt: skip
    lines = ["", f"Matched to design #{int(row['number'])}'s peak MAC rate (MACs × clock), buffer and DRAM bandwidth "
             "(what each baseline can express; a GPU preset models no cache, so it keeps none):", ""]  # fmt: skip
    return lines + _table(
        ["baseline", "set", *(style.metric_label(m).name for m in results.objectives), "meets constraints"],
        [[str(b["baseline"]), over.get(str(b["baseline"]), ""),
          *(_fmt(m, float(b[m])) if m in b and pd.notna(b[m]) else "–" for m in results.objectives),
          _meets(b)] for _, b in table.iterrows()],
    ), table  # fmt: skip


def _meets(b: pd.Series) -> str:
    """``yes``, or ``no`` with the constraints a baseline violates and, when it breaks its accelerator's own rules,
    ``invalid: REASON`` (its ``violated`` column, :meth:`dse.search.space.Problem.evaluate_baselines`)."""
    if bool(b["feasible"]):
        return "yes"
    why = b.get("violated")
    return f"no ({why})" if isinstance(why, str) and why else "no"


def _builds(results: Results, resolution: int, frames: int | None) -> bool:
    try:
        results.build(resolution, frames)
    except InputError:
        return False
    return True


def _split_section(results: Results, params: dict[str, Any], number: int, figdir: Path, fmt: str,
                   paths: list[Path]) -> list[str]:  # fmt: skip
    """The unified-vs-split argument for the selected design (same PEs, buffer, bandwidth, clock)."""
    from dse.split_argument import unified_vs_split

    values = {k: v for k, v in params.items() if k not in ("resolution", "frames")}
    frames = params.get("frames") or results.spec.scenario.frames[0]
    res = [r for r in (112, 160, 224, 320, 448) if _builds(results, r, frames)]
    res = res or [results.points[0].resolution or results.model.resolution]  # a graph fixed at its own size
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


def remove_figures(results_dir: str | Path) -> list[Path]:
    """Remove ``report.md`` and the figures of ``results_dir`` (``pareto.*``, ``figures/*``): after a run that
    changed the tables without redrawing them they would show an older state of the study. Returns them."""
    out = Path(results_dir)
    found = [out / REPORT_FILE, *_figure_files(out)]
    gone = []
    with results_lock(out):
        for p in found:
            if p.is_file():
                p.unlink()
                gone.append(p)
    return gone


def write_default_figures(results_dir: str | Path, storage: str | None = None) -> list[Path]:
    """The figures and ``report.md`` a sweep writes when it ends (PNG, default baselines); ``storage``: the
    study's RDB URL when it is not the directory's journal."""
    return write_report(results_dir, storage=storage).paths

"""``rtsa-dse sweep SPEC``: run (or resume) a design-space sweep described by a TOML spec."""

from __future__ import annotations

import sys
import textwrap
import time

import click

from dse.search import SweepReport, load_spec, run_sweep, samplers
from dse.search.feasibility import closest_to_feasible, violated_text, violation_shares
from dse.search.pareto import HV_REFERENCE
from dse.search.results_schema import FORMATS, REPORT_FILE
from dse.search.runner import Interrupted, interruptible
from dse.search.sweep import FULL_TABLE_MAX, TABLES

#: the summary's width: it fits a 100-column terminal
WIDTH = 100
#: how :func:`dse.search.sweep.front_hypervolume` names a hypervolume of normalised objectives
NORMALISED = "objectives normalised to [0, 1]"


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _design(row: dict, params: list[str]) -> str:
    return " ".join(f"{p}={_fmt(row[p]) if isinstance(row[p], float) else row[p]}" for p in params)


#: the steps of a sweep's wall time (:attr:`SweepReport.timings`) that search, and those that write
SEARCH_STEPS = ("search", "cluster start", "evaluation", "front")
WRITING_STEPS = ("trials table", "study", "outputs", "figures")


def timing_text(wall_s: float, timings: dict[str, float]) -> str:
    """``wall 19.1 s: search 7.52 s, baselines 0.07 s, robust front 1.25 s, writing 10.24 s (outputs 0.01,
    figures 10.23)``: the wall time and its parts, each step in one part only, a part of several steps with
    them in parentheses; time no step accounts for (a grid's bookkeeping) is ``other``. The parts add up to
    the wall time (s)."""

    def part(name: str, steps: dict[str, float]) -> str:
        inner = ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
        return f"{name} {sum(steps.values()):.2f} s" + ("" if list(steps) == [name] else f" ({inner})")

    search = {k: v for k, v in timings.items() if k in SEARCH_STEPS}
    writing = {k: v for k, v in timings.items() if k in WRITING_STEPS}
    parts = [part("search", search)] if search else []
    parts += [part(k, {k: v}) for k, v in timings.items() if k not in SEARCH_STEPS + WRITING_STEPS]
    parts += [part("writing", writing)] if writing else []
    other = wall_s - sum(timings.values())
    parts += [f"other {other:.2f} s"] if other >= 0.005 else []
    return f"wall {wall_s:.1f} s: " + ", ".join(parts)


def infeasible_lines(
    trials, constraints: list[str], searched: list[str], width: int = WIDTH, reasons=None
) -> list[str]:
    """Why no design is feasible: each constraint's violation share, then the designs closest to feasibility,
    ranked (``closest 1, design #N``: N is the design's ``number`` in the trials table, as in report.md), each
    with every constraint it violates. ``reasons(rows)``: why each of those designs is invalid (its
    accelerator's rules, :meth:`~dse.search.space.Problem.invalid_reasons`)."""
    shares = [s for s in violation_shares(trials, constraints) if s.violated]
    if not shares:
        return []
    total = shares[0].total
    lines = textwrap.wrap(
        f"no feasible design: of {total} designs, " + ", ".join(f"{s.name} violated by {s.share:.0%}" for s in shares),
        width, subsequent_indent="  ",
    )  # fmt: skip
    closest = closest_to_feasible(trials, constraints)
    why = reasons(closest) if reasons is not None and len(closest) else [None] * len(closest)
    for rank, ((_, row), reason) in enumerate(zip(closest.iterrows(), why, strict=True), start=1):
        text = (f"closest {rank}, design #{int(row['number'])}: {violated_text(row, constraints, reason)}; "
                f"{_design(row, searched)}")  # fmt: skip
        lines += textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="    ")
    return lines


def hypervolume_text(hv: float, kind: str, n_objectives: int) -> str:
    """``hypervolume 1.21 of 1.331 (objectives normalised to [0, 1], reference 1.1 per objective)``: a normalised
    hypervolume with its maximum, ``HV_REFERENCE ** k`` for k objectives (a front reaching the ideal point in every
    objective fills the whole reference box); one in metric units (the spec's reference point) has no fixed
    maximum and is given alone."""
    if not kind.startswith(NORMALISED):
        return f"hypervolume {hv:.4g} ({kind})"
    return (f"hypervolume {hv:.4g} of {HV_REFERENCE**n_objectives:.4g} (objectives normalised to [0, 1], reference "
            f"{HV_REFERENCE} per objective)")  # fmt: skip


def infeasible_text(baseline: dict) -> str:
    """``(infeasible: area_mm2_max, invalid: REASON)``: what a baseline violates, its accelerator's rules with
    why (:meth:`~dse.search.space.Problem.evaluate_baselines`' ``violated``)."""
    why = baseline.get("violated")
    return f"(infeasible: {why})" if isinstance(why, str) and why else "(infeasible)"


def print_summary(r: SweepReport) -> None:
    """The end-of-run summary: counts, best per objective, hypervolume, wall time, outputs."""
    p = r.problem
    spec = p.spec
    searched = [d.name for d in p.searched]

    def echo(line: str) -> None:  # every line fits a 100-column terminal (paths are never cut)
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        click.echo(textwrap.fill(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False))

    if r.grid is not None:
        g = r.grid
        echo(
            f"study {spec.study}: grid of {len(g):,} designs ({spec.accelerator} on {spec.scenario.model}) in "
            f"{g.chunks:,} chunks on {g.engine}: evaluated in {g.eval_s:.2f} s "
            f"({len(g) / max(g.eval_s, 1e-9):,.0f} designs/s), exact front in {g.front_s:.2f} s"
        )
    else:
        s = r.stats
        extra = f", {r.previously_complete} from earlier runs" if r.previously_complete else ""
        extra += f", {s.by_others} by other workers meanwhile" if s.by_others else ""
        search_s = r.timings.get("search", r.wall_s)  # the trials' own time, not the writing after them
        rate = f", {s.run / search_s:,.0f} trials/s" if s.run and search_s > 0 else ""
        # the model's share of the search: the rest is the sampler's, the storage's and the workers' own time
        model = f" in {s.model_s:.2f} s" if s.evaluations else ""
        if s.evaluations and search_s > 0 and r.jobs == 1:
            model += f" ({min(s.model_s / search_s, 1.0):.0%} of the search)"
        echo(
            f"study {spec.study}: {r.n_complete} trials complete of {r.target} ({s.run} run now{extra}{rate}); "
            f"sampler {spec.sampler}, {s.evaluations} model evaluations{model}, {s.cache_hits} cache hits"
        )
        notes = []
        if s.lost_workers:  # one note for a death: the processes and the trials they held
            held = f"{s.recovered} orphaned trial(s)" if s.recovered else "their trials"
            notes.append(f"{s.lost_workers} worker process(es) died; {held} re-queued")
        elif s.recovered:
            notes.append(f"{s.recovered} orphaned trials of dead workers re-queued")
        if s.failed:
            notes.append(f"{s.failed} trials failed (non-numeric objective)")
        if notes:
            echo("note: " + "; ".join(notes))
    echo(f"feasible {r.n_feasible}, Pareto-optimal designs {len(r.pareto)}")
    if r.n_feasible == 0 and r.n_complete:
        why = lambda rows: p.invalid_reasons({d: rows[d].to_numpy() for d in searched})  # noqa: E731
        for line in infeasible_lines(r.trials, p.constraint_names, searched, reasons=why):
            echo(line)
    for metric, direction, value, row in r.best():
        word = "max" if direction == "maximize" else "min"
        echo(f"  {word} {metric:<14} {_fmt(value):>10}  ({_design(row, searched)})")
    echo(hypervolume_text(r.hypervolume, r.hv_kind, len(spec.objectives)))
    if r.robust is not None:
        echo(r.robust.summary())
    for b in r.baselines:
        vals = "  ".join(f"{o}={_fmt(b[o])}" for o in p.objective_names if o in b)
        echo(f"  baseline {b['baseline']}: {vals}{'' if b['feasible'] else '  ' + infeasible_text(b)}")
    echo(f"{timing_text(r.wall_s, r.timings)}; storage {r.storage.describe()}")
    echo("outputs: " + ", ".join(str(x) for x in r.paths))
    if r.removed_figures:
        echo(f"note: removed {len(r.removed_figures)} figures and report.md drawn before this run (not redrawn with "
             f"--no-figures); `rtsa-dse report {r.out_dir}` draws them anew")  # fmt: skip


@click.command("sweep")
@click.argument("spec", metavar="SPEC.toml")
@click.option("--storage", metavar="URL", help="optuna storage URL (postgresql://…, sqlite:///…) or journal file; "
              "default: results/<study>/study.journal")  # fmt: skip
@click.option("--jobs", "-j", type=int, help="Local worker processes: on one study (default 1), or evaluating the "
              "grid's chunks (default: every core from 4 chunks on).")  # fmt: skip
@click.option(
    "--results-dir", metavar="DIR", help="Parent of results/<study>/ (default: spec results_dir or ./results)."
)
@click.option("--study", help="Override the study name.")
@click.option("--trials", type=int, help="Override the number of completed trials to reach.")
@click.option("--sampler", help=f"Override the sampler: {', '.join(samplers.names())}.")
@click.option("--seed", type=int, help="Override the seed.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True, help="Table format "
              "(a grid's full table in Parquet is a partitioned dataset: trials.parquet/part-*.parquet).")  # fmt: skip
@click.option("--table", type=click.Choice(TABLES), help="What the trials table holds: every design, the Pareto "
              f"front's, or no table (default: full up to {FULL_TABLE_MAX:,} designs, else front).")  # fmt: skip
@click.option("--cluster", metavar="ADDRESS", help="Grid only: evaluate the chunks on a Dask cluster, tcp://HOST:PORT "
              "of its scheduler, or local:N for N local worker processes (needs rtsa-dse[dask]).")  # fmt: skip
@click.option("--heartbeat", type=click.IntRange(min=1), default=10, show_default=True,
              help="RDB heartbeat interval (s); a worker silent for 3× this is presumed dead and its trial re-run.")  # fmt: skip
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: only on a terminal).")
@click.option("--figures/--no-figures", default=True, show_default=True,
              help="Write the default figures and report.md into the results folder at the end.")  # fmt: skip
def command(spec, storage, jobs, results_dir, study, trials, sampler, seed, fmt, table, cluster, heartbeat, progress,
            figures) -> None:  # fmt: skip
    """Search the design space of SPEC.toml (optuna, or an exhaustive vectorized grid).

    Re-running the same command resumes: only the trials still missing run.
    """
    problem = load_spec(spec, study=study, trials=trials, sampler=sampler, seed=seed)
    if trials is not None and problem.spec.sampler == "grid":
        click.echo(f"note: --trials does not apply to a grid, which evaluates every one of its "
                   f"{problem.grid_size():,} designs", err=True)  # fmt: skip
    show = sys.stderr.isatty() if progress is None else progress
    report, finished = None, False
    try:
        with interruptible():
            report = run_sweep(problem, storage=storage, jobs=jobs, results_dir=results_dir, fmt=fmt,
                               progress=show, heartbeat_s=heartbeat, table=table, cluster=cluster)  # fmt: skip
            if figures and report.n_complete == 0 and report.grid is None:
                figures = False  # nothing to draw: the summary below says why the run ended short
            if figures:
                from dse.plots import write_default_figures

                t0 = time.perf_counter()
                report.paths.append(report.out_dir / REPORT_FILE)
                write_default_figures(report.out_dir, report.storage.location if report.storage.kind == "rdb" else None)
                report.timings["figures"] = time.perf_counter() - t0
                report.wall_s += report.timings["figures"]
            elif report.stats.run or report.stats.recovered:  # the tables changed: older figures would lie
                from dse.plots.report import remove_figures

                report.removed_figures = remove_figures(report.out_dir)
            finished = True  # a stop asked for from here on is honoured with nothing left to do
    except KeyboardInterrupt as err:
        code = err.code if isinstance(err, Interrupted) else 130
        why = "terminated" if code == 143 else "interrupted"
        if finished and report is not None and not report.short_of_target:
            # the stop was asked for while the last outputs were written: they were finished first, nothing is lost
            print_summary(report)
            click.echo(f"note: {why} after the run had finished; every trial and output is written", err=True)
            return
        if problem.spec.sampler == "grid":
            click.echo(f"{why}: a grid keeps no partial result; run the same command again to evaluate it", err=True)
        else:
            click.echo(f"{why}: finished trials are stored; run the same command again to resume", err=True)
        raise click.exceptions.Exit(code) from None
    print_summary(report)
    short = report.short_of_target
    if short:
        again = ("no trial completed: the model returned no number (NaN or inf) for the objectives; check it"
                 if report.n_complete == 0 and report.stats.failed else "run the same command again to finish")  # fmt: skip
        raise SweepIncomplete(
            f"study {problem.spec.study} has {report.n_complete} of {report.target} complete trials: {short}; {again}"
        )


class SweepIncomplete(click.ClickException):
    """The run ended short of the requested trials (exit 1, one line)."""

    exit_code = 1

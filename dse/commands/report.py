"""``rtsa-dse report RESULTS_DIR``: every figure of a sweep and a ``report.md`` embedding them."""

from __future__ import annotations

import click

from dse.commands.pareto import figure_options, make_options, parse_baselines
from dse.plots import write_report
from dse.plots.style import FORMATS


@click.command("report")
@click.argument("results_dir", metavar="RESULTS_DIR")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="png", show_default=True, help="Figure format.")
@click.option("--baselines", metavar="A,B,…", help="Accelerators (or spec baseline names) to compare; 'none' for none. "
              "Default: the spec's baselines, else vitcod,heatvit,cpu,gpu.")  # fmt: skip
@click.option("--storage", metavar="URL", help="optuna storage of the study when it is not RESULTS_DIR/study.journal.")
@figure_options
def command(results_dir, fmt, baselines, storage, title, size, font_size, legend) -> None:
    """Write the figures of RESULTS_DIR (Pareto per objective pair, hypervolume vs trials, breakdowns,
    resolution scaling, parameter importances) and RESULTS_DIR/report.md with the key numbers."""
    options = make_options(title, size, font_size, legend)
    report = write_report(results_dir, fmt=fmt, baselines=parse_baselines(baselines), storage=storage,
                          options=options)  # fmt: skip
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for path in report.paths:
        click.echo(f"wrote {path}")

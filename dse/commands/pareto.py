"""``rtsa-dse pareto RESULTS_DIR``: the Pareto figure of a sweep, with the baselines on the same workload."""

from __future__ import annotations

from pathlib import Path

import click

from dse.plots import load_results, plot_pareto
from dse.plots.style import LEGENDS, FigureOptions, output_format, parse_size


def figure_options(f):
    """``--no-title``, ``--size``, ``--font-size`` and ``--legend``: a figure laid out for a paper."""
    for opt in reversed([
        click.option("--title/--no-title", default=True, show_default=True, help="Draw the study's title."),
        click.option("--size", metavar="WxH", help="Figure size in inches, e.g. 3.5x2.6 (default: one IEEE "
                     "column wide; a matrix of panels two columns).", callback=_size),
        click.option("--font-size", type=float, metavar="PT", help="Base font size in points (default 7.5; the "
                     "other sizes scale with it)."),
        click.option("--legend", type=click.Choice(LEGENDS), default="auto", show_default=True,
                     help="Legend: inside where it hides least (best), below the axes (outside), none, or auto "
                     "(inside when short)."),
    ]):  # fmt: skip
        f = opt(f)
    return f


def _size(_ctx, _param, value):
    return parse_size(value)


def make_options(title: bool, size, font_size, legend: str) -> FigureOptions:
    return FigureOptions(title=title, size=size, font_size=font_size, legend=legend)


def parse_baselines(text: str | None) -> list[str] | None:
    """``a,b`` → names; ``none`` or empty → no baselines; None → the default set."""
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return []
    return [x.strip() for x in text.split(",") if x.strip()]


@click.command("pareto")
@click.argument("results_dir", metavar="RESULTS_DIR")
@click.option("--x", "x", metavar="METRIC", help="x-axis metric (aliases: latency, energy, area, power, throughput).")
@click.option("--y", "y", metavar="METRIC", help="y-axis metric. Without --x/--y: every objective pair.")
@click.option("--color", metavar="METRIC", help="Colour trials and front by this metric.")
@click.option("--baselines", metavar="A,B,…", help="Accelerators (or spec baseline names) to mark; 'none' for none. "
              "Default: the spec's baselines, else vitcod,heatvit,cpu,gpu.")  # fmt: skip
@click.option("-o", "--output", metavar="FILE", help="Output .png, .svg or .pdf (default RESULTS_DIR/pareto.png).")
@figure_options
def command(results_dir, x, y, color, baselines, output, title, size, font_size, legend) -> None:
    """Plot the Pareto front of a sweep's RESULTS_DIR (results/<study>/) against the baselines.

    Feasible trials are light dots, infeasible ones hollow grey circles, the front a step line with
    markers; each baseline is evaluated on the study's workload scenario. Axes follow the trials and are
    logarithmic where they span more than a decade; a baseline beyond them is drawn at the edge with its
    value. Three or more objectives give a matrix of objective pairs: each panel's step line is that
    pair's own front, and the designs of the full front are marked apart.
    """
    options = make_options(title, size, font_size, legend)
    if output is not None:
        output_format(Path(output))
    results = load_results(results_dir)
    out = Path(output) if output else results.path / "pareto.png"
    plot = plot_pareto(results, out, x=x, y=y, color=color, baselines=parse_baselines(baselines), options=options)
    for note in plot.notes:
        click.echo(f"note: {note}", err=True)
    shown = ", ".join(str(b) for b in plot.baselines["baseline"]) if len(plot.baselines) else "none"
    panels = f"{len(plot.pairs)} panels" if len(plot.pairs) > 1 else f"{plot.pairs[0][1]} vs {plot.pairs[0][0]}"
    click.echo(f"wrote {out} ({panels}; front of {len(plot.front)} designs; baselines: {shown})")

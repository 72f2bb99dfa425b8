"""``rtsa-dse pareto RESULTS_DIR``: the Pareto figure of a sweep, with the baselines on the same workload."""

from __future__ import annotations

from pathlib import Path

import click

from dse.plots import load_results, plot_pareto
from dse.plots.style import output_format


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
def command(results_dir, x, y, color, baselines, output) -> None:
    """Plot the Pareto front of a sweep's RESULTS_DIR (results/<study>/) against the baselines.

    Feasible trials are light dots, infeasible ones hollow grey circles, the front a step line with
    markers; each baseline is evaluated on the study's workload scenario. Axes are logarithmic where
    values span more than a decade. Three or more objectives give a matrix of objective pairs.
    """
    if output is not None:
        output_format(Path(output))
    results = load_results(results_dir)
    out = Path(output) if output else results.path / "pareto.png"
    plot = plot_pareto(results, out, x=x, y=y, color=color, baselines=parse_baselines(baselines))
    for note in plot.notes:
        click.echo(f"note: {note}", err=True)
    shown = ", ".join(str(b) for b in plot.baselines["baseline"]) if len(plot.baselines) else "none"
    panels = f"{len(plot.pairs)} panels" if len(plot.pairs) > 1 else f"{plot.pairs[0][1]} vs {plot.pairs[0][0]}"
    click.echo(f"wrote {out} ({panels}; front of {len(plot.front)} designs; baselines: {shown})")

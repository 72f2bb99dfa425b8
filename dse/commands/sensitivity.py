"""``rtsa-dse sensitivity``: which declared uncertain inputs move a metric (or a ratio between two designs)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from dse import accelerators
from dse.commands.evaluate import parse_sets
from dse.commands.output import echo_frame, echo_json, echo_text, format_option
from dse.commands.uncertainty_options import check_seed, uncertainty_file_option
from dse.commands.workload_options import (
    WORKLOAD_HELP,
    architecture_options,
    note_free_size,
    pop_architecture,
    sparsity_option,
    sparsity_ref,
)
from dse.commands.workloads import parse_resolution
from dse.errors import InputError
from dse.uncertainty.sensitivity import DEFAULT_SAMPLES, METHODS, Question, analyze, check_metric
from dse.workloads import build

DEFAULT_DIR = Path("results") / "sensitivity"


def default_figure(acc: str, over: str | None, model: str, resolution, metric: str, method: str) -> Path:
    """``results/sensitivity/<acc>[-over-<acc2>]-<model>[-<R>]-<metric>-<method>.png``."""
    parts = (
        [accelerators.canonical(acc)] + ([f"over-{accelerators.canonical(over)}"] if over else []) + [Path(model).stem]
    )
    if resolution is not None:
        parts.append("x".join(str(r) for r in resolution) if isinstance(resolution, tuple) else str(resolution))
    parts += [metric, method]
    return DEFAULT_DIR / (re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts)) + ".png")


@click.command("sensitivity")
@click.option("--accelerator", "-a", required=True, help="Accelerator (the reference of a ratio).")
@click.option("--workload", "-w", required=True, help=WORKLOAD_HELP)
@click.option("--resolution", "-r", help="Input resolution R or HxW.")
@click.option("--frames", "-f", type=int, help="Input frames (default: the model's).")
@architecture_options()
@sparsity_option
@click.option("--metric", "-m", "metric_name", required=True, help="Metric (or alias: latency, energy, area …).")
@click.option("--method", type=click.Choice(METHODS), default="sobol", show_default=True,
              help="sobol: first-order and total Sobol' indices (Saltelli sampling); morris: elementary effects; "
              "oat: one input at a time at its 5th and 95th percentile (tornado).")  # fmt: skip
@click.option("--over", "over", metavar="ACC2", help="Rank the inputs of the ratio ACC2's metric / ACC's metric "
              "(e.g. -a rtsa --over vitcod --metric latency_s: RTSA's speedup over ViTCoD).")  # fmt: skip
@click.option("--samples", "-n", type=click.IntRange(min=2), help="Sobol' base samples (a power of 2; default "
              f"{DEFAULT_SAMPLES['sobol']}) or Morris trajectories (default {DEFAULT_SAMPLES['morris']}).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo samples.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Parameter of ACC (not perturbed as a "
              "design choice).")  # fmt: skip
@click.option("--over-set", "over_sets", multiple=True, metavar="KEY=VALUE", help="Parameter of ACC2.")
@uncertainty_file_option
@click.option("-o", "--output", metavar="FILE", help="Tornado figure .png/.svg/.pdf (default "
              "results/sensitivity/<acc>-<model>-<metric>-<method>.png).")  # fmt: skip
@click.option("--figure/--no-figure", default=True, show_default=True, help="Write the tornado figure.")
@format_option
def command(accelerator, workload, resolution, frames, sparsity, metric_name, method, over, samples, seed, sets,
            over_sets, uncertainty_file, output, figure, fmt, **arch) -> None:  # fmt: skip
    """Rank the declared uncertain inputs by their effect on a metric of ACC on MODEL (SALib).

    Every method evaluates all its points in one vectorized call per accelerator; inputs of the same name
    are one random variable for both accelerators of a ratio (the same technology, the same video). The
    declared inputs and their ranges: `rtsa-dse accelerators`; override them with --uncertainty-file.
    """
    from dse.uncertainty.declared import load_overrides

    if output is not None:
        from dse.plots.style import output_format

        output_format(Path(output))
    acc = accelerators.get(accelerator)
    acc2 = accelerators.get(over) if over else None
    metric = check_metric(metric_name, [acc] + ([acc2] if acc2 else []))
    explicit = parse_sets(sets)
    over_explicit = parse_sets(over_sets)
    if over_sets and acc2 is None:
        raise InputError("--over-set", "give --over ACC2 first")
    if (
        acc2 is not None
        and accelerators.canonical(over) == accelerators.canonical(accelerator)
        and (over_explicit == explicit)
    ):
        raise InputError("--over", f"{over} is the accelerator itself with the same settings: the ratio is 1 in "
                         "every sample; compare another accelerator, or change one side with --set / --over-set")  # fmt: skip
    from dse.metrics import is_declared
    from dse.metrics import metric as declared_metric

    if is_declared(metric) and declared_metric(metric).flag:
        raise InputError("--metric", f"{metric} is a 0/1 flag, not a quantity to rank inputs by; pick a metric")
    res = parse_resolution(resolution)
    wl = build(workload, res, frames, sparsity=sparsity_ref(sparsity, explicit), **pop_architecture(arch))
    note_free_size(workload, resolution, frames)
    declared = load_overrides(uncertainty_file)
    question = Question(acc, wl, metric, acc.resolve(explicit), set(explicit), acc2,
                        acc2.resolve(over_explicit) if acc2 else {}, set(over_explicit))  # fmt: skip
    sens = analyze(question, method, samples, check_seed(seed), declared)
    path = None
    if figure:
        from dse.plots.tornado import plot_tornado

        path = plot_tornado(sens, Path(output) if output else default_figure(accelerator, over, workload, res,
                                                                              metric, method))  # fmt: skip
    if fmt == "json":
        echo_json({"question": sens.question, "metric": metric, "method": method, "workload": wl.model,
                   "resolution": [int(wl.height), int(wl.width)], "frames": int(wl.frames), "nominal": sens.nominal,
                   "evaluations": sens.points, "samples": sens.samples, "seed": seed, "declared": declared.origin,
                   "figure": str(path) if path else None, "ranking": sens.table.to_dict(orient="records")})  # fmt: skip
        return
    if fmt == "csv":
        echo_frame(sens.table, "csv")
        return
    echo_text(f"{sens.question} on {wl.model} {int(wl.height)}x{int(wl.width)} frames={int(wl.frames)}: "
               f"nominal {sens.nominal:.4g}; {method}, {sens.points:,} evaluations")  # fmt: skip
    echo_frame(sens.table, "table")
    if path is not None:
        click.echo(f"wrote {path}")

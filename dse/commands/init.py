"""``rtsa-dse init [SPEC.toml]``: write a commented example sweep spec for an accelerator and a model."""

from __future__ import annotations

import math
from pathlib import Path

import click

from dse import accelerators
from dse.accelerators import Accelerator, Param
from dse.errors import InputError
from dse.search.export import write_text

#: searched parameters in the example (the others are listed, commented out, with their allowed values)
SEARCHED = 4


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        return f"{v:g}" if math.isfinite(v) and "e" not in f"{v:g}" else repr(v)
    return str(v)


def _range(p: Param) -> str | None:
    """A search range around the default (÷4 … ×4 within the allowed range), or None if none fits."""
    d = p.default
    if p.kind == "choice":
        return "[" + ", ".join(_toml(c) for c in p.choices) + "]" if len(p.choices) > 1 else None
    if isinstance(d, bool) or not isinstance(d, int | float) or d <= 0:
        return None
    lo = max(d / 4, p.low if p.low is not None else -math.inf)
    hi = min(d * 4, p.high if p.high is not None else math.inf)
    if p.kind == "int":
        if d & (d - 1) == 0:  # a power of two: its neighbours in powers of two
            vals = [v for v in (d // 4, d // 2, d, d * 2, d * 4) if v >= 1 and lo <= v <= hi]
            return "[" + ", ".join(map(str, vals)) + "]" if len(vals) > 1 else None
        lo, hi = math.ceil(lo), math.floor(hi)
        if hi - lo < 2:
            return None
        raw = (hi - lo) / 8
        step = max(1, min((k * 10 ** math.floor(math.log10(raw)) for k in (1, 2, 5)), key=lambda s: abs(s - raw)))
        step = int(step)
        lo = step * math.ceil(lo / step) if step > 1 else lo
        hi = lo + step * ((hi - lo) // step)
        return f"{{ low = {lo}, high = {hi}, step = {step} }}"
    if not hi > lo:
        return None
    log = "true" if hi / lo >= 10 else "false"
    return f"{{ low = {lo:.4g}, high = {hi:.4g}, log = {log} }}"


def example_spec(acc: Accelerator, model: str, study: str, name: str | None = None) -> str:
    """The text of a commented spec that validates as it is (``rtsa-dse sweep`` runs it). ``name``: how the user
    named the accelerator (``gpu:h100``: the preset's settings are written as fixed values, not searched)."""
    name = name or acc.name
    preset = dict(getattr(acc, "preset", None) or {})
    metrics = list(acc.metrics)
    objectives = [m for m in ("latency_s", "energy_j") if m in metrics]
    size = "dsp_util" if all(m in metrics for m in ("dsp", "bram", "lut")) else "area_mm2"
    objectives += [size] if size in metrics else []
    lines = [
        f"# A sweep of {name} on {model}, written by `rtsa-dse init`. Run it with:",
        f"#   rtsa-dse sweep {study}.toml",
        "# Results go to results/<study>/ (trials.csv, pareto.csv, report.md, figures); re-running resumes.",
        "# The format: README.md ('Spec format (TOML)'); every parameter: `rtsa-dse accelerators -a " + name + "`.",
        "",
        f'study = "{study}"  # also the results folder name',
        f'accelerator = "{acc.name}"',
        'sampler = "nsga2"  # nsga2, nsga3, tpe, gp, random, qmc, or grid (every point of a discretised space)',
        "trials = 500  # completed trials to reach",
        "seed = 0  # 0 … 4294967295",
        "# baselines evaluated on the same workload (names of `rtsa-dse accelerators`, NAME:PRESET, or tables);",
        "# baselines = [] means none; without the key, reports show the default set",
        'baselines = ["cpu:xeon16", "gpu:h100"]',
        "",
        "[workload]",
        f'model = "{model}"  # a zoo name (`rtsa-dse workloads`), a model .toml or an ONNX graph',
        "# resolution = 224  # R or [H, W]; default: the model's published input",
        "# frames = 16",
        "# a battery scenario instead: a weighted resolution mix, aggregated as the mean or the worst case",
        "# resolutions = [112, 224]",
        "# weights = [3, 1]",
        '# aggregate = "mean"  # or "max"; per objective: latency_s = { direction = "minimize", aggregate = "max" }',
        "",
        "[objectives]  # metric = direction; metrics: `rtsa-dse accelerators`",
    ]
    lines += [f'{m} = "minimize"' for m in objectives]
    lines += ["", "[space]  # a range { low, high, step | log | points }, a list of choices, or a fixed value"]
    searched = 0
    for p in acc.params:
        r = _range(p) if searched < SEARCHED else None
        allowed = f"allowed {p.range_text()}" + (f" {p.unit}" if p.unit else "")
        if p.name in preset:
            lines.append(f"{p.name} = {_toml(preset[p.name])}  # the preset {name}; {allowed}")
        elif r is not None:
            lines.append(f"{p.name} = {r}  # {allowed}")
            searched += 1
        else:
            lines.append(f"# {p.name} = {_toml(p.default)}  # default; {allowed}")
    lines += ["", "[constraints]  # metric = { max = … } and/or { min = … }; a missing value is never feasible"]
    if size == "area_mm2" and "area_mm2" in metrics:
        # on only when the default design can meet it, as the accuracy bound below
        from dse.workloads import build

        area = float(acc.evaluate(build(model))["area_mm2"])
        if area <= 10.0:
            lines.append("area_mm2 = { max = 10.0 }")
        else:
            lines.append(f"# area_mm2 = {{ max = 10.0 }}  # the default design's area is {area:.4g} mm²")
    elif size in metrics:
        lines.append("fpga_fit = true  # DSP, BRAM and LUT use within the device")
    if "accuracy_drop" in metrics:
        # on only when the default design can meet it: a spec that finds no feasible design teaches nothing
        from dse.workloads import build

        drop = float(acc.evaluate(build(model))["accuracy_drop"])
        hint = "percentage points, estimated from published points"
        if drop <= 1.0:
            lines.append(f"max_accuracy_drop = 1.0  # {hint}")
        else:
            lines.append(f"# max_accuracy_drop = 1.0  # {hint}; the default design's estimate is {drop:.2g}")
    lines.append('# "latency_s@112" = { max = 0.033 }  # one point of a resolution mix')
    return "\n".join(lines) + "\n"


@click.command("init")
@click.argument("path", required=False, default="sweep.toml", metavar="[SPEC.toml]")
@click.option("--accelerator", "-a", default="rtsa", show_default=True, help="Accelerator to search.")
@click.option("--workload", "-w", default="videomae-b", show_default=True, help="Model of the workload.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def command(path, accelerator, workload, force) -> None:
    """Write a commented example sweep spec (default sweep.toml) that `rtsa-dse sweep` runs as it is."""
    from dataclasses import replace

    from dse.search.space import Problem
    from dse.search.spec import parse_spec

    out = Path(path)
    if out.suffix != ".toml":
        raise InputError("SPEC.toml", f"{out}: the spec file name ends in .toml")
    if out.exists() and not force:
        raise InputError("SPEC.toml", f"{out} exists; pass --force to overwrite it")
    acc = accelerators.get(accelerator)
    study = "".join(c if c.isalnum() or c in "_-." else "_" for c in out.stem) or "sweep"
    text = example_spec(acc, workload, study, accelerator)
    import tomllib

    spec = parse_spec(tomllib.loads(text), source=text, path=str(out.resolve()))
    problem = Problem(replace(spec, sampler="random"))  # the example validates before it is written
    if all(d.kind in ("choice", "fixed") or d.points is not None or d.step is not None or d.kind == "int"
           for d in problem.searched):  # fmt: skip
        size = problem.grid_size()
        if size < 500:  # a small finite space: every point once, not 500 trials that repeat them
            text = text.replace('sampler = "nsga2"', 'sampler = "grid"', 1).replace(
                "trials = 500  # completed trials to reach", f"trials = {size}  # the space has {size} designs", 1
            )
    write_text(text, out)
    click.echo(f"wrote {out}: {accelerator} on {workload}; edit it, then: rtsa-dse sweep {out}")

"""``rtsa-dse eval`` and ``rtsa-dse accelerators``: evaluate one design, list the accelerators."""

from __future__ import annotations

import click
import numpy as np
import pandas as pd

from dse import accelerators
from dse.accelerators.base import Evaluation
from dse.commands.output import echo_frame, echo_json, echo_text, format_option, to_builtin
from dse.commands.uncertainty_options import uncertainty_file_option, uncertainty_options
from dse.commands.workload_options import (
    WORKLOAD_HELP,
    architecture_options,
    note_free_size,
    pop_architecture,
    sparsity_option,
    sparsity_ref,
    workload_title,
)
from dse.commands.workloads import parse_resolution
from dse.errors import InputError
from dse.metrics import is_declared, metric
from dse.workloads import Workload, build, gemm_workload


def parse_sets(pairs: tuple[str, ...]) -> dict[str, object]:
    """``key=value`` pairs → dict; numbers become floats, everything else stays a string."""
    out: dict[str, object] = {}
    given: dict[str, str] = {}  # as typed, for the message
    for pair in pairs:
        if "=" not in pair:
            raise InputError("--set", f"expected key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        if key.strip() in out:
            raise InputError(
                "--set", f"{key.strip()} given twice ({given[key.strip()]} and {value.strip()}); give it once"
            )
        given[key.strip()] = value.strip()
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value.strip()
    return out


def parse_gemm(text: str) -> Workload:
    try:
        m, k, n = (int(x) for x in text.split(","))
    except ValueError:
        raise InputError("--gemm", f"expected M,K,N (three positive integers), got {text!r}") from None
    return gemm_workload(m, k, n)


def scalar(x) -> float | str:
    arr = np.asarray(x)
    return arr.item() if arr.size == 1 else arr.tolist()


#: accelerators whose model reads a sparsity table's per-op values (dse.sparsity.table): RTSA's mechanisms
TABLE_READERS = frozenset({"rtsa", "rtsa-split"})


def preset_zero_notes(acc, explicit: dict, used: dict) -> list[str]:
    """A note per parameter the user set to 0 where 0 means "the preset's value" (a CPU/GPU override): the
    preset's value ran, not zero (give a small positive value to model next to none)."""
    out = []
    for name, value in explicit.items():
        param = acc.param(name)
        if "(0 = preset" in param.source and np.all(np.asarray(value, dtype=np.float64) == 0):
            out.append(
                f"{name}=0 means the preset's value ({scalar(used.get(name, value))} {param.unit}), which "
                f"ran; to model next to none give a small positive value (e.g. {name}=0.001)"
            )
    return out


def evaluation_dict(name: str, wl: Workload, values: dict, ev: Evaluation) -> dict:
    """The JSON form of one evaluation: headline metrics, breakdowns, per-op rows."""
    m = {k: scalar(v) for k, v in ev.metrics.items()}
    mem_share = m.get("memory_bound_share", 0.0)
    return {
        "accelerator": name,
        "workload": wl.model,
        "resolution": [int(wl.height), int(wl.width)],
        "frames": int(wl.frames),
        "params": {k: scalar(v) for k, v in values.items()},
        **{k: m[k] for k in ("cycles", "latency_s", "period_s", "energy_j", "area_mm2", "valid") if k in m},
        "reasons": scalar(ev.reasons) if ev.reasons is not None else "",
        "bound": "memory" if isinstance(mem_share, float) and mem_share > 0.5 else "compute",
        "bottleneck_stage": scalar(ev.bound) if ev.bound is not None else None,
        "metrics": m,
        "breakdown": {
            "stages": {s: {k: scalar(v) for k, v in d.as_dict().items()} for s, d in ev.stages.items()},
            "energy_j": {k: scalar(v) for k, v in ev.energy.items()},
            "area_mm2": {k: scalar(v) for k, v in ev.area.items()},
        },
        "ops": [
            {k: scalar(v) if isinstance(v, np.ndarray | float) else v for k, v in r.as_dict().items()} for r in ev.ops
        ],
        "notes": list(ev.notes),
        "units": {k: metric(k).unit for k in m if is_declared(k)},
    }


@click.command("eval")
@click.option("--accelerator", "-a", required=True, help="Accelerator name (see `rtsa-dse accelerators`).")
@click.option("--workload", "-w", help=WORKLOAD_HELP)
@click.option("--gemm", help="Evaluate a single GEMM M,K,N instead of a workload.")
@click.option("--resolution", "-r", help="Input resolution R or HxW.")
@click.option("--frames", "-f", type=int, help="Input frames.")
@architecture_options()
@sparsity_option
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Set an accelerator parameter.")
@click.option("--ops/--no-ops", "show_ops", default=False, help="Table format: also print per-op rows.")
@uncertainty_options()
@format_option
def command(accelerator, workload, gemm, resolution, frames, sparsity, sets, show_ops, uncertainty, uncertainty_file,
            seed, fmt, **arch) -> None:  # fmt: skip
    """Evaluate one design on a workload (or a single GEMM): latency, energy, area, breakdowns.

    With --uncertainty N: the median and 5–95% interval of every metric over N joint samples of the declared
    uncertain inputs (`rtsa-dse accelerators` lists them; parameters you --set are not perturbed as design
    choices).
    """
    acc = accelerators.get(accelerator)
    if (workload is None) == (gemm is None):
        raise InputError("--workload", "give exactly one of --workload MODEL or --gemm M,K,N")
    explicit = parse_sets(sets)
    overrides = pop_architecture(arch)
    if gemm and (overrides or sparsity or resolution or frames):
        raise InputError("--gemm", "--resolution, --frames, architecture options and --sparsity apply to a "
                         "--workload, not a single GEMM")  # fmt: skip
    wl = parse_gemm(gemm) if gemm else build(workload, parse_resolution(resolution), frames,
                                             sparsity=sparsity_ref(sparsity, explicit), **overrides)  # fmt: skip
    if not gemm:
        note_free_size(workload, resolution, frames)
    values = acc.resolve(explicit)
    acc.refuse_beyond_limits(values)  # a physically impossible design is an input error for one evaluation
    ev = acc.evaluate(wl, values)
    name = accelerators.label(acc, explicit)  # gpu → gpu:h100: platforms named by preset
    d = evaluation_dict(name, wl, acc.effective_params(values), ev)
    ints = {q.name for q in acc.params if q.kind == "int"}  # integer parameters as integers (JSON, CSV, text)
    d["params"] = {k: int(v) if k in ints and isinstance(v, float) and v.is_integer() else v
                   for k, v in d["params"].items()}  # fmt: skip
    d["architecture"] = overrides  # the architecture options given (the header names them too)
    d["notes"] += preset_zero_notes(acc, explicit, d["params"])
    if gemm:
        op = wl.ops[0]
        d["gemm"] = {"m": int(op.m), "k": int(op.k), "n": int(op.n)}
    if uncertainty:
        from dse.commands.uncertain import eval_output

        eval_output(acc, wl, values, set(explicit), ev, d, uncertainty, uncertainty_file, seed, fmt)
        return
    if fmt == "json":
        echo_json(d)
        return
    rows = [{"stage": s, **{k: float(np.asarray(v)) for k, v in st.as_dict().items()}} for s, st in ev.stages.items()]
    if fmt == "csv":
        if show_ops:  # --ops: the per-op rows (the summary is the JSON / table output)
            echo_frame(pd.DataFrame(d["ops"]), "csv")
            return
        flat = {"accelerator": name, "workload": wl.model, "height": d["resolution"][0], "width": d["resolution"][1],
                "frames": d["frames"], **{f"arch_{k}": _param(v) for k, v in overrides.items()},
                **{k: v for k, v in d["params"].items() if k not in d["metrics"]},
                **{k: v for k, v in d["metrics"].items()}, "reasons": d["reasons"]}  # fmt: skip
        echo_frame(pd.DataFrame([flat]), "csv")
        return
    if gemm:
        click.echo(f"{name} on one GEMM: M={d['gemm']['m']} K={d['gemm']['k']} N={d['gemm']['n']} (M×K · K×N)")
    else:
        click.echo(f"{name} on {workload_title(wl.model, overrides)} {d['resolution'][0]}x{d['resolution'][1]} "
                   f"frames={d['frames']}")  # fmt: skip
    echo_text("design: " + "  ".join(f"{k}={_param(v)}" for k, v in d["params"].items()))
    knobs = [k for k in ("sparsity_linear", "sparsity_attention") if k in d["params"]]
    if sparsity and acc.name not in TABLE_READERS:
        echo_text(f"note: {name} does not read the sparsity table {sparsity} (it models neither inter-frame delta "
                  "nor sub-vector sparsity); its own parameters set its sparsity")  # fmt: skip
    elif sparsity and knobs:  # the table's per-op values replace the knobs where it has them
        verb = "applies" if len(knobs) == 1 else "apply"
        echo_text(f"note: the sparsity table {sparsity} sets per-op values; {' and '.join(knobs)} {verb} only to the "
                  "ops it leaves out")  # fmt: skip
    if d.get("valid", 1.0) < 1:
        echo_text(f"INVALID design: {d['reasons']}")
    m = d["metrics"]
    echo_text(
        f"cycles {d['cycles']:.4g}  latency {_si(d['latency_s'], 's')}  period {_si(d['period_s'], 's')}  "
        f"energy {_si(d['energy_j'], 'J')}  power {_si(m['power_w'], 'W')}  utilisation {m['utilization']:.3g}  "
        f"area {d['area_mm2']:.4g} mm²  {_bound_text(d)}"
    )
    extra = [k for k in acc.extra_metrics if k in m]
    if extra:
        echo_text("also: " + "  ".join(f"{k} {_value(k, m[k])}" for k in extra)
                  + f"  (each described by `rtsa-dse accelerators -a {acc.name}`; accuracy_drop is an estimate "
                  "fitted to published points)" * ("accuracy_drop" in extra))  # fmt: skip
    echo_frame(pd.DataFrame(rows), "table", title="per stage:")
    if any(r["compute_cycles"] > r["cycles"] * (1 + 1e-9) for r in rows):
        echo_text("(compute_cycles include SFU work that streams under the GEMM producing its input; cycles count "
                  "only the time it adds)")  # fmt: skip
    echo_text("energy (J): " + "  ".join(f"{k} {v:.3g}" for k, v in d["breakdown"]["energy_j"].items()))
    echo_text("area (mm²): " + "  ".join(f"{k} {v:.3g}" for k, v in d["breakdown"]["area_mm2"].items()))
    if show_ops and ev.ops:
        echo_frame(pd.DataFrame(d["ops"]), "table", title="per op:")
    for note in d["notes"]:
        echo_text(f"note: {note}")


def _bound_text(d: dict) -> str:
    """``memory-bound, bottleneck stage: attention``; a bottleneck that is not a stage (a GPU's kernel launches)
    is named as what bounds the time."""
    stage = d["bottleneck_stage"]
    if stage in ("linear", "attention", "other"):
        return f"{d['bound']}-bound, bottleneck stage: {stage}"
    return f"{stage}-bound" if stage else f"{d['bound']}-bound"


def _param(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _si(value: float, unit: str) -> str:
    """``value`` (in ``unit``) with an SI prefix that keeps 1–999 (e.g. 91.55 J, 3.2 ms)."""
    for prefix, scale in (("", 1.0), ("m", 1e-3), ("µ", 1e-6), ("n", 1e-9)):
        if abs(value) >= scale or scale == 1e-9:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"  # pragma: no cover


def _value(name: str, value) -> str:
    """A metric's value in its display unit (dse/metrics.py)."""
    if not is_declared(name) or not isinstance(value, int | float):
        return str(value)
    m = metric(name)
    unit = m.display_unit or m.unit
    return f"{value * m.scale:.4g}" + (f" {unit}" if unit and unit != "1" else "")


@click.command("accelerators")
@click.option("--accelerator", "-a", "only", multiple=True, metavar="NAME",
              help="Show only this accelerator (repeat for several); default: all.")  # fmt: skip
@uncertainty_file_option
@format_option
def accelerators_command(only, uncertainty_file, fmt) -> None:
    """List accelerators with every parameter, its default, unit, range, source and declared uncertainty.

    The table ends with the declared technology and calibration factors (× a cited constant) and the
    accelerators whose models read each; --uncertainty-file shows the set a file makes.
    """
    from dse.commands.uncertain import factor_frame, param_uncertainty
    from dse.uncertainty.declared import load_overrides

    declared = load_overrides(uncertainty_file)
    # a NAME:PRESET asked for is listed as that preset (its defaults; a 0 that stands for "the preset's own
    # value" shown with the value used); unknown names: a one-line error
    names = [n if ":" in n else accelerators.get(n).name for n in only] if only else accelerators.names()
    for n in names:
        accelerators.get(n)  # an unknown name or preset: its one-line error
    rows = []
    for name in names:
        acc = accelerators.get(name)
        used = acc.effective_params(acc.resolve())
        for p in acc.params:
            u = used.get(p.name, p.default)
            u = np.asarray(u).item() if np.size(u) == 1 else u
            row = {"accelerator": name, "param": p.name, "default": p.default}
            if not isinstance(u, str) and u != p.default:
                row["used"] = u  # the value a 0 stand-in takes (JSON, CSV); the table shows it beside the default
            rows.append({**row, "unit": p.unit, "allowed": p.range_text(), "source": p.source,
                         "uncertainty": param_uncertainty(declared, acc, p)})  # fmt: skip
    if fmt == "json":
        echo_json(
            {n: {"description": accelerators.get(n).description, "origin": accelerators.origin(n),
                 "params": [r for r in rows if r["accelerator"] == n],
                 "metrics": _metric_rows(accelerators.get(n)),
                 "uncertainty": [u.as_dict() for u in declared.for_accelerators([accelerators.get(n)])]}
             for n in names}
        )  # fmt: skip
        return
    if fmt == "table":
        for e in accelerators.entries():
            for n in (x for x in names if x == e.name or x.partition(":")[0] == e.name):
                origin = "" if e.origin == accelerators.BUILTIN else f"  [{e.origin}]"
                echo_text(f"{n}: {e.accelerator.description}{origin}")
        click.echo("")
    frame = pd.DataFrame(rows)
    if fmt == "table" and "used" in frame.columns:  # one column: "0 (used: 1.331)"
        has = frame["used"].notna()
        frame["default"] = frame["default"].astype(object)
        frame.loc[has, "default"] = [
            f"{d:g} (used: {u:.4g})" for d, u in zip(frame.loc[has, "default"], frame.loc[has, "used"], strict=True)
        ]
        frame = frame.drop(columns="used")
    echo_frame(frame, fmt)
    if fmt == "table" and only:  # one accelerator asked for: also the metrics it reports (dse/metrics.py)
        for name in names:
            click.echo("")
            echo_frame(pd.DataFrame(_metric_rows(accelerators.get(name))), "table", title=f"{name} reports:")
    if fmt == "table":
        click.echo("")
        echo_frame(factor_frame(declared), "table", title="declared technology and calibration factors "
                   "(× the cited constant; `--uncertainty N` samples them):")  # fmt: skip


def _metric_rows(acc) -> list[dict]:
    """The metrics ``acc`` declares, as the schema (dse/metrics.py) describes them."""
    rows = []
    for name in acc.metrics:
        m = metric(name) if is_declared(name) else None
        rows.append({"metric": name, "unit": m.unit if m else "", "direction": m.direction if m else "",
                     "description": m.description if m else "(not in the schema)"})  # fmt: skip
    return rows


__all__ = ["command", "accelerators_command", "to_builtin"]

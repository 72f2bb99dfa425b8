"""``--uncertainty N`` output of ``eval``, ``compare`` and ``breakdown``: medians and 5–95% intervals.

Each command evaluates its nominal answer as usual; with ``--uncertainty`` the same designs are evaluated
again under N joint samples of the declared inputs (:mod:`dse.uncertainty`), one vectorized call per
accelerator, and these helpers print the intervals as a table, JSON or CSV.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import click
import numpy as np
import pandas as pd

from dse.accelerators.base import Accelerator, Evaluation
from dse.commands.output import echo_frame, echo_json, echo_text
from dse.commands.workload_options import workload_title
from dse.uncertainty import montecarlo as mc
from dse.uncertainty.declared import load_overrides


def header(draws: mc.Draws, origin: str) -> dict[str, Any]:
    """What a Monte Carlo run was: samples, seed, quantiles and the inputs it sampled."""
    return {
        "samples": draws.n,
        "seed": draws.seed,
        "sampling": "Latin hypercube",
        "quantiles": list(mc.QUANTILES),
        "declared": origin,
        "inputs": mc.describe_inputs(draws),
    }


def _inputs_line(draws: mc.Draws) -> str:
    names = ", ".join(u.name for u in draws.inputs) or "none"
    return f"{draws.n} Monte Carlo samples (seed {draws.seed}) of {len(draws.inputs)} declared inputs: {names}"


def eval_output(acc: Accelerator, wl, values: Mapping[str, Any], explicit: Collection[str], ev: Evaluation,
                d: dict[str, Any], n: int, file: str | None, seed: int, fmt: str) -> None:  # fmt: skip
    """``eval --uncertainty N``: the nominal evaluation and, per metric, its median and 5–95% interval."""
    declared = load_overrides(file)
    draws = mc.sample(mc.inputs_for([acc], declared, explicit=explicit), n, seed)
    sampled = mc.evaluate(acc, wl, values, draws, explicit)
    frame = mc.interval_frame(ev, sampled)
    off = [r["metric"] for r in frame.to_dict(orient="records")
           if r["metric"] != "valid" and off_center(r["nominal"], r["p5"], r["p50"], r["p95"])]  # fmt: skip
    off.sort(key=lambda m: m not in ("latency_s", "energy_j", "area_mm2"))  # the headline first (stable)
    note = nominal_note(off, _design_inputs(draws, [acc]), "--set NAME=VALUE fixes one", _skewed_factors(draws))
    valid = np.asarray(sampled["valid"], dtype=np.float64).reshape(-1)
    if valid.size and not np.any(valid > 0.5):  # the intervals are then of designs that cannot be built
        reasons = (
            sorted({str(r) for r in np.asarray(sampled.reasons).reshape(-1) if str(r)})
            if sampled.reasons is not None
            else []
        )
        note = (f"no sample is a valid design ({'; '.join(reasons[:2]) or 'invalid'}): the intervals describe designs "
                "that cannot be built; check the declared ranges" + (f". {note}" if note else ""))  # fmt: skip
    if fmt == "json":
        d = dict(d)
        d["uncertainty"] = {
            **header(draws, declared.origin),
            "metrics": {r["metric"]: {k: r[k] for k in ("unit", "nominal", *mc.QUANTILE_NAMES)}
                        for r in frame.to_dict(orient="records")},
            "note": "for `valid` the p50 column is the share of samples in which the design is valid",
        } | ({"nominal_note": note} if note else {})  # fmt: skip
        echo_json(d)
        return
    if fmt == "csv":
        echo_frame(frame.assign(accelerator=d["accelerator"], workload=wl.model), "csv")
        return
    if "gemm" in d:
        g = d["gemm"]
        click.echo(f"{d['accelerator']} on one GEMM: M={g['m']} K={g['k']} N={g['n']} (M×K · K×N)")
    else:
        click.echo(f"{d['accelerator']} on {workload_title(wl.model, d.get('architecture', {}))} "
                   f"{d['resolution'][0]}x{d['resolution'][1]} frames={d['frames']}")  # fmt: skip
    echo_text(_inputs_line(draws))
    echo_frame(frame, "table", title="metric: nominal, 5% / median / 95% over the samples (valid: share valid)")
    if note:
        echo_text(note)


def compare_output(df: pd.DataFrame, samples: dict[str, np.ndarray], draws: mc.Draws, origin: str, title: str,
                   fmt: str, extra: dict[str, Any], accs: Sequence[Accelerator] = (),
                   fixed: Mapping[str, Collection[str]] | None = None) -> None:  # fmt: skip
    """``compare --uncertainty N``: each row's nominal value and p5/p50/p95 of latency, energy, area, average
    power and the ratios to the reference (over every sample; ``valid_share`` where some samples' designs are
    invalid, e.g. a match beyond a baseline's range); ``samples`` holds per row-key ``(accelerator, setting)``
    the sampled columns.
    ``accs``: the compared accelerators, ``fixed``: per accelerator name the parameters the user set (not
    sampled), for the note on nominal values away from the median (:func:`nominal_note`)."""
    out = intervals_frame(df, samples)
    cols = ["accelerator", "setting"]
    if "valid_share" in out.columns and (out["valid_share"] < 1).any():  # some samples' designs are invalid
        cols.append("valid_share")
    for c in ("latency_s", "energy_j", "rtsa_speedup", "rtsa_energy_ratio", "power_w"):
        cols += [c, f"{c}_p5", f"{c}_p50", f"{c}_p95"]
    recs = out.to_dict(orient="records")
    off = [f"{r['accelerator']} {r['setting']} {c}" for c in ("rtsa_speedup", "rtsa_energy_ratio", "latency_s",
           "energy_j") for r in recs if f"{c}_p50" in r and off_center(r[c], r[f"{c}_p5"], r[f"{c}_p50"],
           r[f"{c}_p95"])]  # fmt: skip
    note = nominal_note(off, _design_inputs(draws, accs, fixed), "--set NAME=VALUE (RTSA's parameters) fixes one",
                        _skewed_factors(draws))  # fmt: skip
    _emit(out, out[[c for c in cols if c in out.columns]], draws, origin, title, fmt, extra, note)


def _emit(out: pd.DataFrame, table: pd.DataFrame, draws: mc.Draws, origin: str, title: str, fmt: str,
          extra: dict[str, Any], note: str = "") -> None:  # fmt: skip
    """Rows with intervals as JSON (with the sampling header), CSV (every column) or a table (``table``);
    ``note``: a line after the table (in JSON: ``uncertainty.nominal_note``)."""
    if fmt == "json":
        head = header(draws, origin) | ({"nominal_note": note} if note else {})
        echo_json({**extra, "uncertainty": head, "rows": out.to_dict(orient="records")})
        return
    if fmt == "csv":
        echo_frame(out, "csv")
        return
    echo_text(title)
    echo_text(_inputs_line(draws))
    echo_frame(table, "table")
    if note:
        echo_text(note)


#: a nominal value more than this share of the median away from it is called far from the median
FAR_FROM_MEDIAN = 0.1


def off_center(nominal: float, p5: float, p50: float, p95: float) -> bool:
    """Whether ``nominal`` lies outside [p5, p95] or more than :data:`FAR_FROM_MEDIAN` (relative) from p50."""
    vals = np.array([nominal, p5, p50, p95], dtype=np.float64)
    if not np.all(np.isfinite(vals)):
        return False
    tol = 1e-9 * np.max(np.abs(vals))  # rounding, not a difference
    outside = nominal < p5 - tol or nominal > p95 + tol
    return bool(outside or abs(nominal - p50) > FAR_FROM_MEDIAN * abs(p50) + tol)


def _design_inputs(draws: mc.Draws, accs: Sequence[Accelerator],
                   fixed: Mapping[str, Collection[str]] | None = None) -> list[tuple[Any, Any]]:  # fmt: skip
    """The sampled ``design`` inputs that move a parameter of one of ``accs`` (those in ``fixed[name]``, the
    user's values, are not sampled), with the parameter's nominal value: (input, default)."""
    fixed = fixed or {}
    out = []
    for u in draws.inputs:
        if u.kind != "design" or u.target != "param":
            continue
        for acc in accs:
            if u.key not in {p.name for p in acc.params} or u.key in fixed.get(acc.name, ()):
                continue
            if acc.name in u.accelerators or getattr(acc.param(u.key), "uncertainty", None) is u:
                out.append((u, acc.param(u.key).default))
                break
    return out


def _skewed_factors(draws: mc.Draws) -> list[str]:
    """The sampled factor inputs whose median lies over :data:`FAR_FROM_MEDIAN` from the nominal factor 1 (a
    range skewed to one side of the cited value, e.g. ``tech.dram_energy`` loguniform(0.7, 2)), as text."""
    out = []
    for u in draws.inputs:
        if u.target == "factor" and abs(u.distribution.quantile(0.5) - 1.0) > FAR_FROM_MEDIAN:
            out.append(f"{u.name} {u.distribution.text()} (median {u.distribution.quantile(0.5):.3g})")
    return out


def nominal_note(off: Sequence[str], design: Sequence[tuple[Any, Any]], how_to_fix: str,
                 skewed: Sequence[str] = ()) -> str:  # fmt: skip
    """One line when nominal values (``off``: what lies outside its 5–95% interval or far from its median)
    differ from the sampled ones, saying why: the nominal run takes the defaults of design parameters that are
    not published, the samples draw them over their declared ranges (``design``: (input, default)), and
    ``how_to_fix`` (how ``--set`` fixes one). ``""`` when nothing is off."""
    if not off:
        return ""
    what = ", ".join(off[:4]) + (f" and {len(off) - 4} more" if len(off) > 4 else "")
    head = (f"note: the nominal value of {what} lies outside its 5–95% interval or over {FAR_FROM_MEDIAN:.0%} "
            "from its median" if len(off) == 1 else f"note: the nominal values of {what} lie outside their 5–95% "
            f"intervals or over {FAR_FROM_MEDIAN:.0%} from their medians")  # fmt: skip
    if not design:
        why = f" ({'; '.join(skewed)})" if skewed else ""
        return (f"{head}: the declared inputs' ranges are not centred on the nominal values{why}; "
                "--uncertainty-file can narrow or switch one off")  # fmt: skip
    params = "; ".join(f"{u.name} = {default:g} {_position(u.distribution, default)}{u.distribution.text()}"
                       for u, default in design)  # fmt: skip
    owners = list(dict.fromkeys(u.name.partition(".")[0] for u, _ in design))
    who = f"{' and '.join(owners)} {'does' if len(owners) == 1 else 'do'}"
    return (f"{head}: design parameters that {who} not publish are sampled over their declared ranges, "
            f"while the nominal run takes their defaults ({params}); {how_to_fix}, which is then not sampled.")  # fmt: skip


def _position(dist, value: float) -> str:
    """``at the low end of `` / ``at the high end of `` / ``in `` a distribution (outside its 10–90% span: an
    end)."""
    if value < dist.quantile(0.0) or value > dist.quantile(1.0):
        return "outside "
    if value <= dist.quantile(0.1):
        return "at the low end of "
    if value >= dist.quantile(0.9):
        return "at the high end of "
    return "in "


def intervals_frame(df: pd.DataFrame, samples: Mapping[tuple[str, str], Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """``df`` with ``{col}_p5``, ``{col}_p50``, ``{col}_p95`` after each sampled column (over every sample, valid
    or not) and, where the samples carry ``valid``, ``valid_share``: the share of them whose design is valid."""
    rows = []
    for rec in df.to_dict(orient="records"):
        per = samples.get((rec["accelerator"], rec["setting"]), {})
        row: dict[str, Any] = {}
        for k, v in rec.items():
            row[k] = v
            if k == "valid" and k in per:  # the share of samples whose design is valid (a matched one may not be)
                row["valid_share"] = float(np.mean(per[k] > 0.5))
            elif k in per:
                q = mc.quantiles(per[k])
                row.update({f"{k}_{name}": float(val) for name, val in q.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def breakdown_output(df: pd.DataFrame, sampled: pd.DataFrame, draws: mc.Draws, origin: str, title: str, fmt: str,
                     extra: dict[str, Any]) -> None:  # fmt: skip
    """``breakdown --uncertainty N``: the nominal rows with the intervals of their stage times and shares."""
    out = df.copy()
    for c in sampled.columns:
        out[c] = sampled[c].to_numpy()
    _emit(out, out, draws, origin, title, fmt, extra)


def breakdown_samples(acc: Accelerator, model: str, resolutions: np.ndarray, frames, values: Mapping[str, Any],
                      explicit: Collection[str], draws: mc.Draws, sparsity=None, **overrides) -> pd.DataFrame:  # fmt: skip
    """Per resolution (rows, in order), p5/p50/p95 of the latency, the linear and attention stage times (ms)
    and the attention share over the samples, and ``p_attention_bound``: the share of samples in which
    attention bounds. One vectorized call: resolutions (R, 1) × samples (N,)."""
    from dse.workloads import build

    wl = build(model, np.asarray(resolutions)[:, None], frames, sparsity=sparsity, **overrides)
    ev = mc.evaluate(acc, wl, values, draws, explicit)
    st = ev.stages
    shape = np.broadcast_shapes(np.shape(ev["latency_s"]), (len(resolutions), 1))
    lin, att = st["linear"]["cycles"], st["attention"]["cycles"]
    cols = {
        "latency_ms": ev["latency_s"] * 1e3,
        "linear_ms": st["linear"]["latency_s"] * 1e3,
        "attention_ms": st["attention"]["latency_s"] * 1e3,
        "attention_share": att / np.maximum(lin + att, 1e-300),
    }
    out: dict[str, np.ndarray] = {}
    for k, v in cols.items():
        q = mc.quantiles(np.broadcast_to(v, shape), axis=1)
        out.update({f"{k}_{name}": val for name, val in q.items()})
    out["p_attention_bound"] = np.mean(np.broadcast_to(att > lin, shape), axis=1)
    return pd.DataFrame(out)


def param_uncertainty(declared, acc: Accelerator, param) -> str:
    """``design: uniform(500, 1000)`` for a parameter with a declared input, else ``""``."""
    u = declared.for_param(acc.name, param.name) or getattr(param, "uncertainty", None)
    return f"{u.kind}: {u.distribution.text()}" if u is not None and u.target == "param" else ""


def factor_frame(declared) -> pd.DataFrame:
    """The declared factor inputs: name, kind, distribution, the accelerators whose models read it, source."""
    from dse import accelerators
    from dse.uncertainty.declared import fabrics

    entries = accelerators.entries()
    rows = []
    for u in declared:
        if u.target != "factor":
            continue
        users = [e.name for e in entries if u.applies_to(e.name, fabrics(e.accelerator))]
        rows.append({"input": u.name, "kind": u.kind, "distribution": u.distribution.text(), "multiplies": u.what,
                     "accelerators": ",".join(users), "source": u.source})  # fmt: skip
    return pd.DataFrame(rows)

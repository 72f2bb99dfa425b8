"""Comparisons of RTSA against the baselines on one workload scenario (pure functions; CLI in commands/).

``compare``: each accelerator at its published configuration (its documented defaults, or the preset named
as ``NAME:PRESET``, e.g. ``gpu:h100``), and at a budget matched to RTSA's (peak MAC rate, buffer, DRAM
bandwidth, clock — whichever a baseline can express). ``macs`` is RTSA's peak MAC rate (MACs/cycle × clock)
for every baseline: a CPU or GPU preset takes it as its peak, an accelerator at its own clock the MACs/cycle
that give it (with ``clock`` also matched: RTSA's clock and MACs/cycle); a CPU preset takes the buffer as its
last-level cache (:func:`matched_values`).
Speedup = baseline latency / RTSA latency; energy-efficiency ratio = baseline energy / RTSA energy.
Rows are labelled by preset (:func:`dse.accelerators.label`): ``gpu`` at its defaults is ``gpu:h100``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dse import accelerators
from dse.errors import InputError, choice_error
from dse.workloads import Workload

RESOURCES = ("macs", "buffer", "bandwidth", "clock")
#: the columns :func:`compare_samples` samples (power_w: average power = energy / latency, W)
SAMPLED = ("latency_s", "energy_j", "area_mm2", "power_w")
DEFAULT_SET = ("rtsa", "vitcod", "heatvit", "cpu:xeon16", "gpu:h100")


def parse_match(text: str | None) -> tuple[str, ...]:
    """``--match`` (None: not given) → the resources to match; given but naming none is an error."""
    if text is None:
        return ()
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    if not items:
        raise InputError("--match", f"names no resource; give any of {','.join(RESOURCES)}")
    for x in items:
        if x not in RESOURCES:
            raise choice_error("match", x, RESOURCES)
    return items


def parse_accelerators(text: str | None) -> tuple[str, ...]:
    items = DEFAULT_SET if not text else tuple(x.strip() for x in text.split(",") if x.strip())
    known = accelerators.names()
    for x in items:
        try:
            accelerators.get(x)
        except InputError:
            raise choice_error("accelerators", x, [*known, *accelerators.preset_names()]) from None
    if not items:
        raise InputError("accelerators", f"give at least one of {', '.join(known)}")
    return items


def clip_matched(acc, values: dict) -> tuple[dict, list[tuple[np.ndarray, str]]]:
    """Matched overrides ``values`` clipped into each parameter's declared range, with per side of a range
    that some point passes (mask over points, reason): a match beyond what a baseline can be set to (HeatViT
    above 1,024 columns) is an invalid point of the evaluation, not an input error. Values may be arrays."""
    out, beyond = {}, []
    for k, v in values.items():
        param = acc.param(k)
        if param.kind == "choice" or isinstance(v, str):
            out[k] = v
            continue
        a = np.asarray(v, dtype=np.float64)
        lo = -np.inf if param.low is None else param.low
        hi = np.inf if param.high is None else param.high
        for mask, worst in ((a < lo, np.min), (a > hi, np.max)):
            if np.any(mask):
                x = float(worst(a[mask]))
                shown = f"{x:,.0f}" if param.kind == "int" else f"{x:,.4g}"
                what = shown if a.ndim == 0 else f"up to {shown}" if worst is np.max else f"down to {shown}"
                beyond.append((mask, f"matched {k} {what} beyond {accelerators.label(acc)}'s range "
                                     f"{param.range_text()}"))  # fmt: skip
        if np.any((a < lo) | (a > hi)):
            c = np.clip(a, lo, hi)
            v = (int(c) if param.kind == "int" else float(c)) if c.ndim == 0 else c
        out[k] = v
    return out, beyond


def _row(name: str, setting: str, wl: Workload, values: dict) -> dict:
    acc = accelerators.get(name)
    values, beyond = clip_matched(acc, values) if setting == "matched" else (values, [])
    p = acc.resolve(values)
    ev = acc.evaluate(wl, p)
    for mask, reason in beyond:
        ev = ev.invalid_where(mask, reason)
    budget = acc.budget(p)
    rate = budget.get("mac_rate", budget.get("macs", np.nan) * budget.get("clock", np.nan) * 1e6)
    return {
        "accelerator": accelerators.label(acc, values),
        "setting": setting,
        "latency_s": float(np.asarray(ev["latency_s"])),
        "energy_j": float(np.asarray(ev["energy_j"])),
        "area_mm2": float(np.asarray(ev["area_mm2"])),
        "power_w": float(np.asarray(ev["power_w"])),  # average power = energy / latency, W
        "macs": float(np.asarray(ev["macs"])),
        "peak_macs_per_cycle": budget.get("macs", np.nan),
        "peak_gmacs_per_s": rate / 1e9,
        "buffer_kib": budget.get("buffer", np.nan),
        "dram_gbps": budget.get("bandwidth", np.nan),
        "clock_mhz": budget.get("clock", np.nan),
        "overrides": ",".join(f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}" for k, v in values.items()),
        # a matched build beyond the baseline's own limits (an FPGA's DSPs, its clock) is shown, marked invalid
        "valid": bool(np.asarray(ev["valid"]) > 0),
        "invalid_reason": str(np.asarray(ev.reasons)) if ev.reasons is not None else "",
    }


def settings(names: Sequence[str], match: Sequence[str] = (), reference: str = "rtsa",
             ref_values: dict | None = None, draws=None) -> list[tuple[str, str, dict]]:  # fmt: skip
    """(accelerator, setting, parameter values) of every row :func:`compare` evaluates.

    ``draws`` (Monte Carlo samples, :mod:`dse.uncertainty`): the reference's budget is taken in every sample
    (its sampled design inputs: array size, clock, buffer, bandwidth) and each matched row follows it, its
    matched values arrays over the samples; a baseline that keeps its own clock matches the MAC rate at its
    own sampled clock."""
    ref_values = dict(ref_values or {})
    out = []
    ref_acc = accelerators.get(reference)
    ref_budget = ref_acc.budget(ref_acc.resolve(_sampled(ref_acc, ref_values, draws)))
    for name in dict.fromkeys((reference, *names)):
        given = name == reference and bool(ref_values)  # the user's --set values: not the published default
        out.append((name, "set" if given else "default", ref_values if name == reference else {}))
        if match and name != reference:
            acc = accelerators.get(name)
            with _factors_of(draws):  # a matched CPU/GPU's fixed power share is a declared factor
                over = matched_values(acc, ref_budget, match, own=acc.resolve(_sampled(acc, {}, draws)))
            if over:
                out.append((name, "matched", over))
    return out


def _factors_of(draws):
    """The factor samples of ``draws`` in force (:func:`dse.hardware.factors.applied`), or nothing without."""
    if draws is None:
        return contextlib.nullcontext()
    from dse.hardware import factors as F

    return F.applied(draws.factors())


def _sampled(acc, values: dict, draws) -> dict:
    """``values`` with ``acc``'s sampled parameter inputs of ``draws`` applied (as evaluated under them), or
    as given without draws."""
    if draws is None:
        return values
    from dse.uncertainty import montecarlo as mc

    return mc.param_values(acc, values, set(values), draws)


def matched_values(acc, design_budget: dict, match: Sequence[str] = RESOURCES, own: dict | None = None) -> dict:
    """Overrides giving ``acc`` (a baseline, possibly ``NAME:PRESET``) the design's resources in ``match``.

    ``macs`` is the design's peak MAC rate (MACs/cycle × clock, MAC/s) for every baseline: a CPU/GPU takes
    it as its peak rate; an accelerator matched on ``clock`` too takes the design's clock and MACs/cycle;
    one that keeps its own clock (``own``: its parameter values, default: its published ones) takes
    MACs/cycle = rate / its clock, rounded to what it can build (e.g. whole PE columns). ``buffer``,
    ``bandwidth`` and ``clock`` are taken as they are. Budget values may be arrays over points (samples);
    the overrides then are too. What a baseline cannot express stays at its published value; a matched
    build beyond a device's limits (an FPGA's DSPs) is an invalid point of the evaluation, not an error."""
    target = {r: design_budget[r] for r in match if r in design_budget and r != "macs"}
    if "macs" in match and "macs" in design_budget:
        rate = design_budget.get("mac_rate")
        if rate is None and "clock" in design_budget:
            rate = np.asarray(design_budget["macs"]) * design_budget["clock"] * 1e6
        if "mac_rate" in acc.BUDGET_PARAMS and rate is not None:
            target["mac_rate"] = rate
        else:
            clock = target.get("clock")
            if clock is None:
                clock = acc.budget(acc.resolve() if own is None else own).get("clock")
            # no clock on either side: MACs per cycle as they are
            target["macs"] = design_budget["macs"] if rate is None or clock is None else rate / (clock * 1e6)
    return acc.matched({r: v for r, v in target.items() if r in acc.BUDGET_PARAMS or r == "macs"})


def compare(wl: Workload, names: Sequence[str], match: Sequence[str] = (), reference: str = "rtsa",
            ref_values: dict | None = None) -> pd.DataFrame:  # fmt: skip
    """Rows per accelerator and setting (``default``: the published configuration; ``matched`` when ``match`` is
    given: the same accelerator with the reference's resources where it can express them)."""
    rows = [_row(name, setting, wl, values) for name, setting, values in settings(names, match, reference, ref_values)]
    df = pd.DataFrame(rows)
    ref = df.iloc[0]  # settings() puts the reference's default row first
    df["rtsa_speedup"] = df["latency_s"] / ref["latency_s"]
    df["rtsa_energy_ratio"] = df["energy_j"] / ref["energy_j"]
    return df


def notes(df: pd.DataFrame) -> list[str]:
    """Caveats of a :func:`compare` frame's rows, one line each: a matched CPU/GPU keeps its published area
    (only rate, bandwidth, cache and power are matched); a matched CPU/GPU given a MAC rate or DRAM bandwidth
    above its own published one (its ``default`` row) is a hypothetical larger part; rows without a modelled
    cache (``buffer_kib`` NaN) say so."""
    out = []
    part = {r.accelerator: r for r in df[df["setting"] == "default"].itertuples()}
    matched = [r for r in df[df["setting"] == "matched"].itertuples()
               if "mac_rate" in accelerators.get(r.accelerator).BUDGET_PARAMS]  # fmt: skip
    if matched:
        out.append(f"a matched CPU/GPU ({', '.join(r.accelerator for r in matched)}) keeps its published area (only its "
                   "MAC rate, bandwidth, cache and power are matched; power_w: what it keeps), so its area_mm2 is not "
                   "comparable")  # fmt: skip
    for r in matched:
        own = part.get(r.accelerator)
        if own is None:
            continue
        over = [f"{r.peak_gmacs_per_s / own.peak_gmacs_per_s:.2f}× its MAC rate"] if r.peak_gmacs_per_s > own.peak_gmacs_per_s * (1 + 1e-9) else []  # fmt: skip
        if r.dram_gbps > own.dram_gbps * (1 + 1e-9):
            over.append(f"{r.dram_gbps / own.dram_gbps:.2f}× its DRAM bandwidth")
        if over:
            out.append(f"{r.accelerator} matched beyond the part's own peak ({', '.join(over)}; {r.power_w:.4g} W vs "
                       f"the part's own {own.power_w:.4g} W): a hypothetical larger part")  # fmt: skip
    nocache = list(dict.fromkeys(df.loc[df["buffer_kib"].isna(), "accelerator"]))
    if nocache:
        out.append(f"buffer_kib –: no cache level modelled for {', '.join(nocache)} (the GPU presets model none)")
    return out


def compare_samples(wl: Workload, names: Sequence[str], match: Sequence[str], reference: str, ref_values: dict | None,
                    draws) -> dict[tuple[str, str], dict[str, np.ndarray]]:  # fmt: skip
    """Each row of :func:`compare` under the N joint samples ``draws`` (:mod:`dse.uncertainty`), one call per
    row: per (accelerator, setting), arrays (N,) of :data:`SAMPLED` (latency, energy, area, average power),
    ``valid`` (1 where the sample's design is valid) and the per-sample ratios to the reference. Matched rows follow the reference's budget in every sample
    (:func:`settings` with ``draws``; a matched value beyond a parameter's range: clipped, the sample invalid,
    :func:`clip_matched`); the parameters a row sets (the user's ``--set``, the matched budget) are not
    perturbed as design choices."""
    from dse.uncertainty import montecarlo as mc

    out: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for name, setting, values in settings(names, match, reference, ref_values, draws):
        acc = accelerators.get(name)
        values, beyond = clip_matched(acc, values) if setting == "matched" else (values, [])
        ev = mc.evaluate(acc, wl, values, draws, explicit=set(values))
        for mask, reason in beyond:  # masks over the samples: the trailing axis
            ev = ev.invalid_where(mask, reason)
        row = {k: np.asarray(ev[k], dtype=np.float64).reshape(-1) for k in SAMPLED}
        row["valid"] = np.broadcast_to(np.asarray(ev["valid"], dtype=np.float64).reshape(-1), row[SAMPLED[0]].shape)
        out[(accelerators.label(acc, values), setting)] = row
    ref = next(iter(out.values()))  # the reference's default row comes first (settings())
    for row in out.values():
        row["rtsa_speedup"] = row["latency_s"] / ref["latency_s"]
        row["rtsa_energy_ratio"] = row["energy_j"] / ref["energy_j"]
    return out

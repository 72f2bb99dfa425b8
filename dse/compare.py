"""Comparisons of RTSA against the baselines on one workload scenario (pure functions; CLI in commands/).

``compare``: each accelerator at its documented defaults, and at a budget matched to RTSA's (peak MACs,
buffer, DRAM bandwidth, clock — whichever a baseline can express; CPUs and GPUs are fixed platforms).
Speedup = baseline latency / RTSA latency; energy-efficiency ratio = baseline energy / RTSA energy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dse import accelerators
from dse.errors import InputError, choice_error
from dse.workloads import Workload

RESOURCES = ("macs", "buffer", "bandwidth", "clock")
DEFAULT_SET = ("rtsa", "vitcod", "heatvit", "cpu", "gpu")


def parse_match(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    for x in items:
        if x not in RESOURCES:
            raise choice_error("match", x, RESOURCES)
    return items


def parse_accelerators(text: str | None) -> tuple[str, ...]:
    items = DEFAULT_SET if not text else tuple(x.strip() for x in text.split(",") if x.strip())
    known = accelerators.names()
    for x in items:
        if x not in known:
            raise choice_error("accelerators", x, known)
    if not items:
        raise InputError("accelerators", f"give at least one of {', '.join(known)}")
    return items


def _row(name: str, setting: str, wl: Workload, values: dict) -> dict:
    acc = accelerators.get(name)
    p = acc.resolve(values)
    ev = acc.evaluate(wl, p)
    budget = acc.budget(p)
    return {
        "accelerator": name,
        "setting": setting,
        "latency_s": float(np.asarray(ev["latency_s"])),
        "energy_j": float(np.asarray(ev["energy_j"])),
        "area_mm2": float(np.asarray(ev["area_mm2"])),
        "macs": float(np.asarray(ev["macs"])),
        "peak_macs_per_cycle": budget.get("macs", np.nan),
        "buffer_kib": budget.get("buffer", np.nan),
        "dram_gbps": budget.get("bandwidth", np.nan),
        "clock_mhz": budget.get("clock", np.nan),
        "overrides": ",".join(f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}" for k, v in values.items()),
    }


def settings(names: Sequence[str], match: Sequence[str] = (), reference: str = "rtsa",
             ref_values: dict | None = None) -> list[tuple[str, str, dict]]:  # fmt: skip
    """(accelerator, setting, parameter values) of every row :func:`compare` evaluates."""
    ref_values = dict(ref_values or {})
    out = []
    ref_acc = accelerators.get(reference)
    ref_budget = ref_acc.budget(ref_acc.resolve(ref_values))
    for name in dict.fromkeys((reference, *names)):
        out.append((name, "default", ref_values if name == reference else {}))
        if match and name != reference:
            target = {r: ref_budget[r] for r in match if r in ref_budget}
            over = accelerators.get(name).matched(target)
            if over:
                out.append((name, "matched", over))
    return out


def compare(wl: Workload, names: Sequence[str], match: Sequence[str] = (), reference: str = "rtsa",
            ref_values: dict | None = None) -> pd.DataFrame:  # fmt: skip
    """Rows per accelerator and setting (``default``, and ``matched`` when ``match`` is given)."""
    rows = [_row(name, setting, wl, values) for name, setting, values in settings(names, match, reference, ref_values)]
    df = pd.DataFrame(rows)
    ref = df[(df.accelerator == reference) & (df.setting == "default")].iloc[0]
    df["rtsa_speedup"] = df["latency_s"] / ref["latency_s"]
    df["rtsa_energy_ratio"] = df["energy_j"] / ref["energy_j"]
    return df


def compare_samples(wl: Workload, names: Sequence[str], match: Sequence[str], reference: str, ref_values: dict | None,
                    draws) -> dict[tuple[str, str], dict[str, np.ndarray]]:  # fmt: skip
    """Each row of :func:`compare` under the N joint samples ``draws`` (:mod:`dse.uncertainty`), one call per
    row: per (accelerator, setting), arrays (N,) of latency, energy, area and the per-sample ratios to the
    reference. Matched rows keep the budget matched to the reference's nominal design; the parameters a row
    sets (the user's ``--set``, the matched budget) are not perturbed as design choices."""
    from dse.uncertainty import montecarlo as mc

    out: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for name, setting, values in settings(names, match, reference, ref_values):
        ev = mc.evaluate(accelerators.get(name), wl, values, draws, explicit=set(values))
        out[(name, setting)] = {k: np.asarray(ev[k], dtype=np.float64).reshape(-1)
                                for k in ("latency_s", "energy_j", "area_mm2")}  # fmt: skip
    ref = out[(reference, "default")]
    for row in out.values():
        row["rtsa_speedup"] = row["latency_s"] / ref["latency_s"]
        row["rtsa_energy_ratio"] = row["energy_j"] / ref["energy_j"]
    return out

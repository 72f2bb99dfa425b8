"""Fit the calibration constants of the ``xeon16`` and ``h100`` roofline presets to the measured files.

Method: for each preset, the constants in ``FREE`` are varied (log scale, Nelder–Mead from the stored
values, restarted until it stops improving) to minimise the largest relative error |pred/meas − 1| over
every row of the file, for both per-block stages (linear_us = QKV, proj, fc1, GELU, fc2; attn_us =
QKᵀ, scale+softmax, A·V). ``eff_sdpa`` is then fitted alone to sdpa_us. The rounded results are stored
by hand in ``dse/accelerators/roofline.py``. Needs scipy (not a project dependency).

Each file is fitted at its own precision only (xeon16 fp32, h100 fp16): ``launch_us`` is the small-kernel floor
measured there. The floors at the other precisions are not fitted (there is no data): each preset derives them
from the kernels the library runs at that precision (``Platform.gemm_floor_us``, comments in the preset).

    python tools/fit_roofline.py            # fit and print constants and errors
    python tools/fit_roofline.py --check    # errors of the stored constants only
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from pathlib import Path

import numpy as np

from dse.accelerators.roofline import PLATFORMS, machine, op_cost, op_times
from dse.workloads import build

#: the measured files, shipped in the package [src:measured-h100-fp16] [src:measured-xeon16-fp32]
MEASURED = Path(__file__).resolve().parents[1] / "dse" / "data" / "measured"
FILES = {"xeon16": ("xeon16_fp32_batch1.csv", "fp32"), "h100": ("h100_fp16_batch1.csv", "fp16")}
SDPA = ("eff_sdpa", "sdpa_launches")
#: constants fitted per preset (h100: L2 not modelled; xeon16: no per-kernel memory ramp, cache size unknown)
FREE = {"xeon16": ("launch_us", "eff_mem", "eff_gemm", "gemm_half", "cache_gbps", "cache_mb"),
        "h100": ("launch_us", "eff_mem", "eff_gemm", "gemm_half", "mem_half_mb")}  # fmt: skip
LINEAR = ("linear", "activation")
ATTN = ("attn_score", "softmax", "attn_context")


def rows(preset: str) -> list[dict]:
    with open(MEASURED / FILES[preset][0]) as fh:
        return list(csv.DictReader(fh))


def predict(preset: str, table: list[dict], pf=None, attention: str = "explicit") -> dict[str, np.ndarray]:
    """Per-block linear / attention µs for every row, with platform ``pf`` (default: the stored preset)."""
    pf = pf or PLATFORMS[preset]
    prec = FILES[preset][1]
    out = {"linear": np.zeros(len(table)), "attn": np.zeros(len(table))}
    for model in sorted({r["model"] for r in table}):
        idx = [i for i, r in enumerate(table) if r["model"] == model]
        res = np.array([int(table[i]["res"]) for i in idx])
        fr = np.array([int(table[i]["frames"]) for i in idx])
        wl = build(model, res, fr)
        m = machine(preset, prec, attention, presets={preset: pf})
        for stage, kinds in (("linear", LINEAR), ("attn", ATTN)):
            ops = [op.with_(repeat=1) for op in wl.ops if op.block == "block" and op.kind in kinds]
            out[stage][idx] = sum(op_times(ops, [op_cost(op, m) for op in ops], m)) * 1e6
    return out


def errors(preset: str, table, pf=None, attention="explicit") -> dict[str, np.ndarray]:
    pred = predict(preset, table, pf, attention)
    meas_attn = "sdpa_us" if attention == "sdpa" else "attn_us"
    return {
        "linear": pred["linear"] / np.array([float(r["linear_us"]) for r in table]) - 1,
        "attn": pred["attn"] / np.array([float(r[meas_attn]) for r in table]) - 1,
    }


#: search box (log-uniform) per constant; efficiencies are fractions of peak
BOUNDS = {"launch_us": (2, 60), "eff_mem": (0.05, 1), "eff_gemm": (0.05, 1), "gemm_half": (1, 4000),
          "cache_gbps": (10, 20000), "cache_mb": (1, 200), "mem_half_mb": (0.01, 200), "eff_sdpa": (0.02, 1), "sdpa_launches": (1, 4)}  # fmt: skip


def fit(preset: str, free: tuple[str, ...] | None = None, seed: int = 0):
    """Differential evolution over log-constants (global), then Nelder–Mead polish; minimax |rel err|."""
    from scipy.optimize import differential_evolution, minimize

    free = free or FREE[preset]
    table = rows(preset)
    base = PLATFORMS[preset]

    def plat(x, names=free, pf=base):
        return dataclasses.replace(pf, **{k: float(np.exp(v)) for k, v in zip(names, x, strict=True)})

    def loss(x):
        if any(not (np.log(BOUNDS[k][0]) <= v <= np.log(BOUNDS[k][1])) for k, v in zip(free, x, strict=True)):
            return 10.0
        e = errors(preset, table, plat(x))
        return max(np.abs(e["linear"]).max(), np.abs(e["attn"]).max())

    bounds = [tuple(np.log(BOUNDS[k])) for k in free]
    r = differential_evolution(loss, bounds, seed=seed, tol=1e-6, maxiter=300, polish=False)
    r = minimize(loss, r.x, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-5, "fatol": 1e-7})
    pf = plat(r.x)

    def sdpa_loss(v):
        return np.abs(errors(preset, table, plat(v, SDPA, pf), "sdpa")["attn"]).max()

    r = differential_evolution(sdpa_loss, [tuple(np.log(BOUNDS[k])) for k in SDPA], seed=seed, tol=1e-8)
    return plat(r.x, SDPA, pf)


def report(preset: str, pf=None) -> None:
    table = rows(preset)
    for att in ("explicit", "sdpa"):
        e = errors(preset, table, pf, att)
        for stage, v in e.items():
            if att == "sdpa" and stage == "linear":
                continue
            i = int(np.argmax(np.abs(v)))
            r = table[i]
            print(
                f"  {preset} {att:8s} {stage:6s} max |rel err| {abs(v[i]):.3f} at {r['model']} {r['res']} f{r['frames']}"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    for preset in FILES:
        if a.check:
            report(preset)
            continue
        pf = fit(preset)
        print(preset, {k: float(f"{getattr(pf, k):.4g}") for k in (*FREE[preset], *SDPA)})
        report(preset, pf)


if __name__ == "__main__":
    main()

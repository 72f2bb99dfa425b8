"""Speed of rtsa-dse beside ZigZag's on the same VideoMAE-B design point, and a 10⁶-design grid end to end.

    python benchmarks/bench_perf.py                    # everything, one core for the model (a few minutes)
    python benchmarks/bench_perf.py --quick            # smaller batches and grid
    python benchmarks/bench_perf.py --only model,zigzag --json perf.json
    python benchmarks/bench_perf.py --only grid --repeat 3     # the fastest of 3 runs of each grid variant

Sections (one run prints them all):

* ``model``: rtsa-dse on full VideoMAE-B (16×224², every op of the 12 blocks) at the ``rtsa`` defaults
  (16×16 PEs × 4 lanes, 512 KiB, LPDDR4 25.6 GB/s, 500 MHz): time of one design (one call, as TPE or a
  worker on a shared storage asks), through the accelerator and through the search's
  ``Problem.evaluate``; then batches of random designs: designs/s on one core and the peak memory of a
  10⁶-design batch (``tracemalloc``, which sees numpy's buffers). ``systolic`` (dense) alongside.
* ``zigzag``: ZigZag (``pip install 'rtsa-dse[zigzag]'``, PyPI ``zigzag-dse``) on the same design point:
  a 16 × 4 × 16 operational array (rows × lanes × cols), a 512 KiB buffer, DRAM at 25.6 GB/s / 500 MHz =
  408 bits per cycle, 8-bit operands; the unique dense GEMMs of VideoMAE-B (patch embedding, qkv, QKᵀ and
  A·V batched over 12 heads, proj, fc1, fc2; the 1×768×400 classifier is left out: LOMA finds no loop
  order for M = 1 on a 16-wide unrolling). Spatial mapping fixed, temporal mapping searched by LOMA
  (``lpf_limit`` 6). ZigZag models no sparsity: the comparison is of the time to evaluate one design.
  Skipped with a note when ZigZag is not installed.
* ``grid``: ``rtsa-dse sweep`` of the 1,007,616-design grid of ``bench_sweep.py`` in this process, split
  into evaluation, exact front, trials table, study record, baselines, other outputs and figures: with the
  defaults (at this size in one process: local workers start from 16 chunks; ``--table front``; figures),
  on 2 local processes (``--jobs 2``, their start included), on a Dask LocalCluster of 2 workers (its start
  included), and in one process with the full table as partitioned
  Parquet and as CSV; plus the interpreter's start and imports (``python -c "import dse.cli"``).
  ``--repeat N`` runs each variant N times (fresh studies) and reports the fastest.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_sweep import GRID_SPACE, spec_file  # noqa: E402

from dse import accelerators  # noqa: E402
from dse.search import load_spec, run_sweep  # noqa: E402
from dse.search.runner import quiet_optuna  # noqa: E402
from dse.workloads import build  # noqa: E402

MODEL = "videomae-b"

POINT_SPEC = """
[workload]
model = "videomae-b"
resolution = 224
frames = 16

[objectives]
latency_s = "minimize"
energy_j = "minimize"

[space]
rows = { low = 4, high = 64, step = 4 }
"""


def per_call_s(fn, min_s: float = 1.0, min_reps: int = 20, repeat: int = 5) -> float:
    """Seconds per call of ``fn()``: the best of ``repeat`` rounds (each of at least ``min_reps / repeat``
    calls and ``min_s / repeat`` seconds) after one warm-up call, like ``timeit``: the least disturbed
    round on a shared machine."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        reps, t0 = 0, time.perf_counter()
        while reps < max(1, min_reps // repeat) or time.perf_counter() - t0 < min_s / repeat:
            fn()
            reps += 1
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def random_designs(acc, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    space = {
        "rows": rng.choice([4, 8, 16, 32, 64], n),
        "cols": rng.choice([4, 8, 16, 32, 64], n),
        "lanes": rng.choice([1, 2, 4, 8], n),
        "glb_kib": rng.choice([64, 128, 256, 512, 1024, 2048], n),
        "dram_gbps": rng.choice([12.8, 25.6, 51.2], n),
        "clock_mhz": rng.choice([250, 500, 800, 1000], n),
        "sparsity_linear": rng.uniform(0.3, 0.9, n),
        "sparsity_attention": rng.uniform(0.5, 0.95, n),
    }
    names = {p.name for p in acc.params}
    return {k: v for k, v in space.items() if k in names}


def bench_model(tmp: Path, quick: bool) -> dict:
    wl = build(MODEL)
    out: dict = {"workload": f"{MODEL} 16x224^2, {len(wl.ops)} unique ops"}
    rng = np.random.default_rng(0)
    batches = (1_000, 10_000, 100_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    for name in ("rtsa", "systolic"):
        acc = accelerators.get(name)
        row: dict = {"per_design_s": per_call_s(lambda acc=acc: acc.evaluate(wl, {}))}
        problem = load_spec(spec_file(tmp, f"point_{name}", name, "random", 10, POINT_SPEC))
        one = {"rows": np.array([16])}
        row["per_design_problem_s"] = per_call_s(lambda p=problem, one=one: p.evaluate(one))
        row["batched"] = []
        for n in batches:
            p = random_designs(acc, n, rng)
            dt = per_call_s(
                lambda acc=acc, p=p: acc.evaluate(wl, p), min_s=2.0 if n < 10**6 else 0.0, min_reps=3, repeat=3
            )
            row["batched"].append({"batch": n, "s_per_call": dt, "designs_per_s": n / dt})
        n = batches[-1]
        p = random_designs(acc, n, rng)
        tracemalloc.start()
        acc.evaluate(wl, p)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row["peak_mib_per_1e6"] = peak / 2**20 * (1_000_000 / n)
        out[name] = row
        print(f"  {name:8s} one design: {row['per_design_s'] * 1e3:7.3f} ms (accelerator.evaluate), "
              f"{row['per_design_problem_s'] * 1e3:7.3f} ms (Problem.evaluate, the search's path)", flush=True)  # fmt: skip
        for b in row["batched"]:
            print(f"  {name:8s} batch {b['batch']:>9,}: {b['s_per_call']:8.3f} s per call, "
                  f"{b['designs_per_s']:>12,.0f} designs/s/core, {1e6 / b['designs_per_s']:7.2f} µs per design",
                  flush=True)  # fmt: skip
        print(f"  {name:8s} peak memory {row['peak_mib_per_1e6']:,.0f} MiB per 10⁶ designs (batch of {n:,})")
    return out


def zigzag_point() -> tuple[list[dict], dict, list[dict]]:
    """ZigZag inputs (workload, hardware, mapping) of the rtsa default design point on VideoMAE-B."""
    import yaml
    import zigzag

    acc = accelerators.get("rtsa")
    d = {p.name: p.default for p in acc.params}
    root = Path(zigzag.__file__).parent / "inputs"
    hw = yaml.safe_load((root / "hardware" / "gemm_l1_l3.yaml").read_text())
    hw["name"] = "rtsa_default_point"
    hw["operational_array"]["sizes"] = [d["rows"], d["lanes"], d["cols"]]
    hw["memories"]["l1"]["size"] = int(d["glb_kib"] * 1024 * 8)  # bits
    bits_per_cycle = int(d["dram_gbps"] * 1e9 / (d["clock_mhz"] * 1e6) * 8) // 8 * 8
    for port in hw["memories"]["l3"]["ports"]:
        port["bandwidth_min"] = port["bandwidth_max"] = bits_per_cycle
    mapping = yaml.safe_load((root / "mapping" / "gemm_l1_l3.yaml").read_text())
    mapping[0]["spatial_mapping"] = {"D1": [f"D0, {d['rows']}"], "D2": [f"D2, {d['lanes']}"],
                                     "D3": [f"D1, {d['cols']}"]}  # fmt: skip
    layers = []
    for op in build(MODEL).ops:
        if not op.is_gemm or int(op.m) == 1:
            continue
        b, m, k, n = int(op.batch), int(op.m), int(op.k), int(op.n)
        prec = {"I": 8, "W": 8, "O": 32, "O_final": 8}
        if b == 1:
            layers.append({"id": len(layers), "name": op.name, "operator_type": "Gemm", "operand_precision": prec,
                           "equation": "O[d0][d1]+=I[d0][d2]*W[d2][d1]", "loop_dims": ["D0", "D1", "D2"],
                           "loop_sizes": [m, n, k]})  # fmt: skip
        else:
            layers.append({"id": len(layers), "name": op.name, "operator_type": "Gemm", "operand_precision": prec,
                           "equation": "O[b][d0][d1]+=I[b][d0][d2]*W[b][d2][d1]",
                           "loop_dims": ["B", "D0", "D1", "D2"], "loop_sizes": [b, m, n, k]})  # fmt: skip
    return layers, hw, mapping


def bench_zigzag(tmp: Path, quick: bool) -> dict:
    try:
        import importlib.metadata

        version = importlib.metadata.version("zigzag-dse")
        import logging

        import yaml
        from zigzag.api import get_hardware_performance_zigzag
    except ImportError:
        print("  ZigZag is not installed (pip install 'rtsa-dse[zigzag]'): skipped")
        return {"skipped": "zigzag-dse not installed"}
    layers, hw, mapping = zigzag_point()
    for name, obj in (("wl", layers), ("hw", hw), ("map", mapping)):
        (tmp / f"zz_{name}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))  # order = memory hierarchy
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logging.disable(logging.CRITICAL)  # ZigZag's api calls logging.basicConfig(level=INFO): undone below
    times = []
    try:
        for i in range(1 if quick else 2):
            t0 = time.perf_counter()
            get_hardware_performance_zigzag(str(tmp / "zz_wl.yaml"), str(tmp / "zz_hw.yaml"), str(tmp / "zz_map.yaml"),
                                            opt="latency", dump_folder=str(tmp / f"zz_out{i}"), lpf_limit=6,
                                            loma_show_progress_bar=False)  # fmt: skip
            times.append(time.perf_counter() - t0)
    finally:
        logging.disable(logging.NOTSET)
        root.handlers[:] = handlers
        root.setLevel(level)
    row = {"version": version, "gemms": [x["name"] for x in layers], "per_design_s": min(times)}
    print(f"  ZigZag {version}: {row['per_design_s']:.2f} s per design ({len(layers)} unique GEMMs: "
          f"{', '.join(row['gemms'])}; LOMA lpf_limit 6)", flush=True)  # fmt: skip
    return row


def side_by_side(model: dict, zz: dict) -> None:
    print("side by side, one VideoMAE-B design point (time to evaluate one design)")
    rows = [("rtsa-dse rtsa, one call", model["rtsa"]["per_design_s"])]
    rows.append(("rtsa-dse rtsa, in a batch", 1 / max(b["designs_per_s"] for b in model["rtsa"]["batched"])))
    rows.append(("rtsa-dse systolic (dense), one call", model["systolic"]["per_design_s"]))
    rows.append(("rtsa-dse systolic, in a batch", 1 / max(b["designs_per_s"] for b in model["systolic"]["batched"])))
    if "per_design_s" in zz:
        rows.append((f"ZigZag {zz['version']} (dense GEMMs, LOMA)", zz["per_design_s"]))
    for label, s in rows:
        ratio = (
            f"  ZigZag / this = {zz['per_design_s'] / s:,.0f}×"
            if "per_design_s" in zz and "ZigZag" not in label
            else ""
        )
        print(f"  {label:40s} {s * 1e6:14,.2f} µs{ratio}")
    if "skipped" in zz:
        print(f"  ZigZag: {zz['skipped']} (skipped)")


def import_s() -> float:
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import dse.cli"], check=True)
        runs.append(time.perf_counter() - t0)
    return min(runs)


def one_grid(tmp: Path, study: str, body: str, figures: bool = True, **kw) -> dict:
    from dse.plots import write_default_figures

    problem = load_spec(spec_file(tmp, study, "systolic", "grid", 1, body))
    t0 = time.perf_counter()
    with quiet_optuna():
        report = run_sweep(problem, results_dir=str(tmp / "results"), **kw)
    t1 = time.perf_counter()
    if figures:
        try:
            write_default_figures(report.out_dir)
        except Exception as err:  # the grid's own figures are not what is measured here; say so and go on
            print(f"  (figures failed: {type(err).__name__}: {err})")
    g = report.grid
    return {"designs": len(g), "engine": g.engine, "table": report.table, "front": len(report.pareto),
            **{k.replace(" ", "_") + "_s": v for k, v in report.timings.items()},
            "sweep_s": t1 - t0, "figures_s": time.perf_counter() - t1 if figures else None}  # fmt: skip


GRID_RUNS = {  # label → run_sweep options (figures only for the default run)
    "defaults": {},
    "--jobs 2": {"jobs": 2},
    "--cluster local:2": {"cluster": "local:2"},
    "--jobs 1 --table full --format parquet": {"jobs": 1, "table": "full", "fmt": "parquet"},
    "--jobs 1 --table full --format csv": {"jobs": 1, "table": "full", "fmt": "csv"},
}


def bench_grid(tmp: Path, quick: bool, repeat: int) -> dict:
    body = GRID_SPACE.replace("clock_mhz = [250, 500]", "clock_mhz = 500") if quick else GRID_SPACE
    out: dict = {"import_s": import_s()}
    print(f"  interpreter start and imports (python -c 'import dse.cli'): {out['import_s']:.2f} s")
    for i, (label, kw) in enumerate(GRID_RUNS.items()):
        if quick and "csv" in label:
            continue
        if "cluster" in kw and importlib.util.find_spec("dask.distributed") is None:
            print(f"  {label}: skipped (pip install 'rtsa-dse[dask]')")
            continue
        # a fresh study each time: a re-run of a stored grid skips the study record
        runs = [one_grid(tmp, f"grid{i}_{r}", body, figures=label == "defaults", **kw) for r in range(repeat)]
        row = min(runs, key=lambda x: x["sweep_s"])
        out[label] = row
        steps = ", ".join(f"{k[:-2].replace('_', ' ')} {v:.2f}" for k, v in row.items()
                          if k.endswith("_s") and k not in ("sweep_s", "figures_s") and v is not None)  # fmt: skip
        fig = f", figures {row['figures_s']:.2f} s" if row["figures_s"] is not None else ""
        print(f"  {label:40s} {row['designs']:,} designs on {row['engine']}, --table {row['table']}: sweep "
              f"{row['sweep_s']:.2f} s ({steps} s){fig}", flush=True)  # fmt: skip
    d = out["defaults"]
    total = out["import_s"] + d["sweep_s"] + d["figures_s"]
    named = {
        k[:-2].replace("_", " "): v for k, v in d.items() if k.endswith("_s") and k not in ("sweep_s", "figures_s")
    }
    rest = d["sweep_s"] - sum(v for v in named.values() if v is not None)
    parts = " + ".join(f"{k} {v:.2f}" for k, v in named.items() if v)
    print(f"  end to end with the defaults: {total:.1f} s = imports {out['import_s']:.2f} + {parts} + figures "
          f"{d['figures_s']:.2f} (+ {rest:.2f} s in between)")  # fmt: skip
    out["end_to_end_s"] = total
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller batches and grid")
    ap.add_argument("--only", default="model,zigzag,grid", help="comma-separated sections")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each grid variant (the fastest is reported)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    sections = args.only.split(",")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}; model timings on one core (OMP/BLAS threads = 1)")  # fmt: skip
    out: dict = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "model" in sections:
            print("rtsa-dse model on full VideoMAE-B")
            out["model"] = bench_model(tmp, args.quick)
        if "zigzag" in sections:
            print("ZigZag on the same design point")
            out["zigzag"] = bench_zigzag(tmp, args.quick)
        if "model" in sections and "zigzag" in sections:
            side_by_side(out["model"], out["zigzag"])
        if "grid" in sections:
            print("grid end to end (systolic on deit-tiny, bench_sweep.py's GRID_SPACE)")
            out["grid"] = bench_grid(tmp, args.quick, args.repeat)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()

"""Generate reference GEMM cycle counts from SCALE-Sim 3.0.0 -> tests/hardware/data/scalesim_cycles.csv.

The CSV lets the test-suite check our analytical systolic-array model against
SCALE-Sim without SCALE-Sim being installed at test time. This script is NOT
run by the tests or by CI; it is run by hand, in its own virtualenv, because
SCALE-Sim 3.0.0 needs numpy 2.3.x (it crashes on numpy 2.4 with
"only 0-dimensional arrays can be converted to Python scalars").

Reproduce (from the repository root, ~5-10 minutes on 2 cores)::

    python3 -m venv .venv-scalesim
    .venv-scalesim/bin/pip install scalesim==3.0.0 numpy==2.3.5
    .venv-scalesim/bin/python tools/scalesim_reference.py

Options: ``--out PATH`` (default tests/hardware/data/scalesim_cycles.csv), ``--jobs N``
(default 2), ``--only SUBSTRING`` (run only cases whose name contains it, for a
quick look), ``--sram-kb N`` (default 1024).

What is simulated
-----------------
* Each case is a GEMM  C[M,N] = A[M,K] @ B[K,N]  (M = tokens, K = input dim,
  N = output dim), run on one ``rows x cols`` array in each of the three
  dataflows os / ws / is.
* SCALE-Sim GEMM topology rows are ``name, M, N, K,`` (note the order and the
  trailing comma); the simulator is driven through its Python API
  (``scalesim.scale_sim.scalesim(..., save_disk_space=True,
  input_type_gemm=True)``) so no per-cycle traces are written.
* ``InterfaceBandwidth: CALC``: SCALE-Sim sizes DRAM bandwidth so that there
  are no stalls; the numbers are therefore pure compute cycles
  (``Stall Cycles`` is checked to be 0).
* SRAMs: ifmap/filter/ofmap 1024 KB each (larger than the 64 KB default, so no
  SRAM-capacity effect can creep in; in CALC mode the compute cycles were
  identical with 64 KB for the spot checks done).
* A layout CSV is mandatory even with custom layouts off; a dummy one is
  written.
* ``total_cycles`` is the "Total Cycles" column of COMPUTE_REPORT.csv
  (``scalesim.get_total_cycles()`` is broken in 3.0.0). The extra column
  ``compute_util_pct`` is the "Compute Util %" column.

Closed form implemented by SCALE-Sim 3.0.0 (checked against every row by
``closed_form_cycles`` below; see scalesim/compute/systolic_compute_{os,ws,is}.py
and memory/double_buffered_scratchpad_mem.py)::

    OS: folds = ceil(M/rows) * ceil(N/cols); cycles = folds * (K + rows + cols - 2) - 1
    WS: folds = ceil(K/rows) * ceil(N/cols); cycles = folds * (M + 2*rows + cols - 2) - 1
    IS: folds = ceil(K/rows) * ceil(M/cols); cycles = folds * (N + 2*rows + cols - 2) - 1

Every fold (partial or not) costs the same; the "-1" appears once per layer.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import multiprocessing as mp
import os
import sys
import tempfile
import time
from importlib.metadata import version as pkg_version

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "hardware", "data", "scalesim_cycles.csv")
DATAFLOWS = ("os", "ws", "is")
COLUMNS = ["M", "K", "N", "rows", "cols", "dataflow", "total_cycles", "scalesim_version", "compute_util_pct", "name"]

# (name, M, K, N) -- M = tokens, K = input features, N = output features.
SHAPES = {
    # DeiT-Tiny, 224^2 -> 197 tokens, D=192, 3 heads x 64, MLP 768
    "deit_t.qkv": (197, 192, 576),
    "deit_t.proj": (197, 192, 192),
    "deit_t.fc1": (197, 192, 768),
    "deit_t.fc2": (197, 768, 192),
    "deit.qkT_head": (197, 64, 197),  # Q K^T for one 64-dim head
    "deit.av_head": (197, 197, 64),  # A V for one 64-dim head
    # DeiT-Small, D=384, 6 heads x 64, MLP 1536
    "deit_s.qkv": (197, 384, 1152),
    "deit_s.proj": (197, 384, 384),
    "deit_s.fc1": (197, 384, 1536),
    "deit_s.fc2": (197, 1536, 384),
    # ViT at 112^2 -> 50 tokens
    "vit112_t.qkv": (50, 192, 576),
    "vit112_s.fc1": (50, 384, 1536),
    "vit112_b.qkv": (50, 768, 2304),
    "vit112_b.fc2": (50, 3072, 768),
    "vit112.qkT_head": (50, 64, 50),
    "vit112.av_head": (50, 50, 64),
    # ViT at 160^2 -> 101 tokens
    "vit160_t.fc1": (101, 192, 768),
    "vit160_s.qkv": (101, 384, 1152),
    "vit160_b.proj": (101, 768, 768),
    "vit160.qkT_head": (101, 64, 101),
    "vit160.av_head": (101, 101, 64),
    # 392-token attention (e.g. VideoMAE 8x7x7 tubelets), head dim 64
    "seq392.qkT_head": (392, 64, 392),
    "seq392.av_head": (392, 392, 64),
    # Video-Swin-T stage 1: 8x7x7 = 392-token windows, C=96, heads of 32
    "vswin_t.qkT_head": (392, 32, 392),
    "vswin_t.av_head": (392, 392, 32),
    "vswin_t.qkv": (392, 96, 288),
    "vswin_t.proj": (392, 96, 96),
    "vswin_t.fc1": (392, 96, 384),
    "vswin_t.fc2": (392, 384, 96),
}

# (shape name, rows, cols); every entry is run in os, ws and is.
# Chosen so every run stays below ~150k simulated cycles (SCALE-Sim runs at
# roughly 8-15k cycles/s).  VideoMAE patch embedding (1568x1536x768) is left
# out: even on 64x64 it needs ~500k cycles per dataflow.
CASES = [
    # 8x8
    ("deit.qkT_head", 8, 8),
    ("deit.av_head", 8, 8),
    ("vit160.qkT_head", 8, 8),
    ("vit160.av_head", 8, 8),
    ("vit112.qkT_head", 8, 8),
    ("vit112.av_head", 8, 8),
    ("vit112_t.qkv", 8, 8),
    ("deit_t.proj", 8, 8),
    # 16x16
    ("deit_t.qkv", 16, 16),
    ("deit_t.proj", 16, 16),
    ("deit_t.fc1", 16, 16),
    ("deit_t.fc2", 16, 16),
    ("seq392.qkT_head", 16, 16),
    ("vswin_t.qkv", 16, 16),
    ("vit160_t.fc1", 16, 16),
    # 32x32
    ("deit_s.proj", 32, 32),
    ("deit_s.qkv", 32, 32),
    ("vit160_s.qkv", 32, 32),
    ("vit160_b.proj", 32, 32),
    ("seq392.av_head", 32, 32),
    ("vswin_t.fc1", 32, 32),
    ("vswin_t.av_head", 32, 32),
    # 64x64
    ("deit_s.fc1", 64, 64),
    ("deit_s.fc2", 64, 64),
    ("vit112_b.qkv", 64, 64),
    ("vit112_b.fc2", 64, 64),
    ("seq392.qkT_head", 64, 64),
    ("seq392.av_head", 64, 64),
    ("vswin_t.qkT_head", 64, 64),
    ("vit112.qkT_head", 64, 64),
    # non-square
    ("deit_t.qkv", 8, 32),
    ("vswin_t.proj", 8, 32),
    ("deit.av_head", 8, 32),
    ("deit_t.proj", 32, 8),
    ("deit.qkT_head", 32, 8),
    ("deit_t.fc2", 32, 16),
    ("vswin_t.fc2", 32, 16),
    ("deit_s.proj", 16, 64),
    ("vit160_t.fc1", 16, 64),
    ("vit112_s.fc1", 16, 64),
    ("vit160.av_head", 16, 64),
]

# Array-independent SCALE-Sim settings.
CONFIG_TEMPLATE = """\
[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {sram_kb}
FilterSramSzkB: {sram_kb}
OfmapSramSzkB: {sram_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: {dataflow}
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""

# Layout CSV: layer name + 20 integers (6 intraline factors, ifmap intra/inter
# orders of 3, filter intra/inter orders of 4). Unused with custom layouts off.
LAYOUT_HEADER = (
    "Layer, IfmapH, IfmapW, FilterH, FilterW, Channels, NumFilter, "
    "IfIntra0, IfIntra1, IfIntra2, IfInter0, IfInter1, IfInter2, "
    "FiIntra0, FiIntra1, FiIntra2, FiIntra3, "
    "FiInter0, FiInter1, FiInter2, FiInter3,\n"
)
LAYOUT_ROW = "{name}, 1, 1, 1, 1, 1, 1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3,\n"


def closed_form_cycles(M: int, K: int, N: int, rows: int, cols: int, dataflow: str) -> int:
    """Cycle count SCALE-Sim 3.0.0 produces (CALC mode, no stalls)."""
    cdiv = lambda a, b: -(-a // b)  # noqa: E731
    if dataflow == "os":
        folds, stream, fill = cdiv(M, rows) * cdiv(N, cols), K, rows + cols - 2
    elif dataflow == "ws":
        folds, stream, fill = cdiv(K, rows) * cdiv(N, cols), M, 2 * rows + cols - 2
    elif dataflow == "is":
        folds, stream, fill = cdiv(K, rows) * cdiv(M, cols), N, 2 * rows + cols - 2
    else:
        raise ValueError(dataflow)
    return folds * (stream + fill) - 1


def _read_compute_report(path: str) -> dict:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    values = [v.strip() for v in rows[1]]
    return dict(zip(header, values, strict=False))


def run_one(job: tuple) -> dict:
    """Run one (GEMM, array, dataflow) case in a fresh temp dir."""
    name, M, K, N, rows, cols, dataflow, sram_kb = job
    from scalesim.scale_sim import scalesim  # imported in the worker

    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="scalesim_ref_") as tmp:
        run_name = "run"
        cfg = os.path.join(tmp, "gemm.cfg")
        topo = os.path.join(tmp, "gemm_topo.csv")
        layout = os.path.join(tmp, "gemm_layout.csv")
        layer = "gemm"
        with open(cfg, "w") as f:
            f.write(CONFIG_TEMPLATE.format(run_name=run_name, rows=rows, cols=cols, sram_kb=sram_kb, dataflow=dataflow))
        with open(topo, "w") as f:
            f.write("Layer, M, N, K,\n")
            f.write(f"{layer}, {M}, {N}, {K},\n")  # note: M, N, K order
        with open(layout, "w") as f:
            f.write(LAYOUT_HEADER)
            f.write(LAYOUT_ROW.format(name=layer))
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            sim = scalesim(
                save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout, input_type_gemm=True
            )
            sim.run_scale(top_path=os.path.join(tmp, "out"))
        rep = _read_compute_report(os.path.join(tmp, "out", run_name, "COMPUTE_REPORT.csv"))
    stalls = int(rep["Stall Cycles"])
    if stalls != 0:
        raise RuntimeError(f"{name} {rows}x{cols} {dataflow}: {stalls} stall cycles in CALC mode")
    return {
        "M": M,
        "K": K,
        "N": N,
        "rows": rows,
        "cols": cols,
        "dataflow": dataflow,
        "total_cycles": int(rep["Total Cycles"]),
        "compute_util_pct": f"{float(rep['Compute Util %']):.4f}",
        "name": name,
        "_seconds": time.time() - t0,
    }


def build_jobs(only: str | None, sram_kb: int) -> list[tuple]:
    seen = set()
    jobs = []
    for name, rows, cols in CASES:
        M, K, N = SHAPES[name]
        for df in DATAFLOWS:
            key = (M, K, N, rows, cols, df)
            if key in seen:
                raise ValueError(f"duplicate case {key}")
            seen.add(key)
            if only and only not in name:
                continue
            jobs.append((name, M, K, N, rows, cols, df, sram_kb))
    # Longest first, for load balancing.
    jobs.sort(key=lambda j: -closed_form_cycles(*j[1:7]))
    return jobs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default=None)
    ap.add_argument("--sram-kb", type=int, default=1024)
    args = ap.parse_args(argv)

    ver = pkg_version("scalesim")
    if ver != "3.0.0":
        print(f"warning: scalesim {ver} installed, reference numbers are for 3.0.0", file=sys.stderr)
    jobs = build_jobs(args.only, args.sram_kb)
    est = sum(closed_form_cycles(*j[1:7]) for j in jobs)
    print(f"{len(jobs)} runs, ~{est:,} simulated cycles, {args.jobs} processes", flush=True)

    t0 = time.time()
    results = []
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        for i, r in enumerate(pool.imap_unordered(run_one, jobs), 1):
            results.append(r)
            print(
                f"[{i:3d}/{len(jobs)}] {r['name']:18s} {r['rows']:2d}x{r['cols']:<2d} "
                f"{r['dataflow']}  {r['total_cycles']:>8,d} cycles  {r['_seconds']:6.1f}s",
                flush=True,
            )
    elapsed = time.time() - t0

    results.sort(key=lambda r: (r["rows"] * r["cols"], r["rows"], r["name"], DATAFLOWS.index(r["dataflow"])))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in results:
            w.writerow({**r, "scalesim_version": ver})

    # Check the closed form against every row.
    worst = {}
    for r in results:
        cf = closed_form_cycles(r["M"], r["K"], r["N"], r["rows"], r["cols"], r["dataflow"])
        err = abs(cf - r["total_cycles"]) / r["total_cycles"]
        worst[r["dataflow"]] = max(worst.get(r["dataflow"], 0.0), err)
    print(f"wrote {len(results)} rows to {args.out} in {elapsed:.0f}s")
    for df in DATAFLOWS:
        if df in worst:
            print(f"closed form max relative error [{df}]: {worst[df]:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

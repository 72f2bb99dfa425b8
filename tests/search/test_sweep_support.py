"""Helpers of the sweep tests: a small closed-form accelerator (``toy``), spec writing, a CLI subprocess.

The toy model is a legitimate :class:`~dse.accelerators.Accelerator`: a PE array with a buffer and a
DRAM link, a sparsity knob that trades MACs for accuracy, and an FPGA-fit flag, so that every spec
feature (choices, log ranges, mixes, constraints) has something to act on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from dse.accelerators import REGISTRY, Accelerator, Evaluation, Param, names

ROOT = Path(__file__).resolve().parents[2]


class Toy(Accelerator):
    name = "toy"
    description = "closed-form PE array for the sweep tests"
    params = (
        Param("rows", 16, "PEs", "test", "int", 1, 256),
        Param("cols", 16, "PEs", "test", "int", 1, 256),
        Param("dataflow", "os", "", "test", "choice", choices=("os", "ws", "is")),
        Param("glb_kib", 256.0, "KiB", "test", "float", 1, 65536),
        Param("dram_gbps", 25.6, "GB/s", "test", "float", 0.1, 4096),
        Param("clock_mhz", 500.0, "MHz", "test", "float", 1, 5000),
        Param("sparsity", 0.0, "", "test", "float", 0, 0.95),
    )
    #: a plug-in may report a subset of the schema's metrics: it declares exactly those
    metrics = ("cycles", "latency_s", "energy_j", "area_mm2", "macs", "dram_bytes", "utilization", "edp",
               "accuracy_drop", "fpga_fits")  # fmt: skip

    def _evaluate(self, workload, p) -> Evaluation:
        if os.environ.get("TOY_SLEEP_S"):  # a slow model, so that a killed worker dies mid-trial
            time.sleep(float(os.environ["TOY_SLEEP_S"]))
        pes = p["rows"] * p["cols"]
        eff = {"os": 0.9, "ws": 0.8, "is": 0.7}
        util_df = np.vectorize(eff.get, otypes=[float])(p["dataflow"]) if p["dataflow"].dtype.kind in "US" else 0.9
        tokens = workload.tokens.astype(float)
        fill = np.minimum(1.0, tokens / (4.0 * np.maximum(p["rows"], 1)))
        utilization = util_df * fill * np.minimum(1.0, 64.0 / np.sqrt(pes) * 0.25 + 0.5)
        macs = workload.linear_macs + workload.attention_macs * (1.0 - p["sparsity"])
        compute_cycles = macs / (pes * utilization)
        weights = workload.total("weight_elems").astype(float)
        acts = workload.total("out_elems").astype(float)
        refetch = np.maximum(1.0, acts / (p["glb_kib"] * 1024.0)) ** 0.5
        dram_bytes = weights + acts * refetch
        dram_cycles = dram_bytes / (p["dram_gbps"] * 1e9) * p["clock_mhz"] * 1e6
        cycles = np.maximum(compute_cycles, dram_cycles)
        latency = cycles / (p["clock_mhz"] * 1e6)
        area = 0.002 * pes + 0.004 * p["glb_kib"] + 0.05 * p["dram_gbps"] ** 0.5 + 0.2
        energy = macs * 0.2e-12 + dram_bytes * 20e-12 + acts * refetch * 1e-12 + 0.01 * area * latency
        metrics = {
            "cycles": cycles, "latency_s": latency, "energy_j": energy, "area_mm2": area,
            "macs": macs, "dram_bytes": dram_bytes, "utilization": utilization, "edp": energy * latency,
            "accuracy_drop": 0.02 * p["sparsity"] ** 2, "fpga_fits": (pes <= 4096) & (p["glb_kib"] <= 2048),
        }  # fmt: skip
        return Evaluation({k: np.asarray(v) for k, v in metrics.items()})


def register() -> None:
    """Add ``toy`` to the accelerator registry (idempotent)."""
    names()
    REGISTRY.setdefault("toy", Toy())


def unregister() -> None:
    """Remove ``toy`` again, so that other test modules see only the real accelerators."""
    REGISTRY.pop("toy", None)


TOY_SPEC = """
study = "{study}"
accelerator = "toy"
sampler = "{sampler}"
trials = {trials}
seed = 0

[workload]
model = "deit-tiny"

[objectives]
latency_s = "minimize"
energy_j = "minimize"
area_mm2 = "minimize"

[space]
rows = {{ low = 8, high = 128, step = 8 }}
cols = {{ low = 8, high = 128, step = 8 }}
dataflow = ["os", "ws", "is"]
glb_kib = {{ low = 32, high = 2048, log = true, points = 7 }}
dram_gbps = [12.8, 25.6, 51.2]

[constraints]
area_mm2 = {{ max = 40.0 }}
"""


def write_spec(
    tmp: Path, study: str = "toy", sampler: str = "nsga2", trials: int = 200, text: str | None = None
) -> Path:
    path = tmp / f"{study}.toml"
    path.write_text(text if text is not None else TOY_SPEC.format(study=study, sampler=sampler, trials=trials))
    return path


BOOT = "import sys; sys.path[:0] = [{tests!r}, {root!r}]; import test_sweep_support as t; t.register(); from dse import cli; sys.exit(cli.main(sys.argv[1:]))"


def cli_process(*args: str, **kw) -> subprocess.Popen:
    """The CLI in a subprocess that knows the ``toy`` accelerator."""
    code = BOOT.format(tests=str(ROOT / "tests" / "search"), root=str(ROOT))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=kw.pop("cwd", ROOT), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)  # fmt: skip

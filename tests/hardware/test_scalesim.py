"""Compute cycles against SCALE-Sim 3.0.0 reference runs (tests/hardware/data/scalesim_cycles.csv).

The CSV was produced by ``tools/scalesim_reference.py`` in its own virtualenv (SCALE-Sim needs
numpy < 2.4): ViT/VidT GEMM shapes × arrays 8×8…64×64 (square and not) × os/ws/is, CALC bandwidth mode,
"Total Cycles" from COMPUTE_REPORT.csv. The model claims exactness on these and is exact on every row, so the
tests assert equality, not a tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dse import accelerators
from dse.hardware.array import gemm_cycles
from dse.workloads import gemm_workload

REF = pd.read_csv(Path(__file__).parent / "data" / "scalesim_cycles.csv")


def test_reference_coverage():
    shapes = REF[["M", "K", "N"]].drop_duplicates()
    assert len(shapes) >= 20
    assert set(REF["dataflow"]) == {"os", "ws", "is"}
    assert REF["rows"].min() == 8 and REF["rows"].max() == 64


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_cycles_equal_scalesim(df):
    ref = REF[REF["dataflow"] == df]
    got = gemm_cycles(1, ref["M"].values, ref["K"].values, ref["N"].values, ref["rows"].values, ref["cols"].values, df)
    off = got != ref["total_cycles"].values
    assert not np.any(off), ref.assign(model=got)[off]


def test_systolic_accelerator_compute_cycles_match():
    """The accelerator (not only the equation) reports SCALE-Sim's cycles when memory is not limiting."""
    acc = accelerators.get("systolic")
    for row in REF.itertuples():
        ev = acc.evaluate(
            gemm_workload(row.M, row.K, row.N),
            {"rows": row.rows, "cols": row.cols, "dataflow": row.dataflow, "dram_gbps": 4096, "glb_kib": 4096},
        )
        assert float(ev["cycles"]) == row.total_cycles, row

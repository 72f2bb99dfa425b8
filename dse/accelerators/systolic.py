"""``systolic``: a generic dense PE array (SCALE-Sim dataflows) with one global buffer and DRAM.

Every op runs on the array (GEMMs) or the SFU (element-wise ops), one after another. This is the
reference dense design; the sparse accelerators reuse its pieces.
"""

from __future__ import annotations

from dse.accelerators.base import Accelerator, Evaluation
from dse.accelerators.common import array_params
from dse.hardware import cost
from dse.workloads import Workload


class Systolic(Accelerator):
    name = "systolic"
    description = "generic dense systolic array (os/ws/is), one global buffer, DRAM; SCALE-Sim cycle counts"
    params = array_params()
    extra_metrics = ("accuracy_drop", "accuracy_extrapolated")

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        geom = cost.ArrayGeometry.of(p)
        peak = p["rows"] * p["cols"] * p["lanes"]
        ctx = cost.asic_context(p, cost.array_area_mm2(p), peak)
        ev = cost.summarize(workload, cost.dense_stack(workload, geom, p["sfu_lanes"], ctx), ctx)
        # dense: no approximation — every MAC of the model runs, so no sparsity method's accuracy drop (0 by
        # construction, never extrapolated; quantisation is not modelled for any accelerator)
        return ev.with_metrics(accuracy_drop=0.0, accuracy_extrapolated=0.0)


ACCELERATORS = (Systolic(),)

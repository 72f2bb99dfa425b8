"""``rtsa-spad``: RTSA with a per-PE weight scratchpad — an example rtsa-dse plugin.

RTSA's vector-scalar array (``dse.accelerators.rtsa``) reads the vector operand of every unit from the
global buffer (GLB), broadcast down the R PEs of a column: ``e / R`` bytes per MAC. In the linear layers
that operand is a weight row, the same for every token, so a small SRAM in each PE can keep it:

* each PE of column c needs that column's share of the layer's weights, ``K·N·e / C`` bytes; a scratchpad
  of ``spad_kib`` holds the share ``fit = min(1, spad / (K·N·e / C))`` of them;
* resident weights are read from the GLB once (``K·N·e`` bytes, broadcast into the R scratchpads of the
  column) instead of ``MACs·e / R``: the GLB saves ``fit · (MACs·e/R − K·N·e)`` bytes per op (never below 0);
* the scratchpad is read once per MAC for its share (``fit · MACs · e``) and written when filled
  (``fit · K·N·e · R``), at the access energy of a ``spad_kib`` SRAM (CACTI table of
  ``dse.hardware.technology``); its area is ``R·C`` such SRAMs, and it leaks like the rest of the die;
* attention (no weights) and the special-function ops are unchanged; latency is unchanged (the GLB
  bandwidth is not a limit in RTSA's model).

The scratchpad energy enters :func:`dse.hardware.cost.summarize` as GLB-equivalent buffer bytes
(``bytes · E_spad / E_glb``), so the per-op, per-stage and per-component energies still add up to the total.
Model assumptions (named, configurable): the scratchpad size (``spad_kib``), and that the GLB reads of
the weight operand are ``MACs · e / R`` (RTSA's ``units · lanes · e / R`` without padding or imbalance,
so the saving is never overstated).

Install (``pip install ./examples/rtsa-scratchpad``: entry point ``rtsa_dse.accelerators``) or load
without installing: ``rtsa-dse --plugin examples/rtsa-scratchpad/rtsa_scratchpad.py eval -a rtsa-spad ...``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dse.accelerators import Param, register
from dse.accelerators.rtsa import RTSA, rtsa_work
from dse.accuracy import with_accuracy
from dse.hardware import cost
from dse.hardware import technology as tech
from dse.hardware.workstack import WorkStack

SPAD = Param(
    "spad_kib", 2.0, "KiB", "per-PE weight scratchpad [assumption]: a design choice of this example plugin",
    "float", 0.25, 64.0, help="scratchpad SRAM in each PE (holds weights of the linear layers)",
)  # fmt: skip


def with_scratchpad(w: WorkStack, p, rows, cols) -> WorkStack:
    """``w`` (RTSA's work for every op, ops on the first axis) with the weight reads of the linear layers
    served by the per-PE scratchpad.

    Buffer bytes are GLB-equivalent: scratchpad bytes × E_spad / E_glb (arrays over design points).
    """
    e = tech.lookup(p["precision"], tech.BYTES)
    has_weights = w.per_op(lambda op: float(op.is_gemm and op.b_is_weight))
    weights = w.per_op(lambda op: op.k * op.n) * e  # bytes, shared by the batch
    fit = has_weights * np.clip(p["spad_kib"] * 1024.0 / np.maximum(weights / cols, 1e-300), 0.0, 1.0)
    glb_saved = fit * np.maximum(w.macs * e / rows - weights, 0.0)
    spad_bytes = fit * (w.macs * e + weights * rows)  # reads per MAC + fills
    ratio = tech.sram_read_pj_per_byte(p["spad_kib"], p["node_nm"]) / tech.sram_read_pj_per_byte(
        p["glb_kib"], p["node_nm"]
    )
    return replace(w, sram_bytes=w.sram_bytes - glb_saved + spad_bytes * ratio)


@register
class RTSAScratchpad(RTSA):
    name = "rtsa-spad"
    description = "RTSA with a per-PE weight scratchpad (example plugin, examples/rtsa-scratchpad)"
    params = RTSA.params + (SPAD,)

    def _evaluate(self, workload, p):
        rows, cols = p["rows"], p["cols"]
        spad_area = rows * cols * tech.sram_area_mm2(p["spad_kib"], p["node_nm"])
        area = {**cost.array_area_mm2(p, augmented=True), "scratchpad": spad_area}
        ctx = cost.asic_context(p, area, rows * cols * p["lanes"])
        work = rtsa_work(workload, p, ctx).work
        ev = cost.summarize(workload, with_scratchpad(work, p, rows, cols), ctx)
        saving = workload.macs / ev.metrics["macs"]  # as RTSA: dense MACs / performed MACs
        # accuracy_drop and its accuracy_extrapolated flag (both declared by RTSA), as RTSA reports them
        ev = with_accuracy(ev, "rtsa", computation_reduction=1.0 - 1.0 / saving)
        return ev.with_metrics(computation_saving=saving)

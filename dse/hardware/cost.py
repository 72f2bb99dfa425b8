"""Compose array, memory, SFU and technology into per-op, per-stage and per-component latency and energy.

An accelerator model turns each workload op into an :class:`OpWork` (compute cycles, MACs performed,
buffer and DRAM bytes, SFU elements) and builds one :class:`CostContext` — the typed cost contract: clock,
DRAM bandwidth and energy, the energy tables resolved for its precision and node, its area by component,
its static power and the dynamic-power scale of its fabric (1 for an ASIC, the FPGA/ASIC gap for FPGA
fabric). :func:`summarize` applies one latency rule and one energy model to every accelerator:

* memory cycles = DRAM bytes / (DRAM bytes per cycle); op cycles = max(compute, memory) when transfers
  overlap compute (``overlap``), else their sum; plus any stall cycles the model adds;
* with ``sfu_overlap`` a softmax / layernorm / activation streams on the output of the GEMM that produces
  its input (the nearest GEMM before it in its block; for a repeated block, wrapping around to the block's
  last GEMM): only SFU cycles beyond that GEMM's add latency (the SFU-bound share);
* dynamic energy = scale × V² factor × [(MACs + lane ops)·E_mac + buffer bytes·E_sram + MACs·E_rf
  + SFU elems·E_sfu + cycles·E_clock] + DRAM bytes·E_dram (off-chip energy is scaled by neither);
* static energy = static power × the time one input occupies the accelerator (its period), attributed to
  ops (and so to stages) by their share of busy time;
* every per-op energy and latency adds up to its stage's, every stage's to the total.

Latency and period: ops running one after another on one array give latency = period = Σ op cycles. A
pipelined design (``ctx.pipeline``: linear (+ other) ops on one array, attention ops on another, inputs
streaming back to back) has period = max(linear side, attention side, DRAM time of both, SFU time of both
— the two arrays share one DRAM interface and one SFU pool) and latency = linear side + attention side
(one input's blocks alternate between the arrays: pipeline fill included).

Shapes: every array broadcasts over design points (``()`` for one point, ``(n,)`` or ``(n, r)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from dse.accelerators.base import Evaluation, OpCost, OpRows, StageCost
from dse.hardware import array, memory, sfu
from dse.hardware import technology as tech
from dse.hardware.factors import factor  # Monte Carlo factors (dse.uncertainty); 1 by default
from dse.hardware.workstack import WorkStack, group_ops, mode_names, op_groups
from dse.workloads import STAGES, Op, Workload

ZERO = np.zeros(())


@dataclass
class OpWork:
    """What one op costs on an accelerator, per block instance (arrays over design points)."""

    op: Op
    compute_cycles: np.ndarray
    macs: np.ndarray  # MACs actually performed (after sparsity)
    sram_bytes: np.ndarray  # on-chip buffer accesses (reads + writes), bytes
    dram_bytes: np.ndarray
    sfu_elems: np.ndarray = field(default_factory=lambda: ZERO)
    #: extra latency not hidden by overlap (e.g. pipeline stalls), cycles
    extra_cycles: np.ndarray = field(default_factory=lambda: ZERO)
    #: simple element-wise operations done on the MAC lanes (e.g. Δ subtract/compare), at one MAC's energy
    lane_ops: np.ndarray = field(default_factory=lambda: ZERO)
    #: stage this work is attributed to (defaults to the op's stage)
    stage: str | None = None
    #: execution mode chosen for the op (``dense``, ``delta``, ``subvector``, ``window``, ``sfu`` …); an array
    #: of them when the mode differs between design points (dense fallback)
    mode: str | np.ndarray = "dense"


@dataclass(frozen=True)
class ArrayGeometry:
    """A PE array for dense GEMMs: ``rows`` × ``cols`` PEs × ``lanes`` MACs, its dataflow and global buffer."""

    rows: np.ndarray
    cols: np.ndarray
    lanes: np.ndarray
    dataflow: np.ndarray  # "os" | "ws" | "is" (string array)
    glb_kib: np.ndarray
    precision: np.ndarray  # string array

    @classmethod
    def of(cls, p: Mapping[str, np.ndarray], **changes) -> ArrayGeometry:
        """From an accelerator's resolved parameters (``rows``, ``cols``, ``lanes``, ``dataflow``, ``glb_kib``,
        ``precision``), with ``changes`` overriding any of them."""
        keys = ("rows", "cols", "lanes", "dataflow", "glb_kib", "precision")
        defaults = {"lanes": np.asarray(1.0), "dataflow": np.asarray("os")}
        vals = {k: changes.get(k, p.get(k, defaults.get(k))) for k in keys}
        return cls(**{k: np.asarray(v) for k, v in vals.items()})


@dataclass(frozen=True)
class CostContext:
    """Everything :func:`summarize` needs besides the per-op work (arrays over design points, SI units).

    Build one with :func:`asic_context` or :func:`fpga_context`.
    """

    clock_hz: np.ndarray
    dram_bytes_per_s: np.ndarray
    dram_j_per_byte: np.ndarray
    mac_j: np.ndarray  # one MAC (and one simple lane op)
    rf_j_per_mac: np.ndarray  # register-file accesses per MAC
    sram_j_per_byte: np.ndarray  # global-buffer access
    sfu_j_per_elem: np.ndarray
    peak_macs_per_cycle: np.ndarray
    area_mm2: Mapping[str, np.ndarray]  # reported area by component
    static_w: np.ndarray  # static power while the accelerator is on (leakage; FPGA static floor)
    dynamic_scale: np.ndarray  # × on-chip dynamic energy: (V/V_nom)² for an ASIC, × the FPGA/ASIC power gap
    overlap: np.ndarray  # bool: DRAM transfers overlap compute
    clock_j_per_cycle: np.ndarray = field(default_factory=lambda: ZERO)  # clock tree, at nominal supply
    sfu_overlap: np.ndarray = field(default_factory=lambda: np.asarray(False))  # SFU streams on GEMM output
    #: two arrays pipelined across inputs: (share of PEs on the linear side, on the attention side)
    pipeline: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def pipelined(self) -> bool:
        return self.pipeline is not None

    @property
    def shape(self) -> tuple[int, ...]:
        """The design points this context varies over: its arrays' shapes broadcast together."""
        arrays = [v for v in self.__dict__.values() if isinstance(v, np.ndarray)]
        arrays += list(self.area_mm2.values()) + list(self.pipeline or ())
        return np.broadcast_shapes(*(np.shape(v) for v in arrays))

    @property
    def ndim(self) -> int:
        """Axes of the design points this context varies over."""
        return len(self.shape)


def asic_context(
    p: Mapping[str, np.ndarray], area_mm2: Mapping[str, np.ndarray], peak_macs_per_cycle, glb_kib=None
) -> CostContext:
    """An ASIC at ``p["node_nm"]``: technology tables (Horowitz, CACTI, DRAM table; see technology.py) at the
    supply the clock needs (alpha-power V–f law: dynamic energy × (V/V_nom)², static power × V/V_nom),
    static power = ``leakage_mw_per_mm2`` × total area, a clock tree of ``CLOCK_TREE_MAC_SHARE`` of a MAC's
    energy per lane per cycle. ``glb_kib`` sizes the buffer energy (default ``p["glb_kib"]``)."""
    node = p["node_nm"]
    glb = p["glb_kib"] if glb_kib is None else glb_kib
    e_mac = tech.mac_energy_pj(p["precision"], node) * 1e-12
    total_area = sum(area_mm2.values())
    clock = np.asarray(p["clock_mhz"], dtype=np.float64)
    peak = np.asarray(peak_macs_per_cycle, dtype=np.float64)
    return CostContext(
        clock_hz=np.asarray(p["clock_mhz"], dtype=np.float64) * 1e6,
        dram_bytes_per_s=np.asarray(p["dram_gbps"], dtype=np.float64) * 1e9,
        dram_j_per_byte=tech.dram_pj_per_byte(p["dram_type"]) * 1e-12,
        mac_j=e_mac,
        rf_j_per_mac=e_mac * tech.RF_ACCESS_PER_MAC,
        sram_j_per_byte=tech.sram_read_pj_per_byte(glb, node) * 1e-12,
        sfu_j_per_elem=sfu.energy_pj_per_elem(node) * 1e-12,
        peak_macs_per_cycle=peak,
        area_mm2=MappingProxyType(dict(area_mm2)),
        static_w=np.asarray(p["leakage_mw_per_mm2"], dtype=np.float64)
        * factor("leakage")
        * 1e-3
        * total_area
        * tech.static_voltage_scale(clock, node),
        dynamic_scale=tech.dynamic_voltage_scale(clock, node),
        overlap=np.asarray(p.get("overlap", 1.0)) > 0.5,
        clock_j_per_cycle=tech.CLOCK_TREE_MAC_SHARE * factor("clock_tree") * e_mac * peak,
        sfu_overlap=np.asarray(p.get("sfu_overlap", 0.0)) > 0.5,
    )


def fpga_context(
    p: Mapping[str, np.ndarray],
    asic_area_mm2: Mapping[str, np.ndarray],
    peak_macs_per_cycle,
    *,
    node_nm,
    power_gap,
    area_gap,
    static_w,
    glb_kib=None,
) -> CostContext:
    """FPGA fabric as a technology variant: the ASIC tables at the device's ``node_nm`` and nominal supply
    (the fabric's supply is fixed) with on-chip dynamic energy × ``power_gap`` and area × ``area_gap``
    (Kuon & Rose 2007, dse/hardware/fpga.py), DRAM energy as is, and a fixed ``static_w`` (W) instead of
    per-area leakage."""
    q = {**p, "node_nm": np.asarray(node_nm, dtype=np.float64), "leakage_mw_per_mm2": np.zeros(())}
    area = {k: v * (area_gap * factor("fpga_area_gap")) for k, v in asic_area_mm2.items()}
    ctx = asic_context(q, area, peak_macs_per_cycle, glb_kib)
    return CostContext(
        **{
            **ctx.__dict__,
            "static_w": np.asarray(static_w, dtype=np.float64) * factor("fpga_static"),
            "dynamic_scale": np.asarray(power_gap, dtype=np.float64) * factor("fpga_power_gap"),
        }
    )


def with_pipelining(ctx: CostContext, linear_share, attention_share) -> CostContext:
    """``ctx`` for two arrays pipelined across inputs holding these shares of the PEs."""
    return CostContext(**{**ctx.__dict__, "pipeline": (np.asarray(linear_share), np.asarray(attention_share))})


def op_cycles(w: WorkStack, ctx: CostContext) -> np.ndarray:
    """Cycles of one instance of each op alone (compute and DRAM overlapped or not, plus stalls), shape
    ``(n_ops,) + points``."""
    return _alone(w, ctx, w.dram_bytes / (ctx.dram_bytes_per_s / ctx.clock_hz))


def _alone(w: WorkStack, ctx: CostContext, mem_cyc: np.ndarray) -> np.ndarray:
    overlap = np.asarray(ctx.overlap)
    if overlap.ndim == 0:  # one rule for every point: compute only it
        cyc = np.maximum(w.compute_cycles, mem_cyc) if overlap else w.compute_cycles + mem_cyc
    else:
        cyc = np.where(overlap, np.maximum(w.compute_cycles, mem_cyc), w.compute_cycles + mem_cyc)
    return cyc if not np.any(w.extra_cycles) else cyc + w.extra_cycles


def op_dynamic_energy_j(w: WorkStack, ctx: CostContext) -> np.ndarray:
    """Energy one instance of each op spends on its own work: MACs, buffer, register file, SFU and DRAM (no
    clock tree and no static power, which run for as long as the accelerator is on)."""
    on_chip = (w.macs + w.lane_ops) * ctx.mac_j + w.sram_bytes * ctx.sram_j_per_byte + w.macs * ctx.rf_j_per_mac
    return ctx.dynamic_scale * (on_chip + w.sfu_elems * ctx.sfu_j_per_elem) + w.dram_bytes * ctx.dram_j_per_byte


def cheaper(dense: WorkStack, sparse: WorkStack, ctx: CostContext, hidden=0.0) -> WorkStack:
    """Dense fallback: per design point and op, ``sparse`` where it is no slower and spends no more energy than
    ``dense``; else ``dense``. The energy compared is the op's work (MACs, buffer, SFU, DRAM) and, on one array,
    the static and clock-tree energy of the cycles the sparse mode saves *for certain*: ``hidden`` is an upper
    bound on the SFU time that streams on the op's output (its consumers', :func:`summarize`), so only the
    saving beyond it, ``max(c_d, hidden) − max(c_s, hidden)``, is credited (it shortens the latency at least
    that much). A pipelined split design's period is the largest of its arrays' and its shared DRAM
    interface's totals, which one op's own time cannot see: there the sparse mode must also move no more DRAM
    bytes than dense (so no total rises), and only the work energy counts (static energy follows the period).

    Why this never lets more sparsity cost more: a sparse mode's cycles, DRAM bytes and work energy never rise
    with its sparsity once its fixed overheads (metadata, masks, Δ compares, re-reads) are on, so its credit
    never falls and an op once taken stays taken; where it is taken, its extra work energy is at most the
    static energy of cycles the latency certainly loses (one array), and no per-array or DRAM total rises
    (split)."""
    c_s, c_d = op_cycles(sparse, ctx), op_cycles(dense, ctx)
    e_s, e_d = op_dynamic_energy_j(sparse, ctx), op_dynamic_energy_j(dense, ctx)
    if not ctx.pipelined:
        idle = ctx.static_w / ctx.clock_hz + ctx.dynamic_scale * ctx.clock_j_per_cycle  # J per cycle while on
        saved = np.maximum(c_d, hidden) - np.maximum(c_s, hidden)  # ≥ 0 where c_s ≤ c_d
        e_d = e_d + idle * np.where(np.isfinite(saved), np.maximum(saved, 0.0), 0.0)
    use = (c_s <= c_d) & (e_s <= e_d) & ((c_s < c_d) | (e_s < e_d))  # a tie runs dense (no sparse bookkeeping)
    if ctx.pipelined:
        use = use & (np.asarray(sparse.dram_bytes) <= np.asarray(dense.dram_bytes))
    return dense.choose(use, sparse)


def cheaper_op(dense: OpWork, sparse: OpWork, ctx: CostContext, forced=False) -> OpWork:
    """:func:`cheaper` for one op given as :class:`OpWork` (a model that builds its work op by op); ``sparse``
    wherever ``forced`` holds (a design without the fallback)."""
    ws = cheaper(WorkStack.of([dense]), WorkStack.of([sparse]), ctx)
    if np.any(forced):
        ws = ws.choose(np.asarray(forced), WorkStack.of([sparse]))
    return OpWork(dense.op, ws.compute_cycles[0], ws.macs[0], ws.sram_bytes[0], ws.dram_bytes[0], ws.sfu_elems[0],
                  ws.extra_cycles[0], ws.lane_ops[0], stage=dense.stage, mode=mode_names(ws.mode[0]))  # fmt: skip


def dense_gemm_work(op: Op, g: ArrayGeometry, lanes=None) -> OpWork:
    """Dense GEMM on a PE array (SCALE-Sim cycles, mapper DRAM traffic, SCALE-Sim-style SRAM traffic)."""
    e = tech.lookup(g.precision, tech.BYTES)
    acc = tech.lookup(g.precision, tech.ACC_BYTES)
    lanes = g.lanes if lanes is None else lanes
    cyc = array.gemm_cycles(op.batch, op.m, op.k, op.n, g.rows, g.cols, g.dataflow, lanes)
    a_r, b_r, o_rw = array.sram_traffic_elems(op.batch, op.m, op.k, op.n, g.rows, g.cols, g.dataflow, lanes)
    dram = memory.gemm_dram_bytes(op.batch, op.m, op.k, op.n, e, acc, g.glb_kib * 1024.0, op.b_is_weight)
    sram = (a_r + b_r) * e + o_rw * acc + dram  # array reads/writes + DRAM fills/drains of the buffer
    return OpWork(op, cyc, op.macs.astype(np.float64), sram, dram)


def sfu_work(op: Op, sfu_lanes, elems=None) -> OpWork:
    """Element-wise op on the special-function unit, fused on the GEMM output stream (no DRAM)."""
    elems = op.out_elems.astype(np.float64) if elems is None else elems
    cyc = sfu.cycles(op.member_kinds or op.kind, elems, sfu_lanes)
    return OpWork(op, cyc, ZERO, ZERO, ZERO, sfu_elems=elems, mode="sfu")


def dense_work(op: Op, g: ArrayGeometry, sfu_lanes) -> OpWork:
    return dense_gemm_work(op, g) if op.is_gemm else sfu_work(op, sfu_lanes)


def _dense_key(op: Op):
    """What :func:`dense_work` branches on (GEMM or SFU op, weight or activation operand)."""
    return op.is_gemm, op.b_is_weight


def dense_stack(workload: Workload, g: ArrayGeometry, sfu_lanes, ctx: CostContext, ops=None) -> WorkStack:
    """:func:`dense_work` of every op of ``workload`` (or of ``ops``, a list a model builds per call), the ops
    alike costed as one stacked op (:func:`dse.hardware.workstack.op_groups`)."""
    shapes = [np.shape(v) for v in g.__dict__.values()] + [np.shape(sfu_lanes), workload.shape]
    shapes += [np.shape(op.m) for op in ops or ()]
    ndim = max(len(np.broadcast_shapes(*shapes)), ctx.ndim)
    groups = op_groups(workload, _dense_key, ndim) if ops is None else group_ops(ops, _dense_key, ndim)
    return WorkStack.concat(
        [WorkStack.group(dense_work(op, g, sfu_lanes), members, idx, ndim) for idx, members, op in groups]
    )


def area_mm2(pes, glb_kib, sfu_lanes, precision, node_nm, lanes=1, augmented: bool = False) -> dict[str, np.ndarray]:
    """Area by component (mm²): ``pes`` PEs of ``lanes`` MAC lanes (per-lane MAC area + per-PE logic,
    ``augmented`` with RTSA's index/Δ logic), a ``glb_kib`` global buffer, ``sfu_lanes`` SFU lanes."""
    return {
        "pe": tech.array_pe_area_mm2(pes, lanes, precision, node_nm, augmented),
        "buffer": tech.sram_area_mm2(glb_kib, node_nm),
        "sfu": sfu_lanes * sfu.lane_area_mm2(node_nm),
    }


def array_area_mm2(p: Mapping[str, np.ndarray], augmented: bool = False) -> dict[str, np.ndarray]:
    """Area of a ``rows × cols`` array of ``lanes``-wide PEs with its global buffer and SFU."""
    return area_mm2(p["rows"] * p["cols"], p["glb_kib"], p["sfu_lanes"], p["precision"], p["node_nm"],
                    p.get("lanes", 1), augmented)  # fmt: skip


def summarize(workload: Workload, works: Sequence[OpWork] | WorkStack, ctx: CostContext) -> Evaluation:
    """Latency, period, energy, area and their breakdowns (by op, stage and component) from per-op work.

    ``works``: one :class:`OpWork` per op, or a :class:`~dse.hardware.workstack.WorkStack` of them. See the
    module docstring for the rules. Shapes broadcast over design points; every per-op quantity is one array
    with the ops on its first axis; op and stage totals are products with the repeat counts per op and stage.
    """
    st = works if isinstance(works, WorkStack) else WorkStack.of(works)
    st = st.with_point_axes(max(len(workload.shape), ctx.ndim))
    r, sr = st.repeat, st.stage_repeat

    def total(a):  # Σ over ops × repeat → points
        return (r @ a.reshape(a.shape[0], -1)).reshape(a.shape[1:])

    def total_rows(rows, a):  # Σ over some rows (a: those rows' values) × repeat → points
        if not len(rows):
            return np.zeros(a.shape[1:])
        return (r[rows] @ a.reshape(len(rows), -1)).reshape(a.shape[1:])

    def per_stage(a):  # (stage,) + points
        return (sr @ a.reshape(a.shape[0], -1)).reshape(sr.shape[:1] + a.shape[1:])

    k = ctx.dynamic_scale
    mem_cyc = st.dram_bytes / (ctx.dram_bytes_per_s / ctx.clock_hz)
    alone = _alone(st, ctx, mem_cyc)
    # SFU work: only the rows that have some (the element-wise ops), as a (rows,) + points mask
    sfu_rows = np.flatnonzero(np.any(st.sfu_elems.reshape(st.n_ops, -1) > 0, axis=1))
    is_sfu = st.sfu_elems[sfu_rows] > 0
    prod = st.producers[sfu_rows]
    cyc = alone
    if np.any(prod >= 0) and np.any(ctx.sfu_overlap):
        # streaming on the producer's output: only the SFU time beyond the producer's adds latency
        fed, rows = sfu_rows[prod >= 0], prod[prod >= 0]
        beyond = np.maximum(alone[fed] - alone[rows], 0.0)
        value = np.where(np.asarray(ctx.sfu_overlap) & is_sfu[prod >= 0], beyond, alone[fed])
        cyc = np.array(np.broadcast_to(alone, alone.shape[:1] + np.broadcast_shapes(alone.shape[1:], value.shape[1:])))
        cyc[fed] = value
    sfu_busy = np.where(is_sfu, st.compute_cycles[sfu_rows], 0.0)  # SFU pool busy cycles (hidden or not)
    sfu_total = total_rows(sfu_rows, sfu_busy)
    dram_total = total(mem_cyc)

    busy_s = per_stage(cyc)
    busy = busy_s[0] + busy_s[1] + busy_s[2]
    if ctx.pipeline is not None:
        share_a, share_b = ctx.pipeline
        side_a = busy_s[0] + busy_s[2]  # linear + other
        side_b = busy_s[1]  # attention
        period = np.maximum(np.maximum(side_a, side_b), np.maximum(dram_total, sfu_total))
        cycles = side_a + side_b  # one input alone: its blocks alternate between the two arrays
        stall = period - np.minimum(side_a, side_b)  # the faster array's wait per period
        stall_share = (share_a * (period - side_a) + share_b * (period - side_b)) / period  # idle PE share
    else:
        period = cycles = busy
        stall = stall_share = ZERO
    latency = cycles / ctx.clock_hz
    period_s = period / ctx.clock_hz
    # static power and the clock tree run for as long as one input occupies the accelerator (its period)
    static_j = ctx.static_w * period_s + k * ctx.clock_j_per_cycle * period
    static_per_busy = static_j / np.maximum(busy, 1e-300)
    clock_share = k * ctx.clock_j_per_cycle * period / np.maximum(static_j, 1e-300)

    macs_s = per_stage(st.macs)
    dram_s = per_stage(st.dram_bytes)
    parts_s = {  # energy by component, (stage,) + points
        "mac": k * ctx.mac_j * per_stage(st.macs + st.lane_ops),
        "buffer": k * (ctx.sram_j_per_byte * per_stage(st.sram_bytes) + ctx.rf_j_per_mac * macs_s),
        "dram": ctx.dram_j_per_byte * dram_s,
        "sfu": k * ctx.sfu_j_per_elem * per_stage(st.sfu_elems),
    }
    idle_s = busy_s * static_per_busy  # static + clock-tree energy attributed by busy time
    energy_s = sum(parts_s.values()) + idle_s
    idle = idle_s[0] + idle_s[1] + idle_s[2]
    comp = {c: v[0] + v[1] + v[2] for c, v in parts_s.items()}
    comp["clock"] = idle * clock_share
    comp["leakage"] = idle * (1.0 - clock_share)
    compute_s, memory_s = per_stage(st.compute_cycles), per_stage(mem_cyc)
    stages = {
        s: StageCost(
            cycles=busy_s[i], latency_s=busy_s[i] / ctx.clock_hz, energy_j=energy_s[i],
            compute_cycles=compute_s[i], memory_cycles=memory_s[i], macs=macs_s[i], dram_bytes=dram_s[i],
        )
        for i, s in enumerate(STAGES)
    }  # fmt: skip
    energy = sum(comp.values())
    macs = macs_s[0] + macs_s[1] + macs_s[2]
    total_area = sum(ctx.area_mm2.values())
    frames = np.asarray(workload.frames, dtype=np.float64)
    denom = np.maximum(busy, 1e-300)
    metrics = {
        "cycles": cycles,
        "latency_s": latency,
        "period_s": period_s,
        "inputs_per_s": 1.0 / period_s,
        "frames_per_s": frames / period_s,
        "energy_j": energy,
        "area_mm2": total_area,
        "macs": macs,
        "dense_macs": workload.macs.astype(np.float64),
        "dram_bytes": dram_s[0] + dram_s[1] + dram_s[2],
        "utilization": macs / np.maximum(period * ctx.peak_macs_per_cycle, 1.0),
        "edp": energy * latency,
        "power_w": energy / period_s,
        "memory_bound_share": total(np.where(mem_cyc > st.compute_cycles, cyc, 0.0)) / denom,
        "sfu_bound_share": total_rows(sfu_rows, np.where(is_sfu, cyc[sfu_rows], 0.0)) / denom,
        "linear_latency_s": stages["linear"].latency_s,
        "attention_latency_s": stages["attention"].latency_s,
        "attention_share": stages["attention"].cycles / denom,
        "stall_cycles": stall,
        "stall_share": stall_share,
        "valid": np.ones(()),
    }
    bound = np.where(stages["attention"].cycles > stages["linear"].cycles, "attention", "linear")

    def rows() -> list[OpCost]:
        # static + clock-tree energy follows busy time; per-op energies add up to their stage's
        e_op = (
            k
            * (
                (st.macs + st.lane_ops) * ctx.mac_j
                + st.sram_bytes * ctx.sram_j_per_byte
                + st.macs * ctx.rf_j_per_mac
                + st.sfu_elems * ctx.sfu_j_per_elem
            )
            + st.dram_bytes * ctx.dram_j_per_byte
            + cyc * static_per_busy
        )
        out = []
        for i in np.argsort(st.order, kind="stable"):
            op, rep = st.ops[i], float(r[i])
            out.append(OpCost(
                block=op.block, op=op.name, kind=op.kind, role=op.role, stage=st.stages[i], repeat=op.repeat,
                mode=mode_names(st.mode[i]), macs=rep * st.macs[i], cycles=rep * cyc[i],
                latency_s=rep * cyc[i] / ctx.clock_hz, energy_j=rep * e_op[i],
                compute_cycles=rep * st.compute_cycles[i], memory_cycles=rep * mem_cyc[i],
                dram_bytes=rep * st.dram_bytes[i],
            ))  # fmt: skip
        return out

    return Evaluation.build(workload, metrics, stages, comp, dict(ctx.area_mm2), bound, OpRows(rows))

"""Compose array, memory, SFU and technology into per-op, per-stage and per-component latency and energy.

An accelerator model turns each workload op into an :class:`OpWork` (compute cycles, MACs performed,
buffer and DRAM bytes, SFU elements) and builds one :class:`CostContext` — the typed cost contract: clock,
DRAM bandwidth and energy, the energy tables resolved for its precision and node, its area by component,
its static power and the dynamic-power scale of its fabric (1 for an ASIC, the FPGA/ASIC gap for FPGA
fabric). :func:`summarize` applies one latency rule and one energy model to every accelerator:

* memory cycles = DRAM bytes / (DRAM bytes per cycle); op cycles = max(compute, memory) when transfers
  overlap compute (``overlap``), else their sum; plus any stall cycles the model adds;
* dynamic energy = scale × [(MACs + lane ops)·E_mac + buffer bytes·E_sram + MACs·E_rf + SFU elems·E_sfu]
  + DRAM bytes·E_dram (off-chip energy is not scaled by the fabric);
* static energy = static power × latency, attributed to ops (and so to stages) by their share of busy time;
* every per-op energy and latency adds up to its stage's, every stage's to the total.

Shapes: every array broadcasts over design points (``()`` for one point, ``(n,)`` or ``(n, r)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from dse.accelerators.base import Evaluation, OpCost, StageCost
from dse.hardware import array, memory, sfu
from dse.hardware import technology as tech
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
    #: execution mode chosen for the op (``dense``, ``delta``, ``subvector``, ``window``, ``sfu`` …)
    mode: str = "dense"


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
    dynamic_scale: np.ndarray  # × on-chip dynamic energy: 1 for an ASIC, the FPGA/ASIC power gap for fabric
    overlap: np.ndarray  # bool: DRAM transfers overlap compute
    #: linear (+ other) ops and attention ops run on two arrays pipelined across blocks/frames
    pipelined: bool = False


def asic_context(
    p: Mapping[str, np.ndarray], area_mm2: Mapping[str, np.ndarray], peak_macs_per_cycle, glb_kib=None
) -> CostContext:
    """An ASIC at ``p["node_nm"]``: technology tables (Horowitz, CACTI, DRAM table; see technology.py),
    static power = ``leakage_mw_per_mm2`` × total area. ``glb_kib`` sizes the buffer energy (default
    ``p["glb_kib"]``)."""
    node = p["node_nm"]
    glb = p["glb_kib"] if glb_kib is None else glb_kib
    e_mac = tech.mac_energy_pj(p["precision"], node) * 1e-12
    total_area = sum(area_mm2.values())
    return CostContext(
        clock_hz=np.asarray(p["clock_mhz"], dtype=np.float64) * 1e6,
        dram_bytes_per_s=np.asarray(p["dram_gbps"], dtype=np.float64) * 1e9,
        dram_j_per_byte=tech.dram_pj_per_byte(p["dram_type"]) * 1e-12,
        mac_j=e_mac,
        rf_j_per_mac=e_mac * tech.RF_ACCESS_PER_MAC,
        sram_j_per_byte=tech.sram_read_pj_per_byte(glb, node) * 1e-12,
        sfu_j_per_elem=sfu.energy_pj_per_elem(node) * 1e-12,
        peak_macs_per_cycle=np.asarray(peak_macs_per_cycle, dtype=np.float64),
        area_mm2=MappingProxyType(dict(area_mm2)),
        static_w=np.asarray(p["leakage_mw_per_mm2"], dtype=np.float64) * 1e-3 * total_area,
        dynamic_scale=np.ones(()),
        overlap=np.asarray(p.get("overlap", 1.0)) > 0.5,
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
    """FPGA fabric as a technology variant: the ASIC tables at the device's ``node_nm`` with on-chip dynamic
    energy × ``power_gap`` and area × ``area_gap`` (Kuon & Rose 2007, dse/hardware/fpga.py), DRAM energy
    as is, and a fixed ``static_w`` (W) instead of per-area leakage."""
    q = {**p, "node_nm": np.asarray(node_nm, dtype=np.float64), "leakage_mw_per_mm2": np.zeros(())}
    area = {k: v * area_gap for k, v in asic_area_mm2.items()}
    ctx = asic_context(q, area, peak_macs_per_cycle, glb_kib)
    return CostContext(
        **{
            **ctx.__dict__,
            "static_w": np.asarray(static_w, dtype=np.float64),
            "dynamic_scale": np.asarray(power_gap, dtype=np.float64),
        }
    )


def with_pipelining(ctx: CostContext) -> CostContext:
    return CostContext(**{**ctx.__dict__, "pipelined": True})


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
    cyc = sfu.cycles(op.kind, elems, sfu_lanes)
    return OpWork(op, cyc, ZERO, ZERO, ZERO, sfu_elems=elems, mode="sfu")


def dense_work(op: Op, g: ArrayGeometry, sfu_lanes) -> OpWork:
    return dense_gemm_work(op, g) if op.is_gemm else sfu_work(op, sfu_lanes)


def area_mm2(pes, glb_kib, sfu_lanes, precision, node_nm) -> dict[str, np.ndarray]:
    """Area by component (mm²): ``pes`` MAC lanes, a ``glb_kib`` global buffer, ``sfu_lanes`` SFU lanes."""
    return {
        "pe": pes * tech.pe_area_mm2(precision, node_nm),
        "buffer": tech.sram_area_mm2(glb_kib, node_nm),
        "sfu": sfu_lanes * sfu.lane_area_mm2(node_nm),
    }


def array_area_mm2(p: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Area of a ``rows × cols × lanes`` array with its global buffer and SFU, from resolved parameters."""
    pes = p["rows"] * p["cols"] * p.get("lanes", 1)
    return area_mm2(pes, p["glb_kib"], p["sfu_lanes"], p["precision"], p["node_nm"])


def summarize(workload: Workload, works: list[OpWork], ctx: CostContext) -> Evaluation:
    """Latency, energy, area and their breakdowns (by op, stage and component) from per-op work.

    By default the ops run one after another on one array (latency = Σ op cycles). With
    ``ctx.pipelined`` the linear (+ other) ops and the attention ops run on two arrays pipelined across
    blocks / frames: the steady-state time per input is the slower side, and the faster side stalls for
    the difference (``stall_cycles``).
    """
    bytes_per_cycle = ctx.dram_bytes_per_s / ctx.clock_hz
    k = ctx.dynamic_scale
    per_op = []
    for w in works:
        r = w.op.repeat
        mem_cyc = w.dram_bytes / bytes_per_cycle
        cyc = np.where(ctx.overlap, np.maximum(w.compute_cycles, mem_cyc), w.compute_cycles + mem_cyc)
        cyc = cyc + w.extra_cycles
        parts = {
            "mac": k * (w.macs + w.lane_ops) * ctx.mac_j,
            "buffer": k * (w.sram_bytes * ctx.sram_j_per_byte + w.macs * ctx.rf_j_per_mac),
            "dram": w.dram_bytes * ctx.dram_j_per_byte,
            "sfu": k * w.sfu_elems * ctx.sfu_j_per_elem,
        }
        per_op.append((w, r, cyc, mem_cyc, parts))

    busy_by_stage = {s: ZERO for s in STAGES}
    for w, r, cyc, _, _ in per_op:
        s = w.stage or w.op.stage
        busy_by_stage[s] = busy_by_stage[s] + r * cyc
    busy = sum(busy_by_stage.values())
    if ctx.pipelined:
        side_a = busy_by_stage["linear"] + busy_by_stage["other"]
        side_b = busy_by_stage["attention"]
        cycles = np.maximum(side_a, side_b)
        stall = np.abs(side_a - side_b)
    else:
        cycles = busy
        stall = ZERO
    latency = cycles / ctx.clock_hz
    static_j = ctx.static_w * latency
    static_per_busy = static_j / np.maximum(busy, 1e-300)  # J per busy cycle: static attributed by busy time

    comp = {c: ZERO for c in ("mac", "buffer", "dram", "sfu", "leakage")}
    acc = {s: {f: ZERO for f in ("cycles", "compute_cycles", "memory_cycles", "macs", "dram_bytes", "energy_j")}
           for s in STAGES}  # fmt: skip
    mem_bound, sfu_bound = ZERO, ZERO
    rows = []
    for w, r, cyc, mem_cyc, parts in per_op:
        s = w.stage or w.op.stage
        leak = r * cyc * static_per_busy
        e_op = r * sum(parts.values()) + leak
        for c, v in parts.items():
            comp[c] = comp[c] + r * v
        comp["leakage"] = comp["leakage"] + leak
        a = acc[s]
        a["cycles"] = a["cycles"] + r * cyc
        a["compute_cycles"] = a["compute_cycles"] + r * w.compute_cycles
        a["memory_cycles"] = a["memory_cycles"] + r * mem_cyc
        a["macs"] = a["macs"] + r * w.macs
        a["dram_bytes"] = a["dram_bytes"] + r * w.dram_bytes
        a["energy_j"] = a["energy_j"] + e_op
        mem_bound = mem_bound + r * np.where(mem_cyc > w.compute_cycles, cyc, 0.0)
        sfu_bound = sfu_bound + r * np.where(np.asarray(w.sfu_elems) > 0, cyc, 0.0)
        rows.append(
            OpCost(
                block=w.op.block, op=w.op.name, kind=w.op.kind, role=w.op.role, stage=s, repeat=r, mode=w.mode,
                macs=r * w.macs, cycles=r * cyc, latency_s=r * cyc / ctx.clock_hz, energy_j=e_op,
                compute_cycles=r * w.compute_cycles, memory_cycles=r * mem_cyc, dram_bytes=r * w.dram_bytes,
            )
        )  # fmt: skip
    stages = {
        s: StageCost(latency_s=a["cycles"] / ctx.clock_hz, **a)  # type: ignore[arg-type]
        for s, a in acc.items()
    }
    energy = sum(comp.values())
    macs = sum(a["macs"] for a in acc.values())
    total_area = sum(ctx.area_mm2.values())
    period = latency  # one input occupies the accelerator for its latency (pipelined: the slower side)
    frames = np.asarray(workload.frames, dtype=np.float64)
    metrics = {
        "cycles": cycles,
        "latency_s": latency,
        "period_s": period,
        "inputs_per_s": 1.0 / period,
        "frames_per_s": frames / period,
        "energy_j": energy,
        "area_mm2": total_area,
        "macs": macs,
        "dense_macs": workload.macs.astype(np.float64),
        "dram_bytes": sum(a["dram_bytes"] for a in acc.values()),
        "utilization": macs / np.maximum(cycles * ctx.peak_macs_per_cycle, 1.0),
        "edp": energy * latency,
        "power_w": energy / latency,
        "memory_bound_share": mem_bound / np.maximum(busy, 1e-300),
        "sfu_bound_share": sfu_bound / np.maximum(busy, 1e-300),
        "linear_latency_s": stages["linear"].latency_s,
        "attention_latency_s": stages["attention"].latency_s,
        "attention_share": stages["attention"].cycles / np.maximum(busy, 1e-300),
        "stall_cycles": stall,
        "stall_share": stall / cycles,
        "valid": np.ones(()),
    }
    bound = np.where(stages["attention"].cycles > stages["linear"].cycles, "attention", "linear")
    return Evaluation.build(workload, metrics, stages, comp, dict(ctx.area_mm2), bound, rows)

"""Compose array, memory, SFU and technology into per-op and per-stage latency, energy and area.

An accelerator model turns each workload op into an :class:`OpWork` (cycles of compute, MACs actually
performed, buffer and DRAM bytes, SFU elements); :func:`summarize` applies one latency rule and one
energy/area model to all of them, so every accelerator is costed the same way:

* memory cycles = DRAM bytes / (``dram_gbps`` / clock); op cycles = max(compute, memory) when
  transfers overlap compute (``overlap`` = 1), else their sum; the op is compute- or memory-bound.
* energy = (MACs + lane element-wise ops)·E_mac + buffer bytes·E_sram(capacity) + MACs·E_rf + DRAM bytes·E_dram
  + SFU elements·E_sfu + leakage power · latency.
* area = PEs·A_pe + SRAM(capacity) + SFU lanes·A_sfu.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dse.accelerators.base import Evaluation
from dse.hardware import array, memory, sfu
from dse.hardware import technology as tech
from dse.workloads import STAGES, Op, Workload


@dataclass
class OpWork:
    """What one op costs on an accelerator, per block instance (arrays over design points)."""

    op: Op
    compute_cycles: np.ndarray
    macs: np.ndarray  # MACs actually performed (after sparsity)
    sram_bytes: np.ndarray  # on-chip buffer accesses (reads + writes), bytes
    dram_bytes: np.ndarray
    sfu_elems: np.ndarray = field(default_factory=lambda: np.zeros(()))
    #: extra latency not hidden by overlap (e.g. pipeline stalls), cycles
    extra_cycles: np.ndarray = field(default_factory=lambda: np.zeros(()))
    #: simple element-wise operations done on the MAC lanes (e.g. Δ subtract/compare), at one MAC's energy
    lane_ops: np.ndarray = field(default_factory=lambda: np.zeros(()))
    #: stage this work is attributed to (defaults to the op's stage)
    stage: str | None = None


def dense_gemm_work(op: Op, hw: dict[str, np.ndarray], lanes=None) -> OpWork:
    """Dense GEMM on the PE array (SCALE-Sim cycles, mapper DRAM traffic, SCALE-Sim-style SRAM traffic)."""
    e = tech.lookup(hw["precision"], tech.BYTES)
    acc = tech.lookup(hw["precision"], tech.ACC_BYTES)
    lanes = hw.get("lanes", 1) if lanes is None else lanes
    cyc = array.gemm_cycles(op.batch, op.m, op.k, op.n, hw["rows"], hw["cols"], hw["dataflow"], lanes)
    a_r, b_r, o_rw = array.sram_traffic_elems(op.batch, op.m, op.k, op.n, hw["rows"], hw["cols"], hw["dataflow"], lanes)
    dram = memory.gemm_dram_bytes(op.batch, op.m, op.k, op.n, e, acc, hw["glb_kib"] * 1024.0, op.b_is_weight)
    sram = (a_r + b_r) * e + o_rw * acc + dram  # array reads/writes + DRAM fills/drains of the buffer
    return OpWork(op, cyc, op.macs.astype(np.float64), sram, dram)


def sfu_work(op: Op, hw: dict[str, np.ndarray]) -> OpWork:
    """Element-wise op on the special-function unit, fused on the GEMM output stream (no DRAM)."""
    elems = op.out_elems.astype(np.float64)
    cyc = sfu.cycles(op.kind, elems, hw["sfu_lanes"])
    return OpWork(op, cyc, np.zeros(()), np.zeros(()), np.zeros(()), sfu_elems=elems)


def dense_work(op: Op, hw: dict[str, np.ndarray]) -> OpWork:
    return dense_gemm_work(op, hw) if op.is_gemm else sfu_work(op, hw)


def area_mm2(hw: dict[str, np.ndarray], pes=None, glb_kib=None) -> dict[str, np.ndarray]:
    """Area by component (mm²): PE array, global buffer, SFU lanes."""
    pes = hw["rows"] * hw["cols"] * hw.get("lanes", 1) if pes is None else pes
    glb = hw["glb_kib"] if glb_kib is None else glb_kib
    return {
        "pe": pes * tech.pe_area_mm2(hw["precision"], hw["node_nm"]),
        "buffer": tech.sram_area_mm2(glb, hw["node_nm"]),
        "sfu": hw["sfu_lanes"] * sfu.lane_area_mm2(hw["node_nm"]),
    }


def summarize(
    workload: Workload,
    works: list[OpWork],
    hw: dict[str, np.ndarray],
    area: dict[str, np.ndarray],
    peak_macs_per_cycle,
    pipelined: bool = False,
) -> Evaluation:
    """Latency, energy, area and breakdowns from per-op work.

    By default the ops run one after another on one array (latency = Σ op cycles). ``pipelined``: the
    linear (+ other) ops and the attention ops run on two separate arrays pipelined across blocks /
    frames; the steady-state time per inference is the slower side, and the faster side stalls for the
    difference (``stall_cycles``).
    """
    clock_hz = hw["clock_mhz"] * 1e6
    bytes_per_cycle = hw["dram_gbps"] * 1e9 / clock_hz
    overlap = np.asarray(hw.get("overlap", 1.0)) > 0.5
    e_mac = tech.mac_energy_pj(hw["precision"], hw["node_nm"]) * 1e-12
    e_sram = tech.sram_read_pj_per_byte(hw["glb_kib"], hw["node_nm"]) * 1e-12
    e_dram = tech.dram_pj_per_byte(hw["dram_type"]) * 1e-12
    e_sfu = sfu.energy_pj_per_elem(hw["node_nm"]) * 1e-12

    zero = np.zeros(())
    stage = {
        s: {k: zero.copy() for k in ("cycles", "compute_cycles", "memory_cycles", "macs", "dram_bytes", "energy_j")}
        for s in STAGES
    }
    comp = {c: zero.copy() for c in ("mac", "buffer", "dram", "sfu", "leakage")}
    mem_bound_cycles = zero.copy()
    rows = []
    for w in works:
        r = w.op.repeat
        mem_cyc = w.dram_bytes / bytes_per_cycle
        cyc = np.where(overlap, np.maximum(w.compute_cycles, mem_cyc), w.compute_cycles + mem_cyc) + w.extra_cycles
        s = stage[w.stage or w.op.stage]
        s["cycles"] = s["cycles"] + r * cyc
        s["compute_cycles"] = s["compute_cycles"] + r * w.compute_cycles
        s["memory_cycles"] = s["memory_cycles"] + r * mem_cyc
        s["macs"] = s["macs"] + r * w.macs
        s["dram_bytes"] = s["dram_bytes"] + r * w.dram_bytes
        e_parts = {
            "mac": (w.macs + w.lane_ops) * e_mac,
            "buffer": w.sram_bytes * e_sram + w.macs * e_mac * tech.RF_ACCESS_PER_MAC,
            "dram": w.dram_bytes * e_dram,
            "sfu": w.sfu_elems * e_sfu,
        }
        for c, v in e_parts.items():
            comp[c] = comp[c] + r * v
            s["energy_j"] = s["energy_j"] + r * v
        mem_bound_cycles = mem_bound_cycles + r * np.where(mem_cyc > w.compute_cycles, cyc, 0.0)
        rows.append(
            {
                "block": w.op.block,
                "op": w.op.name,
                "kind": w.op.kind,
                "stage": w.stage or w.op.stage,
                "repeat": r,
                "macs": r * w.macs,
                "cycles": r * cyc,
                "compute_cycles": r * w.compute_cycles,
                "memory_cycles": r * mem_cyc,
                "dram_bytes": r * w.dram_bytes,
            }
        )  # fmt: skip; arrays, converted by whoever prints them
    if pipelined:
        side_a = stage["linear"]["cycles"] + stage["other"]["cycles"]
        side_b = stage["attention"]["cycles"]
        cycles = np.maximum(side_a, side_b)
        stall = np.abs(side_a - side_b)
    else:
        cycles = sum(stage[s]["cycles"] for s in STAGES)
        stall = np.zeros(())
    latency = cycles / clock_hz
    total_area = sum(area.values())
    leak_w = hw["leakage_mw_per_mm2"] * 1e-3 * total_area
    comp["leakage"] = leak_w * latency
    busy = sum(stage[s]["cycles"] for s in STAGES)
    for s in STAGES:  # leakage attributed to stages by their share of busy time
        stage[s]["latency_s"] = stage[s]["cycles"] / clock_hz
        stage[s]["energy_j"] = stage[s]["energy_j"] + comp["leakage"] * stage[s]["cycles"] / np.maximum(busy, 1.0)
    energy = sum(comp.values())
    macs = sum(stage[s]["macs"] for s in STAGES)
    bound = np.where(stage["attention"]["cycles"] > stage["linear"]["cycles"], "attention", "linear")
    metrics = {
        "cycles": cycles,
        "latency_s": latency,
        "energy_j": energy,
        "area_mm2": total_area,
        "macs": macs,
        "dram_bytes": sum(stage[s]["dram_bytes"] for s in STAGES),
        "utilization": macs / np.maximum(cycles * peak_macs_per_cycle, 1.0),
        "edp": energy * latency,
        "power_w": energy / latency,
        "memory_bound_share": mem_bound_cycles / cycles,
        "linear_latency_s": stage["linear"]["latency_s"],
        "attention_latency_s": stage["attention"]["latency_s"],
        "attention_share": stage["attention"]["cycles"] / cycles,
        "throughput_fps": 1.0 / latency,
        "stall_cycles": stall,
        "stall_share": stall / cycles,
    }
    shape = np.broadcast_shapes(np.shape(workload.height), *(np.shape(v) for v in metrics.values()))

    def full(d: dict) -> dict:
        return {k: v if np.shape(v) == shape else np.broadcast_to(v, shape) for k, v in d.items()}

    return Evaluation(
        metrics=full(metrics),
        stages={s: full(v) for s, v in stage.items()},
        energy=full(comp),
        area=full(area),
        bound=np.broadcast_to(bound, shape),
        ops=rows,
    )

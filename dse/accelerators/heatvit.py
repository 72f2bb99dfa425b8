"""``heatvit``: HeatViT (Dong et al., HPCA 2023) — adaptive token pruning on an FPGA GEMM engine.

Mechanism [src:heatvit2023]: token selectors inserted before chosen blocks keep a fraction of the tokens;
the pruned ones are merged into one package token; everything runs in 8-bit fixed point on one GEMM
engine of DSP MAC lanes (Xilinx ZCU102) that also executes the selectors. Model:

* the isotropic block group (``block`` / ``spatial``) is unrolled into one op set per block; block ``b``
  sees ``tokens · Π keep_i`` over the selectors placed at or before it (``select_i_at`` · depth). Video
  models are pruned per frame with the same ratios: token-wise ops and spatial/joint attention shrink
  their sequences, temporal attention (``t_`` ops) shrinks its number of spatial positions.
* each selector (when its keep ratio is < 1) costs a per-head MLP over its input tokens —
  Linear(d, d/2) local embedding, then Linear(d, d/2) → Linear(d/2, d/4) → Linear(d/4, 2) on the
  [local, global-mean] concatenation, GELUs and a 2-way softmax — plus the package token's weighted
  sum over the pruned tokens. Selector work is booked in the ``other`` stage.
* every GEMM runs on the ``rows × cols`` array (SCALE-Sim cycles), nonlinear ops on the SFU, as in
  ``systolic``; energy uses the same technology tables at the FPGA's node, with on-chip dynamic energy
  scaled by the FPGA/ASIC power gap and a fixed static power; DSP and BRAM use are checked against
  the device budget.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dse.accelerators.base import Accelerator, Evaluation, Limit, Param
from dse.accelerators.common import array_params
from dse.hardware import cost, fpga
from dse.hardware import technology as tech
from dse.workloads import Op, Workload
from dse.workloads import ops as O

_SCHED = "[R] third-party re-implementation YOUXINYANG/HeatViT: DeiT-T 197 → 88 → 45 → 32 tokens [src:heatvit-reimpl]"
_POS = "[R] YOUXINYANG/HeatViT README: selectors before blocks 4, 7, 10 (1-indexed) of 12 [src:heatvit-reimpl]"
_DS891 = "[V] Xilinx DS891 [src:xilinx-ds891]: XCZU9EG (ZCU102)"
_KR = "[V] Kuon & Rose, 'Measuring the Gap Between FPGAs and ASICs' (abstract) [src:kuon-rose2007]"

#: BRAM36 capacity: 912 BRAM36 = 32.1 Mb on XCZU9EG → 36 Kb = 4.5 KiB each [V, DS891] [src:xilinx-ds891]
BRAM36_KIB = 4.5
#: widest BRAM36 port, bits (Xilinx UG573, UltraScale memory resources) [R] [src:xilinx-ug573]
BRAM36_PORT_BITS = 72


def _params() -> tuple[Param, ...]:
    sh = {p.name: p for p in array_params()}
    asm = "[assumption] HeatViT's GEMM array size is not published ([NF] [src:heatvit2023]); ~80% of the DSPs"
    return (
        Param("keep1", round(88 / 197, 6), "fraction", _SCHED, "float", 0.01, 1.0,
              help="tokens kept by selector 1 (of its input, CLS and package token included); 1 = no selector"),
        Param("keep2", round(45 / 88, 6), "fraction", _SCHED, "float", 0.01, 1.0, help="tokens kept by selector 2"),
        Param("keep3", round(32 / 45, 6), "fraction", _SCHED, "float", 0.01, 1.0, help="tokens kept by selector 3"),
        Param("select1_at", 0.25, "fraction of depth", _POS, "float", 0.0, 1.0,
              help="selector 1 runs before block round(select1_at · depth) (0-indexed)"),
        Param("select2_at", 0.5, "fraction of depth", _POS, "float", 0.0, 1.0),
        Param("select3_at", 0.75, "fraction of depth", _POS, "float", 0.0, 1.0),
        replace(sh["rows"], default=32, source=asm),
        replace(sh["cols"], default=64, source=asm),
        sh["dataflow"],
        replace(sh["glb_kib"], default=2048,
                source="[assumption] half of ZCU102's 912 BRAM36 × 4.5 KiB = 4,104 KiB [src:xilinx-ds891]"),
        replace(sh["dram_gbps"], default=19.2,
                source="[R] ZCU102 PS DDR4-2400 64-bit SODIMM: 2400 MT/s × 8 B = 19.2 GB/s [src:xilinx-ug1182]"),
        replace(sh["dram_type"], default="ddr4",
                source="ZCU102 DDR4 [R] [src:xilinx-ug1182]; pJ/bit [src:dram-energy-estimates]"),
        replace(sh["clock_mhz"], default=200,
                source="[V] a ZCU102 ViT design runs at 200 MHz [src:efficientvit-fpga2024]; HeatViT's [NF]"),
        replace(sh["precision"], default="int8", source="[V] HeatViT: 8-bit fixed point [src:heatvit2023]"),
        replace(sh["node_nm"], default=16, source="[R] XCZU9EG is TSMC 16 nm FinFET [src:xilinx-ds891]"),
        replace(sh["sfu_lanes"], default=32,
                source="[assumption] polynomial GELU/softmax units (HeatViT) at one per two PE columns"),
        sh["overlap"],
        Param("macs_per_dsp", 1, "MACs/DSP",
              "1 = one int8 MAC per DSP48E2 (conservative); 2 = two int8 MACs sharing an operand per DSP48E2 "
              "[R] Xilinx WP486 [src:xilinx-wp486]", "int", 1, 2),
        Param("dsp_overhead", 0.11, "fraction",
              "[V] HeatViT abstract: token selector support costs 8–11% more DSPs than the baseline accelerator "
              "(upper end) [src:heatvit2023]", "float", 0.0, 1.0),
        Param("dsp_budget", 2520, "DSP48E2", _DS891 + ": 2,520 DSP48E2", "int", 1, 100000),
        Param("bram_budget", 912, "BRAM36", _DS891 + ": 912 BRAM36", "int", 1, 100000),
        Param("fpga_power_factor", fpga.POWER_GAP, "×",
              "dse/hardware/fpga.py: FPGA/ASIC dynamic power with hard DSP/BRAM blocks [R] [src:kuon-rose2007]",
              "float", 1.0, 100.0),
        Param("fpga_area_factor", fpga.AREA_GAP, "×",
              "dse/hardware/fpga.py: FPGA/ASIC area with hard blocks [src:kuon-rose2007]", "float", 1.0, 100.0,
              help="reported area = ASIC-equivalent area × this"),
        Param("static_w", fpga.STATIC_W, "W",
              "dse/hardware/fpga.py: SoC static floor from the poster's measured 1.552 W [src:windowed-poster]; "
              "XCZU9EG's own figure [NF]", "float", 0.0, 100.0),
    )  # fmt: skip


def _scaled(n, frac):
    """``n`` scaled by a keep fraction, rounded, at least 1 (int64 arrays)."""
    return np.maximum(np.round(np.asarray(n, dtype=np.float64) * frac), 1).astype(np.int64)


def _prune_op(op: Op, frac, block: str) -> Op:
    """One block instance of ``op`` with its tokens scaled by ``frac`` (per frame)."""
    if op.role in ("qk", "softmax", "av"):
        if op.temporal:  # temporal attention: fewer spatial positions, same sequence
            return op.with_(block=block, repeat=1, batch=_scaled(op.batch, frac))
        ch = {"m": _scaled(op.m, frac)}
        if op.role in ("qk", "softmax"):
            ch["n"] = _scaled(op.n, frac)
        else:
            ch["k"] = _scaled(op.k, frac)
        return op.with_(block=block, repeat=1, **ch)
    return op.with_(block=block, repeat=1, m=_scaled(op.m, frac))


def _selector_ops(i: int, tokens_in, pruned, dim: int, heads: int) -> list[Op]:
    """Selector ``i``: per-head MLP keep/prune classifier and the package token (HeatViT §token selector).

    Per-head layers are block-diagonal, so a Linear(d, d/2) on every head is a (D → H·d/2) GEMM with
    D·d/2 weights; widths d/2, d/4, 2 follow the re-implementation (YOUXINYANG/HeatViT docs §12.1) [R].
    """
    dh = dim // heads
    b = f"selector{i}"
    sel = {"role": "selector"}
    return [
        O.linear(b, 1, "sel_local", tokens_in, dim, heads * (dh // 2), **sel),  # Linear(d, d/2) per head
        O.linear(b, 1, "sel_mlp1", tokens_in, dim, heads * (dh // 2), **sel),  # [local, global] → d/2
        O.linear(b, 1, "sel_mlp2", tokens_in, heads * (dh // 2), heads * (dh // 4), **sel),
        O.linear(b, 1, "sel_mlp3", tokens_in, heads * (dh // 4), heads * 2, **sel),
        Op("sel_gelu", "activation", b, 1, 1, tokens_in, 0, heads * (dh // 2 + dh // 2 + dh // 4), **sel),
        Op("sel_softmax", "softmax", b, 1, heads, tokens_in, 0, 2, **sel),
        # package token: keep-score-weighted mean of the pruned tokens (one MAC per pruned element)
        O.linear(b, 1, "package", 1, np.maximum(pruned, 1), dim, **sel),
    ]


def selectors_ordered(p) -> np.ndarray:
    """Per point: the selector positions are in order (select1_at ≤ select2_at ≤ select3_at)."""
    at = [np.asarray(p[f"select{i}_at"], dtype=np.float64) for i in (1, 2, 3)]
    return (at[0] <= at[1]) & (at[1] <= at[2])


def pruned_ops(workload: Workload, p) -> tuple[list[Op], list[tuple[Op, np.ndarray]], np.ndarray]:
    """The workload's ops with token pruning applied; selector ops with their 0/1 activity; final tokens.

    Selector positions are taken in sorted order, so an out-of-order design point still gets numbers
    (:class:`HeatViT` marks it invalid).
    """
    keeps = [np.asarray(p[f"keep{i}"], dtype=np.float64) for i in (1, 2, 3)]
    raw = np.broadcast_arrays(*(np.asarray(p[f"select{i}_at"], dtype=np.float64) for i in (1, 2, 3)))
    srt = np.sort(np.stack(raw), axis=0)
    at = [srt[0], srt[1], srt[2]]
    spec = workload.spec
    tokens0 = np.asarray(workload.tokens, dtype=np.float64)
    out: list[Op] = []
    selectors: list[tuple[Op, np.ndarray]] = []
    final = tokens0
    done_blocks: set[str] = set()
    for op in workload.ops:
        if not op.prunable:
            out.append(op)
            continue
        if op.block in done_blocks:
            continue
        done_blocks.add(op.block)
        group = [o for o in workload.ops if o.block == op.block and o.prunable]
        depth = group[0].repeat
        pos = [np.round(a * depth) for a in at]
        # the block's token count: the input of its first token-wise GEMM (qkv, or fc1)
        first = next(o for o in group if o.role in ("qkv", "q", "fc1", "temporal_fc"))
        tokens_grp = np.asarray(first.m, dtype=np.float64)
        frac_in = np.ones(())
        for i, (k, b_i) in enumerate(zip(keeps, pos, strict=True), start=1):
            active = ((k < 1.0) & (b_i < depth)).astype(np.float64)
            n_in = _scaled(tokens_grp, frac_in)
            n_out = _scaled(tokens_grp, frac_in * k)
            for s_op in _selector_ops(i, n_in, n_in - n_out, spec.dim, spec.heads):
                selectors.append((s_op, active))
            frac_in = frac_in * np.where(b_i < depth, k, 1.0)
        for b in range(depth):
            frac = np.ones(())
            for k, b_i in zip(keeps, pos, strict=True):
                frac = frac * np.where(b >= b_i, k, 1.0)
            out += [_prune_op(o, frac, f"{o.block}{b}") for o in group]
        final = _scaled(tokens0, frac)
    return out, selectors, final


def fpga_resources(p) -> dict[str, np.ndarray]:
    """DSP and BRAM36 use of the GEMM engine and its buffers, and whether they fit the device."""
    lanes = np.asarray(p["rows"] * p["cols"], dtype=np.float64)
    dsp = np.ceil(lanes / p["macs_per_dsp"] * (1.0 + p["dsp_overhead"]))
    bits = tech.lookup(p["precision"], tech.BYTES) * 8
    # capacity, or enough ports to feed one A row and one B column per cycle (ping-pong), whichever is more
    bram = np.maximum(
        np.ceil(p["glb_kib"] / BRAM36_KIB), 2 * np.ceil((p["rows"] + p["cols"]) * bits / BRAM36_PORT_BITS)
    )
    fits = (dsp <= p["dsp_budget"]) & (bram <= p["bram_budget"])
    return {"dsp": dsp, "bram": bram, "fpga_fits": fits.astype(np.float64)}


class HeatViT(Accelerator):
    name = "heatvit"
    description = (
        "HeatViT (HPCA'23): attention-based token selectors + package token, int8 GEMM engine on a "
        "ZCU102 FPGA (DSP/BRAM budget), FPGA power gap"
    )
    params = _params()
    extra_metrics = ("computation_reduction", "selector_macs", "tokens_final", "dsp", "bram", "fpga_fits")

    def limits(self, p) -> list[Limit]:
        """ZCU102's DSP48E2 clock limit (dse/hardware/fpga.py ``FMAX_MHZ``)."""
        fmax = fpga.FMAX_MHZ["zcu102"]
        return [
            Limit("clock_mhz", np.asarray(p["clock_mhz"]) > fmax, f"clock above ZCU102's DSP maximum ({fmax:.0f} MHz)")
        ]

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        ops, selectors, final = pruned_ops(workload, p)
        geom = cost.ArrayGeometry.of(p)
        works = [cost.dense_work(op, geom, p["sfu_lanes"]) for op in ops]
        sel_macs = np.zeros(())
        for op, active in selectors:
            w = cost.dense_work(op, geom, p["sfu_lanes"])
            w = cost.OpWork(op, w.compute_cycles * active, w.macs * active, w.sram_bytes * active,
                            w.dram_bytes * active, w.sfu_elems * active, stage="other", mode=w.mode)  # fmt: skip
            sel_macs = sel_macs + w.macs
            works.append(w)
        pes = p["rows"] * p["cols"]
        # FPGA fabric: the ASIC tables at the device's node × the FPGA/ASIC gaps, DRAM as is, static floor
        ctx = cost.fpga_context(p, cost.array_area_mm2(p), pes, node_nm=p["node_nm"],
                                power_gap=p["fpga_power_factor"], area_gap=p["fpga_area_factor"],
                                static_w=p["static_w"])  # fmt: skip
        ev = cost.summarize(workload, works, ctx)
        res = fpga_resources(p)
        ev = ev.with_metrics(
            computation_reduction=1.0 - ev.metrics["macs"] / workload.macs.astype(np.float64),
            selector_macs=sel_macs,
            tokens_final=final,
            **res,
        )
        if workload.spec.family == "swin" or workload.spec.variant == "m2":
            ev = ev.with_notes("token selectors prune only the plain token sequence (Swin windows and ViViT's "
                               "temporal encoder stay dense)")  # fmt: skip
        ev = ev.invalid_where(~selectors_ordered(p), "selector positions out of order (select1_at ≤ select2_at ≤ "
                              "select3_at)")  # fmt: skip
        return ev.invalid_where(res["fpga_fits"] < 1, "exceeds the FPGA's DSP or BRAM budget")


ACCELERATORS = (HeatViT(),)

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
* a selector runs only where it pays (the analogue of the dense fallback, ``cost.cheaper``): per design
  point, of the 2³ on/off combinations of the selectors asked for (keep < 1), the schedule runs the fastest
  of those no slower and no costlier in energy than running none (ties: less energy, then fewer
  selectors). One left out does no work and prunes no token (its ops' mode ``skipped``); its hardware stays
  (DSP, BRAM, area unchanged). ``selectors_run``, the token counts, ``tokens_final`` and ``accuracy_drop``
  (:mod:`dse.accuracy` ``token_pruned``: pruned share of tokens averaged over the prunable blocks) follow
  the selectors that run. So switching a selector on never costs time or energy, and a lower keep ratio
  never raises latency through the choice; it can raise energy (rarely, by up to a few percent) where a
  selector that saves energy but costs a little time is then left out (tests/accelerators/test_physics.py).
* every GEMM runs on the ``rows × cols`` array (SCALE-Sim cycles), nonlinear ops on the SFU, as in
  ``systolic``; energy uses the same technology tables at the FPGA's node, with on-chip dynamic energy
  scaled by the FPGA/ASIC power gap and a fixed static power; DSP and BRAM use are checked against
  the device budget.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from dse.accelerators.base import Accelerator, Evaluation, Limit, Param
from dse.accelerators.common import array_params
from dse.hardware import cost, fpga
from dse.hardware import technology as tech
from dse.hardware.workstack import WorkStack
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


#: roles of a block's first token-wise GEMM, whose ``m`` is the block's token count
_TOKEN_GEMMS = ("qkv", "q", "fc1", "temporal_fc")


def _sorted_at(p) -> list[np.ndarray]:
    """``select1_at``, ``select2_at``, ``select3_at`` in sorted order, per point."""
    raw = np.broadcast_arrays(*(np.asarray(p[f"select{i}_at"], dtype=np.float64) for i in (1, 2, 3)))
    return list(np.sort(np.stack(raw), axis=0))


def _block_fracs(keeps, pos, depth: int) -> list[np.ndarray]:
    """Per block of a ``depth``-block group: the token fraction it sees, Π keep_i over selectors at ``pos_i`` ≤ it."""
    fracs = []
    for b in range(depth):
        frac = np.ones(())
        for k, b_i in zip(keeps, pos, strict=True):
            frac = frac * np.where(b >= b_i, k, 1.0)
        fracs.append(frac)
    return fracs


#: name prefix of an encoder's final LayerNorm (the zoo's ``norm_final``, ViViT 2's ``norm_final_spatial``)
FINAL_NORM = "norm_final"


def pruned_ops(workload: Workload, p, keeps=None) -> tuple[list[Op], list[tuple[Op, np.ndarray]], np.ndarray]:
    """The workload's ops with token pruning applied; selector ops with their 0/1 activity; final tokens.

    ``keeps``: the three keep ratios the schedule runs (default ``p``'s; 1 leaves a selector out).
    Selector positions are taken in sorted order, so an out-of-order design point still gets numbers
    (:class:`HeatViT` marks it invalid).
    """
    if keeps is None:
        keeps = [p[f"keep{i}"] for i in (1, 2, 3)]
    keeps = [np.asarray(k, dtype=np.float64) for k in keeps]
    at = _sorted_at(p)
    spec = workload.spec
    tokens0 = np.asarray(workload.tokens, dtype=np.float64)
    out: list[Op] = []
    selectors: list[tuple[Op, np.ndarray]] = []
    final = tokens0
    done_blocks: set[str] = set()
    last_frac = np.ones(())  # token fraction of the last pruned block
    reaches = False  # whether the last pruned block's tokens reach the next op unchanged (no GEMM between)
    for op in workload.ops:
        if not op.prunable:
            if reaches and op.name.startswith(FINAL_NORM) and np.all(np.asarray(op.m) > 1):
                op = op.with_(m=_scaled(op.m, last_frac))  # an encoder's final LayerNorm over the tokens left
            reaches = reaches and not op.is_gemm
            out.append(op)
            continue
        if op.block in done_blocks:
            continue
        done_blocks.add(op.block)
        group = [o for o in workload.ops if o.block == op.block and o.prunable]
        depth = group[0].repeat
        pos = [np.round(a * depth) for a in at]
        # the block's token count: the input of its first token-wise GEMM (qkv, or fc1)
        first = next(o for o in group if o.role in _TOKEN_GEMMS)
        tokens_grp = np.asarray(first.m, dtype=np.float64)
        frac_in = np.ones(())
        for i, (k, b_i) in enumerate(zip(keeps, pos, strict=True), start=1):
            active = ((k < 1.0) & (b_i < depth)).astype(np.float64)
            n_in = _scaled(tokens_grp, frac_in)
            n_out = _scaled(tokens_grp, frac_in * k)
            for s_op in _selector_ops(i, n_in, n_in - n_out, spec.dim, spec.heads):
                selectors.append((s_op, active))
            frac_in = frac_in * np.where(b_i < depth, k, 1.0)
        for b, frac in enumerate(_block_fracs(keeps, pos, depth)):
            out += [_prune_op(o, frac, f"{o.block}{b}") for o in group]
        final = _scaled(tokens0, frac)
        last_frac, reaches = frac, True
    return out, selectors, final


def kept_token_share(workload: Workload, p, keeps) -> np.ndarray:
    """Tokens kept / tokens in, averaged over the prunable blocks at ``keeps`` (1 with no prunable block)."""
    keeps = [np.asarray(k, dtype=np.float64) for k in keeps]
    at = _sorted_at(p)
    kept, blocks = np.zeros(()), 0
    for block in dict.fromkeys(o.block for o in workload.ops if o.prunable):
        group = [o for o in workload.ops if o.block == block and o.prunable]
        depth = group[0].repeat
        tokens = np.asarray(next(o for o in group if o.role in _TOKEN_GEMMS).m, dtype=np.float64)
        for frac in _block_fracs(keeps, [np.round(a * depth) for a in at], depth):
            kept = kept + _scaled(tokens, frac) / tokens
        blocks += depth
    return kept / blocks if blocks else np.ones(())


def _schedule(workload: Workload, p, keeps, geom, ctx) -> tuple[Evaluation, np.ndarray, np.ndarray]:
    """The evaluation with the selectors run at ``keeps`` (1 = left out: no work, mode ``skipped``), the
    selectors' MACs and the final token count."""
    ops, selectors, final = pruned_ops(workload, p, keeps)
    blocks = cost.dense_stack(workload, geom, p["sfu_lanes"], ctx, ops=ops)  # the ops alike as one stacked op
    works = []
    sel_macs = np.zeros(())
    for op, active in selectors:
        w = cost.dense_work(op, geom, p["sfu_lanes"])
        on = active > 0
        mode = w.mode if on.all() else "skipped" if not on.any() else np.where(on, w.mode, "skipped")
        w = cost.OpWork(op, w.compute_cycles * active, w.macs * active, w.sram_bytes * active,
                        w.dram_bytes * active, w.sfu_elems * active, stage="other", mode=mode)  # fmt: skip
        sel_macs = sel_macs + w.macs
        works.append(w)
    work = WorkStack.concat([blocks, WorkStack.of(works, first=len(ops))]) if works else blocks
    return cost.summarize(workload, work, ctx), sel_macs, final


def selectors_that_pay(workload: Workload, p, geom, ctx) -> list[np.ndarray]:
    """Per selector, per point: whether the schedule runs it (module docstring).

    Of the 2³ on/off combinations of the selectors asked for (keep < 1), the fastest of those no slower and
    no costlier in energy than running none; ties go to less energy, then to fewer selectors, so no selector
    runs that saves neither time nor energy given the others. A lower keep ratio does not raise the cost of a
    combination that runs its selector (but for the package token's array folds: one more pruned token can
    add a fold that the blocks after it, a token shorter, do not win back; ≤ 3e-4 of latency in random
    pairs), so the admissible set only grows and the choice never raises latency. Energy can: where the
    fastest admissible combination changes to one that is faster but costlier (a selector saving energy at a
    small cost in time is left out). No choice that never runs a combination worse in both than another
    avoids this in general once combinations trade time against energy; choosing by energy first would move
    the violations to latency. All combinations are costed in one call, on a leading axis.
    """
    req = [np.asarray(p[f"keep{i}"], dtype=np.float64) for i in (1, 2, 3)]
    # the points: the parameters', the workload's and the context's axes (Monte Carlo factors add some)
    shape = np.broadcast_shapes(workload.shape, *(np.shape(v) for v in p.values()), ctx.shape)
    prunable = any(o.prunable for o in workload.ops)
    cand = [i for i in range(3) if prunable and np.any(req[i] < 1.0)]
    combos = [on for n in range(len(cand) + 1) for on in itertools.combinations(cand, n)]  # fewest first
    if len(combos) == 1:
        return [np.zeros(shape, dtype=bool)] * 3
    axis = (len(combos),) + (1,) * len(shape)
    keeps = [np.where(np.array([i in on for on in combos]).reshape(axis), k, 1.0) for i, k in enumerate(req)]
    ev = _schedule(workload, p, keeps, geom, ctx)[0]
    lat, e = (np.broadcast_to(ev.metrics[k], axis[:1] + shape) for k in ("latency_s", "energy_j"))
    best_l, best_e, best = lat[0], e[0], np.zeros(shape, dtype=np.int64)
    for c in range(1, len(combos)):
        take = (lat[c] <= lat[0]) & (e[c] <= e[0]) & ((lat[c] < best_l) | ((lat[c] == best_l) & (e[c] < best_e)))
        best_l, best_e, best = np.where(take, lat[c], best_l), np.where(take, e[c], best_e), np.where(take, c, best)
    return [np.isin(best, [c for c, on in enumerate(combos) if i in on]) for i in range(3)]


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
    extra_metrics = ("computation_reduction", "selector_macs", "selectors_run", "tokens_final", "accuracy_drop",
                     "accuracy_extrapolated", "dsp", "bram", "fpga_fits")  # fmt: skip

    def limits(self, p) -> list[Limit]:
        """ZCU102's DSP48E2 clock limit (dse/hardware/fpga.py ``FMAX_MHZ``)."""
        fmax = fpga.FMAX_MHZ["zcu102"]
        return [
            Limit("clock_mhz", np.asarray(p["clock_mhz"]) > fmax, f"clock above ZCU102's DSP maximum ({fmax:.0f} MHz)")
        ]

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        from dse.accuracy import with_accuracy

        geom = cost.ArrayGeometry.of(p)
        pes = p["rows"] * p["cols"]
        # FPGA fabric: the ASIC tables at the device's node × the FPGA/ASIC gaps, DRAM as is, static floor
        ctx = cost.fpga_context(p, cost.array_area_mm2(p), pes, node_nm=p["node_nm"],
                                power_gap=p["fpga_power_factor"], area_gap=p["fpga_area_factor"],
                                static_w=p["static_w"])  # fmt: skip
        run = selectors_that_pay(workload, p, geom, ctx)
        keeps = [np.where(r, p[f"keep{i}"], 1.0) for i, r in enumerate(run, start=1)]
        ev, sel_macs, final = _schedule(workload, p, keeps, geom, ctx)
        pruned = 1.0 - kept_token_share(workload, p, keeps)
        res = fpga_resources(p)
        ev = ev.with_metrics(
            computation_reduction=1.0 - ev.metrics["macs"] / workload.macs.astype(np.float64),
            selector_macs=sel_macs,
            selectors_run=sum(r.astype(np.float64) for r in run),
            tokens_final=final,
            **res,
        )
        ev = with_accuracy(ev, "heatvit", token_pruned=pruned)
        asked = [np.asarray(p[f"keep{i}"]) < 1.0 for i in (1, 2, 3)]
        left_out = [i for i, (a, r) in enumerate(zip(asked, run, strict=True), start=1) if np.any(a & ~r)]
        if left_out:
            ev = ev.with_notes(f"selector(s) {', '.join(map(str, left_out))} left out where pruning does not repay "
                               "their cost (their keep ratio then has no effect; see selectors_run and the ops' "
                               "mode 'skipped')")  # fmt: skip
        if workload.spec.family == "swin" or workload.spec.variant == "m2":
            ev = ev.with_notes("token selectors prune only the plain token sequence (Swin windows and ViViT's "
                               "temporal encoder stay dense)")  # fmt: skip
        ev = ev.invalid_where(~selectors_ordered(p), "selector positions out of order (select1_at ≤ select2_at ≤ "
                              "select3_at)")  # fmt: skip
        return ev.invalid_where(res["fpga_fits"] < 1, "exceeds the FPGA's DSP or BRAM budget")


ACCELERATORS = (HeatViT(),)

"""``windowed``: the windowed-attention ViT accelerator of the poster [src:windowed-poster].

An FPGA design with two engines that run one after the other:

* an **SDDMM engine** of ``sddmm_lanes`` MAC lanes computes the windowed QKᵀ (only the kept
  (query, key) pairs: a k×k window on the patch grid plus the CLS key; the CLS query sees all keys)
  and the windowed S·V, in the lower ``windowed_blocks`` blocks. Per query row it reads that row's
  kept keys and drains its dot-product pipeline (depth ⌈log₂ lanes⌉ adder tree + read and write
  stages, derived), so per row: ⌈kept·dₕ / lanes⌉ + pipeline-depth cycles;
* a **dense engine** (an output-stationary systolic array, ``rows`` × ``cols`` DSP MACs) runs every
  other GEMM, including dense attention in the upper blocks; softmax/layernorm/GELU on the SFU.

FPGA cost: one DSP per MAC lane (DSP48E1/E2 25×18 multiplier handles one int16 or int8 product, Xilinx
UG479/UG579 [src:xilinx-dsp-guides]), block RAM for the buffers (BRAM36 = 36 Kib), LUTs: a fixed part
plus ``lut_per_lane`` per MAC lane, the fixed part derived from the poster's build (20,879 LUT with 20 DSP)
so the poster's configuration reproduces its LUT count. The fit check compares with the device budget
[src:xilinx-ds190] [src:xilinx-ds891].
The poster's board (20 DSP, 131 BRAM36) is the documented example configuration ``poster_config()``.
"""

from __future__ import annotations

import numpy as np

from dse.accelerators.base import Accelerator, Evaluation, Limit, Param, budget_value
from dse.accelerators.common import array_params
from dse.hardware import cost, fpga, memory
from dse.hardware import technology as tech
from dse.sparsity.window import windowed_pairs
from dse.workloads import Op, Workload

# Device budgets: XC7Z020 and XC7Z010 from Xilinx DS190 [src:xilinx-ds190], ZCU102 (XCZU9EG) from DS891
# [src:xilinx-ds891].
DEVICES = {
    "xc7z020": {"dsp": 220, "bram": 140, "lut": 53_200},
    "xc7z010": {"dsp": 80, "bram": 60, "lut": 17_600},
    "zcu102": {"dsp": 2_520, "bram": 912, "lut": 274_080},
}
POSTER = {"dsp": 20, "bram": 131, "lut": 20_879, "power_w": 1.552}  # poster's Zybo Z7 build [src:windowed-poster]
BRAM36_KIB = fpga.BRAM36_KIB
FPGA_POWER_GAP = fpga.POWER_GAP  # shared FPGA calibration (dse/hardware/fpga.py)
FPGA_AREA_GAP = fpga.AREA_GAP

_FPGA_ARRAY = tuple(
    p for p in array_params(rows=4, cols=4, glb_kib=256, dram_gbps=4.26, clock_mhz=100, precision="int16",
                            node_nm=28, sfu_lanes=4, dram_type="ddr3")
    if p.name not in ("lanes", "dataflow", "node_nm", "leakage_mw_per_mm2")
)  # fmt: skip

PARAMS = _FPGA_ARRAY + (
    Param("sddmm_lanes", 4, "MACs", "design choice; poster uses 20 DSP in all [src:windowed-poster]", "int", 1, 4096),
    Param("sddmm_kib", 64, "KiB", "SDDMM engine Q/K/score buffer (design choice)", "float", 1, 16384),
    Param("window", 3, "patches", "window side k (poster: 3×3 [src:windowed-poster])", "int", 1, 63),
    Param("windowed_blocks", 6, "blocks", "lower blocks with windowed attention (poster: 6 of 12)", "int", 0, 64,
          structural=True),
    Param("dense_fallback", 1, "", "1: a windowed QKᵀ or S·V runs dense on the GEMM array where the SDDMM engine "
          "would be slower or costlier (the hardware's choice per op, so more windowing never costs time or "
          "energy); 0: always on the SDDMM engine, as the poster measures the engine alone [src:windowed-poster]",
          "int", 0, 1),
    Param("fpga", "xc7z020", "", "device budget: XC7Z020 (Zybo Z7, the poster's), XC7Z010, ZCU102", "choice",
          choices=tuple(DEVICES)),
    Param("lut_per_lane", 200, "LUT/MAC lane", "[assumption] accumulator, operand muxes and control per lane; at "
          "most the poster's 20,879 LUT over its 20 lanes, from which the fixed part is derived", "float",
          0, POSTER["lut"] // POSTER["dsp"]),
    Param("static_w", fpga.STATIC_W, "W", "dse/hardware/fpga.py: SoC static floor derived from the poster's "
          "measured 1.552 W on-chip [src:windowed-poster]", "float", 0, 50),
)  # fmt: skip
# node_nm fixed: Zynq-7000 is TSMC 28 nm HPL (Xilinx DS190) [R] [src:xilinx-ds190]
NODE_NM = 28.0


def poster_config() -> dict[str, object]:
    """The poster's board build: 20 DSPs (16 dense + 4 SDDMM) at XC7Z020, 131 BRAM36 [src:windowed-poster]."""
    return {"rows": 4, "cols": 4, "sddmm_lanes": 4, "glb_kib": 520, "sddmm_kib": 64, "fpga": "xc7z020"}


def sddmm_pipeline_depth(lanes):
    """Dot-product pipeline: ⌈log₂ lanes⌉ adder-tree stages + one read and one write stage [D]."""
    return np.ceil(np.log2(np.maximum(lanes, 1))) + 2


def windowed_attention_cycles(op: Op, pairs_per_seq, lanes):
    """SDDMM-engine cycles of a windowed QKᵀ or S·V: per query row, its kept keys × dₕ MACs."""
    dh = op.k if op.kind == "attn_score" else op.n
    rows = op.batch * op.m
    return np.ceil(op.batch * pairs_per_seq * dh / lanes) + rows * sddmm_pipeline_depth(lanes)


class Windowed(Accelerator):
    name = "windowed"
    description = (
        "windowed-attention ViT accelerator (poster): SDDMM engine for 3×3-window attention + dense engine, FPGA"
    )
    params = PARAMS
    extra_metrics = ("dsp", "bram", "lut", "fpga_fits", "dsp_util", "bram_util", "lut_util", "accuracy_drop",
                     "accuracy_extrapolated", "attention_kept")  # fmt: skip

    def split_ops(self, workload: Workload, p) -> list[tuple[Op, bool]]:
        """Ops with a flag 'windowed'; windowable attention ops of the lower blocks split off."""
        out: list[tuple[Op, bool]] = []
        nb = int(np.max(p["windowed_blocks"]))  # structural (one value per call, see Accelerator.evaluate)
        for op in workload.ops:
            if op.windowable and op.role in ("qk", "softmax", "av") and nb > 0:
                w = min(nb, op.repeat)
                out.append((op.with_(repeat=w, name=f"{op.name}_win"), True))
                if op.repeat > w:
                    out.append((op.with_(repeat=op.repeat - w), False))
            else:
                out.append((op, False))
        return out

    def _evaluate(self, workload: Workload, p) -> Evaluation:
        geom = cost.ArrayGeometry.of(p, lanes=np.asarray(1.0), dataflow=np.asarray("os"))
        gh, gw = workload.grid
        pairs = windowed_pairs(gh, gw, p["window"], workload.spec.cls)
        e = tech.lookup(p["precision"], tech.BYTES)
        acc = tech.lookup(p["precision"], tech.ACC_BYTES)
        dsp = p["rows"] * p["cols"] + p["sddmm_lanes"]
        glb = p["glb_kib"] + p["sddmm_kib"]
        asic_area = cost.area_mm2(dsp, glb, p["sfu_lanes"], p["precision"], NODE_NM)
        # FPGA fabric: the ASIC tables at 28 nm × the FPGA/ASIC power and area gaps, DRAM as is, static floor
        ctx = cost.fpga_context(p, asic_area, dsp, node_nm=NODE_NM, power_gap=FPGA_POWER_GAP, area_gap=FPGA_AREA_GAP,
                                static_w=p["static_w"], glb_kib=glb)  # fmt: skip
        forced = np.asarray(p["dense_fallback"]) < 1  # windowed ops on the SDDMM engine alone, whatever it costs
        works = []
        kept_macs = 0.0
        dense_attn_macs = 0.0
        for op, win in self.split_ops(workload, p):
            if not win:
                works.append(cost.dense_work(op, geom, p["sfu_lanes"]))
                continue
            seq = op.m.astype(float)
            keep = np.minimum(pairs / (seq * seq), 1.0)
            if op.kind == "softmax":
                works.append(cost.sfu_work(op, p["sfu_lanes"], op.out_elems * keep))
                continue
            macs = op.macs * keep
            kept_macs = kept_macs + macs * op.repeat
            dense_attn_macs = dense_attn_macs + op.macs * op.repeat
            cyc = windowed_attention_cycles(op, np.minimum(pairs, seq * seq), p["sddmm_lanes"])
            dram = memory.gemm_dram_bytes(op.batch, op.m, op.k, op.n, e, acc, p["sddmm_kib"] * 1024.0, False)
            dram = dram - (1 - keep) * op.batch * seq * seq * e  # only kept scores move
            sram = 2.0 * macs * e + dram  # each MAC reads one Q and one K (or S and V) element
            window = cost.OpWork(op, cyc, macs, sram, dram, mode="window")
            # dense fallback: the windowed op may run dense on the GEMM array (the masked scores computed and
            # dropped, or multiplied by zero) where the SDDMM engine is slower or costlier, so more windowed
            # blocks or a smaller window never cost time or energy; the softmax skips the masked scores either way
            works.append(cost.cheaper_op(cost.dense_work(op, geom, p["sfu_lanes"]), window, ctx, forced))
        ev = cost.summarize(workload, works, ctx)
        ev = ev.with_metrics(**self._fpga_metrics(p, dsp))
        attn = np.asarray(workload.attention_macs, dtype=np.float64)
        # a workload without attention (a single GEMM) prunes nothing: all of its (no) attention is kept
        kept_share = np.where(attn > 0, (attn - dense_attn_macs + kept_macs) / np.where(attn > 0, attn, 1.0), 1.0)
        from dse.accuracy import with_accuracy

        depth = max(op.repeat for op in workload.ops)
        # the fit's published points are on DeiT-Tiny's 12 blocks: express the windowed share of depth on that basis
        frac = np.minimum(p["windowed_blocks"], depth) / depth
        ev = with_accuracy(ev, "windowed", attn_sparsity=1 - pairs / np.square(gh * gw + int(workload.spec.cls)),
                           windowed_blocks=frac * 12, total_blocks=12)  # fmt: skip
        ev = ev.with_metrics(attention_kept=kept_share)
        return ev.invalid_where(ev.metrics["fpga_fits"] < 1, "does not fit the FPGA (DSP, BRAM or LUT budget)")

    def budget(self, p) -> dict:
        """:meth:`Accelerator.budget` with the peak MACs per cycle of both engines: the GEMM array's rows × cols
        and the SDDMM engine's lanes."""
        out = super().budget(p)
        out["macs"] = budget_value(np.asarray(p["rows"]) * p["cols"] + p["sddmm_lanes"])
        return out

    def matched(self, target) -> dict:
        """:meth:`Accelerator.matched` with the SDDMM engine kept as published: the GEMM array's columns take
        the rest of a matched MAC rate (at least one column)."""
        if "macs" in target:
            sddmm = float(self.param("sddmm_lanes").default)
            target = {**target, "macs": np.maximum(np.asarray(target["macs"], dtype=np.float64) - sddmm, 1.0)}
        return super().matched(target)

    def limits(self, p) -> list[Limit]:
        """The device's DSP clock limit (dse/hardware/fpga.py ``FMAX_MHZ``)."""
        fmax = tech.lookup(p["fpga"], fpga.FMAX_MHZ)
        return [Limit("clock_mhz", np.asarray(p["clock_mhz"]) > fmax,
                      f"clock above the FPGA's DSP maximum ({float(np.min(fmax)):.0f} MHz)")]  # fmt: skip

    @staticmethod
    def _fpga_metrics(p, dsp) -> dict[str, np.ndarray]:
        bram = np.ceil(p["glb_kib"] / BRAM36_KIB) + np.ceil(p["sddmm_kib"] / BRAM36_KIB)
        lanes = p["rows"] * p["cols"] + p["sddmm_lanes"]
        lut_fixed = POSTER["lut"] - p["lut_per_lane"] * POSTER["dsp"]  # derived from the poster's build
        lut = lut_fixed + p["lut_per_lane"] * lanes
        budget = {k: tech.lookup(p["fpga"], {d: v[k] for d, v in DEVICES.items()}) for k in ("dsp", "bram", "lut")}
        used = {"dsp": dsp, "bram": bram, "lut": lut}
        out: dict[str, np.ndarray] = {}
        fits = np.ones((), dtype=bool)
        for k, v in used.items():
            out[k] = np.asarray(v, dtype=np.float64)
            out[f"{k}_util"] = v / budget[k]
            fits = fits & (out[f"{k}_util"] <= 1.0)
        out["fpga_fits"] = fits.astype(np.float64)
        return out


ACCELERATORS = (Windowed(),)

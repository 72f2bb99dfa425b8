"""CPU and GPU baselines: a per-kernel roofline with size-dependent efficiency and launch overhead.

Every op of a workload runs as the kernels PyTorch eager launches for it (``measured/measure_blocks.py``):
one GEMM kernel per linear layer / QKᵀ / A·V, one kernel per LayerNorm / GELU, and two for the softmax
of the explicit attention path (the ``* d**-0.5`` scale pass, then softmax; one on ``jetson-tx2``, whose
TensorRT reference folds the scale). With ``attention="sdpa"`` QKᵀ, softmax and A·V are one fused call
(``scaled_dot_product_attention``) that never writes the scores.

Per op (all numpy arrays over design points; B = bytes moved, k = kernels)::

    t_compute = MACs / (peak_macs_per_s(precision) · eff),     eff = eff_gemm · s / (s + gemm_half)
    t_memory  = B·hit / cache_Bps + (B + k·mem_half)·(1 - hit) / (mem_Bps · eff_mem)
    hit       = 1 / (1 + (B / k / cache)^4)                    (smooth step at the last-level cache size)
    t_exec    = max(t_compute, t_memory)
    dispatch  = k · launch (element-wise),  gemm_floor(precision) (one GEMM call; Platform.gemm_floor_us)
    t_op      = t_exec + dispatch                              (CPU: synchronous eager dispatch)
    t_op      = max(t_exec, dispatch)                          (GPU: asynchronous stream hides dispatch)

``s = min(M, N)`` of the GEMM (tokens for a linear layer at batch 1); ``mem_half`` is the per-kernel
size at which streaming reaches half of ``eff_mem`` (a fixed memory latency per kernel). GEMMs move
``A + B + C``; element-wise kernels (softmax, LayerNorm, GELU) ``(in + out) · bytes_per_element`` per
kernel and no MACs; fused attention moves Q, K, V, O and runs at ``eff_sdpa``, its dispatch costing
``sdpa_launches`` launches. Bytes per element follow ``precision`` (fp32 4, fp16 2, int8 1).

Per precision each preset has a peak (``peak_tmacs``) and a small-kernel floor: the host time of one GEMM
call, ``gemm_floor = launch + (gemm_launches − 1) · extra_launch + precision_check``, derived in the preset's
comments from the kernels the library runs at that precision (e.g. on ``h100`` fp32 GEMMs run on CUDA cores
as split-K + reduction, two launches; fp16 on tensor cores, one) — measured at one precision only, never
copied to the others. A GEMM's ``k`` (kernels) is ``gemm_launches``: each kernel has its own fixed latency.

Energy = average power × latency (power: the rated TDP / module power, cited per preset, × the share that
batch-1 inference draws on average, ``active_power_share``: the middle of the declared range of
``cpu.power`` / ``gpu.power``), split over components by
where the time goes: GEMM execution between ``mac`` (compute) and ``buffer`` / ``dram`` (memory time from
cache / DRAM) in proportion, element-wise kernels → ``sfu``, time waiting on kernel dispatch →
``leakage``. ``bound``: ``launch`` when dispatch waiting is ≥ half the latency, else the longer of the
``linear`` and ``attention`` stages.

A copy matched to a design's resources (:meth:`Roofline.matched`: fewer SMs / cores, a narrower DRAM
interface) draws the power of what it keeps, not its full rating::

    P = P₀ · fixed + P_dram · BW / BW₀ + (P₀ · (1 − fixed) − P_dram) · R / R₀,   P_dram = pJ/bit · BW₀ · 8

``R`` the peak MAC rate at the precision and ``BW`` the DRAM bandwidth (``₀``: the preset's); ``fixed`` is the
share of the rated power that no smaller copy sheds (a named assumption per preset) and ``P_dram`` the DRAM
power inside the rating at full bandwidth (0 where the rating excludes the DRAM devices).

Calibration: ``xeon16`` and ``h100`` constants marked "fitted" come from ``tools/fit_roofline.py``
(differential evolution then Nelder–Mead on log-constants, minimising the largest relative error of
per-block linear_us and attn_us over every row of ``measured/*.csv``; stored to 4 significant digits).
Edge presets use datasheet peaks/bandwidths and the fitted efficiencies of the measured platform of
their kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from dse.accelerators.base import COMPONENTS, STAGES, Accelerator, Evaluation, OpCost, Param, StageCost, budget_value
from dse.hardware.factors import factor
from dse.hardware.technology import DRAM_PJ_PER_BIT
from dse.workloads import Op, Workload

PRECISIONS = ("fp32", "fp16", "int8")
#: bytes per element of activations, weights and scores at each precision
BYTES_PER_ELEM = {"fp32": 4.0, "fp16": 2.0, "int8": 1.0}
ATTENTION_PATHS = ("explicit", "sdpa")
ELEMENTWISE_KINDS = ("softmax", "layernorm", "activation")
_CACHE_STEEPNESS = 4.0  # exponent of the cache-hit step; 4 ≈ the cliff seen in measured/xeon16 attn_us


@dataclass(frozen=True)
class Platform:
    """One CPU or GPU preset: datasheet peaks and fitted or assumed calibration constants (cited inline)."""

    name: str
    kind: str  # "cpu" | "gpu"
    description: str
    peak_tmacs: tuple[float, float, float]  # dense peak, 10¹² MAC/s at (fp32, fp16, int8)
    mem_gbps: float  # DRAM peak bandwidth, GB/s
    cache_mb: float  # last-level cache, MB (10⁶ B)
    cache_gbps: float  # effective last-level cache bandwidth, GB/s
    eff_mem: float  # fraction of DRAM peak bandwidth reached by large streaming kernels
    mem_half_mb: float  # bytes per kernel at which a kernel reaches half of eff_mem, MB
    eff_gemm: float  # GEMM efficiency ceiling (fraction of peak)
    gemm_half: float  # min(M, N) at which a GEMM reaches half of eff_gemm
    eff_sdpa: float  # fused-attention efficiency (fraction of peak)
    sdpa_launches: float  # dispatch cost of one fused-attention call, in kernel launches
    launch_us: float  # host dispatch of one eager op that launches one kernel (any precision), µs
    power_w: float  # rated power (TDP / module power; a measured rail reading where cited), W
    area_mm2: float  # die area, mm²
    clock_mhz: float  # clock used to express latency in cycles, MHz
    overlap: bool = False  # kernel launches overlap execution (a kernel costs max(exec, launch))
    softmax_kernels: int = 2  # PyTorch eager: ``* scale`` pass + softmax (measure_blocks.py); TensorRT fuses: 1
    calibration: str = ""  # where the calibration constants come from
    # per precision (fp32, fp16, int8): the small-kernel floor of a GEMM op (see :meth:`gemm_floor_us`)
    gemm_launches: tuple[float, float, float] = (1.0, 1.0, 1.0)  # kernels one GEMM call launches
    extra_launch_us: float = 0.0  # host time of each further kernel launched inside one library call, µs
    precision_check_us: tuple[float, float, float] = (0.0, 0.0, 0.0)  # host work of a GEMM call at that precision
    # power of a copy matched to a design (Roofline.matched; module docstring):
    fixed_power_share: float = 0.0  # share of power_w that stays whatever compute and bandwidth are kept
    # average power while running batch-1 inference, as a share of power_w: the middle of the declared range
    # of cpu.power / gpu.power (dse/uncertainty/declared.py), so that the nominal is no edge of its own range
    active_power_share: float = 1.0
    dram_pj_per_bit: float = 0.0  # energy per DRAM bit inside power_w, pJ (0: the rating excludes the DRAM devices)

    def matched_power_w(self, precision: str, macs_per_s, mem_gbps) -> Any:
        """Average power (W) of a copy with peak ``macs_per_s`` at ``precision`` and ``mem_gbps`` of DRAM
        bandwidth (None: the preset's): the fixed share stays, DRAM power scales with the bandwidth kept and the
        rest (SMs / cores) with the MAC rate kept. The fixed share is a declared uncertain input (the factor
        ``cpu_fixed_power`` / ``gpu_fixed_power``, :mod:`dse.uncertainty.declared`): a float, or an array over
        Monte Carlo samples inside :func:`dse.hardware.factors.applied`."""
        fixed = np.minimum(self.fixed_power_share * factor(f"{self.kind}_fixed_power"), 1.0)  # declared uncertain
        dram_w = self.dram_pj_per_bit * 1e-12 * self.mem_gbps * 8e9
        compute_w = np.maximum(self.power_w * (1 - fixed) - dram_w, 0.0)
        peak = self.peak_tmacs[PRECISIONS.index(precision)] * 1e12
        r = 1.0 if macs_per_s is None else macs_per_s / peak
        b = 1.0 if mem_gbps is None else mem_gbps / self.mem_gbps
        return self.power_w * fixed + dram_w * b + compute_w * r

    def gemm_floor_us(self, precision: str) -> float:
        """Small-kernel floor of one GEMM op at ``precision`` (µs): the host time of its dispatch,
        ``launch_us + (gemm_launches − 1) · extra_launch_us + precision_check_us``. Element-wise kernels cost
        ``launch_us`` at every precision (one TensorIterator launch, no precision-dependent host work)."""
        i = PRECISIONS.index(precision)
        return self.launch_us + (self.gemm_launches[i] - 1) * self.extra_launch_us + self.precision_check_us[i]


_FIT = "tools/fit_roofline.py: differential evolution + Nelder-Mead, minimax |rel err| of linear_us and attn_us"

XEON16 = Platform(
    "xeon16",
    "cpu",
    "16-core Intel Xeon (AVX-512), PyTorch eager fp32 — the measured machine [src:measured-xeon16-fp32]",
    # 16 cores × 2 AVX-512 FMA units × 16 fp32 lanes × 2.0 GHz = 1.024 TMAC/s [assumption: the Xeon model is not
    # recorded in measured/]; fp16 at the fp32 rate (PyTorch CPU GEMM converts); int8 ×4 via AVX-512 VNNI
    # (64 int8 vs 16 fp32 MACs per 512-bit FMA, Intel intrinsics guide) [src:intel-xeon-docs].
    peak_tmacs=(1.024, 1.024, 4.096),
    mem_gbps=88.0,  # pro-rata 16/56 cores of 8 × DDR5-4800 = 307 GB/s per socket [assumption, as above]
    cache_mb=45.03,  # fitted to measured/xeon16 (attn_us per score element jumps ≈3× between 9 and 30 MB of scores)
    cache_gbps=73.54,  # fitted to measured/xeon16
    eff_mem=0.1579,  # fitted to measured/xeon16 (≈14 GB/s: includes first-touch page faults of fresh outputs)
    mem_half_mb=0.0,  # not needed by measured/xeon16 (fit → 0.03 MB)
    eff_gemm=0.5268,  # fitted to measured/xeon16
    gemm_half=83.38,  # fitted to measured/xeon16 (tokens at which GEMM efficiency is half its ceiling)
    eff_sdpa=0.2752,  # fitted to measured/xeon16 sdpa_us
    sdpa_launches=2.146,  # fitted to measured/xeon16 sdpa_us
    launch_us=15.43,  # fitted to measured/xeon16 (eager op dispatch + OpenMP fork/join per kernel)
    # Small-kernel floor per precision: the same at fp32 (measured), fp16 and int8. On a CPU the floor is the
    # eager dispatch and the thread pool's fork/join of one op, done by the same host code whatever the dtype
    # (a GEMM is one BLAS call, no second kernel); a dtype conversion pass, where the ISA needs one, moves data
    # and is execution time, not floor [assumption]. gemm_launches, extra_launch_us: defaults (1, 0).
    power_w=100.0,  # pro-rata 16/56 cores of a 350 W Xeon Platinum 8480+ TDP (Intel ARK) [assumption, as above]
    # matched copies: 25% of the package power is uncore (mesh, memory controllers, I/O) that fewer cores keep
    # [assumption, declared range 0.15–0.40: cpu.fixed_power]; the TDP is the package's, the DIMMs' power lies outside it (dram 0).
    fixed_power_share=0.25,
    active_power_share=0.75,  # eager batch-1 inference draws 0.5–1.0 of the TDP share [assumption]: the middle
    area_mm2=440.0,  # 16/56 of a Sapphire Rapids XCC package (4 tiles ≈ 1,540 mm²) [R] [src:die-area-estimates]
    clock_mhz=2000.0,  # the all-core AVX-512 clock assumed in peak_tmacs
    calibration=f"fitted to measured/xeon16_fp32_batch1.csv ({_FIT})",
)

H100 = Platform(
    "h100",
    "gpu",
    "NVIDIA H100 SXM5 80 GB HBM3, PyTorch eager — the measured machine [src:measured-h100-fp16]",
    # Sources: [src:h100-datasheet] [src:measured-h100-fp16]
    # NVIDIA H100 SXM5 datasheet (dense): FP32 66.9 TFLOPS (CUDA cores: PyTorch leaves TF32 matmul off by
    # default), FP16 tensor 989.4 TFLOPS, INT8 tensor 1,978.9 TOPS; MAC/s = FLOPS / 2.
    peak_tmacs=(33.45, 494.7, 989.45),
    mem_gbps=3350.0,  # NVIDIA H100 SXM5 datasheet: 3.35 TB/s HBM3
    cache_mb=0.0,  # 50 MB L2 (datasheet) not modelled: measured/h100 element-wise kernels show no L2 speed-up
    cache_gbps=0.0,  # (no cache level)
    eff_mem=0.4574,  # fitted to measured/h100 (≈1.5 TB/s for large element-wise kernels)
    mem_half_mb=6.538,  # fitted to measured/h100 (≈4 µs fixed memory latency per kernel)
    eff_gemm=0.6011,  # fitted to measured/h100 (loosely constrained: few rows are compute-bound)
    gemm_half=26.31,  # fitted to measured/h100 (loosely constrained)
    eff_sdpa=0.3361,  # fitted to measured/h100 sdpa_us
    sdpa_launches=2.024,  # fitted to measured/h100 sdpa_us (backend selection + launch)
    launch_us=18.56,  # fitted to measured/h100 (eager host dispatch per kernel; all small blocks are launch-bound)
    # Small-kernel floor per precision (gemm_floor_us; measured only at fp16, so fp32 and int8 are derived):
    # * fp16 / int8: tensor-core GEMMs, one kernel per call. A 128×128 output tile over deit-tiny's K = 192
    #   takes 128·128·192 / (494.7 TMAC/s / 132 SMs) = 0.84 µs on one SM, a fifth of the GPU's fixed per-kernel
    #   latency (≈4.3 µs, mem_half above), so splitting K across CTAs cannot pay; the fitted launch_us is the
    #   floor of one such call [src:measured-h100-fp16].
    # * fp32: PyTorch keeps TF32 off, so cuBLAS runs SIMT FFMA GEMMs at 33.45 TMAC/s / 132 = 0.253 TMAC/s per
    #   SM: the same tile takes 12.4 µs (≈3× the per-kernel latency) and a batch-1 layer has fewer output tiles
    #   than SMs, so the library splits K over CTAs and sums the partials in a second, separate reduction kernel
    #   [src:cutlass-splitk-reduce] [src:cublaslt-reduction-scheme]: 2 launches per GEMM call. Each further
    #   launch costs the host 5 µs, the low end of PyTorch's measured 5–20 µs CPU-side launch time
    #   [src:hta-launch-stats] (range 5–20 µs; the high end would exceed a whole fitted eager op). Every fp32
    #   cuBLAS call also runs PyTorch's TF32-precision checks, skipped for other dtypes: 0.30 µs of an 8.23 µs
    #   eager matmul, 3.6% [src:pytorch-fp32-precision-overhead], applied to this host's 18.56 µs → 0.68 µs.
    #   fp32 GEMM floor = 18.56 + (2 − 1) · 5 + 0.68 = 24.24 µs (1.31× fp16); element-wise kernels keep
    #   18.56 µs at every precision. Not derived here: the second kernel's GPU time beyond its fixed latency.
    gemm_launches=(2.0, 1.0, 1.0),
    extra_launch_us=5.0,
    precision_check_us=(round(0.30 / 8.23 * 18.56, 2), 0.0, 0.0),
    power_w=700.0,  # NVIDIA H100 SXM5 datasheet: TDP up to 700 W
    # matched copies: 10% of the board power stays with fewer SMs (regulators, NVLink/PCIe PHYs, L2 and crossbar)
    # [assumption, declared range 0.05–0.20: gpu.fixed_power]; HBM3 at HBM2's 3.9 pJ/bit [src:accelergy-dram] [assumption: no HBM3 figure
    # in the sources] → 3.9 pJ × 3.35 TB/s × 8 = 105 W of the 700 W at full bandwidth [D].
    fixed_power_share=0.10,
    active_power_share=0.65,  # a launch-bound batch-1 GPU draws 0.3–1.0 of its TDP [assumption]: the middle
    dram_pj_per_bit=DRAM_PJ_PER_BIT["hbm2"],
    area_mm2=814.0,  # NVIDIA Hopper whitepaper: GH100 die 814 mm², TSMC 4N
    clock_mhz=1830.0,  # 989.4 TFLOPS = 132 SMs × 4096 fp16 flop/clk × 1.83 GHz (datasheet boost clock)
    overlap=True,  # asynchronous CUDA stream
    calibration=f"fitted to measured/h100_fp16_batch1.csv ({_FIT})",
)

_H100_KERNEL_LAT_S = H100.mem_half_mb * 1e6 / (H100.mem_gbps * 1e9 * H100.eff_mem)  # ≈ 4.3 µs

JETSON_TX2 = Platform(
    "jetson-tx2",
    "gpu",
    "NVIDIA Jetson TX2 (256-core Pascal GP10B, 8 GB LPDDR4) — ViTCoD's EdgeGPU [src:vitcod2023]",
    # Sources: [src:jetson-tx2-datasheet] [src:vitcod-tx2-profile]
    # Jetson TX2 data sheet: 256 CUDA cores, GPU max 1.30 GHz (tegrastats GR3D 1300 MHz): fp32 2 flop/core/clk
    # = 665.6 GFLOPS, fp16 2× (1.33 TFLOPS, datasheet); no INT8 fast path on sm_62 (TensorRT support matrix
    # lists FP32/FP16 for TX2 [src:tensorrt-support-matrix]) → int8 at the fp16 rate.
    peak_tmacs=(0.3328, 0.6656, 0.6656),
    mem_gbps=59.7,  # Jetson TX2 data sheet: 128-bit LPDDR4 at 1866 MHz (tegrastats EMC 1866) = 59.7 GB/s
    cache_mb=0.0,  # 512 KB L2 (CUDA deviceQuery) not modelled, as for h100
    cache_gbps=0.0,
    eff_mem=H100.eff_mem,  # = h100 fit (the same PyTorch/CUDA element-wise kernels)
    mem_half_mb=round(_H100_KERNEL_LAT_S * 59.7e9 * H100.eff_mem / 1e6, 4),  # same 4.3 µs latency at TX2 bandwidth
    eff_gemm=H100.eff_gemm,  # = h100 fit
    gemm_half=H100.gemm_half,  # = h100 fit
    eff_sdpa=H100.eff_sdpa,  # = h100 fit
    sdpa_launches=H100.sdpa_launches,  # = h100 fit
    launch_us=124.0,  # set so DeiT-Tiny's 12 blocks take 14.9 ms at fp16 (TensorRT, profiling mode,
    # which synchronises per layer); every kernel is then launch-bound and the kernel-count shares give
    # MatMul 60% / softmax 10% (the profile: 58% / 9%). Not profiled TensorRT would be faster: override launch_us.
    softmax_kernels=1,  # TensorRT folds the 1/√d scale into the QKᵀ GEMM
    # Small-kernel floor: launch_us at every precision. The reference is a TensorRT engine whose per-layer
    # floor is the profiler's synchronisation, not library dispatch, and whose kernels (fp32 and fp16 alike
    # on sm_62's CUDA cores, no tensor cores) are chosen when the engine is built [src:vitcod-tx2-profile].
    power_w=15.0,  # Jetson TX2 data sheet: 15 W module power (Max-N; 7.5 W Max-Q)
    # matched copies: 20% of the module power stays (CPU complex, SoC I/O, regulators) [assumption, declared
    # range 0.10–0.40: gpu.fixed_power]; LPDDR4 at 8 pJ/bit [src:accelergy-dram] → 8 pJ × 59.7 GB/s × 8 = 3.8 W
    # of the 15 W [D].
    fixed_power_share=0.20,
    active_power_share=0.65,  # as h100: 0.3–1.0 of the module power [assumption], the middle
    dram_pj_per_bit=DRAM_PJ_PER_BIT["lpddr4"],
    area_mm2=150.0,  # Tegra X2 "Parker" SoC die, TSMC 16FF [R: not confirmed; override it] [src:die-area-estimates]
    clock_mhz=1300.0,  # Jetson TX2 GPU max clock (above)
    overlap=True,  # asynchronous CUDA stream
    calibration="datasheet peaks; efficiencies of the h100 fit; launch_us from [src:vitcod-tx2-profile]",
)

CORTEX_A57 = Platform(
    "cortex-a57",
    "cpu",
    "4 × Arm Cortex-A57 at 2.0 GHz, 2 MB L2 (the Jetson TX2 CPU cluster), PyTorch eager",
    # Sources: [src:cortex-a57-sog] [src:jetson-tx2-datasheet]
    # Cortex-A57 Software Optimization Guide: one 128-bit ASIMD FMLA per cycle = 4 fp32 MACs/clk/core;
    # 4 cores × 2.0 GHz × 4 = 32 GMAC/s. ARMv8.0 has no fp16 arithmetic (fp16 at the fp32 rate); int8 ×2 via
    # 16-bit-accumulating SMLAL (8 lanes per 128-bit op) [D from the ISA lane widths].
    peak_tmacs=(0.032, 0.032, 0.064),
    mem_gbps=59.7,  # Jetson TX2 data sheet: shared 128-bit LPDDR4, 59.7 GB/s
    cache_mb=2.0,  # Jetson TX2 data sheet: 2 MB L2 shared by the A57 cluster
    cache_gbps=round(XEON16.cache_gbps / (XEON16.mem_gbps * XEON16.eff_mem) * 59.7 * XEON16.eff_mem, 1),
    # ↑ xeon16 fit's cache / effective-DRAM ratio (5.3×) applied to the A57's DRAM [assumption]
    eff_mem=XEON16.eff_mem,  # = xeon16 fit
    mem_half_mb=XEON16.mem_half_mb,  # = xeon16
    eff_gemm=XEON16.eff_gemm,  # = xeon16 fit
    gemm_half=XEON16.gemm_half,  # = xeon16 fit
    eff_sdpa=XEON16.eff_sdpa,  # = xeon16 fit
    sdpa_launches=XEON16.sdpa_launches,  # = xeon16 fit
    launch_us=round(3 * XEON16.launch_us, 1),  # xeon16 fit × 3: ~⅓ the single-thread speed [assumption]
    # small-kernel floor: launch_us at every precision, as for xeon16
    power_w=3.5,  # tegrastats on a TX2 running CNN inference on its CPUs: VDD_CPU ≈ 3.4 W [src:tx2-cpu-power]
    # (a reading while running, not a rating: active_power_share stays 1)
    # matched copies: 10% of the CPU rail stays with fewer cores (the cluster's L2 and snoop logic) [assumption,
    # range 0.06–0.16: cpu.fixed_power]; the VDD_CPU rail excludes the DRAM (dram 0).
    fixed_power_share=0.10,
    area_mm2=15.0,  # quad Cortex-A57 + 2 MB L2 cluster [R: Exynos 5433 die shots] [src:die-area-estimates]
    clock_mhz=2000.0,  # Jetson TX2 data sheet: A57 up to 2.0 GHz
    calibration="datasheet peaks; efficiencies of the xeon16 fit",
)

PLATFORMS: dict[str, Platform] = {p.name: p for p in (XEON16, CORTEX_A57, H100, JETSON_TX2)}
#: constants given per precision, as (fp32, fp16, int8) tuples
_PER_PRECISION = ("peak_tmacs", "gemm_launches", "precision_check_us")
_CALIBRATED = tuple(
    f.name for f in fields(Platform)
    if f.name not in ("name", "kind", "description", "overlap", "calibration", "fixed_power_share", "dram_pj_per_bit",
                      *_PER_PRECISION)
)  # fmt: skip


@dataclass(frozen=True)
class Machine:
    """Per-design-point machine constants in SI units (arrays broadcast over design points)."""

    macs_per_s: np.ndarray
    bytes_per_elem: np.ndarray
    dram_bps: np.ndarray  # effective: peak × eff_mem
    mem_half_bytes: np.ndarray
    cache_bytes: np.ndarray
    cache_bps: np.ndarray
    eff_gemm: np.ndarray
    gemm_half: np.ndarray
    eff_sdpa: np.ndarray
    sdpa_launches: np.ndarray
    launch_s: np.ndarray
    softmax_kernels: np.ndarray
    overlap: np.ndarray  # bool: launches overlap execution (GPU)
    gemm_kernels: np.ndarray  # kernels one GEMM call launches at the point's precision
    gemm_extra_s: np.ndarray  # host time of a GEMM call beyond launch_s: Platform.gemm_floor_us − launch_us
    sdpa: np.ndarray  # bool: fused attention


def machine(platform, precision, attention="explicit", overrides: dict[str, np.ndarray] | None = None,
            presets: dict[str, Platform] | None = None) -> Machine:  # fmt: skip
    """Gather preset constants per point (``platform``, ``precision`` may be string arrays) + overrides.

    ``overrides``: ``peak_tflops``, ``mem_gbps``, ``launch_us`` arrays, 0 meaning "use the preset".
    """
    presets = presets or PLATFORMS
    plat = np.asarray(platform).astype(str)
    prec = np.asarray(precision).astype(str)
    shape = np.broadcast_shapes(plat.shape, prec.shape)
    val = {f: np.zeros(shape) for f in _CALIBRATED}
    peak = np.zeros(shape)
    overlap = np.zeros(shape, dtype=bool)
    sm_kernels = np.zeros(shape)
    gemm_kernels = np.ones(shape)
    gemm_extra_us = np.zeros(shape)
    for name, pf in presets.items():  # loop over presets, not design points
        sel = plat == name
        for f in _CALIBRATED:
            val[f] = np.where(sel, getattr(pf, f), val[f])
        for i, pr in enumerate(PRECISIONS):
            here = sel & (prec == pr)
            peak = np.where(here, pf.peak_tmacs[i] * 1e12, peak)
            gemm_kernels = np.where(here, pf.gemm_launches[i], gemm_kernels)
            gemm_extra_us = np.where(here, pf.gemm_floor_us(pr) - pf.launch_us, gemm_extra_us)
        overlap = np.where(sel, pf.overlap, overlap)
        sm_kernels = np.where(sel, pf.softmax_kernels, sm_kernels)
    bpe = np.zeros(shape)
    for pr, b in BYTES_PER_ELEM.items():
        bpe = np.where(prec == pr, b, bpe)
    ov = overrides or {}

    def pick(key: str, preset: np.ndarray, scale: float) -> np.ndarray:
        user = np.asarray(ov.get(key, 0.0), dtype=float)
        return np.where(user > 0, user * scale, preset)

    m = Machine(
        macs_per_s=pick("peak_tflops", peak, 1e12 / 2),
        bytes_per_elem=bpe,
        dram_bps=pick("mem_gbps", val["mem_gbps"] * 1e9, 1e9) * val["eff_mem"],
        mem_half_bytes=val["mem_half_mb"] * 1e6,
        cache_bytes=np.where(val["cache_gbps"] > 0, pick("cache_mb", val["cache_mb"] * 1e6, 1e6), 0.0),
        # a cache is never slower than the memory behind it (a user's DRAM override may exceed the preset's cache)
        cache_bps=np.where(
            val["cache_gbps"] > 0,
            np.maximum(val["cache_gbps"] * 1e9, pick("mem_gbps", val["mem_gbps"] * 1e9, 1e9) * val["eff_mem"]),
            0.0,
        ),
        eff_gemm=val["eff_gemm"],
        gemm_half=val["gemm_half"],
        eff_sdpa=val["eff_sdpa"],
        sdpa_launches=val["sdpa_launches"],
        launch_s=pick("launch_us", val["launch_us"] * 1e-6, 1e-6),
        softmax_kernels=sm_kernels,
        overlap=overlap,
        gemm_kernels=gemm_kernels,
        gemm_extra_s=gemm_extra_us * 1e-6,
        sdpa=np.asarray(attention).astype(str) == "sdpa",
    )
    return _fit_factor(plat, presets, m)  # × the declared fit-residual factor (1 outside a Monte Carlo run)


@dataclass(frozen=True)
class KernelCost:
    """Execution cost of one op instance (arrays over points); launch overhead is added by :func:`op_times`."""

    kernels: np.ndarray
    compute_s: np.ndarray
    cache_s: np.ndarray  # memory time served by the last-level cache
    dram_s: np.ndarray  # memory time served by DRAM
    exec_s: np.ndarray  # max(compute, memory)
    bytes: np.ndarray
    dram_bytes: np.ndarray
    dispatch_s: np.ndarray  # host time to dispatch it: launch_s per eager call + a GEMM's precision extras


def _memory(nbytes: np.ndarray, kernels: np.ndarray, m: Machine) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cache s, DRAM s, DRAM bytes) of ``nbytes`` over ``kernels`` kernels, with a smooth LLC-fit step."""
    ratio = np.divide(nbytes / np.maximum(kernels, 1), m.cache_bytes,
                      out=np.full(np.broadcast(nbytes, kernels, m.cache_bytes).shape, np.inf), where=m.cache_bytes > 0)  # fmt: skip
    hit = 1.0 / (1.0 + ratio**_CACHE_STEEPNESS)
    served = nbytes * hit
    cache_s = np.divide(served, m.cache_bps, out=np.zeros(np.broadcast(served, m.cache_bps).shape),
                        where=m.cache_bps > 0)  # fmt: skip
    # size ramp: eff = eff_mem · B / (B + B_half) per kernel  ⇔  a fixed B_half / bandwidth per kernel
    dram_s = (nbytes * (1 - hit) + kernels * m.mem_half_bytes * (1 - hit)) / m.dram_bps
    return cache_s, dram_s, nbytes * (1 - hit)


def op_cost(op: Op, m: Machine) -> KernelCost:
    """Roofline execution time of one instance of ``op`` on machine ``m`` (explicit or fused attention per point)."""
    bpe = m.bytes_per_elem
    zero = np.zeros(np.broadcast(op.macs, bpe, m.sdpa).shape)
    if op.is_gemm:
        size = np.minimum(op.m, op.n).astype(float)
        eff = m.eff_gemm * size / (size + m.gemm_half)
        compute = op.macs / (m.macs_per_s * eff)
        nbytes = (op.in_elems + op.weight_elems + op.out_elems) * bpe
        kernels = zero + m.gemm_kernels  # e.g. split-K GEMM + its reduction kernel (fp32 on h100)
        dispatch = zero + m.launch_s + m.gemm_extra_s  # one library call: Platform.gemm_floor_us
    else:
        compute = zero
        kernels = zero + (m.softmax_kernels if op.kind == "softmax" else 1)
        nbytes = (op.in_elems + op.out_elems) * bpe * kernels
        dispatch = kernels * m.launch_s
    if op.kind == "attn_score":  # fused: QKᵀ + A·V MACs; reads Q, K, V, writes O (each batch·M·K elements)
        f_compute = 2 * op.macs / (m.macs_per_s * m.eff_sdpa)
        f_bytes = 4 * op.batch * op.m * op.k * bpe
        compute, nbytes = np.where(m.sdpa, f_compute, compute), np.where(m.sdpa, f_bytes, nbytes)
        kernels = np.where(m.sdpa, m.sdpa_launches, kernels)
        dispatch = np.where(m.sdpa, m.sdpa_launches * m.launch_s, dispatch)
    elif op.kind in ("softmax", "attn_context"):  # folded into the fused kernel
        compute, nbytes, kernels, dispatch = (np.where(m.sdpa, 0, x) for x in (compute, nbytes, kernels, dispatch))
    cache_s, dram_s, dram_bytes = _memory(nbytes, np.where(m.sdpa & (op.kind == "attn_score"), 1, kernels), m)
    exec_s = np.maximum(compute, cache_s + dram_s)
    return KernelCost(kernels + zero, compute + zero, cache_s + zero, dram_s + zero, exec_s + zero, nbytes + zero,
                      dram_bytes + zero, dispatch_s=dispatch + zero)  # fmt: skip


def op_times(ops: Sequence[Op], costs: Sequence[KernelCost], m: Machine) -> list[np.ndarray]:
    """Wall time of each op over all its repeats.

    CPU (synchronous eager dispatch): ``exec + dispatch``. GPU (asynchronous stream): the host
    dispatches kernels while earlier ones run, so in steady state an op costs the larger of its
    execution and its dispatch: ``max(exec, dispatch)`` (launch-bound at batch 1 for small ops).
    ``dispatch`` = ``kernels · launch`` for element-wise ops, the precision's GEMM floor for a GEMM call.
    """
    out = []
    for op, c in zip(ops, costs, strict=True):
        launch = c.dispatch_s
        out.append(np.where(m.overlap, np.maximum(c.exec_s, launch), c.exec_s + launch) * op.repeat)
    return out


_SRC_PREC = "bytes/element and peak per precision: see each preset in dse/accelerators/roofline.py"


class Roofline(Accelerator):
    """Shared evaluation of the CPU and GPU baselines; subclasses pick presets and defaults."""

    platforms: tuple[str, ...] = ()

    @property
    def presets(self) -> dict[str, dict[str, str]]:
        """One named setting per hardware platform (``gpu:h100`` = ``platform=h100``; see
        :func:`dse.accelerators.with_preset`)."""
        return {n: {"platform": n} for n in self.platforms}

    @classmethod
    def make_params(cls, default_platform: str, default_precision: str) -> tuple[Param, ...]:
        names = cls.platforms
        return (
            Param("platform", default_platform, "", "presets in dse/accelerators/roofline.py (datasheets, "
                  "measured/*.csv fits)", "choice", choices=names, help="hardware preset"),
            Param("precision", default_precision, "", _SRC_PREC, "choice", choices=PRECISIONS,
                  help="arithmetic and storage precision (scales peak compute and bytes/element)"),
            Param("attention", "explicit", "", "measured/measure_blocks.py: explicit QKᵀ/softmax/A·V or fused sdpa",
                  "choice", choices=ATTENTION_PATHS, help="attention kernels"),
            Param("peak_tflops", 0.0, "TFLOPS", "override (0 = preset peak at the chosen precision)", "float", 0, 1e5,
                  help="dense peak, 2 flops per MAC"),
            Param("mem_gbps", 0.0, "GB/s", "override (0 = preset DRAM peak)", "float", 0, 1e5,
                  help="DRAM peak bandwidth (preset eff_mem still applies)"),
            Param("launch_us", 0.0, "µs", "override (0 = preset)", "float", 0, 1e4, help="per-kernel overhead"),
            Param("cache_mb", 0.0, "MB", "override (0 = preset last-level cache; presets without one keep none)",
                  "float", 0, 1e5, help="last-level cache size (10⁶ B), at the preset's cache bandwidth"),
            Param("power_w", 0.0, "W", "override of the rated power (0 = preset TDP / module power); the model "
                  "draws it × the preset's active_power_share (0.75 xeon16, 0.65 h100 / jetson-tx2, 1 cortex-a57)",
                  "float", 0, 1e4),
            Param("area_mm2", 0.0, "mm²", "override (0 = preset die area)", "float", 0, 1e5),
        )  # fmt: skip

    #: resource → override parameter (``mac_rate``: peak MAC/s, set through ``peak_tflops``)
    BUDGET_PARAMS = {"mac_rate": "peak_tflops", "bandwidth": "mem_gbps", "buffer": "cache_mb"}

    def budget(self, p) -> dict[str, Any]:
        """The platform's resources: peak MACs per cycle at its clock, peak MAC/s (``mac_rate``), last-level
        cache KiB (where modelled), DRAM GB/s and clock MHz; floats for one design, arrays over points."""
        m = machine(p["platform"], p["precision"], p["attention"], p)
        plat = np.asarray(p["platform"]).astype(str)
        clock, preset_bw = np.zeros(plat.shape), np.zeros(plat.shape)
        for name, pf in PLATFORMS.items():  # loop over presets, not points
            clock = np.where(plat == name, pf.clock_mhz, clock)
            preset_bw = np.where(plat == name, pf.mem_gbps, preset_bw)
        rate = np.asarray(m.macs_per_s, dtype=np.float64)
        user_bw = np.asarray(p["mem_gbps"], dtype=np.float64)
        out = {"macs": budget_value(rate / (clock * 1e6)), "mac_rate": budget_value(rate),
               "bandwidth": budget_value(np.where(user_bw > 0, user_bw, preset_bw)), "clock": budget_value(clock)}  # fmt: skip
        cache = np.asarray(m.cache_bytes, dtype=np.float64)
        if np.any(cache > 0):
            out["buffer"] = budget_value(cache / 1024)
        return out

    def matched(self, target) -> dict[str, Any]:
        """Overrides giving the platform a design's resources: ``mac_rate`` (peak MAC/s; or ``macs`` ×
        ``clock``) → peak TFLOPS at the chosen precision, ``bandwidth`` → DRAM GB/s, ``buffer`` → last-level
        cache (CPU presets; the GPU presets model no cache level and keep none). The clock itself is the
        platform's. When the MAC rate or bandwidth changes, ``power_w`` becomes the power of what is kept
        (:meth:`Platform.matched_power_w`), not the full rating of the preset. Values are floats or arrays
        over points (e.g. Monte Carlo samples)."""
        out: dict[str, Any] = {}
        rate = target.get("mac_rate")
        if rate is None and "macs" in target and "clock" in target:
            rate = np.asarray(target["macs"]) * target["clock"] * 1e6
        if rate is not None:
            rate = budget_value(rate)
            out["peak_tflops"] = 2 * rate / 1e12
        if "bandwidth" in target:
            out["mem_gbps"] = budget_value(target["bandwidth"])
        platform = PLATFORMS[str(self.param("platform").default)]  # a preset copy's platform (NAME:PRESET)
        if "buffer" in target and platform.cache_gbps > 0:
            out["cache_mb"] = budget_value(target["buffer"]) * 1024 / 1e6
        if rate is not None or "bandwidth" in target:
            rated = float(self.param("power_w").default)  # a copy's own rating, else the preset's (0)
            pf = replace(platform, power_w=rated) if rated > 0 else platform
            out["power_w"] = pf.matched_power_w(str(self.param("precision").default), rate, out.get("mem_gbps"))
        return out

    def effective_params(self, p) -> dict[str, Any]:
        """``p`` with each override left at 0 replaced by the preset's value at the chosen precision: peak
        TFLOPS (2 flops per MAC), DRAM peak GB/s, launch µs, last-level cache MB (0 where the preset models
        none), power W (the rating, before Monte Carlo factors) and die area mm²."""
        plat = np.asarray(p["platform"]).astype(str)
        m = machine(plat, p["precision"], p["attention"], p)
        preset = {f: np.zeros(plat.shape) for f in ("mem_gbps", "power_w", "area_mm2")}
        for name in self.platforms:
            for f in preset:
                preset[f] = np.where(plat == name, getattr(PLATFORMS[name], f), preset[f])
        used = {
            "peak_tflops": 2 * np.asarray(m.macs_per_s) / 1e12,
            "launch_us": np.asarray(m.launch_s) * 1e6,
            "cache_mb": np.asarray(m.cache_bytes) / 1e6,
            **{f: np.where(np.asarray(p[f]) > 0, p[f], v) for f, v in preset.items()},
        }
        return {**p, **used}

    def _evaluate(self, workload: Workload, p: dict[str, np.ndarray]) -> Evaluation:
        m = machine(p["platform"], p["precision"], p["attention"], p)
        plat = p["platform"]
        preset = {f: np.zeros(plat.shape) for f in ("power_w", "area_mm2", "clock_mhz", "active_power_share")}
        for name in self.platforms:
            for f in preset:
                preset[f] = np.where(plat == name, getattr(PLATFORMS[name], f), preset[f])
        # average power while running: the rating (the user's, a matched copy's, else the preset's) × the share
        # batch-1 inference draws (the middle of its declared range) × the Monte Carlo factor
        rated = np.where(p["power_w"] > 0, p["power_w"], preset["power_w"])
        power = rated * preset["active_power_share"] * _kind_factor(plat, PLATFORMS, "power")
        area = np.where(p["area_mm2"] > 0, p["area_mm2"], preset["area_mm2"])
        clock_hz = preset["clock_mhz"] * 1e6
        shape = np.broadcast_shapes(workload.shape, *(np.shape(v) for v in p.values()))
        z = np.zeros(shape)
        acc = {s: {f: z for f in ("latency_s", "compute_s", "memory_s", "macs", "dram_bytes")} for s in STAGES}
        comp = {c: z for c in COMPONENTS}
        launch_s, sfu_s, mem_bound_s, rows = z, z, z, []
        costs = [op_cost(op, m) for op in workload.ops]
        for op, c, t in zip(workload.ops, costs, op_times(workload.ops, costs, m), strict=True):
            r = op.repeat
            a = acc[op.stage]
            mem = c.cache_s + c.dram_s
            a["latency_s"] = a["latency_s"] + t
            a["compute_s"] = a["compute_s"] + c.compute_s * r
            a["memory_s"] = a["memory_s"] + mem * r
            a["macs"] = a["macs"] + op.macs * r
            a["dram_bytes"] = a["dram_bytes"] + c.dram_bytes * r
            busy = np.minimum(c.exec_s * r, t)  # time the device computes or moves data
            launch_s = launch_s + (t - busy)  # waiting on kernel dispatch
            mem_bound_s = mem_bound_s + np.where(mem > c.compute_s, busy, 0.0)
            if op.kind in ELEMENTWISE_KINDS:
                comp["sfu"] = comp["sfu"] + busy
                sfu_s = sfu_s + busy
            else:
                tot = np.where(c.compute_s + mem > 0, c.compute_s + mem, 1.0)
                comp["mac"] = comp["mac"] + busy * c.compute_s / tot
                comp["buffer"] = comp["buffer"] + busy * c.cache_s / tot
                comp["dram"] = comp["dram"] + busy * c.dram_s / tot
            rows.append(OpCost(
                block=op.block, op=op.name, kind=op.kind, role=op.role, stage=op.stage, repeat=r, mode="kernel",
                macs=op.macs * r + z, cycles=t * clock_hz, latency_s=t, energy_j=t * power,
                compute_cycles=c.compute_s * r * clock_hz, memory_cycles=mem * r * clock_hz,
                dram_bytes=c.dram_bytes * r,
            ))  # fmt: skip
        comp["leakage"] = launch_s
        latency = sum(a["latency_s"] for a in acc.values())
        energy = {k: v * power for k, v in comp.items()}  # component times sum to the latency
        stages = {
            s: StageCost(
                cycles=a["latency_s"] * clock_hz,
                latency_s=a["latency_s"],
                energy_j=a["latency_s"] * power,
                compute_cycles=a["compute_s"] * clock_hz,
                memory_cycles=a["memory_s"] * clock_hz,
                macs=a["macs"],
                dram_bytes=a["dram_bytes"],
            )  # fmt: skip
            for s, a in acc.items()
        }
        macs = workload.macs + z
        bound = np.where(acc["linear"]["latency_s"] >= acc["attention"]["latency_s"], "linear", "attention")
        bound = np.where(launch_s >= 0.5 * latency, "launch", bound)
        metrics = {
            "cycles": latency * clock_hz,
            "latency_s": latency,
            "period_s": latency,  # eager batch-1 inference: one input at a time
            "inputs_per_s": 1.0 / latency,
            "frames_per_s": np.asarray(workload.frames, dtype=np.float64) / latency,
            "energy_j": latency * power,
            "area_mm2": area + z,
            "macs": macs,
            "dense_macs": macs,
            "dram_bytes": sum(a["dram_bytes"] for a in acc.values()),
            # of the hardware's peak: the fit residual (cpu_time / gpu_time) scales the achieved rate, not the peak
            "utilization": macs / latency / (peak_macs_per_s(m) * _kind_factor(plat, PLATFORMS, "time")),
            "edp": latency * latency * power,
            "power_w": power + z,
            "memory_bound_share": mem_bound_s / latency,
            "sfu_bound_share": sfu_s / latency,
            "linear_latency_s": acc["linear"]["latency_s"],
            "attention_latency_s": acc["attention"]["latency_s"],
            "attention_share": acc["attention"]["latency_s"] / latency,
            "stall_cycles": z,
            "stall_share": z,
            "valid": z + 1.0,
            "launch_s": launch_s,
            # dense: no approximation — the model's every kernel runs as trained, so no sparsity method's accuracy
            # drop (0 by construction, never extrapolated; quantisation is not modelled for any accelerator)
            "accuracy_drop": z,
            "accuracy_extrapolated": z,
        }
        notes = ("energy = average power × latency; components by share of time (roofline.py)",)
        return Evaluation.build(workload, metrics, stages, energy, {"die": area + z}, bound, rows, notes)


def _kind_factor(plat, presets: dict[str, Platform], what: str):
    """The declared Monte Carlo factor ``cpu_<what>`` / ``gpu_<what>`` (:mod:`dse.hardware.factors`) per point."""
    gpu = np.isin(np.asarray(plat).astype(str), [n for n, pf in presets.items() if pf.kind == "gpu"])
    return np.where(gpu, factor(f"gpu_{what}"), factor(f"cpu_{what}"))


def _fit_factor(plat, presets: dict[str, Platform], m: Machine) -> Machine:
    """Every kernel time × the fit-residual factor ``cpu_time`` / ``gpu_time`` (1 outside a Monte Carlo run):
    execution rates ÷ it and dispatch × it scale each op's time by it exactly."""
    f = _kind_factor(plat, presets, "time")
    if np.all(f == 1.0):
        return m
    ones = np.ones_like(f, dtype=np.float64)
    return replace(
        m,
        macs_per_s=m.macs_per_s / f,
        dram_bps=m.dram_bps / f,
        cache_bps=m.cache_bps / f,
        launch_s=m.launch_s * f,
        gemm_extra_s=m.gemm_extra_s * f,
        cache_bytes=m.cache_bytes * ones,
        mem_half_bytes=m.mem_half_bytes * ones,
    )


def peak_macs_per_s(m: Machine) -> np.ndarray:
    return m.macs_per_s


class CPU(Roofline):
    name = "cpu"
    description = "CPU baseline: per-kernel roofline of PyTorch eager; presets cpu:xeon16 (fitted to measured data), cpu:cortex-a57"
    platforms = ("xeon16", "cortex-a57")
    extra_metrics = ("launch_s", "accuracy_drop", "accuracy_extrapolated")

    def __init__(self) -> None:
        self.params = self.make_params("xeon16", "fp32")


class GPU(Roofline):
    name = "gpu"
    description = (
        "GPU baseline: per-kernel roofline of PyTorch eager; presets gpu:h100 (fitted to measured data), gpu:jetson-tx2"
    )
    platforms = ("h100", "jetson-tx2")
    extra_metrics = ("launch_s", "accuracy_drop", "accuracy_extrapolated")

    def __init__(self) -> None:
        self.params = self.make_params("h100", "fp16")


ACCELERATORS = (CPU(), GPU())

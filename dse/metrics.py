"""The metric schema: every metric an evaluation reports, declared once.

Each :class:`Metric` has its stored unit (SI, as the model computes it), the direction a search would
normally want, a one-line description, and how figures show it (label, display unit, scale). The search
(objectives, constraints), the plots (axis labels, maximised metrics), ``rtsa-dse accelerators`` and the
JSON output all read this table; an accelerator lists the metrics it reports in ``Accelerator.metrics``.

Per-resolution columns of a resolution mix are ``name@R`` (``latency_s@224``): :func:`metric` resolves
them to the base metric with the resolution in the label.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dse.errors import choice_error

DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class Metric:
    """One metric. ``unit``: stored unit; ``display_unit`` = ``unit`` × ``scale`` in figures and tables."""

    name: str
    unit: str
    direction: str
    description: str
    label: str
    display_unit: str = ""
    scale: float = 1.0
    #: a 0/1 flag: constraints on it read "must be 1" (valid, fpga_fits) or "must be 0" (accuracy_extrapolated)
    flag: bool = False
    at: str = ""  # resolution of a per-resolution column (``latency_s@224`` → "224")

    def axis(self) -> str:
        """Axis label: ``label @at (display unit)``."""
        name = f"{self.label} @{self.at}" if self.at else self.label
        unit = self.display_unit or self.unit
        return f"{name} ({unit})" if unit and unit != "1" else name

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"


def _m(name, unit, direction, description, label, display_unit="", scale=1.0, flag=False) -> Metric:
    return Metric(name, unit, direction, description, label, display_unit, scale, flag)


_MIN, _MAX = "minimize", "maximize"

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        # -- time: one input (clip or image) end to end, and the steady-state period ------------------
        _m(
            "latency_s", "s", _MIN, "one input (clip or image) end to end, pipeline fill included", "latency", "ms", 1e3
        ),
        _m("period_s", "s", _MIN, "steady-state time per input when inputs stream back to back", "period", "ms", 1e3),
        _m(
            "inputs_per_s",
            "1/s",
            _MAX,
            "inputs (clips or images) per second in steady state (1 / period)",
            "throughput",
            "inputs/s",
        ),
        _m(
            "frames_per_s",
            "1/s",
            _MAX,
            "video frames (images for image models) per second in steady state",
            "frame rate",
            "frames/s",
        ),
        _m("cycles", "cycles", _MIN, "latency in accelerator clock cycles", "cycles", "Mcycles", 1e-6),
        # -- energy, power, area ------------------------------------------------------------------------
        _m(
            "energy_j",
            "J",
            _MIN,
            "energy per input (dynamic + clock tree and static power over its period)",
            "energy",
            "mJ",
            1e3,
        ),
        _m(
            "power_w",
            "W",
            _MIN,
            "average power per input in steady state (energy / period; = energy / latency where stages run in turn)",
            "power",
            "W",
        ),
        _m("edp", "J·s", _MIN, "energy-delay product (energy × latency)", "energy-delay product", "mJ·ms", 1e6),
        _m(
            "area_mm2",
            "mm²",
            _MIN,
            "silicon area (ASIC-equivalent for FPGA designs, die area for CPU/GPU)",
            "area",
            "mm²",
        ),
        # -- work and traffic -------------------------------------------------------------------------
        _m("macs", "MAC", _MIN, "multiply-accumulates performed (after sparsity)", "MACs", "GMAC", 1e-9),
        _m("dense_macs", "MAC", _MIN, "multiply-accumulates of the dense workload", "dense MACs", "GMAC", 1e-9),
        _m("dram_bytes", "B", _MIN, "bytes moved to and from DRAM per input", "DRAM traffic", "MB", 1e-6),
        _m("utilization", "1", _MAX, "performed MACs / (peak MACs per cycle × period cycles), ≤ 1", "MAC utilisation"),
        _m("memory_bound_share", "1", _MIN, "share of latency in ops bound by DRAM bandwidth", "memory-bound share"),
        _m(
            "sfu_bound_share",
            "1",
            _MIN,
            "share of latency in ops bound by the special-function unit",
            "SFU-bound share",
        ),
        # -- stages (RTSA's two stages and the split design's stall) ------------------------------------
        _m("linear_latency_s", "s", _MIN, "time in linear-projection ops", "linear stage", "ms", 1e3),
        _m("attention_latency_s", "s", _MIN, "time in attention ops (QKᵀ, softmax, A·V)", "attention stage", "ms", 1e3),
        _m("attention_share", "1", _MIN, "attention stage share of the summed stage times", "attention share"),
        _m(
            "stall_cycles",
            "cycles",
            _MIN,
            "cycles an array of a split design waits for the other per input",
            "stall",
            "Mcycles",
            1e-6,
        ),
        _m(
            "stall_share",
            "1",
            _MIN,
            "share of a split design's PE-cycles idle per period: each array's wait / period, weighted by its share of the PEs",
            "stall share",
        ),
        _m(
            "split_effective",
            "1",
            _MIN,
            "share of PE rows on the split design's linear array after rounding to whole rows",
            "effective split",
        ),
        # -- validity ---------------------------------------------------------------------------------
        _m(
            "valid",
            "1",
            _MAX,
            "1 when the design obeys its accelerator's own rules, else 0 (see reasons)",
            "valid",
            flag=True,
        ),
        # -- sparsity and accuracy -----------------------------------------------------------------------
        _m(
            "computation_saving",
            "×",
            _MAX,
            "dense MACs / MACs the sparsity leaves (ideal: every op in its sparse "
            "mode; `macs` counts what the hardware performs after its dense fallback)",
            "computation saving",
            "×",
        ),
        _m("computation_reduction", "1", _MAX, "1 − performed / dense MACs", "computation reduction"),
        _m(
            "accuracy_drop",
            "pp",
            _MIN,
            "estimated top-1 accuracy drop of the sparsity method, from published points (an estimate; 0 for a "
            "dense design; quantisation not modelled)",
            "accuracy drop",
            "pp",
        ),
        _m(
            "accuracy_extrapolated",
            "1",
            _MIN,
            "1 where accuracy_drop is extrapolated beyond the method's largest published point, else 0",
            "accuracy extrapolated",
            flag=True,
        ),
        _m(
            "attention_kept",
            "1",
            _MIN,
            "kept share of the attention MACs (1 where the workload has no attention)",
            "attention kept share",
        ),
        # -- FPGA resources ---------------------------------------------------------------------------
        _m("dsp", "DSP", _MIN, "DSP slices used", "DSP slices", "DSP"),
        _m("bram", "BRAM36", _MIN, "36 Kib block RAMs used", "BRAM36", "BRAM36"),
        _m("lut", "LUT", _MIN, "look-up tables used", "LUTs", "LUT"),
        _m("dsp_util", "1", _MIN, "DSP use / device budget", "DSP use"),
        _m("bram_util", "1", _MIN, "BRAM use / device budget", "BRAM use"),
        _m("lut_util", "1", _MIN, "LUT use / device budget", "LUT use"),
        _m("fpga_fits", "1", _MAX, "1 when DSP, BRAM and LUT use fit the device", "fits the FPGA", flag=True),
        # -- ViTCoD breakdown (its released simulator's counters) -------------------------------------------
        _m("attention_cycles", "cycles", _MIN, "attention-stage cycles", "attention cycles", "Mcycles", 1e-6),
        _m(
            "attention_preload_cycles",
            "cycles",
            _MIN,
            "ViTCoD attention preload cycles (DRAM → buffers)",
            "attention preload",
            "Mcycles",
            1e-6,
        ),
        _m(
            "attention_decoder_cycles",
            "cycles",
            _MIN,
            "ViTCoD Q/K auto-encoder decoder cycles",
            "decoder cycles",
            "Mcycles",
            1e-6,
        ),
        _m(
            "attention_compute_cycles",
            "cycles",
            _MIN,
            "ViTCoD SDDMM + SpMM engine cycles",
            "SDDMM+SpMM cycles",
            "Mcycles",
            1e-6,
        ),
        _m(
            "linear_qkv_proj_cycles",
            "cycles",
            _MIN,
            "QKV and output-projection cycles",
            "QKV+proj cycles",
            "Mcycles",
            1e-6,
        ),
        _m("mlp_cycles", "cycles", _MIN, "MLP (fc1, fc2) cycles", "MLP cycles", "Mcycles", 1e-6),
        _m("global_columns", "1", _MIN, "mean share of key columns run on ViTCoD's denser engine", "global columns"),
        _m(
            "attention_engine_macs",
            "MAC",
            _MIN,
            "MACs of ViTCoD's SDDMM and SpMM engines",
            "attention-engine MACs",
            "GMAC",
            1e-9,
        ),
        _m("codec_macs", "MAC", _MIN, "MACs of ViTCoD's Q/K encoder and decoder", "codec MACs", "GMAC", 1e-9),
        # -- HeatViT ------------------------------------------------------------------------------------
        _m(
            "selector_macs",
            "MAC",
            _MIN,
            "MACs of HeatViT's token selectors and package tokens",
            "selector MACs",
            "GMAC",
            1e-9,
        ),
        _m(
            "selectors_run",
            "selectors",
            _MIN,
            "HeatViT token selectors the schedule runs (those whose pruning repays their cost)",
            "selectors run",
        ),
        _m("tokens_final", "tokens", _MIN, "tokens left after the last selector", "final tokens"),
        # -- CPU / GPU ----------------------------------------------------------------------------------
        _m("launch_s", "s", _MIN, "time waiting on kernel dispatch (CPU/GPU)", "launch wait", "ms", 1e3),
    )  # fmt: skip
}

#: every evaluation reports these (the cost summary and the CPU/GPU roofline alike)
COMMON = (
    "latency_s", "period_s", "inputs_per_s", "frames_per_s", "cycles", "energy_j", "power_w", "edp", "area_mm2",
    "macs", "dense_macs", "dram_bytes", "utilization", "memory_bound_share", "sfu_bound_share", "linear_latency_s",
    "attention_latency_s", "attention_share", "stall_cycles", "stall_share", "valid",
)  # fmt: skip

#: short names accepted wherever a metric is named on the command line
ALIASES = {
    "latency": "latency_s",
    "period": "period_s",
    "energy": "energy_j",
    "area": "area_mm2",
    "power": "power_w",
    "throughput": "inputs_per_s",
    "fps": "frames_per_s",
}


def metric(name: str) -> Metric:
    """The declared metric ``name`` (or ``name@R``, a per-resolution column of a mix).

    Raises ``InputError`` naming the metric and the allowed names when it is not declared.
    """
    base, _, at = name.partition("@")
    base = ALIASES.get(base, base)
    if base not in METRICS:
        raise choice_error("metric", name, list(METRICS))
    m = METRICS[base]
    return replace(m, at=at) if at else m


def is_declared(name: str) -> bool:
    base = name.partition("@")[0]
    return ALIASES.get(base, base) in METRICS

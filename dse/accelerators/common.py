"""Parameters shared by the array accelerators (declared once, with units, ranges and sources)."""

from __future__ import annotations

from dse.accelerators.base import Param
from dse.hardware.array import DATAFLOWS
from dse.hardware.technology import DRAM_TYPES, NODE_RANGE, PRECISIONS

_ASSUMED = "design choice (configurable); RTSA's own values are not published [NF] [src:rtsa-tc2025]"


def array_params(rows=16, cols=32, lanes=1, dataflow="os", glb_kib=256, dram_gbps=25.6, clock_mhz=500,
                 precision="int8", node_nm=28, sfu_lanes=16, dram_type="lpddr4") -> tuple[Param, ...]:  # fmt: skip
    """The physical parameters of a PE array with one global buffer and a DRAM interface."""
    return (
        Param("rows", rows, "PEs", _ASSUMED, "int", 1, 1024, help="PE array rows"),
        Param("cols", cols, "PEs", _ASSUMED, "int", 1, 1024, help="PE array columns"),
        Param("lanes", lanes, "MACs/PE", _ASSUMED, "int", 1, 64, help="MAC lanes per PE (vector width)"),
        Param("dataflow", dataflow, "", "SCALE-Sim dataflows [src:scalesim3]", "choice", choices=DATAFLOWS),
        Param("glb_kib", glb_kib, "KiB", "a 28 nm ViT accelerator has 232 KB SRAM [src:hsiung-chang2025]", "float",
              1, 65536, help="global buffer capacity (double-buffered)"),
        Param("dram_gbps", dram_gbps, "GB/s", "LPDDR4-3200 ×64 bus = 25.6 GB/s (JESD209-4) [src:jedec-lpddr4]",
              "float", 0.1, 4096),
        Param("dram_type", dram_type, "", "DRAM pJ/bit by type [src:accelergy-dram] [src:dram-energy-estimates]",
              "choice", choices=DRAM_TYPES),
        Param("clock_mhz", clock_mhz, "MHz", "[assumption] 500 MHz–1 GHz; ViTCoD runs at 500 MHz [src:vitcod-sim]",
              "float", 1, 5000),
        Param("precision", precision, "", "MAC energies by precision [src:horowitz2014]", "choice", choices=PRECISIONS),
        Param("node_nm", node_nm, "nm", "Stillmaker & Baas scaling range [src:stillmaker2017]", "float", *NODE_RANGE),
        Param("sfu_lanes", sfu_lanes, "elements/cycle", _ASSUMED, "int", 1, 4096,
              help="softmax/layernorm/GELU unit throughput"),
        Param("overlap", 1, "", "double-buffered transfers overlap compute (1) or not (0)", "int", 0, 1),
        Param("sfu_overlap", 1, "", "softmax/layernorm/GELU stream on the output of the GEMM producing their "
              "input (1, a pipelined SFU as the accelerators modelled here describe) or run after it (0)",
              "int", 0, 1),
        Param("leakage_mw_per_mm2", 5.0, "mW/mm²",
              "calibration knob [assumption]: ~5 mW/mm² static power of a 28 nm LP logic+SRAM die; "
              "no published source — set it for your process", "float", 0, 1000),
    )  # fmt: skip

"""Technology tables: energy and area of MACs, SRAM and DRAM, with node scaling.

All numbers are at 45 nm unless stated and are scaled to ``node_nm`` with Stillmaker & Baas (2017) [src:stillmaker2017].
Sources: Horowitz ISSCC 2014 [src:horowitz2014]; CACTI 7 via Accelergy [src:cacti7]; Eyeriss [src:eyeriss2016];
Accelergy's DRAM table [src:accelergy-dram]; a published 28 nm ViT accelerator [src:hsiung-chang2025].
Functions take numpy arrays (vectorized).
"""

from __future__ import annotations

import numpy as np

PRECISIONS = ("int8", "int16", "fp16", "fp32")
DRAM_TYPES = ("lpddr4", "lpddr5", "ddr4", "hbm2", "gddr5", "ddr3")

# --- bytes per element --------------------------------------------------------------------------
BYTES = {"int8": 1, "int16": 2, "fp16": 2, "fp32": 4}
# accumulator width in bytes (int8/int16 accumulate in int32; fp16 in fp32; fp32 in fp32)
ACC_BYTES = {"int8": 4, "int16": 4, "fp16": 4, "fp32": 4}

# --- MAC energy at 45 nm, pJ: multiply + accumulate-add [src:horowitz2014] -------
# int8: 0.2 (int8 mult) + 0.1 (int32 add); int16: int mult energy grows with bits² between Horowitz's
# int8 (0.2) and int32 (3.1) points → 0.2·(16/8)^1.98 ≈ 0.79 [D], + 0.1 (int32 add);
# fp16: 1.1 (fp16 mult) + 0.4 (fp16 add); fp32: 3.7 (fp32 mult) + 0.9 (fp32 add).
MAC_PJ_45 = {"int8": 0.3, "int16": 0.89, "fp16": 1.5, "fp32": 4.6}

# --- PE area at 28 nm, µm², int8 -------------------------------------------------------------------
# Derived from the published 28 nm ViT accelerator [src:hsiung-chang2025]: 1.19 mm² for 512 MACs + 232 KB SRAM;
# SRAM 232 KB × 1.4e-3 mm²/KB (CACTI, 28 nm) = 0.325 mm² → (1.19 − 0.325)/512 = 1,690 µm² per PE
# including its registers, control and share of interconnect [D].
PE_AREA_UM2_28_INT8 = 1690.0
# Other precisions: area taken proportional to MAC energy (a proxy: both track multiplier size) [D].

# --- SRAM: CACTI 7 single-bank, 64-bit read, 45 nm [src:cacti7] ----------------------------------
_SRAM_KIB = np.array([8.0, 32.0, 128.0, 512.0, 1024.0])
_SRAM_PJ_45 = np.array([6.14, 17.0, 32.3, 68.4, 93.5])  # pJ per 64-bit read
_SRAM_MM2_45 = np.array([0.0263, 0.0949, 0.430, 1.645, 3.263])  # mm²

# Register-file access ≈ 1× a MAC's energy (Eyeriss normalised energies [src:eyeriss2016]).
RF_ACCESS_PER_MAC = 1.0

# --- DRAM energy per bit, pJ ----------------------------------------------------------------------
DRAM_PJ_PER_BIT = {
    "lpddr4": 8.0,  # Accelergy CACTI plug-in table [src:accelergy-dram] [V]
    "hbm2": 3.9,  # same [V]
    "gddr5": 14.0,  # same [V]
    "ddr3": 70.0,  # same [V]
    "lpddr5": 5.6,  # [R] LPDDR4 × 0.7 (vendors: ~30% less than LPDDR4X) [src:dram-energy-estimates]
    "ddr4": 15.0,  # [R] commonly quoted, between GDDR5 and DDR3 [src:dram-energy-estimates]
}

# --- Node scaling (Stillmaker & Baas, Integration 58, 2017, as tabulated in Accelergy hwcomponents
# [src:stillmaker2017]: 45→28 nm area ×0.377, energy ×0.513). Energy factor = a·V² + b·V + c at V = 0.8 V.
_NODES = np.array([7.0, 10.0, 14.0, 16.0, 20.0, 32.0, 45.0, 65.0, 90.0, 130.0])
_AREA_FROM_45 = np.array([0.059, 0.1, 0.17, 0.19, 0.21, 0.46, 1.0, 1.5, 2.8, 6.4])
_ENERGY_POLY = np.array(
    [
        [0.1776, -0.09097, 0.02447],  # 7 nm
        [0.2068, -0.09311, 0.02375],  # 10
        [0.2363, -0.09675, 0.02239],  # 14
        [0.2958, -0.1241, 0.03024],  # 16
        [0.373, -0.1582, 0.04104],  # 20
        [0.9559, -0.7823, 0.471],  # 32
        [1.103, -0.362, 0.2767],  # 45
        [3.755, -4.398, 1.975],  # 65
        [4.762, -4.781, 2.092],  # 90
        [7.171, -6.709, 2.904],  # 130
    ]
)
_V = 0.8
_ENERGY_REL = _ENERGY_POLY @ np.array([_V * _V, _V, 1.0])
_ENERGY_FROM_45 = _ENERGY_REL / _ENERGY_REL[_NODES == 45.0][0]
NODE_RANGE = (7.0, 130.0)


def energy_scale(node_nm) -> np.ndarray:
    """Dynamic-energy factor from 45 nm to ``node_nm`` (linear interpolation between table nodes)."""
    return np.interp(node_nm, _NODES, _ENERGY_FROM_45)


def area_scale(node_nm) -> np.ndarray:
    """Area factor from 45 nm to ``node_nm``."""
    return np.interp(node_nm, _NODES, _AREA_FROM_45)


def lookup(values, table: dict[str, float]) -> np.ndarray:
    """Map an array of keys (e.g. precision names) to table values, vectorized."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        return np.asarray(table[arr.item()], dtype=float)
    out = np.zeros(arr.shape)
    for key, val in table.items():
        out = np.where(arr == key, val, out)
    return out


def mac_energy_pj(precision, node_nm) -> np.ndarray:
    return lookup(precision, MAC_PJ_45) * energy_scale(node_nm)


def pe_area_mm2(precision, node_nm) -> np.ndarray:
    """Area of one PE (one MAC lane with its registers and control)."""
    rel = lookup(precision, MAC_PJ_45) / MAC_PJ_45["int8"]
    return PE_AREA_UM2_28_INT8 * 1e-6 * rel * area_scale(node_nm) / area_scale(28.0)


def sram_read_pj_per_byte(kib, node_nm) -> np.ndarray:
    """SRAM access energy per byte for a buffer of ``kib`` KiB: log-log interpolation of CACTI.

    Outside the table (below 8 KB, above 1 MB) the log-log line is extended (≈ size^0.56, [src:cacti7]).
    """
    lk = np.log(np.maximum(kib, 0.25))
    lx, ly = np.log(_SRAM_KIB), np.log(_SRAM_PJ_45)
    slope_lo = (ly[1] - ly[0]) / (lx[1] - lx[0])
    slope_hi = (ly[-1] - ly[-2]) / (lx[-1] - lx[-2])
    y = np.interp(lk, lx, ly)
    y = np.where(lk < lx[0], ly[0] + slope_lo * (lk - lx[0]), y)
    y = np.where(lk > lx[-1], ly[-1] + slope_hi * (lk - lx[-1]), y)
    return np.exp(y) / 8.0 * energy_scale(node_nm)


def sram_area_mm2(kib, node_nm) -> np.ndarray:
    """SRAM macro area (CACTI, linear interpolation in capacity; linear extrapolation per KB)."""
    per_kb = np.interp(kib, _SRAM_KIB, _SRAM_MM2_45 / _SRAM_KIB)
    return np.asarray(kib) * per_kb * area_scale(node_nm)


def dram_pj_per_byte(dram_type) -> np.ndarray:
    return lookup(dram_type, DRAM_PJ_PER_BIT) * 8.0

"""Technology tables: energy and area of MACs, SRAM and DRAM, with node scaling.

All numbers are at 45 nm unless stated and are scaled to ``node_nm`` with Stillmaker & Baas (2017) [src:stillmaker2017].
Sources: Horowitz ISSCC 2014 [src:horowitz2014]; CACTI 7 via Accelergy [src:cacti7]; Eyeriss [src:eyeriss2016];
Accelergy's DRAM table [src:accelergy-dram]; a published 28 nm ViT accelerator [src:hsiung-chang2025].
Functions take numpy arrays (vectorized).
"""

from __future__ import annotations

import numpy as np

from dse.hardware.factors import factor  # Monte Carlo factors on the constants below (1 by default)

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
    return lookup(precision, MAC_PJ_45) * energy_scale(node_nm) * factor("mac_energy")


def pe_area_mm2(precision, node_nm) -> np.ndarray:
    """Area of one PE (one MAC lane with its registers and control)."""
    rel = lookup(precision, MAC_PJ_45) / MAC_PJ_45["int8"]
    return PE_AREA_UM2_28_INT8 * 1e-6 * rel * area_scale(node_nm) / area_scale(28.0) * factor("pe_area")


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
    return np.exp(y) / 8.0 * energy_scale(node_nm) * factor("sram_energy")


def sram_area_mm2(kib, node_nm) -> np.ndarray:
    """SRAM macro area (CACTI, linear interpolation in capacity; linear extrapolation per KB)."""
    per_kb = np.interp(kib, _SRAM_KIB, _SRAM_MM2_45 / _SRAM_KIB)
    return np.asarray(kib) * per_kb * area_scale(node_nm) * factor("sram_area")


def dram_pj_per_byte(dram_type) -> np.ndarray:
    return lookup(dram_type, DRAM_PJ_PER_BIT) * 8.0 * factor("dram_energy")


# --- PE area: per-lane MAC datapath + per-PE control -------------------------------------------------
# The 1,690 µm² per single-lane int8 PE above (registers, control, interconnect share included) is split
# into the MAC lane and the PE's own logic (control, accumulator and operand registers, its share of the
# interconnect). PE_OVERHEAD_SHARE [assumption, range 0.25–0.6]: the share of a single-lane PE that is not
# the multiplier-adder. A wider PE (lanes > 1) pays the lane area per lane and the PE logic once, so
# PEs × lanes is a real trade-off: fewer, wider PEs save control area but balance work less well.
PE_OVERHEAD_SHARE = 0.4
# RTSA's augmented PE adds index / Δ logic: a threshold comparator and subtractor on the Δ input, the
# non-zero index register and the yₜ₋₁ accumulate path [assumption: +30% of the PE logic, range 0.1–0.6;
# RTSA publishes no area breakdown].
AUGMENTED_PE_EXTRA = 0.3


def lane_area_mm2(precision, node_nm) -> np.ndarray:
    """Area of one MAC lane (multiplier + adder at ``precision``) without the PE's control, mm²."""
    return pe_area_mm2(precision, node_nm) - pe_logic_area_mm2(node_nm)


def pe_logic_area_mm2(node_nm, augmented: bool = False) -> np.ndarray:
    """Per-PE control, accumulator and operand registers (once per PE whatever its lanes), mm²;
    ``augmented``: plus RTSA's index / Δ logic."""
    base = PE_AREA_UM2_28_INT8 * 1e-6 * PE_OVERHEAD_SHARE * area_scale(node_nm) / area_scale(28.0) * factor("pe_area")
    return base * (1.0 + (AUGMENTED_PE_EXTRA if augmented else 0.0))


def array_pe_area_mm2(pes, lanes, precision, node_nm, augmented: bool = False) -> np.ndarray:
    """Area of ``pes`` PEs of ``lanes`` MAC lanes each, mm² (shapes broadcast)."""
    return pes * (lanes * lane_area_mm2(precision, node_nm) + pe_logic_area_mm2(node_nm, augmented))


# --- supply voltage, clock and the V–f relation ----------------------------------------------------
# Nominal supply per node [src:stillmaker2017]: the supply of each node's published scaling data; the energy
# tables above stand for each node at its nominal supply.
_V_NOM_NODES = np.array([7.0, 10.0, 14.0, 16.0, 20.0, 32.0, 45.0, 65.0, 90.0, 130.0])
_V_NOM = np.array([0.7, 0.75, 0.8, 0.8, 0.9, 0.9, 1.0, 1.1, 1.2, 1.3])
# Alpha-power law [src:sakurai-newton1990]: gate delay ∝ V / (V − V_t)^α, so f ∝ (V − V_t)^α / V, with
# α ≈ 1.3 for velocity-saturated short-channel devices. V_t = VT_SHARE · V_nom [assumption, 0.3–0.45].
ALPHA = 1.3
VT_SHARE = 0.4
# Supply range a design may use: down to V_MIN_SHARE · V_nom (SRAM retention / near-threshold margin) and up
# to V_MAX_SHARE · V_nom (overdrive) [assumption, ranges 0.6–0.75 and 1.1–1.25].
V_MIN_SHARE = 0.65
V_MAX_SHARE = 1.2
# Clock of an accelerator datapath at 28 nm and nominal supply [assumption, 1.2–2.0 GHz: one MAC plus its
# pipeline register per cycle; published 28 nm DNN accelerators run at 0.2–1 GHz at reduced voltage, and
# 28 nm HPM application processors reach about 2 GHz]; other nodes scale as (28 / node)^F_NODE_EXPONENT
# [assumption, 0.3–1.0: the gate-delay gain per node shrank below 28 nm].
F_NOM_28_MHZ = 1700.0
F_NODE_EXPONENT = 0.5
# Clock tree and always-on flops: energy per cycle per MAC lane, as a share of one MAC's energy, while the
# accelerator is on (clock gating of idle lanes not modelled) [assumption, 0.05–0.3].
CLOCK_TREE_MAC_SHARE = 0.15


def nominal_voltage(node_nm) -> np.ndarray:
    return np.interp(node_nm, _V_NOM_NODES, _V_NOM)


def _speed(v, vt) -> np.ndarray:
    return np.maximum(v - vt, 1e-9) ** ALPHA / v


def nominal_clock_mhz(node_nm) -> np.ndarray:
    """Clock at the node's nominal supply, MHz."""
    return F_NOM_28_MHZ * (28.0 / np.asarray(node_nm, dtype=np.float64)) ** F_NODE_EXPONENT * factor("nominal_clock")


def max_clock_mhz(node_nm) -> np.ndarray:
    """Highest clock the node reaches at its overdrive supply (``V_MAX_SHARE`` · V_nom), MHz."""
    vn = nominal_voltage(node_nm)
    vt = VT_SHARE * vn
    return nominal_clock_mhz(node_nm) * _speed(V_MAX_SHARE * vn, vt) / _speed(vn, vt)


def _relative_speed(x) -> np.ndarray:
    """Clock at supply x · V_nom relative to the clock at V_nom. With V_t = VT_SHARE · V_nom it does not
    depend on the node: ((x − s)^α / x) / (1 − s)^α."""
    return _speed(x, VT_SHARE) / _speed(1.0, VT_SHARE)


#: the relative-speed curve on the allowed supply range, increasing in x: inverted by interpolation
_X_TABLE = np.linspace(V_MIN_SHARE, V_MAX_SHARE, 4097)
_R_TABLE = _relative_speed(_X_TABLE)


def supply_voltage(clock_mhz, node_nm) -> np.ndarray:
    """Lowest supply (V) that runs ``clock_mhz`` at ``node_nm`` by the alpha-power law; clocks below what
    ``V_MIN_SHARE`` · V_nom reaches run at that floor; clocks above the maximum are clipped at the overdrive
    supply (callers flag them invalid). The node-independent relative-speed curve is inverted by linear
    interpolation on 4,097 points (error < 1 µV)."""
    f = np.asarray(clock_mhz, dtype=np.float64)
    vn = nominal_voltage(node_nm)
    ratio = f / nominal_clock_mhz(node_nm)
    return np.interp(ratio, _R_TABLE, _X_TABLE) * vn


def dynamic_voltage_scale(clock_mhz, node_nm) -> np.ndarray:
    """(V / V_nom)²: dynamic energy per operation relative to the tables (taken at nominal supply)."""
    return (supply_voltage(clock_mhz, node_nm) / nominal_voltage(node_nm)) ** 2


def static_voltage_scale(clock_mhz, node_nm) -> np.ndarray:
    """V / V_nom: static power relative to nominal supply (leakage current taken as constant)."""
    return supply_voltage(clock_mhz, node_nm) / nominal_voltage(node_nm)

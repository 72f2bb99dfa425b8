"""Special-function unit: softmax, layernorm and activation on the GEMM output stream.

Per element, the passes over the data and the arithmetic operations come from the standard formulas:
softmax = max and exp-sum pass, then normalise (2 passes; sub, exp as a 3-term polynomial, add, mul ≈
5 fp16 MAC-equivalents); layernorm = mean/variance pass, then scale and shift (2 passes; ≈4);
GELU as a polynomial (1 pass; ≈5, the polynomial GELU of HeatViT [src:heatvit2023]). Arithmetic is fp16.
"""

from __future__ import annotations

import numpy as np

from dse.hardware import technology as tech

PASSES = {"softmax": 2.0, "layernorm": 2.0, "activation": 1.0}
OPS_PER_ELEM = 5.0  # fp16 MAC-equivalents per element (max of the three formulas above)
#: one SFU lane ≈ 2 fp16 PEs of area (a multiplier-adder plus a small LUT/polynomial unit) [D]
LANE_AREA_FP16_PES = 2.0


def cycles(kind, elems, lanes):
    """SFU cycles of ``elems`` elements of op ``kind`` (a name, or one name per entry of the leading axis)."""
    elems = np.asarray(elems, dtype=np.float64)
    if isinstance(kind, str):
        return PASSES.get(kind, 1.0) * elems / lanes
    passes = np.array([PASSES.get(k, 1.0) for k in kind])
    return passes.reshape((-1,) + (1,) * (elems.ndim - 1)) * elems / lanes


def energy_pj_per_elem(node_nm):
    return OPS_PER_ELEM * tech.mac_energy_pj("fp16", node_nm)


def lane_area_mm2(node_nm):
    return LANE_AREA_FP16_PES * tech.pe_area_mm2("fp16", node_nm)

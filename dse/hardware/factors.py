"""Multiplicative factors on the technology and calibration constants, for Monte Carlo evaluation.

Every constant the cost model takes from a table (MAC, SRAM and DRAM energies, leakage, PE and SRAM
area, the clock tree's share, the nominal clock of the V–f relation, the FPGA/ASIC gaps and static floor,
the CPU/GPU roofline fit and power) is read through :func:`factor`, which is ``1.0`` unless a caller has
set :class:`Factors` for the duration of one evaluation with :func:`applied`. A factor may be a numpy array
over design points (one value per Monte Carlo sample), so N samples of the technology are evaluated in one
vectorized model call (:mod:`dse.uncertainty`). The factors live in a :class:`contextvars.ContextVar`:
set only inside a ``with applied(...)`` block, restored on exit, private to the thread or task that set it.

Which constant each factor multiplies (the functions that read it):

=============== ============================================================================================
mac_energy      MAC energy (and with it the register-file, SFU and clock-tree energies):
                :func:`dse.hardware.technology.mac_energy_pj`
sram_energy     SRAM read/write energy per byte: :func:`~dse.hardware.technology.sram_read_pj_per_byte`
dram_energy     DRAM energy per byte: :func:`~dse.hardware.technology.dram_pj_per_byte`
pe_area         PE area (lane and per-PE logic; SFU lanes): ``pe_area_mm2``, ``pe_logic_area_mm2``
sram_area       SRAM area per KB: :func:`~dse.hardware.technology.sram_area_mm2`
nominal_clock   clock of the node at its nominal supply (V–f relation): ``nominal_clock_mhz``
leakage         static power of an ASIC (× ``leakage_mw_per_mm2``): :func:`dse.hardware.cost.asic_context`
clock_tree      clock-tree energy per cycle: :func:`dse.hardware.cost.asic_context`
fpga_power_gap  FPGA/ASIC dynamic-power gap: :func:`dse.hardware.cost.fpga_context`
fpga_area_gap   FPGA/ASIC area gap: :func:`dse.hardware.cost.fpga_context`
fpga_static     FPGA static floor (W): :func:`dse.hardware.cost.fpga_context`
cpu_time        every CPU kernel time (the roofline fit's residual): :func:`dse.accelerators.roofline.machine`
gpu_time        every GPU kernel time: :func:`dse.accelerators.roofline.machine`
cpu_power       CPU average power while running (× TDP): ``Roofline._evaluate``
gpu_power       GPU average power while running (× module power / TDP): ``Roofline._evaluate``
cpu_fixed_power the share of a CPU's power a matched (smaller) copy keeps: ``Platform.matched_power_w``
gpu_fixed_power the share of a GPU's power a matched (smaller) copy keeps: ``Platform.matched_power_w``
=============== ============================================================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from typing import Any

from dse.errors import choice_error


@dataclass(frozen=True)
class Factors:
    """One multiplicative factor per constant (``1.0``: the tables as cited); a float or an array over points."""

    mac_energy: Any = 1.0
    sram_energy: Any = 1.0
    dram_energy: Any = 1.0
    pe_area: Any = 1.0
    sram_area: Any = 1.0
    nominal_clock: Any = 1.0
    leakage: Any = 1.0
    clock_tree: Any = 1.0
    fpga_power_gap: Any = 1.0
    fpga_area_gap: Any = 1.0
    fpga_static: Any = 1.0
    cpu_time: Any = 1.0
    gpu_time: Any = 1.0
    cpu_power: Any = 1.0
    gpu_power: Any = 1.0
    cpu_fixed_power: Any = 1.0
    gpu_fixed_power: Any = 1.0


#: the factor names, in declaration order
NAMES = tuple(f.name for f in fields(Factors))
NOMINAL = Factors()
_CURRENT: ContextVar[Factors] = ContextVar("dse_technology_factors", default=NOMINAL)


def factor(name: str) -> Any:
    """The factor in force for ``name`` (``1.0`` outside :func:`applied`)."""
    return getattr(_CURRENT.get(), name)


def current() -> Factors:
    return _CURRENT.get()


def make(**values: Any) -> Factors:
    """:class:`Factors` with ``values`` set (the rest 1.0); ``InputError`` naming an unknown factor."""
    for key in values:
        if key not in NAMES:
            raise choice_error("factor", key, NAMES)
    return replace(NOMINAL, **values)


@contextlib.contextmanager
def applied(factors: Factors) -> Iterator[Factors]:
    """Evaluate the model under ``factors`` inside the block; the previous factors come back on exit."""
    token = _CURRENT.set(factors)
    try:
        yield factors
    finally:
        _CURRENT.reset(token)

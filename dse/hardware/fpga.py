"""FPGA constants shared by every FPGA design (``windowed``, ``heatvit``): one calibration for both.

* FPGA/ASIC gap for designs built from hard DSP and block-RAM blocks: dynamic power ×7.1, area ×18
  (Kuon & Rose, IEEE TCAD 26(2), 2007, "Measuring the gap between FPGAs and ASICs"; 14× / 35× for soft
  logic only) [src:kuon-rose2007]: the area figures are in its abstract [V], the 7.1× power gap is recalled [R].
* Static + processing-system floor of the SoC: derived from the poster's measured 1.552 W on-chip
  [src:windowed-poster] minus this model's dynamic power of the poster's build (``windowed`` with
  ``poster_config()`` on DeiT-Tiny: ≈0.07 W) → 1.48 W. The same floor is used for the ZCU102 (its own
  figure [NF]); `tests/test_rtsa_windowed.py` checks the poster build's total stays within 5% of 1.552 W.
* BRAM36 = 36 Kib = 4.5 KiB (Xilinx UG473) [src:xilinx-ug473].
"""

POWER_GAP = 7.1
AREA_GAP = 18.0
STATIC_W = 1.48
POSTER_ON_CHIP_W = 1.552
BRAM36_KIB = 4.5

#: Highest DSP clock of the speed grade each board ships with [src:xilinx-fmax] (Zynq-7000 -1: DSP48E1 464 MHz;
#: Zynq UltraScale+ -2: DSP48E2 775 MHz): a design clocked above it does not
#: close timing. The fabric's supply is fixed, so the clock does not change energy per operation.
FMAX_MHZ = {"xc7z020": 464.0, "xc7z010": 464.0, "zcu102": 775.0}

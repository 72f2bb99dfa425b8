"""Registry of accelerator cost models by name: built-in modules, installed plugins, plugin files.

One row per accelerator (:class:`Entry`: name, the model object, where it came from). Rows come from

* the built-in modules of this package: every module that defines ``ACCELERATORS`` (a tuple of
  :class:`Accelerator` instances) is found by itself, so adding one means adding one module;
* installed packages, through the entry-point group ``rtsa_dse.accelerators`` (:data:`ENTRY_POINT_GROUP`):
  each entry point names an :class:`Accelerator` subclass or instance, or a tuple of them;
* plugin files (``rtsa-dse --plugin FILE.py``, :mod:`dse.plugins`) that call :func:`register`.

A built-in name cannot be taken by a plugin; a plugin file given on the command line wins over an
installed entry point of the same name. An entry point that fails to load is skipped with a warning.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np

from dse import plugins
from dse.accelerators.base import COMPONENTS, STAGES, Accelerator, Evaluation, Param
from dse.errors import InputError, choice_error

__all__ = [
    "Accelerator", "Evaluation", "Param", "STAGES", "COMPONENTS", "REGISTRY", "ENTRY_POINT_GROUP", "Entry",
    "entries", "get", "names", "origin", "register", "unregister", "presets", "preset_names", "with_preset",
    "label", "canonical",
]  # fmt: skip

ENTRY_POINT_GROUP = "rtsa_dse.accelerators"
BUILTIN = "built-in"
#: origin of a registration made by Python code outside a plugin file or entry point (a script, a test)
RUNTIME = "registered at run time"


@dataclass(frozen=True)
class Entry:
    """One registered accelerator: its ``name``, the model, and ``origin`` (``built-in``,
    ``entry point NAME (DIST VERSION)``, ``plugin /abs/FILE.py`` or ``registered at run time``)."""

    name: str
    accelerator: Accelerator
    origin: str

    @property
    def plugin_file(self) -> str | None:
        """The plugin file it came from, if any."""
        return self.origin.removeprefix("plugin ") if self.origin.startswith("plugin ") else None


#: name → accelerator (read through :func:`get`; tests may add to it directly)
REGISTRY: dict[str, Accelerator] = {}
_ORIGINS: dict[str, str] = {}
_state = {"builtins": False, "entry_points": False}


def register(obj: Any) -> Any:
    """Add an accelerator (an :class:`Accelerator` instance, or a subclass to instantiate); returns ``obj``,
    so that it also works as a class decorator (``@register class Mine(Accelerator): ...``).

    Errors (``InputError``, field ``plugin``): not an accelerator, no ``name``, or a name that a built-in
    or another plugin file already has. Registering the same class again is a no-op.
    """
    acc = obj() if isinstance(obj, type) and issubclass(obj, Accelerator) else obj
    where = plugins.current_origin() or RUNTIME
    if not isinstance(acc, Accelerator):
        raise InputError("plugin", f"{where}: register() takes an Accelerator subclass or instance, got {obj!r}")
    if not acc.name or not isinstance(acc.name, str) or any(c.isspace() for c in acc.name):
        raise InputError("plugin", f"{where}: accelerator {type(acc).__name__} needs a name without spaces")
    _load_builtins()  # a plugin must not shadow a built-in loaded later
    old = REGISTRY.get(acc.name)
    if old is not None:
        old_where = _ORIGINS.get(acc.name, BUILTIN)
        if type(old) is type(acc):
            return obj  # the same model again (an entry point that registers at import, then is loaded)
        if old_where.startswith("plugin ") and where.startswith("entry point "):
            return obj  # the file given on the command line wins over the installed package
        if not (old_where.startswith("entry point ") and where.startswith("plugin ")):
            raise InputError("plugin", f"{where}: accelerator {acc.name!r} already exists ({old_where})")
    REGISTRY[acc.name] = acc
    _ORIGINS[acc.name] = where
    plugins.note("accelerator", acc.name)
    return obj


def unregister(name: str) -> None:
    """Remove ``name`` (tests; a no-op if absent)."""
    REGISTRY.pop(name, None)
    _ORIGINS.pop(name, None)


def _load_builtins() -> None:
    if _state["builtins"]:
        return
    _state["builtins"] = True
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for acc in getattr(module, "ACCELERATORS", ()):
            if acc.name not in REGISTRY:
                REGISTRY[acc.name] = acc
                _ORIGINS[acc.name] = BUILTIN


def _as_accelerators(obj: Any) -> list[Any]:
    if isinstance(obj, Accelerator) or (isinstance(obj, type) and issubclass(obj, Accelerator)):
        return [obj]
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes):
        return list(obj)
    return [obj]


def _load_entry_points() -> None:
    if _state["entry_points"]:
        return
    _state["entry_points"] = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = f" ({ep.dist.name} {ep.dist.version})" if ep.dist is not None else ""
        where = f"entry point {ep.name}{dist}"
        try:
            with plugins.origin(where):
                for obj in _as_accelerators(ep.load()):
                    register(obj)
        except Exception as err:  # a broken third-party package must not break every command
            warnings.warn(f"{ENTRY_POINT_GROUP}: {where} skipped: {type(err).__name__}: {err}", stacklevel=2)


def _ensure() -> None:
    _load_builtins()
    _load_entry_points()


def names() -> list[str]:
    """Every registered accelerator name: built-ins (by module), then installed and file plugins."""
    _ensure()
    return list(REGISTRY)


def get(name: str) -> Accelerator:
    """The accelerator called ``name``, or ``NAME:PRESET`` (see :func:`with_preset`); ``InputError`` (field
    ``accelerator``) listing the names otherwise."""
    if ":" in name:
        return with_preset(name)
    if name not in names():
        err = choice_error("accelerator", name, names())  # the closest names, cut to one terminal line
        raise InputError("accelerator", str(err).split(": ", 1)[1] + " (others: --plugin FILE.py)")
    return REGISTRY[name]


# ---- presets: NAME:PRESET names a registered accelerator at a declared parameter setting ---------------------
#
# An accelerator declares named settings as ``presets = {"PRESET": {param: value, ...}}`` (a class attribute;
# e.g. ``cpu`` / ``gpu`` one per hardware platform, ``vitcod`` its released simulator's quirk). ``NAME:PRESET``
# is accepted wherever an accelerator name is (compare, sweep-spec baselines, plots, reproduce); outputs label an
# accelerator by its preset (:func:`label`) so that one word never names two machines: ``gpu:h100``, not ``gpu``.


def presets(name: str) -> dict[str, dict[str, Any]]:
    """The presets ``name`` declares (``{}`` if none)."""
    return {k: dict(v) for k, v in (getattr(get(name.partition(":")[0]), "presets", None) or {}).items()}


def preset_names() -> list[str]:
    """Every ``NAME:PRESET`` of the registered accelerators."""
    return [f"{n}:{k}" for n in names() for k in presets(n)]


def with_preset(text: str) -> Accelerator:
    """``NAME:PRESET`` → a copy of accelerator ``NAME`` whose parameter defaults are the preset's values
    (still an instance of its class, with the same name; ``label`` = ``NAME:PRESET``, ``preset`` = the values).

    Errors (``InputError``, field ``accelerator``): unknown name, or a preset it does not declare (the message
    lists the ones it does).
    """
    import copy
    from dataclasses import replace

    name, _, preset = text.partition(":")
    base = get(name)
    table = presets(name)
    if preset not in table:
        allowed = ", ".join(f"{name}:{k}" for k in table) or f"none ({name} declares no presets)"
        raise InputError("accelerator", f"unknown preset {text!r}; allowed: {allowed}")
    values = table[preset]
    known = {q.name: q for q in base.params}
    for key, value in values.items():
        if key not in known:
            raise InputError("accelerator", f"preset {text!r} sets {key!r}, which {name} has no parameter for")
        known[key].coerce(value)
    acc = copy.copy(base)
    acc.params = tuple(replace(q, default=values[q.name]) if q.name in values else q for q in base.params)
    acc.label = f"{name}:{preset}"
    acc.preset = dict(values)
    return acc


def label(acc: Accelerator | str, values: dict[str, Any] | None = None) -> str:
    """The name outputs show: ``NAME:PRESET`` when ``acc`` at ``values`` (over its defaults) is one of its
    presets (a bare ``gpu`` is ``gpu:h100``), else the accelerator's name."""
    acc = get(acc) if isinstance(acc, str) else acc
    table = getattr(acc, "presets", None) or {}
    if not table:
        return getattr(acc, "label", acc.name)
    p = acc.resolve({k: v for k, v in (values or {}).items() if k in {q.name for q in acc.params}})
    for preset, setting in table.items():
        if all(k in p and np.asarray(p[k]).size == 1 and np.asarray(p[k]).item() == v for k, v in setting.items()):
            return f"{acc.name}:{preset}"
    return acc.name


def canonical(text: str) -> str:
    """``text`` as outputs label it (``gpu`` → ``gpu:h100``); unchanged if it names no registered accelerator."""
    try:
        return label(get(text))
    except InputError:
        return text


def origin(name: str) -> str:
    """Where ``name`` came from (see :class:`Entry`)."""
    get(name)
    return _ORIGINS.get(name, BUILTIN)


def entries() -> list[Entry]:
    """The registry's rows, in :func:`names` order."""
    return [Entry(n, REGISTRY[n], _ORIGINS.get(n, BUILTIN)) for n in names()]

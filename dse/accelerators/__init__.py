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

from dse import plugins
from dse.accelerators.base import COMPONENTS, STAGES, Accelerator, Evaluation, Param
from dse.errors import InputError

__all__ = [
    "Accelerator", "Evaluation", "Param", "STAGES", "COMPONENTS", "REGISTRY", "ENTRY_POINT_GROUP", "Entry",
    "entries", "get", "names", "origin", "register", "unregister",
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
    """The accelerator called ``name``; ``InputError`` (field ``accelerator``) listing the names otherwise."""
    if name not in names():
        raise InputError(
            "accelerator",
            f"unknown value {name!r}; allowed: {', '.join(names())} "
            "(another one needs its plugin: rtsa-dse --plugin FILE.py …, or its package installed)",
        )
    return REGISTRY[name]


def origin(name: str) -> str:
    """Where ``name`` came from (see :class:`Entry`)."""
    get(name)
    return _ORIGINS.get(name, BUILTIN)


def entries() -> list[Entry]:
    """The registry's rows, in :func:`names` order."""
    return [Entry(n, REGISTRY[n], _ORIGINS.get(n, BUILTIN)) for n in names()]

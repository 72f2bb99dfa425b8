"""Plugin files: Python files that extend rtsa-dse without being installed (``rtsa-dse --plugin FILE.py``).

A plugin file is imported once per process (by its resolved path) under a private module name, and
registers what it adds by calling the registries' ``register`` functions while it is imported:
:func:`dse.accelerators.register` (an accelerator), :func:`dse.search.samplers.register` (a sampler),
:func:`dse.accuracy.register` (an accuracy method). A file that registers nothing is an input error.
Installed packages use the entry-point group ``rtsa_dse.accelerators`` instead (see
:mod:`dse.accelerators`).

A study records the plugin files that were loaded when it was created (study attribute
:attr:`dse.search.results_schema.StudyKeys.plugins`, absolute paths), so that ``report`` and ``pareto`` re-load them by themselves
(:func:`load_recorded`); ``export`` needs no model.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import importlib.util
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from dse.errors import InputError


def __getattr__(name: str):
    """``STUDY_ATTR``: the study user attribute listing a study's plugin files (kept for old imports; it
    lives in :mod:`dse.search.results_schema`, which this module cannot import at load time: a cycle)."""
    if name == "STUDY_ATTR":
        from dse.search.results_schema import STUDY

        return STUDY.plugins
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: where the registrations being made now come from (a plugin file, an entry point), for error messages
_ORIGIN: contextvars.ContextVar[str | None] = contextvars.ContextVar("rtsa_dse_plugin_origin", default=None)


@dataclass
class Plugin:
    """One loaded plugin file and what it registered (``kind`` → names)."""

    path: Path
    module: ModuleType
    registered: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [f"{kind} {name}" for kind, names in self.registered.items() for name in names]


_LOADED: dict[Path, Plugin] = {}
_LOADING: list[Plugin] = []


def current_origin() -> str | None:
    """The plugin file or entry point whose registrations are running now; None for built-ins."""
    return _ORIGIN.get()


@contextlib.contextmanager
def origin(text: str) -> Iterator[None]:
    """Attribute the registrations made inside to ``text`` (``plugin FILE``, ``entry point NAME``)."""
    token = _ORIGIN.set(text)
    try:
        yield
    finally:
        _ORIGIN.reset(token)


def note(kind: str, name: str) -> None:
    """Called by every registry's ``register``: counts what the plugin file being loaded adds."""
    if _LOADING:
        _LOADING[-1].registered.setdefault(kind, []).append(name)


def load_file(path: str | Path, *, field_name: str = "--plugin") -> Plugin:
    """Import the plugin file ``path`` (once per process) and return what it registered.

    Errors (``InputError`` naming ``field_name``): no such file, not a ``.py`` file, the import raised,
    or the file registered nothing.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(field_name, f"plugin file not found: {path}")
    if p.suffix != ".py":
        raise InputError(field_name, f"{path}: a plugin is a Python file (FILE.py)")
    p = p.resolve()
    if p in _LOADED:
        return _LOADED[p]
    digest = hashlib.sha1(str(p).encode()).hexdigest()[:10]
    module_name = f"rtsa_dse_plugin_{p.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, p)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise InputError(field_name, f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    plugin = Plugin(p, module)
    sys.modules[module_name] = module
    _LOADING.append(plugin)
    try:
        with origin(f"plugin {p}"):
            spec.loader.exec_module(module)
    except InputError:
        sys.modules.pop(module_name, None)
        raise
    except Exception as err:  # the plugin's own code failed: say where, in one line
        sys.modules.pop(module_name, None)
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise InputError(field_name, f"{path}: {type(err).__name__}: {first}".rstrip(": ")) from None
    finally:
        _LOADING.pop()
    if not plugin.registered:
        sys.modules.pop(module_name, None)
        raise InputError(
            field_name, f"{path} registered nothing; call dse.accelerators.register(...) (or another registry's)"
        )
    _pickle_by_value(module)
    _LOADED[p] = plugin
    return plugin


def _pickle_by_value(module: ModuleType) -> None:
    """Worker processes (``sweep --jobs N``) cannot import a plugin file's private module: pickle its
    classes by value instead (cloudpickle, which joblib's process pool uses)."""
    import cloudpickle  # sweep --jobs and dask pickle with it; joblib ≥ 1.5 no longer vendors its own copy

    with contextlib.suppress(ValueError):
        cloudpickle.register_pickle_by_value(module)


def loaded_files() -> list[str]:
    """Absolute paths of the plugin files loaded in this process, in load order."""
    return [str(p) for p in _LOADED]


def load_recorded(paths: Iterable[str], *, field_name: str = "study") -> list[Plugin]:
    """Re-load the plugin files a study recorded (``dse.search.results_schema.STUDY.plugins``); a missing file is an input error
    that says to pass ``--plugin`` with its new location."""
    out = []
    for path in paths:
        if not Path(path).is_file():
            if _LOADED:  # the --plugin files given win (a study whose plugin moved: pass its new location)
                continue
            raise InputError(field_name, f"the study was made with plugin {path}, which is gone; pass --plugin FILE.py")
        out.append(load_file(path, field_name=field_name))
    return out

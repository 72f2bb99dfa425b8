"""Registry of accelerator cost models by name."""

from __future__ import annotations

from dse.accelerators.base import COMPONENTS, STAGES, Accelerator, Evaluation, Param
from dse.errors import choice_error

__all__ = ["Accelerator", "Evaluation", "Param", "STAGES", "COMPONENTS", "REGISTRY", "get", "names"]


def _load() -> dict[str, Accelerator]:
    registry: dict[str, Accelerator] = {}
    # one import per accelerator module; each exposes ACCELERATORS (a tuple of instances)
    import importlib

    for mod in MODULES:
        m = importlib.import_module(f"dse.accelerators.{mod}")
        for acc in m.ACCELERATORS:
            registry[acc.name] = acc
    return registry


MODULES = ("systolic", "rtsa", "windowed", "vitcod", "heatvit", "roofline")
REGISTRY: dict[str, Accelerator] = {}


def names() -> list[str]:
    if not REGISTRY:
        REGISTRY.update(_load())
    return list(REGISTRY)


def get(name: str) -> Accelerator:
    if name not in names():
        raise choice_error("accelerator", name, names())
    return REGISTRY[name]

"""Command-line options every workload-taking command shares: architecture overrides and a sparsity table.

``--workload`` itself takes a zoo name, a model file (``*.toml``) or an ONNX graph (``*.onnx``); see
:mod:`dse.workloads.models`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from dse.sparsity.table import SparsityRef
from dse.workloads.zoo import ATTENTION_TYPES

#: (option, keyword, click type, help) of the architecture overrides, as ``workloads show`` has them
ARCHITECTURE = (
    ("--depth", "depth", int, "Override: number of blocks."),
    ("--dim", "dim", int, "Override: embedding dimension."),
    ("--heads", "heads", int, "Override: attention heads."),
    ("--mlp-ratio", "mlp_ratio", float, "Override: MLP hidden / dim."),
    ("--patch", "patch", int, "Override: patch size (pixels)."),
    ("--tubelet", "tubelet", int, "Override: tubelet depth (frames)."),
    ("--window", "window", int, "Override (Video Swin): spatial window side."),
    ("--attention", "attention", click.Choice(tuple(ATTENTION_TYPES)), "Override (video models): attention type."),
)
ARCHITECTURE_KEYS = tuple(k for _, k, _, _ in ARCHITECTURE)
WORKLOAD_HELP = "Model: a zoo name (`rtsa-dse workloads`), a model file (.toml) or an ONNX graph (.onnx)."


def architecture_options(skip: tuple[str, ...] = ()) -> Callable:
    """Decorator adding the architecture overrides (those not in ``skip``) to a click command."""

    def deco(f: Callable) -> Callable:
        for opt, key, typ, help_ in reversed(ARCHITECTURE):
            if key not in skip:
                f = click.option(opt, key, type=typ, help=help_)(f)
        return f

    return deco


sparsity_option = click.option(
    "--sparsity", "sparsity", metavar="FILE.csv",
    help="Per-layer sparsity table (delta sparsity, attention keep share per sub-vector length; written by "
    "`rtsa-dse profile-model`). A --set sparsity_linear / sparsity_attention overrides it model-wide.",
)  # fmt: skip


def pop_architecture(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove the architecture options from a command's keyword arguments; return those given."""
    out = {k: kwargs.pop(k, None) for k in ARCHITECTURE_KEYS}
    return {k: v for k, v in out.items() if v is not None}


def workload_title(model: str, overrides: Mapping[str, Any]) -> str:
    """``model`` followed by the architecture overrides given (as returned by :func:`pop_architecture`), e.g.
    ``videomae-s [depth=4 attention=divided]``, so a saved output's header says which architecture was run."""
    if not overrides:
        return model
    text = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items())
    return f"{model} [{text}]"


def note_free_size(model: str, resolution, frames) -> None:
    """Print (stderr) a note when ``model`` is an ONNX graph with a free input size and the command set none."""
    if isinstance(model, str) and model.lower().endswith(".onnx"):
        from dse.workloads import onnx_import

        note = onnx_import.free_size(model, resolution, frames)
        if note:
            click.echo(f"note: {note}", err=True)


def sparsity_ref(path: str | None, explicit: Mapping[str, Any]) -> SparsityRef | None:
    """The table to attach, minus the quantities an explicitly set scalar knob overrides."""
    if path is None:
        return None
    return SparsityRef(path, delta="sparsity_linear" not in explicit, attention="sparsity_attention" not in explicit)

"""Rendering of tabular results as a table, JSON or CSV (the CLI's ``--format``)."""

from __future__ import annotations

import json
import math
from typing import Any

import click
import numpy as np
import pandas as pd

FORMATS = ("table", "json", "csv")
format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
)


def to_builtin(x: Any) -> Any:
    """numpy scalars/arrays → Python numbers/lists (JSON-safe; NaN/inf → None)."""
    if isinstance(x, dict):
        return {str(k): to_builtin(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [to_builtin(v) for v in x]
    if isinstance(x, np.ndarray):
        return to_builtin(x.item() if x.ndim == 0 else x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(to_builtin(obj), indent=2))


def echo_frame(df: pd.DataFrame, fmt: str, title: str | None = None, floatfmt: str = "{:.4g}") -> None:
    """Print a DataFrame as an aligned table or CSV (JSON callers build their own object)."""
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
        return
    if title:
        click.echo(title)
    formatters = {c: floatfmt.format for c in df.columns if df[c].dtype.kind == "f"}
    click.echo(df.to_string(index=False, formatters=formatters))

"""Rendering of tabular results as a table, JSON or CSV (the CLI's ``--format``)."""

from __future__ import annotations

import json
import math
from typing import Any

import click
import numpy as np
import pandas as pd

FORMATS = ("table", "json", "csv")
#: a table's width by default: it fits a 100-column terminal (``--wide`` prints it whole)
WIDTH = 100
_WIDE = {"on": False}


def _set_wide(_ctx, _param, value: bool) -> bool:
    _WIDE["on"] = bool(value)
    return value


def format_option(f):
    """``--format table|json|csv`` and ``--wide`` (tables at full width instead of fitting 100 columns)."""
    f = click.option("--wide", is_flag=True, expose_value=False, callback=_set_wide, is_eager=True,
                     help=f"Print tables at full width (default: fit {WIDTH} columns, long cells cut with …).")(f)  # fmt: skip
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
    )(f)


def wide() -> bool:
    """Whether this command runs with ``--wide``."""
    return _WIDE["on"]


def echo_text(text: str, indent: str = "  ") -> None:
    """A line of prose, wrapped to :data:`WIDTH` columns unless ``--wide``."""
    if wide() or len(text) <= WIDTH:
        click.echo(text)
        return
    import textwrap

    click.echo(textwrap.fill(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False))


def fit_frame(df: pd.DataFrame, formatters: dict, width: int = WIDTH) -> tuple[str, list[str], bool]:
    """``df`` rendered in at most ``width`` columns: long text cells cut with …, then, if still too wide, the
    last columns left out. Returns (table text, names of the columns left out, whether cells were cut)."""
    text = df.to_string(index=False, formatters=formatters)
    if max(map(len, text.splitlines()), default=0) <= width:
        return text, [], False
    df = df.copy()
    texts = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
    # the leading columns name the rows (model, accelerator and parameter, claim): cut them last
    keys = [c for c in list(df.columns)[:2] if c in texts]
    others = [c for c in texts if c not in keys]

    def render(frame: pd.DataFrame) -> str:
        return frame.to_string(index=False, formatters={k: v for k, v in formatters.items() if k in frame.columns})

    def fits(t: str) -> bool:
        return max(map(len, t.splitlines()), default=0) <= width

    for limit in (48, 32, 24, 16, 12):  # 1. cut the descriptive cells
        for c in others:
            df[c] = df[c].map(lambda v, n=limit: v if not isinstance(v, str) or len(v) <= n else v[: n - 1] + "…")
        text = render(df)
        if fits(text):
            return text, [], True
    dropped: list[str] = []
    while len(df.columns) > len(keys) + 1 and not fits(text):  # 2. leave out the last columns
        dropped.insert(0, str(df.columns[-1]))
        df = df.iloc[:, :-1]
        text = render(df)
    for limit in (48, 32, 24, 16, 12):  # 3. only then cut the cells that name the rows
        if fits(text):
            break
        for c in keys:
            df[c] = df[c].map(lambda v, n=limit: v if not isinstance(v, str) or len(v) <= n else v[: n - 1] + "…")
        text = render(df)
    return text, dropped, True


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
        echo_text(title)
    formatters = {c: floatfmt.format for c in df.columns if df[c].dtype.kind == "f"}
    if wide():
        click.echo(df.to_string(index=False, formatters=formatters))
        return
    text, dropped, cut = fit_frame(df, formatters)
    click.echo(text)
    if dropped:
        echo_text(f"({len(dropped)} more columns: {', '.join(dropped)}; --wide or --format csv shows them)")
    elif cut:
        echo_text("(long cells cut with …; --wide or --format csv shows them whole)")

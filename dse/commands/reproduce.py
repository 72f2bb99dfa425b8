"""``rtsa-dse reproduce``: each published claim beside the model's value and the ratio model/claim."""

from __future__ import annotations

import click

from dse.commands.output import echo_frame, echo_json, format_option
from dse.reproduce import ASSUMPTIONS, all_claims


@click.command("reproduce")
@format_option
def command(fmt) -> None:
    """Published claims (RTSA, ViTCoD, windowed poster) vs the model, one calibration for all rows."""
    df = all_claims()
    if fmt == "json":
        echo_json({"assumptions": ASSUMPTIONS, "claims": df.to_dict(orient="records")})
        return
    if fmt == "csv":
        echo_frame(df, "csv")
        return
    click.echo("Assumptions (chosen once; the papers do not state them):")
    for k, v in ASSUMPTIONS.items():
        click.echo(f"  {k}: {v}")
    click.echo("")
    for source, group in df.groupby("source", sort=False):
        echo_frame(group[["claim", "published", "model", "unit", "ratio", "within_25pct"]], "table", title=source)
        click.echo("")
    off = df[~df["within_25pct"]]
    if len(off):
        click.echo(f"{len(off)} of {len(df)} rows outside ±25% of the claim: " + "; ".join(off["claim"]) +
                   " — see README 'Where the model disagrees'.")  # fmt: skip

"""``rtsa-dse reproduce``: each published claim beside the model's value and the ratio model/claim."""

from __future__ import annotations

import click

from dse.commands.output import echo_frame, echo_json, echo_text, format_option
from dse.commands.uncertainty_options import uncertainty_options
from dse.reproduce import ASSUMPTIONS, TOLERANCE, ZERO_WIDTH, all_claims, ratio_text

REPRODUCE_SAMPLES = 512


@click.command("reproduce")
@uncertainty_options(REPRODUCE_SAMPLES)
@format_option
def command(uncertainty, uncertainty_file, seed, fmt) -> None:
    """Published claims (RTSA, ViTCoD, windowed poster) vs the model, one calibration for all rows.

    With --uncertainty [N] (default 512 samples): each claim beside the model's median and 5–95% interval over
    N joint samples of the declared uncertain inputs, whether the claim lies inside, and the three inputs
    with the largest first-order effect on that row.
    """
    if uncertainty:
        _uncertain(uncertainty, uncertainty_file, seed, fmt)
        return
    df = all_claims()
    if fmt == "json":
        echo_json({"assumptions": ASSUMPTIONS, "claims": df.to_dict(orient="records")})
        return
    if fmt == "csv":
        echo_frame(df, "csv")
        return
    click.echo("Assumptions (chosen once; the papers do not state them):")
    for k, v in ASSUMPTIONS.items():
        echo_text(f"  {k}: {v}", indent="    ")
    click.echo("")
    for source, group in df.groupby("source", sort=False):
        shown = group.assign(ratio=group["ratio"].map(ratio_text))  # digits enough to read the verdict off
        echo_frame(shown[["claim", "published", "model", "unit", "ratio", "within_25pct"]], "table", title=source)
        click.echo("")
    off = df[~df["within_25pct"]]
    if len(off):
        echo_text(f"{len(off)} of {len(df)} rows outside ±25% of the claim: " + "; ".join(off["claim"]) +
                   " — see README 'Where the model disagrees'.")  # fmt: skip


def _uncertain(n: int, path: str | None, seed: int, fmt: str) -> None:
    from dse.reproduce import claims_under_uncertainty
    from dse.uncertainty.declared import load_overrides

    declared = load_overrides(path)
    df = claims_under_uncertainty(n, seed, declared)
    if fmt == "json":
        echo_json({"assumptions": ASSUMPTIONS, "samples": n, "seed": seed, "declared": declared.origin,
                   "quantiles": [0.05, 0.5, 0.95], "claims": df.to_dict(orient="records")})  # fmt: skip
        return
    if fmt == "csv":
        flat = df.assign(top_inputs=df["top_inputs"].map(";".join),
                         top_effects=df["top_effects"].map(lambda v: ";".join(f"{x:g}" for x in v)))  # fmt: skip
        echo_frame(flat, "csv")
        return
    echo_text(f"{n} Monte Carlo samples (seed {seed}) of the declared inputs ({declared.origin}); "
              "p5 / p50 / p95: the model's 5%, median and 95%; top inputs by first-order index")  # fmt: skip
    click.echo("")
    fixed = df["judged_by"] == ZERO_WIDTH
    shown = df.assign(top_inputs=df["top_inputs"].map(lambda v: ", ".join(v) or "–"),
                      inside=[f"{x}{'*' if f else ''}" for x, f in zip(df["inside"], fixed, strict=True)])  # fmt: skip
    for source, group in shown.groupby("source", sort=False):
        echo_frame(group[["claim", "published", "model", "inside", "p5", "p50", "p95", "unit", "top_inputs"]],
                   "table", title=source)  # fmt: skip
        click.echo("")
    if fixed.any():
        echo_text(f"* zero-width interval (no declared input moves this row): judged as plain `reproduce` does, "
                  f"inside when within ±{TOLERANCE:.0%} of the claim")  # fmt: skip
    out = df[~df["inside"]]
    echo_text(f"{len(df) - len(out)} of {len(df)} claims inside the model's 5–95% interval"
              + (" (* rows: within the tolerance)" if fixed.any() else "")
              + (f"; outside: {'; '.join(out['claim'])}" if len(out) else ""))  # fmt: skip

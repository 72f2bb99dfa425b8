"""``rtsa-dse breakdown``: stage latencies per resolution — which stage bounds, and the split design's stall."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from dse import accelerators
from dse.commands.evaluate import parse_sets
from dse.commands.output import echo_frame, echo_json, echo_text, format_option
from dse.commands.uncertainty_options import uncertainty_options
from dse.commands.workload_options import (
    WORKLOAD_HELP,
    architecture_options,
    note_free_size,
    pop_architecture,
    sparsity_option,
    sparsity_ref,
    workload_title,
)
from dse.errors import InputError
from dse.workloads import build


def parse_int_list(field: str, text: str) -> np.ndarray:
    try:
        vals = np.array([int(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise InputError(field, f"expected comma-separated positive integers, got {text!r}") from None
    if vals.size == 0 or np.any(vals <= 0):
        raise InputError(field, f"expected comma-separated positive integers, got {text!r}")
    return vals


def breakdown_frame(acc_name: str, model: str, resolutions: np.ndarray, frames, values: dict,
                    sub_lens: np.ndarray | None = None, sparsity=None, **overrides) -> pd.DataFrame:  # fmt: skip
    """One vectorized evaluation over all resolutions (× sub-vector lengths) → one row per combination.

    With ``sub_lens``, the design's ``sub_len`` takes each value: ``attention_keep`` (performed / dense
    attention MACs), the attention stage and the accuracy estimate show the granularity trade-off; with a
    sparsity table that gives keep shares per length, also ``mass_lost`` (attention mass pruned).
    """
    acc = accelerators.get(acc_name)
    res = resolutions if sub_lens is None else resolutions[:, None]
    wl = build(model, res, frames, sparsity=sparsity, **overrides)
    if sub_lens is not None:
        if "sub_len" not in {p.name for p in acc.params}:
            raise InputError(
                "--sub-len", f"{acc_name} has no sub_len parameter (sub-vector attention: rtsa, rtsa-split)"
            )
        values = {**values, "sub_len": np.asarray(sub_lens, dtype=np.float64)[None, :]}
    ev = acc.evaluate(wl, values)
    st = ev.stages
    shape = np.broadcast_shapes(np.shape(ev["latency_s"]), np.shape(res))
    flat = {}
    cols = {
        "resolution": np.broadcast_to(res, shape),
        "tokens": np.broadcast_to(wl.tokens, shape),
        "linear_ms": st["linear"]["latency_s"] * 1e3,
        "attention_ms": st["attention"]["latency_s"] * 1e3,
        "other_ms": st["other"]["latency_s"] * 1e3,
        "latency_ms": ev["latency_s"] * 1e3,
        "attention_share": ev["attention_share"],  # the schema's definition (share of the summed stage times)
        "bound": ev.bound,
        "dense_bound": np.where(wl.attention_macs > wl.linear_macs, "attention", "linear"),
    }
    if sub_lens is not None:
        cols = {"resolution": cols.pop("resolution"), "sub_len": np.broadcast_to(np.asarray(sub_lens)[None, :], shape),
                **cols}  # fmt: skip
        cols["attention_keep"] = st["attention"]["macs"] / np.maximum(wl.attention_macs, 1)
        lost = _mass_lost(wl, np.asarray(sub_lens)[None, :])
        if lost is not None:
            cols["mass_lost"] = lost
        if "accuracy_drop" in ev.metrics:
            cols["accuracy_drop"] = ev["accuracy_drop"]
    for k, v in cols.items():
        flat[k] = np.broadcast_to(np.asarray(v), shape).reshape(-1)
    df = pd.DataFrame(flat)
    if acc_name == "rtsa-split" or ("stall_cycles" in ev.metrics and np.any(ev["stall_cycles"] > 0)):
        stall = ev["stall_cycles"] / (np.asarray(values.get("clock_mhz", acc.param("clock_mhz").default)) * 1e3)
        df["stall_ms"] = np.broadcast_to(stall, shape).reshape(-1)
        df["stall_share"] = np.broadcast_to(ev["stall_share"], shape).reshape(-1)
    return df


def _mass_lost(wl, sub_lens: np.ndarray) -> np.ndarray | None:
    """Attention mass in pruned sub-vectors, weighted by the attention ops' dense MACs (None without a table)."""
    num = den = 0.0
    found = False
    for op in wl.ops:
        if op.kind != "attn_score" or op.sparsity is None:
            continue
        lost = op.sparsity.mass_lost_at(sub_lens)
        if lost is None:
            return None
        found = True
        w = op.macs * op.repeat
        num = num + lost * w
        den = den + w
    return num / den if found else None


@click.command("breakdown")
@click.option(
    "--accelerator", "-a", default="rtsa", show_default=True, help="Accelerator (see `rtsa-dse accelerators`)."
)
@click.option("--workload", "-w", required=True, help=WORKLOAD_HELP)
@click.option("--resolutions", default="112,160,224,320,448", show_default=True, help="Comma-separated resolutions.")
@click.option("--frames", "-f", type=int, help="Input frames (default: the model's).")
@click.option("--sub-len", "sub_len", metavar="L,L,…", help="Comma-separated sub-vector lengths (e.g. 1,4,16,64): "
              "one row per resolution and length — the granularity trade-off.")  # fmt: skip
@architecture_options()
@sparsity_option
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Set an accelerator parameter (repeatable).")
@click.option("--output", "-o", "output", metavar="FILE", help="rtsa-split: also draw the unified-vs-split figure "
              "(.png, .svg or .pdf).")  # fmt: skip
@uncertainty_options()
@format_option
def command(accelerator, workload, resolutions, frames, sub_len, sparsity, sets, output, uncertainty, uncertainty_file,
            seed, fmt, **arch) -> None:  # fmt: skip
    """Per resolution: latency of the linear and attention stages, which one bounds, and any stall.

    ``dense_bound`` is the stage with more MACs before sparsity: where the workload's bottleneck lies.
    With --sub-len: ``attention_keep`` is the share of attention work kept at each sub-vector length.
    Without a sparsity table the keep share is the ``sparsity_attention`` knob at every length, so only
    the mask size and load imbalance move; a table from ``profile-model`` gives the measured keep share
    per length.

    With ``-a rtsa-split`` (and no --sub-len): RTSA, the split re-tuned at each resolution (an oracle) and
    the split fixed once (its ``split``, or with none set the best static split for these resolutions),
    same PEs, buffer and bandwidth, compared by period and latency (:mod:`dse.split_argument`).

    With --uncertainty N: per resolution, the 5% / median / 95% of the latency, stage times and attention share
    over N joint samples of the declared inputs, and ``p_attention_bound`` (not with --sub-len).
    """
    res = parse_int_list("resolutions", resolutions)
    note_free_size(workload, res, frames)
    if uncertainty and sub_len is not None:
        raise InputError("--uncertainty", "not with --sub-len; give one resolution sweep at a time")
    if (accelerator == "rtsa-split" and sub_len is None and sparsity is None and not any(arch.values())
            and not uncertainty):  # fmt: skip
        _split_argument(workload, res, frames, parse_sets(sets), output, fmt)
        return
    if output:
        raise InputError("--output", "draws the unified-vs-split figure of -a rtsa-split only (without --sub-len, "
                         "--sparsity, architecture options or --uncertainty)")  # fmt: skip
    lens = parse_int_list("--sub-len", sub_len) if sub_len is not None else None
    acc = accelerators.get(accelerator)
    explicit = parse_sets(sets)
    if lens is not None and "sub_len" in explicit:
        raise InputError("--sub-len", "sub_len is also given by --set; give it in one place")
    values = acc.resolve(explicit)
    acc.refuse_beyond_limits(values)  # an impossible design (a clock above its node's maximum): exit 2, as in eval
    if lens is not None:
        values.pop("sub_len", None)
    overrides = pop_architecture(arch)
    df = breakdown_frame(accelerator, workload, res, frames, values, lens, sparsity_ref(sparsity, explicit),
                         **overrides)  # fmt: skip
    title = f"{accelerator} on {workload_title(workload, overrides)}: stage latency by resolution"
    if uncertainty:
        from dse.commands.uncertain import breakdown_output, breakdown_samples
        from dse.uncertainty import montecarlo as mc
        from dse.uncertainty.declared import load_overrides

        declared = load_overrides(uncertainty_file)
        draws = mc.sample(mc.inputs_for([acc], declared, explicit=explicit), uncertainty, seed)
        sampled = breakdown_samples(acc, workload, res, frames, values, set(explicit), draws,
                                    sparsity_ref(sparsity, explicit), **overrides)  # fmt: skip
        breakdown_output(df, sampled, draws, declared.origin, title, fmt,
                         {"accelerator": accelerator, "workload": workload, "architecture": overrides})  # fmt: skip
        return
    if fmt == "json":
        echo_json({"accelerator": accelerator, "workload": workload, "architecture": overrides,
                   "rows": df.to_dict(orient="records")})  # fmt: skip
        return
    echo_frame(df, fmt, title=title)


def _split_argument(workload, res, frames, user: dict, output, fmt) -> None:
    from dse.split_argument import unified_vs_split

    split = accelerators.get("rtsa-split")
    split.refuse_beyond_limits(split.resolve(user))  # an impossible design: exit 2, as in eval
    if output:
        from dse.plots import figures, style

        style.output_format(Path(output))  # an unknown figure format: exit 2 before any work
    df, static = unified_vs_split(workload, [int(r) for r in res], user, frames)
    if output:
        with style.styled():
            fig = figures.split_argument_figure(df, static, f"{workload}: one array vs a split design")
        style.save(fig, output)
    if fmt == "json":
        echo_json({"accelerator": "rtsa-split", "workload": workload, "static_split": static,
                   "static_split_rule": static_rule(res, "split" in user), "rows": df.to_dict(orient="records")})  # fmt: skip
        return
    if fmt == "csv":
        echo_frame(df, "csv")
        return
    echo_text(f"{workload}: RTSA vs the split design on the same PEs, buffer and bandwidth; static split "
              f"{static:.3g} of the rows (period = time per input in steady state)")  # fmt: skip
    echo_text(static_rule(res, "split" in user))
    # the RTSA-gain columns before the detail, so fitting 100 columns drops the detail, not the gains
    show = df[["resolution", "rtsa_vs_static_period", "rtsa_vs_static_latency", "rtsa_vs_oracle_period",
               "rtsa_period_ms", "static_period_ms", "static_stall_share", "oracle_split", "oracle_period_ms"]]  # fmt: skip
    echo_frame(show, "table")


def static_rule(res, given: bool) -> str:
    """One line stating how the static split was chosen: the user's ``split``, or the split with the lowest
    arithmetic-mean period over the resolution set (:func:`dse.split_argument.unified_vs_split`), which the
    largest resolution, with the longest period, dominates."""
    if given:
        return "static split: the given --set split, fixed for every resolution"
    res = [int(r) for r in np.asarray(res).reshape(-1)]
    if len(set(res)) == 1:  # the static split is then the oracle's at that resolution
        return f"static split rule: the one split (whole PE rows) minimising the period at {res[0]}²"
    return (f"static split rule: the one split (whole PE rows) minimising the mean period over the resolutions "
            f"{', '.join(map(str, res))}; an arithmetic mean, so {max(res)}² (the longest period) dominates")  # fmt: skip

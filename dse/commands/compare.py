"""``rtsa-dse compare``: RTSA against the baselines on one workload, at defaults and at a matched budget."""

from __future__ import annotations

import click

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
from dse.commands.workloads import parse_resolution
from dse.compare import compare, notes, parse_accelerators, parse_match
from dse.workloads import build

_ACCS_HELP = ("Comma-separated names or NAME:PRESET (default rtsa,vitcod,heatvit,cpu:xeon16,gpu:h100; presets: "
              "gpu:h100, gpu:jetson-tx2, cpu:xeon16, cpu:cortex-a57, vitcod:released-sim).")  # fmt: skip
_MATCH_HELP = (
    "Resources to match to RTSA's: any of macs,buffer,bandwidth,clock. macs = RTSA's peak MAC rate "
    "(MACs/cycle × clock): a baseline keeping its own clock gets the MACs/cycle giving that rate."
)


@click.command("compare")
@click.option("--workload", "-w", required=True, help=WORKLOAD_HELP)
@click.option("--resolution", "-r", help="Input resolution R or HxW (default: the model's).")
@click.option("--frames", "-f", type=int, help="Input frames (default: the model's).")
@architecture_options()
@sparsity_option
@click.option("--accelerators", "accs", help=_ACCS_HELP)
@click.option("--match", help=_MATCH_HELP)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="RTSA parameter (the reference design).")
@uncertainty_options()
@format_option
def command(workload, resolution, frames, sparsity, accs, match, sets, uncertainty, uncertainty_file, seed, fmt,
            **arch) -> None:  # fmt: skip
    """Latency, energy, area of each accelerator; RTSA's speedup and energy-efficiency ratio over each.

    ``rtsa_speedup`` = accelerator latency / RTSA latency; ``rtsa_energy_ratio`` = its energy / RTSA's;
    ``power_w`` = average power (energy / latency, W; a matched CPU/GPU: the power of what it keeps).
    A --sparsity table's measured values reach the accelerators that model those mechanisms (RTSA).
    """
    names = parse_accelerators(accs)
    resources = parse_match(match)
    explicit = parse_sets(sets)
    rtsa = accelerators.get("rtsa")
    rtsa.refuse_beyond_limits(rtsa.resolve(explicit))  # --set gives RTSA's design: an impossible one exits 2
    overrides = pop_architecture(arch)
    wl = build(workload, parse_resolution(resolution), frames, sparsity=sparsity_ref(sparsity, explicit),
               **overrides)  # fmt: skip
    note_free_size(workload, resolution, frames)
    df = compare(wl, names, resources, ref_values=explicit)
    title = f"{workload_title(wl.model, overrides)} {int(wl.height)}x{int(wl.width)} frames={int(wl.frames)}"
    if uncertainty:
        from dse.commands.uncertain import compare_output
        from dse.compare import compare_samples
        from dse.uncertainty import montecarlo as mc
        from dse.uncertainty.declared import load_overrides

        declared = load_overrides(uncertainty_file)
        rows = [accelerators.get(n) for n in dict.fromkeys(("rtsa", *names))]
        # a design input on a parameter the user --set on RTSA moves nothing unless another row reads it
        inputs = [u for u in mc.inputs_for(rows, declared) if not (u.kind == "design" and u.key in explicit and
                  not any(_moves(u, a) for a in rows if a.name != "rtsa"))]  # fmt: skip
        draws = mc.sample(inputs, uncertainty, seed)
        samples = compare_samples(wl, names, resources, "rtsa", explicit, draws)
        extra = {"workload": wl.model, "architecture": overrides, "resolution": [int(wl.height), int(wl.width)],
                 "frames": int(wl.frames), "match": list(resources), "match_basis": "the reference's budget in each sample",
                 "notes": notes(df)}  # fmt: skip
        compare_output(df, samples, draws, declared.origin, title, fmt, extra, rows, {"rtsa": set(explicit)})
        if fmt == "table":
            for r in df[~df["valid"]].itertuples():
                echo_text(f"{r.accelerator} {r.setting}: invalid design point ({r.invalid_reason}); shown for reference")  # fmt: skip
            for line in notes(df):
                if not line.startswith("buffer_kib"):  # this table has no buffer column
                    echo_text(f"note: {line}")
        return
    if fmt == "json":
        echo_json({"workload": wl.model, "architecture": overrides, "resolution": [int(wl.height), int(wl.width)],
                   "frames": int(wl.frames), "match": list(resources), "rows": df.to_dict(orient="records"),
                   "notes": notes(df)})  # fmt: skip
        return
    cols = ["accelerator", "setting", "latency_s", "energy_j", "power_w", "area_mm2", "rtsa_speedup",
            "rtsa_energy_ratio", "peak_macs_per_cycle", "peak_gmacs_per_s", "buffer_kib", "dram_gbps", "clock_mhz"]  # fmt: skip
    if fmt != "table":
        echo_frame(df, fmt, title=title)
        return
    table = df[cols].copy()
    table["buffer_kib"] = [f"{v:.4g}" if v == v else "–" for v in table["buffer_kib"]]  # NaN: no cache modelled
    echo_frame(table, fmt, title=title)
    for r in df[~df["valid"]].itertuples():
        echo_text(f"{r.accelerator} {r.setting}: invalid design point ({r.invalid_reason}); shown for reference")
    for line in notes(df):
        echo_text(f"note: {line}")


def _moves(u, acc) -> bool:
    """Whether declared parameter input ``u`` perturbs accelerator ``acc`` (as :func:`mc.param_values` applies it)."""
    if u.target != "param" or u.key not in {p.name for p in acc.params}:
        return False
    return acc.name in u.accelerators or getattr(acc.param(u.key), "uncertainty", None) is u

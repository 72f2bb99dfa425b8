"""Sweep specs for tests in any folder (``tests/`` is on the import path, like ``onnx_graphs``)."""

from __future__ import annotations


def spec_text(
    study: str,
    accelerator: str,
    space: str,
    *,
    model: str = "deit-tiny",
    sampler: str = "random",
    trials: int = 10,
    seed: int | None = None,
    baselines: tuple[str, ...] = (),
    constraints: str = "",
) -> str:
    """A minimal sweep spec: ``accelerator`` on ``model``, latency and energy minimised, ``baselines`` (none by
    default), ``space`` (and ``constraints``) as TOML lines."""
    listed = ", ".join(f'"{b}"' for b in baselines)
    head = f'study = "{study}"\naccelerator = "{accelerator}"\nsampler = "{sampler}"\ntrials = {trials}\n'
    head += (f"seed = {seed}\n" if seed is not None else "") + f"baselines = [{listed}]\n"
    text = f'{head}\n[workload]\nmodel = "{model}"\n\n[objectives]\nlatency_s = "minimize"\nenergy_j = "minimize"\n'
    text += f"\n[space]\n{space.strip()}\n"
    return text + (f"\n[constraints]\n{constraints.strip()}\n" if constraints else "")

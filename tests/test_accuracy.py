"""Accuracy-drop estimates (dse.accuracy) against the published points they are fitted to."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse import accuracy as acc
from dse.errors import InputError

TOL = 0.05  # pp: the published accuracies are given to 0.1 pp
frac = st.floats(0.0, 1.0)

# one sparsity knob per method: (method, knob to vary, other fixed knobs)
SWEEPS = [
    ("windowed", "attn_sparsity", {"windowed_blocks": 6}),
    ("windowed", "windowed_blocks", {"attn_sparsity": 0.9486}),
    ("rtsa", "linear_sparsity", {"attn_sparsity": 0.5}),
    ("rtsa", "attn_sparsity", {"linear_sparsity": 0.5}),
    ("rtsa", "computation_reduction", {}),
    ("vitcod", "attn_sparsity", {}),
    ("heatvit", "token_pruned", {}),
]


def test_data_file_has_every_method_with_sources() -> None:
    pts = acc.accuracy_points()
    assert set(pts["method"]) == set(acc.methods())
    assert pts["source"].notna().all() and pts["label"].isin(["V", "D", "R"]).all()
    assert set(pts["bound"]) <= {"point", "upper", "unquantified"}
    poster = pts[pts["method"] == "windowed"].set_index("dataset")["drop_pp"]
    assert poster.to_dict() == {"cifar100": 0.9, "cifar10": 0.6, "cars": 0.8, "cub": 1.9, "imagenet": 2.1}


@pytest.mark.parametrize("method", acc.methods())
def test_zero_knobs_zero_drop(method: str) -> None:
    assert float(acc.estimate_accuracy_drop(method)) == 0.0
    knob = {
        "windowed": "attn_sparsity",
        "rtsa": "linear_sparsity",
        "vitcod": "attn_sparsity",
        "heatvit": "token_pruned",
    }
    assert float(acc.estimate_accuracy_drop(method, **{knob[method]: 0.0})) == 0.0


@pytest.mark.parametrize("method, knob, fixed", SWEEPS)
@settings(max_examples=40, deadline=None)
@given(a=frac, b=frac)
def test_monotone_in_each_knob(method: str, knob: str, fixed: dict, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    if knob == "windowed_blocks":
        lo, hi = 12 * lo, 12 * hi
    d_lo = acc.estimate_accuracy_drop(method, **fixed, **{knob: lo})
    d_hi = acc.estimate_accuracy_drop(method, **fixed, **{knob: hi})
    assert 0.0 <= d_lo <= d_hi + 1e-12


def test_vectorized_broadcast() -> None:
    lin = np.linspace(0, 1, 5)[:, None]
    att = np.linspace(0, 1, 3)[None, :]
    d = acc.estimate_accuracy_drop("rtsa", linear_sparsity=lin, attn_sparsity=att)
    assert d.shape == (5, 3) and np.all(np.diff(d, axis=0) >= 0) and np.all(np.diff(d, axis=1) >= 0)


def test_through_or_under_published_points() -> None:
    pts = acc.accuracy_points()
    for _, row in pts[pts["bound"].isin(["point", "upper"])].iterrows():
        knobs = acc.parse_knobs(row["knobs"])
        est = float(acc.estimate_accuracy_drop(row["method"], row["dataset"], **knobs))
        if row["bound"] == "upper":
            assert est <= row["drop_pp"] + 1e-9, row.to_dict()
        else:  # a single point per dataset: the per-dataset line passes through it
            assert est == pytest.approx(row["drop_pp"], abs=TOL), row.to_dict()
    # RTSA: "< 1%" at 5.32x saving is the binding bound; ViTCoD: "<= 1.5%" at 90% sparsity
    assert float(acc.estimate_accuracy_drop("rtsa", computation_reduction=1 - 1 / 5.32)) == pytest.approx(1.0, abs=0.01)
    assert float(acc.estimate_accuracy_drop("vitcod", attn_sparsity=0.9)) == pytest.approx(1.5)
    assert float(acc.estimate_accuracy_drop("heatvit", token_pruned=1 - 1086 / 2364)) == pytest.approx(0.3, abs=TOL)


def test_heatvit_point_is_the_re_implementations_schedule() -> None:
    """197 → 88 → 45 → 32 tokens with selectors before blocks 4, 7, 10 (1-indexed) of 12 [src:heatvit-reimpl]:
    three blocks at each count, so the mean pruned share is 1 − 1086/2364."""
    tokens = [197] * 3 + [88] * 3 + [45] * 3 + [32] * 3
    pruned = 1 - sum(tokens) / (12 * 197)
    row = acc.accuracy_points().query("method == 'heatvit' and bound == 'point'").iloc[0]
    assert acc.parse_knobs(row["knobs"])["token_pruned"] == pytest.approx(pruned, abs=5e-5)  # 4 decimals


# -- extrapolation beyond the published points ------------------------------------------------------------


@pytest.mark.parametrize("method", acc.methods())
def test_extrapolated_exactly_beyond_the_largest_published_point(method: str) -> None:
    """accuracy_extrapolated is 0 up to x_max (published knobs rounded to 4 decimals included) and 1 past it."""
    fit = acc.get_fit(method)
    knob = {"windowed": "attn_sparsity", "rtsa": "computation_reduction", "vitcod": "attn_sparsity",
            "heatvit": "token_pruned"}[method]  # fmt: skip
    x = np.array([0.0, fit.x_max, fit.x_max + 0.5 * acc.X_TOL, fit.x_max + 2 * acc.X_TOL, 1.0])
    knobs = {knob: x, **({"windowed_blocks": 12} if method == "windowed" else {})}  # windowed: x = sparsity
    m = acc.accuracy_metrics(method, **knobs)
    assert list(m["accuracy_extrapolated"]) == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert m["accuracy_extrapolated"].dtype == np.float64
    np.testing.assert_allclose(m["accuracy_drop"], acc.estimate_accuracy_drop(method, **knobs))


def test_every_published_point_lies_within_its_fit() -> None:
    pts = acc.accuracy_points()
    for _, row in pts[pts["bound"].isin(["point", "upper"])].iterrows():
        for dataset in (None, row["dataset"]):
            m = acc.accuracy_metrics(row["method"], dataset, **acc.parse_knobs(row["knobs"]))
            assert float(m["accuracy_extrapolated"]) == 0.0, row.to_dict()


def test_user_reported_extrapolations_are_flagged() -> None:
    """RTSA at 0.9/0.95 and 0.99/0.99 sparsity, HeatViT pruning 99% of tokens: the line keeps the drop near
    its slope (pp at x = 1), a benign-looking figure, but beyond every published point (RTSA's largest: 5.32×
    saving → 0.812; HeatViT's: 0.5406)."""
    rtsa = acc.accuracy_metrics("rtsa", linear_sparsity=np.array([0.9, 0.99]), attn_sparsity=np.array([0.95, 0.99]))
    assert np.all(rtsa["accuracy_drop"] <= acc.get_fit("rtsa").slope) and acc.get_fit("rtsa").slope < 1.25
    assert list(rtsa["accuracy_extrapolated"]) == [1.0, 1.0]
    heat = acc.accuracy_metrics("heatvit", token_pruned=0.99)
    assert float(heat["accuracy_drop"]) < 0.6 and float(heat["accuracy_extrapolated"]) == 1.0


@pytest.mark.parametrize("method, knob, fixed", SWEEPS)
@settings(max_examples=40, deadline=None)
@given(a=frac, b=frac)
def test_extrapolated_flag_never_clears_with_more_sparsity(method: str, knob: str, fixed: dict, a, b) -> None:
    lo, hi = sorted((a, b))
    if knob == "windowed_blocks":
        lo, hi = 12 * lo, 12 * hi
    f_lo = acc.accuracy_metrics(method, **fixed, **{knob: lo})["accuracy_extrapolated"]
    f_hi = acc.accuracy_metrics(method, **fixed, **{knob: hi})["accuracy_extrapolated"]
    assert f_lo <= f_hi


def test_with_accuracy_adds_both_metrics_and_a_note_only_where_extrapolated() -> None:
    from dse.accelerators.base import Evaluation

    ev = Evaluation({"latency_s": np.ones(3)})
    inside = acc.with_accuracy(ev, "vitcod", attn_sparsity=np.array([0.0, 0.5, 0.9]))
    assert list(inside["accuracy_extrapolated"]) == [0.0, 0.0, 0.0] and inside.notes == ()
    np.testing.assert_allclose(inside["accuracy_drop"], [0.0, 0.5 * 1.5 / 0.9, 1.5])
    beyond = acc.with_accuracy(ev, "vitcod", attn_sparsity=np.array([0.5, 0.95, 0.99]))
    assert list(beyond["accuracy_extrapolated"]) == [0.0, 1.0, 1.0]
    (note,) = beyond.notes
    assert "extrapolated" in note and "vitcod" in note and "0.9" in note and "accuracy_extrapolated" in note


def test_windowed_all_datasets_fit_lies_within_their_range() -> None:
    est = float(acc.estimate_accuracy_drop("windowed", attn_sparsity=0.9486, windowed_blocks=6))
    assert 0.6 < est < 2.1
    assert est == pytest.approx(np.mean([0.9, 0.6, 0.8, 1.9, 2.1]), abs=TOL)  # least squares at one x = mean


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="method"):
        acc.estimate_accuracy_drop("sanger", attn_sparsity=0.5)
    with pytest.raises(InputError, match="attn_sparsity"):
        acc.estimate_accuracy_drop("vitcod", attn_sparsity=1.5)
    with pytest.raises(InputError, match="token_keep"):
        acc.estimate_accuracy_drop("heatvit", token_keep=0.5)
    with pytest.raises(InputError, match="dataset"):
        acc.estimate_accuracy_drop("windowed", "mnist", attn_sparsity=0.5)
    with pytest.raises(InputError, match="windowed_blocks"):
        acc.estimate_accuracy_drop("windowed", attn_sparsity=0.5, windowed_blocks=13)
    with pytest.raises(InputError, match="computation_reduction"):
        acc.estimate_accuracy_drop("rtsa", computation_reduction=0.5, attn_sparsity=0.5)


def test_a_registered_method_is_fitted_to_its_own_points():
    """The method registry: a plugin's method with its published points (hand-made here) is fitted like the
    built-in ones — slope through the origin under the upper bound — and estimates after that."""
    import pandas as pd

    points = pd.DataFrame(
        {"method": ["toy", "toy", "toy"], "knobs": ["pruned=0.5", "pruned=0.8", "pruned=0.9"],
         "drop_pp": [0.5, 1.0, 1.0], "bound": ["point", "point", "upper"], "dataset": ["a", "a", "b"]}
    )  # fmt: skip
    method = acc.AccuracyMethod("toy", ("pruned",), lambda k: acc._fraction("pruned", k.get("pruned", 0.0)),
                                points=points)  # fmt: skip
    acc.register(method)
    try:
        assert "toy" in acc.methods() and acc.methods()[:4] == ["rtsa", "windowed", "vitcod", "heatvit"]
        # points: least squares (0.5·0.5 + 0.8·1.0) / (0.25 + 0.64) = 1.1798; upper: 1.0 / 0.9 = 1.111 → min
        assert float(acc.estimate_accuracy_drop("toy", pruned=0.45)) == pytest.approx(0.45 / 0.9)
        assert float(acc.estimate_accuracy_drop("toy", dataset="a", pruned=1.0)) == pytest.approx(1.05 / 0.89)
        assert set(acc.fits()["method"]) == set(acc.methods())
        with pytest.raises(InputError, match="not a knob of toy"):
            acc.estimate_accuracy_drop("toy", token_pruned=0.5)
    finally:
        acc.unregister("toy")
    with pytest.raises(InputError, match="unknown value 'toy'"):
        acc.estimate_accuracy_drop("toy", pruned=0.5)

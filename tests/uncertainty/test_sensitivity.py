"""Sensitivity rankings: the acceptance case (delta sparsity first for the computation saving), ratios,
first-order ranking of a given sample."""

from __future__ import annotations

import numpy as np
import pytest

from dse import accelerators
from dse.errors import InputError
from dse.uncertainty import montecarlo as mc
from dse.uncertainty import sensitivity as S
from dse.uncertainty.declared import Uncertain
from dse.uncertainty.distributions import loguniform, uniform
from dse.workloads import build

DELTA = {"rtsa.key_interval", "rtsa.sparsity_linear"}


@pytest.fixture(scope="module")
def saving_question():
    rtsa = accelerators.get("rtsa")
    return S.Question(rtsa, build("timesformer-b", 112), "computation_saving", rtsa.resolve({}))


@pytest.mark.parametrize("method,samples", [("sobol", 64), ("morris", 16), ("oat", None)])
def test_delta_sparsity_inputs_rank_first_for_the_computation_saving(saving_question, method, samples):
    """Issue 13 acceptance: `sensitivity -a rtsa -w timesformer-b -r 112 --metric computation_saving`."""
    sens = S.analyze(saving_question, method, samples)
    assert set(sens.ranking[:2]) == DELTA, sens.table.head()
    assert sens.nominal == pytest.approx(float(accelerators.get("rtsa").evaluate(build("timesformer-b", 112))
                                               ["computation_saving"]))  # fmt: skip


def test_sobol_indices_are_shares(saving_question):
    t = S.analyze(saving_question, "sobol", 64).table.set_index("input")
    assert t["ST"].sum() == pytest.approx(1.0, abs=0.2)  # no interactions to speak of: S1 ≈ ST, Σ ≈ 1
    assert t.loc["tech.mac_energy", "ST"] == pytest.approx(0.0, abs=1e-9)  # MACs do not depend on energy


def test_ratio_question_is_over_divided_by_reference():
    rtsa, vitcod = accelerators.get("rtsa"), accelerators.get("vitcod")
    wl = build("videomae-b", 160, 16)
    q = S.Question(rtsa, wl, "latency_s", rtsa.resolve({}), (), vitcod, vitcod.resolve({}))
    sens = S.analyze(q, "oat")
    assert sens.nominal == pytest.approx(float(vitcod.evaluate(wl)["latency_s"] / rtsa.evaluate(wl)["latency_s"]))
    assert sens.ranking[0] in ("rtsa.cols", "rtsa.clock_mhz")
    assert "vitcod.global_columns" in sens.ranking  # the baseline's own inputs join the question


def test_sobol_needs_a_power_of_two(saving_question):
    with pytest.raises(InputError) as err:
        S.analyze(saving_question, "sobol", 100)
    assert err.value.field == "--samples"


def test_metric_must_be_reported():
    with pytest.raises(InputError):
        S.check_metric("computation_saving", [accelerators.get("vitcod")])
    assert S.check_metric("latency", [accelerators.get("rtsa")]) == "latency_s"


def test_first_order_ranks_a_given_sample():
    inputs = tuple(Uncertain(f"x{i}", "factor", "mac_energy", uniform(0, 1) if i else loguniform(0.5, 2), "technology",
                             "test", fabrics=("asic",), what="x") for i in range(6))  # fmt: skip
    draws = mc.sample(inputs, 512, seed=0)
    u = draws.unit
    y = 5 * u[:, 2] + 2 * u[:, 4] ** 2 + 0.01 * u[:, 0]
    ranked = S.first_order(draws, y)
    assert [name for name, _ in ranked] == ["x2", "x4"]
    assert S.first_order(draws, np.full(512, 3.0)) == []


def test_oat_shows_the_input_values_the_model_ran_with():
    """Regression (a fresh-user trial): OAT printed cols = 8.574 (the 5% quantile) beside the latency at
    cols = 9, the rounded value the model ran with; an integer input now shows its rounded value."""
    rtsa = accelerators.get("rtsa")
    wl = build("videomae-b", 112)
    t = S.analyze(S.Question(rtsa, wl, "latency_s", rtsa.resolve({})), "oat").table.set_index("input")
    cols_low = t.loc["rtsa.cols", "input_low"]
    assert cols_low == round(cols_low)
    ran = float(rtsa.evaluate(wl, {"cols": cols_low})["latency_s"])
    assert t.loc["rtsa.cols", "y_low"] == pytest.approx(ran, rel=1e-12)

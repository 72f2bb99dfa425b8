"""optuna's own tools see what ``rtsa-dse sweep`` sees: constraints, feasibility and the Pareto front.

Constraint values are stored under optuna's ``constraints`` system attribute, which optuna's samplers,
``optuna.visualization`` and optuna-dashboard read. The dashboard is the ``dashboard`` extra (also in
``test``); its JSON API is called in-process through its WSGI app.
"""

from __future__ import annotations

import io
import json
from wsgiref.util import setup_testing_defaults

import optuna
import pandas as pd
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from test_sweep_support import write_spec

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(autouse=True)
def _toy(toy):
    """Every test here runs with the toy accelerator registered."""


@pytest.fixture
def study_dir(run, tmp_path):
    spec = write_spec(tmp_path, "tools", trials=150)
    spec.write_text(spec.read_text().replace("max = 40.0", "max = 12.0"))  # many infeasible designs
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures")
    assert r.code == 0, r.err
    return tmp_path / "tools"


def _study(out) -> optuna.Study:
    return optuna.load_study(study_name="tools", storage=JournalStorage(JournalFileBackend(str(out / "study.journal"))))


def _get(app, path: str) -> dict:
    env: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(env)
    status = []
    body = b"".join(app(env, lambda s, h, *a: status.append(s)))
    assert status[0].startswith("200"), status
    return json.loads(body)


def test_dashboard_sees_constraints_and_the_feasible_front(study_dir):
    pytest.importorskip("optuna_dashboard")
    from optuna_dashboard import wsgi
    from optuna_dashboard._pareto_front import get_pareto_front_trials

    trials = pd.read_csv(study_dir / "trials.csv")
    assert 0 < trials["feasible"].sum() < len(trials)  # the case that matters: some designs are infeasible
    study = _study(study_dir)
    app = wsgi(JournalStorage(JournalFileBackend(str(study_dir / "study.journal"))))  # as `optuna-dashboard FILE`
    (summary,) = _get(app, "/api/studies")["study_summaries"]
    detail = _get(app, f"/api/studies/{summary['study_id']}")
    served = {t["number"]: t for t in detail["trials"]}
    assert len(served) == len(trials)
    for _, row in trials.iterrows():  # each trial carries its constraints; the dashboard marks infeasible ones
        cons = served[int(row["number"])]["constraints"]
        assert cons and all(c <= 0 for c in cons) == bool(row["feasible"])
    # the dashboard's front over the trials it shows as feasible (as its Pareto plot draws it) is pareto.csv
    feasible = [t for t in study.trials if all(c <= 0 for c in t.system_attrs["constraints"])]
    front = get_pareto_front_trials(feasible, study.directions)
    assert _designs(front) == _designs_csv(study_dir, study)


def _designs(trials) -> set[tuple]:
    return {tuple(sorted(t.params.items())) for t in trials}


def _designs_csv(out, study) -> set[tuple]:
    """The designs of pareto.csv (one row per distinct design), by their trials' parameters."""
    return _designs(study.trials[int(n)] for n in pd.read_csv(out / "pareto.csv")["number"])


def test_optuna_visualization_and_best_trials_match_pareto_csv(study_dir):
    from optuna.visualization._pareto_front import _get_pareto_front_info

    pareto = pd.read_csv(study_dir / "pareto.csv")
    trials = pd.read_csv(study_dir / "trials.csv")
    study = _study(study_dir)
    best = {t.number for t in study.best_trials}
    assert best == set(trials.loc[trials["pareto"], "number"])
    assert set(pareto["number"]) <= best and _designs(study.trials[n] for n in best) == _designs_csv(study_dir, study)
    info = _get_pareto_front_info(study, targets=lambda t: t.values[:2], target_names=study.metric_names[:2])
    # plot_pareto_front splits the trials by their constraints: infeasible ones apart
    assert len(info.infeasible_trials_with_values) == int((~trials["feasible"]).sum())
    assert all(all(c <= 0 for c in t.constraints.values()) for t, _ in info.best_trials_with_values)

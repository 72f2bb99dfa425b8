"""The results schema (dse/search/results_schema.py) owns every attribute key and the table I/O."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dse
from dse.search import export, results_schema
from dse.search.results_schema import (
    COLUMNS,
    NON_METRIC_COLUMNS,
    STUDY,
    TRIAL,
    attribute_keys,
    read_checked,
    read_table,
    write_table,
)

PACKAGE = Path(dse.__file__).parent
KEY = re.compile(r"dse:[A-Za-z_]*")


def _key_literals(path: Path) -> list[str]:
    """``path``'s string constants that are a ``dse:`` attribute key, or the head of one in an f-string
    (``f"dse:{name}"``); prose that mentions a key, in a docstring or a message, is not one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.name}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.fullmatch(node.value)
    ]


def test_no_key_literal_outside_the_schema():
    own = Path(results_schema.__file__).resolve()
    files = [p for p in PACKAGE.rglob("*.py") if p.resolve() != own]
    assert len(files) > 50  # the tree was found
    hits = [f"{p.parent.relative_to(PACKAGE.parent)}/{h}" for p in files for h in _key_literals(p)]
    assert not hits, "use dse.search.results_schema.STUDY / TRIAL instead of:\n" + "\n".join(hits)


def test_the_scan_finds_a_literal(tmp_path):
    # the check above can fail: a key written out, plain or in an f-string, is found; prose is not
    probe = tmp_path / "probe.py"
    probe.write_text('A = "dse:params"\nB = f"dse:{A}"\nC = "see dse:params in the docs"\n')
    assert _key_literals(probe) == ["probe.py:1: 'dse:params'", "probe.py:2: 'dse:'"]


def test_keys_are_unique_and_unchanged():
    keys = attribute_keys()
    assert len(keys) == len(set(keys))
    # the stored strings of existing studies: never renamed
    assert STUDY.params == "dse:params" and STUDY.spec == "dse:spec" and STUDY.grid_stored == "dse:grid_stored"
    assert TRIAL.constraints == "constraints" and TRIAL.worker == "dse:worker"
    assert all(k.startswith("dse:") for k in keys if k != TRIAL.constraints)
    assert NON_METRIC_COLUMNS == {"number", "state", "feasible", "pareto", "duration_s", "datetime_start"}


def test_old_import_paths_still_work():
    from dse import plugins
    from dse.search.storage import HEARTBEAT_ATTR, JOURNAL_NAME, WORKER_ATTR

    assert export.write_table is write_table and export.read_checked is read_checked
    assert export.SURPLUS_ATTR == TRIAL.surplus and plugins.STUDY_ATTR == STUDY.plugins
    assert (JOURNAL_NAME, WORKER_ATTR, HEARTBEAT_ATTR) == (results_schema.JOURNAL_FILE, TRIAL.worker, TRIAL.heartbeat)


def _small_table() -> pd.DataFrame:
    c = COLUMNS
    return pd.DataFrame(
        {
            c.number: np.array([0, 1, 2], dtype=np.int64),
            c.state: ["COMPLETE", "COMPLETE", "FAIL"],
            "pe_rows": np.array([8, 16, 32], dtype=np.int64),
            "dataflow": ["os", "ws", "os"],
            "latency_s": [1.25e-3, 7.5e-4, np.nan],
            "constraint_area_mm2": [-0.1, 0.2, np.nan],
            c.feasible: [True, False, False],
            c.pareto: [True, False, False],
            c.duration_s: [0.01, 0.02, np.nan],
            c.datetime_start: ["2024-01-01T00:00:00", "2024-01-01T00:00:01", None],
        }
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_keeps_columns_and_dtypes(tmp_path, fmt):
    df = _small_table()
    path = write_table(df, tmp_path / results_schema.TRIALS, fmt)
    assert path.name == f"trials.{fmt}"
    assert results_schema.find_table(tmp_path, results_schema.TRIALS) == path
    back = read_checked(path)
    assert list(back.columns) == list(df.columns)
    assert back.dtypes.to_dict() == df.dtypes.to_dict()
    pd.testing.assert_frame_equal(back, df)
    pd.testing.assert_frame_equal(read_table(path), df)

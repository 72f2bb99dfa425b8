"""Storage URLs: a PostgreSQL URL without a driver gets the one installed (dse.search.storage.with_driver)."""

from __future__ import annotations

import importlib.util

import pytest

from dse.search import storage


@pytest.mark.parametrize(
    ("installed", "url", "expected"),
    [
        ({"psycopg2"}, "postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
        ({"psycopg2"}, "postgres://u:pw@h:5432/db", "postgresql+psycopg2://u:pw@h:5432/db"),
        ({"psycopg", "psycopg2"}, "postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ({"psycopg2"}, "postgresql+pg8000://u@h/db", "postgresql+pg8000://u@h/db"),  # a named driver stays
        ({"psycopg2"}, "sqlite:///x.db", "sqlite:///x.db"),
        (set(), "postgresql://u@h/db", "postgresql://u@h/db"),  # none installed: opening names the module
    ],
)
def test_with_driver(monkeypatch, installed, url, expected):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: object() if name in installed else None if name in
        ("psycopg", "psycopg2") else real(name, *a)
    )  # fmt: skip
    assert storage.with_driver(url) == expected


def test_storage_config_applies_it(monkeypatch, tmp_path):
    monkeypatch.setattr(storage, "PG_DRIVERS", (("psycopg2", "psycopg2"),))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    cfg = storage.storage_config("postgresql://postgres@127.0.0.1/test", tmp_path)
    assert cfg.kind == "rdb" and cfg.location == "postgresql+psycopg2://postgres@127.0.0.1/test"

"""Shared test helpers: run the CLI in-process and capture its output and exit code."""

from __future__ import annotations

import json

import pytest

from dse import cli


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def run(capsys):
    """``run("workloads", "show", "deit-tiny")`` → Result(code, stdout, stderr)."""

    def _run(*args: str) -> Result:
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        cap = capsys.readouterr()
        return Result(code, cap.out, cap.err)

    return _run

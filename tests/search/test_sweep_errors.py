"""Operating-system and storage errors: one line naming the path and the problem, exit 2, nothing half-written."""

from __future__ import annotations

import errno
import stat

import pandas as pd
import pytest
from test_sweep_support import write_spec

from dse.errors import InputError
from dse.search.export import results_lock

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(autouse=True)
def _toy(toy):
    """Every test here runs with the toy accelerator registered."""


def one_line(r, code: int = 2) -> str:
    assert r.code == code, (r.out, r.err)
    assert "Traceback" not in r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    return lines[0]


@pytest.fixture
def swept(run, tmp_path):
    """A finished small sweep: (spec path, results directory)."""
    spec = write_spec(tmp_path, "ok", trials=40)
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures")
    assert r.code == 0, r.err
    return spec, tmp_path / "ok"


def test_results_dir_that_is_a_file(run, tmp_path):
    spec = write_spec(tmp_path, "f", trials=10)
    (tmp_path / "blocker").write_text("")
    line = one_line(run("sweep", spec, "--results-dir", tmp_path / "blocker"))
    assert "blocker" in line and "is a file" in line


def test_read_only_results_dir(run, tmp_path, monkeypatch):
    import dse.search.export as export

    def refuse(*a, dir=None, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(dir))

    monkeypatch.setattr(export.tempfile, "mkstemp", refuse)
    line = one_line(run("sweep", write_spec(tmp_path, "ro", trials=10), "--results-dir", tmp_path, "--no-figures"))
    assert str(tmp_path / "ro") in line and "Read-only file system" in line


def test_full_disk_leaves_nothing_half_written(run, swept, monkeypatch):
    spec, out = swept
    before = (out / "trials.csv").read_bytes()

    def full(self, path, *a, **k):
        with open(path, "w") as f:
            f.write("number,state\n1,")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    line = one_line(run("sweep", spec, "--results-dir", out.parent, "--no-figures"))
    assert "No space left on device" in line
    assert (out / "trials.csv").read_bytes() == before  # the old table stands, whole
    assert not list(out.glob(".*.tmp"))


def test_unreadable_spec_and_tables(run, swept, tmp_path):
    _, out = swept
    (tmp_path / "dir.toml").mkdir()
    assert "dir.toml" in one_line(run("sweep", tmp_path / "dir.toml"))
    (out / "trials.csv").unlink()
    (out / "trials.csv").mkdir()
    line = one_line(run("pareto", out))
    assert "trials.csv" in line


def test_storage_path_that_is_a_directory(run, tmp_path):
    (tmp_path / "s.journal").mkdir()
    line = one_line(run("sweep", write_spec(tmp_path, "d", trials=5), "--storage", tmp_path / "s.journal",
                        "--results-dir", tmp_path))  # fmt: skip
    assert "s.journal" in line and "directory" in line
    line = one_line(run("export", "--storage", tmp_path / "s.journal"))
    assert "s.journal" in line


def test_storage_path_under_a_file_names_the_option(run, tmp_path):
    """Regression (a fresh-user trial): the message named the path but not --storage."""
    (tmp_path / "afile").write_text("")
    r = run("sweep", write_spec(tmp_path, "d", trials=5), "--storage", tmp_path / "afile" / "x.journal",
            "--results-dir", tmp_path / "out")  # fmt: skip
    assert one_line(r).startswith("error: --storage: cannot open the journal") and not (tmp_path / "out").exists()


@pytest.mark.parametrize("damage", ["middle", "appended line"])
def test_damaged_journal_is_one_line(run, swept, damage):
    spec, out = swept
    journal = out / "study.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    if damage == "middle":
        lines[len(lines) // 2] = b'{"op_code": 5, "trial_id"\xff garbage\n'
    else:
        lines.append(b"this is not a journal record\n")
    journal.write_bytes(b"".join(lines))
    line = one_line(run("sweep", spec, "--results-dir", out.parent, "--trials", 50, "--no-figures"))
    assert "study.journal" in line and "damaged" in line and "line" in line
    line = one_line(run("export", out))
    assert "damaged" in line


def test_empty_truncated_and_foreign_trials_table(run, swept, tmp_path):
    _, out = swept
    good = (out / "trials.csv").read_text()
    (out / "trials.csv").write_text("")
    assert "empty" in one_line(run("pareto", out))
    (out / "trials.csv").write_text(good[: len(good) // 2 + 7])
    assert "cut short" in one_line(run("pareto", out))
    foreign = pd.read_csv(pd.io.common.StringIO(good)).drop(columns=["rows", "cols"])
    foreign.to_csv(out / "trials.csv", index=False)
    line = one_line(run("report", out))
    assert "not this study's" in line and "rows" in line


def test_export_of_a_journal_cut_short_warns_and_never_overwrites_silently(run, swept):
    _, out = swept
    journal = out / "study.journal"
    data = journal.read_bytes()
    journal.write_bytes(data[: int(len(data) * 0.6)])  # a copy cut off mid-record
    r = run("export", out)
    assert r.code == 2 and "Traceback" not in r.err
    warning, line = r.err.strip().splitlines()  # the warning with the count read, then the refusal
    assert "cut short" in warning and "read " in warning
    assert "holds 40 trials" in line and "--force" in line
    assert len(pd.read_csv(out / "trials.csv")) == 40  # untouched
    r = run("export", out, "-o", out / "partial.csv")
    assert r.code == 0 and "cut short" in r.err and "read " in r.err
    n = len(pd.read_csv(out / "partial.csv"))
    assert 0 < n < 40 and f"read {n} trials" in r.err
    r = run("export", out, "--force")
    assert r.code == 0 and len(pd.read_csv(out / "trials.csv")) == n


def test_export_of_missing_storage_creates_nothing(run, tmp_path):
    for url in (f"sqlite:///{tmp_path / 'missing.db'}", str(tmp_path / "missing.journal")):
        line = one_line(run("export", "--storage", url))
        assert "missing" in line and "no such file" in line
    line = one_line(run("report", tmp_path, "--storage", f"sqlite:///{tmp_path / 'missing.db'}"))
    assert "missing.db" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_outputs_are_atomic_group_readable_and_stale_temp_files_go(run, swept):
    spec, out = swept
    (out / "figures").mkdir(exist_ok=True)
    stale = [out / ".report.md.x1.tmp", out / "figures" / ".pareto.png.x2.tmp"]
    for f in stale:
        f.write_text("left by a killed run")
    r = run("report", out)
    assert r.code == 0, r.err
    assert not any(f.exists() for f in stale)
    for f in [out / "trials.csv", out / "pareto.csv", out / "report.md", out / "pareto.png"]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


def test_lock_timeout_names_the_lock(tmp_path):
    from filelock import FileLock

    held = FileLock(str(tmp_path / ".write.lock"))
    held.acquire()
    try:
        with pytest.raises(InputError, match=r"timed out after 0 s waiting for .*\.write\.lock"):
            with results_lock(tmp_path, timeout_s=0.2):
                pass
    finally:
        held.release()


def test_second_sweep_on_the_same_results_dir_is_refused(run, tmp_path):
    from filelock import FileLock

    spec = write_spec(tmp_path, "busy", trials=10)
    (tmp_path / "busy").mkdir()
    held = FileLock(str(tmp_path / "busy" / ".sweep.lock"))
    held.acquire()
    try:
        line = one_line(run("sweep", spec, "--results-dir", tmp_path))
    finally:
        held.release()
    assert "in use by another sweep" in line and ".sweep.lock" in line

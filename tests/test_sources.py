"""The source list (dse/data/sources.toml): sound entries, every citation resolvable, docs in step,
and no project file that points outside the repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dse import sources as S

ROOT = Path(__file__).resolve().parents[1]
#: folders and files whose citations must resolve
CITING = ("dse", "tests", "tools", "sweeps", "benchmarks", "docs", "examples", "README.md", "cli.py", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".csv", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".json", ".sh", ".rst"}
SKIP_DIRS = {".git", ".hypothesis", ".pytest_cache", ".ruff_cache", ".benchmarks", "__pycache__", "build", "dist",
             "node_modules", "results"}  # fmt: skip
# Built by concatenation so that this file does not match itself.
FORBIDDEN = ("facts" + ".md", "../" + "shared", "shared/" + "reference", "shared/" + "seeds", '"shared"' + " /",
             "/work" + "/")  # fmt: skip
BRACKET = "[" + "src:"  # a citation opener, spelled so the scan below does not read examples here as citations


def _walk(base: Path):
    for p in sorted(base.rglob("*")):
        rel = p.relative_to(ROOT).parts
        if any(part in SKIP_DIRS or part.startswith(".venv") or part.endswith(".egg-info") for part in rel):
            continue
        if p.is_file():
            yield p


def project_files() -> list[Path]:
    """Files of the project: git's tracked and untracked-not-ignored files, else a filtered walk."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True, timeout=30).stdout  # fmt: skip
        files = [ROOT / f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.SubprocessError):
        files = list(_walk(ROOT))
    return [f for f in files if f.is_file() and (f.suffix in TEXT_SUFFIXES or f.parent.name == ".ci")]


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _citing_files() -> list[Path]:
    roots = [ROOT / c for c in CITING]
    return [f for f in project_files() if any(f == r or r in f.parents for r in roots)]


def test_catalogue_is_sound():
    cat = S.catalogue()
    assert S.problems(cat) == []
    assert len(cat.sources) >= 30
    assert tuple(cat.legend) == S.TAGS


@pytest.mark.parametrize("key", sorted(S.catalogue().sources))
def test_every_entry_has_the_required_fields_and_a_valid_tag(key):
    s = S.catalogue().sources[key]
    assert s.title.strip() and s.authors.strip() and s.locator.strip()
    assert s.kind in S.KINDS and s.tag in S.TAGS
    assert isinstance(s.year, int) or s.year == "n.d."
    assert s.numbers and all(n.tag in S.TAGS and n.value.strip() and n.use.strip() for n in s.numbers)


def test_problems_reports_bad_entries():
    bad = """
[legend]
V = "v"

[[source]]
key = "Bad Key"
title = ""
authors = "a"
year = 20
kind = "blog"
locator = "x"
tag = "Q"
numbers = [{ value = "1", use = "u", tag = "Z" }]
"""
    msgs = "\n".join(S.problems(S.parse(bad)))
    for needle in ("legend", "key must be", "empty title", "year 20", "kind 'blog'", "tag 'Q'", "number 0: tag 'Z'"):
        assert needle in msgs


def test_parse_rejects_missing_unknown_and_repeated():
    entry = 'key = "a"\ntitle = "t"\nauthors = "a"\nyear = 2020\nkind = "paper"\nlocator = "x"\ntag = "V"\n'
    with pytest.raises(ValueError, match="locator"):
        S.parse('[[source]]\nkey = "a"\ntitle = "t"\nauthors = "a"\nyear = 2020\nkind = "paper"\ntag = "V"\n')
    with pytest.raises(ValueError, match="unknown field"):
        S.parse(f"[[source]]\n{entry}colour = 1\n")
    with pytest.raises(ValueError, match="twice"):
        S.parse(f"[[source]]\n{entry}[[source]]\n{entry}")


def test_citation_pattern():
    text = f"a {BRACKET}foo-1] b {BRACKET}bar2024] {BRACKET}Upper] {BRACKET}]"
    assert S.cited_keys(text) == ["foo-1", "bar2024"]


def test_every_cited_key_exists():
    keys = set(S.catalogue().sources)
    unknown, cited = [], set()
    for f in _citing_files():
        for i, line in enumerate(_read(f).splitlines(), 1):
            for key in S.cited_keys(line):
                cited.add(key)
                if key not in keys:
                    unknown.append(f"{f.relative_to(ROOT)}:{i}: {key}")
    assert not unknown, "unknown source keys:\n" + "\n".join(unknown)
    assert len(cited) >= 30  # the scan found the citations (guards against an empty file list)


def test_accelerator_parameter_sources_cite_known_keys():
    from dse import accelerators

    keys = set(S.catalogue().sources)
    cited = {k for n in accelerators.names() for p in accelerators.get(n).params for k in S.cited_keys(p.source)}
    assert cited and cited <= keys


def test_no_file_points_outside_the_repository():
    hits = []
    files = project_files()
    assert any(f.name == "README.md" for f in files) and any(f.suffix == ".py" for f in files)
    for f in files:
        for i, line in enumerate(_read(f).splitlines(), 1):
            hits += [f"{f.relative_to(ROOT)}:{i}: {pat}" for pat in FORBIDDEN if pat in line]
    assert not hits, "references outside the repository:\n" + "\n".join(hits)


def test_used_in_paths_and_measured_files_exist():
    missing = []
    for s in S.catalogue().sources.values():
        paths = [p for n in s.numbers for p in n.used_in]
        if s.kind == "measured":
            paths.append(s.locator.split()[0])
        missing += [f"{s.key}: {p}" for p in paths if not (ROOT / p).exists()]
    assert not missing


def test_docs_sources_md_is_up_to_date():
    doc = ROOT / "docs" / "sources.md"
    assert doc.read_text(encoding="utf-8") == S.render_markdown(), (
        "docs/sources.md is stale: run `rtsa-dse sources --format markdown > docs/sources.md`"
    )


def test_cli_lists_and_shows_sources(run):
    r = run("sources")
    assert r.code == 0
    for key in S.catalogue().sources:
        assert f"\n{key} " in r.out
    assert "[NF]" in r.out and "[assumption]" in r.out
    r = run("sources", "horowitz2014")
    assert r.code == 0 and "doi:10.1109/ISSCC.2014.6757323" in r.out and "0.2 + 0.1 = 0.3 pJ" in r.out
    r = run("sources", "cacti7", "--format", "json")
    assert r.code == 0 and r.json()["key"] == "cacti7" and r.json()["numbers"]
    r = run("sources", "--format", "json")
    assert {s["key"] for s in r.json()["sources"]} == set(S.catalogue().sources)
    assert run("sources", "--format", "markdown").out == S.render_markdown()


def test_cli_unknown_key_is_one_line_exit_2(run):
    r = run("sources", "horowitz")
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1 and "key" in r.err and "horowitz2014" in r.err


def test_json_is_serialisable():
    from dataclasses import asdict

    json.dumps([asdict(s) for s in S.catalogue().sources.values()])

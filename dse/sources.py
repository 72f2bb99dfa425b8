"""The sources of every outside number in rtsa-dse, read from ``dse/data/sources.toml``.

Each source (paper, datasheet, manual, standard, released simulator, repository, data set, measured
file) has a stable key. Code, docstrings, parameter sources, tests and the README cite it as
``[src:KEY]`` (one key per bracket; :data:`CITATION` finds them). The file also holds the legend of
the confidence tags (``[V]``, ``[R]``, ``[D]``, ``[NF]``, ``[M]``, ``[assumption]``) that the code
puts next to numbers. ``rtsa-dse sources [KEY]`` prints the list or one entry, and
``docs/sources.md`` is :func:`render_markdown` of the file (a test keeps the two in step).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

from dse.errors import InputError

DATA_FILE = "sources.toml"
#: what a source is
KINDS = (
    "paper", "poster", "datasheet", "manual", "standard", "simulator", "repository", "dataset", "measured",
    "web", "estimate",
)  # fmt: skip
#: the confidence tags, in the order the legend lists them
TAGS = ("V", "R", "D", "NF", "M", "assumption")
#: a citation of a source in code or docs: ``[src:KEY]``; group 1 is the key
CITATION = re.compile(r"\[src:([a-z0-9][a-z0-9.-]*)\]")
_KEY = re.compile(r"[a-z0-9][a-z0-9.-]*\Z")


@dataclass(frozen=True)
class Number:
    """One figure taken from a source: what it is, how the model uses it, and its confidence tag."""

    value: str
    use: str
    tag: str
    used_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """One source: bibliographic data, where to find it, its tag and the numbers taken from it."""

    key: str
    title: str
    authors: str
    year: int | str  # a year, or "n.d." when the version consulted carries no date
    kind: str
    locator: str  # DOI, URL or repository path, as text
    tag: str
    numbers: tuple[Number, ...]
    venue: str = ""
    note: str = ""

    @property
    def where(self) -> str:
        """Authors (or publisher), venue and year on one line."""
        venue = f", {self.venue}" if self.venue else ""
        return f"{self.authors}{venue}, {self.year}"


@dataclass(frozen=True)
class Catalogue:
    """The legend of confidence tags and every source, keyed by source key (file order)."""

    legend: dict[str, str]
    sources: dict[str, Source]

    def get(self, key: str) -> Source:
        """The source ``key``; :class:`InputError` naming ``key`` when there is none."""
        try:
            return self.sources[key]
        except KeyError:
            near = [k for k in self.sources if key.lower() in k or k in key.lower()]
            hint = f"; did you mean {', '.join(near)}?" if near else "; `rtsa-dse sources` lists them"
            raise InputError("key", f"unknown source {key!r}{hint}") from None


def _build(cls, raw: dict[str, Any], where: str):
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    try:
        return cls(**raw)
    except TypeError as err:  # a required field is missing
        raise ValueError(f"{where}: {err}") from None


def parse(text: str) -> Catalogue:
    """Parse the TOML text of a sources file into a :class:`Catalogue` (structure only; see :func:`problems`).

    Raises ``ValueError`` naming the entry for an unknown or missing field or a repeated key.
    """
    data = tomllib.loads(text)
    legend = {str(k): str(v) for k, v in data.get("legend", {}).items()}
    sources: dict[str, Source] = {}
    for i, raw in enumerate(data.get("source", [])):
        key = raw.get("key", f"#{i}")
        nums = tuple(
            _build(Number, {**n, "used_in": tuple(n.get("used_in", ()))}, f"source {key} number {j}")
            for j, n in enumerate(raw.get("numbers", []))
        )
        src = _build(Source, {**raw, "numbers": nums}, f"source {key}")
        if src.key in sources:
            raise ValueError(f"source {src.key}: key used twice")
        sources[src.key] = src
    return Catalogue(legend, sources)


@functools.cache
def catalogue() -> Catalogue:
    """The shipped catalogue (read with importlib.resources, so it works from an installed wheel)."""
    return parse(resources.files("dse").joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8"))


def problems(cat: Catalogue) -> list[str]:
    """Content problems of a catalogue, one line each (empty when it is sound)."""
    out = []
    if tuple(cat.legend) != TAGS:
        out.append(f"legend: tags {list(cat.legend)}, expected {list(TAGS)}")
    for key, s in cat.sources.items():
        if not _KEY.match(key):
            out.append(f"{key}: key must be lowercase letters, digits, '-' or '.'")
        for name in ("title", "authors", "locator"):
            if not str(getattr(s, name)).strip():
                out.append(f"{key}: empty {name}")
        if not (isinstance(s.year, int) and 1900 <= s.year <= 2100) and s.year != "n.d.":
            out.append(f"{key}: year {s.year!r} is neither a year nor 'n.d.'")
        if s.kind not in KINDS:
            out.append(f"{key}: kind {s.kind!r} not one of {', '.join(KINDS)}")
        if s.tag not in TAGS:
            out.append(f"{key}: tag {s.tag!r} not one of {', '.join(TAGS)}")
        if not s.numbers:
            out.append(f"{key}: no numbers")
        for j, n in enumerate(s.numbers):
            if n.tag not in TAGS:
                out.append(f"{key} number {j}: tag {n.tag!r} not one of {', '.join(TAGS)}")
            if not n.value.strip() or not n.use.strip():
                out.append(f"{key} number {j}: empty value or use")
        for cited in CITATION.findall(" ".join([s.note] + [n.value + " " + n.use for n in s.numbers])):
            if cited not in cat.sources:
                out.append(f"{key}: cites unknown source {cited}")
    return out


def cited_keys(text: str) -> list[str]:
    """Every source key cited as ``[src:KEY]`` in ``text``, in order of appearance."""
    return CITATION.findall(text)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_entry_markdown(s: Source) -> str:
    """One source as a Markdown section."""
    lines = [f"### `{s.key}` [{s.tag}]", "", f"**{s.title}**. {s.where}. *{s.kind}*.", "", f"Where: {s.locator}"]
    if s.note:
        lines += ["", s.note]
    lines += ["", "| tag | number | how it is used | used in |", "| --- | --- | --- | --- |"]
    for n in s.numbers:
        used = ", ".join(f"`{p}`" for p in n.used_in)
        lines.append(f"| {n.tag} | {_md(n.value)} | {_md(n.use)} | {used} |")
    return "\n".join(lines) + "\n"


def render_markdown(cat: Catalogue | None = None) -> str:
    """``docs/sources.md``: legend, an index of the sources, then one section per source."""
    cat = cat or catalogue()
    out = [
        "# Sources",
        "",
        "<!-- Generated from dse/data/sources.toml by `rtsa-dse sources --format markdown`; do not edit. -->",
        "",
        "Every number rtsa-dse takes from outside the repository comes from one of the sources below. Code,",
        "parameter sources (`rtsa-dse accelerators`), tests and the README cite a source by its key as",
        "`[src:KEY]`; `rtsa-dse sources KEY` prints one entry. Measured files and the script that measured",
        "them are in `dse/data/measured/`.",
        "",
        "## Confidence tags",
        "",
        "The same tags mark numbers in the code (`[V]`, `[R]`, `[D]`, `[NF]`, `[M]`, `[assumption]`).",
        "",
        "| tag | meaning |",
        "| --- | --- |",
    ]
    out += [f"| {tag} | {_md(text)} |" for tag, text in cat.legend.items()]
    out += ["", "## Index", "", "| key | tag | kind | year | title |", "| --- | --- | --- | --- | --- |"]
    out += [f"| `{s.key}` | {s.tag} | {s.kind} | {s.year} | {_md(s.title)} |" for s in cat.sources.values()]
    out += ["", "## Entries", ""]
    out += [render_entry_markdown(s) for s in cat.sources.values()]
    return "\n".join(out)


def render_entry_text(s: Source) -> str:
    """One source as plain text for the terminal."""
    lines = [f"{s.key} [{s.tag}] {s.kind}", f"  {s.title}", f"  {s.where}", f"  where: {s.locator}"]
    if s.note:
        lines.append(f"  note: {s.note}")
    for n in s.numbers:
        lines += ["", f"  [{n.tag}] {n.value}", f"      use: {n.use}"]
        if n.used_in:
            lines.append(f"      used in: {', '.join(n.used_in)}")
    return "\n".join(lines)

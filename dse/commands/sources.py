"""``rtsa-dse sources [KEY]``: the sources every outside number comes from, or one of them in full."""

from __future__ import annotations

from dataclasses import asdict

import click

from dse import sources as S
from dse.commands.output import WIDTH, echo_json, echo_text


@click.command("sources")
@click.argument("key", required=False)
@click.option("--format", "fmt", type=click.Choice(("table", "json", "markdown")), default="table",
              show_default=True, help="Output format (markdown: the text of docs/sources.md).")  # fmt: skip
def command(key: str | None, fmt: str) -> None:
    """List the sources (key, tag, kind, year, title) with the legend of confidence tags, or show KEY in full.

    Code, parameter sources and docs cite a source as [src:KEY].
    """
    cat = S.catalogue()
    if key is not None:
        src = cat.get(key)
        if fmt == "json":
            echo_json(asdict(src))
        elif fmt == "markdown":
            click.echo(S.render_entry_markdown(src), nl=False)
        else:
            for line in S.render_entry_text(src).splitlines():  # wrapped to the terminal's 100 columns
                echo_text(line, indent=" " * (len(line) - len(line.lstrip()) + 4))
        return
    if fmt == "json":
        echo_json({"legend": cat.legend, "sources": [asdict(s) for s in cat.sources.values()]})
        return
    if fmt == "markdown":
        click.echo(S.render_markdown(cat), nl=False)
        return
    click.echo("Confidence tags:")
    for tag, text in cat.legend.items():
        echo_text(f"  [{tag}] {text}", indent="    ")
    click.echo("")
    width = max(len(k) for k in cat.sources)
    click.echo(f"{'key':<{width}}  {'tag':<10}  {'kind':<10}  {'year':<4}  title")
    for s in cat.sources.values():
        line = f"{s.key:<{width}}  {s.tag:<10}  {s.kind:<10}  {s.year!s:<4}  {s.title}"
        click.echo(line if len(line) <= WIDTH else line[: WIDTH - 1] + "…")  # `sources KEY` shows the full title
    click.echo("\n`rtsa-dse sources KEY` shows one source with the numbers taken from it.")

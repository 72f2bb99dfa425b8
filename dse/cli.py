"""``rtsa-dse``: design-space exploration of sparse video-transformer accelerators.

The console entry point. Every user error ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys

import click

from dse.errors import InputError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rtsa-dse")
def cli() -> None:
    """Design-space exploration of sparse video-transformer accelerators (RTSA and baselines)."""


def _register() -> None:
    from dse.commands import (
        breakdown,
        compare,
        evaluate,
        export,
        pareto,
        profile_video,
        report,
        reproduce,
        sweep,
        workloads,
    )

    for module in (workloads, evaluate, breakdown, compare, reproduce, profile_video, sweep, export, pareto, report):
        cli.add_command(module.command)
    cli.add_command(evaluate.accelerators_command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map user errors to one line on stderr and exit code 2 (no traceback)."""
    try:
        cli.main(args=argv, prog_name="rtsa-dse", standalone_mode=False)
    except InputError as err:
        click.echo(f"error: {err}", err=True)
        return 2
    except click.exceptions.NoArgsIsHelpError as err:
        click.echo(err.ctx.get_help() if err.ctx else str(err))
        return 0
    except click.ClickException as err:
        msg = err.format_message().replace("\n", " ")
        click.echo(f"error: {msg}", err=True)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.exceptions.Exit as err:
        return err.exit_code
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()

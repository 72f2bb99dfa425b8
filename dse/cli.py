"""``rtsa-dse``: design-space exploration of sparse video-transformer accelerators.

The console entry point. Every user error ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import re
import sys

import click

from dse.errors import InputError, os_error_text


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rtsa-dse")
@click.option("--plugin", "plugin_files", multiple=True, metavar="FILE.py",
              help="Load a plugin file (it registers accelerators, samplers …) before the command; repeatable.")  # fmt: skip
def cli(plugin_files: tuple[str, ...]) -> None:
    """Design-space exploration of sparse video-transformer accelerators (RTSA and baselines)."""
    if plugin_files:
        from dse import plugins

        for path in plugin_files:
            plugins.load_file(path)


def _register() -> None:
    from dse.commands import (
        breakdown,
        compare,
        evaluate,
        export,
        init,
        pareto,
        profile_model,
        profile_video,
        report,
        reproduce,
        sensitivity,
        sources,
        sweep,
        workloads,
    )

    for module in (workloads, evaluate, breakdown, compare, reproduce, sensitivity, profile_video, profile_model, sweep,
                   export, pareto, report, sources, init):  # fmt: skip
        cli.add_command(module.command)
    cli.add_command(evaluate.accelerators_command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map user errors to one line on stderr and exit code 2 (no traceback)."""
    try:
        _check_optional_values(sys.argv[1:] if argv is None else argv)
        rv = cli.main(args=argv, prog_name="rtsa-dse", standalone_mode=False)
        if isinstance(rv, int) and not isinstance(rv, bool):  # click returns a raised Exit's code
            return rv
    except InputError as err:
        click.echo(f"error: {err}", err=True)
        return 2
    except click.exceptions.NoArgsIsHelpError as err:
        click.echo(err.ctx.get_help() if err.ctx else str(err))
        return 0
    except click.BadParameter as err:  # click's own checks, in the same "error: FIELD: …" form as ours
        longs = [o for o in getattr(err.param, "opts", []) if o.startswith("--")]
        hint = err.param_hint[0] if isinstance(err.param_hint, list | tuple) and err.param_hint else err.param_hint
        if longs:
            field = longs[0]  # as our own option errors name it: --table, --frames
        elif err.param is not None and err.param.name:
            field = err.param.name
        elif hint:
            field = str(hint).strip("'\"").lstrip("-")
        else:  # nothing names the field: click's own sentence
            click.echo(f"error: {err.format_message()}".replace("\n", " "), err=True)
            return 2
        message = err.message or ("is required" if isinstance(err, click.MissingParameter) else err.format_message())
        click.echo(f"error: {str(field).strip(chr(39))}: {message}".replace("\n", " "), err=True)
        return 2
    except click.ClickException as err:
        msg = err.format_message().replace("\n", " ")
        click.echo(f"error: {msg}", err=True)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.exceptions.Exit as err:
        return err.exit_code
    except BrokenPipeError:  # the reader went away (`| head`): not an error
        _silence_stdout()
        return 0
    except SystemExit as err:  # click exits 1 on a closed pipe; that is not an error either
        # click ≤ 8.4 exits inside its EPIPE handler (the error is the exit's context); click 8.5 exits after it,
        # having wrapped stdout in its _PacifyFlushWrapper
        if isinstance(err.__context__, BrokenPipeError) or type(sys.stdout).__name__ == "_PacifyFlushWrapper":
            _silence_stdout()
            return 0
        raise
    except OSError as err:  # full disk, read-only or missing directory, unreadable file: one line
        click.echo(f"error: {os_error_text(err)}", err=True)
        return 2
    return 0


#: options whose value is optional (``--uncertainty [N]``) → what the value must be
_OPTIONAL_VALUE = {"--uncertainty": "Monte Carlo samples, an integer in [2, {max:,}]"}


def _check_optional_values(argv) -> None:
    """A negative number after an option whose value is optional: click would take it for an unknown option
    (``No such option '-3'``, even as ``--uncertainty=-3``); name the option instead."""
    prev = None
    for arg in argv:
        name, _, value = arg.partition("=") if arg.startswith("--") else (prev, "", arg)
        if name in _OPTIONAL_VALUE and re.fullmatch(r"-\d+(\.\d*)?", value):
            from dse.uncertainty.montecarlo import MAX_SAMPLES

            raise InputError(name, f"expected {_OPTIONAL_VALUE[name].format(max=MAX_SAMPLES)}, got {value}")
        prev = arg


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()

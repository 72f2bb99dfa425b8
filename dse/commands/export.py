"""``rtsa-dse export``: trials and Pareto tables of any stored study (a results directory or a storage URL)."""

from __future__ import annotations

from pathlib import Path

import click
import optuna

from dse.errors import InputError
from dse.search.export import pareto_mask, pareto_table, results_lock, study_tables
from dse.search.results_schema import (
    COLUMNS,
    FORMATS,
    GRID_FRONT,
    STUDY,
    TRIALS,
    check_format,
    export_tables,
    find_table,
    read_table,
)
from dse.search.runner import quiet_optuna
from dse.search.storage import JOURNAL_NAME, journal_damage, require_existing, storage_config


def _load(storage_url: str, study_name: str | None, base: Path) -> optuna.Study:
    require_existing(storage_url)  # reading never creates a database or journal
    cfg = storage_config(storage_url, base)
    storage = cfg.open()
    names = [s.study_name for s in storage.get_all_studies()]
    if study_name is None:
        if len(names) != 1:
            raise InputError("--study", f"{cfg.describe()} holds {len(names)} studies; name one: {', '.join(names)}")
        study_name = names[0]
    if study_name not in names:
        raise InputError(
            "--study", f"no study {study_name!r} in {cfg.describe()}; studies: {', '.join(names) or 'none'}"
        )
    return optuna.load_study(study_name=study_name, storage=storage)


@click.command("export")
@click.argument("results_dir", required=False, metavar="[RESULTS_DIR]")
@click.option("--storage", metavar="URL", help="optuna storage URL or journal file (instead of RESULTS_DIR).")
@click.option("--study", "study_name", help="Study name (needed when the storage holds several).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="Table format (with -o FILE, the file's suffix decides).")  # fmt: skip
@click.option("-o", "--output", metavar="PATH", help="Directory for trials + pareto, or one file (.csv/.parquet) "
              "for all trials; default: RESULTS_DIR, or results/<study>/ with --storage.")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite a trials table that holds more trials than the study read.")
def command(results_dir, storage, study_name, fmt, output, force) -> None:
    """Write trials and Pareto tables of a stored study (also one run by plain optuna)."""
    check_format(fmt)
    if (results_dir is None) == (storage is None):
        raise InputError("export", "give either RESULTS_DIR or --storage URL [--study NAME]")
    with quiet_optuna():
        if results_dir is not None:
            base = Path(results_dir)
            journal = base / JOURNAL_NAME
            if not journal.is_file():
                raise InputError(
                    "RESULTS_DIR", f"no {JOURNAL_NAME} in {base}; for other storages use --storage URL --study NAME"
                )
            study = _load(str(journal), study_name, base)
            default_out = base
        else:
            study = _load(storage, study_name, Path("results"))
            default_out = Path("results") / study.study_name
        trials, pareto, meta = study_tables(study)
        if meta.get("grid_points") and study.user_attrs.get(STUDY.grid_stored) == GRID_FRONT and results_dir:
            # a large grid keeps only its front in the study; the full table is the sweep's own
            # (a Parquet table may be a partitioned dataset, a directory; a grid's table has no pareto column)
            full = find_table(base, TRIALS)
            if full is not None:
                trials = read_table(full)
                if COLUMNS.pareto not in trials.columns:
                    trials[COLUMNS.pareto] = pareto_mask(trials, meta["objectives"], meta["directions"])
                pareto = pareto_table(trials[trials[COLUMNS.pareto]], meta["params"] or [], meta["objectives"])
        pareto, why = _with_robustness(study, pareto)
        if why:
            click.echo(f"note: {why}", err=True)
    journal_path = Path(results_dir) / JOURNAL_NAME if results_dir is not None else _journal_path(storage)
    if journal_path is not None and journal_damage(journal_path)[2]:
        click.echo(f"warning: {journal_path} ends in a record cut short (a killed writer or a truncated copy); "
                   f"read {len(trials)} trials", err=True)  # fmt: skip
    out = Path(output) if output else default_out
    single = out.suffix in (".csv", ".parquet")
    if single:
        check_format(out.suffix[1:])
    target = out if single else out / f"{TRIALS}.{fmt}"
    if not force and target.is_file():
        try:
            held = len(read_table(target))
        except Exception:  # an unreadable old table is replaced
            held = 0
        if held > len(trials):
            raise InputError(
                "--output", f"{target} holds {held} trials, the study only {len(trials)}: not overwritten; "
                "write elsewhere with -o PATH, or pass --force",
            )  # fmt: skip
    with results_lock(out.parent if single else out):
        paths = export_tables(trials, pareto, out, out.suffix[1:] if single else fmt, single=single)
    click.echo(f"study {study.study_name}: {len(trials)} trials, {len(pareto)} Pareto-optimal designs")
    click.echo("wrote " + ", ".join(str(p) for p in paths))


def _with_robustness(study: optuna.Study, pareto):
    """``pareto`` with the sweep's robustness columns (``p_pareto``, ``p_feasible``, the objectives' 5/50/95%):
    the same seeded samples of the declared inputs as the sweep (:func:`dse.search.robust.robust_front`), from
    the spec the study keeps; (pareto, a note why not) where the study keeps none or it no longer loads."""
    import tomllib

    from dse import plugins
    from dse.search.robust import robust_front
    from dse.search.space import Problem
    from dse.search.spec import parse_spec

    text = study.user_attrs.get(STUDY.spec)
    if not text or not len(pareto):
        return pareto, ""
    try:
        plugins.load_recorded(study.user_attrs.get(STUDY.plugins, []), field_name="RESULTS_DIR")
        problem = Problem(parse_spec(tomllib.loads(text), source=text))
        return robust_front(problem, pareto).table, ""
    except (InputError, ValueError, KeyError) as err:
        return pareto, f"no robustness columns: the study's spec no longer evaluates ({str(err).splitlines()[0]})"


def _journal_path(storage: str) -> Path | None:
    if "://" in storage:
        return None
    return Path(storage[len("journal:") :] if storage.startswith("journal:") else storage)

"""Large tables written while they are produced, through pyarrow: a partitioned Parquet dataset or one CSV file.

A grid's full table can exceed memory, so it is written chunk by chunk as the chunks are evaluated:

* ``parquet``: a directory ``<stem>.parquet/`` holding ``part-00000.parquet``, ``part-00001.parquet``, … (one
  file per chunk, named by the chunk's position, so the order of arrival does not matter). pandas
  (``pd.read_parquet(dir)``), pyarrow (``pyarrow.dataset``), Dask, Polars and DuckDB read the directory as
  one table.
* ``csv``: one file ``<stem>.csv``, chunks appended in order (pyarrow's CSV writer, about 15× faster than
  pandas' ``to_csv``). Floats are written with full precision (shortest round-trip form), booleans as
  ``True``/``False`` like pandas.

Nothing is visible under the final name until :meth:`TableSink.commit`: the parts go to a hidden
temporary sibling ``.<name>.<random>.tmp`` that is renamed at the end (a previous table of the same
stem, in either format, is replaced). An interrupted run leaves the previous table as it was; a killed
one leaves the temporary, which the next writer of the directory removes
(:func:`dse.search.export.remove_stale_temp`). Write while holding :func:`dse.search.export.results_lock`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dse.search.export import FILE_MODE
from dse.search.results_schema import FORMATS

SUFFIXES = {fmt: f".{fmt}" for fmt in FORMATS}
DIR_MODE = 0o755


def remove_table(stem: Path, keep: Path | None = None) -> None:
    """Delete ``<stem>.csv`` / ``<stem>.parquet`` (file or dataset directory) except ``keep``."""
    for suffix in SUFFIXES.values():
        path = stem.with_suffix(suffix)
        if keep is not None and path == keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _replace(tmp: Path, path: Path) -> None:
    """Move ``tmp`` onto ``path`` (a file or directory may already be there), readable like other outputs."""
    os.chmod(tmp, DIR_MODE if tmp.is_dir() else FILE_MODE)
    if path.is_dir() and not path.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", suffix=".tmp", dir=path.parent))
        os.replace(path, old / path.name)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _csv_ready(table: pa.Table) -> pa.Table:
    """Booleans as ``True``/``False`` (pandas' spelling, like every other table rtsa-dse writes)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_boolean(f.type):
            table = table.set_column(i, f.name, pc.if_else(table.column(i), "True", "False"))
    return table


class TableSink:
    """Write one table in parts: ``write(index, table)`` per chunk, then ``commit()`` (or ``abort()``).

    Used as a context manager it commits on success and aborts on an exception. ``stem`` is the path
    without suffix (``results/grid/trials``); ``fmt`` is ``csv`` or ``parquet``.
    """

    def __init__(self, stem: Path, fmt: str):
        if fmt not in SUFFIXES:
            raise ValueError(f"unknown table format {fmt!r}")
        self.fmt = fmt
        self.path = stem.with_suffix(SUFFIXES[fmt])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self._csv: pacsv.CSVWriter | None = None
        self._schema: pa.Schema | None = None
        self._next = 0  # CSV: the next part index to append
        self._pending: dict[int, pa.Table] = {}
        if fmt == "parquet":
            self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            os.close(fd)
            self._tmp = Path(name)

    def write(self, index: int, table: pa.Table) -> None:
        """Add chunk number ``index`` (0, 1, 2, …). Parquet parts may come in any order; CSV parts that
        arrive early are held until the ones before them are written."""
        self.rows += table.num_rows
        if self.fmt == "parquet":
            pq.write_table(table, self._tmp / f"part-{index:05d}.parquet")
            return
        self._pending[index] = _csv_ready(table)
        while self._next in self._pending:
            part = self._pending.pop(self._next)
            if self._csv is None:
                self._schema = part.schema
                self._csv = pacsv.CSVWriter(str(self._tmp), part.schema)
            self._csv.write_table(part if part.schema == self._schema else part.cast(self._schema))
            self._next += 1

    def commit(self) -> Path:
        """Close the table and rename it onto its final path (replacing an older table of the same stem)."""
        if self.fmt == "csv":
            if self._pending:
                raise RuntimeError(f"{self.path}: parts {sorted(self._pending)} arrived without part {self._next}")
            if self._csv is not None:
                self._csv.close()
        _replace(self._tmp, self.path)
        remove_table(self.path.with_suffix(""), keep=self.path)
        return self.path

    def abort(self) -> None:
        """Drop what was written; the previous table (if any) stays as it was."""
        if self._csv is not None:
            with contextlib.suppress(Exception):
                self._csv.close()
        if self._tmp.is_dir():
            shutil.rmtree(self._tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()

    def __enter__(self) -> TableSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

"""The run directory: one campaign's results, safe against a kill at any moment.

Layout of ``<out>/<run-id>/``::

    run.sqlite            meta, per-execution summaries, findings, sample chunks
    findings/<sig>.json   one trace file per distinct finding
    samples/<chunk>.npz   latency samples of a batch of executions
    report.*              written by ``rcu-harness report`` (reads only the above)

SQLite runs in WAL mode with ``synchronous=FULL``: every commit survives a
SIGKILL, and a kill between commits loses only uncommitted executions, which
``--resume`` runs again.  A finding's trace file is written (to a temporary
name, then renamed) before its row is committed, so a committed finding always
has its trace; a sample chunk likewise is renamed into place before its row is
committed.  Executions are keyed by index, so a resumed run never counts one
twice.  :meth:`RunStore.commit` writes a whole :class:`Batch` (executions,
their findings, their sample chunk and progress meta) in one transaction,
after the batch's files are in place: a kill leaves either all of it or none
of it committed, so a finding's count always equals the committed
executions that saw it.

Execution seeds are 64-bit unsigned; SQLite integers are signed, so the
``seed`` column holds the same 64 bits as a signed integer (``ExecutionRow``
always carries the unsigned value).

Samples: each chunk holds, for every sample name ``X`` of
:func:`rcu_harness.runtime.metrics.collect`, the values of its executions
concatenated (``X``) and the execution index of each value (``X@exec``),
made once per name per chunk from the executions' plain lists
(:func:`chunk_arrays`).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from rcu_harness.store.lock import RunLock
from rcu_harness.store.samples import to_array

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from pathlib import Path

FORMAT_VERSION = 1
DB_NAME = "run.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    idx INTEGER PRIMARY KEY, seed INTEGER NOT NULL, steps INTEGER NOT NULL,
    wall_ns INTEGER NOT NULL, finding TEXT, counters TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS findings (
    signature TEXT PRIMARY KEY, kind TEXT NOT NULL, message TEXT NOT NULL,
    first_execution INTEGER NOT NULL, count INTEGER NOT NULL,
    trace TEXT NOT NULL, replay TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sample_chunks (
    name TEXT PRIMARY KEY, first_execution INTEGER NOT NULL,
    last_execution INTEGER NOT NULL, executions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reads_from (
    pair TEXT PRIMARY KEY, first_execution INTEGER NOT NULL,
    count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS corpus (
    execution INTEGER PRIMARY KEY, new INTEGER NOT NULL, schedule TEXT NOT NULL);
"""


SampleValues = Union["Sequence[Any]", np.ndarray]
"""One execution's entries of one sample name: a list, or an array."""

_CORRUPT = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
"""What reading a missing, truncated or garbled .npz raises."""


class StoreError(ValueError):
    """A directory is not a run, or its store is of another format."""


class StoreWriteError(StoreError):
    """The run directory cannot be written (a full disk, an I/O error)."""


def _why(exc: BaseException, where: Path | None = None) -> str:
    """What went wrong, in a few words (``No space left on device``).

    SQLite says ``disk I/O error`` when it cannot map its shared-memory
    file on a full disk: @where's file system is asked whether it is full.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if where is not None and isinstance(exc, sqlite3.Error):
        try:
            full = os.statvfs(where).f_bavail == 0
        except OSError:
            full = False
        if full:
            return f"No space left on device: {text}"
    return text


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """The summary of one execution."""

    idx: int
    seed: int
    steps: int
    wall_ns: int
    finding: str | None
    counters: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A distinct finding of the run, with how often it was seen."""

    signature: str
    kind: str
    message: str
    first_execution: int
    count: int
    trace: str
    """Path of the trace file, relative to the run directory."""
    replay: str


@dataclass(frozen=True, slots=True)
class SampleChunk:
    """The latency samples of a batch of executions (see :func:`chunk_arrays`)."""

    name: str
    first: int
    last: int
    executions: int
    arrays: Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class Batch:
    """What one :meth:`RunStore.commit` makes durable, all or nothing."""

    executions: tuple[ExecutionRow, ...] = ()
    findings: tuple[tuple[FindingRow, str | None], ...] = ()
    """Each finding seen in the batch with its count there, and its trace
    JSON (written if the signature is new to the run)."""
    samples: SampleChunk | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    reads_from: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Reads-from pairs of the batch's executions: (first execution, count)."""
    corpus: tuple[tuple[int, int, str], ...] = ()
    """A guided strategy's corpus entries made by the batch's executions:
    (execution, pairs it made first, encoded schedule)."""


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over a run's stored executions."""

    executions: int
    steps: int
    wall_ns: int
    counters: Mapping[str, int]
    findings: int
    """Distinct findings."""
    violations: int
    """Executions that ended in a finding."""


def _to_sql(seed: int) -> int:
    """A 64-bit unsigned seed as the signed integer with the same bits."""
    return seed - (1 << 64) if seed >= 1 << 63 else seed


def _from_sql(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


_COLUMNS = {
    "meta": ("key", "value"),
    "executions": ("idx", "seed", "steps", "wall_ns", "finding", "counters"),
    "findings": ("signature", "kind", "message", "first_execution", "count", "trace",
                 "replay"),
    "sample_chunks": ("name", "first_execution", "last_execution", "executions"),
}


def _check(con: sqlite3.Connection, db: Path) -> None:
    """StoreError unless @con is a run store of this format, whole: every
    table with its columns, every meta value JSON."""
    for table, columns in _COLUMNS.items():
        have = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
        missing = [c for c in columns if c not in have]
        if missing:
            what = f"table {table}" if not have else f"column {table}.{missing[0]}"
            raise StoreError(f"{db} is damaged ({what} is missing); the run cannot "
                             "be used, start a new one")
    meta = {}
    for key, value in con.execute("SELECT key, value FROM meta"):
        try:
            meta[key] = json.loads(value)
        except (TypeError, ValueError):
            raise StoreError(f"{db} is damaged (meta {key!r} is not JSON); the run "
                             "cannot be used, start a new one") from None
    if meta.get("format") != FORMAT_VERSION:
        raise StoreError(f"{db} has store format {meta.get('format')}, this harness "
                         f"reads format {FORMAT_VERSION}")


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    return con


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunStore:
    """Read and write one run directory."""

    def __init__(self, run_dir: Path, con: sqlite3.Connection,
                 lock: RunLock | None = None) -> None:
        self.run_dir = run_dir
        self.con = con
        self.lock = lock
        """The run's ownership (:mod:`rcu_harness.store.lock`) while this
        store writes it; None for readers."""

    # -- opening -------------------------------------------------------------
    @classmethod
    def create(cls, run_dir: Path, meta: Mapping[str, Any]) -> RunStore:
        """Create a new run directory with @meta (values are JSON-encoded),
        owned by this process until :meth:`close`.

        FileExistsError if @run_dir exists; StoreWriteError if it cannot be
        made (a full disk): nothing of it is left behind.
        """
        try:
            run_dir.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise
        except OSError as exc:
            raise StoreWriteError(f"cannot create run directory {run_dir} "
                                  f"({_why(exc)})") from None
        try:
            return cls._fill(run_dir, meta)
        except (sqlite3.Error, OSError) as exc:
            why = _why(exc, run_dir)
            shutil.rmtree(run_dir, ignore_errors=True)
            raise StoreWriteError(f"cannot create run directory {run_dir} "
                                  f"({why})") from None

    @classmethod
    def _fill(cls, run_dir: Path, meta: Mapping[str, Any]) -> RunStore:
        lock = RunLock.acquire(run_dir)
        con = None
        try:
            (run_dir / "findings").mkdir()
            (run_dir / "samples").mkdir()
            con = _connect(run_dir / DB_NAME)
            store = cls(run_dir, con, lock)
            con.executescript(_SCHEMA)
            rows = [("format", json.dumps(FORMAT_VERSION)),
                    *((k, json.dumps(v, sort_keys=True))
                      for k, v in sorted(meta.items()))]
            with store._transaction():
                con.executemany("INSERT INTO meta VALUES (?, ?)", rows)
        except BaseException:
            if con is not None:
                con.close()
            lock.release()
            raise
        return store

    @classmethod
    def open(cls, run_dir: Path, *, own: bool = False) -> RunStore:
        """Open an existing run; StoreError if @run_dir is not one.

        @own: take the run's ownership (to write it), RunInProgressError if
        another live process has it.
        """
        db = run_dir / DB_NAME
        if not run_dir.is_dir():
            raise StoreError(f"{run_dir} is not a directory")
        if not db.is_file():
            raise StoreError(f"{run_dir} is not a run directory (no {DB_NAME})")
        lock = RunLock.acquire(run_dir) if own else None
        con = None
        try:
            con = _connect(db)
            _check(con, db)
        except BaseException as exc:
            if con is not None:
                con.close()
            if lock is not None:
                lock.release()
            if isinstance(exc, sqlite3.DatabaseError):
                raise StoreError(f"{db} is not a readable run store ({exc})"
                                 ) from None
            raise
        return cls(run_dir, con, lock)

    def close(self) -> None:
        """Close the database and give up the run's ownership, if held."""
        self.con.close()
        if self.lock is not None:
            self.lock.release()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One explicit transaction (the connection is in autocommit mode, so
        without it every statement would commit, and fsync, on its own)."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.con.in_transaction:
                self.con.execute("ROLLBACK")
            raise
        try:
            self.con.execute("COMMIT")
        except sqlite3.Error:
            if self.con.in_transaction:  # SQLITE_FULL can leave it open
                self.con.execute("ROLLBACK")
            raise

    # -- writing ----------------------------------------------------------------
    def add_executions(self, rows: Iterable[ExecutionRow]) -> None:
        """Commit a batch of execution summaries (already-stored ones are kept)."""
        with self._transaction():
            self._insert_executions(rows)

    def _insert_executions(self, rows: Iterable[ExecutionRow]) -> None:
        self.con.executemany(
            "INSERT OR IGNORE INTO executions VALUES (?, ?, ?, ?, ?, ?)",
            [(r.idx, _to_sql(r.seed), r.steps, r.wall_ns, r.finding,
              json.dumps(dict(r.counters), sort_keys=True)) for r in rows])

    def add_finding(self, row: FindingRow, trace_json: str | None) -> bool:
        """Record a finding (writing its trace first); True if it was new.

        A finding already stored only has its count raised.
        """
        new = not self._known(row.signature)
        if new and trace_json is not None:
            _atomic_write(self.run_dir / row.trace, trace_json.encode())
        with self._transaction():
            self._upsert_finding(row, new)
        return new

    def _known(self, sig: str) -> bool:
        return self.con.execute("SELECT 1 FROM findings WHERE signature=?",
                                (sig,)).fetchone() is not None

    def _upsert_finding(self, row: FindingRow, new: bool) -> None:
        if new:
            self.con.execute("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (row.signature, row.kind, row.message, row.first_execution,
                              row.count, row.trace, row.replay))
        else:
            self.con.execute("UPDATE findings SET count=count+? WHERE signature=?",
                             (row.count, row.signature))

    def add_samples(self, name: str, first: int, last: int, executions: int,
                    arrays: Mapping[str, np.ndarray]) -> None:
        """Write one sample chunk (npz, renamed into place) and record it."""
        self._write_npz(name, arrays)
        with self._transaction():
            self._insert_chunk(name, first, last, executions)

    def _write_npz(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        path = self.run_dir / "samples" / f"{name}.npz"
        tmp = path.with_name(path.name + ".tmp.npz")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, allow_pickle=False, **dict(arrays))
        os.replace(tmp, path)

    def _insert_chunk(self, name: str, first: int, last: int, executions: int) -> None:
        self.con.execute("INSERT OR REPLACE INTO sample_chunks VALUES (?, ?, ?, ?)",
                         (name, first, last, executions))

    def set_meta(self, key: str, value: Any) -> None:
        """Set (or replace) one meta value."""
        with self._transaction():
            self._put_meta(key, value)

    def _put_meta(self, key: str, value: Any) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                         (key, json.dumps(value, sort_keys=True)))

    def commit(self, batch: Batch) -> list[str]:
        """Make @batch durable in one transaction; the signatures new to the run.

        Files first (trace files of new findings, the sample chunk), each
        renamed into place; then the rows, all in one transaction.
        StoreWriteError (a full disk, say) leaves nothing of the batch
        committed.
        """
        try:
            return self._commit(batch)
        except (sqlite3.Error, OSError) as exc:
            raise StoreWriteError(f"cannot write {self.run_dir} "
                                  f"({_why(exc, self.run_dir)})") from None

    def _commit(self, batch: Batch) -> list[str]:
        new = [row.signature for row, _ in batch.findings
               if not self._known(row.signature)]
        for row, trace_json in batch.findings:
            if row.signature in new and trace_json is not None:
                _atomic_write(self.run_dir / row.trace, trace_json.encode())
        chunk = batch.samples
        if chunk is not None and chunk.arrays:
            self._write_npz(chunk.name, chunk.arrays)
        with self._transaction():
            self._insert_executions(batch.executions)
            for row, _ in batch.findings:
                self._upsert_finding(row, row.signature in new)
            if chunk is not None and chunk.arrays:
                self._insert_chunk(chunk.name, chunk.first, chunk.last,
                                   chunk.executions)
            for key, value in sorted(batch.meta.items()):
                self._put_meta(key, value)
            if batch.reads_from:
                self._upsert_pairs(batch.reads_from)
            if batch.corpus:
                self.con.executemany("INSERT OR REPLACE INTO corpus VALUES (?, ?, ?)",
                                     batch.corpus)
        return new

    def _upsert_pairs(self, pairs: Mapping[str, tuple[int, int]]) -> None:
        self.con.executemany(
            "INSERT INTO reads_from VALUES (?, ?, ?) ON CONFLICT(pair) DO UPDATE "
            "SET first_execution=min(first_execution, excluded.first_execution), "
            "count=count+excluded.count",
            [(pair, first, n) for pair, (first, n) in sorted(pairs.items())])

    # -- reading ------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """Every meta value, decoded."""
        return {k: json.loads(v) for k, v in
                self.con.execute("SELECT key, value FROM meta ORDER BY key")}

    def done(self) -> set[int]:
        """Indexes of the executions already stored."""
        return {i for (i,) in self.con.execute("SELECT idx FROM executions")}

    def reads_from(self) -> list[tuple[str, int, int]]:
        """Every reads-from pair (pair, first execution, count), by first
        execution then pair (empty for a run without coverage, or a run
        stored before reads-from coverage existed)."""
        try:
            return list(self.con.execute(
                "SELECT pair, first_execution, count FROM reads_from "
                "ORDER BY first_execution, pair"))
        except sqlite3.OperationalError:  # an older store without the table
            return []

    def corpus(self) -> list[tuple[int, int, str]]:
        """A guided strategy's corpus (execution, pairs it made first,
        encoded schedule), by execution (empty for other runs, or a store
        made before the table existed)."""
        try:
            return list(self.con.execute(
                "SELECT execution, new, schedule FROM corpus ORDER BY execution"))
        except sqlite3.OperationalError:  # an older store without the table
            return []

    def executions(self) -> list[ExecutionRow]:
        """Every stored execution, by index."""
        return [ExecutionRow(i, _from_sql(s), st, w, f, json.loads(c))
                for i, s, st, w, f, c in
                self.con.execute("SELECT * FROM executions ORDER BY idx")]

    def findings(self) -> list[FindingRow]:
        """Every distinct finding, in the order first found."""
        return [FindingRow(*row) for row in self.con.execute(
            "SELECT * FROM findings ORDER BY first_execution, signature")]

    def totals(self) -> Totals:
        """Sums over the stored executions (counters summed per name)."""
        n, steps, wall, bad = self.con.execute(
            "SELECT COUNT(*), COALESCE(SUM(steps), 0), COALESCE(SUM(wall_ns), 0),"
            " COUNT(finding) FROM executions").fetchone()
        counters = {str(k): int(v) for k, v in self.con.execute(
            "SELECT j.key, SUM(j.value) FROM executions, json_each(counters) AS j"
            " GROUP BY j.key ORDER BY j.key")}
        (distinct,) = self.con.execute("SELECT COUNT(*) FROM findings").fetchone()
        return Totals(n, steps, wall, counters, distinct, bad)

    def integrity(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` answer (``"ok"`` when sound)."""
        rows = self.con.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def sample_chunks(self) -> list[str]:
        """Names of the committed sample chunks, in execution order."""
        return [n for (n,) in self.con.execute(
            "SELECT name FROM sample_chunks ORDER BY first_execution, name")]

    def samples(self) -> dict[str, np.ndarray]:
        """All committed samples, concatenated per name (``X`` and ``X@exec``).

        StoreError names a chunk file that is missing or corrupt.
        """
        parts: dict[str, list[np.ndarray]] = {}
        for name in self.sample_chunks():
            path = self.run_dir / "samples" / f"{name}.npz"
            try:
                with np.load(path) as chunk:
                    for key in sorted(chunk.files):
                        parts.setdefault(key, []).append(chunk[key])
            except _CORRUPT as e:
                raise StoreError(f"sample file {path} is missing or corrupt ({e})") \
                    from None
        return {k: np.concatenate(v) for k, v in sorted(parts.items())}


_ABSENT: tuple[()] = ()
"""What an execution without a name contributes to the name's values."""


def chunk_arrays(per_execution: Iterable[tuple[int, Mapping[str, SampleValues]]]
                 ) -> dict[str, np.ndarray]:
    """Concatenate executions' samples into one chunk (``X`` and ``X@exec``).

    Each execution's samples are :func:`~rcu_harness.runtime.metrics.sample_lists`'
    lists (or :func:`~rcu_harness.runtime.metrics.collect`'s arrays).  A name
    is in the chunk if some execution has it, its values those executions'
    in order and ``X@exec`` the index of each value's (each row's, for
    ``rcu.waiting``) execution.  Lists become one array per name, of the
    name's kind (:func:`~rcu_harness.store.samples.to_array`), the owners
    one ``repeat``: per execution and name only C loops run (``map`` over
    ``dict.get``, ``chain``), no bytecode.  No executions: no names.
    """
    pairs = list(per_execution)
    if not pairs:
        return {}
    indexes, given = zip(*pairs, strict=True)
    samples = [s if type(s) is dict else dict(s) for s in given]
    owners = np.array(indexes, dtype=np.int64)
    values = chain.from_iterable(map(dict.values, samples))
    lists = np.ndarray not in set(map(type, values))
    out: dict[str, np.ndarray] = {}
    absent = repeat(_ABSENT)
    for key in sorted(set().union(*samples)):
        parts = list(map(dict.get, samples, repeat(key), absent))
        if lists:
            out[key] = to_array(key, parts)
        else:
            out[key] = np.concatenate([p if isinstance(p, np.ndarray)
                                       else to_array(key, (p,))
                                       for p in parts if p is not _ABSENT])
        counts = np.fromiter(map(len, parts), np.intp, len(parts))
        out[f"{key}@exec"] = owners.repeat(counts)
    return out

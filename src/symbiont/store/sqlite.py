"""The embedded SQLite store: one file, WAL, for one scheduler node and any number of CLIs."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Self, TypeVar

import anyio
import anyio.to_thread
import structlog

from symbiont.core.errors import DuplicateJobName, StoreUnavailable
from symbiont.store._base import SqlJobStore, Tx
from symbiont.store._migrate import applied_version, check_version, pending_statements

_T = TypeVar("_T")
_CHECKPOINT_INTERVAL_S = 0.5
"""Least time between two background checkpoints."""
_log = structlog.get_logger("symbiont.store")


@lru_cache(maxsize=512)
def _qmark(sql: str) -> str:
    return sql.replace("%s", "?")


class _SqliteTx:
    """`Tx` over one sqlite3 connection.

    Reads run in a worker thread. Inside a write transaction (*inline*) statements run on
    the event loop's thread: the write lock is already held, so they never wait for another
    process, and a thread hop per statement would cost more than the statement. Only
    ``BEGIN IMMEDIATE`` (which may wait for the lock) and ``COMMIT`` (which may sync to
    disk) go to a worker thread.
    """

    __slots__ = ("_conn", "_inline", "_location")

    def __init__(self, conn: sqlite3.Connection, location: str, *, inline: bool = False) -> None:
        self._conn = conn
        self._location = location
        self._inline = inline

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = await self._call(self._conn.execute, _qmark(sql), tuple(params))
        return max(cur.rowcount, 0)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        cur = await self._call(self._conn.executemany, _qmark(sql), rows)
        return max(cur.rowcount, 0)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        def run() -> tuple[Any, ...] | None:
            row: tuple[Any, ...] | None = self._conn.execute(_qmark(sql), tuple(params)).fetchone()
            return row

        return await self._call(run)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            return self._conn.execute(_qmark(sql), tuple(params)).fetchall()

        return await self._call(run)

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        try:
            if self._inline:
                return fn(*args)
            return await anyio.to_thread.run_sync(fn, *args)
        except sqlite3.IntegrityError as exc:
            raise _translate_integrity(exc) from exc
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(self._location, str(exc)) from exc


class _Checkpointer:
    """Copies the WAL into the database file on its own thread, off the writers' path.

    SQLite's automatic checkpoint runs inside the ``COMMIT`` that crosses 1,000 WAL pages:
    that commit then also copies the pages and syncs the file, 30-40 ms on the benchmark
    machine, once every few seconds under a steady load (the scheduler's lateness p99
    came from those commits). The writer's automatic checkpoint is off; after a commit
    the writer *nudges* this thread, which runs a PASSIVE checkpoint on its own connection
    at most once per *interval* (it never blocks readers or the writer).
    """

    def __init__(self, conn: sqlite3.Connection, interval: float) -> None:
        self._conn = conn
        self._interval = interval
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self.checkpoints = 0
        """Checkpoints run so far (for tests and diagnostics)."""
        self._thread = threading.Thread(
            target=self._loop, name="symbi-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def nudge(self) -> None:
        """A transaction committed: checkpoint soon."""
        self._wanted.set()

    def stop(self) -> None:
        """Run a last checkpoint and end the thread."""
        self._stopping.set()
        self._wanted.set()
        self._thread.join()

    def _loop(self) -> None:
        conn = self._conn
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # the writer's next commit nudges again
                    _log.warning("store.checkpoint_failed", error=str(exc))
                if self._stopping.wait(self._interval):  # a pause, cut short by stop()
                    return
        finally:
            conn.close()


def _translate_integrity(exc: sqlite3.IntegrityError) -> Exception:
    if "jobs.name" in str(exc):
        return DuplicateJobName("?")
    return exc


class SQLiteJobStore(SqlJobStore):
    """`JobStore` on a single SQLite file.

    WAL lets readers (the CLI, the API) work while the scheduler writes; every write is an
    explicit ``BEGIN IMMEDIATE`` transaction, so the CLI and a daemon on the same file never
    lose each other's updates. One scheduler node per file: for several nodes use PostgreSQL.

    Args:
        path: the database file; its folder is created if missing.
        busy_timeout: how long a writer waits for another process's write lock.
    """

    _unindexed = "+"

    def __init__(
        self, path: Path | str, *, busy_timeout: timedelta = timedelta(seconds=10)
    ) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self._busy_ms = int(busy_timeout.total_seconds() * 1000)
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._checkpointer: _Checkpointer | None = None
        self._write_lock = anyio.Lock()
        self._read_lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"SQLiteJobStore({self.location!r})"

    async def __aenter__(self) -> Self:
        """Open the file (creating it), switch to WAL and apply pending migrations."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await anyio.to_thread.run_sync(self._connect)
            self._reader = await anyio.to_thread.run_sync(self._connect)
            await self._migrate()
            self._writer.execute("PRAGMA wal_autocheckpoint = 0")  # _Checkpointer does it
            checkpoints = await anyio.to_thread.run_sync(self._connect)
            self._checkpointer = _Checkpointer(checkpoints, _CHECKPOINT_INTERVAL_S)
        except (OSError, sqlite3.Error, StoreUnavailable) as exc:
            await self.__aexit__()
            reason = exc.reason if isinstance(exc, StoreUnavailable) else str(exc)
            raise StoreUnavailable(self.location, reason + self._read_only_hint()) from exc
        return self

    def _read_only_hint(self) -> str:
        """Say so when the file or its folder cannot be written (read-only mount, immutable)."""
        paths = (self.path.parent, self.path)
        if all(os.access(p, os.W_OK) for p in paths if p.exists()):
            return ""
        return (
            f"; {self.path} or its folder is read-only: SQLite writes the file and its"
            " -wal and -shm files beside it"
        )

    async def __aexit__(self, *exc_info: object) -> None:
        """Close both connections (after a last checkpoint)."""
        if self._checkpointer is not None:
            await anyio.to_thread.run_sync(self._checkpointer.stop)
            self._checkpointer = None
        for conn in (self._writer, self._reader):
            if conn is not None:
                conn.close()
        self._writer = self._reader = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=self._busy_ms / 1000,
        )
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: the due index and recent runs stay hot
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    async def _migrate(self) -> None:
        async with self._write() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS symbi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            found = await applied_version(tx)
            check_version(found, self.location)
            for statement in pending_statements(found):
                await tx.execute(statement)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Tx]:
        conn = self._require(self._writer)
        async with self._write_lock:
            waiting = _SqliteTx(conn, self.location)
            await waiting._call(conn.execute, "BEGIN IMMEDIATE")  # noqa: SLF001 - same module
            try:
                yield _SqliteTx(conn, self.location, inline=True)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(conn.rollback)
                raise
            with anyio.CancelScope(shield=True):
                await waiting._call(conn.commit)  # noqa: SLF001 - same module
            if self._checkpointer is not None:
                self._checkpointer.nudge()

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Tx]:
        conn = self._require(self._reader)
        # Reads run in autocommit: each statement sees one consistent snapshot (WAL),
        # and no transaction is left open to pin old WAL frames.
        async with self._read_lock:
            yield _SqliteTx(conn, self.location)

    def _require(self, conn: sqlite3.Connection | None) -> sqlite3.Connection:
        if conn is None:
            raise StoreUnavailable(self.location, "the store is not open (use `async with store`)")
        return conn

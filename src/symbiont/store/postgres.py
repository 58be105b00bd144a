"""The PostgreSQL store: many scheduler nodes on one database (psycopg 3, async pool)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from symbiont.core.errors import DuplicateJobName, StoreUnavailable
from symbiont.store._base import SqlJobStore, Tx
from symbiont.store._migrate import applied_version, check_version, pending_statements

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("PostgreSQL support needs `pip install 'symbiont[postgres]'`") from exc

_AUDIT_LOCK = 0x53594D42  # "SYMB": serializes audit appends across nodes
_MIGRATE_LOCK = 0x53594D4D  # "SYMM": one node migrates at a time


def mask_dsn(dsn: str) -> str:
    """Return *dsn* with its password replaced by ``***``."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class _PgTx:
    """`Tx` over one psycopg async connection inside a transaction."""

    __slots__ = ("_conn", "_location")

    def __init__(self, conn: psycopg.AsyncConnection[Any], location: str) -> None:
        self._conn = conn
        self._location = location

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._conn.cursor() as cur:
            await cur.execute(sql, tuple(params))
            return max(cur.rowcount, 0)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        async with self._conn.cursor() as cur:
            await cur.executemany(sql, rows)
            return max(cur.rowcount, 0)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        async with self._conn.cursor() as cur:
            await cur.execute(sql, tuple(params))
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._conn.cursor() as cur:
            await cur.execute(sql, tuple(params))
            return await cur.fetchall()


class PostgresJobStore(SqlJobStore):
    """`JobStore` on PostgreSQL, for one or many scheduler nodes.

    Due jobs are claimed with ``FOR UPDATE SKIP LOCKED``, so nodes never wait on each other
    and never claim the same occurrence; audit appends take a transaction-scoped advisory
    lock so the hash chain stays linear across nodes.

    Args:
        dsn: ``postgresql://user:password@host:port/database``.
        min_size: connections kept open.
        max_size: most connections opened at once.
        timeout: longest wait, in seconds, for a connection from the pool. While the server
            is down every call fails (`StoreUnavailable`) after this long; psycopg's own
            default of 30 s kept the scheduler, the API and shutdown waiting that long.
    """

    _skip_locked = " FOR UPDATE SKIP LOCKED"
    _for_update = " FOR UPDATE"

    def __init__(
        self, dsn: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
    ) -> None:
        self.dsn = dsn
        self.location = mask_dsn(dsn)
        self._pool = AsyncConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            kwargs={"autocommit": True},
        )

    def __repr__(self) -> str:
        return f"PostgresJobStore({self.location!r})"

    async def __aenter__(self) -> Self:
        """Open the pool and apply pending migrations."""
        try:
            await self._pool.open(wait=True, timeout=10)
        except Exception as exc:
            await self._pool.close()
            raise StoreUnavailable(self.location, str(exc)) from exc
        await self._migrate()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the pool."""
        await self._pool.close()

    async def _migrate(self) -> None:
        async with self._write() as tx:
            await tx.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS symbi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            found = await applied_version(tx)
            check_version(found, self.location)
            for statement in pending_statements(found, name_collation=' COLLATE "C"'):
                await tx.execute(statement)

    async def _lock_audit(self, tx: Tx) -> None:
        await tx.execute("SELECT pg_advisory_xact_lock(%s)", (_AUDIT_LOCK,))

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Tx]:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield _PgTx(conn, self.location)
        except pg_errors.UniqueViolation as exc:
            if "jobs_name_key" in str(exc):
                raise DuplicateJobName("?") from exc
            raise
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(self.location, str(exc)) from exc

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Tx]:
        try:
            async with self._pool.connection() as conn:
                yield _PgTx(conn, self.location)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(self.location, str(exc)) from exc

"""Shared fixtures: stores on a real SQLite file and on the machine's real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from symbiont.store.base import JobStore

POSTGRES_URL = os.environ.get(
    "SYMBI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio (psycopg's async driver needs it)."""
    return "asyncio"


def _postgres_reason() -> str | None:
    try:
        import psycopg  # noqa: PLC0415 - optional extra
    except ImportError:
        return "psycopg is not installed (pip install 'symbiont[postgres]')"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test server; skips locally without one, fails under CI=true."""
    reason = _postgres_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
    return POSTGRES_URL


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A DSN whose search_path is a fresh schema, dropped after the test."""
    import psycopg  # noqa: PLC0415 - optional extra

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A fresh SQLite file path."""
    return tmp_path / "symbi.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store, once per backend."""
    if request.param == "sqlite":
        return str(tmp_path / "symbi.db")
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[JobStore]:
    """An open, empty store, once per backend."""
    from symbiont.store import open_store  # noqa: PLC0415 - keeps the fixture self-contained

    async with open_store(store_url) as opened:
        yield opened


# Files that take tens of seconds start first, so that under `pytest -n` (make test) they run
# beside the short tests instead of after them.
_LONG_FIRST = (
    "tests/reliability/test_kill_postgres.py",
    "tests/benchmarks/test_soak_quick.py",
    "tests/reliability/test_kill_sqlite.py",
    "tests/reliability/test_schemathesis.py",
    "tests/reliability/test_postgres_restart.py",
    "tests/reliability/test_faults_store.py",
    "tests/integration/test_cluster.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the collected tests: the long files of `_LONG_FIRST` first, the rest as found."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return _LONG_FIRST.index(path) if path in _LONG_FIRST else len(_LONG_FIRST)

    items.sort(key=rank)  # stable: the order inside each file is kept

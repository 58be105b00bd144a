"""Versioned schema migrations, applied inside the opening transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from symbiont.core.errors import SchemaVersionError
from symbiont.store._sql import GENESIS_HASH, MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from symbiont.store._base import Tx


async def applied_version(tx: Tx) -> int:
    """Return the schema version recorded in ``symbi_meta`` (0 for a new store)."""
    row = await tx.fetchone("SELECT value FROM symbi_meta WHERE key = 'schema_version'")
    return int(row[0]) if row else 0


def check_version(found: int, location: str) -> None:
    """Refuse a store written by a newer symbiont."""
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(found, SCHEMA_VERSION, location)


def pending_statements(found: int, *, name_collation: str = "") -> Iterator[str]:
    """Yield the statements that bring a store from version *found* to the current one.

    *name_collation* makes job names sort by bytes on backends whose default collation
    does not (PostgreSQL: ``' COLLATE "C"'``), so listings page the same everywhere.
    """
    for version in range(found + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[version]:
            yield statement.replace("{name_collation}", name_collation)
        if version == 1:
            yield (
                "INSERT INTO symbi_meta (key, value) VALUES "  # noqa: S608 - constants only
                f"('audit_head', '0:{GENESIS_HASH}'), ('schema_version', '1')"
            )
        else:
            yield f"UPDATE symbi_meta SET value = '{version}' WHERE key = 'schema_version'"  # noqa: S608 - an int

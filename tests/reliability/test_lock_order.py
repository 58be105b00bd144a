"""Lease renewal never waits for a run row another transaction holds (it used to deadlock)."""

from __future__ import annotations

from datetime import timedelta

import anyio
import psycopg
import pytest

from symbiont.core.enums import RunStatus
from symbiont.store import open_store
from tests.contract.helpers import T0, make_job, make_run

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


async def test_lease_renewal_skips_a_run_being_finished(postgres_schema_url: str) -> None:
    """With one run's row locked (a finish in progress), renewal returns at once.

    It used to wait for the lock; meanwhile the finish batch waited for rows the renewal
    held, and PostgreSQL broke the deadlock by failing one of them (seen under kill -9
    chaos with three nodes: healthy runs recorded failed).
    """
    async with open_store(postgres_schema_url) as store:
        job = await store.create_job(make_job("held"))
        runs = [
            await store.create_run(
                make_run(
                    job,
                    T0 + timedelta(seconds=i),
                    status=RunStatus.running,
                    node_id="n1",
                    lease_expires_at=T0 + timedelta(seconds=30),
                )
            )
            for i in range(3)
        ]
        ids = [r.id for r in runs]
        with psycopg.connect(postgres_schema_url) as other:  # a transaction: autocommit off
            other.execute("SELECT id FROM runs WHERE id = %s FOR UPDATE", (ids[1],))
            with anyio.fail_after(5):
                kept = await store.extend_leases("n1", ids, T0 + timedelta(minutes=5))
            other.rollback()
        assert sorted(kept) == sorted(ids)  # the held run is still this node's
        leases = {r.id: r.lease_expires_at for r in [await store.get_run(i) for i in ids]}
    assert leases[ids[0]] == leases[ids[2]] == T0 + timedelta(minutes=5)
    assert leases[ids[1]] == T0 + timedelta(seconds=30)  # skipped, not waited for

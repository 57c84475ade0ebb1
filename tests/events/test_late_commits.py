"""The webhook fan-out on PostgreSQL against transactions that commit late or never.

PostgreSQL hands out event IDs before commit, so a transaction that stays open leaves a gap that
later, already committed events sit behind. Whatever the gap lasts, its events are queued once
when it commits, and a gap left by a rollback holds nothing back. (SQLite commits one writer at a
time: no such gaps there.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.events import types
from sala.events.log import append_event
from sala.events.outbox import prepare_outbox
from sala.store import tables
from sala.store.db import Database
from tests.conftest import Api
from tests.events.test_webhooks import deliver, events_of, register
from tests.support.receiver import Receiver
from tests.xmlutil import success

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

OLD_GAP_PATIENCE_S = 1.0


@asynccontextmanager
async def transaction(db: Database) -> AsyncIterator[AsyncConnection]:
    """A transaction on a connection of its own, as another sala process would hold one. It
    ends when the test commits or rolls it back (rolled back if the test did neither)."""
    async with db.engine.connect() as conn:
        await conn.begin()
        yield conn


async def meeting(api: Api, external_id: str) -> str:
    created = success(await api.get("create", {"meetingID": external_id, "name": external_id}))
    return str(created.findtext("internalMeetingID"))


async def hand_raised(conn: AsyncConnection, api: Api, internal_id: str) -> None:
    """Sala's own append, as a room feature makes it (raise-hand is a webhook)."""
    await append_event(conn, internal_id, types.RAISE_HAND, api.services.clock.now_ms())


async def queued(api: Api, internal_id: str, event_id: str) -> int:
    d = tables.deliveries
    async with api.services.outbox.read() as conn:
        count = await conn.execute(
            select(func.count()).where(d.c.meeting_id == internal_id, d.c.event_id == event_id)
        )
        return int(count.scalar_one())


async def fan_out_for(api: Api, seconds: float) -> None:
    """Run the fan-out again and again for `seconds` of real time (past the old patience)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await api.services.events.fanout.run_once()
        await asyncio.sleep(0.05)


async def test_a_transaction_that_commits_late_still_gets_its_webhook_once(
    api: Api, receiver: Receiver
) -> None:
    await register(api, receiver.url("/hook"))
    early, late, after = [await meeting(api, name) for name in ("early", "late", "after")]
    await deliver(api)
    db = api.services.db

    async with transaction(db) as other:
        # Another process's transaction starts writing first...
        await hand_raised(other, api, early)
        async with transaction(db) as slow:
            # ...then this one takes the next event ID and stays open for a while,
            await hand_raised(slow, api, late)
            # while the first one writes again after it and commits.
            await hand_raised(other, api, after)
            await other.commit()
            await fan_out_for(api, OLD_GAP_PATIENCE_S + 0.3)
            # The events before and after the open transaction's went out meanwhile.
            assert await queued(api, early, types.RAISE_HAND) == 1
            assert await queued(api, after, types.RAISE_HAND) == 1
            assert await queued(api, late, types.RAISE_HAND) == 0
            # Committed, seconds after the events around it.
            await slow.commit()
    await deliver(api)

    for internal_id in (early, late, after):
        assert await queued(api, internal_id, types.RAISE_HAND) == 1
    got = [
        (e["attributes"]["meeting"]["internal-meeting-id"], e["id"])
        for e in events_of(receiver.accepted("/hook"))
    ]
    assert sorted(got) == sorted(
        [(m, "meeting-created") for m in (early, late, after)]
        + [(m, types.RAISE_HAND) for m in (early, late, after)]
    )


async def test_events_after_an_older_open_transaction_wait_for_it_and_lose_nothing(
    api: Api, receiver: Receiver
) -> None:
    await register(api, receiver.url("/hook"))
    late, after = [await meeting(api, name) for name in ("late", "after")]
    await deliver(api)
    db = api.services.db

    async with transaction(db) as slow:
        await hand_raised(slow, api, late)
        for _ in range(3):
            async with db.write() as conn:
                await hand_raised(conn, api, after)
        await fan_out_for(api, OLD_GAP_PATIENCE_S + 0.3)
        # Held back (they might otherwise overtake the open transaction's event).
        assert await queued(api, after, types.RAISE_HAND) == 0
        await slow.commit()
    await deliver(api)

    assert await queued(api, late, types.RAISE_HAND) == 1
    assert await queued(api, after, types.RAISE_HAND) == 3
    assert [e["id"] for e in events_of(receiver.accepted("/hook"))].count(types.RAISE_HAND) == 4


async def test_a_rolled_back_transaction_never_holds_the_log_back(
    api: Api, receiver: Receiver
) -> None:
    await register(api, receiver.url("/hook"))
    ghost, after = [await meeting(api, name) for name in ("ghost", "after")]
    await deliver(api)
    db = api.services.db

    async with transaction(db) as doomed:
        await hand_raised(doomed, api, ghost)
        async with db.write() as conn:
            await hand_raised(conn, api, after)
        await doomed.rollback()
    # At once: no waiting for the ID the rolled-back transaction took.
    await api.services.events.fanout.run_once()

    assert await queued(api, after, types.RAISE_HAND) == 1
    assert await queued(api, ghost, types.RAISE_HAND) == 0


async def test_a_database_restored_into_another_cluster_keeps_its_webhooks_flowing(
    api: Api, receiver: Receiver
) -> None:
    """pg_dump and restore carry the events' transaction IDs over to a cluster that counts from
    its own, lower, number: without a repair at start every new event would sort before the
    cursors and never be read."""
    await register(api, receiver.url("/hook"))
    before = await meeting(api, "before")
    await deliver(api)
    services = api.services
    old_cluster = 10**12
    async with services.db.write() as conn:
        e, c = tables.meeting_events, tables.log_cursors
        await conn.execute(update(e).values(xid=e.c.xid + old_cluster))
        await conn.execute(update(c).values(last_xid=c.c.last_xid + old_cluster))

    # A process that came up first and wrote already (in the new cluster's numbering)...
    early = await meeting(api, "early")
    # ...and what every start does.
    await prepare_outbox(services.db, services.outbox)
    services.events.fanout._known_position = None
    after = await meeting(api, "after")
    await deliver(api)

    for internal_id in (before, early, after):
        assert await queued(api, internal_id, "meeting-created") == 1
    assert [e["id"] for e in events_of(receiver.accepted("/hook"))] == ["meeting-created"] * 3

"""A cluster's documents, in one test process: a front end that only accepts ("accept") leaves
each document waiting, unleased, and wakes the workers; workers ("convert") claim them on that
wake-up, each no more than it can convert at once, and every document is converted exactly once
whichever worker got it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select, text, update

from sala.events import types
from sala.events.bus import Bus, InProcessBus
from sala.events.log import read_all_events
from sala.presentations.service import Mode, PresentationService, Upload
from sala.store import tables
from sala.store.db import Database
from tests.conftest import Api
from tests.presentations import documents
from tests.xmlutil import success

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@asynccontextmanager
async def process(
    api: Api, bus: Bus, node: str, mode: Mode, concurrency: int = 1
) -> AsyncIterator[PresentationService]:
    """One process's presentation service: its own connections, the shared database, folder
    and bus. Workers look again only when woken or after a minute (no polling helps them)."""
    settings = api.services.settings
    db = Database(settings.sqlalchemy_url)
    service = PresentationService(
        db,
        bus,
        api.services.clock,
        settings.data_dir / "presentations",
        api.services.http,
        api.services.destinations,
        concurrency=concurrency,
        node=node,
        renew_every_s=60,
        mode=mode,
    )
    stop = service.hear_wakes() if mode == "convert" else None
    try:
        yield service
    finally:
        if stop is not None:
            stop()
        await service.close()
        await db.dispose()


@on_postgresql
async def test_workers_woken_by_a_front_end_convert_each_document_once(api: Api) -> None:
    _, response = await api.create()
    internal = success(response).findtext("internalMeetingID") or ""
    bus = InProcessBus()
    t = tables.presentations
    async with (
        process(api, bus, "fe1", "accept") as front_end,
        process(api, bus, "worker1", "convert") as one,
        process(api, bus, "worker2", "convert") as two,
    ):
        assert await front_end.resume() == 0
        assert await one.resume() == 0 and await two.resume() == 0  # nothing waiting yet
        added = await front_end.add(
            internal, [Upload(name=f"d{n}.pdf", data=documents.pdf(20)) for n in range(5)]
        )
        holders: set[str] = set()
        most_held = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with api.services.db.read() as conn:
                found = (
                    await conn.execute(
                        select(t.c.state, t.c.leased_by).where(t.c.meeting_id == internal)
                    )
                ).all()
            held = [r.leased_by.split("/")[0] for r in found if r.leased_by is not None]
            holders.update(held)
            most_held = max([most_held, *(held.count(h) for h in held)])
            states = [r.state for r in found]
            if all(s != "processing" for s in states):
                break
            await asyncio.sleep(0.05)
        await one.wait_idle()
        await two.wait_idle()

    assert states == ["ready"] * 5
    assert holders == {"worker1", "worker2"}  # both workers took some; the front end none
    assert most_held == 1  # and neither claimed more than it converts at once
    async with api.services.db.read() as conn:
        events = await read_all_events(conn, internal)
        first = (await conn.execute(select(t.c.current).where(t.c.id == added[0].id))).scalar()
    converted = [e.data["presentation"] for e in events if e.type == types.PRESENTATION_CONVERTED]
    assert sorted(converted) == sorted(p.id for p in added)
    assert first is True  # the front end's wish (the first becomes current) reached a worker


@on_postgresql
async def test_documents_of_one_meeting_finishing_together_are_all_ready(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """Two conversions of one meeting end at the same moment, each wanting to become current,
    while another process changes the meeting's documents: each finish waits its turn (none is
    aborted as a deadlock and left processing until its lease lapses)."""
    _, response = await api.create()
    internal = success(response).findtext("internalMeetingID") or ""
    bus = InProcessBus()
    t = tables.presentations
    async with (
        process(api, bus, "fe1", "accept") as front_end,
        process(api, bus, "worker1", "convert", concurrency=2) as worker,
    ):
        deck = await front_end.add_default(internal)
        assert deck is not None
        added = await front_end.add(
            internal,
            [Upload(name=f"d{n}.pdf", data=documents.pdf(2), current=True) for n in range(2)],
        )
        # A moderator's switch to the default deck, on another front end, not committed yet:
        # it holds the deck's row while both conversions finish and want to become current.
        async with api.services.db.write() as conn:
            await conn.execute(update(t).where(t.c.id == deck.id).values(current=True))
            assert await worker.resume() == 2
            deadline = time.monotonic() + 30
            waiting = 0
            while waiting < 2 and time.monotonic() < deadline:
                async with api.services.db.read() as other:
                    waiting = (
                        await other.execute(
                            select(func.count())
                            .select_from(text("pg_locks"))
                            .where(text("not granted"))
                        )
                    ).scalar_one()
                await asyncio.sleep(0.05)
            assert waiting >= 2  # both finishes wait for the deck's row
        await worker.wait_idle()

    async with api.services.db.read() as conn:
        found = (
            await conn.execute(select(t.c.name, t.c.state).where(t.c.id.in_([p.id for p in added])))
        ).all()
    assert sorted(found) == [("d0.pdf", "ready"), ("d1.pdf", "ready")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

"""Two front ends converting documents against one PostgreSQL and one shared folder: a conversion
belongs to the front end converting it as long as it renews its lease, a front end starting up
leaves it alone, and one whose front end stopped (cleanly, or by dying) is taken over and
finished, once, by another. A lone server restarted after a crash resumes its conversions at
once, on SQLite as on PostgreSQL."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from sala.clock import ManualClock
from sala.events import types
from sala.events.bus import InProcessBus
from sala.events.log import read_all_events
from sala.presentations.leases import LEASE_MS
from sala.presentations.service import Presentation, PresentationService, Upload
from sala.store import tables
from sala.store.db import Database
from tests.conftest import Api
from tests.presentations import documents
from tests.xmlutil import success

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

DECK_PAGES = 4


@dataclass
class SlowServer:
    """Serves a PDF at /deck.pdf on loopback; the first request waits until `let_go`."""

    url: str
    requests: int = 0
    gate: threading.Event = field(default_factory=threading.Event)

    def let_go(self) -> None:
        self.gate.set()


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    body = documents.pdf(DECK_PAGES)
    lock = threading.Lock()
    served = SlowServer("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                served.requests += 1
                first = served.requests == 1
            if first:
                served.gate.wait(30)  # the conversion "takes minutes" until the test says so
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}/deck.pdf"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.let_go()
    server.shutdown()
    server.server_close()


@asynccontextmanager
async def front_end(
    api: Api, node: str, *, renew_every_s: float, concurrency: int = 2
) -> AsyncIterator[PresentationService]:
    """The presentation service of one front end: its own connections and bus, the shared
    database and folder, the tests' clock."""
    settings = api.services.settings
    db = Database(settings.sqlalchemy_url)
    service = PresentationService(
        db,
        InProcessBus(),
        api.services.clock,
        settings.data_dir / "presentations",
        api.services.http,
        api.services.destinations,
        concurrency=concurrency,
        node=node,
        renew_every_s=renew_every_s,
    )
    try:
        yield service
    finally:
        await service.close()
        await db.dispose()


async def meeting(api: Api) -> str:
    _, response = await api.create()
    return success(response).findtext("internalMeetingID") or ""


async def rows(api: Api, meeting_id: str) -> list[dict[str, object]]:
    t = tables.presentations
    async with api.services.db.read() as conn:
        found = await conn.execute(
            select(t).where(t.c.meeting_id == meeting_id).order_by(t.c.created_at)
        )
        return [dict(r._mapping) for r in found]


async def converted(api: Api, meeting_id: str) -> list[str]:
    """The documents the meeting's log says became ready, one entry per announcement."""
    async with api.services.db.read() as conn:
        events = await read_all_events(conn, meeting_id)
    return [e.data["presentation"] for e in events if e.type == types.PRESENTATION_CONVERTED]


async def until(condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s")


def pages_on_disk(service: PresentationService, presentation: Presentation) -> list[str]:
    return sorted(p.name for p in service.folder(presentation).iterdir())


@on_postgresql
async def test_a_front_end_starting_leaves_another_ones_conversions_alone(
    api: Api, clock: ManualClock, slow_server: SlowServer
) -> None:
    internal = await meeting(api)
    async with front_end(api, "fe1", renew_every_s=0.05, concurrency=1) as first:
        # One document downloading (slowly), one waiting for the only conversion slot.
        deck, lecture = await first.add(
            internal,
            [
                Upload(name="deck.pdf", url=slow_server.url),
                Upload(name="lecture.pdf", data=documents.pdf(2)),
            ],
        )

        async def downloading() -> bool:
            return slow_server.requests == 1

        await until(downloading, "the download started")

        async with front_end(api, "fe2", renew_every_s=0.05) as second:
            assert await second.resume() == 0

            # Two leases' worth of time passes on the clock, a third of a lease at a time once
            # the first front end renewed: only its renewals keep its conversions its own,
            # while the second looks for lapsed ones at every step.
            for _ in range(6):

                async def renewed() -> bool:
                    half_a_lease_on = clock.now_ms() + LEASE_MS // 2
                    return all(
                        r["lease_until"] > half_a_lease_on  # type: ignore[operator]
                        for r in await rows(api, internal)
                    )

                await until(renewed, "the first front end renewed its leases")
                clock.advance(ms=LEASE_MS // 3)
                await asyncio.sleep(0.15)  # the second front end sweeps meanwhile

            states = [(r["state"], r["leased_by"]) for r in await rows(api, internal)]
            assert states == [("processing", first.holder)] * 2
            assert slow_server.requests == 1  # nothing fetched again

            slow_server.let_go()
            await first.wait_idle()
            await second.wait_idle()

    deck_row, lecture_row = await rows(api, internal)
    assert (deck_row["state"], deck_row["pages"]) == ("ready", DECK_PAGES)
    assert (lecture_row["state"], lecture_row["pages"], lecture_row["error"]) == ("ready", 2, None)
    assert sorted(await converted(api, internal)) == sorted([deck.id, lecture.id])
    assert slow_server.requests == 1


@on_postgresql
async def test_a_conversion_whose_front_end_stopped_renewing_is_taken_over(
    api: Api, clock: ManualClock, slow_server: SlowServer
) -> None:
    internal = await meeting(api)
    # The first front end hangs: it renews nothing during the test.
    async with front_end(api, "fe1", renew_every_s=3600) as hung:
        [deck] = await hung.add(internal, [Upload(name="deck.pdf", url=slow_server.url)])

        async def downloading() -> bool:
            return slow_server.requests == 1

        await until(downloading, "the download started")

        async with front_end(api, "fe2", renew_every_s=0.05) as second:
            assert await second.resume() == 0  # its lease still runs
            clock.advance(ms=LEASE_MS + 1000)

            async def ready() -> bool:
                [row] = await rows(api, internal)
                return row["state"] == "ready"

            # The second takes it over, fetches it again and converts it.
            await until(ready, "taken over and converted")
            assert slow_server.requests == 2
            [row] = await rows(api, internal)
            assert (row["pages"], row["current"], row["leased_by"]) == (DECK_PAGES, True, None)
            finished = pages_on_disk(second, deck)

            # The hung one comes back and finishes its own conversion: it writes nothing.
            slow_server.let_go()
            await hung.wait_idle()
            await second.wait_idle()
            assert await rows(api, internal) == [row]
            assert await converted(api, internal) == [deck.id]
            assert pages_on_disk(second, deck) == finished
    expected = {f"{n}{kind}.png" for n in range(1, DECK_PAGES + 1) for kind in ("", "-thumb")}
    assert set(finished) == expected | {"source.pdf"}


@on_postgresql
async def test_a_front_end_stopping_gives_its_conversions_to_another(
    api: Api, slow_server: SlowServer
) -> None:
    internal = await meeting(api)
    async with front_end(api, "fe1", renew_every_s=0.05, concurrency=1) as first:
        deck, lecture = await first.add(
            internal,
            [
                Upload(name="deck.pdf", url=slow_server.url),
                Upload(name="lecture.pdf", data=documents.pdf(2), current=True),
            ],
        )

        async def downloading() -> bool:
            return slow_server.requests == 1

        await until(downloading, "the download started")
    # Stopped cleanly mid-download, the lecture still waiting for a slot: the next front end
    # to start converts both at once, without waiting for their leases to run out.
    async with front_end(api, "fe2", renew_every_s=0.05) as second:
        assert await second.resume() == 2
        await second.wait_idle()
    deck_row, lecture_row = await rows(api, internal)
    assert (deck_row["state"], deck_row["pages"]) == ("ready", DECK_PAGES)
    assert (lecture_row["state"], lecture_row["pages"], lecture_row["error"]) == ("ready", 2, None)
    assert [deck_row["current"], lecture_row["current"]].count(True) == 1
    assert sorted(await converted(api, internal)) == sorted([deck.id, lecture.id])


async def test_a_server_restarted_after_a_crash_resumes_its_conversions_at_once(
    api: Api, slow_server: SlowServer
) -> None:
    internal = await meeting(api)
    # The process that accepted them dies (it renews nothing, and is not stopped cleanly).
    async with front_end(api, "fe1", renew_every_s=3600, concurrency=1) as crashed:
        await crashed.add(
            internal,
            [
                Upload(name="deck.pdf", url=slow_server.url),
                Upload(name="lecture.pdf", data=documents.pdf(2)),
            ],
        )

        async def downloading() -> bool:
            return slow_server.requests == 1

        await until(downloading, "the download started")

        # The same node comes back at once, well within the dead process's leases.
        async with front_end(api, "fe1", renew_every_s=0.05) as restarted:
            assert await restarted.resume() == 2
            await restarted.wait_idle()
            deck_row, lecture_row = await rows(api, internal)
            assert (deck_row["state"], deck_row["pages"]) == ("ready", DECK_PAGES)
            assert (lecture_row["state"], lecture_row["pages"]) == ("ready", 2)
            slow_server.let_go()
            await crashed.wait_idle()
    assert len(await converted(api, internal)) == 2


async def test_front_ends_rendering_the_default_deck_at_once_each_see_it_whole(
    api: Api,
) -> None:
    """Several front ends on one shared folder, each opening its first room at the same moment:
    none deletes the rendering another is reading."""
    async with (
        front_end(api, "fe-a", renew_every_s=10) as a,
        front_end(api, "fe-b", renew_every_s=10) as b,
        front_end(api, "fe-c", renew_every_s=10) as c,
    ):
        renderings = await asyncio.gather(*(s._default_rendering() for s in (a, b, c)))
    for pages, folder in renderings:
        assert pages >= 1
        for n in range(1, pages + 1):
            assert (folder / f"{n}.png").exists(), sorted(p.name for p in folder.iterdir())
    leftovers = [p for p in (renderings[0][1].parent).iterdir() if p.name.startswith(".")]
    assert leftovers == []

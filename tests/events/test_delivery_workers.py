"""Two delivery workers (two `sala worker` processes, on one machine or two) sharing one outbox
on PostgreSQL: each delivery goes out once, in order per hook and meeting, and a delivery is
never being sent by both at the same time, even to a receiver that answers slowly."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from sala.clock import SystemClock
from sala.events import types
from sala.events.delivery import Deliverer, DeliverySettings
from sala.events.hooks import HookStore
from sala.events.outbound import OutboundHttp
from sala.store import tables
from sala.store.db import Database
from tests.conftest import Api
from tests.events.test_webhooks import events_of, register
from tests.support.receiver import Receiver
from tests.xmlutil import success

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

TIMEOUT_S = 0.5


@asynccontextmanager
async def deliverer(api: Api) -> AsyncIterator[Deliverer]:
    """A delivery worker with connections of its own, on the real clock."""
    settings = api.services.settings
    db = Database(settings.sqlalchemy_url)
    http = OutboundHttp(max_connections=8)
    clock = SystemClock()
    try:
        yield Deliverer(
            db,
            clock,
            HookStore(db, clock),
            api.services.destinations,
            http,
            DeliverySettings(secret=settings.shared_secret, timeout_s=TIMEOUT_S),
        )
    finally:
        await http.aclose()
        await db.dispose()


async def run_both(first: Deliverer, second: Deliverer, api: Api, seconds: float) -> None:
    """Both pump side by side until the outbox is empty (or `seconds` passed)."""
    d = tables.deliveries
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.gather(first.pump(), second.pump())
        async with api.services.db.read() as conn:
            pending = (await conn.execute(select(d.c.id).where(d.c.status == "pending"))).first()
        if pending is None and not first.busy and not second.busy:
            break
        await asyncio.sleep(0.05)
    await asyncio.gather(first.drain(), second.drain())


async def queue_events(api: Api, meetings: int, chats: int) -> None:
    for n in range(meetings):
        created = success(await api.get("create", {"meetingID": f"m{n}", "name": "Room"}))
        internal = str(created.findtext("internalMeetingID"))
        for i in range(chats):
            await api.services.meetings.log_event(
                internal, types.CHAT_MESSAGE, {"chat": "public", "message": f"{n}.{i}"}
            )
    while await api.services.events.fanout.run_once():
        pass


async def test_two_workers_send_each_delivery_once_and_in_order(
    api: Api, receiver: Receiver
) -> None:
    await register(api, receiver.url("/hook"))
    await queue_events(api, meetings=4, chats=5)

    async with deliverer(api) as first, deliverer(api) as second:
        await run_both(first, second, api, seconds=60)

    requests = receiver.accepted("/hook")
    ids = [r.headers["x-sala-delivery-id"] for r in requests]
    assert len(ids) == len(set(ids)) == 4 * 6
    by_meeting: dict[str, list[str]] = defaultdict(list)
    for event in events_of(requests):
        meeting = event["attributes"]["meeting"]["external-meeting-id"]
        chat = event["attributes"].get("chat-message", {}).get("message", "created")
        by_meeting[meeting].append(chat)
    for n in range(4):
        assert by_meeting[f"m{n}"] == ["created"] + [f"{n}.{i}" for i in range(5)]


@dataclass
class TricklingReceiver:
    """Answers the first attempt of each delivery a byte at a time, for longer than the
    timeout but never pausing long enough for a read to time out; later attempts at once.
    Records when each attempt started and ended (the answer written, or the sender gone)."""

    byte_every_s: float = 0.25
    body: bytes = b"accepted, slowly"
    attempts: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    port: int = 0

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started = time.monotonic()
        head = await reader.readuntil(b"\r\n\r\n")
        headers = dict(
            line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if line
        )
        headers = {k.lower(): v for k, v in headers.items()}
        await reader.readexactly(int(headers.get("content-length", "0")))
        delivery_id = headers["x-sala-delivery-id"]
        first = delivery_id not in self.attempts
        self.attempts.setdefault(delivery_id, [])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(self.body))
        for i in range(len(self.body)):
            if first:
                try:
                    # Waits between bytes, and sees the sender hang up.
                    if await asyncio.wait_for(reader.read(1), self.byte_every_s) == b"":
                        break
                except TimeoutError:
                    pass
            writer.write(self.body[i : i + 1])
            await writer.drain()
        self.attempts[delivery_id].append((started, time.monotonic()))
        writer.close()


async def test_a_slow_answer_is_never_sent_again_while_it_is_still_coming(api: Api) -> None:
    """A claim lasts the timeout and two seconds: an attempt that went on longer would let the
    other worker claim and send the same delivery while the first is still at it."""
    trickling = TricklingReceiver()
    server = await trickling.start()
    try:
        await register(api, f"http://127.0.0.1:{trickling.port}/hook")
        await queue_events(api, meetings=3, chats=0)
        async with deliverer(api) as first, deliverer(api) as second:
            await run_both(first, second, api, seconds=20)
    finally:
        server.close()
        await server.wait_closed()

    assert len(trickling.attempts) == 3
    for attempts in trickling.attempts.values():
        attempts.sort()
        for (_, ended), (started, _) in itertools.pairwise(attempts):
            assert ended <= started, "two attempts of one delivery at once"
    d = tables.deliveries
    async with api.services.db.read() as conn:
        statuses = (await conn.execute(select(d.c.status))).scalars().all()
    assert statuses == ["delivered"] * 3

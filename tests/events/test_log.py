"""The meeting event log: every event of a meeting comes back, in order, however many."""

from __future__ import annotations

from sqlalchemy import insert

from sala.events.log import read_all_events
from sala.store import tables
from tests.conftest import Api


async def test_a_long_meeting_is_read_back_whole(api: Api) -> None:
    db = api.services.db
    rows = [
        {"meeting_id": "m-long", "ts": n, "type": "user-talking-started", "data": {"n": n}}
        for n in range(10_007)
    ]
    async with db.write() as conn:
        await conn.execute(insert(tables.meeting_events), rows)
        await conn.execute(
            insert(tables.meeting_events),
            [{"meeting_id": "m-other", "ts": 1, "type": "chat-message", "data": {}}],
        )
    async with db.read() as conn:
        events = await read_all_events(conn, "m-long")
    assert [e.data["n"] for e in events] == list(range(10_007))

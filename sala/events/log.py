"""The append-only meeting event log.

Every state change appends its event inside the same transaction as the change, so the log is
exactly as durable as the state: webhooks, the analytics callback and recordings read from it and
never miss an event that happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.store import tables

events_table = tables.meeting_events
_APPEND = insert(events_table)


@dataclass(frozen=True)
class MeetingEvent:
    id: int
    meeting_id: str
    ts: int
    type: str
    user_id: str | None
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: Any) -> MeetingEvent:
        """From a row holding at least EVENT_COLUMNS (others, such as `xid`, are ignored)."""
        m = row._mapping
        return cls(m["id"], m["meeting_id"], m["ts"], m["type"], m["user_id"], m["data"])


EVENT_COLUMNS = (
    events_table.c.id,
    events_table.c.meeting_id,
    events_table.c.ts,
    events_table.c.type,
    events_table.c.user_id,
    events_table.c.data,
)
"""What a MeetingEvent is made of (the table also holds the writer's transaction ID)."""


async def append_event(
    conn: AsyncConnection,
    meeting_id: str,
    type_: str,
    ts: int,
    *,
    user_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    # Values as parameters, not `.values()`: the statement is the same object every time, so
    # SQLAlchemy neither rebuilds nor re-keys it (every join and leave appends; issue 17).
    await conn.execute(
        _APPEND,
        {"meeting_id": meeting_id, "ts": ts, "type": type_, "user_id": user_id, "data": data or {}},
    )


def event_row(
    meeting_id: str,
    type_: str,
    ts: int,
    *,
    user_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event's values for `append_events`."""
    return {
        "meeting_id": meeting_id,
        "ts": ts,
        "type": type_,
        "user_id": user_id,
        "data": data or {},
    }


async def append_events(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Append several events (`event_row`) in one statement, in order: their IDs follow it."""
    if rows:
        await conn.execute(_APPEND, rows)


async def read_events(
    conn: AsyncConnection, meeting_id: str, *, after_id: int = 0, limit: int = 10_000
) -> Sequence[MeetingEvent]:
    rows = await conn.execute(
        select(*EVENT_COLUMNS)
        .where(events_table.c.meeting_id == meeting_id, events_table.c.id > after_id)
        .order_by(events_table.c.id)
        .limit(limit)
    )
    return [MeetingEvent.from_row(row) for row in rows]


async def read_all_events(conn: AsyncConnection, meeting_id: str) -> list[MeetingEvent]:
    """Every event of one meeting, in order, however many (read a page at a time)."""
    found: list[MeetingEvent] = []
    while True:
        page = await read_events(conn, meeting_id, after_id=found[-1].id if found else 0)
        found.extend(page)
        if len(page) < 10_000:
            return found

"""Who attended an activity's meeting: read from the meeting event log over every session of
the activity's stable meeting ID (one meeting per create, so a weekly class is many sessions).

A `user-joined` event is written when a user's room connection comes up, so registering (the
join call) without entering does not count. Users are matched by external user ID, which for
LTI users is derived from the platform's `sub` (sala/lti/meetings.user_id), the ID the
platform's roster gives too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from sala.events import types
from sala.store import tables
from sala.store.db import Database


@dataclass(frozen=True)
class Attendance:
    external_user_id: str
    name: str
    sessions: int
    """How many sessions of the meeting they entered."""
    first_joined: int
    last_joined: int
    """Times in ms."""


async def attendance(db: Database, external_meeting_id: str) -> dict[str, Attendance]:
    e, a, m = tables.meeting_events, tables.attendees, tables.meetings
    query = (
        select(
            a.c.external_user_id,
            func.max(a.c.full_name),
            func.count(func.distinct(e.c.meeting_id)),
            func.min(e.c.ts),
            func.max(e.c.ts),
        )
        .select_from(e)
        .join(m, m.c.internal_id == e.c.meeting_id)
        .join(a, a.c.internal_user_id == e.c.user_id)
        .where(m.c.external_id == external_meeting_id, e.c.type == types.USER_JOINED)
        .group_by(a.c.external_user_id)
    )
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    return {
        row[0]: Attendance(row[0], row[1], int(row[2]), int(row[3]), int(row[4])) for row in rows
    }

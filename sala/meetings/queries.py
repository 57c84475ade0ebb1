"""Reads shared by the meeting services, run inside their transactions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import false, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.meetings import errors
from sala.meetings.model import Attendee, Meeting
from sala.meetings.specs import JoinSpec
from sala.store import tables

meetings_t = tables.meetings
attendees_t = tables.attendees


async def live_row(conn: AsyncConnection, internal_id: str) -> Any:
    return (
        await conn.execute(
            select(meetings_t).where(
                meetings_t.c.internal_id == internal_id, meetings_t.c.ended == false()
            )
        )
    ).first()


async def count_present(conn: AsyncConnection, meeting_id: str) -> int:
    return int(
        (
            await conn.execute(
                select(func.count()).where(
                    attendees_t.c.meeting_id == meeting_id, attendees_t.c.present == true()
                )
            )
        ).scalar_one()
    )


async def check_capacity(
    conn: AsyncConnection, meeting_id: str, limit: int, spec: JoinSpec
) -> None:
    present = (
        (
            await conn.execute(
                select(attendees_t.c.external_user_id)
                .where(attendees_t.c.meeting_id == meeting_id, attendees_t.c.present == true())
                .distinct()
            )
        )
        .scalars()
        .all()
    )
    # A user already in the meeting (a second tab, a reconnect) does not take another seat.
    if spec.external_user_id is not None and spec.external_user_id in present:
        return
    if len(present) >= limit:
        raise errors.MaxParticipantsReached()


async def present_attendees(
    conn: AsyncConnection, meeting_ids: Sequence[str]
) -> dict[str, list[Attendee]]:
    if not meeting_ids:
        return {}
    rows = await conn.execute(
        select(attendees_t)
        .where(attendees_t.c.meeting_id.in_(meeting_ids), attendees_t.c.present == true())
        .order_by(attendees_t.c.joined_at, attendees_t.c.internal_user_id)
    )
    grouped: dict[str, list[Attendee]] = {}
    for row in rows:
        grouped.setdefault(row.meeting_id, []).append(Attendee.from_row(row._mapping))
    return grouped


async def with_attendees(conn: AsyncConnection, row: Any) -> Meeting:
    present = await present_attendees(conn, [row["internal_id"]])
    return Meeting.from_row(row, tuple(present.get(row["internal_id"], ())))

"""Reads shared by the meeting services, run inside their transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.meetings import errors
from sala.meetings.model import Attendee, Meeting
from sala.meetings.specs import JoinSpec
from sala.store import tables

meetings_t = tables.meetings
attendees_t = tables.attendees

# Built once, with bound parameters: SQLAlchemy keys a statement object once, so the reads
# every join and every presence change make skip rebuilding and re-keying them (issue 17).
_LIVE_ROW = select(meetings_t).where(
    meetings_t.c.internal_id == bindparam("internal_id"), meetings_t.c.ended == false()
)
_LIVE_ROW_FOR_UPDATE = _LIVE_ROW.with_for_update()
_LIVE_BY_EITHER_ID = select(meetings_t).where(
    or_(
        meetings_t.c.internal_id == bindparam("meeting_id"),
        meetings_t.c.external_id == bindparam("meeting_id"),
    ),
    meetings_t.c.ended == false(),
)


async def live_row(conn: AsyncConnection, internal_id: str, *, for_update: bool = False) -> Any:
    """The meeting if it has not ended. `for_update` locks its row until the transaction ends
    (PostgreSQL; SQLite has one writer anyway): a writer that waited for another one's lock
    then sees that one's result, so two processes ending a meeting at once end it once."""
    statement = _LIVE_ROW_FOR_UPDATE if for_update else _LIVE_ROW
    return (await conn.execute(statement, {"internal_id": internal_id})).first()


async def resolve_live_row(conn: AsyncConnection, meeting_id: str) -> Any:
    """The live meeting a `meetingID` parameter names: its internal ID first, then its external
    ID, in that order as bbb-web's findMeetingFromMeetingID. bbb-web matches internal IDs by
    prefix; sala matches them exactly, so a short external ID never lands on another meeting."""
    if not meeting_id:
        return None
    # One round trip for both (a join's transaction holds the write lock meanwhile).
    rows = (await conn.execute(_LIVE_BY_EITHER_ID, {"meeting_id": meeting_id})).all()
    by_internal = [r for r in rows if r.internal_id == meeting_id]
    found = by_internal or rows
    return found[0] if found else None


async def breakout_rooms(
    conn: AsyncConnection, parent_ids: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """The external IDs of every breakout created under each parent, live or ended, in the order
    they were created (same millisecond: by ID): BBB lists a parent's breakouts for as long as
    the parent lives."""
    if not parent_ids:
        return {}
    rows = await conn.execute(
        select(meetings_t.c.parent_meeting_id, meetings_t.c.external_id)
        .where(meetings_t.c.parent_meeting_id.in_(parent_ids))
        .order_by(meetings_t.c.create_time, meetings_t.c.external_id)
    )
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(row.parent_meeting_id, []).append(row.external_id)
    return {parent: tuple(children) for parent, children in grouped.items()}


async def present_external_ids(conn: AsyncConnection, meeting_id: str) -> list[str]:
    """The external user IDs of the users present in a meeting, each once."""
    rows = await conn.execute(
        select(attendees_t.c.external_user_id)
        .where(attendees_t.c.meeting_id == meeting_id, attendees_t.c.present == true())
        .distinct()
    )
    return list(rows.scalars().all())


def check_capacity(present: Sequence[str], limit: int, spec: JoinSpec) -> None:
    """Refuse a join that would take a seat past `limit` (`present`: present_external_ids)."""
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


async def as_shown(conn: AsyncConnection, row: Any) -> Meeting:
    """The meeting as the API shows it: with who is in it and, for a parent, its breakouts."""
    meeting = await with_attendees(conn, row)
    if meeting.is_breakout:
        return meeting  # breakouts have no breakouts of their own
    children = await breakout_rooms(conn, [meeting.internal_id])
    return replace(meeting, breakout_rooms=children.get(meeting.internal_id, ()))

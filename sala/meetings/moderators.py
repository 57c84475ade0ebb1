"""Whether a moderator is in a meeting, kept with the meeting for the endWhenNoModerator rule.

BBB (akka-apps MeetingActor.updateModeratorsPresence) remembers that a moderator has joined at
some point, and since when no moderator has been present; the rule in rules.py ends the meeting
once that lasted the delay. sala stores both on the meeting row (`moderator_joined`,
`no_moderator_since`), updated in the same transaction as the change that caused them (someone
entering or leaving the room, a role change), so the deadline survives a restart like the others.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.meetings.model import Role
from sala.store import tables

attendees_t = tables.attendees


async def count_present_moderators(conn: AsyncConnection, meeting_id: str) -> int:
    return int(
        (
            await conn.execute(
                select(func.count()).where(
                    attendees_t.c.meeting_id == meeting_id,
                    attendees_t.c.present == true(),
                    attendees_t.c.role == Role.MODERATOR.value,
                )
            )
        ).scalar_one()
    )


_COUNT_PRESENT = select(
    func.count(), func.count(case((attendees_t.c.role == Role.MODERATOR.value, 1)))
).where(attendees_t.c.meeting_id == bindparam("meeting_id"), attendees_t.c.present == true())
"""Built once, with a bound parameter: every presence write runs it (issue 17)."""


async def count_present_with_moderators(conn: AsyncConnection, meeting_id: str) -> tuple[int, int]:
    """How many are present, and how many of them are moderators: one query where a join
    made two (every join and leave runs it, inside the writer's turn)."""
    row = (await conn.execute(_COUNT_PRESENT, {"meeting_id": meeting_id})).one()
    return int(row[0]), int(row[1])


async def presence_values(conn: AsyncConnection, row: Any, now: int) -> dict[str, Any]:
    """The meeting columns to change after attendees changed (empty when nothing changes)."""
    return values_for(row, await count_present_moderators(conn, row["internal_id"]), now)


def values_for(row: Any, present_moderators: int, now: int) -> dict[str, Any]:
    """`presence_values` with the present moderators already counted."""
    if present_moderators:
        if row["moderator_joined"] and row["no_moderator_since"] is None:
            return {}
        return {"moderator_joined": True, "no_moderator_since": None}
    if row["moderator_joined"] and row["no_moderator_since"] is None:
        return {"no_moderator_since": now}
    return {}

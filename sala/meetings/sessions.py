"""Room sessions: the one-time join token and the room session it is exchanged for, the list
of open sessions (getSessions), and the end of a user's sessions when a moderator removes them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, false, insert, select, update

from sala.clock import Clock
from sala.meetings import errors, ids
from sala.meetings.model import Attendee, Meeting
from sala.meetings.specs import LifecycleDefaults, RoomSession
from sala.store import tables
from sala.store.db import Database

meetings_t = tables.meetings
attendees_t = tables.attendees
tokens_t = tables.tokens
PURGE_AFTER_MS = 24 * 3_600_000


async def end_user_sessions(db: Database, clock: Clock, meeting_id: str, user_id: str) -> int:
    """End every session one user has in one meeting: room sessions and join links not used yet.

    What a removal does: as in BBB, a removed user comes back only through a new join (the
    integrator's), never by reloading the page with the cookie they had. It is stored, so a
    restart keeps it. Returns how many sessions ended.
    """
    now = clock.now_ms()
    async with db.write() as conn:
        ended = await conn.execute(
            update(tokens_t)
            .where(
                tokens_t.c.meeting_id == meeting_id,
                tokens_t.c.user_id == user_id,
                tokens_t.c.expires_at > now,
            )
            .values(expires_at=now)
        )
    return int(ended.rowcount)


@dataclass(frozen=True)
class ActiveSession:
    """One room session as getSessions lists it."""

    meeting_id: str
    """Internal meeting ID."""
    meeting_name: str
    user_name: str


class RoomSessions:
    def __init__(self, db: Database, clock: Clock, defaults: LifecycleDefaults) -> None:
        self._db = db
        self._clock = clock
        self._defaults = defaults

    async def open_room_session(self, join_token: str) -> RoomSession:
        """Exchange a join URL's one-time token for a room session.

        The join token is spent by this call; the room session lasts while the meeting runs.
        """
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            spent = await conn.execute(
                update(tokens_t)
                .where(
                    tokens_t.c.token == join_token,
                    tokens_t.c.kind == "join",
                    tokens_t.c.used_at.is_(None),
                    tokens_t.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if spent.rowcount != 1:
                raise errors.InvalidSession()
            token_row = (
                await conn.execute(select(tokens_t).where(tokens_t.c.token == join_token))
            ).one()
            meeting_row = (
                await conn.execute(
                    select(meetings_t).where(
                        meetings_t.c.internal_id == token_row.meeting_id,
                        meetings_t.c.ended == false(),
                    )
                )
            ).first()
            if meeting_row is None:
                raise errors.InvalidSession("The meeting has ended")
            room_token = ids.session_token()
            expires = now + self._defaults.room_session_ttl_ms
            await conn.execute(
                insert(tokens_t).values(
                    token=room_token,
                    kind="room",
                    meeting_id=token_row.meeting_id,
                    user_id=token_row.user_id,
                    created_at=now,
                    expires_at=expires,
                    used_at=None,
                )
            )
            attendee_row = (
                await conn.execute(
                    select(attendees_t).where(attendees_t.c.internal_user_id == token_row.user_id)
                )
            ).one()
            # Without who is present: O(1) per connection, not O(N) (the room knows who is).
            meeting = Meeting.from_row(meeting_row._mapping)
        return RoomSession(room_token, meeting, Attendee.from_row(attendee_row._mapping), expires)

    async def room_session(self, token: str) -> RoomSession:
        """The room session behind a token, while it is valid and its meeting runs."""
        now = self._clock.now_ms()
        async with self._db.read() as conn:
            token_row = (
                await conn.execute(
                    select(tokens_t).where(
                        tokens_t.c.token == token,
                        tokens_t.c.kind == "room",
                        tokens_t.c.expires_at > now,
                    )
                )
            ).first()
            if token_row is None:
                raise errors.InvalidSession()
            meeting_row = (
                await conn.execute(
                    select(meetings_t).where(
                        meetings_t.c.internal_id == token_row.meeting_id,
                        meetings_t.c.ended == false(),
                    )
                )
            ).first()
            if meeting_row is None:
                raise errors.InvalidSession("The meeting has ended")
            attendee_row = (
                await conn.execute(
                    select(attendees_t).where(attendees_t.c.internal_user_id == token_row.user_id)
                )
            ).one()
            meeting = Meeting.from_row(meeting_row._mapping)
        return RoomSession(
            token, meeting, Attendee.from_row(attendee_row._mapping), token_row.expires_at
        )

    async def active(self) -> list[ActiveSession]:
        """Every room session still valid in a live meeting, oldest first: what a browser that
        entered a room holds. Join links not followed yet are not sessions; a session ends
        with its meeting, its expiry or the user's removal."""
        now = self._clock.now_ms()
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(meetings_t.c.internal_id, meetings_t.c.name, attendees_t.c.full_name)
                .select_from(
                    tokens_t.join(
                        meetings_t, meetings_t.c.internal_id == tokens_t.c.meeting_id
                    ).join(attendees_t, attendees_t.c.internal_user_id == tokens_t.c.user_id)
                )
                .where(
                    tokens_t.c.kind == "room",
                    tokens_t.c.expires_at > now,
                    meetings_t.c.ended == false(),
                )
                .order_by(tokens_t.c.created_at, tokens_t.c.token)
            )
            return [ActiveSession(r.internal_id, r.name, r.full_name) for r in rows]

    async def purge_expired(self, kept_ms: int = PURGE_AFTER_MS) -> int:
        """Delete tokens that expired more than `kept_ms` ago; how many went. Every join leaves
        one or two rows behind, and getSessions reads this table. A day's grace keeps the
        "already used" answer for a join link followed twice the same day."""
        before = self._clock.now_ms() - kept_ms
        async with self._db.write() as conn:
            result = await conn.execute(delete(tokens_t).where(tokens_t.c.expires_at < before))
        return int(result.rowcount or 0)

    async def end_user_sessions(self, meeting_id: str, user_id: str) -> int:
        """See `end_user_sessions`."""
        return await end_user_sessions(self._db, self._clock, meeting_id, user_id)

"""Room sessions: the one-time join token and the room session it is exchanged for, the list
of open sessions (getSessions), and the end of a user's sessions when a moderator removes them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, exists, false, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.clock import Clock
from sala.meetings import errors, ids
from sala.meetings.batches import Batches
from sala.meetings.model import Attendee, Meeting
from sala.meetings.specs import LifecycleDefaults, RoomSession
from sala.store import tables
from sala.store.db import Database

meetings_t = tables.meetings
attendees_t = tables.attendees
tokens_t = tables.tokens
PURGE_AFTER_MS = 24 * 3_600_000
# Built once, with bound parameters: every join makes these, and SQLAlchemy keys a statement
# object once instead of rebuilding and re-keying it each time (issue 17).
_INSERT_TOKEN = insert(tokens_t)
_SPEND_JOIN_TOKENS = (
    update(tokens_t)
    .where(
        tokens_t.c.token.in_(bindparam("join_tokens", expanding=True)),
        tokens_t.c.kind == "join",
        tokens_t.c.used_at.is_(None),
        tokens_t.c.expires_at > bindparam("spent_at"),
        exists().where(
            meetings_t.c.internal_id == tokens_t.c.meeting_id, meetings_t.c.ended == false()
        ),
    )
    .values(used_at=bindparam("spent_at"))
    .returning(tokens_t.c.token, tokens_t.c.meeting_id, tokens_t.c.user_id)
)
"""Spend join tokens, those whose meeting still runs: the hand-off's check and write in one."""
SPENDS = "spends"
"""The one key of hand-offs' batches: which meeting a token opens is what the batch finds out."""
_ROOM_SESSION = (
    select(meetings_t, attendees_t, tokens_t.c.expires_at.label("token_expires"))
    .select_from(
        tokens_t.join(meetings_t, meetings_t.c.internal_id == tokens_t.c.meeting_id).join(
            attendees_t, attendees_t.c.internal_user_id == tokens_t.c.user_id
        )
    )
    .where(
        tokens_t.c.token == bindparam("token"),
        tokens_t.c.kind == "room",
        tokens_t.c.expires_at > bindparam("now"),
        meetings_t.c.ended == false(),
    )
)
"""A room token's meeting (while live) and attendee, in one query."""


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


async def _why_not_spent(conn: AsyncConnection, join_token: str, now: int) -> errors.InvalidSession:
    """Why a join token opens nothing: used, expired or unknown, or its meeting has ended."""
    unspent = (
        await conn.execute(
            select(tokens_t.c.token).where(
                tokens_t.c.token == join_token,
                tokens_t.c.kind == "join",
                tokens_t.c.used_at.is_(None),
                tokens_t.c.expires_at > now,
            )
        )
    ).first()
    if unspent is None:
        return errors.InvalidSession()
    return errors.InvalidSession("The meeting has ended")


async def _why_invalid(conn: AsyncConnection, token: str, now: int) -> errors.InvalidSession:
    """Why a room token opens nothing: an unknown or expired token, or an ended meeting."""
    live_token = (
        await conn.execute(
            select(tokens_t.c.token).where(
                tokens_t.c.token == token, tokens_t.c.kind == "room", tokens_t.c.expires_at > now
            )
        )
    ).first()
    if live_token is None:
        return errors.InvalidSession()
    return errors.InvalidSession("The meeting has ended")


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
        self._spends: Batches[str, str] = Batches(self._spend)
        """Hand-offs, written in batches."""

    async def open_room_session(self, join_token: str) -> RoomSession:
        """Exchange a join URL's one-time token for a room session, and read it."""
        return await self.room_session(await self.spend(join_token))

    async def spend(self, join_token: str) -> str:
        """Exchange a join URL's one-time token for a room session; the session's token.

        The join token is spent by this call; the room session lasts while the meeting runs.
        The hand-offs that arrive together are written in one transaction (meetings/batches.py),
        every statement of which holds the database's one writer that every other join waits
        for (issue 17). The browser reads the session with its WebSocket a moment later.
        """
        return await self._spends.submit(SPENDS, join_token)

    async def _spend(self, _key: str, join_tokens: list[str]) -> list[str | Exception]:
        now = self._clock.now_ms()
        answers: list[str | Exception] = []
        sessions: list[dict[str, object]] = []
        async with self._db.write() as conn:
            spent = {
                row.token: row
                for row in await conn.execute(
                    _SPEND_JOIN_TOKENS,
                    {"join_tokens": sorted(set(join_tokens)), "spent_at": now},
                )
            }
            for join_token in join_tokens:
                # pop: the same link followed twice in one batch opens one session.
                row = spent.pop(join_token, None)
                if row is None:
                    answers.append(await _why_not_spent(conn, join_token, now))
                    continue
                room_token = ids.session_token()
                sessions.append(
                    {
                        "token": room_token,
                        "kind": "room",
                        "meeting_id": row.meeting_id,
                        "user_id": row.user_id,
                        "created_at": now,
                        "expires_at": now + self._defaults.room_session_ttl_ms,
                        "used_at": None,
                    }
                )
                answers.append(room_token)
            if sessions:
                await conn.execute(_INSERT_TOKEN, sessions)
        return answers

    async def room_session(self, token: str) -> RoomSession:
        """The room session behind a token, while it is valid and its meeting runs."""
        now = self._clock.now_ms()
        async with self._db.read(snapshot=False) as conn:
            # One query: every room connection and page asks this (issue 17). Why a token
            # opens nothing, asked after it, needs no snapshot shared with it.
            row = (await conn.execute(_ROOM_SESSION, {"token": token, "now": now})).first()
            if row is None:
                raise await _why_invalid(conn, token, now)
        # Without who is present: O(1) per connection, not O(N) (the room knows who is).
        meeting = Meeting.from_row(row._mapping)
        return RoomSession(
            token, meeting, Attendee.from_row(row._mapping), row._mapping["token_expires"]
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

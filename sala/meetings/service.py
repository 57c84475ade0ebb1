"""MeetingService: every change to a meeting goes through here.

Each operation is one database transaction that updates the state, appends to the meeting's
event log and, once committed, tells the bus. Nothing is kept only in memory, so a restart or a
second process sees the same meetings.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import bindparam, false, func, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.clock import Clock
from sala.events import types
from sala.events.bus import Bus
from sala.events.log import append_event, append_events, event_row
from sala.events.types import MEETING_CHANGED_TOPIC, MEETING_ENDED_TOPIC
from sala.meetings import errors, ids, joining, moderators, queries
from sala.meetings.batches import Batches
from sala.meetings.cache import LiveMeetingCache
from sala.meetings.model import Attendee, Meeting
from sala.meetings.rules import (
    EndReason,
    LifecycleState,
    due_reason,
    next_deadline,
    no_moderator_delay,
)
from sala.meetings.specs import (
    CreateResult,
    CreateSpec,
    JoinResult,
    JoinSpec,
    LifecycleDefaults,
)
from sala.meetings.welcome import fill_placeholders
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

meetings_t = tables.meetings
attendees_t = tables.attendees
tokens_t = tables.tokens


def _set_presence_statement(present: bool) -> Any:
    """Mark a list of a meeting's users present (or gone), those not already so; returns whose
    row changed. Built once, the user list as an expanding parameter (issue 17)."""
    changes: dict[str, Any] = {"present": present, "left_at": None if present else bindparam("now")}
    if present:
        changes["joined_at"] = bindparam("now")
    return (
        update(attendees_t)
        .where(
            attendees_t.c.internal_user_id.in_(bindparam("users", expanding=True)),
            attendees_t.c.meeting_id == bindparam("meeting"),
            attendees_t.c.present.is_(not present),
        )
        .values(**changes)
        .returning(attendees_t.c.internal_user_id)
    )


_SET_PRESENT = _set_presence_statement(True)
_SET_GONE = _set_presence_statement(False)
_UPDATE_MEETING = update(meetings_t).where(meetings_t.c.internal_id == bindparam("meeting"))
"""A meeting's row; the columns set are the execution's other parameters."""


def _runs(changes: list[tuple[str, bool]]) -> list[tuple[bool, list[str]]]:
    """The changes as runs of the same kind, in order, each user once per run: one statement
    per run keeps a join and a leave of the same user in the order they were asked."""
    runs: list[tuple[bool, list[str]]] = []
    for user_id, present in changes:
        if not runs or runs[-1][0] is not present:
            runs.append((present, []))
        users = runs[-1][1]
        if user_id not in users:
            users.append(user_id)
    return runs


class MeetingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        defaults: LifecycleDefaults | None = None,
        cache: LiveMeetingCache | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._defaults = defaults or LifecycleDefaults()
        self._cache = cache
        self._joins: Batches[JoinSpec, JoinResult] = Batches(self._write_joins)
        """Joins, written per meeting ID as asked in batches."""
        self._presence: Batches[tuple[str, bool], None] = Batches(self._write_presences)
        """Presence changes (user, present), written per meeting in batches."""

    # ------------------------------------------------------------------------------- reads --
    async def get_live(self, meeting_id: str) -> Meeting | None:
        """The meeting a `meetingID` parameter names, if it has not ended: the one with that
        internal ID, else the one with that external ID (queries.resolve_live_row). Every call
        that takes a meeting ID finds its meeting here, with who is in it and its breakouts."""
        if self._cache is not None:
            return await self._cache.get(meeting_id, lambda: self._load_live(meeting_id))
        return await self._load_live(meeting_id)

    async def _load_live(self, meeting_id: str) -> Meeting | None:
        async with self._db.read() as conn:
            row = await queries.resolve_live_row(conn, meeting_id)
            if row is None:
                return None
            return await queries.as_shown(conn, row._mapping)

    async def get_by_internal_id(self, internal_id: str) -> Meeting | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(meetings_t).where(meetings_t.c.internal_id == internal_id)
                )
            ).first()
            return None if row is None else await queries.with_attendees(conn, row._mapping)

    async def get_for_room(self, internal_id: str) -> Meeting | None:
        """The meeting's row as a room needs it, without its attendees: read on every
        connection, so it must not grow with the meeting (issue 17)."""
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(meetings_t).where(meetings_t.c.internal_id == internal_id)
                )
            ).first()
            return None if row is None else Meeting.from_row(row._mapping)

    async def has_present_presenter(self, internal_id: str) -> bool:
        """Whether someone the store counts as in the meeting has the presenter role."""
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(attendees_t.c.internal_user_id)
                    .where(
                        attendees_t.c.meeting_id == internal_id,
                        attendees_t.c.present == true(),
                        attendees_t.c.is_presenter == true(),
                    )
                    .limit(1)
                )
            ).first()
            return row is not None

    async def list_live(self) -> tuple[Meeting, ...]:
        if self._cache is not None:
            return await self._cache.get_all(self._load_all_live)
        return await self._load_all_live()

    async def _load_all_live(self) -> tuple[Meeting, ...]:
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    select(meetings_t)
                    .where(meetings_t.c.ended == false())
                    .order_by(meetings_t.c.create_time)
                )
            ).all()
            present = await queries.present_attendees(conn, [r.internal_id for r in rows])
            breakouts = await queries.breakout_rooms(
                conn, [r.internal_id for r in rows if not r.is_breakout]
            )
            return tuple(
                Meeting.from_row(
                    r._mapping,
                    tuple(present.get(r.internal_id, ())),
                    breakouts.get(r.internal_id, ()),
                )
                for r in rows
            )

    async def is_running(self, meeting_id: str) -> bool:
        meeting = await self.get_live(meeting_id)
        return meeting is not None and meeting.running

    async def present_attendees(self) -> list[tuple[str, str]]:
        """(meeting, user) for everyone counted as in a live meeting right now."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(attendees_t.c.meeting_id, attendees_t.c.internal_user_id)
                .select_from(attendees_t.join(meetings_t))
                .where(attendees_t.c.present == true(), meetings_t.c.ended == false())
            )
            return [(r.meeting_id, r.internal_user_id) for r in rows]

    async def get_attendee(self, user_id: str) -> Attendee | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(attendees_t).where(attendees_t.c.internal_user_id == user_id)
                )
            ).first()
            return None if row is None else Attendee.from_row(row._mapping)

    # ------------------------------------------------------------------------------ create --
    async def create(self, spec: CreateSpec) -> CreateResult:
        # A concurrent create of the same room loses the race on the unique index; the retry
        # then finds the winner's meeting and answers as a duplicate.
        for attempt in range(3):
            try:
                return await self._create_once(spec)
            except IntegrityError:
                if attempt == 2:
                    raise
                log.debug("create of %r raced; retrying", spec.external_id)
        raise AssertionError("unreachable")

    async def _create_once(self, spec: CreateSpec) -> CreateResult:
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            existing = (
                await conn.execute(
                    select(meetings_t).where(
                        meetings_t.c.external_id == spec.external_id,
                        meetings_t.c.ended == false(),
                    )
                )
            ).first()
            if existing is not None:
                return CreateResult(await self._duplicate(conn, existing._mapping, spec), True)

            parent: Any = None
            if spec.is_breakout:
                parent = await self._parent_of(conn, spec.parent_meeting_id)

            voice_bridge = await self._voice_bridge(conn, spec.voice_bridge)
            create_time = await self._free_create_time(conn, spec.external_id, now)
            internal_id = ids.internal_meeting_id(spec.external_id, create_time)
            settings = dict(spec.settings)
            for key in ("welcome", "moderatorOnlyMessage"):
                if settings.get(key):
                    settings[key] = fill_placeholders(
                        settings[key],
                        meeting_name=spec.name,
                        dial_number=spec.dial_number,
                        voice_bridge=voice_bridge,
                        server_url=self._defaults.server_url,
                    )
            settings["meetingExpireIfNoUserJoinedInMinutes"] = spec.expire_no_join_minutes
            settings["meetingExpireWhenLastUserLeftInMinutes"] = spec.expire_last_left_minutes
            values: dict[str, Any] = {
                "internal_id": internal_id,
                "external_id": spec.external_id,
                "name": spec.name,
                "create_time": create_time,
                "voice_bridge": voice_bridge,
                "dial_number": spec.dial_number,
                "attendee_pw": spec.attendee_pw if spec.attendee_pw is not None else ids.password(),
                "moderator_pw": (
                    spec.moderator_pw if spec.moderator_pw is not None else ids.password()
                ),
                "duration_minutes": spec.duration_minutes,
                "max_participants": spec.max_participants,
                "record": spec.record,
                "is_breakout": spec.is_breakout,
                # BBB shows a breakout's parent by internal ID, whichever ID create was given.
                "parent_meeting_id": parent.internal_id if parent is not None else "bbb-none",
                "metadata": spec.metadata,
                "settings": settings,
                "modules_xml": spec.modules_xml,
                "start_time": create_time,
                "end_time": 0,
                "ended": False,
                "end_reason": None,
                "forcibly_ended": False,
                "has_user_joined": False,
                "participant_count": 0,
                "last_activity_at": create_time,
                "empty_since": None,
                "moderator_joined": False,
                "no_moderator_since": None,
                "version": 1,
            }
            values["next_deadline"] = next_deadline(self._lifecycle(values))
            await conn.execute(insert(meetings_t).values(**values))
            await append_event(
                conn,
                internal_id,
                types.MEETING_CREATED,
                now,
                data={"external_id": spec.external_id, "name": spec.name},
            )
            meeting = Meeting.from_row(values)
        await self._changed(meeting)
        if parent is not None:
            # The parent's answers list its breakouts: cached renderings of it are stale now.
            await self._bus.publish(
                MEETING_CHANGED_TOPIC,
                {"internal_id": parent.internal_id, "external_id": parent.external_id},
            )
        return CreateResult(meeting, False)

    async def _parent_of(self, conn: AsyncConnection, parent_meeting_id: str | None) -> Any:
        """The live parent of a breakout being created, found as every meeting ID is. Its row
        stays locked (PostgreSQL) until the breakout is stored, so an end of the parent running
        at the same time either sees the breakout and ends it, or makes this create fail."""
        if not parent_meeting_id:
            raise errors.ParentMeetingMissing()
        found = await queries.resolve_live_row(conn, parent_meeting_id)
        if found is None:
            raise errors.ParentMeetingDoesNotExist()
        locked = (
            await conn.execute(
                select(meetings_t.c.internal_id, meetings_t.c.external_id)
                .where(meetings_t.c.internal_id == found.internal_id, meetings_t.c.ended == false())
                .with_for_update()
            )
        ).first()
        if locked is None:
            raise errors.ParentMeetingDoesNotExist()
        return locked

    async def _duplicate(self, conn: AsyncConnection, row: Any, spec: CreateSpec) -> Meeting:
        # BBB 3.0: a repeated create is fine when it sends the same passwords, or none.
        sent = (spec.attendee_pw, spec.moderator_pw)
        if sent != (None, None) and sent != (row["attendee_pw"], row["moderator_pw"]):
            raise errors.IdNotUnique()
        return await queries.with_attendees(conn, row)

    async def _voice_bridge(self, conn: AsyncConnection, requested: str | None) -> str:
        live = select(meetings_t.c.voice_bridge).where(meetings_t.c.ended == false())
        if requested:
            taken = (await conn.execute(live.where(meetings_t.c.voice_bridge == requested))).first()
            if taken is not None:
                raise errors.NonUniqueVoiceBridge()
            return requested
        for _ in range(50):
            candidate = ids.voice_bridge()
            taken = (await conn.execute(live.where(meetings_t.c.voice_bridge == candidate))).first()
            if taken is None:
                return candidate
        return ids.voice_bridge(digits=9)

    async def _free_create_time(self, conn: AsyncConnection, external_id: str, now: int) -> int:
        # Two sessions of one room created within the same millisecond would share an ID.
        latest = (
            await conn.execute(
                select(func.max(meetings_t.c.create_time)).where(
                    meetings_t.c.external_id == external_id
                )
            )
        ).scalar()
        return now if latest is None or latest < now else latest + 1

    # -------------------------------------------------------------------------------- join --
    async def join(self, meeting_id: str, spec: JoinSpec) -> JoinResult:
        """Register a user in the meeting `meeting_id` names (internal, then external ID)."""
        # Batched per meeting ID (meetings/batches.py): a meeting filling up writes the joins
        # that arrive together in one transaction, each answered on its own (issue 17).
        return await self._joins.submit(meeting_id, spec)

    async def _write_joins(
        self, meeting_id: str, specs: list[JoinSpec]
    ) -> list[JoinResult | Exception]:
        now = self._clock.now_ms()
        answers: list[JoinResult | Exception] = []
        async with self._db.write() as conn:
            row = await queries.resolve_live_row(conn, meeting_id)
            if row is None:
                return [await joining.why_not_joinable(conn, meeting_id) for _ in specs]
            m = row._mapping
            # Without its attendees: reading them all for every join made N joins O(N²).
            meeting = Meeting.from_row(m)
            joins = joining.Registrations(m, now, self._defaults)
            for spec in specs:
                if spec.create_time is not None and spec.create_time != str(m["create_time"]):
                    answers.append(errors.CreateTimeMismatch())
                    continue
                try:
                    attendee, token = await joins.register(conn, spec)
                except errors.MeetingError as refused:
                    answers.append(refused)
                else:
                    answers.append(JoinResult(meeting, attendee, token))
            await joins.write(conn)
        return answers

    # ---------------------------------------------------------------------------- presence --
    async def user_connected(self, meeting_id: str, user_id: str) -> None:
        """The user's room connection is up: they now count as in the meeting."""
        await self._set_presence(meeting_id, user_id, present=True)

    async def user_disconnected(self, meeting_id: str, user_id: str) -> None:
        await self._set_presence(meeting_id, user_id, present=False)

    async def release_absent(self, meeting_id: str, user_id: str) -> None:
        """Someone counted as present whose connection is gone for good (their front end or
        sala died and they did not come back): they left, and stop presenting, as when their
        room lets them go."""
        await self._set_presence(meeting_id, user_id, present=False)
        attendee = await self.get_attendee(user_id)
        if attendee is not None and attendee.is_presenter:
            await self.update_attendee(
                meeting_id, user_id, {"is_presenter": False}, (types.USER_PRESENTER_UNASSIGNED, {})
            )

    async def _set_presence(self, meeting_id: str, user_id: str, *, present: bool) -> None:
        # Batched per meeting (meetings/batches.py): a meeting filling up writes the presence of
        # the joins that arrive together in one transaction (issue 17).
        await self._presence.submit(meeting_id, (user_id, present))

    async def _write_presences(
        self, meeting_id: str, changes: list[tuple[str, bool]]
    ) -> list[Exception | None]:
        await self._write_presence(meeting_id, changes)
        return [None] * len(changes)

    async def _write_presence(self, meeting_id: str, changes: list[tuple[str, bool]]) -> None:
        """Mark users present or gone, in the order asked, in one transaction: each change that
        changes something gets its user_joined or user_left event, and the meeting's counts and
        deadlines are worked out once, from the result."""
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            row = await queries.live_row(conn, meeting_id)
            if row is None:
                return
            events: list[dict[str, Any]] = []
            joined = False
            for present, users in _runs(changes):
                done = {
                    r.internal_user_id
                    for r in await conn.execute(
                        _SET_PRESENT if present else _SET_GONE,
                        {"meeting": meeting_id, "users": users, "now": now},
                    )
                }
                kind = types.USER_JOINED if present else types.USER_LEFT
                for user_id in users:
                    if user_id in done:
                        events.append(event_row(meeting_id, kind, now, user_id=user_id))
                joined = joined or (present and bool(done))
            if not events:
                return
            count, present_moderators = await moderators.count_present_with_moderators(
                conn, meeting_id
            )
            values: dict[str, Any] = {
                "participant_count": count,
                "last_activity_at": now,
                "empty_since": None if count else now,
            }
            if joined:
                values["has_user_joined"] = True
            values.update(moderators.values_for(row._mapping, present_moderators, now))
            await self._update_meeting(conn, row._mapping, values)
            await append_events(conn, events)
            # `_changed` needs the IDs only: reading every attendee here made joins O(N²).
            meeting = Meeting.from_row({**row._mapping, **values})
        await self._changed(meeting)

    async def update_attendee(
        self,
        meeting_id: str,
        user_id: str,
        changes: dict[str, Any],
        event: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """Change an attendee's role, presenter flag, guest status or media state.

        `event` (type, data) is appended to the log in the same transaction.
        """
        allowed = {
            "role",
            "is_presenter",
            "guest_status",
            "listening_only",
            "joined_voice",
            "has_video",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"attendee fields {sorted(unknown)} cannot be changed")
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            row = await queries.live_row(conn, meeting_id)
            if row is None:
                return
            await conn.execute(
                update(attendees_t)
                .where(
                    attendees_t.c.internal_user_id == user_id,
                    attendees_t.c.meeting_id == meeting_id,
                )
                .values(**changes)
            )
            values: dict[str, Any] = {"last_activity_at": now}
            if "role" in changes:
                # Losing the last moderator by demotion counts for endWhenNoModerator too.
                values.update(await moderators.presence_values(conn, row._mapping, now))
            # Bumps the version: getMeetingInfo shows these fields.
            await self._update_meeting(conn, row._mapping, values)
            if event is not None:
                await append_event(conn, meeting_id, event[0], now, user_id=user_id, data=event[1])
            meeting = Meeting.from_row(row._mapping)
        await self._changed(meeting)

    async def update_settings(self, meeting_id: str, changes: dict[str, Any]) -> None:
        """Change settings of a live meeting (lock settings, the list of removed users)."""
        async with self._db.write() as conn:
            row = await queries.live_row(conn, meeting_id)
            if row is None:
                return
            settings = {**(row._mapping["settings"] or {}), **changes}
            await self._update_meeting(conn, row._mapping, {"settings": settings})
            meeting = Meeting.from_row({**row._mapping, "settings": settings})
        await self._changed(meeting)

    async def record_activity(self, meeting_id: str, kind: str) -> None:
        """Something happened in the room (talking, drawing, mic or camera change...).

        Only moves the inactivity deadline; the event itself is logged by whoever owns it.
        """
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            row = await queries.live_row(conn, meeting_id)
            if row is None:
                return
            await self._update_meeting(conn, row._mapping, {"last_activity_at": now})
        log.debug("activity %s in %s", kind, meeting_id)

    async def log_event(
        self, meeting_id: str, type_: str, data: dict[str, Any], user_id: str | None = None
    ) -> None:
        """Append an event that changes no meeting state (a chat message, a document)."""
        async with self._db.write() as conn:
            await append_event(
                conn, meeting_id, type_, self._clock.now_ms(), user_id=user_id, data=data
            )

    # ---------------------------------------------------------------------------- updates --
    async def rename(self, external_id: str, name: str) -> Meeting:
        """Rename the room's live session, or its latest one if none is live (updateMeeting)."""
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    select(meetings_t)
                    .where(meetings_t.c.external_id == external_id)
                    .order_by(meetings_t.c.ended, meetings_t.c.create_time.desc())
                    .limit(1)
                )
            ).first()
            if row is None:
                raise errors.MeetingNotFound()
            await self._update_meeting(conn, row._mapping, {"name": name})
            await append_event(
                conn,
                row.internal_id,
                types.MEETING_RENAMED,
                self._clock.now_ms(),
                data={"name": name},
            )
            meeting = await queries.with_attendees(conn, {**row._mapping, "name": name})
        await self._changed(meeting)
        return meeting

    # --------------------------------------------------------------------------------- end --
    async def end(self, meeting_id: str, reason: EndReason = EndReason.END_API) -> Meeting:
        """End the meeting `meeting_id` names (internal, then external ID) and its breakouts."""
        async with self._db.read() as conn:
            row = await queries.resolve_live_row(conn, meeting_id)
        if row is None:
            raise errors.MeetingNotFound()
        ended = await self.end_by_internal_id(row.internal_id, reason)
        if ended is None:
            raise errors.MeetingNotFound()
        return ended

    async def end_by_internal_id(self, internal_id: str, reason: EndReason) -> Meeting | None:
        """End the meeting now, its breakouts first; None if it had already ended (ending is
        idempotent)."""
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            row = await queries.live_row(conn, internal_id, for_update=True)
            if row is None:
                return None
            ended = await self._end_in(conn, row._mapping, reason, now)
        for meeting in ended:
            await self._announce_end(meeting, reason)
        return ended[-1]

    async def _end_in(
        self, conn: AsyncConnection, row: Any, reason: EndReason, now: int
    ) -> list[Meeting]:
        """End a meeting and, before it, its live breakouts, for the same reason (BBB 3.0 ends
        every breakout first, whatever ends the parent). The ended meetings, the parent last.
        `row` was read with `live_row(..., for_update=True)` in this transaction."""
        ended: list[Meeting] = []
        if not row["is_breakout"]:
            # The caller locked the parent's row, so a breakout create holding it (PostgreSQL)
            # has committed: none is missed. The breakouts are locked too: one that another
            # process is ending by itself is waited for, then skipped.
            children = await conn.execute(
                select(meetings_t)
                .where(
                    meetings_t.c.parent_meeting_id == row["internal_id"],
                    meetings_t.c.ended == false(),
                )
                .order_by(meetings_t.c.create_time, meetings_t.c.internal_id)
                .with_for_update()
            )
            for child in children.all():
                ended.append(await self._end_one(conn, child._mapping, reason, now))
        ended.append(await self._end_one(conn, row, reason, now))
        return ended

    async def _end_one(
        self, conn: AsyncConnection, row: Any, reason: EndReason, now: int
    ) -> Meeting:
        internal_id = row["internal_id"]
        still_present = (
            await conn.execute(
                select(attendees_t.c.internal_user_id).where(
                    attendees_t.c.meeting_id == internal_id, attendees_t.c.present == true()
                )
            )
        ).all()
        for (user_id,) in still_present:
            await append_event(conn, internal_id, types.USER_LEFT, now, user_id=user_id)
        await conn.execute(
            update(attendees_t)
            .where(attendees_t.c.meeting_id == internal_id, attendees_t.c.present == true())
            .values(present=False, left_at=now)
        )
        await conn.execute(
            update(tokens_t)
            .where(tokens_t.c.meeting_id == internal_id, tokens_t.c.expires_at > now)
            .values(expires_at=now)
        )
        values = {
            "ended": True,
            "end_time": now,
            "end_reason": reason.value,
            "forcibly_ended": reason.forcible,
            "participant_count": 0,
            "next_deadline": None,
            "version": row["version"] + 1,
        }
        await conn.execute(
            update(meetings_t).where(meetings_t.c.internal_id == internal_id).values(**values)
        )
        await append_event(
            conn, internal_id, types.MEETING_ENDED, now, data={"reason": reason.value}
        )
        return Meeting.from_row({**row, **values})

    async def expire_due(self) -> list[Meeting]:
        """End every meeting whose lifecycle deadline has passed. Called by the reaper."""
        now = self._clock.now_ms()
        async with self._db.read() as conn:
            due_ids = (
                (
                    await conn.execute(
                        select(meetings_t.c.internal_id).where(
                            meetings_t.c.ended == false(), meetings_t.c.next_deadline <= now
                        )
                    )
                )
                .scalars()
                .all()
            )
        ended = []
        for internal_id in due_ids:
            meeting = await self._expire_one(internal_id, now)
            if meeting is not None:
                ended.append(meeting)
        return ended

    async def _expire_one(self, internal_id: str, now: int) -> Meeting | None:
        async with self._db.write() as conn:
            # Locked: another front end's reaper, or an `end`, may be ending it right now.
            row = await queries.live_row(conn, internal_id, for_update=True)
            if row is None:
                return None
            reason = due_reason(self._lifecycle(row._mapping), now)
            if reason is None:
                # The deadline moved (someone joined, say) after it was selected.
                await self._update_meeting(conn, row._mapping, {})
                return None
            ended = await self._end_in(conn, row._mapping, reason, now)
        for meeting in ended:
            log.info("meeting %s ended: %s", meeting.external_id, reason.value)
            await self._announce_end(meeting, reason)
        return ended[-1]

    # ----------------------------------------------------------------------------- helpers --
    async def _announce_end(self, meeting: Meeting, reason: EndReason) -> None:
        await self._changed(meeting)
        await self._bus.publish(
            MEETING_ENDED_TOPIC,
            {
                "internal_id": meeting.internal_id,
                "external_id": meeting.external_id,
                "reason": reason.value,
            },
        )

    def _lifecycle(self, row: Any) -> LifecycleState:
        settings = row["settings"] or {}
        return LifecycleState(
            create_time=row["create_time"],
            duration_minutes=row["duration_minutes"],
            has_user_joined=row["has_user_joined"],
            participant_count=row["participant_count"],
            empty_since=row["empty_since"],
            last_activity_at=row["last_activity_at"],
            expire_no_join_minutes=int(settings.get("meetingExpireIfNoUserJoinedInMinutes", 5)),
            expire_last_left_minutes=int(settings.get("meetingExpireWhenLastUserLeftInMinutes", 5)),
            inactivity_minutes=self._defaults.inactivity_minutes,
            no_moderator_delay_minutes=no_moderator_delay(settings, row["is_breakout"]),
            moderator_joined=row["moderator_joined"],
            no_moderator_since=row["no_moderator_since"],
        )

    async def _update_meeting(
        self, conn: AsyncConnection, row: Any, values: dict[str, Any]
    ) -> None:
        merged = {**row, **values}
        values = {
            **values,
            "next_deadline": next_deadline(self._lifecycle(merged)),
            "version": row["version"] + 1,
        }
        # The columns to set are the parameters' other keys (SQLAlchemy compiles and caches
        # the statement once per set of them, rather than building it for every presence write).
        await conn.execute(_UPDATE_MEETING, {"meeting": row["internal_id"], **values})

    async def _changed(self, meeting: Meeting) -> None:
        await self._bus.publish(
            MEETING_CHANGED_TOPIC,
            {"internal_id": meeting.internal_id, "external_id": meeting.external_id},
        )

"""Joining a meeting: who the user becomes (role, guest status), BBB's refusals, and the seat.

Runs inside MeetingService's join transaction, which writes the joins of one meeting that
arrive together (meetings/batches.py): each join is decided on its own, in order, and those
accepted are written with one statement per table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from sala.events import types
from sala.events.log import append_events, event_row
from sala.meetings import errors, ids, queries
from sala.meetings.model import Attendee, GuestStatus, Role
from sala.meetings.specs import JoinSpec, LifecycleDefaults
from sala.store import tables

_INSERT_TOKEN = insert(tables.tokens)
_INSERT_ATTENDEE = insert(tables.attendees)


def resolve_role(spec: JoinSpec, attendee_pw: str, moderator_pw: str) -> Role:
    """BBB 3.0: a valid `role` wins; otherwise the password decides."""
    if spec.role is not None:
        return spec.role
    if spec.password:
        if spec.password == moderator_pw:
            return Role.MODERATOR
        if spec.password == attendee_pw:
            return Role.VIEWER
    raise errors.InvalidPassword()


def guest_status(
    policy: str, role: Role, guest: bool | None, authenticated_guest: bool
) -> GuestStatus:
    if role is Role.MODERATOR or guest is False or policy == "ALWAYS_ACCEPT":
        return GuestStatus.ALLOW
    # guest=None: BBB's "authenticated guest" rule treats an unmarked viewer as needing
    # approval where the policy asks for it, except under ALWAYS_ACCEPT_AUTH.
    if policy == "ALWAYS_DENY":
        return GuestStatus.DENY
    if policy == "ASK_MODERATOR":
        return GuestStatus.WAIT if guest or authenticated_guest else GuestStatus.ALLOW
    if policy == "ALWAYS_ACCEPT_AUTH":
        return GuestStatus.WAIT if guest else GuestStatus.ALLOW
    return GuestStatus.ALLOW


async def why_not_joinable(conn: AsyncConnection, meeting_id: str) -> errors.MeetingError:
    """Why no live meeting answers to `meeting_id`: the session it names by internal ID, else the
    room's latest session by external ID, was forcibly ended, or there is no such meeting."""
    meetings = tables.meetings
    latest = (
        await conn.execute(
            select(meetings.c.forcibly_ended).where(meetings.c.internal_id == meeting_id)
        )
    ).first()
    if latest is None:
        latest = (
            await conn.execute(
                select(meetings.c.forcibly_ended)
                .where(meetings.c.external_id == meeting_id)
                .order_by(meetings.c.create_time.desc())
                .limit(1)
            )
        ).first()
    if latest is not None and latest.forcibly_ended:
        return errors.MeetingForciblyEnded()
    return errors.InvalidMeetingIdentifier()


def join_token_row(meeting_id: str, user_id: str, now: int, ttl_ms: int) -> dict[str, Any]:
    """A join URL's one-time token, as a row of `tokens`."""
    return {
        "token": ids.session_token(),
        "kind": "join",
        "meeting_id": meeting_id,
        "user_id": user_id,
        "created_at": now,
        "expires_at": now + ttl_ms,
        "used_at": None,
    }


class Registrations:
    """The joins of one batch: what each one answers, and the rows the accepted ones write."""

    def __init__(self, meeting: Mapping[Any, Any], now: int, defaults: LifecycleDefaults) -> None:
        self._meeting = meeting
        self._now = now
        self._defaults = defaults
        self._present: list[str] | None = None
        """The external IDs of the users present, read once if the meeting has a seat limit: the
        joins of a batch do not change it (a user is present once their room connects)."""
        self.attendees: list[dict[str, Any]] = []
        self.tokens: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    async def register(self, conn: AsyncConnection, spec: JoinSpec) -> tuple[Attendee, str]:
        """The attendee this join makes (or, for getJoinUrl's `existingUserID`, reuses) and the
        one-time token of its join URL; raises the join's refusal."""
        meeting = self._meeting
        meeting_id = meeting["internal_id"]
        ttl = self._defaults.join_token_ttl_ms
        if spec.existing_user_id is not None:
            attendees = tables.attendees
            existing = (
                await conn.execute(
                    select(attendees).where(
                        attendees.c.internal_user_id == spec.existing_user_id,
                        attendees.c.meeting_id == meeting_id,
                    )
                )
            ).first()
            if existing is not None:
                token = join_token_row(meeting_id, spec.existing_user_id, self._now, ttl)
                self.tokens.append(token)
                return Attendee.from_row(existing._mapping), token["token"]
        role = resolve_role(spec, meeting["attendee_pw"], meeting["moderator_pw"])
        status = guest_status(
            meeting["settings"].get("guestPolicy", "ALWAYS_ACCEPT"),
            role,
            spec.guest,
            self._defaults.authenticated_guest,
        )
        if status is GuestStatus.DENY:
            raise errors.GuestDenied()
        if meeting["max_participants"] > 0:
            if self._present is None:
                self._present = await queries.present_external_ids(conn, meeting_id)
            queries.check_capacity(self._present, meeting["max_participants"], spec)
        user_id = ids.internal_user_id()
        external_user_id = spec.external_user_id or user_id
        values: dict[str, Any] = {
            "internal_user_id": user_id,
            "meeting_id": meeting_id,
            "external_user_id": external_user_id,
            "full_name": spec.full_name,
            "role": role.value,
            "guest": bool(spec.guest),
            "guest_status": status.value,
            "authenticated": not spec.guest,
            "avatar_url": spec.avatar_url,
            "custom_data": spec.custom_data,
            "join_params": spec.join_params,
            "auth_token": ids.auth_token(),
            "registered_at": self._now,
            "present": False,
            "joined_at": None,
            "left_at": None,
            "is_presenter": False,
            "listening_only": False,
            "joined_voice": False,
            "has_video": False,
            "client_type": "HTML5",
        }
        token = join_token_row(meeting_id, user_id, self._now, ttl)
        self.attendees.append(values)
        self.tokens.append(token)
        self.events.append(
            event_row(
                meeting_id,
                types.USER_REGISTERED,
                self._now,
                user_id=user_id,
                data={
                    "external_user_id": external_user_id,
                    "name": spec.full_name,
                    "role": role.value,
                    "guest": bool(spec.guest),
                    "guest_status": status.value,
                },
            )
        )
        return Attendee.from_row(values), token["token"]

    async def write(self, conn: AsyncConnection) -> None:
        """The accepted joins' rows: attendees before the tokens that name them, events in the
        order the joins came."""
        if self.attendees:
            await conn.execute(_INSERT_ATTENDEE, self.attendees)
        if self.tokens:
            await conn.execute(_INSERT_TOKEN, self.tokens)
        await append_events(conn, self.events)

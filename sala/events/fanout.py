"""The fan-out: reads the meeting event log in order and turns it into deliveries (the outbox).

For every log event it writes one delivery per hook that wants it, and when a meeting ends, the
analytics callback and BBB's end callbacks. The deliveries and the new log position commit in
one transaction, so an event is queued exactly once, even across a crash, and when several
workers run it, the one that moves the position first wins and the others roll back.

The log is read through events/cursor.py, which on PostgreSQL hands out only events whose
transaction can no longer be joined by an earlier one, so an event whose transaction commits
late is queued when it commits, never skipped.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from sala import checksums as checksum
from sala.clock import Clock
from sala.events import types
from sala.events.analytics import CALLBACK_META_KEY, build_payload
from sala.events.cursor import LogPosition, create_cursor, load_cursor, move_cursor, read_page
from sala.events.hooks import Hook, HookStore
from sala.events.log import MeetingEvent, read_all_events
from sala.events.mapping import map_event
from sala.events.outbox import CURSOR
from sala.recordings.ready import ready_url
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

BATCH = 500
ROWS_PER_TRANSACTION = 5_000
"""Deliveries written per transaction at most (one event with many hooks can go past it)."""
CALLBACKS_PER_EVENT = 3
"""Deliveries an event can make besides its hooks' (a meeting's end: the analytics callback and
two end callbacks)."""


class _Overtaken(Exception):
    """Another worker moved the log position first: roll this pass's work back."""


READY_EVENT = types.RAP_PUBLISH_ENDED
READY_FORMAT = "presentation"


@dataclass(frozen=True)
class FanoutSettings:
    domain: str
    secret: str
    checksum_algorithm: str = "sha1"


def hook_body(domain: str, events: list[dict[str, Any]], timestamp: int) -> str:
    """The form body bbb-webhooks sends: domain, event (a JSON array), timestamp."""
    return urlencode(
        {
            "domain": domain,
            "event": json.dumps(events, separators=(",", ":"), ensure_ascii=False),
            "timestamp": str(timestamp),
        }
    )


def with_checksum(url: str, body: str, secret: str, algorithm: str) -> str:
    """BBB's default delivery authentication: ?checksum=H(callbackURL + body + secret)."""
    digest = checksum.compute(url, body, secret, algorithm)
    return f"{url}{'&' if urlsplit(url).query else '?'}checksum={digest}"


def end_callback_url(url: str, external_id: str, recorded: bool) -> str:
    extra = urlencode({"recordingmarks": "true" if recorded else "false", "meetingID": external_id})
    return f"{url}{'&' if urlsplit(url).query else '?'}{extra}"


class Fanout:
    def __init__(
        self,
        db: Database,
        outbox: Database,
        clock: Clock,
        hooks: HookStore,
        settings: FanoutSettings,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._clock = clock
        self._hooks = hooks
        self._settings = settings
        self._known_position: LogPosition | None = None
        """Where this worker last moved the log position; another worker moving it makes
        this pass's write fail, and the position is read again."""
        self.queued = 0
        """Deliveries written so far (the worker pumps when this grows)."""

    async def run_once(self) -> int:
        """Queue deliveries for the next page of log events; returns how many were consumed."""
        position = await self._position()
        rows: list[dict[str, Any]] = []
        async with self._db.read() as conn:
            page = await read_page(conn, position, BATCH)
            if not page.read:
                return 0
            hooks = [h for h in await self._hooks.all() if h.collects_events]
            # The page is queued in one transaction, whole: with many hooks, fewer events.
            page = page.head(max(1, ROWS_PER_TRANSACTION // (len(hooks) + CALLBACKS_PER_EVENT)))
            now = self._clock.now_ms()
            meetings: dict[str, Mapping[Any, Any] | None] = {}
            users: dict[str, Mapping[Any, Any] | None] = {}
            for event in page.events:
                if not hooks and event.type not in (types.MEETING_ENDED, READY_EVENT):
                    continue  # nothing to send: only the position moves
                meeting = await self._meeting(conn, meetings, event.meeting_id)
                if meeting is None:
                    continue
                user = await self._user(conn, users, event.user_id)
                rows += self._hook_deliveries(event, meeting, user, hooks, now)
                if event.type == types.MEETING_ENDED:
                    rows += await self._end_deliveries(conn, event, meeting, now)
                elif event.type == READY_EVENT:
                    rows += self._ready_deliveries(event, meeting, now)
        try:
            async with self._outbox.write() as conn:
                # First, so a second worker on the same events waits here and then gives up.
                if not await move_cursor(conn, CURSOR, position, page.end):
                    raise _Overtaken
                if rows:
                    await conn.execute(insert(tables.deliveries), rows)
        except _Overtaken:
            # Another worker queued these events first; rolled back, the next pass starts
            # from its position.
            self._known_position = None
            return 0
        self._known_position = page.end
        self.queued += len(rows)
        return len(page.read)

    async def _position(self) -> LogPosition:
        if self._known_position is not None:
            return self._known_position
        async with self._outbox.read() as conn:
            found = await load_cursor(conn, CURSOR)
        if found is not None:
            return found
        # Migration 0003 (or prepare_outbox) starts the cursor at the log's end, so older
        # history is never sent; a missing row means an empty database.
        async with self._outbox.write() as conn:
            await create_cursor(conn, CURSOR)
        return LogPosition(0, 0)

    async def _meeting(
        self, conn: AsyncConnection, cache: dict[str, Mapping[Any, Any] | None], meeting_id: str
    ) -> Mapping[Any, Any] | None:
        if meeting_id not in cache:
            t = tables.meetings
            row = (await conn.execute(select(t).where(t.c.internal_id == meeting_id))).first()
            cache[meeting_id] = None if row is None else row._mapping
        return cache[meeting_id]

    async def _user(
        self, conn: AsyncConnection, cache: dict[str, Mapping[Any, Any] | None], user_id: str | None
    ) -> Mapping[Any, Any] | None:
        if user_id is None:
            return None
        if user_id not in cache:
            t = tables.attendees
            row = (await conn.execute(select(t).where(t.c.internal_user_id == user_id))).first()
            cache[user_id] = None if row is None else row._mapping
        return cache[user_id]

    def _hook_deliveries(
        self,
        event: MeetingEvent,
        meeting: Mapping[Any, Any],
        user: Mapping[Any, Any] | None,
        hooks: list[Hook],
        now: int,
    ) -> list[dict[str, Any]]:
        mapped = map_event(event, meeting, user)
        if mapped is None:
            return []
        rows = []
        bodies: dict[bool, str] = {}
        for hook in hooks:
            if not hook.wants(mapped.id, meeting["external_id"]):
                continue
            # bbb-webhooks never sends raw events to a hook filtered by event ID.
            raw = hook.raw and not hook.filters_events
            if raw not in bodies:
                event_json = mapped.raw if raw else mapped.data
                bodies[raw] = hook_body(self._settings.domain, [event_json], now)
            body = bodies[raw]
            rows.append(
                _delivery(
                    kind="hook",
                    hook_id=hook.id,
                    ordering_key=f"hook:{hook.id}:{meeting['internal_id']}",
                    url=with_checksum(
                        hook.callback_url,
                        body,
                        self._settings.secret,
                        self._settings.checksum_algorithm,
                    ),
                    method="POST",
                    content_type="application/x-www-form-urlencoded",
                    body=body,
                    event_id=mapped.id,
                    meeting_id=meeting["internal_id"],
                    now=now,
                )
            )
        return rows

    def _ready_deliveries(
        self, event: MeetingEvent, meeting: Mapping[Any, Any], now: int
    ) -> list[dict[str, Any]]:
        """`meta_bbb-recording-ready-url` (or Moodle's `bn-`, Canvas' `canvas-`; see
        recordings/ready.py): once the presentation format is published, a POST of
        `signed_parameters`, a JWT (HS256, the shared secret) naming the meeting and the
        recording."""
        url = ready_url(meeting["metadata"] or {})
        if not url or event.data.get("workflow") != READY_FORMAT:
            return []
        record_id = str(event.data.get("record_id") or meeting["internal_id"])
        token = jwt.encode(
            {"meeting_id": meeting["external_id"], "record_id": record_id},
            self._settings.secret,
            algorithm="HS256",
        )
        return [
            _delivery(
                kind="recording_ready",
                hook_id=None,
                ordering_key=f"ready:{record_id}",
                url=url,
                method="POST",
                content_type="application/x-www-form-urlencoded",
                body=urlencode({"signed_parameters": token}),
                event_id="recording-ready",
                meeting_id=meeting["internal_id"],
                now=now,
            )
        ]

    async def _end_deliveries(
        self, conn: AsyncConnection, event: MeetingEvent, meeting: Mapping[Any, Any], now: int
    ) -> list[dict[str, Any]]:
        metadata = meeting["metadata"] or {}
        internal_id = meeting["internal_id"]
        rows = []
        analytics_url = metadata.get(CALLBACK_META_KEY)
        if analytics_url:
            payload = build_payload(meeting, *await _log_and_attendees(conn, internal_id))
            rows.append(
                _delivery(
                    kind="analytics",
                    hook_id=None,
                    ordering_key=f"analytics:{internal_id}",
                    url=analytics_url,
                    method="POST",
                    content_type="application/json",
                    body=json.dumps(payload, ensure_ascii=False),
                    event_id="analytics-callback",
                    meeting_id=internal_id,
                    now=now,
                )
            )
        recorded = await _was_recorded(conn, meeting)
        for url, kind_url in (
            (metadata.get("endcallbackurl"), "meta_endCallbackUrl"),
            ((meeting["settings"] or {}).get("meetingEndedURL"), "meetingEndedURL"),
        ):
            if not url:
                continue
            target = (
                end_callback_url(url, meeting["external_id"], recorded)
                if kind_url == "meta_endCallbackUrl"
                else url
            )
            rows.append(
                _delivery(
                    kind="end_callback",
                    hook_id=None,
                    ordering_key=f"end:{internal_id}:{kind_url}",
                    url=target,
                    method="GET",
                    content_type=None,
                    body="",
                    event_id=kind_url,
                    meeting_id=internal_id,
                    now=now,
                )
            )
        return rows


async def _was_recorded(conn: AsyncConnection, meeting: Mapping[Any, Any]) -> bool:
    """BBB's recordingmarks: record=true and recording was on at some point."""
    if not meeting["record"]:
        return False
    if (meeting["settings"] or {}).get("autoStartRecording") and meeting["has_user_joined"]:
        return True
    t = tables.meeting_events
    found = (
        await conn.execute(
            select(t.c.id)
            .where(t.c.meeting_id == meeting["internal_id"], t.c.type == types.RECORDING_STARTED)
            .limit(1)
        )
    ).first()
    return found is not None


async def _log_and_attendees(
    conn: AsyncConnection, internal_id: str
) -> tuple[dict[Any, Mapping[Any, Any]], list[MeetingEvent]]:
    events = await read_all_events(conn, internal_id)
    a = tables.attendees
    attendees: dict[Any, Mapping[Any, Any]] = {
        r.internal_user_id: r._mapping
        for r in await conn.execute(select(a).where(a.c.meeting_id == internal_id))
    }
    return attendees, events


def _delivery(
    *,
    kind: str,
    hook_id: int | None,
    ordering_key: str,
    url: str,
    method: str,
    content_type: str | None,
    body: str,
    event_id: str,
    meeting_id: str | None,
    now: int,
) -> dict[str, Any]:
    return {
        "delivery_id": str(uuid.uuid4()),
        "kind": kind,
        "hook_id": hook_id,
        "ordering_key": ordering_key,
        "url": url,
        "method": method,
        "content_type": content_type,
        "body": body,
        "event_id": event_id,
        "meeting_id": meeting_id,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "retry_since": now,
        "next_attempt_at": now,
        "claimed_until": None,
        "delivered_at": None,
        "last_error": None,
    }

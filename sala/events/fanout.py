"""The fan-out: reads the meeting event log in order and turns it into deliveries (the outbox).

For every log event it writes one delivery per hook that wants it, and when a meeting ends, the
analytics callback and BBB's end callbacks. The deliveries and the new log position commit in
one transaction, so an event is queued exactly once, even across a crash.

On PostgreSQL, IDs are handed out before commit, so a later event can become visible before an
earlier one. A gap in the IDs therefore holds the fan-out back until it fills, or for a second of
real time, after which it belongs to a rolled-back transaction (transactions here last
milliseconds). SQLite commits one writer at a time, so its IDs never arrive out of order.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sala import checksums as checksum
from sala.clock import Clock
from sala.events import types
from sala.events.analytics import CALLBACK_META_KEY, build_payload
from sala.events.hooks import Hook, HookStore
from sala.events.log import MeetingEvent
from sala.events.mapping import map_event
from sala.events.outbox import CURSOR
from sala.recordings.ready import ready_url
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

BATCH = 500
ROWS_PER_TRANSACTION = 5_000
"""Deliveries written per transaction at most (one event with many hooks can go past it)."""


class _Overtaken(Exception):
    """Another worker moved the log position first: roll this pass's work back."""


GAP_PATIENCE_S = 1.0


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
        self._gap_seen_at: dict[int, float] = {}
        self._known_position: int | None = None
        """Where this worker last moved the log position; another worker moving it makes
        this pass's write fail, and the position is read again."""
        self.queued = 0
        """Deliveries written so far (the worker pumps when this grows)."""

    async def run_once(self) -> int:
        """Queue deliveries for the next batch of log events; returns how many were consumed."""
        position = await self._position()
        rows: list[dict[str, Any]] = []
        consumed: list[MeetingEvent] = []
        async with self._db.read() as conn:
            events = await self._next_events(conn, position)
            if not events:
                return 0
            hooks = [h for h in await self._hooks.all() if h.collects_events]
            now = self._clock.now_ms()
            meetings: dict[str, Mapping[Any, Any] | None] = {}
            users: dict[str, Mapping[Any, Any] | None] = {}
            for event in events:
                consumed.append(event)
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
                if len(rows) >= ROWS_PER_TRANSACTION:
                    break
        try:
            async with self._outbox.write() as conn:
                moved = await conn.execute(
                    update(tables.log_cursors)
                    .where(
                        tables.log_cursors.c.name == CURSOR,
                        tables.log_cursors.c.last_event_id == position,
                    )
                    .values(last_event_id=consumed[-1].id)
                )
                if moved.rowcount != 1:
                    raise _Overtaken
                if rows:
                    await conn.execute(insert(tables.deliveries), rows)
        except _Overtaken:
            # Another worker queued these events first; rolled back, the next pass starts
            # from its position.
            self._known_position = None
            return 0
        self._known_position = consumed[-1].id
        self.queued += len(rows)
        return len(consumed)

    async def _position(self) -> int:
        if self._known_position is not None:
            return self._known_position
        c = tables.log_cursors
        async with self._outbox.read() as conn:
            found = (
                await conn.execute(select(c.c.last_event_id).where(c.c.name == CURSOR))
            ).scalar()
        if found is not None:
            return int(found)
        # Migration 0003 (or prepare_outbox) starts the cursor at the log's end, so older
        # history is never sent; a missing row means an empty database.
        async with self._outbox.write() as conn:
            await conn.execute(insert(c).values(name=CURSOR, last_event_id=0))
        return 0

    async def _next_events(self, conn: AsyncConnection, position: int) -> list[MeetingEvent]:
        t = tables.meeting_events
        rows = (
            await conn.execute(select(t).where(t.c.id > position).order_by(t.c.id).limit(BATCH))
        ).all()
        events: list[MeetingEvent] = []
        expected = position + 1
        now = time.monotonic()
        for row in rows:
            if row.id != expected and not self._db.is_sqlite:
                first_seen = self._gap_seen_at.setdefault(expected, now)
                if now - first_seen < GAP_PATIENCE_S:
                    break
                log.info("event IDs %s..%s never committed; moving on", expected, row.id - 1)
            self._gap_seen_at.pop(expected, None)
            events.append(MeetingEvent(**row._mapping))
            expected = row.id + 1
        return events

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
    t = tables.meeting_events
    events = [
        MeetingEvent(**r._mapping)
        for r in await conn.execute(select(t).where(t.c.meeting_id == internal_id).order_by(t.c.id))
    ]
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

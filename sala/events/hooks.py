"""Webhook registrations: create, list, destroy, enable and disable hooks.

One hook per callback URL, as in bbb-webhooks. Each hook gets its own random `authToken`, sent
as `Authorization: Bearer <token>` with every delivery (the Mconf scheme in the guides). Hooks are
never deleted by sala: a receiver that keeps failing has its hook disabled, with the reason, until
hooks/enable turns it back on.

A hook may be bound to meetings (external IDs; none: every meeting) and filtered by event ID.
`event_ids` is None when hooks/create had no `eventID`, and empty when it had an empty one: both
receive every event (bbb-webhooks would send nothing for the empty one, a filter that matches no
event; the PHP client library 3.0 sends `eventID=` on every hooks/create that names no events).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sala.clock import Clock
from sala.store import tables
from sala.store.db import Database

hooks_t = tables.hooks
deliveries_t = tables.deliveries

NOT_ENABLED_YET = "not enabled yet"
FAILING_PREFIX = "failing: "


@dataclass(frozen=True)
class Hook:
    id: int
    guid: str
    callback_url: str
    meeting_ids: tuple[str, ...]
    event_ids: tuple[str, ...] | None
    raw: bool
    auth_token: str
    enabled: bool
    disabled_reason: str | None
    created_at: int

    @classmethod
    def from_row(cls, row: Any) -> Hook:
        m = row._mapping
        return cls(
            id=m["id"],
            guid=m["guid"],
            callback_url=m["callback_url"],
            meeting_ids=tuple(m["meeting_ids"] or ()),
            event_ids=None if m["event_ids"] is None else tuple(m["event_ids"]),
            raw=m["raw"],
            auth_token=m["auth_token"],
            enabled=m["enabled"],
            disabled_reason=m["disabled_reason"],
            created_at=m["created_at"],
        )

    @property
    def is_global(self) -> bool:
        return not self.meeting_ids

    @property
    def filters_events(self) -> bool:
        return bool(self.event_ids)

    @property
    def collects_events(self) -> bool:
        """Events are queued for enabled hooks and for hooks disabled because they failed, so
        turning a failing hook back on delivers what happened meanwhile."""
        return self.enabled or bool(
            self.disabled_reason and self.disabled_reason.startswith(FAILING_PREFIX)
        )

    def wants(self, event_id: str, external_meeting_id: str | None) -> bool:
        if self.event_ids and event_id not in self.event_ids:
            return False
        return self.is_global or external_meeting_id in self.meeting_ids


class HookStore:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox: Database | None = None,
        on_outbox_changed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._db = db
        self._outbox = outbox or db
        self._on_outbox_changed = on_outbox_changed
        self._any_collecting: tuple[bool, float] | None = None
        self._clock = clock

    async def create(
        self,
        callback_url: str,
        meeting_ids: Sequence[str],
        event_ids: Sequence[str] | None,
        raw: bool,
        enabled: bool,
    ) -> tuple[Hook, bool]:
        """The new hook, or the existing one for this URL (then True: a duplicate)."""
        self._any_collecting = None
        existing = await self._by_url(callback_url)
        if existing is not None:
            return existing, True
        values = {
            "guid": str(uuid.uuid4()),
            "callback_url": callback_url,
            "meeting_ids": list(meeting_ids),
            "event_ids": None if event_ids is None else list(event_ids),
            "raw": raw,
            "auth_token": secrets.token_hex(20),
            "enabled": enabled,
            "disabled_reason": None if enabled else NOT_ENABLED_YET,
            "created_at": self._clock.now_ms(),
        }
        try:
            async with self._db.write() as conn:
                await conn.execute(insert(hooks_t).values(**values))
        except IntegrityError:
            # Another request registered the same URL first.
            raced = await self._by_url(callback_url)
            if raced is None:
                raise
            return raced, True
        created = await self._by_url(callback_url)
        assert created is not None
        return created, False

    async def _by_url(self, callback_url: str) -> Hook | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(select(hooks_t).where(hooks_t.c.callback_url == callback_url))
            ).first()
        return None if row is None else Hook.from_row(row)

    async def get(self, hook_id: int) -> Hook | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(hooks_t).where(hooks_t.c.id == hook_id))).first()
        return None if row is None else Hook.from_row(row)

    async def any_collecting(self, max_age_s: float = 5.0) -> bool:
        """Whether some hook wants events, as read at most `max_age_s` ago (hooks/create and
        destroy in this process refresh it at once)."""
        now = time.monotonic()
        if self._any_collecting is None or now - self._any_collecting[1] > max_age_s:
            collecting = any(h.collects_events for h in await self.all())
            self._any_collecting = (collecting, now)
        return self._any_collecting[0]

    async def all(self) -> tuple[Hook, ...]:
        """Every hook, ordered by ID, read fresh: the API process registers hooks and the
        delivery worker process disables them, so no process may trust a copy."""
        async with self._db.read() as conn:
            rows = (await conn.execute(select(hooks_t).order_by(hooks_t.c.id))).all()
        return tuple(Hook.from_row(r) for r in rows)

    async def listed(self, meeting_id: str | None) -> list[Hook]:
        hooks = await self.all()
        if meeting_id is None:
            return list(hooks)
        return [h for h in hooks if h.is_global or meeting_id in h.meeting_ids]

    async def destroy(self, hook_id: int) -> bool:
        self._any_collecting = None
        async with self._db.write() as conn:
            removed = await conn.execute(delete(hooks_t).where(hooks_t.c.id == hook_id))
        # After the hook is gone, so that none of its deliveries is sent after this returns; a
        # delivery queued in between finds no hook and is dropped by the worker.
        async with self._outbox.write() as conn:
            await conn.execute(delete(deliveries_t).where(deliveries_t.c.hook_id == hook_id))
        return removed.rowcount == 1

    async def enable(self, hook_id: int) -> bool:
        self._any_collecting = None
        """Turn delivery on; deliveries held back while it was disabled go out at once."""
        now = self._clock.now_ms()
        # Deliveries first: once the hook says enabled, the worker may send them at once.
        async with self._outbox.write() as conn:
            await conn.execute(
                update(deliveries_t)
                .where(deliveries_t.c.hook_id == hook_id, deliveries_t.c.status == "pending")
                .values(next_attempt_at=now, attempts=0, retry_since=now)
            )
        async with self._db.write() as conn:
            changed = await conn.execute(
                update(hooks_t)
                .where(hooks_t.c.id == hook_id)
                .values(enabled=True, disabled_reason=None)
            )
        if self._on_outbox_changed is not None:
            await self._on_outbox_changed()
        return changed.rowcount == 1

    async def disable(self, hook_id: int, reason: str) -> None:
        self._any_collecting = None
        async with self._db.write() as conn:
            await conn.execute(
                update(hooks_t)
                .where(hooks_t.c.id == hook_id)
                .values(enabled=False, disabled_reason=FAILING_PREFIX + reason)
            )

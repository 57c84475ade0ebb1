"""Sending the outbox: at-least-once, in order per hook and meeting, off the request path.

Each ordering key (one hook and one meeting, or one callback) has at most one request in flight,
and only its oldest pending delivery is ever tried, so receivers see events in order. A failed
request is retried with exponential backoff and jitter; when a hook's receiver has failed for
the whole retry window (24 h by default) the hook is disabled, with the reason, and its
deliveries wait, never dropped, until hooks/enable. Requests carry `X-Sala-Delivery-Id`, the
same on every retry, so receivers can drop duplicates.

A delivery is claimed in the database before it is sent, with a conditional update, so any
number of workers share the outbox without sending one delivery twice at a time: a claim lasts
the attempt's timeout and two seconds more, an attempt (the destination's name resolved and
checked, the request, the whole answer) is cut off at the timeout, so a claim never ends while
its attempt runs, and the attempt's outcome is written only while the claim is still the one
it was sent under. A crashed worker's claims lapse and its deliveries are sent again (with the
same delivery id).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import or_, select, true, update

from sala import __version__
from sala.clock import Clock
from sala.events.analytics import bearer_token
from sala.events.destinations import DestinationPolicy, DestinationRefused
from sala.events.hooks import Hook, HookStore
from sala.events.outbound import OutboundHttp, without_query
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

deliveries_t = tables.deliveries

USER_AGENT = f"sala-webhooks/{__version__}"
HOOK_REMOVED = "hook removed"
CLAIM_MARGIN_MS = 2_000
"""A claim outlasts its attempt's timeout by this much: time to write the outcome."""


@dataclass(frozen=True)
class DeliverySettings:
    secret: str
    timeout_s: float = 5.0
    retry_window_ms: int = 24 * 3_600_000
    first_backoff_ms: int = 1_000
    max_backoff_ms: int = 15 * 60_000
    concurrency: int = 32
    per_hook: int = 4


def backoff_ms(attempts: int, settings: DeliverySettings, rng: random.Random) -> int:
    """Exponential (1 s, 2 s, 4 s... up to the cap) with jitter, so a receiver that comes back
    is not hit by every queued delivery in the same instant."""
    base = min(settings.max_backoff_ms, settings.first_backoff_ms * 2 ** max(0, attempts - 1))
    return int(base * rng.uniform(0.5, 1.0))


class Deliverer:
    def __init__(
        self,
        outbox: Database,
        clock: Clock,
        hooks: HookStore,
        policy: DestinationPolicy,
        http: OutboundHttp,
        settings: DeliverySettings,
        rng: random.Random | None = None,
    ) -> None:
        self._db = outbox
        self._clock = clock
        self._hooks = hooks
        # Hooks read once per pump (the API process changes them, so never trusted longer).
        self._known_hooks: dict[int, Hook] = {}
        self._disabled_hooks: list[int] = []
        self._next_due_at: int | None = 0
        """When the earliest pending delivery is due, as last read (None: nothing pending)."""
        self._policy = policy
        self._http = http
        self._settings = settings
        self._rng = rng or random.Random()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._outcomes: list[tuple[Mapping[Any, Any], int | None, str | None, int]] = []
        self._per_hook: dict[int, int] = {}

    @property
    def busy(self) -> int:
        return len(self._inflight)

    async def pump(self) -> int:
        """Record finished requests, then start every due delivery there is room for;
        returns how many started."""
        await self.flush()
        room = self._settings.concurrency - len(self._inflight)
        if room <= 0:
            return 0
        await self._load_hooks()
        now = self._clock.now_ms()
        chosen: list[Mapping[Any, Any]] = []
        keys: set[str] = set()
        per_hook = dict(self._per_hook)
        for row in await self._due_heads(now, limit=room * 2):
            key, hook_id = row["ordering_key"], row["hook_id"]
            if len(chosen) >= room or key in self._inflight or key in keys:
                continue
            if hook_id is not None:
                if per_hook.get(hook_id, 0) >= self._settings.per_hook:
                    continue
                per_hook[hook_id] = per_hook.get(hook_id, 0) + 1
            chosen.append(row)
            keys.add(key)
        # Long enough for one attempt, which is cut off at the timeout (see _send), and for its
        # outcome to be written; a crashed process's claims lapse after it.
        until = now + int(self._settings.timeout_s * 1000) + CLAIM_MARGIN_MS
        claimed = await self._claim([row["id"] for row in chosen], now, until)
        for row in chosen:
            if row["id"] not in claimed:
                continue
            key, hook_id = row["ordering_key"], row["hook_id"]
            if hook_id is not None:
                self._per_hook[hook_id] = self._per_hook.get(hook_id, 0) + 1
            sent = {**row, "claimed_until": until}
            task = asyncio.create_task(self._send(sent), name=f"delivery-{row['id']}")
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._finished, key, hook_id))
        return len(claimed)

    def _finished(self, key: str, hook_id: int | None, _task: asyncio.Task[None]) -> None:
        self._inflight.pop(key, None)
        if hook_id is not None:
            self._per_hook[hook_id] = self._per_hook.get(hook_id, 1) - 1

    def changed(self) -> None:
        """The outbox changed outside this deliverer (new deliveries, a hook enabled)."""
        self._next_due_at = 0

    def due_in_ms(self) -> int | None:
        """From what was last read: how long until something is due (0: now; None: nothing)."""
        if self._next_due_at is None:
            return None
        return max(0, self._next_due_at - self._clock.now_ms())

    async def next_due_in_ms(self) -> int | None:
        now = self._clock.now_ms()
        async with self._db.read() as conn:
            earliest = (
                await conn.execute(
                    select(deliveries_t.c.next_attempt_at)
                    .where(deliveries_t.c.status == "pending", self._deliverable())
                    .order_by(deliveries_t.c.next_attempt_at)
                    .limit(1)
                )
            ).scalar()
        self._next_due_at = None if earliest is None else int(earliest)
        return None if earliest is None else max(0, int(earliest) - now)

    async def _load_hooks(self) -> None:
        self._known_hooks = {hook.id: hook for hook in await self._hooks.all()}
        self._disabled_hooks = [h.id for h in self._known_hooks.values() if not h.enabled]

    def _deliverable(self) -> Any:
        """Not held back by a disabled hook (the hooks table may be in another database)."""
        if not self._disabled_hooks:
            return true()
        return or_(
            deliveries_t.c.hook_id.is_(None), deliveries_t.c.hook_id.not_in(self._disabled_hooks)
        )

    async def _due_heads(self, now: int, limit: int) -> list[Mapping[Any, Any]]:
        d = deliveries_t
        earlier = d.alias("earlier")
        has_earlier = (
            select(earlier.c.id)
            .where(
                earlier.c.ordering_key == d.c.ordering_key,
                earlier.c.status == "pending",
                earlier.c.id < d.c.id,
            )
            .exists()
        )
        statement = (
            select(d)
            .where(
                # `status || ''`: no index on status may be used, so the outbox is walked in id
                # order and the walk stops at `limit` heads. Given the index, SQLite read every
                # due delivery and sorted them: 240 ms per pump with 300,000 queued, not 2 ms.
                d.c.status.concat("") == "pending",
                d.c.next_attempt_at <= now,
                or_(d.c.claimed_until.is_(None), d.c.claimed_until <= now),
                ~has_earlier,
                self._deliverable(),
            )
            .order_by(d.c.id)
            .limit(limit)
        )
        async with self._db.read() as conn:
            return [row._mapping for row in (await conn.execute(statement)).all()]

    async def _claim(self, delivery_pks: list[int], now: int, until: int) -> set[int]:
        """Claim these deliveries until `until`, in one transaction; returns the ones this
        process got (on PostgreSQL a concurrent claimer waits, then finds them claimed)."""
        if not delivery_pks:
            return set()
        async with self._db.write() as conn:
            claimed = await conn.execute(
                update(deliveries_t)
                .where(
                    deliveries_t.c.id.in_(delivery_pks),
                    deliveries_t.c.status == "pending",
                    or_(
                        deliveries_t.c.claimed_until.is_(None),
                        deliveries_t.c.claimed_until <= now,
                    ),
                )
                .values(claimed_until=until)
                .returning(deliveries_t.c.id)
            )
            return set(claimed.scalars().all())

    async def _send(self, row: dict[str, Any]) -> None:
        try:
            # The whole attempt, not only each read: a receiver trickling its answer, or a
            # name that resolves slowly, cannot keep it going past its claim.
            async with asyncio.timeout(self._settings.timeout_s):
                status, error = await self._attempt(row)
        except TimeoutError:
            status, error = None, f"timed out after {self._settings.timeout_s:g} s"
        except Exception as exc:  # never let one delivery kill the worker
            log.exception("delivery %s crashed", row["delivery_id"])
            status, error = None, f"internal error: {exc}"
        # Written in batches by flush(): one transaction for many outcomes.
        self._outcomes.append((row, status, error, self._clock.now_ms()))

    async def drain(self) -> None:
        """Wait for the requests in flight and record their outcomes (tests, shutdown)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight.values()), return_exceptions=True)
        await self.flush()

    async def _attempt(self, row: Mapping[Any, Any]) -> tuple[int | None, str | None]:
        try:
            destination = await self._policy.check(row["url"])
        except DestinationRefused as exc:
            return None, f"destination refused: {exc}"
        headers = {
            "User-Agent": USER_AGENT,
            "X-Sala-Delivery-Id": row["delivery_id"],
            "X-Sala-Event": row["event_id"],
        }
        if row["content_type"]:
            headers["Content-Type"] = row["content_type"]
        if row["kind"] == "hook":
            hook = self._known_hooks.get(row["hook_id"])
            if hook is None:
                return None, HOOK_REMOVED
            headers["Authorization"] = f"Bearer {hook.auth_token}"
        elif row["kind"] == "analytics":
            headers["Authorization"] = (
                f"Bearer {bearer_token(self._settings.secret, self._clock.now_ms())}"
            )
        try:
            # Sent to the addresses just checked, not to whatever the name resolves to now.
            response = await self._http.request(
                destination,
                row["method"],
                content=row["body"].encode("utf-8") if row["body"] else None,
                headers=headers,
                timeout_s=self._settings.timeout_s,
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    async def flush(self) -> None:
        """Write the outcomes of finished requests."""
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        disable: dict[int, str] = {}
        async with self._db.write() as conn:
            for row, status, error, now in outcomes:
                values, reason = self._outcome(row, status, error, now)
                stored = await conn.execute(
                    update(deliveries_t)
                    .where(
                        deliveries_t.c.id == row["id"],
                        # Still under the claim it was sent with: if that lapsed and another
                        # worker claimed it since, that worker's attempt decides.
                        deliveries_t.c.claimed_until == row["claimed_until"],
                    )
                    .values(**values)
                )
                if stored.rowcount != 1:
                    log.warning(
                        "delivery %s: claim lapsed during the attempt; outcome dropped",
                        row["delivery_id"],
                    )
                    continue
                if reason is not None:
                    disable[row["hook_id"]] = reason
                elif error is not None:
                    log.info(
                        "delivery %s to %s failed: %s",
                        row["delivery_id"],
                        without_query(row["url"]),
                        error,
                    )
        for hook_id, reason in disable.items():
            log.warning("hook %s disabled: %s", hook_id, reason)
            await self._hooks.disable(hook_id, reason)

    def _outcome(
        self, row: Mapping[Any, Any], status: int | None, error: str | None, now: int
    ) -> tuple[dict[str, Any], str | None]:
        """The delivery's new values, and the reason to disable its hook, if it comes to that."""
        values: dict[str, Any] = {"claimed_until": None, "attempts": row["attempts"] + 1}
        if error == HOOK_REMOVED:
            # hooks/destroy deletes a hook's deliveries; this one was queued as it happened.
            values.update(status="dropped", last_error=error)
        elif error is None:
            values.update(status="delivered", delivered_at=now, last_error=None)
        elif status == 401 or (status == 410 and row["kind"] == "recording_ready"):
            # bbb-webhooks' rule: the receiver refused this request on purpose; stop retrying.
            # For the recording-ready callback BBB also takes 410 as "no longer wanted".
            values.update(status="rejected", delivered_at=now, last_error=error)
        elif now - row["retry_since"] >= self._settings.retry_window_ms:
            values["last_error"] = error
            if row["hook_id"] is not None:
                values["next_attempt_at"] = now
                return values, f"{error} (failing since {row['retry_since']})"
            values["status"] = "failed"
        else:
            values.update(
                last_error=error,
                next_attempt_at=now + backoff_ms(values["attempts"], self._settings, self._rng),
            )
        return values, None

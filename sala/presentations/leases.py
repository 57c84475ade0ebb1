"""Who converts a document, when several processes share one database: conversion leases.

A document being converted (state `processing`) is held by the process converting it: its row
names the holder (`leased_by`) and says until when (`lease_until`, LEASE_MS on the holder's
clock). In one process (`sala serve`) the process that accepts a document holds it from the
moment it writes the row; a cluster's front end writes it unleased and a worker claims it. The
holder renews it every RENEW_EVERY_S while the document waits for a slot and converts, and gives
it back when it stops cleanly. Any process may take a conversion whose lease lapsed (its holder
died or hung); rows left processing unleased (by an older version, or by a cluster's front end)
are taken at once, and so are, at start, those of the same node's previous process. Every write
about a conversion's outcome is conditional on holding it (`held`), so a holder that hung and
came back writes nothing over its successor's work. Leases compare the hosts' wall clocks: hosts
need NTP, with a skew well under the lease (as recording jobs do, sala/recordings/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from sala.clock import Clock
from sala.cluster.holders import holder_name
from sala.store import tables
from sala.store.db import Database

LEASE_MS = 30_000
"""How long a claim on a conversion lasts unless its holder renews it."""
RENEW_EVERY_S = LEASE_MS / 1000 / 3
"""Renewed three times per lease: two renewals may fail (a database hiccup) before it lapses."""
RETRY_MS = 5_000
"""How soon a conversion whose outcome could not be written is taken again."""

t = tables.presentations


class ConversionLeases:
    def __init__(
        self, db: Database, clock: Clock, node: str | None = None, lease_ms: int = LEASE_MS
    ) -> None:
        self._db = db
        self._clock = clock
        self._node = node
        self.holder = holder_name(node)
        self.lease_ms = lease_ms

    def claim(self) -> dict[str, Any]:
        """The columns of a row this process holds from now (a document it just accepted)."""
        return {"leased_by": self.holder, "lease_until": self._clock.now_ms() + self.lease_ms}

    def held(self, presentation_id: str) -> ColumnElement[bool]:
        """Still converting, and held by this process: the condition of every outcome write."""
        return and_(
            t.c.id == presentation_id, t.c.state == "processing", t.c.leased_by == self.holder
        )

    @staticmethod
    def lapsed(now: int) -> ColumnElement[bool]:
        """Converting under a lease that lapsed (or under none: an older version's row)."""
        return and_(
            t.c.state == "processing",
            or_(t.c.lease_until.is_(None), t.c.lease_until <= now),
        )

    def _orphaned(self, now: int, at_start: bool) -> ColumnElement[bool]:
        if not at_start or self._node is None:
            return self.lapsed(now)
        # At start, those of this node's previous process too, without waiting for their
        # leases: a node id is one process at a time (its front end's address, by default),
        # so a lone server restarted after a crash resumes its conversions at once.
        return or_(
            self.lapsed(now),
            and_(
                t.c.state == "processing",
                t.c.leased_by.startswith(f"{self._node[:100]}/", autoescape=True),
                t.c.leased_by != self.holder,
            ),
        )

    async def orphans(self, skip: Collection[str], at_start: bool = False) -> Sequence[Row[Any]]:
        """Conversions nobody holds any more, oldest first, but those in `skip` (this
        process's own, which it renews whatever the clock says)."""
        condition = self._orphaned(self._clock.now_ms(), at_start)
        async with self._db.read() as conn:
            rows = (await conn.execute(select(t).where(condition).order_by(t.c.created_at))).all()
        return [row for row in rows if row.id not in skip]

    async def take(self, presentation_id: str, at_start: bool = False) -> bool:
        """Claim a conversion found by `orphans`; False if another process was first."""
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            taken = await conn.execute(
                update(t)
                .where(t.c.id == presentation_id, self._orphaned(now, at_start))
                .values(leased_by=self.holder, lease_until=now + self.lease_ms)
            )
        return taken.rowcount == 1

    async def renew(self, presentation_ids: Collection[str]) -> set[str]:
        """Extend the leases on these conversions; returns those this process still holds."""
        ids = list(presentation_ids)
        if not ids:
            return set()
        mine = and_(t.c.id.in_(ids), t.c.state == "processing", t.c.leased_by == self.holder)
        async with self._db.write() as conn:
            await conn.execute(
                update(t).where(mine).values(lease_until=self._clock.now_ms() + self.lease_ms)
            )
            held = (await conn.execute(select(t.c.id).where(mine))).scalars().all()
        return set(held)

    async def lapse_soon(self, presentation_id: str, in_ms: int = RETRY_MS) -> None:
        """Let one conversion go in `in_ms` rather than a whole lease (its outcome could not be
        written): taken again at the next look after that, by any process; a failure that
        lasts is retried that often, not in a loop."""
        async with self._db.write() as conn:
            await conn.execute(
                update(t)
                .where(self.held(presentation_id))
                .values(lease_until=self._clock.now_ms() + in_ms)
            )

    async def release_all(self) -> None:
        """Give back what this process holds, so another front end (or this one restarted)
        takes it at once instead of after the lease."""
        async with self._db.write() as conn:
            await conn.execute(
                update(t)
                .where(t.c.leased_by == self.holder, t.c.state == "processing")
                .values(leased_by=None, lease_until=None)
            )

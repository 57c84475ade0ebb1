"""Durable positions in the meeting event log: "the events committed after cursor C, up to N".

The webhook fan-out and the recordings pipeline each follow the whole log with a cursor stored
in `log_cursors`, and move it in the same transaction as the work an event caused, so every
event is handled exactly once across crashes and across workers (a worker whose conditional
move finds the cursor already moved rolls its work back). What this module guarantees is the
other half: a cursor never passes an event that can still appear.

SQLite lets one writer at a time into the file, and a writer takes its IDs and commits before
the next one starts, so events become visible in ID order: the cursor is the last ID read.

PostgreSQL hands out IDs when rows are inserted, not when they commit: a transaction holding ID
7 may commit after another one's ID 8 was read, and an ID-only cursor at 8 would never read 7
(the fan-out used to wait a second for gaps to fill; the pipeline did not wait at all). So each
event also records the transaction that wrote it (`xid`, from `pg_current_xact_id()`, filled in
by the database), and a read takes only events whose transaction is below the current
snapshot's xmin:

- Every transaction with an ID below xmin had ended (committed or rolled back) when the snapshot
  was taken, so the events below xmin that the snapshot shows are all there will ever be (the
  log is append-only).
- Transaction IDs are handed out in increasing order, and PostgreSQL publishes a transaction's
  ID before any snapshot can count it as ended, so an event that is not final yet has an xid at
  or above the xmin of every snapshot taken so far; xmin never goes backwards.
- The final events are read in (xid, id) order, a page at a time, and the cursor becomes the
  last one's (xid, id). Everything not read yet therefore sorts after the cursor: the event of a
  transaction that commits late is read when it commits, never skipped, and never read twice.
  A rolled-back transaction's events never appear, and it holds nothing back once it ended.

Order. A meeting's webhook receivers expect its events in the order they happened. A page is
handed over sorted by ID. If transaction B started after transaction A committed (say, a join
after the create), B's xid and B's IDs are both larger than A's, so A's events come first,
whether they fall in the same page (by ID) or in an earlier one (pages follow xid order), and
within one transaction IDs are the order of the writes. Only events of transactions that
overlapped in time can come in either order, and for those no order is more true than another.

The cost: an open transaction that has written anything (in any database of the cluster; xids
are cluster-wide) holds back every event that committed after it began writing, until it ends.
sala's transactions last milliseconds; a session left idle in a transaction elsewhere delays
webhooks and recordings (nothing is lost), which `idle_in_transaction_session_timeout` bounds.
Events written before migration 0011 have xid 0 and come first. Readers must use the primary
(a standby's snapshots describe the primary's past).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import BigInteger, Text, cast, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from sala.events.log import EVENT_COLUMNS, MeetingEvent
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

events_t = tables.meeting_events
cursors_t = tables.log_cursors


@dataclass(frozen=True, order=True)
class LogPosition:
    """Just after the event with this transaction ID (0 on SQLite) and this ID."""

    xid: int
    event_id: int


START = LogPosition(0, 0)


@dataclass(frozen=True)
class LogPage:
    """Events read past a position, with the position after them."""

    start: LogPosition
    read: tuple[tuple[LogPosition, MeetingEvent], ...]
    """Each event at its position, in position order (the order the cursor passes them)."""

    @property
    def events(self) -> list[MeetingEvent]:
        """In ID order (see the module's docstring for why that is a meeting's order)."""
        return sorted((event for _, event in self.read), key=lambda event: event.id)

    @property
    def end(self) -> LogPosition:
        """Where the cursor goes once these events are handled (`start` if there are none)."""
        return self.read[-1][0] if self.read else self.start

    def head(self, count: int) -> LogPage:
        """The first `count` events in cursor order: a smaller page that is still one step of
        the cursor (the rest is read again next time)."""
        return LogPage(self.start, self.read[:count])


def _snapshot_xmin() -> ColumnElement[int]:
    """The oldest transaction still running for this statement's snapshot, as a BIGINT."""
    xmin = func.pg_snapshot_xmin(func.pg_current_snapshot())
    return cast(cast(xmin, Text), BigInteger)


async def read_page(
    conn: AsyncConnection, after: LogPosition, limit: int, *, with_data: bool = True
) -> LogPage:
    """Up to `limit` events that committed after `after` and can no longer be joined by an
    earlier one. `with_data=False` leaves each event's `data` empty (for readers that look at
    types only; event data can be large)."""
    columns = EVENT_COLUMNS if with_data else [c for c in EVENT_COLUMNS if c.name != "data"]
    if conn.dialect.name == "postgresql":
        statement = (
            select(*columns, events_t.c.xid)
            .where(
                tuple_(events_t.c.xid, events_t.c.id) > tuple_(after.xid, after.event_id),
                events_t.c.xid < _snapshot_xmin(),
            )
            .order_by(events_t.c.xid, events_t.c.id)
        )
    else:
        statement = select(*columns).where(events_t.c.id > after.event_id).order_by(events_t.c.id)
    rows = (await conn.execute(statement.limit(limit))).all()
    return LogPage(
        after,
        tuple(
            (
                LogPosition(int(row._mapping.get("xid") or 0), int(row.id)),
                MeetingEvent.from_row(row)
                if with_data
                else MeetingEvent(row.id, row.meeting_id, row.ts, row.type, row.user_id, {}),
            )
            for row in rows
        ),
    )


async def load_cursor(conn: AsyncConnection, name: str) -> LogPosition | None:
    row = (
        await conn.execute(
            select(cursors_t.c.last_xid, cursors_t.c.last_event_id).where(cursors_t.c.name == name)
        )
    ).first()
    return None if row is None else LogPosition(int(row.last_xid), int(row.last_event_id))


async def create_cursor(conn: AsyncConnection, name: str, at: LogPosition = START) -> None:
    await conn.execute(
        insert(cursors_t).values(name=name, last_xid=at.xid, last_event_id=at.event_id)
    )


async def move_cursor(conn: AsyncConnection, name: str, old: LogPosition, new: LogPosition) -> bool:
    """Move the cursor from `old` to `new`; False if it was no longer at `old` (another worker
    moved it first: the caller rolls back what it did for these events). On PostgreSQL the
    update waits for a concurrent mover and then sees its result, so exactly one wins."""
    moved = await conn.execute(
        update(cursors_t)
        .where(
            cursors_t.c.name == name,
            cursors_t.c.last_xid == old.xid,
            cursors_t.c.last_event_id == old.event_id,
        )
        .values(last_xid=new.xid, last_event_id=new.event_id)
    )
    return moved.rowcount == 1


async def repair_after_restore(main: Database, outbox: Database) -> bool:
    """Make the cursors valid again if the database was restored into another PostgreSQL
    cluster (pg_dump and restore, logical replication): the events keep the transaction IDs
    of the old cluster while the new one counts from where it is, usually far lower, so every
    new event would sort before the cursors and never be read. Run at start, before anything
    writes events; True if it repaired something.

    Detected by an event whose transaction ID is not below this transaction's own, which
    cannot happen in the cluster that wrote it. Every restored event is final, so all of them
    go back to transaction 0, as events from before migration 0011; each cursor goes back to
    just before the first event it had not passed, by ID, so the events at its edge are
    handled again rather than lost (the fan-out queues them as new deliveries: a receiver may
    get one twice, never miss one; the pipeline queues a recording once whatever happens)."""
    if main.is_sqlite:
        return False
    async with main.read() as conn:
        if not await _foreign_xids(conn):
            return False
    async with main.write() as conn:
        # Two processes starting at once: one repairs, the other finds nothing left to do.
        await conn.execute(select(func.pg_advisory_xact_lock(RESTORE_LOCK)))
        if not await _foreign_xids(conn):
            return False
        positions = {
            name: await _restart_position(conn, position)
            for name, position in await _all_cursors(conn)
        }
        if outbox is not main:
            async with outbox.read() as other:
                outbox_positions = {
                    name: await _restart_position(conn, position)
                    for name, position in await _all_cursors(other)
                }
            # Written first: a crash before the main transaction commits leaves the events
            # foreign, and the next start repairs again from these (earlier) positions.
            async with outbox.write() as other:
                for name, event_id in outbox_positions.items():
                    await _set_cursor(other, name, event_id)
        for name, event_id in positions.items():
            await _set_cursor(conn, name, event_id)
        await conn.execute(update(events_t).where(events_t.c.xid != 0).values(xid=0))
    log.warning(
        "the event log carries transaction IDs of another PostgreSQL cluster (a restore?): "
        "log cursors set back by ID, events at their edge may be delivered again"
    )
    return True


RESTORE_LOCK = 0x5A1A_0001
"""Advisory lock key held while cursors are repaired after a restore."""


async def _foreign_xids(conn: AsyncConnection) -> bool:
    newest = (await conn.execute(select(func.max(events_t.c.xid)))).scalar()
    if not newest:
        return False
    current = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
    # pg_current_xact_id() gives this transaction an ID if it had none: larger than any ID
    # this cluster handed out before.
    return int(newest) >= int((await conn.execute(select(current))).scalar_one())


async def _all_cursors(conn: AsyncConnection) -> list[tuple[str, LogPosition]]:
    rows = await conn.execute(
        select(cursors_t.c.name, cursors_t.c.last_xid, cursors_t.c.last_event_id)
    )
    return [(row.name, LogPosition(int(row.last_xid), int(row.last_event_id))) for row in rows]


async def _restart_position(conn: AsyncConnection, position: LogPosition) -> int:
    """The ID just before the first event `position` may not have passed (or the last ID).
    Events with a larger ID count too, whatever their xid: one written in this cluster before
    the repair (by a process that started without it) has a small xid and sorts before the
    cursor, yet was never read. Those the old cluster passed are read again: duplicates at
    the edge, never a gap."""
    first = (
        await conn.execute(
            select(func.min(events_t.c.id)).where(
                or_(
                    tuple_(events_t.c.xid, events_t.c.id) > tuple_(position.xid, position.event_id),
                    events_t.c.id > position.event_id,
                )
            )
        )
    ).scalar()
    if first is not None:
        return int(first) - 1
    last = (await conn.execute(select(func.max(events_t.c.id)))).scalar()
    return int(last or 0)


async def _set_cursor(conn: AsyncConnection, name: str, event_id: int) -> None:
    await conn.execute(
        update(cursors_t).where(cursors_t.c.name == name).values(last_xid=0, last_event_id=event_id)
    )

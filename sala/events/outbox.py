"""Where the outbox lives, and getting it ready at start.

The outbox (queued deliveries, and how far the fan-out has read the meeting event log) is written
all the time while webhooks flow: new deliveries, claims, outcomes. SQLite lets one writer at a
time into a file, across processes, and a writer that finds the file locked sleeps and tries
again. With the outbox in the main file every such write made API calls wait, and webhooks slowed
the API they report on. So on SQLite the outbox has a file of its own and the delivery worker
only reads the main one (in WAL mode readers never block the writer). On PostgreSQL, which locks
rows and not the database, it stays in the main database.

Both databases carry the same schema (one migration chain); in a separate outbox file only
`deliveries` and `log_cursors` are used.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, insert, select, update

from sala.events.cursor import START, create_cursor, load_cursor, repair_after_restore
from sala.store import tables
from sala.store.db import Database

log = logging.getLogger(__name__)

CURSOR = "webhooks"


def open_outbox(main: Database, url: str) -> Database:
    """The outbox database: the main one itself when both URLs are the same."""
    return main if url == main.url else Database(url)


async def prepare_outbox(main: Database, outbox: Database) -> None:
    """Migrate the outbox; when it is new beside a main database that held the outbox before,
    carry over the log position and the deliveries still pending, so nothing is sent twice or
    lost by the move. (First, on PostgreSQL: log positions made valid again if the database
    was restored into another cluster; see events/cursor.py.)"""
    await repair_after_restore(main, outbox)
    if outbox is main:
        return
    await outbox.migrate()
    cursors = tables.log_cursors
    deliveries = tables.deliveries
    async with main.read() as conn:
        old_position = await load_cursor(conn, CURSOR) or START
        pending = [
            dict(row._mapping)
            for row in await conn.execute(
                select(deliveries).where(deliveries.c.status == "pending").order_by(deliveries.c.id)
            )
        ]
    async with outbox.write() as conn:
        position = await load_cursor(conn, CURSOR)
        if position is None:
            await create_cursor(conn, CURSOR, old_position)
        elif position < old_position:
            await conn.execute(
                update(cursors)
                .where(cursors.c.name == CURSOR)
                .values(last_xid=old_position.xid, last_event_id=old_position.event_id)
            )
        # A crash between this commit and the delete below leaves them in both: move each once.
        moved: set[str] = set()
        ids = [row["delivery_id"] for row in pending]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            moved.update(
                (
                    await conn.execute(
                        select(deliveries.c.delivery_id).where(deliveries.c.delivery_id.in_(chunk))
                    )
                ).scalars()
            )
        rows = [
            {k: v for k, v in row.items() if k != "id"}
            for row in pending
            if row["delivery_id"] not in moved
        ]
        if rows:
            await conn.execute(insert(deliveries), rows)
    if pending:
        async with main.write() as conn:
            await conn.execute(delete(deliveries).where(deliveries.c.status == "pending"))
        log.info("moved %d pending deliveries to the outbox database", len(pending))

"""`sala status`: what an operator looks at first. Nodes from the registry (role, address,
measured load, draining), then the live meetings from the database with the front end owning
each room and the media node carrying its media (from the lease directories)."""

from __future__ import annotations

import time

from sqlalchemy import select

from sala.cluster.wiring import open_cluster
from sala.config import Settings
from sala.store import tables
from sala.store.db import Database

MAX_MEETINGS_SHOWN = 50


async def cluster_status(
    settings: Settings, *, drain: str | None = None, undrain: str | None = None
) -> str:
    lines: list[str] = []
    cluster = open_cluster(settings)
    db = Database(settings.sqlalchemy_url)
    try:
        if cluster is None:
            lines.append("single process (no SALA_REDIS_URL): no cluster nodes")
        else:
            if drain:
                await cluster.registry.set_draining(drain, True)
                lines.append(f"{drain}: draining (takes no new meetings)")
            if undrain:
                await cluster.registry.set_draining(undrain, False)
                lines.append(f"{undrain}: takes meetings again")
            nodes = await cluster.registry.nodes()
            now = int(time.time() * 1000)
            lines.append(f"nodes: {len(nodes)}")
            for node in nodes:
                load = ", ".join(f"{k} {v:g}" for k, v in sorted(node.load.items()) if k != "pid")
                flags = " draining" if node.draining else ""
                lines.append(
                    f"  {node.node_id:<20} {node.role:<8} {node.url or '-':<28} "
                    f"seen {max(0, now - node.seen_ms) / 1000:.1f}s ago{flags}  {load}"
                )
        m = tables.meetings
        async with db.read() as conn:
            rows = (
                await conn.execute(
                    select(m.c.internal_id, m.c.external_id, m.c.name, m.c.participant_count)
                    .where(m.c.ended.is_(False))
                    .order_by(m.c.create_time)
                )
            ).all()
        lines.append(f"meetings: {len(rows)} live, {sum(r.participant_count for r in rows)} people")
        for row in rows[:MAX_MEETINGS_SHOWN]:
            where = ""
            if cluster is not None:
                room = await cluster.rooms.owner(row.internal_id) or "-"
                media = await cluster.media.owner(row.internal_id) or "-"
                where = f"  room on {room}, media on {media}"
            lines.append(
                f"  {row.external_id:<30} {row.participant_count:>4} people{where}  {row.name}"
            )
        if len(rows) > MAX_MEETINGS_SHOWN:
            lines.append(f"  ... and {len(rows) - MAX_MEETINGS_SHOWN} more")
    finally:
        await db.dispose()
        if cluster is not None:
            await cluster.close()
    return "\n".join(lines) + "\n"

"""Asking a running Janus, through its Admin API, what it still holds."""

from __future__ import annotations

from sala.media.janus.client import JanusClient


async def count_handles(admin_url: str, admin_secret: str) -> int:
    """Plugin handles over all of Janus' sessions (sala's controller included)."""
    admin = await JanusClient(admin_url, admin_secret, admin=True).connect()
    try:
        total = 0
        for session in (await admin.admin("list_sessions"))["sessions"]:
            total += len((await admin.admin("list_handles", session_id=session))["handles"])
        return total
    finally:
        await admin.close()

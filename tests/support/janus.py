"""A Janus for tests: its configuration on loopback, and asking it (through its Admin API and
plugin requests) what it still holds."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from sala.media.janus.client import JanusClient
from sala.media.janus.config import JanusConfig, free_port


def loopback_janus_config(folder: Path) -> JanusConfig:
    """A Janus of a test's own in `folder`: API and Admin API on free loopback ports, fresh
    secrets, ICE left to Janus (media itself needs a network namespace: Janus ignores loopback
    for ICE)."""
    return JanusConfig(
        folder=folder,
        ws_port=free_port(),
        admin_port=free_port(),
        admin_secret=secrets.token_hex(16),
        api_secret=secrets.token_hex(16),
    )


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


async def plugin_request(
    ws_url: str, api_secret: str, plugin: str, body: dict[str, Any]
) -> dict[str, Any]:
    """One plugin request on a session of its own (what Janus says about its rooms, mountpoints
    and forwarders, asked the way an operator would)."""
    client = await JanusClient(ws_url, api_secret).connect()
    try:
        await client.create_session()
        handle = await client.attach(plugin)
        answer = await client.message(handle, body)
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        return data
    finally:
        await client.close()

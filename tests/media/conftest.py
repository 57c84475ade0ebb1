"""sala with its own Janus, for tests of the media rules and bookkeeping over the room protocol."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from sala.config import Settings
from sala.media.janus.client import JanusClient
from tests.room.conftest import RoomServer, serve_room


@pytest.fixture
async def media_server(settings: Settings) -> AsyncIterator[RoomServer]:
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    async with serve_room(settings.model_copy(update={"media": True})) as server:
        yield server


async def janus_admin(server: RoomServer) -> JanusClient:
    """A connection to the Admin API of the Janus this sala started."""
    process = server.services.media.process
    assert process is not None
    return await JanusClient(
        process.config.admin_url, process.config.admin_secret, admin=True
    ).connect()


async def janus_handles(server: RoomServer) -> int:
    """How many plugin handles Janus holds, over all sessions (the controller's included)."""
    admin = await janus_admin(server)
    try:
        sessions = (await admin.admin("list_sessions"))["sessions"]
        total = 0
        for session in sessions:
            handles = await admin.admin("list_handles", session_id=session)
            total += len(handles["handles"])
        return total
    finally:
        await admin.close()

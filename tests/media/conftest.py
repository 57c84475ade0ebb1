"""sala with its own Janus, for tests of the media rules and bookkeeping over the room protocol."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from sala.config import Settings
from tests.room.conftest import RoomServer, serve_room
from tests.support.janus import count_handles


@pytest.fixture
async def media_server(settings: Settings) -> AsyncIterator[RoomServer]:
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    async with serve_room(settings.model_copy(update={"media": True})) as server:
        yield server


async def janus_handles(server: RoomServer) -> int:
    """How many plugin handles the Janus this sala started holds."""
    process = server.services.media.process
    assert process is not None
    return await count_handles(process.config.admin_url, process.config.admin_secret)

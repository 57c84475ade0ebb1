"""sala with its own Janus, for tests of the media rules and bookkeeping over the room protocol;
and a Janus alone on loopback (`janus`), driven through sala's client."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sala.config import Settings
from sala.media.janus.process import JanusProcess
from tests.room.conftest import RoomServer, serve_room
from tests.support.janus import count_handles, loopback_janus_config


@pytest.fixture
async def media_server(settings: Settings) -> AsyncIterator[RoomServer]:
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    async with serve_room(settings.model_copy(update={"media": True})) as server:
        yield server


@pytest.fixture
async def janus(tmp_path: Path) -> AsyncIterator[JanusProcess]:
    """A Janus of its own on loopback (its API, not ICE: media needs a network namespace)."""
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    config = loopback_janus_config(tmp_path / "janus")
    process = JanusProcess(config, tmp_path / "janus.log")
    await process.start()
    yield process
    await process.stop()


async def janus_handles(server: RoomServer) -> int:
    """How many plugin handles the Janus this sala started holds."""
    process = server.services.media.process
    assert process is not None
    return await count_handles(process.config.admin_url, process.config.admin_secret)

"""The Janus process sala runs, driven through sala's client: a real Janus on loopback."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest

from sala.media.janus.client import JanusClient, JanusError
from sala.media.janus.engine import JanusEngine, JanusNode
from sala.media.janus.process import JanusProcess
from tests.media.sdp import audio_offer
from tests.support.janus import count_handles, loopback_janus_config


async def test_audiobridge_room_lifecycle(janus: JanusProcess) -> None:
    client = await JanusClient(janus.config.ws_url, janus.config.api_secret).connect()
    try:
        session = await client.create_session()
        handle = await client.attach("janus.plugin.audiobridge")
        created = await client.message(
            handle, {"request": "create", "room": 4242, "audiolevel_event": True}
        )
        assert created["plugindata"]["data"]["audiobridge"] == "created"
        listed = await client.message(handle, {"request": "list"})
        assert 4242 in [r["room"] for r in listed["plugindata"]["data"]["list"]]
        with pytest.raises(JanusError):
            await client.message(handle, {"request": "create", "room": 4242})  # already exists
        await client.message(handle, {"request": "destroy", "room": 4242})

        admin = await JanusClient(
            janus.config.admin_url, janus.config.admin_secret, admin=True
        ).connect()
        try:
            sessions = await admin.admin("list_sessions")
            assert session in sessions["sessions"]
        finally:
            await admin.close()
    finally:
        await client.close()


async def test_wrong_api_secret_is_refused(janus: JanusProcess) -> None:
    client = await JanusClient(janus.config.ws_url, "not-the-secret").connect()
    try:
        with pytest.raises(JanusError) as caught:
            await client.create_session()
        assert caught.value.code == 403
    finally:
        await client.close()


async def test_a_killed_janus_is_restarted(janus: JanusProcess) -> None:
    restarted = asyncio.Event()

    async def on_restart() -> None:
        restarted.set()

    janus._on_restart = on_restart
    first_pid = janus.pid
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    await asyncio.wait_for(restarted.wait(), 5)  # the bound: noticed and back within 5 s
    assert janus.pid != first_pid and janus.restarts == 1
    client = await JanusClient(janus.config.ws_url, janus.config.api_secret).connect()
    try:
        assert await client.create_session()
    finally:
        await client.close()


class _Quiet:
    async def talking(self, user_id: str, talking: bool) -> None:
        pass

    async def feed_up(self, feed: object) -> None:
        pass

    async def relayed(self, user_id: str, feeds: dict[str, int | None]) -> None:
        pass

    async def media_lost(self, user_id: str, what: str) -> None:
        pass


async def test_the_echo_test_answers_and_releases_its_handle(janus: JanusProcess) -> None:
    """The audio check before joining: Janus' EchoTest plugin answers a microphone offer, a
    second check replaces the first, and stopping it frees the handle on the media server."""
    engine = JanusEngine(JanusNode("test", janus.config.ws_url, janus.config.api_secret))
    await engine.start()
    try:
        meeting = await engine.open_meeting("echo", 7101, _Quiet())
        participant = await meeting.participant("u1", "Ana")
        before = await count_handles(janus.config.admin_url, janus.config.admin_secret)
        answer = await participant.start_echo(audio_offer())
        assert answer.startswith("v=0") and "m=audio" in answer
        assert "a=sendrecv" in answer  # the voice comes back
        again = await participant.start_echo(audio_offer())
        assert again.startswith("v=0")
        assert await count_handles(janus.config.admin_url, janus.config.admin_secret) == before + 1
        await participant.stop_echo()
        assert await count_handles(janus.config.admin_url, janus.config.admin_secret) == before
        await participant.close()
    finally:
        await engine.stop()


async def test_captures_go_to_the_folder_sala_names_whatever_janus_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A media node's Janus runs in a working directory of its own: a recorded meeting's
    capture folder, even when configured relative (SALA_DATA_DIR=data), is where the front end
    means it, not somewhere under Janus' working directory."""
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    (tmp_path / "node").mkdir()
    (tmp_path / "front").mkdir()
    monkeypatch.chdir(tmp_path / "node")
    config = loopback_janus_config(tmp_path / "janus")
    janus = JanusProcess(config, tmp_path / "janus.log")
    await janus.start()
    monkeypatch.chdir(tmp_path / "front")
    engine = JanusEngine(JanusNode("test", config.ws_url, config.api_secret))
    await engine.start()
    try:
        raw = Path("data/recordings/m1/raw")
        meeting = await engine.open_meeting("m1", 7102, _Quiet(), raw)
        participant = await meeting.participant("u1", "Ana")
        await participant.join_audio(audio_offer(), muted=False)
        for _ in range(100):
            if list((tmp_path / "front" / raw).glob("voice-u1-*.mjr")):
                break
            await asyncio.sleep(0.05)
        assert list((tmp_path / "front" / raw).glob("voice-u1-*.mjr"))
        assert not (tmp_path / "node" / "data").exists()
        await participant.close()
    finally:
        await engine.stop()
        await janus.stop()

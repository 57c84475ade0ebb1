"""What a media node's agent measures of its Janus (sala/media/load.py), against a real Janus."""

from __future__ import annotations

import asyncio

from sala.media.janus.client import JanusClient
from sala.media.janus.process import JanusProcess
from sala.media.load import LoadMeter


async def test_a_slow_handle_count_never_holds_up_a_sample(janus: JanusProcess) -> None:
    # Each participant has a session, so counting handles is a request per participant: with a
    # big meeting on a busy Janus it takes longer than the heartbeat's TTL. Samples (and so
    # heartbeats) must go on meanwhile, with the last count finished.
    config = janus.config
    clients = []
    for _ in range(3):
        client = await JanusClient(config.ws_url, config.api_secret).connect()
        await client.create_session()
        await client.attach("janus.plugin.audiobridge")
        await client.attach("janus.plugin.videoroom")
        clients.append(client)
    meter = LoadMeter(config.admin_url, config.admin_secret, handles_every=1)
    count_for_real = meter._count_handles
    release = asyncio.Event()

    async def held(admin: JanusClient, sessions: list[int]) -> None:
        await release.wait()
        await count_for_real(admin, sessions)

    meter._count_handles = held  # type: ignore[method-assign]
    pid = janus.pid
    assert pid is not None
    try:
        first = await asyncio.wait_for(meter.sample(pid), 10)
        second = await asyncio.wait_for(meter.sample(pid), 10)
        assert first["sessions"] == second["sessions"] == 3
        assert first["handles"] == second["handles"] == 0  # not counted yet: none waited for it

        release.set()
        for _ in range(100):  # bounded: the count is a few requests on loopback
            third = await meter.sample(pid)
            if third["handles"]:
                break
            await asyncio.sleep(0.05)
        assert third["handles"] == 6
    finally:
        await meter.close()
        for client in clients:
            await client.close()

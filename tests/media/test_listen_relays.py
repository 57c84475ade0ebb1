"""A meeting's listen-only listeners across two media nodes, for real: two Janus servers, each in
a network namespace of its own beside the media agent (tests/support/media_nodes.py), a front
end placing the meeting and seating its listeners, synthetic participants (tests/support/
synthetic) joining through the room's protocol with real WebRTC.

With two listeners per node, a speaker playing a tone and five listeners: the meeting's node
takes two, the other node relays the mix (SRTP from the meeting's node) and takes two, and the
fifth goes back to the meeting's node once both have their share. Everyone hears the speaker;
the same mix sent to the relay as plain RTP reaches nobody.
The relay node's Janus is then killed: its listeners are told to listen again, do, land on the
remaining node and hear the speaker again; getMeetingInfo's listenerCount stays exact.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import sala.services
from sala.clock import Clock
from sala.cluster.directory import LocalDirectory
from sala.cluster.nodes import LocalRegistry
from sala.config import Settings, load_settings
from sala.media.janus.engine import AUDIOBRIDGE, STREAMING, JanusEngine
from sala.media.janus.relay import RELAY_IDS
from sala.media.runtime import MediaRuntime
from tests.room.conftest import RoomServer, serve_room
from tests.support.media_nodes import MediaNodeThread, NodeSettings, start_announced
from tests.support.netns import media_network
from tests.support.synthetic import EncodedClip, SyntheticParticipant, make
from tests.support.synthetic.clips import tone_argv
from tests.xmlutil import parse

API_SECRET = "listen-relays-test-secret"
PER_NODE = 2
LISTENERS = 5
TONE = 600.0
HEARD = 0.03
"""Amplitude (of full scale) above which the tone counts as heard (as in
tests/media/test_synthetic_participants.py: the tone arrives at about 0.3, silence at 0)."""
ADDRESS = "198.18.1.1"
"""The participants' address: the hub's side of node 1, which both nodes reach (the hub routes)."""


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> EncodedClip:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is needed: run scripts/install-test-deps")
    path = tmp_path_factory.mktemp("clips") / "tone.ogg"
    make(tone_argv(path, TONE, seconds=10))
    return EncodedClip.load(path)


@pytest.fixture
def hub() -> Iterator[str]:
    with media_network("the listen relay tests") as address:
        yield address


@pytest.fixture
async def nodes(
    hub: str, tmp_path: Path
) -> AsyncIterator[tuple[LocalRegistry, dict[str, MediaNodeThread]]]:
    registry = LocalRegistry()
    started = [
        MediaNodeThread(NodeSettings(i, tmp_path / f"node{i}", API_SECRET), registry)
        for i in (1, 2)
    ]
    try:
        await start_announced(started, registry)
        yield registry, {node.node_id: node for node in started}
    finally:
        for node in started:
            await node.stop()


@pytest.fixture
def video_codec() -> str:
    """The front end's Settings.video_codec (a test parametrizes it to change it)."""
    return "vp8"


@pytest.fixture
async def server(
    nodes: tuple[LocalRegistry, dict[str, MediaNodeThread]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    video_codec: str,
) -> AsyncIterator[RoomServer]:
    registry, _ = nodes
    directory = LocalDirectory()

    def on_media_nodes(settings: Settings, clock: Clock, **_: object) -> MediaRuntime:
        return MediaRuntime(settings, clock, registry=registry, directory=directory)

    monkeypatch.setattr(sala.services, "MediaRuntime", on_media_nodes)
    settings = load_settings(
        secret="front-end",
        data_dir=tmp_path / "front",
        media=True,
        janus_api_secret=API_SECRET,
        media_listeners_per_node=PER_NODE,
        video_codec=video_codec,
    )
    async with serve_room(settings) as served:
        yield served


async def test_listeners_fill_two_nodes_hear_the_speaker_and_survive_the_relay_node(
    nodes: tuple[LocalRegistry, dict[str, MediaNodeThread]], server: RoomServer, tone: EncodedClip
) -> None:
    registry, by_id = nodes
    announced = {n.node_id: n.media_host for n in await registry.nodes("media")}
    assert announced == {"media-1": "198.18.1.2", "media-2": "198.18.2.2"}
    media_nodes = server.services.media.nodes
    assert media_nodes is not None and media_nodes.listeners_per_node == PER_NODE
    meeting_id = await server.create()
    info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
    internal = str(info.findtext("internalMeetingID"))
    everybody: list[SyntheticParticipant] = []

    async def join(name: str, role: str = "VIEWER") -> SyntheticParticipant:
        participant = await SyntheticParticipant.join(
            server.http, server.base, server.secret, meeting_id, name, role=role, address=ADDRESS
        )
        everybody.append(participant)
        return participant

    async def listener_count() -> str | None:
        info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
        return info.findtext("listenerCount")

    try:
        speaker = await join("Speaker", "MODERATOR")
        await speaker.speak(tone)
        home = media_nodes.node_of(internal)
        assert home is not None
        relay_node = next(n for n in by_id if n != home)
        placed = media_nodes.meeting(internal)
        assert placed is not None
        listeners = [await join(f"Listener {i}") for i in range(LISTENERS)]
        for listener in listeners:  # one after the other: the seating is then predictable
            await listener.listen("stream")

        # Sala's record: two on the meeting's node, two relayed, the fifth back home once
        # both nodes have their share.
        assert placed.relays.seated() == {home: 3, relay_node: 2}
        relayed = placed.relays.listeners(relay_node)
        assert len(relayed) == 2
        # The nodes' own record: each Janus' mountpoint has its viewers.
        number = placed.number
        home_janus, relay_janus = media_nodes.engine(home), media_nodes.engine(relay_node)
        assert (await _mountpoint(home_janus, number))["viewers"] == 3
        relay_mountpoint = await _mountpoint(relay_janus, RELAY_IDS + number)
        assert relay_mountpoint["viewers"] == 2
        # The mix crosses the network as SRTP: the forwarder encrypts, the mountpoint decrypts
        # (and drops whatever is not SRTP with its key).
        assert relay_mountpoint.get("srtp") is True
        forwarders = (
            await home_janus.control(AUDIOBRIDGE, {"request": "listforwarders", "room": number})
        )["rtp_forwarders"]
        crossing = [f for f in forwarders if f["ip"] == "198.18.2.2" or f["ip"] == "198.18.1.2"]
        assert [f.get("srtp") for f in crossing] == [True], forwarders

        await asyncio.gather(*(p.flowing() for p in listeners))
        await asyncio.sleep(2.0)  # the tone fills the last second of every listener's mix
        for listener in listeners:
            report = listener.report([TONE])
            assert report.hearing is not None and report.hearing.tones[TONE] > HEARD, report
        assert await listener_count() == str(LISTENERS)

        # The relay's mountpoint takes SRTP with its key only: the same mix sent there as
        # plain RTP (what anybody on the private network could send) reaches no listener.
        [srtp] = crossing
        on_relay = [p for p in listeners if p.user_id in relayed]
        assert all(n > 25 for n in await _packets_in_a_second(on_relay))  # 50 a second
        await home_janus.stop_forward(number, srtp["stream_id"])
        plain = await home_janus.forward_mix(number, srtp["ip"], srtp["port"])
        await asyncio.sleep(0.2)  # what was on its way
        assert await _packets_in_a_second(on_relay) == [0, 0]
        await home_janus.stop_forward(number, plain)

        # The relay node dies: its listeners (and only they) are told to listen again.
        lost = {p.user_id: p.socket.expect("media.lost") for p in listeners}
        await by_id[relay_node].kill()
        told = await asyncio.wait_for(
            asyncio.gather(*(lost[user] for user in relayed)), timeout=5.0
        )
        assert [message["what"] for message in told] == ["listen", "listen"]
        await asyncio.sleep(0.5)
        assert not any(lost[p.user_id].done() for p in listeners if p.user_id not in relayed)
        assert await listener_count() == str(LISTENERS)  # still listeners while they rejoin
        assert placed.node_id == home  # the meeting itself stays where it was

        again = [p for p in listeners if p.user_id in relayed]
        for listener in again:  # what the browser does on media.lost "listen"
            await listener.listen("stream")
        assert placed.relays.seated() == {home: LISTENERS}
        assert (await _mountpoint(home_janus, number))["viewers"] == LISTENERS
        await asyncio.gather(*(p.flowing() for p in again))
        await asyncio.sleep(2.0)
        for listener in listeners:
            report = listener.report([TONE])
            assert report.hearing is not None and report.hearing.tones[TONE] > HEARD, report
        assert await listener_count() == str(LISTENERS)
        # The forwarder to the dead node is gone; the meeting's own one stays.
        forwarders = (
            await home_janus.control(AUDIOBRIDGE, {"request": "listforwarders", "room": number})
        )["rtp_forwarders"]
        assert [f["ip"] for f in forwarders] == ["127.0.0.1"], forwarders
    finally:
        await asyncio.gather(*(p.close() for p in everybody), return_exceptions=True)
    await server.api("end", meetingID=meeting_id)


async def _packets_in_a_second(listeners: list[SyntheticParticipant]) -> list[int]:
    """How many packets of the mix each of them receives over the next second."""

    def packets() -> list[int]:
        return [p.report(hear=False).mix.packets for p in listeners]  # type: ignore[union-attr]

    before = packets()
    await asyncio.sleep(1.0)
    return [after - start for start, after in zip(before, packets(), strict=True)]


async def _has_mountpoint(engine: JanusEngine, mountpoint: int) -> bool:
    """Whether that Janus still has the mountpoint."""
    listed = (await engine.control(STREAMING, {"request": "list"}))["list"]
    return mountpoint in {m["id"] for m in listed}


async def _mountpoint(engine: JanusEngine, mountpoint: int) -> dict[str, Any]:
    info: dict[str, Any] = (await engine.control(STREAMING, {"request": "info", "id": mountpoint}))[
        "info"
    ]
    return info


async def test_when_the_meetings_own_node_dies_its_relays_go_and_listeners_come_back(
    nodes: tuple[LocalRegistry, dict[str, MediaNodeThread]], server: RoomServer, tone: EncodedClip
) -> None:
    """The meeting's node is killed while another node relays its mix: every participant is
    told (their sessions were on the dead node), the relay on the surviving node goes with its
    source, and the meeting, now on that node, seats its listeners there as they come back."""
    _, by_id = nodes
    media_nodes = server.services.media.nodes
    assert media_nodes is not None
    meeting_id = await server.create()
    internal = str(
        parse(await server.api("getMeetingInfo", meetingID=meeting_id)).findtext(
            "internalMeetingID"
        )
    )
    everybody: list[SyntheticParticipant] = []
    try:
        speaker = await SyntheticParticipant.join(
            server.http, server.base, server.secret, meeting_id, "Speaker",
            role="MODERATOR", address=ADDRESS,
        )  # fmt: skip
        everybody.append(speaker)
        await speaker.speak(tone)
        placed = media_nodes.meeting(internal)
        assert placed is not None and placed.node_id is not None
        home = placed.node_id
        other = next(n for n in by_id if n != home)
        listeners = []
        for i in range(PER_NODE + 1):
            listener = await SyntheticParticipant.join(
                server.http, server.base, server.secret, meeting_id, f"Listener {i}",
                address=ADDRESS,
            )  # fmt: skip
            everybody.append(listener)
            listeners.append(listener)
            await listener.listen("stream")
        assert placed.relays.seated() == {home: PER_NODE, other: 1}
        # The relay goes with its last listener (its forwarder and its mountpoint), and comes
        # back with the next one.
        relayed = listeners[-1]
        await relayed.stop_listening()
        assert placed.relays.seated() == {home: PER_NODE}
        assert not await _has_mountpoint(media_nodes.engine(other), RELAY_IDS + placed.number)
        home_janus = media_nodes.engine(home)
        forwarders = await home_janus.control(
            AUDIOBRIDGE, {"request": "listforwarders", "room": placed.number}
        )
        assert [f["ip"] for f in forwarders["rtp_forwarders"]] == ["127.0.0.1"]
        await relayed.listen("stream")
        assert placed.relays.seated() == {home: PER_NODE, other: 1}
        assert await _has_mountpoint(media_nodes.engine(other), RELAY_IDS + placed.number)

        lost = {p.user_id: p.socket.expect("media.lost") for p in [speaker, *listeners]}
        await by_id[home].kill()
        told = await asyncio.wait_for(asyncio.gather(*lost.values()), timeout=5.0)
        assert {message["what"] for message in told} == {"all"}
        await speaker.speak(tone)  # what the browsers do on media.lost "all"
        for listener in listeners:
            await listener.listen("stream")
        assert placed.node_id == other
        assert placed.relays.seated() == {other: PER_NODE + 1}
        engine = media_nodes.engine(other)
        viewers = await engine.control(STREAMING, {"request": "info", "id": placed.number})
        assert viewers["info"]["viewers"] == PER_NODE + 1
        # The old relay's mountpoint there went with its source (taken down in the background).
        for _ in range(50):
            if not await _has_mountpoint(engine, RELAY_IDS + placed.number):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the dead node's relay is still there")

        await asyncio.gather(*(p.flowing() for p in listeners))
        await asyncio.sleep(2.0)
        for listener in listeners:
            report = listener.report([TONE])
            assert report.hearing is not None and report.hearing.tones[TONE] > HEARD, report
        info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
        assert info.findtext("listenerCount") == str(PER_NODE + 1)
        assert info.findtext("voiceParticipantCount") == "1"
    finally:
        await asyncio.gather(*(p.close() for p in everybody), return_exceptions=True)
    await server.api("end", meetingID=meeting_id)

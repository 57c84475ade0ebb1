"""A lecture's video relayed to another media node, for real: two Janus servers in network
namespaces of their own (the fixtures of tests/media/test_listen_relays.py), synthetic
participants through the room's protocol with real WebRTC.

The presenter speaks and publishes a webcam; with two listeners per node, the third listener is
seated on the other node, whose relay mountpoint carries the mix, the presenter's webcam and
the screen. That listener hears the presenter and sees the webcam through the relay (SRTP from
the meeting's node, one forwarder per feed), never subscribing on the meeting's node; the
screen starts and stops without the listener negotiating again; a new presenter's webcam
replaces the old one's; the forwarders go with the relay. The room tells that listener which
feeds its stream carries (`relayed` in `media.listen.offer`, then `media.listen.relayed`), so
its page shows them from the stream instead of subscribing. The relay's webcam stream takes
simulcast layers; a single-layer webcam (these participants publish one) keeps one forwarder, and
a layer choice for it (`media.listen.layer`) changes nothing. Several layers, each listener
getting its own: tests/e2e/test_video_relays_browser.py (aiortc sends no simulcast).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sala.media.janus.engine import STREAMING, VIDEOROOM, JanusEngine
from sala.media.janus.relay import RELAY_IDS
from sala.media.nodes import PlacedMeeting
from tests.media.test_listen_relays import (  # noqa: F401 (fixtures)
    ADDRESS,
    HEARD,
    PER_NODE,
    TONE,
    hub,
    nodes,
    server,
    tone,
    video_codec,
)
from tests.room.conftest import RoomServer
from tests.support.media_nodes import MediaNodeThread
from tests.support.synthetic import EncodedClip, SyntheticParticipant, make
from tests.support.synthetic.clips import camera_argv
from tests.xmlutil import parse

SIZES = {"camera": (320, 240), "other camera": (160, 120), "screen": (480, 272)}
"""Each clip's picture size: which feed a stream carries shows in its keyframes."""


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EncodedClip]:
    folder = tmp_path_factory.mktemp("video-clips")
    made = {}
    for name, (width, height) in SIZES.items():
        path = folder / f"{name.replace(' ', '-')}.ivf"
        make(camera_argv(path, seconds=4, size=f"{width}x{height}"))
        made[name] = EncodedClip.load(path)
    return made


@dataclass
class Lecture:
    """A meeting on one node with a presenter speaking and a listener seated on the other."""

    server: RoomServer
    meeting_id: str
    placed: PlacedMeeting
    home_janus: JanusEngine
    relay_janus: JanusEngine
    presenter: SyntheticParticipant
    relayed: SyntheticParticipant
    listeners: list[SyntheticParticipant]
    everybody: list[SyntheticParticipant] = field(default_factory=list)

    async def join(self, name: str, role: str = "VIEWER") -> SyntheticParticipant:
        participant = await SyntheticParticipant.join(
            self.server.http, self.server.base, self.server.secret, self.meeting_id, name,
            role=role, address=ADDRESS,
        )  # fmt: skip
        self.everybody.append(participant)
        return participant

    async def forwarders(self) -> dict[int, list[dict[str, Any]]]:
        """Feed -> its RTP forwarders, as the meeting's VideoRoom lists them."""
        return await _video_forwarders(self.home_janus, self.placed.number)


@pytest.fixture
async def lecture(
    request: pytest.FixtureRequest,
    nodes: tuple[Any, dict[str, MediaNodeThread]],  # noqa: F811 (the imported fixture)
    server: RoomServer,  # noqa: F811
    tone: EncodedClip,  # noqa: F811
) -> AsyncIterator[Lecture]:
    """The meeting is created with the test's parameters, if any (indirect)."""
    media_nodes = server.services.media.nodes
    assert media_nodes is not None
    meeting_id = await server.create(**getattr(request, "param", {}))
    info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
    everybody: list[SyntheticParticipant] = []
    try:
        presenter = await SyntheticParticipant.join(
            server.http,
            server.base,
            server.secret,
            meeting_id,
            "Presenter",
            role="MODERATOR",
            address=ADDRESS,
        )  # fmt: skip  (the first moderator presents)
        everybody.append(presenter)
        await presenter.speak(tone)
        placed = media_nodes.meeting(str(info.findtext("internalMeetingID")))
        assert placed is not None and placed.node_id is not None
        home = placed.node_id
        listeners = []
        for i in range(PER_NODE + 1):  # the last one is seated on the other node
            listener = await SyntheticParticipant.join(
                server.http, server.base, server.secret, meeting_id, f"Listener {i}",
                address=ADDRESS,
            )  # fmt: skip
            everybody.append(listener)
            listeners.append(listener)
            await listener.listen("stream")
        relay_node = next(n for n in placed.relays.seated() if n != home)
        [relayed] = [p for p in listeners if p.user_id in placed.relays.listeners(relay_node)]
        yield Lecture(
            server, meeting_id, placed, media_nodes.engine(home),
            media_nodes.engine(relay_node), presenter, relayed, listeners, everybody,
        )  # fmt: skip
    finally:
        await asyncio.gather(*(p.close() for p in everybody), return_exceptions=True)
    await server.api("end", meetingID=meeting_id)


async def test_a_relayed_listener_sees_the_presenters_webcam_through_the_relay(
    lecture: Lecture, clips: dict[str, EncodedClip]
) -> None:
    relayed = lecture.relayed
    mountpoint = RELAY_IDS + lecture.placed.number
    # The relay's stream declares its video up front: no feed is published yet.
    described = await _mountpoint(lecture.relay_janus, mountpoint)
    assert [(m["type"], m["mid"]) for m in described["media"]] == [
        ("audio", "a"), ("video", "camera"), ("video", "screen"),
    ], described  # fmt: skip
    assert described["srtp"] is True
    # The webcam's stream takes simulcast layers (a port each); the screen's is one layer.
    assert [m.get("videosimulcast", False) for m in described["media"]] == [False, True, False]

    # The offer told the relayed listener its stream carries video, and no feed yet; the
    # listeners on the meeting's own node were told nothing (their stream is the mix alone).
    assert relayed.relayed == {"camera": None, "screen": None}
    assert [p.relayed for p in lecture.listeners if p is not relayed] == [None] * PER_NODE

    # The webcam starts after the listeners: a forwarder to the relay follows it, and the
    # listener is told its stream carries that feed (its page shows it, no subscription).
    camera = await lecture.presenter.publish(clips["camera"], "camera")
    await relayed.carrying(camera=camera, screen=None)
    seen = await relayed.seeing("camera", frames=15)
    assert (seen.width, seen.height) == SIZES["camera"], seen
    forwarders = await lecture.forwarders()
    assert list(forwarders) == [camera], forwarders
    [forwarder] = forwarders[camera]  # a single-layer webcam: one forwarder, one port
    # The relay's webcam stream is simulcast all the same: a layer choice for a single-layer
    # webcam is taken and changes nothing, Streaming falling back to the one layer sent.
    for substream in (2, 0):
        answer = await relayed.socket.request(
            {"type": "media.listen.layer", "feed": camera, "substream": substream}
        )
        assert answer["type"] == "media.ok", answer
    seen = await relayed.seeing("camera", frames=15)
    assert (seen.width, seen.height) == SIZES["camera"], seen
    # SRTP towards the relay node, and the mountpoint's keyframe requests come back to it.
    assert forwarder["srtp"] is True and forwarder["host"] != "127.0.0.1", forwarder
    assert forwarder.get("remote_rtcp_port"), forwarder
    # The listener subscribes to nothing on the meeting's node: the webcam came through its
    # listen-only stream on the relay node, and the mix is still heard there.
    on_home = (await lecture.placed.bound()).participants[relayed.user_id]
    assert on_home._subscriptions == {}
    report = relayed.report([TONE])
    assert report.videos == {}
    assert report.hearing is not None and report.hearing.tones[TONE] > HEARD, report

    # The relay goes with its last listener: its forwarders too.
    await relayed.stop_listening()
    assert await lecture.forwarders() == {}


async def test_the_screen_and_a_new_presenters_webcam_follow_without_renegotiating(
    lecture: Lecture, clips: dict[str, EncodedClip]
) -> None:
    relayed = lecture.relayed
    camera = await lecture.presenter.publish(clips["camera"], "camera")
    await relayed.seeing("camera", frames=1)

    # A screen starts, and later stops, with no new negotiation for the listener, who is told
    # each time what the stream carries.
    screen = await lecture.presenter.publish(clips["screen"], "screen")
    await relayed.carrying(camera=camera, screen=screen)
    seen = await relayed.seeing("screen", frames=15)
    assert (seen.width, seen.height) == SIZES["screen"], seen
    assert set(await lecture.forwarders()) == {camera, screen}
    await lecture.presenter.socket.request({"type": "media.unpublish", "kind": "screen"})
    assert list(await lecture.forwarders()) == [camera]
    await relayed.carrying(camera=camera, screen=None)
    await asyncio.sleep(0.3)  # what was on its way
    before = relayed.report(hear=False).relayed["screen"].frames
    await relayed.seeing("camera", frames=15)  # a second of webcam, and no screen
    assert relayed.report(hear=False).relayed["screen"].frames == before

    # A new presenter: the relay carries their webcam instead.
    other = await lecture.join("Other", "MODERATOR")
    other_camera = await other.publish(clips["other camera"], "camera")
    assert list(await lecture.forwarders()) == [camera]
    await lecture.presenter.socket.send({"type": "user.presenter", "user": other.user_id})
    for _ in range(50):
        if list(await lecture.forwarders()) == [other_camera]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the new presenter's webcam is not relayed")
    await relayed.carrying(camera=other_camera, screen=None)
    for _ in range(50):
        seen = await relayed.seeing("camera", frames=1)
        if (seen.width, seen.height) == SIZES["other camera"]:
            break
    assert (seen.width, seen.height) == SIZES["other camera"], seen
    assert relayed.report([TONE]).hearing.tones[TONE] > HEARD  # type: ignore[union-attr]

    # An older page that subscribes anyway is not refused (it ignores `relayed`).
    offer = await relayed.socket.request({"type": "media.subscribe", "feed": other_camera})
    assert offer["type"] == "media.offer", offer


@pytest.mark.parametrize("lecture", [{"webcamsOnlyForModerator": "true"}], indirect=True)
async def test_a_viewers_webcam_is_not_relayed_when_only_moderators_webcams_are_seen(
    lecture: Lecture, clips: dict[str, EncodedClip]
) -> None:
    relayed = lecture.relayed
    # A viewer with a webcam becomes presenter: viewers may not see that webcam, and a relay's
    # stream goes to every listener there alike, so it is not relayed; the screen is.
    vic = await lecture.join("Vic")
    vic_camera = await vic.publish(clips["other camera"], "camera")
    await lecture.presenter.socket.send({"type": "user.presenter", "user": vic.user_id})
    for _ in range(50):  # only the presenter may share a screen
        if vic.socket.users.get(vic.user_id, {}).get("presenter"):
            break
        await asyncio.sleep(0.1)
    screen = await vic.publish(clips["screen"], "screen")
    await relayed.carrying(camera=None, screen=screen)
    assert list(await lecture.forwarders()) == [screen]

    # Made a moderator, the presenter's webcam is relayed.
    await lecture.presenter.socket.send(
        {"type": "user.role", "user": vic.user_id, "role": "MODERATOR"}
    )
    await relayed.carrying(camera=vic_camera, screen=screen)
    seen = await relayed.seeing("camera", frames=30)  # a keyframe (one a second) tells the size
    assert (seen.width, seen.height) == SIZES["other camera"], seen


async def test_listeners_counted_at_their_socket_count_each_relayed_stream_apart(
    lecture: Lecture, clips: dict[str, EncodedClip]
) -> None:
    """A benchmark's cheap listeners (bench/lecture_nodes.py --camera) count what reaches
    their ICE socket, unread by aiortc: the relay's webcam and screen beside the mix on one
    connection, each by its payload type, and a webcam subscribed on the meeting's node."""
    presenter = lecture.presenter
    counted = await lecture.join("Counted")
    await counted.listen("stream", at_socket=True)  # the relay node's second listener
    assert counted.relayed == {"camera": None, "screen": None}
    [home_listener, *_] = [p for p in lecture.listeners if p is not lecture.relayed]
    camera = await presenter.publish(clips["camera"], "camera")
    await counted.carrying(camera=camera, screen=None)
    await home_listener.subscribe(camera, at_socket=True)
    screen = await presenter.publish(clips["screen"], "screen")
    await counted.carrying(camera=camera, screen=screen)
    await counted.seeing("screen", frames=5)
    await home_listener.flowing()

    def counts() -> tuple[dict[str, int], dict[str, int], int, int]:
        sent = presenter.report(hear=False).sent_rtp
        report = counted.report(hear=False)
        assert report.hearing is None  # counted at the socket: nothing to hear
        got = {kind: report.relayed[kind].packets for kind in ("camera", "screen")}
        assert report.mix is not None
        return sent, got, report.mix.packets, home_listener.report().videos[camera].packets

    sent0, got0, mix0, home0 = counts()
    await asyncio.sleep(3.0)
    sent1, got1, mix1, home1 = counts()
    # Each stream's packets on its own count, as many as the presenter sent of that stream
    # (a misrouted stream would double one count and empty the other).
    for kind in ("camera", "screen"):
        sent, got = sent1[kind] - sent0[kind], got1[kind] - got0[kind]
        assert sent > 30 and abs(got - sent) <= 0.15 * sent, (kind, sent, got)
    assert abs((home1 - home0) - (sent1["camera"] - sent0["camera"])) <= 0.15 * (
        sent1["camera"] - sent0["camera"]
    ), (home0, home1, sent0, sent1)
    assert mix1 - mix0 >= 0.8 * 3.0 * 50, (mix0, mix1)  # the mix: 50 packets a second
    report = counted.report(hear=False)
    assert report.relayed["camera"].lost == report.relayed["screen"].lost == 0, report
    assert report.relayed["camera"].frames > 15, report  # marker bits, also in clear


async def _mountpoint(engine: JanusEngine, mountpoint: int) -> dict[str, Any]:
    answer = await engine.control(STREAMING, {"request": "info", "id": mountpoint})
    info: dict[str, Any] = answer["info"]
    return info


async def _video_forwarders(engine: JanusEngine, room: int) -> dict[int, list[dict[str, Any]]]:
    answer = await engine.control(VIDEOROOM, {"request": "listforwarders", "room": room})
    return {
        int(p["publisher_id"]): p["forwarders"]
        for p in answer.get("publishers", [])
        if p.get("forwarders")
    }

"""Media on several nodes, for real: three Janus servers, each in a network namespace of its own
and supervised by the media agent, heartbeating into the registry; a front end's MediaRuntime
placing meetings on them and moving meetings off a node that dies.

Most offers are written by hand (tests/media/sdp.py): Janus answers them, no media flows. Which
node answered shows in the answer: its ICE candidate carries the node's own address. The last
two tests have Chromium participants whose media really flows to the node, across namespaces;
the very last records the meeting and checks the MP4 the pipeline makes of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

import sala.services
from sala.clock import Clock, SystemClock
from sala.cluster.directory import LocalDirectory
from sala.cluster.nodes import LocalRegistry
from sala.config import Settings, load_settings
from sala.events.types import RECORDING_STARTED
from sala.media.agent import run_media_node
from sala.media.engine import Feed, FeedKind, MediaError
from sala.media.nodes import MediaNodes, PlacedMeeting
from sala.media.runtime import MediaRuntime
from sala.recordings.capture import CaptureFile, parse_capture_name
from sala.recordings.formats.video import BACKGROUND, COLUMN, HEIGHT, SLOTS, WIDTH
from tests.conftest import LiveServer
from tests.e2e.conftest import AUDIO, CHROMIUM, HAVE_CHROMIUM, MEDIA_ARGS, WEBCAM, enter, stats
from tests.media.sdp import answer_to, audio_offer, video_offer
from tests.room.conftest import RoomClient, RoomServer, serve_room
from tests.support.media_nodes import MediaNodeThread, NodeSettings
from tests.support.netns import media_network
from tests.xmlutil import parse

API_SECRET = "media-nodes-test-secret"
DEAD_WITHIN_S = 5.0


@pytest.fixture
def hub() -> Iterator[str]:
    """This test's thread in a private network namespace: the front end's side."""
    with media_network("the media node tests") as address:
        yield address


@pytest.fixture
async def registry(hub: str) -> LocalRegistry:
    return LocalRegistry()


@pytest.fixture
async def nodes(registry: LocalRegistry, tmp_path: Path) -> AsyncIterator[list[MediaNodeThread]]:
    started: list[MediaNodeThread] = []
    try:
        for index in (1, 2, 3):
            node = MediaNodeThread(
                NodeSettings(index, tmp_path / f"node{index}", API_SECRET), registry
            )
            started.append(node)
        await asyncio.gather(*(node.start() for node in started))
        yield started
    finally:
        for node in started:
            await node.stop()


@pytest.fixture
async def front_end(
    registry: LocalRegistry, nodes: list[MediaNodeThread], tmp_path: Path
) -> AsyncIterator[MediaNodes]:
    settings = load_settings(
        secret="front-end", data_dir=tmp_path / "front", media=True, janus_api_secret=API_SECRET
    )
    runtime = MediaRuntime(settings, SystemClock(), registry=registry, directory=LocalDirectory())
    assert runtime.nodes is not None and runtime.process is None  # it starts no Janus itself
    await eventually("every node announced", lambda: _announced(registry, 3))
    await runtime.start()
    yield runtime.nodes
    await runtime.stop()


class Listener:
    """What the room hears from the engine."""

    def __init__(self) -> None:
        self.lost: list[tuple[str, str]] = []
        self.changed = asyncio.Event()

    async def talking(self, user_id: str, talking: bool) -> None:
        pass

    async def feed_up(self, feed: Feed) -> None:
        pass

    async def relayed(self, user_id: str, feeds: dict[str, int | None]) -> None:
        pass

    async def media_lost(self, user_id: str, what: str) -> None:
        self.lost.append((user_id, what))
        self.changed.set()


async def eventually(what: str, check: object, within: float = 10.0) -> float:
    """Wait until `check()` (async, returning bool) holds; returns how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await check():  # type: ignore[operator]
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within} s: {what}")


async def _announced(registry: LocalRegistry, n: int) -> bool:
    return len(await registry.nodes("media")) == n


def node_address(nodes: list[MediaNodeThread], node_id: str) -> str:
    return next(n.node.address for n in nodes if n.node_id == node_id)


async def test_meetings_spread_and_leave_a_dead_node(
    registry: LocalRegistry, nodes: list[MediaNodeThread], front_end: MediaNodes
) -> None:
    by_id = {n.node_id: n for n in nodes}
    listener = Listener()

    # A burst of first media uses spreads over the three idle nodes.
    meetings: dict[str, PlacedMeeting] = {}
    for i in range(6):
        meetings[f"m{i}"] = await front_end.open_meeting(f"m{i}", 72000 + i, listener)
    assert Counter(m.node_id for m in meetings.values()) == Counter(
        {"media-1": 2, "media-2": 2, "media-3": 2}
    )

    # Two participants in one meeting: audio and a webcam, answered by that meeting's node.
    meeting = meetings["m0"]
    first = meeting.node_id
    assert first is not None
    ada = await meeting.participant("ada", "Ada")
    bea = await meeting.participant("bea", "Bea")
    answer = await ada.join_audio(audio_offer(), muted=False)
    assert node_address(nodes, first) in answer
    await bea.join_audio(audio_offer(), muted=False)
    assert node_address(nodes, first) in await bea.publish(
        Feed(1, "bea", FeedKind.CAMERA), video_offer()
    )

    # The agent measures what its Janus carries, and says so in its heartbeat.
    async def reports_participants() -> bool:
        load = next(n for n in await registry.nodes("media") if n.node_id == first).load
        return load["sessions"] >= 3 and load["handles"] >= 5 and load["rooms"] == 1

    await eventually("the node's load reported", reports_participants, within=8)
    load = next(n for n in await registry.nodes("media") if n.node_id == first).load
    assert {"cpu", "cores", "bitrate_kbps", "sessions", "handles", "rooms"} <= set(load)

    # The node dies (its Janus killed with SIGKILL, its agent with it).
    await by_id[first].kill()
    died = time.monotonic()
    await eventually("both participants told", lambda: _told(listener, {"ada", "bea"}), 5)
    await eventually("m0 moved", lambda: _moved(front_end, "m0", first), 5)
    second = meeting.node_id
    assert second is not None and second != first
    gone = await eventually("the dead node left the registry", lambda: _gone(registry, first))
    assert time.monotonic() - died <= DEAD_WITHIN_S, f"noticed after {gone:.1f} s"
    # Its other meeting moved too; nothing is left on the dead node.
    assert first not in {m.node_id for m in meetings.values()}

    # The browsers negotiate again, now with the new node.
    ada = await meeting.participant("ada", "Ada")
    assert node_address(nodes, second) in await ada.join_audio(audio_offer(), muted=False)
    bea = await meeting.participant("bea", "Bea")
    assert node_address(nodes, second) in await bea.publish(
        Feed(2, "bea", FeedKind.CAMERA), video_offer()
    )

    # A node that stops heartbeating while its Janus still runs (a hung agent, a partition) is
    # noticed through the registry alone: its meetings move, and its participants are told
    # although their connections to it are still open.
    listener.lost.clear()
    await by_id[second].freeze()
    frozen = time.monotonic()
    await eventually("the frozen node's participants told", lambda: _told(listener, {"ada"}))
    assert time.monotonic() - frozen <= DEAD_WITHIN_S
    third = meeting.node_id
    assert third not in (None, first, second)
    ada = await meeting.participant("ada", "Ada")
    assert node_address(nodes, third) in await ada.join_audio(audio_offer(), muted=False)

    for placed in meetings.values():
        await placed.close()


async def test_a_draining_node_keeps_its_meetings_and_takes_no_new_ones(
    registry: LocalRegistry, nodes: list[MediaNodeThread], front_end: MediaNodes
) -> None:
    listener = Listener()
    before = await front_end.open_meeting("kept", 73000, listener)
    draining = before.node_id
    assert draining is not None
    await registry.set_draining(draining, True)
    await front_end.refresh()
    placed = [await front_end.open_meeting(f"new{i}", 73001 + i, listener) for i in range(4)]
    assert draining not in {m.node_id for m in placed}
    # The meeting already there stays (its participants are not disturbed)...
    ada = await before.participant("ada", "Ada")
    assert node_address(nodes, draining) in await ada.join_audio(audio_offer(), muted=False)
    assert before.node_id == draining and listener.lost == []
    # ...and when its media closes, its lease goes with it.
    await before.close()
    for meeting in placed:
        await meeting.close()
    with pytest.raises(MediaError):
        await before.mute("ada", True)


async def test_the_room_has_the_browser_negotiate_again_on_the_new_node(
    registry: LocalRegistry,
    nodes: list[MediaNodeThread],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole path over the room's protocol: the participants' clients hear media.lost when
    the meeting's node dies, offer again (or, for the listen-only stream, start it again), and
    are answered by another node."""
    directory = LocalDirectory()

    def on_media_nodes(settings: Settings, clock: Clock, **_: object) -> MediaRuntime:
        return MediaRuntime(settings, clock, registry=registry, directory=directory)

    monkeypatch.setattr(sala.services, "MediaRuntime", on_media_nodes)
    await eventually("every node announced", lambda: _announced(registry, 3))
    settings = load_settings(
        secret="front-end", data_dir=tmp_path / "front", media=True, janus_api_secret=API_SECRET
    )
    async with serve_room(settings) as server:
        media_nodes = server.services.media.nodes
        assert media_nodes is not None
        meeting_id = await server.create()
        info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
        internal = str(info.findtext("internalMeetingID"))
        ada = await server.joined(meeting_id, "Ada", "MODERATOR")
        bea = await server.joined(meeting_id, "Bea")

        answer = await _join_audio(ada, "a1")
        first = media_nodes.node_of(internal)
        assert first is not None and node_address(nodes, first) in answer["sdp"]
        assert node_address(nodes, first) in (await _listen(bea, "b1"))["sdp"]

        await next(n for n in nodes if n.node_id == first).kill()
        assert (await ada.expect("media.lost", within=DEAD_WITHIN_S))["what"] == "all"
        assert (await bea.expect("media.lost", within=DEAD_WITHIN_S))["what"] == "all"
        again = await _join_audio(ada, "a2")  # what the browser does on media.lost
        second = media_nodes.node_of(internal)
        assert second not in (None, first)
        assert node_address(nodes, second) in again["sdp"]
        assert node_address(nodes, second) in (await _listen(bea, "b2"))["sdp"]
        info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
        assert info.findtext("voiceParticipantCount") == "1"
        assert info.findtext("listenerCount") == "1"
        await server.api("end", meetingID=meeting_id)


@contextlib.asynccontextmanager
async def front_end_and_browser(
    registry: LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[RoomServer, LiveServer, Browser]]:
    """A front end placing meetings on the test's media nodes, and a Chromium with fake devices
    that reaches them across the namespaces."""
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed: run scripts/install-test-deps")
    directory = LocalDirectory()

    def on_media_nodes(settings: Settings, clock: Clock, **_: object) -> MediaRuntime:
        return MediaRuntime(settings, clock, registry=registry, directory=directory)

    monkeypatch.setattr(sala.services, "MediaRuntime", on_media_nodes)
    await eventually("every node announced", lambda: _announced(registry, 3))
    settings = load_settings(
        secret="front-end", data_dir=tmp_path / "front", media=True, janus_api_secret=API_SECRET
    )
    async with serve_room(settings) as server, async_playwright() as playwright:
        live = LiveServer(
            f"{server.base}/bigbluebutton/",
            f"{server.base}/bigbluebutton/api/",
            server.secret,
            tmp_path,
            os.getpid(),
        )
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *MEDIA_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
        )
        try:
            yield server, live, browser
        finally:
            if browser.is_connected():  # the test may close it itself before ending the meeting
                await browser.close()


async def test_browsers_media_flows_again_after_their_node_dies(
    registry: LocalRegistry,
    nodes: list[MediaNodeThread],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two Chromium participants, real ICE to the meeting's node across namespaces: the node
    is killed, and within 10 s Bea sees Ada's webcam and hears the meeting again, now carried
    by another node."""
    async with front_end_and_browser(registry, tmp_path, monkeypatch) as (server, live, browser):
        media_nodes = server.services.media.nodes
        assert media_nodes is not None
        meeting_id = await server.create()
        info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
        internal = str(info.findtext("internalMeetingID"))
        try:
            ada = await enter(browser, live, meeting_id, "Ada", "MODERATOR", **AUDIO, **WEBCAM)
            bea = await enter(browser, live, meeting_id, "Bea", "VIEWER", **AUDIO)
            await eventually("Bea sees and hears Ada", lambda: _flowing(bea), within=20)
            first = media_nodes.node_of(internal)
            assert first is not None
            old_feeds = _camera_feeds(await stats(bea))

            await next(n for n in nodes if n.node_id == first).kill()
            took = await eventually(
                "media flowing again on another node",
                lambda: _flowing(bea, not_feeds=old_feeds),
                within=10,
            )
            second = media_nodes.node_of(internal)
            assert second not in (None, first)
            print(f"media flowed again {took:.1f} s after the node died")
            assert await _flowing(ada, audio_only=True)
        finally:
            await browser.close()
        await server.api("end", meetingID=meeting_id)


def _camera_feeds(s: dict[str, object]) -> set[str]:
    feeds = s.get("feeds") or {}
    assert isinstance(feeds, dict)
    return {k for k, f in feeds.items() if f.get("kind") == "camera"}


async def _flowing(
    page: Page, *, not_feeds: Collection[str] = (), audio_only: bool = False
) -> bool:
    """Audio bytes arrive and (unless `audio_only`) frames of a camera feed not in
    `not_feeds` are decoded, over half a second."""

    def sample(s: dict[str, object]) -> tuple[float, float]:
        audio = s.get("audio") or {}
        assert isinstance(audio, dict)
        feeds = s.get("feeds") or {}
        assert isinstance(feeds, dict)
        frames = sum(
            float(f.get("framesDecoded") or 0)
            for k, f in feeds.items()
            if f.get("kind") == "camera" and k not in not_feeds
        )
        return float(audio.get("bytesIn") or 0), frames

    try:
        before = sample(await stats(page))
        await asyncio.sleep(0.5)
        after = sample(await stats(page))
    except Exception:
        return False
    return after[0] > before[0] and (audio_only or after[1] > before[1])


async def _listen(client: RoomClient, ref: str) -> dict[str, Any]:
    """Listen-only through the meeting's forwarded mix; returns the media server's offer."""
    await client.send({"type": "media.listen.start", "ref": ref})
    offer = await client.expect_reply(ref)
    assert offer["type"] == "media.listen.offer", offer
    await client.send({"type": "media.listen.answer", "sdp": answer_to(offer["sdp"]), "ref": ref})
    assert (await client.expect_reply(ref))["type"] == "media.listen.started"
    return offer


async def _join_audio(client: RoomClient, ref: str) -> dict[str, object]:
    await client.send(
        {"type": "media.audio.join", "sdp": audio_offer(), "listenOnly": False, "ref": ref}
    )
    reply = await client.expect_reply(ref)
    assert reply["type"] == "media.audio.answer", reply
    return reply


async def test_a_media_node_that_stops_leaves_the_registry_at_once(tmp_path: Path) -> None:
    """`sala serve --role media`'s body: it announces itself within a second, and on stop leaves
    the registry at once (front ends move its meetings now, not after the TTL) and Janus ends."""
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    registry = LocalRegistry()
    settings = load_settings(
        secret="media-node", data_dir=tmp_path / "node", janus_api_secret=API_SECRET
    )
    stop = asyncio.Event()
    node = asyncio.create_task(run_media_node(settings, registry, "media-9", stop))
    pidfile = tmp_path / "node" / "janus" / "janus.pid"
    try:
        await eventually("announced", lambda: _announced(registry, 1))
        [info] = await registry.nodes("media")
        assert info.node_id == "media-9" and info.url.startswith("ws://127.0.0.1:")
        janus = json.loads(await asyncio.to_thread(pidfile.read_text))["janus"]["pid"]
    finally:
        stop.set()
        await asyncio.wait_for(node, 15)
    assert await registry.nodes("media") == []
    assert not await asyncio.to_thread(Path(f"/proc/{janus}").exists)


async def _told(listener: Listener, users: set[str]) -> bool:
    return users <= {user for user, what in listener.lost if what == "all"}


async def _moved(front_end: MediaNodes, meeting_id: str, old: str) -> bool:
    node = front_end.node_of(meeting_id)
    return node is not None and node != old


async def _gone(registry: LocalRegistry, node_id: str) -> bool:
    return node_id not in {n.node_id for n in await registry.nodes("media")}


LISTEN_ONLY = {"userdata-bbb_force_listen_only": "true"}


async def test_a_recording_of_a_meeting_whose_node_died_has_media_from_both_nodes(
    registry: LocalRegistry,
    nodes: list[MediaNodeThread],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A recorded meeting: Ada speaks with her webcam on, Bea listens. Its node is killed
    while recording; media flows again on another node, and the MP4 the pipeline makes shows
    Ada's webcam and carries her voice before the kill and after the renegotiation, from
    captures that each node's Janus wrote into the shared recordings folder."""
    by_id = {n.node_id: n for n in nodes}
    async with front_end_and_browser(registry, tmp_path, monkeypatch) as (server, live, browser):
        settings = server.services.settings
        media_nodes = server.services.media.nodes
        assert media_nodes is not None
        meeting_id = await server.create(record="true")
        info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
        internal = str(info.findtext("internalMeetingID"))
        raw = settings.recordings_root / internal / "raw"
        try:
            ada = await enter(browser, live, meeting_id, "Ada", "MODERATOR", **AUDIO, **WEBCAM)
            bea = await enter(browser, live, meeting_id, "Bea", "VIEWER", **LISTEN_ONLY)
            await eventually("Bea sees and hears Ada", lambda: _flowing(bea), within=20)
            await ada.click("#record")
            await bea.wait_for_selector("#recording:not([hidden])", timeout=10_000)
            first = media_nodes.node_of(internal)
            assert first is not None
            await asyncio.sleep(5)
            before = _captures_open(by_id[first].janus_pid, raw)
            old_feeds = _camera_feeds(await stats(bea))

            await by_id[first].kill()
            killed_ms = time.time_ns() // 10**6
            took = await eventually(
                "media flowing again on another node",
                lambda: _flowing(bea, not_feeds=old_feeds),
                within=10,
            )
            back_ms = time.time_ns() // 10**6
            print(f"media flowed again {took:.1f} s after the node died")
            second = media_nodes.node_of(internal)
            assert second not in (None, first)
            await asyncio.sleep(6)
            after = _captures_open(by_id[str(second)].janus_pid, raw)
        finally:
            await browser.close()
        assert "SUCCESS" in await server.api("end", meetingID=meeting_id)

        state = "none"
        for _ in range(360):
            answer = parse(await server.api("getRecordings", meetingID=meeting_id, state="any"))
            state = str(answer.findtext("recordings/recording/state"))
            if state in ("published", "failed"):
                break
            await asyncio.sleep(0.5)
        assert state == "published", state

    # Each node's Janus wrote Ada's voice and webcam into the shared folder, and kept them.
    archived = json.loads((raw / "meeting.json").read_text())
    ada_id = next(user for user, name in archived["names"].items() if name == "Ada")
    for captured in (before, after):
        assert {(c.kind, c.user_id) for c in captured} >= {("voice", ada_id), ("camera", ada_id)}
        assert all(c.path.exists() for c in captured)
    assert not {c.path for c in before} & {c.path for c in after}

    # The MP4, as a viewer sees it: Ada's webcam in the column and her voice, both before the
    # kill and after the renegotiation (recording time counts from the recording's start).
    started_ms = next(e["ts"] for e in archived["events"] if e["type"] == RECORDING_STARTED)
    mp4 = settings.recordings_root / internal / "video" / "video.mp4"
    length_s = float(
        json.loads(await _run("ffprobe", "-v", "error", "-show_format", "-of", "json", str(mp4)))[
            "format"
        ]["duration"]
    )
    windows = {
        "before the kill": (1.0, (killed_ms - started_ms) / 1000 - 0.5),
        "after the renegotiation": ((back_ms - started_ms) / 1000 + 0.5, length_s - 0.5),
    }
    for name, (begin, end) in windows.items():
        assert end - begin >= 2.0, f"{name}: window too short ({begin:.1f}-{end:.1f} s)"
        loudest = await _loudest_db(mp4, begin, end)
        print(f"{name}: {begin:.1f}-{end:.1f} s of {length_s:.1f} s, loudest {loudest} dB")
        assert loudest > -40, f"no voice {name} ({begin:.1f}-{end:.1f} s): {loudest} dB"
        for moment in (begin, (begin + end) / 2, end):
            shown = await _webcam_shown(mp4, moment)
            print(f"  webcam at {moment:.1f} s: {shown:.0%} of its slot")
            assert shown > 0.5, f"no webcam {name} at {moment:.1f} s ({shown:.0%} of the slot)"


def _captures_open(pid: int | None, raw: Path) -> list[CaptureFile]:
    """The captures a Janus has open for writing in `raw` (read from /proc: which process
    writes which file)."""
    assert pid is not None
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = Path(os.readlink(fd))
            if target.parent == raw and (capture := parse_capture_name(target)) is not None:
                found.append(capture)
    return found


async def _run(*argv: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode(errors="replace")
    return (out + err).decode(errors="replace")


async def _loudest_db(mp4: Path, begin: float, end: float) -> float:
    """The loudest sample of the MP4's sound between `begin` and `end` (dBFS)."""
    text = await _run(
        "ffmpeg", "-nostdin", "-hide_banner", "-ss", f"{begin:.3f}", "-t", f"{end - begin:.3f}",
        "-i", str(mp4), "-vn", "-af", "volumedetect", "-f", "null", "-",
    )  # fmt: skip
    found = re.search(r"max_volume: (-?[\d.]+|-inf) dB", text)
    assert found is not None, text
    return -200.0 if found[1] == "-inf" else float(found[1])


async def _webcam_shown(mp4: Path, moment: float) -> float:
    """How much of the first webcam slot (the column's top) is picture, at `moment`: the
    share of its pixels that are neither the layout's background nor black."""
    width, height = COLUMN, HEIGHT // SLOTS
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-ss", f"{moment:.3f}",
        "-i", str(mp4), "-frames:v", "1", "-vf", f"crop={width}:{height}:{WIDTH - COLUMN}:0",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    pixels, _ = await asyncio.wait_for(process.communicate(), 60)
    assert len(pixels) == width * height * 3, f"no frame at {moment:.1f} s"
    picture = 0
    for i in range(0, len(pixels), 3):
        rgb = pixels[i : i + 3]
        plain = (sum(abs(a - b) for a, b in zip(rgb, BACKGROUND, strict=True)) < 30) or sum(
            rgb
        ) < 30
        picture += not plain
    return picture / (width * height)

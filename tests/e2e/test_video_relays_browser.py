"""A relayed listener's browser shows the lecture from its listen-only stream, in real Chromium.

Two real Janus nodes in network namespaces of their own (the fixtures of
tests/media/test_listen_relays.py); a synthetic presenter speaks and publishes a webcam, two
synthetic listeners fill the meeting's own node, and Bea, a listen-only viewer in Chromium, is
seated on the other node. Her page is told (`relayed` in `media.listen.offer`) that her stream
carries the presenter's webcam: the webcam's tile plays that stream's track, with frames, and
her browser holds no VideoRoom subscription. When another moderator becomes presenter, the
stream carries their webcam instead (`media.listen.relayed`) and the first webcam, now an
ordinary one, is subscribed to through VideoRoom as usual. And a webcam Chromium sends in
simulcast layers is relayed layer by layer: listeners seated on the relay node each get the layer
they ask for (`media.listen.layer`), and Bea's page asks the one her tile needs. When the
presenter changes under running relayed viewers, the new webcam reaches them from a keyframe
within a second. In a meeting whose codec is H.264, Chromium's H.264 webcam is relayed in H.264,
and a VP8 webcam there is subscribed to on the meeting's node instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from sala.media.janus.engine import STREAMING, VIDEOROOM
from sala.media.janus.relay import RELAY_IDS
from sala.media.nodes import PlacedMeeting
from tests.e2e.conftest import CHROMIUM, HAVE_CHROMIUM, MEDIA_ARGS, eventually, stats
from tests.media.test_listen_relays import (  # noqa: F401 (fixtures)
    ADDRESS,
    PER_NODE,
    hub,
    nodes,
    server,
    tone,
    video_codec,
)
from tests.media.test_video_relays import SIZES, clips  # noqa: F401 (fixture)
from tests.room.conftest import RoomServer
from tests.support.media_nodes import MediaNodeThread
from tests.support.synthetic import EncodedClip, SyntheticParticipant
from tests.xmlutil import parse


async def _width(page: Page, feed: int) -> int:
    """The width of the picture the feed's tile decodes now (0: none yet)."""
    width: int = await page.evaluate(
        f"document.querySelector('#feed-{feed} video')?.videoWidth || 0"
    )
    return width


async def _room_page(
    browser: Browser,
    server: RoomServer,  # noqa: F811 (the fixture's value)
    meeting_id: str,
    name: str,
    params: dict[str, str],
    viewport: dict[str, int] | None = None,
) -> Page:
    """`name` in Chromium, joined through the API with `params` (role, userdata), in the room."""
    context = await browser.new_context(locale="en-US", viewport=viewport)
    page = await context.new_page()
    await page.goto(server.signed("join", {"meetingID": meeting_id, "fullName": name, **params}))
    await page.wait_for_selector("#room:not([hidden])", timeout=15_000)
    return page


LISTEN_ONLY = {"role": "VIEWER", "userdata-bbb_force_listen_only": "true"}  # no dialog
SMALL_WINDOW = {"width": 800, "height": 600}
"""A window whose webcam tiles are under 400 px wide."""


async def _listening(page: Page) -> dict[str, Any]:
    """The page's listen-only stream, as its stats report it."""
    return dict((await stats(page)).get("listen") or {})


async def _webcam_page(
    browser: Browser,
    server: RoomServer,  # noqa: F811 (the fixture's value)
    meeting_id: str,
    name: str,
    profile: str,
) -> Page:
    """A moderator in Chromium sharing the fake webcam at `profile`'s size, without audio."""
    return await _room_page(
        browser,
        server,
        meeting_id,
        name,
        {
            "role": "MODERATOR",
            "userdata-bbb_auto_join_audio": "false",
            "userdata-bbb_auto_share_webcam": "true",
            "userdata-bbb_skip_video_preview": "true",
            "userdata-bbb_preferred_camera_profile": profile,
        },
    )


async def test_a_relayed_listeners_browser_shows_the_presenters_webcam_from_its_stream(
    nodes: tuple[Any, dict[str, MediaNodeThread]],  # noqa: F811 (the imported fixture)
    server: RoomServer,  # noqa: F811
    tone: EncodedClip,  # noqa: F811
    clips: dict[str, EncodedClip],  # noqa: F811
) -> None:
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    media_nodes = server.services.media.nodes
    assert media_nodes is not None
    meeting_id = await server.create()
    info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
    everybody: list[SyntheticParticipant] = []

    async def join(name: str, role: str = "VIEWER") -> SyntheticParticipant:
        participant = await SyntheticParticipant.join(
            server.http, server.base, server.secret, meeting_id, name, role=role,
            address=ADDRESS,
        )  # fmt: skip
        everybody.append(participant)
        return participant

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=MEDIA_ARGS)
        try:
            presenter = await join("Presenter", "MODERATOR")  # the first moderator presents
            await presenter.speak(tone)
            for i in range(PER_NODE):  # the meeting's own node has its share of listeners
                await (await join(f"Listener {i}")).listen("stream")
            camera = await presenter.publish(clips["camera"], "camera")
            placed = media_nodes.meeting(str(info.findtext("internalMeetingID")))
            assert placed is not None and placed.node_id is not None

            page = await _room_page(browser, server, meeting_id, "Bea", LISTEN_ONLY)

            async def relayed() -> dict[str, Any]:
                listen = (await stats(page)).get("listen") or {}
                return dict(listen.get("relayed") or {})

            async def carried(feed: int) -> bool:
                return (await relayed()).get("camera") == feed

            await eventually("Bea's stream carries the webcam", lambda: carried(camera))
            [relay_node] = [n for n in placed.relays.seated() if n != placed.node_id]
            [bea] = placed.relays.listeners(relay_node)

            # The webcam's tile plays the stream's track, at the webcam's size.
            async def shown(feed: int, width: int) -> bool:
                return await _width(page, feed) == width

            await eventually(
                "the webcam's tile shows frames", lambda: shown(camera, SIZES["camera"][0])
            )
            seen = await stats(page)
            assert seen["listen"]["shown"] == [camera], seen["listen"]
            assert seen["subscriptions"] == 0 and seen["feeds"] == {}, seen
            on_home = (await placed.bound()).participants[bea]
            assert on_home._subscriptions == {}

            # Another presenter: the stream carries their webcam; the first one, no longer
            # carried, is subscribed to through VideoRoom as any other webcam.
            other = await join("Other", "MODERATOR")
            other_camera = await other.publish(clips["other camera"], "camera")
            await presenter.socket.send({"type": "user.presenter", "user": other.user_id})
            await eventually("Bea's stream carries the new webcam", lambda: carried(other_camera))
            await eventually(
                "the new presenter's tile shows the stream",
                lambda: shown(other_camera, SIZES["other camera"][0]),
            )
            await eventually(
                "the first webcam comes through VideoRoom",
                lambda: shown(camera, SIZES["camera"][0]),
            )
            seen = await stats(page)
            assert seen["listen"]["shown"] == [other_camera], seen["listen"]
            assert list(seen["feeds"]) == [str(camera)], seen["feeds"]
            assert set(on_home._subscriptions) == {camera}
        finally:
            await browser.close()
            await asyncio.gather(*(p.close() for p in everybody), return_exceptions=True)
    await server.api("end", meetingID=meeting_id)


@asynccontextmanager
async def _simulcast_lecture(
    server: RoomServer,  # noqa: F811 (the fixture's value)
    listeners: int,
) -> AsyncIterator[tuple[Browser, Lecture]]:
    """Ada, a moderator in Chromium (the presenter), publishes her 1280x720 webcam in three
    simulcast layers; `listeners` synthetic listeners listen, the first PER_NODE on the
    meeting's node, the next ones on the relay node."""
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    media_nodes = server.services.media.nodes
    assert media_nodes is not None
    meeting_id = await server.create()
    info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
    synthetic: list[SyntheticParticipant] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *MEDIA_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
        )
        try:
            # The first moderator presents.
            page = await _webcam_page(browser, server, meeting_id, "Ada", "high")
            for i in range(listeners):
                listener = await SyntheticParticipant.join(
                    server.http, server.base, server.secret, meeting_id, f"Listener {i}",
                    address=ADDRESS,
                )  # fmt: skip
                synthetic.append(listener)
                await listener.listen("stream")

            async def layered() -> bool:
                layers = (await stats(page))["published"].get("camera", {}).get("layers") or {}
                return sorted(layers) == ["f", "h", "q"]

            await eventually("Ada publishes three layers", layered)
            placed = media_nodes.meeting(str(info.findtext("internalMeetingID")))
            assert placed is not None and placed.node_id is not None
            camera = int((await stats(page))["published"]["camera"]["feed"])
            yield browser, Lecture(server, meeting_id, placed, camera, synthetic)
        finally:
            await browser.close()
            await asyncio.gather(*(p.close() for p in synthetic), return_exceptions=True)
    await server.api("end", meetingID=meeting_id)


@dataclass
class Lecture:
    server: RoomServer
    meeting_id: str
    placed: PlacedMeeting
    camera: int
    """Ada's webcam (a feed id)."""
    listeners: list[SyntheticParticipant]

    def relayed(self) -> list[SyntheticParticipant]:
        """The synthetic listeners seated on the relay node."""
        [node] = [n for n in self.placed.relays.seated() if n != self.placed.node_id]
        seated = self.placed.relays.listeners(node)
        return [p for p in self.listeners if p.user_id in seated]


async def _sees(listener: SyntheticParticipant, size: tuple[int, int], within: int = 40) -> None:
    """Waits until the webcam's keyframes on the listener's stream are `size`."""
    seen = await listener.seeing("camera", frames=1)
    for _ in range(within):  # half-second steps; a new layer starts at its next keyframe
        if (seen.width, seen.height) == size:
            return
        await asyncio.sleep(0.5)
        seen = await listener.seeing("camera", frames=1)
    raise AssertionError(f"{listener.name} sees {seen.width}x{seen.height}, not {size}")


async def test_relayed_listeners_each_pick_a_layer_of_a_simulcast_webcam(
    nodes: tuple[Any, dict[str, MediaNodeThread]],  # noqa: F811 (the imported fixture)
    server: RoomServer,  # noqa: F811
) -> None:
    """A presenter's webcam sent in three simulcast layers (Chromium, 1280x720) reaches the
    relay node layer by layer (three forwarders, one per substream, into a simulcast stream of
    the relay's mountpoint), and each listener seated there receives the layer it asks for
    (`media.listen.layer`); one that asks nothing gets the top layer."""
    async with _simulcast_lecture(server, PER_NODE + 2) as (_, lecture):
        first, second = lecture.relayed()
        for listener in (first, second):
            await listener.carrying(camera=lecture.camera)
        home = server.services.media.nodes.engine(lecture.placed.node_id)  # type: ignore[union-attr]
        listed = await home.control(
            VIDEOROOM, {"request": "listforwarders", "room": lecture.placed.number}
        )
        [forwarders] = [p["forwarders"] for p in listed["publishers"] if p["forwarders"]]
        assert sorted(f.get("substream", 0) for f in forwarders) == [0, 1, 2], forwarders
        assert len({f["ssrc"] for f in forwarders}) == 3, forwarders  # one SSRC per substream

        await _sees(first, (1280, 720))
        await _sees(second, (1280, 720))
        ok = await second.socket.request(
            {"type": "media.listen.layer", "feed": lecture.camera, "substream": 0}
        )
        assert ok["type"] == "media.ok", ok
        await _sees(second, (320, 180))
        await _sees(first, (1280, 720), within=4)  # the other listener's layer is its own
        await first.socket.request(
            {"type": "media.listen.layer", "feed": lecture.camera, "substream": 1, "temporal": 2}
        )
        await _sees(first, (640, 360))
        await _sees(second, (320, 180), within=4)

        # Bad requests are refused to the sender alone, with the usual error frame.
        for bad, code in (
            ({"feed": lecture.camera, "substream": 3}, "invalid"),
            ({"feed": lecture.camera, "substream": 1.5}, "invalid"),
            ({"feed": lecture.camera, "substream": 0, "temporal": -1}, "invalid"),
            ({"feed": lecture.camera + 1, "substream": 0}, "not_relayed"),
        ):
            error = await second.socket.request({"type": "media.listen.layer", **bad})
            assert error["type"] == "error" and error["code"] == code, (bad, error)
        # A listener on the meeting's own node has no webcam in its stream to choose for.
        error = await lecture.listeners[0].socket.request(
            {"type": "media.listen.layer", "feed": lecture.camera, "substream": 0}
        )
        assert error["type"] == "error" and error["code"] == "not_relayed", error
        await _sees(second, (320, 180), within=4)


async def test_a_relayed_listeners_browser_asks_a_small_tile_a_lower_layer(
    nodes: tuple[Any, dict[str, MediaNodeThread]],  # noqa: F811 (the imported fixture)
    server: RoomServer,  # noqa: F811
) -> None:
    """Bea, listen-only in Chromium on the relay node, sees Ada's simulcast webcam from her
    listen-only stream in a small tile: her page asks for the layer that tile needs, as it
    does for a VideoRoom subscription (client/src/features/stage/layers.js), and her browser
    decodes that layer, not the 1280x720 one."""
    async with _simulcast_lecture(server, PER_NODE) as (browser, lecture):
        page = await _room_page(
            browser, server, lecture.meeting_id, "Bea", LISTEN_ONLY, SMALL_WINDOW
        )

        async def listening() -> dict[str, Any]:
            return await _listening(page)

        async def carried() -> bool:
            return (await listening()).get("relayed", {}).get("camera") == lecture.camera

        await eventually("Bea's stream carries Ada's webcam", carried)
        tile = await page.evaluate(
            f"document.querySelector('#feed-{lecture.camera}').getBoundingClientRect().width"
        )
        assert 0 < tile <= 400, tile  # the smallest layer (320 wide) fills it

        async def small() -> bool:
            listen = await listening()
            return listen.get("layer") == 0 and listen.get("frameWidth") == 320

        await eventually("Bea's browser decodes the 320x180 layer", small)
        seen = await stats(page)
        assert seen["listen"]["frameHeight"] == 180, seen["listen"]
        assert seen["listen"]["shown"] == [lecture.camera], seen["listen"]
        assert seen["subscriptions"] == 0, seen

        # The tile's <video> follows the decoder a moment later (0 while it takes the new size).
        async def tile_shows_it() -> bool:
            return await _width(page, lecture.camera) == 320

        await eventually("Bea's tile shows the 320-wide layer", tile_shows_it, within=10)


async def _published(page: Page) -> int:
    """The id of the webcam the page publishes, once it sends frames."""
    feed: list[int] = []

    async def sending() -> bool:
        camera = (await stats(page))["published"].get("camera") or {}
        if camera.get("feed") is not None and camera.get("framesSent", 0) > 0:
            feed.append(int(camera["feed"]))
        return bool(feed)

    await eventually("the webcam is published", sending)
    return feed[0]


async def test_a_new_presenters_webcam_reaches_running_relayed_viewers_at_once(
    nodes: tuple[Any, dict[str, MediaNodeThread]],  # noqa: F811 (the imported fixture)
    server: RoomServer,  # noqa: F811
) -> None:
    """Two viewers seated on the relay node watch Ada's webcam (Chromium, 1280x720 in three
    simulcast layers) in their listen-only streams: a synthetic one, which reads the VP8
    keyframes, and Bea in Chromium, which decodes them. When the presenter changes to Carl
    (Chromium, 320x240, one layer), both get Carl's webcam on the same stream, without a new
    negotiation, starting from a keyframe well within 3 s (about 0.4 s measured): Chromium's
    encoder makes no keyframe on its own for thousands of frames, so that keyframe is one asked
    for: Streaming's PLI, through the new forwarder's RTCP port (docs/decisions.md, "Keyframes
    when a relayed feed changes hands")."""
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    media_nodes = server.services.media.nodes
    assert media_nodes is not None
    meeting_id = await server.create()
    info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
    synthetic: list[SyntheticParticipant] = []

    async def join(name: str, role: str = "VIEWER", **extra: Any) -> SyntheticParticipant:
        participant = await SyntheticParticipant.join(
            server.http, server.base, server.secret, meeting_id, name, role=role,
            address=ADDRESS, **extra,
        )  # fmt: skip
        synthetic.append(participant)
        return participant

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *MEDIA_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
        )
        try:
            ada = await _webcam_page(browser, server, meeting_id, "Ada", "high")  # presents
            ada_camera = await _published(ada)
            carl = await _webcam_page(browser, server, meeting_id, "Carl", "low")
            carl_camera = await _published(carl)
            host = await join("Host", "MODERATOR", follow_feeds=True)
            for i in range(PER_NODE + 1):  # the last one is seated on the relay node
                await (await join(f"Listener {i}")).listen("stream")
            placed = media_nodes.meeting(str(info.findtext("internalMeetingID")))
            assert placed is not None and placed.node_id is not None
            [relay_node] = [n for n in placed.relays.seated() if n != placed.node_id]
            seated = placed.relays.listeners(relay_node)
            [viewer] = [p for p in synthetic if p.user_id in seated]
            bea = await _room_page(browser, server, meeting_id, "Bea", LISTEN_ONLY)

            async def listening() -> dict[str, Any]:
                return await _listening(bea)

            await viewer.carrying(camera=ada_camera)
            await _sees(viewer, (1280, 720))
            assert len(placed.relays.listeners(relay_node)) == 2  # Bea is on the relay node
            # Bea's layer of Ada's webcam is her tile's (1280x720 to 320x180), never 240 high.
            await eventually("Bea decodes Ada's webcam", lambda: _longer(listening, 30))
            decoded = (await listening())["framesDecoded"]
            keyframes = viewer.report(hear=False).relayed["camera"].keyframes

            # The change: Host makes Carl the presenter; both viewers' streams go on.
            [carl_user] = {f["user"] for f in host.feeds if f["id"] == carl_camera}
            loop = asyncio.get_running_loop()
            start = loop.time()
            await host.socket.send({"type": "user.presenter", "user": carl_user})
            first_keyframe = first_decoded = None
            for _ in range(200):  # 10 s at most, in 50 ms steps
                seen = viewer.report(hear=False).relayed["camera"]
                if first_keyframe is None and seen.keyframes > keyframes and seen.width == 320:
                    first_keyframe = loop.time() - start
                listen = await listening()
                if first_decoded is None and listen.get("frameHeight") == 240:
                    first_decoded = loop.time() - start
                if first_keyframe is not None and first_decoded is not None:
                    break
                await asyncio.sleep(0.05)
            print(
                f"presenter change -> Carl's first keyframe at the synthetic viewer: "
                f"{first_keyframe} s; first frame Bea decoded at 320x240: {first_decoded} s"
            )
            assert first_keyframe is not None and first_keyframe < 3, first_keyframe
            assert first_decoded is not None and first_decoded < 3, first_decoded
            assert viewer.relayed == {"camera": carl_camera, "screen": None}
            listen = await listening()
            assert listen["frameHeight"] == 240 and listen["framesDecoded"] > decoded, listen
            await eventually("Bea's tile shows Carl's webcam", lambda: _shows(bea, carl_camera))
            assert (await stats(bea))["subscriptions"] >= 1  # Ada's webcam, now subscribed
        finally:
            await browser.close()
            await asyncio.gather(*(p.close() for p in synthetic), return_exceptions=True)
    await server.api("end", meetingID=meeting_id)


async def _longer(listening: Any, frames: int) -> bool:
    return int((await listening()).get("framesDecoded", 0)) >= frames


async def _shows(page: Page, feed: int) -> bool:
    return await _width(page, feed) == 320


@pytest.mark.parametrize("video_codec", ["h264"])
async def test_an_h264_meeting_relays_its_presenters_webcam_in_h264(
    nodes: tuple[Any, dict[str, MediaNodeThread]],  # noqa: F811 (the imported fixture)
    server: RoomServer,  # noqa: F811
    clips: dict[str, EncodedClip],  # noqa: F811
    video_codec: str,  # noqa: F811 (the imported fixture, parametrized)
) -> None:
    """A meeting whose codec is H.264 (Settings.video_codec): Ada's webcam (Chromium, 1280x720
    in three simulcast layers) is published in H.264 and relayed layer by layer into the relay
    mountpoint's H.264 stream. A synthetic listener seated there gets its frames; Bea,
    listen-only in Chromium there with a small tile, decodes the 320x180 layer from her stream
    without subscribing. Then Host, whose webcam is VP8 (a browser without H.264), presents:
    that webcam is not relayed (the stream is H.264), and Bea's page subscribes to it on the
    meeting's node as before."""
    assert video_codec == "h264"
    async with _simulcast_lecture(server, PER_NODE + 1) as (browser, lecture):
        placed = lecture.placed
        bound = await placed.bound()
        assert bound.published[lecture.camera].codec.lower() == "h264"
        [viewer] = lecture.relayed()
        await viewer.carrying(camera=lecture.camera)
        seen = await viewer.seeing("camera", frames=30)
        assert seen.keyframes == 0  # VP8 keyframes: none, the stream is H.264
        [relay_node] = [n for n in placed.relays.seated() if n != placed.node_id]
        there = server.services.media.nodes.engine(relay_node)  # type: ignore[union-attr]
        info = await there.control(STREAMING, {"request": "info", "id": RELAY_IDS + placed.number})
        videos = [m for m in info["info"]["media"] if m["type"] == "video"]
        assert {m["codec"] for m in videos} == {"h264"}, videos
        assert all("profile-level-id=42e01f" in m["fmtp"] for m in videos), videos

        bea = await _room_page(
            browser, server, lecture.meeting_id, "Bea", LISTEN_ONLY, SMALL_WINDOW
        )

        async def listening() -> dict[str, Any]:
            return await _listening(bea)

        async def small() -> bool:
            listen = await listening()
            return listen.get("frameWidth") == 320 and listen.get("framesDecoded", 0) > 10

        await eventually("Bea decodes the H.264 webcam's 320x180 layer", small)
        seen_by_bea = await stats(bea)
        assert seen_by_bea["listen"]["frameHeight"] == 180, seen_by_bea["listen"]
        assert seen_by_bea["listen"]["shown"] == [lecture.camera], seen_by_bea["listen"]
        assert seen_by_bea["subscriptions"] == 0, seen_by_bea

        # A VP8 webcam in this meeting is not relayed: Bea subscribes to it on the meeting's node
        # (in a window wide enough for two tiles on one page).
        await bea.set_viewport_size({"width": 1280, "height": 720})
        host = await SyntheticParticipant.join(
            server.http, server.base, server.secret, lecture.meeting_id, "Host",
            role="MODERATOR", address=ADDRESS,
        )  # fmt: skip
        lecture.listeners.append(host)  # closed with the others
        host_camera = await host.publish(clips["other camera"], "camera")
        assert bound.published[host_camera].codec.lower() == "vp8"
        await host.socket.send({"type": "user.presenter", "user": host.user_id})
        await viewer.carrying(camera=None)

        async def subscribed() -> bool:
            return await _width(bea, host_camera) == SIZES["other camera"][0]

        await eventually("Bea sees Host's VP8 webcam through VideoRoom", subscribed)
        assert (await stats(bea))["listen"]["shown"] == []

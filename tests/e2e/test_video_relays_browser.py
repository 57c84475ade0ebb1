"""A relayed listener's browser shows the lecture from its listen-only stream, in real Chromium.

Two real Janus nodes in network namespaces of their own (the fixtures of
tests/media/test_listen_relays.py); a synthetic presenter speaks and publishes a webcam, two
synthetic listeners fill the meeting's own node, and Bea, a listen-only viewer in Chromium, is
seated on the other node. Her page is told (`relayed` in `media.listen.offer`) that her stream
carries the presenter's webcam: the webcam's tile plays that stream's track, with frames, and
her browser holds no VideoRoom subscription. When another moderator becomes presenter, the
stream carries their webcam instead (`media.listen.relayed`) and the first webcam, now an
ordinary one, is subscribed to through VideoRoom as usual. And a webcam Chromium sends in
simulcast layers is relayed at its top layer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright

from tests.e2e.conftest import CHROMIUM, HAVE_CHROMIUM, MEDIA_ARGS, eventually, stats
from tests.media.test_listen_relays import (  # noqa: F401 (fixtures)
    ADDRESS,
    PER_NODE,
    hub,
    nodes,
    server,
    tone,
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

            page = await (await browser.new_context(locale="en-US")).new_page()
            await page.goto(
                server.signed(
                    "join",
                    {
                        "meetingID": meeting_id,
                        "fullName": "Bea",
                        "role": "VIEWER",
                        "userdata-bbb_force_listen_only": "true",  # listen-only, no dialog
                    },
                )
            )
            await page.wait_for_selector("#room:not([hidden])", timeout=15_000)

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


async def test_a_simulcast_webcam_from_chromium_is_relayed_at_its_top_layer(
    nodes: tuple[Any, dict[str, MediaNodeThread]],  # noqa: F811 (the imported fixture)
    server: RoomServer,  # noqa: F811
) -> None:
    """A presenter's webcam sent in three simulcast layers (Chromium, 1280x720) reaches a
    listener seated on the relay node at the top layer, as the forwarder's `simulcast: true`
    aims (without it Janus forwards layer 0, 320x180)."""
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    media_nodes = server.services.media.nodes
    assert media_nodes is not None
    meeting_id = await server.create()
    info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
    listeners: list[SyntheticParticipant] = []
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
            page = await (await browser.new_context(locale="en-US")).new_page()
            await page.goto(
                server.signed(
                    "join",
                    {
                        "meetingID": meeting_id,
                        "fullName": "Ada",
                        "role": "MODERATOR",  # the first moderator presents
                        "userdata-bbb_auto_join_audio": "false",
                        "userdata-bbb_auto_share_webcam": "true",
                        "userdata-bbb_skip_video_preview": "true",
                        "userdata-bbb_preferred_camera_profile": "high",
                    },
                )
            )
            await page.wait_for_selector("#room:not([hidden])", timeout=15_000)
            for i in range(PER_NODE + 1):  # the last one is seated on the other node
                listener = await SyntheticParticipant.join(
                    server.http, server.base, server.secret, meeting_id, f"Listener {i}",
                    address=ADDRESS,
                )  # fmt: skip
                listeners.append(listener)
                await listener.listen("stream")

            async def layered() -> bool:
                layers = (await stats(page))["published"].get("camera", {}).get("layers") or {}
                return sorted(layers) == ["f", "h", "q"]

            await eventually("Ada publishes three layers", layered)
            placed = media_nodes.meeting(str(info.findtext("internalMeetingID")))
            assert placed is not None and placed.node_id is not None
            [relay_node] = [n for n in placed.relays.seated() if n != placed.node_id]
            [relayed] = [p for p in listeners if p.user_id in placed.relays.listeners(relay_node)]
            camera = (await stats(page))["published"]["camera"]["feed"]
            await relayed.carrying(camera=camera)
            seen = await relayed.seeing("camera", frames=30)
            for _ in range(10):  # the size is read from keyframes
                if seen.width:
                    break
                seen = await relayed.seeing("camera", frames=15)
            assert (seen.width, seen.height) == (1280, 720), seen
        finally:
            await browser.close()
            await asyncio.gather(*(p.close() for p in listeners), return_exceptions=True)
    await server.api("end", meetingID=meeting_id)

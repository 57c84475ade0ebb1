"""Simulcast in real Chromium against sala's Janus, in a private network namespace.

Ada publishes a fake webcam, 1280×720 (three layers) or 640×480 (two), and shares her screen;
Bea watches on a large window with webcams only (beside the open user list and chat), Cyd on a
phone where the webcam is a small tile. What is asserted is what each one's browser decodes: a large picture for Bea, a small one for Cyd, and
the screen at the size it was captured for Cyd even so. One Chromium publishes, one holds both
viewers (two cores).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.conftest import LiveServer
from tests.e2e.conftest import api, enter, eventually, growing, new_meeting, signed, stats

NO_AUDIO = {"userdata-bbb_auto_join_audio": "false"}
WEBCAM = {"userdata-bbb_auto_share_webcam": "true", "userdata-bbb_skip_video_preview": "true"}
# BBB's camera profiles: "high" captures 1280×720 (three layers), "medium", the default,
# 640×480 (two: the top one at the capture's size).
PROFILES = {
    "high": (["f", "h", "q"], 1280),
    "medium": (["h", "q"], 640),
}


@pytest.fixture(scope="module")
def sala(media_sala: LiveServer) -> LiveServer:
    return media_sala


def video(s: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(f for f in s["feeds"].values() if f["kind"] == kind)


async def phone(browser: Browser, server: LiveServer, meeting_id: str, name: str) -> Page:
    context = await browser.new_context(
        locale="en-US", viewport={"width": 390, "height": 844}, device_scale_factor=1
    )
    page = await context.new_page()
    url = signed(
        server,
        "join",
        {"meetingID": meeting_id, "fullName": name, "role": "VIEWER", **NO_AUDIO},
    )
    await page.goto(url)
    await page.wait_for_selector("#room:not([hidden])", timeout=15_000)
    return page


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_each_viewer_gets_the_layer_its_tile_needs_and_screens_stay_whole(
    sala: LiveServer, browsers: tuple[Browser, Browser], profile: str
) -> None:
    fake, plain = browsers
    rids, top = PROFILES[profile]
    meeting_id = new_meeting(sala, "Simulcast", "simulcast")
    chosen = {"userdata-bbb_preferred_camera_profile": profile}
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **NO_AUDIO, **WEBCAM, **chosen)
    bea_context = await plain.new_context(
        locale="en-US", viewport={"width": 1600, "height": 1000}, device_scale_factor=1
    )
    bea = await bea_context.new_page()
    await bea.goto(
        signed(
            sala,
            "join",
            {
                "meetingID": meeting_id,
                "fullName": "Bea",
                "role": "VIEWER",
                "userdata-bbb_default_layout": "CAMERAS_ONLY",
                **NO_AUDIO,
            },
        )
    )
    await bea.wait_for_selector("#room:not([hidden])", timeout=15_000)
    cyd = await phone(plain, sala, meeting_id, "Cyd")

    # Ada's browser sends the webcam in layers, each half the width of the one above.
    async def layered() -> bool:
        layers = (await stats(ada))["published"].get("camera", {}).get("layers") or {}
        return sorted(layers) == rids and all(x["bytes"] > 0 for x in layers.values())

    await eventually("Ada publishes the layers her capture allows", layered)

    # Bea's tile spans her window: the top layer. Cyd's is a phone's: the bottom one.
    big = await bea.locator("#videos figure[data-feed]").bounding_box()
    small = await cyd.locator("#videos figure[data-feed]").bounding_box()
    assert big is not None and small is not None
    assert big["width"] > 800 and small["width"] < 400, (big, small)

    async def received(page: Page, fits: Any) -> bool:
        try:
            camera = video(await stats(page), "camera")
        except StopIteration:
            return False
        return bool(camera.get("frameWidth")) and bool(fits(camera["frameWidth"]))

    # (A top layer wanted but not sent, as from 640×480, comes as the next one down.)
    await eventually(
        "Bea receives the largest picture", lambda: received(bea, lambda w: w > top // 2)
    )
    await eventually("Cyd receives a small picture", lambda: received(cyd, lambda w: w <= 320))
    await growing(bea, lambda s: video(s, "camera")["framesDecoded"], "Bea's webcam plays")
    await growing(cyd, lambda s: video(s, "camera")["framesDecoded"], "Cyd's webcam plays")
    assert video(await stats(bea), "camera")["layer"] == 2
    assert video(await stats(cyd), "camera")["layer"] == 0

    # Bea narrows her window: the tile shrinks, and so does the layer she receives.
    await bea.set_viewport_size({"width": 700, "height": 900})

    async def shrunk() -> bool:
        camera = video(await stats(bea), "camera")
        return bool(camera["layer"] == 1 and 0 < camera.get("frameWidth", 0) <= 640)

    await eventually("Bea's smaller tile gets the middle layer", shrunk)

    # Ada shares her screen: Cyd, on the same small phone, gets it whole (one layer).
    await ada.click("#screen")

    async def screen_size() -> int:
        width: int = await ada.evaluate(
            "window.salaMedia.published.value.get('screen')?.stream"
            ".getVideoTracks()[0].getSettings().width || 0"
        )
        return width

    await eventually("Ada shares a screen", lambda: _positive(screen_size()))
    captured = await screen_size()
    assert captured > 320
    await eventually(
        "Cyd receives the screen at the size it was captured",
        lambda: received_screen(cyd, captured),
    )
    api(sala, "end", meetingID=meeting_id)


async def _positive(value: Any) -> bool:
    return bool(await value > 0)


async def received_screen(page: Page, width: int) -> bool:
    try:
        screen = video(await stats(page), "screen")
    except StopIteration:
        return False
    return bool(screen.get("frameWidth") == width and screen["framesDecoded"] > 0)

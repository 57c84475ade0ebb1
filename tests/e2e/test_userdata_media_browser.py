"""join's userdata added in BBB 3.0 that concern audio and webcams, in Chromium with fake devices
talking to sala's Janus in a private network namespace: forced listen-only, the mirrored own
webcam and the preferred camera profile."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import WEBCAM, api, enter, eventually, new_meeting, stats

MIRRORED = "matrix(-1, 0, 0, 1, 0, 0)"
NO_AUTO_AUDIO = {"userdata-bbb_auto_join_audio": "false"}


@pytest.fixture(scope="module")
def sala(media_sala: LiveServer) -> LiveServer:
    return media_sala


async def listening(page: Page) -> bool:
    audio = (await stats(page))["audio"]
    return bool(audio) and audio["mode"] == "listen" and audio["state"] == "connected"


async def test_a_forced_listen_only_viewer_never_gets_a_microphone(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Media", "media-userdata")
    forced = {"userdata-bbb_force_listen_only": "true"}
    # The moderator is asked as usual, the microphone included: the setting is not for them.
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **forced)
    await expect(ada.locator("#audio-dialog button[value=mic]")).to_be_visible()
    await ada.click("#audio-dialog button[value=cancel]")

    # Bea's browser has a microphone and her userdata even asks to go straight to it: forced
    # listen-only wins, she hears the meeting without being asked.
    bea = await enter(
        fake,
        sala,
        meeting_id,
        "Bea",
        "VIEWER",
        **forced,
        **{"userdata-bbb_listen_only_mode": "false", "userdata-bbb_skip_check_audio": "true"},
    )
    await eventually("Bea listens", lambda: listening(bea))
    await expect(bea.locator("#audio-dialog button[value=mic]")).to_be_hidden()
    await expect(bea.locator("#mic-dialog")).to_be_hidden()
    await expect(bea.locator("#mute")).to_be_hidden()
    await expect(ada.locator("#user-list li[data-user]", has_text="Bea")).to_have_attribute(
        "data-audio", "listen"
    )

    # Leaving and joining again: listen-only again, no microphone offered.
    await bea.click("#audio-leave")
    await expect(bea.locator("#audio-join")).to_be_visible()
    await bea.click("#audio-join")
    await eventually("Bea listens again", lambda: listening(bea))
    await expect(bea.locator("#audio-dialog button[value=mic]")).to_be_hidden()
    await expect(bea.locator("#mute")).to_be_hidden()
    api(sala, "end", meetingID=meeting_id)


async def test_the_own_webcam_is_mirrored_for_its_owner_only(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Media", "media-userdata")
    ada = await enter(
        fake,
        sala,
        meeting_id,
        "Ada",
        "MODERATOR",
        **NO_AUTO_AUDIO,
        **{
            "userdata-bbb_auto_share_webcam": "true",
            "userdata-bbb_mirror_own_webcam": "true",
            "userdata-bbb_preferred_camera_profile": "high",
        },
    )
    # The preview opens with the preferred profile chosen, mirrored like a looking glass.
    await expect(ada.locator("#camera-dialog")).to_be_visible()
    await expect(ada.locator("#camera-quality")).to_have_value("high")
    await expect(ada.locator("#camera-preview")).to_have_css("transform", MIRRORED)
    await ada.click("#camera-dialog button[value=share]")
    await expect(ada.locator("#self-camera video")).to_have_css("transform", MIRRORED)

    bea = await enter(fake, sala, meeting_id, "Bea", "VIEWER", **NO_AUTO_AUDIO, **WEBCAM)
    await expect(bea.locator("#self-camera video")).to_have_css("transform", "none")
    # Each sees the other as the camera sends it: Ada's mirror is hers alone.
    for page in (ada, bea):
        others = page.locator("#videos figure:not(#self-camera) video")
        await expect(others).to_have_count(1, timeout=20_000)
        await expect(others).to_have_css("transform", "none")
    api(sala, "end", meetingID=meeting_id)

"""The stage of the room client, in Chromium with fake devices against sala and its Janus in a
private network namespace: BBB's layouts from userdata and meetingLayout, pages of webcams that
receive only the webcams on screen (counted by the page's engine and by Janus), pinning and full
screen, device choices kept per browser and applied live, and the media keyboard shortcuts."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import AUDIO, api, enter, eventually, growing, new_meeting, signed, stats
from tests.e2e.test_media_browser import janus_handles

NO_AUDIO = {"userdata-bbb_auto_join_audio": "false"}
LOW_WEBCAM = {
    "userdata-bbb_auto_share_webcam": "true",
    "userdata-bbb_skip_video_preview": "true",
    "userdata-bbb_preferred_camera_profile": "low",
}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def sala(media_sala: LiveServer) -> LiveServer:
    return media_sala


async def layout_of(page: Page) -> str | None:
    return await page.locator(".app").get_attribute("data-layout")


async def test_layouts_come_from_userdata_or_the_meeting_and_show_what_bbb_shows(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    _, plain = browsers
    meeting_id = new_meeting(sala, "Stage", "stage")
    ada = await enter(plain, sala, meeting_id, "Ada", "MODERATOR", **NO_AUDIO)
    await expect(ada.locator("#slide")).to_be_visible(timeout=15_000)
    assert await layout_of(ada) == "smart"

    async def joined(name: str, layout: str) -> Page:
        page = await enter(
            plain,
            sala,
            meeting_id,
            name,
            "VIEWER",
            **NO_AUDIO,
            **{"userdata-bbb_default_layout": layout},
        )
        await expect(page.locator("#stage")).to_be_attached()
        return page

    # Webcams only: no presentation on the stage, nothing to restore.
    cams = await joined("Cams", "CAMERAS_ONLY")
    assert await layout_of(cams) == "cameras-only"
    await expect(cams.locator("#slide")).to_have_count(0)
    await expect(cams.get_by_role("button", name="Show presentation")).to_have_count(0)
    await expect(cams.locator("#camera")).to_be_visible()
    await cams.close()

    # Presentation only: the slide, and no webcam button (BBB hides it there).
    slides = await joined("Slides", "PRESENTATION_ONLY")
    assert await layout_of(slides) == "presentation-only"
    await expect(slides.locator("#slide")).to_be_visible()
    await expect(slides.locator("#camera")).to_have_count(0)
    await slides.close()

    # Participants and chat only: neither presentation nor webcams; the chat is open.
    chat = await joined("Chat", "PARTICIPANTS_AND_CHAT_ONLY")
    assert await layout_of(chat) == "participants-and-chat-only"
    await expect(chat.locator("#slide")).to_have_count(0)
    await expect(chat.locator("#camera")).to_have_count(0)
    await expect(chat.locator("#chat-text")).to_be_visible()
    await expect(chat.locator("#user-list")).to_be_visible()
    await chat.close()

    # Focus on webcams: the presentation minimised, to be restored.
    video = await joined("Video", "VIDEO_FOCUS")
    assert await layout_of(video) == "video-focus"
    await expect(video.locator("#slide")).to_be_hidden()
    await video.get_by_role("button", name="Show presentation").click()
    await expect(video.locator("#slide")).to_be_visible()
    await video.close()

    # Unknown values fall back to the smart layout; the meeting's layout applies without userdata.
    odd = await joined("Odd", "NO_SUCH_LAYOUT")
    assert await layout_of(odd) == "smart"
    await odd.close()
    by_meeting = new_meeting(sala, "Stage", "stage", meetingLayout="CAMERAS_ONLY")
    dan = await enter(plain, sala, by_meeting, "Dan", "MODERATOR", **NO_AUDIO)
    await expect(dan.locator("#stage")).to_be_attached()
    assert await layout_of(dan) == "cameras-only"

    # The layout picker in the settings changes it at once, and keyboard works in it.
    await ada.click("#settings")
    await ada.click("#settings-tab-layout")
    await ada.click("label:has(#layout-presentation-focus)")
    await expect(ada.locator("#layout-presentation-focus")).to_be_checked()
    assert await layout_of(ada) == "presentation-focus"
    await ada.locator("#layout-cameras-only").focus()
    await ada.keyboard.press("Space")
    assert await layout_of(ada) == "cameras-only"
    await ada.keyboard.press("Escape")
    await expect(ada.locator("#slide")).to_have_count(0)
    api(sala, "end", meetingID=meeting_id)
    api(sala, "end", meetingID=by_meeting)


async def enter_phone(
    browser: Browser, server: LiveServer, meeting_id: str, name: str, **extra: str
) -> Page:
    context = await browser.new_context(
        locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    url = signed(
        server, "join", {"meetingID": meeting_id, "fullName": name, "role": "VIEWER", **extra}
    )
    await page.goto(url)
    await page.wait_for_selector("#room", timeout=15_000)
    return page


async def _visible_feeds(page: Page) -> list[str]:
    ids: list[str] = await page.eval_on_selector_all(
        "#videos figure[data-feed]", "tiles => tiles.map(t => t.dataset.feed)"
    )
    return sorted(ids)


async def _subscribed(page: Page) -> list[str]:
    s = await stats(page)
    return sorted(s["feeds"].keys())


async def test_only_the_webcams_on_the_page_are_received(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, plain = browsers
    meeting_id = new_meeting(sala, "Stage", "stage")
    publishers = []
    for name in ("Ada", "Bea", "Cyd"):
        role = "MODERATOR" if name == "Ada" else "VIEWER"
        publishers.append(await enter(fake, sala, meeting_id, name, role, **NO_AUDIO, **LOW_WEBCAM))
    # Dan, on a phone, sees two webcams a page (BBB's page size on phones).
    dan = await enter_phone(plain, sala, meeting_id, "Dan", **NO_AUDIO)
    await expect(dan.locator("#cameras-page")).to_have_text("1 / 2", timeout=20_000)
    await expect(dan.locator("#videos figure")).to_have_count(2)

    async def receiving(n: int) -> bool:
        s = await stats(dan)
        return s["subscriptions"] == n and len(s["feeds"]) == n

    await eventually("Dan receives the two webcams on page 1", lambda: receiving(2))
    await growing(
        dan, lambda s: min(f["framesDecoded"] for f in s["feeds"].values()), "page 1 plays"
    )
    first = await _subscribed(dan)
    assert first == await _visible_feeds(dan)
    # The publishers see each other (their subscriptions are in Janus too) before counting.
    for page in publishers:
        await eventually("a publisher gets the two others", partial(_feeds_are, page, 2))
    handles_on_page_1 = await janus_handles(sala)

    # Page 2: one webcam, and page 1's are let go, in the page and in Janus.
    await dan.click("#cameras-next")
    await expect(dan.locator("#cameras-page")).to_have_text("2 / 2")
    await expect(dan.locator("#videos figure")).to_have_count(1)
    await eventually("Dan receives only page 2's webcam", lambda: receiving(1))
    second = await _subscribed(dan)
    assert not set(second) & set(first) and second == await _visible_feeds(dan)
    await growing(
        dan, lambda s: min(f["framesDecoded"] for f in s["feeds"].values()), "page 2 plays"
    )
    await eventually(
        "Janus let go of a subscription",
        lambda: _handles_are(sala, handles_on_page_1 - 1),
        within=10,
    )

    # Data saving (from the connection indicator) receives no webcams at all, until undone.
    await dan.click("#connection")
    await dan.locator("#conn-data-saver").check()
    await eventually("no webcam received", lambda: receiving(0))
    await expect(dan.locator("#videos figure")).to_have_count(0)
    await eventually(
        "Janus let go of it", lambda: _handles_are(sala, handles_on_page_1 - 2), within=10
    )
    await dan.locator("#conn-data-saver").uncheck()
    await eventually("webcams received again", lambda: receiving(1))
    api(sala, "end", meetingID=meeting_id)


async def _feeds_are(page: Page, n: int) -> bool:
    return bool((await stats(page))["subscriptions"] == n)


async def _handles_are(server: LiveServer, n: int) -> bool:
    return await janus_handles(server) == n


async def test_a_webcam_is_pinned_to_the_stage_and_shown_full_screen(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Stage", "stage")
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **NO_AUDIO)
    await enter(fake, sala, meeting_id, "Bea", "VIEWER", **NO_AUDIO, **LOW_WEBCAM)
    bea_tile = ada.locator("#videos figure", has_text="Bea")
    await expect(bea_tile).to_be_visible(timeout=20_000)
    await expect(ada.locator("#slide")).to_be_visible()

    # Pinned, Bea's webcam takes the presentation's place; unpinned, it goes back.
    await bea_tile.hover()
    await bea_tile.get_by_role("button", name="Pin Bea").click()
    main = ada.locator(".stage-main figure.main", has_text="Bea")
    await expect(main).to_be_visible()
    await expect(ada.locator("#slide")).to_be_hidden()
    await expect(main.get_by_role("button", name="Unpin Bea")).to_have_attribute(
        "aria-pressed", "true"
    )
    await growing(ada, lambda s: next(iter(s["feeds"].values()))["framesDecoded"], "pinned plays")
    await main.get_by_role("button", name="Unpin Bea").click()
    await expect(ada.locator("#slide")).to_be_visible()
    await expect(ada.locator("#videos figure", has_text="Bea")).to_be_visible()

    # Full screen, and back.
    tile = ada.locator("#videos figure", has_text="Bea")
    await tile.hover()
    tile_id = await tile.get_attribute("id")
    await tile.get_by_role("button", name="Full screen").click()
    await eventually("the tile is full screen", lambda: _fullscreen_is(ada, tile_id), within=5)
    await ada.keyboard.press("Escape")
    api(sala, "end", meetingID=meeting_id)


async def _fullscreen_is(page: Page, tile_id: str | None) -> bool:
    found: Any = await page.evaluate("document.fullscreenElement && document.fullscreenElement.id")
    return bool(tile_id) and found == tile_id


async def _saved(page: Page) -> dict[str, Any]:
    raw = await page.evaluate("localStorage.getItem('sala-devices')")
    return json.loads(raw) if raw else {}


async def test_devices_are_chosen_kept_and_applied_live(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Stage", "stage")
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **AUDIO)

    async def mic_label() -> str | None:
        audio = (await stats(ada))["audio"]
        return audio["micLabel"] if audio else None

    await eventually("Ada in audio", lambda: _label_is(mic_label, "Fake Default Audio Input"))

    # The settings list Chromium's fake microphones and speakers with a live level meter.
    await ada.click("#settings")
    await expect(ada.locator("#settings-dialog")).to_be_visible()
    mics = ada.locator("#settings-mic option")
    await expect(mics.filter(has_text="Fake Audio Input 2")).to_have_count(1)
    await expect(
        ada.locator("#settings-speaker option").filter(has_text="Fake Audio Output 1")
    ).to_have_count(1)
    await eventually(
        "the meter moves", lambda: _meter_above(ada, "#settings-mic-level", 0.02), within=15
    )

    # Another microphone: kept in the browser and swapped into the call without leaving it.
    await ada.locator("#settings-mic").select_option(label="Fake Audio Input 2")
    await eventually("the call uses it", lambda: _label_is(mic_label, "Fake Audio Input 2"))
    assert (await stats(ada))["audio"]["state"] == "connected"
    chosen = (await _saved(ada))["microphone"]
    assert chosen and chosen != "default"
    await ada.locator("#settings-speaker").select_option(label="Fake Audio Output 1")
    speaker = (await _saved(ada))["speaker"]
    assert speaker and speaker != "default"
    await eventually("the meeting plays there", lambda: _sink_is(ada, speaker), within=5)

    # The webcam tab previews the chosen camera.
    await ada.click("#settings-tab-video")
    await ada.locator("#settings-camera").select_option(label="fake_device_0")
    await eventually("the preview plays", lambda: _playing(ada, "#settings-preview"), within=15)
    assert (await _saved(ada))["camera"]
    await ada.keyboard.press("Escape")

    # A new page of the same browser starts with those choices.
    await ada.reload()
    await ada.wait_for_selector("#room", timeout=15_000)
    await eventually("back in audio", lambda: _label_is(mic_label, "Fake Audio Input 2"))
    await ada.click("#settings")
    await expect(ada.locator("#settings-mic")).to_have_value(chosen)
    await expect(ada.locator("#settings-speaker")).to_have_value(speaker)
    api(sala, "end", meetingID=meeting_id)


async def _sink_is(page: Page, speaker: str) -> bool:
    sink: str = await page.evaluate("document.querySelector('#audio-out').sinkId")
    return sink == speaker


async def _label_is(read: Any, wanted: str) -> bool:
    return bool(await read() == wanted)


async def _meter_above(page: Page, selector: str, level: float) -> bool:
    value = await page.eval_on_selector(selector, "m => m.value")
    return float(value) > level


async def _playing(page: Page, selector: str) -> bool:
    size = await page.eval_on_selector(selector, "v => v.videoWidth")
    return int(size) > 0


async def test_keyboard_shortcuts_work_the_media(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Stage", "stage")
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **AUDIO)
    await expect(ada.locator("#mute")).to_have_attribute("aria-pressed", "false", timeout=20_000)

    # Alt+M mutes and unmutes (BBB).
    await ada.keyboard.press("Alt+KeyM")
    await expect(ada.locator("#mute")).to_have_attribute("aria-pressed", "true")
    await ada.keyboard.press("Alt+KeyM")
    await expect(ada.locator("#mute")).to_have_attribute("aria-pressed", "false")

    # Alt+Shift+W: the webcam preview, then off again.
    await ada.keyboard.press("Alt+Shift+KeyW")
    await expect(ada.locator("#camera-dialog")).to_be_visible()
    await ada.click("#camera-dialog button[value=share]")
    await expect(ada.locator("#camera")).to_have_attribute("aria-pressed", "true", timeout=20_000)
    await ada.keyboard.press("Alt+Shift+KeyW")
    await expect(ada.locator("#camera")).to_have_attribute("aria-pressed", "false")

    # Alt+Shift+S shares the screen (Ada presents) and stops it.
    await ada.keyboard.press("Alt+Shift+KeyS")
    await expect(ada.locator("#screen")).to_have_attribute("aria-pressed", "true", timeout=20_000)
    await eventually("the screen is published", lambda: _publishes(ada, "screen"))
    await ada.keyboard.press("Alt+Shift+KeyS")
    await expect(ada.locator("#screen")).to_have_attribute("aria-pressed", "false")

    # Alt+Shift+L leaves the audio, Alt+Shift+J joins it again (with the microphone, straight
    # away: Ada's userdata skips the choice and the check).
    await ada.keyboard.press("Alt+Shift+KeyL")
    await expect(ada.locator("#audio-join")).to_be_visible()
    await expect(ada.locator("#mute")).to_have_count(0)
    await ada.keyboard.press("Alt+Shift+KeyJ")
    await expect(ada.locator("#mute")).to_be_visible(timeout=20_000)
    await expect(ada.locator("#audio-leave")).to_be_visible()

    # The shortcuts are listed from the settings.
    await ada.click("#settings")
    await ada.click("#settings-tab-general")
    await ada.click("#open-shortcuts")
    table = ada.locator("#shortcuts-dialog")
    await expect(table).to_contain_text("Alt + M")
    await expect(table).to_contain_text("Alt + Shift + W")
    api(sala, "end", meetingID=meeting_id)


async def _publishes(page: Page, kind: str) -> bool:
    return kind in (await stats(page))["published"]


async def _open_layout_tab(page: Page) -> None:
    await page.click("#settings")
    await page.click("#settings-tab-layout")


async def test_a_moderator_pushes_a_layout_and_enforce_layout_holds(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    _, plain = browsers
    meeting_id = new_meeting(sala, "Stage", "stage")
    ada = await enter(plain, sala, meeting_id, "Ada", "MODERATOR", **NO_AUDIO)
    bea = await enter(plain, sala, meeting_id, "Bea", "VIEWER", **NO_AUDIO)
    cyd = await enter(
        plain, sala, meeting_id, "Cyd", "VIEWER", **NO_AUDIO, enforceLayout="PRESENTATION_ONLY"
    )
    assert await layout_of(cyd) == "presentation-only"

    # Viewers cannot push; Cyd's picker is locked, and says why.
    await _open_layout_tab(bea)
    await expect(bea.locator("#layout-smart")).to_be_enabled()
    await expect(bea.locator("#layout-push")).to_have_count(0)
    await bea.keyboard.press("Escape")
    await _open_layout_tab(cyd)
    await expect(cyd.locator("#layout-enforced")).to_have_text(
        "Your layout is set by the meeting and cannot be changed."
    )
    await expect(cyd.locator("#layout-cameras-only")).to_be_disabled()
    await expect(cyd.locator(".layout-choices")).to_have_attribute(
        "aria-describedby", "layout-enforced"
    )
    await cyd.keyboard.press("Escape")

    # Ada picks "webcams only" and pushes it: Bea follows and is told who did it.
    await _open_layout_tab(ada)
    await ada.click("label:has(#layout-cameras-only)")
    await ada.click("#layout-push")
    await expect(ada.locator("#toast").last).to_have_text(
        "Everyone now sees the layout “Webcams only”."
    )
    await ada.keyboard.press("Escape")
    await expect(bea.locator(".app")).to_have_attribute("data-layout", "cameras-only")
    await expect(bea.locator("#toast").last).to_have_text(
        "Ada set everyone's layout to “Webcams only”."
    )
    # Cyd stays in hers.
    await expect(cyd.locator("#toast")).to_have_count(0)
    assert await layout_of(cyd) == "presentation-only"

    # A late joiner starts in the pushed layout, over their own userdata.
    dan = await enter(
        plain,
        sala,
        meeting_id,
        "Dan",
        "VIEWER",
        **NO_AUDIO,
        **{"userdata-bbb_default_layout": "VIDEO_FOCUS"},
    )
    await expect(dan.locator("#stage")).to_be_attached()
    assert await layout_of(dan) == "cameras-only"

    # A layout Bea picks herself is kept across a reload...
    await _open_layout_tab(bea)
    await bea.click("label:has(#layout-presentation-focus)")
    await bea.keyboard.press("Escape")
    await bea.reload()
    await bea.wait_for_selector("#room:not([hidden])", timeout=15_000)
    await expect(bea.locator("#stage")).to_be_attached()
    assert await layout_of(bea) == "presentation-focus"
    # ...until a moderator pushes another one, which a reload keeps too.
    await _open_layout_tab(ada)
    await ada.click("label:has(#layout-video-focus)")
    await ada.click("#layout-push")
    await expect(bea.locator(".app")).to_have_attribute("data-layout", "video-focus")
    await bea.reload()
    await bea.wait_for_selector("#room:not([hidden])", timeout=15_000)
    await expect(bea.locator("#stage")).to_be_attached()
    assert await layout_of(bea) == "video-focus"
    assert await layout_of(cyd) == "presentation-only"
    api(sala, "end", meetingID=meeting_id)

    # With disabledFeatures=layouts there is nothing to push.
    no_layouts = new_meeting(sala, "Stage", "stage", disabledFeatures="layouts")
    eve = await enter(plain, sala, no_layouts, "Eve", "MODERATOR", **NO_AUDIO)
    await _open_layout_tab(eve)
    await expect(eve.locator("#layout-smart")).to_be_visible()
    await expect(eve.locator("#layout-push")).to_have_count(0)
    api(sala, "end", meetingID=no_layouts)

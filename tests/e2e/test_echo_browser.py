"""BBB's echo test in the room client, in Chromium with a fake microphone playing speech
(espeak-ng) against sala and its Janus in a private network namespace: the voice goes to Janus
and comes back with energy in it, "No" lets the microphone be changed and the test run again,
"Yes" joins the meeting's audio with the microphone tested and ends the echo (page and Janus);
forced listen-only never starts one, and without a microphone the level check stands in."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import api, enter, eventually, growing, new_meeting, stats
from tests.e2e.test_media_browser import janus_handles

# The microphone straight away: no audio choice, and the check is not skipped.
MIC_FIRST = {"userdata-bbb_listen_only_mode": "false"}
NO_AUDIO = {"userdata-bbb_auto_join_audio": "false"}


@pytest.fixture(scope="module")
def sala(media_sala: LiveServer) -> LiveServer:
    return media_sala


async def _meter_above(page: Page, selector: str, level: float) -> bool:
    value = await page.eval_on_selector(selector, "m => m.value")
    return float(value) > level


async def _in_audio(page: Page, mode: str, label: str | None = None) -> bool:
    audio = (await stats(page))["audio"]
    return (
        bool(audio)
        and audio["mode"] == mode
        and audio["state"] == "connected"
        and (label is None or audio["micLabel"] == label)
    )


async def _handles_are(server: LiveServer, n: int) -> bool:
    return await janus_handles(server) == n


async def test_the_voice_comes_back_and_yes_joins_with_that_microphone(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Echo", "echo")
    handles_before = await janus_handles(sala)
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR")

    # BBB's audio choice, then the echo test: her voice comes back through Janus.
    await ada.click("#audio-dialog button[value=mic]")
    await expect(ada.locator("#echo-dialog")).to_be_visible()
    await growing(ada, lambda s: s["echo"]["bytesIn"], "the echo's audio arrives")
    await growing(ada, lambda s: s["echo"]["energyIn"], "there is a voice in it", by=1e-4)
    await expect(ada.locator("#echo-status")).to_have_text("Do you hear yourself?")
    await eventually("the meter moves", lambda: _meter_above(ada, "#echo-level", 0.02), within=15)
    assert await ada.eval_on_selector("#echo-audio", "a => a.srcObject !== null && !a.paused")
    assert (await stats(ada))["audio"] is None, "not in the meeting's audio during the test"
    await eventually(
        "one handle on Janus for the echo", lambda: _handles_are(sala, handles_before + 1)
    )

    # "No": the test stops, and another microphone (and the speaker) can be chosen.
    await ada.click("#echo-no")
    await expect(ada.locator("#echo-mic")).to_be_focused()
    await expect(
        ada.locator("#echo-speaker option").filter(has_text="Fake Audio Output 1")
    ).to_have_count(1)
    assert (await stats(ada))["echo"] is None
    await eventually("Janus let go of the echo", lambda: _handles_are(sala, handles_before))
    await ada.locator("#echo-mic").select_option(label="Fake Audio Input 2")
    await ada.click("#echo-retry")
    await expect(ada.locator("#echo-no")).to_be_focused()
    await growing(ada, lambda s: s["echo"]["energyIn"], "the voice comes back again", by=1e-4)
    await expect(ada.locator("#echo-yes")).to_be_enabled()

    # "Yes": in the meeting's audio with the microphone tested; the echo is over.
    await ada.click("#echo-yes")
    await expect(ada.locator("#echo-dialog")).to_be_hidden()
    await eventually("Ada talks with it", lambda: _in_audio(ada, "mic", "Fake Audio Input 2"))
    assert (await stats(ada))["echo"] is None
    await expect(ada.locator("#user-list li[data-user]", has_text="Ada")).to_have_attribute(
        "data-audio", "mic"
    )
    await expect(ada.locator("#mute")).to_be_visible()
    # Janus holds her audio handle only: the echo's was released.
    await eventually("only the audio's handle", lambda: _handles_are(sala, handles_before + 1))
    await growing(ada, lambda s: s["audio"]["bytesOut"], "her voice goes to the meeting")
    assert (await stats(ada))["echoTests"] == 2
    api(sala, "end", meetingID=meeting_id)


async def test_forced_listen_only_never_starts_an_echo_test(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Echo", "echo")
    bea = await enter(
        fake,
        sala,
        meeting_id,
        "Bea",
        "VIEWER",
        **MIC_FIRST,
        **{"userdata-bbb_force_listen_only": "true"},
    )
    await eventually("Bea listens", lambda: _in_audio(bea, "listen"))
    await expect(bea.locator("#echo-dialog")).to_be_hidden()
    # Joining again: listen-only again, never an echo test.
    await bea.click("#audio-leave")
    await bea.click("#audio-join")
    await eventually("Bea listens again", lambda: _in_audio(bea, "listen"))
    await expect(bea.locator("#echo-dialog")).to_be_hidden()
    assert (await stats(bea))["echoTests"] == 0
    api(sala, "end", meetingID=meeting_id)


async def test_the_check_is_skipped_on_the_first_join_only(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = new_meeting(sala, "Echo", "echo")
    cyd = await enter(
        fake,
        sala,
        meeting_id,
        "Cyd",
        "MODERATOR",
        **MIC_FIRST,
        **{"userdata-bbb_skip_check_audio_on_first_join": "true"},
    )
    await eventually("Cyd talks at once", lambda: _in_audio(cyd, "mic"))
    assert (await stats(cyd))["echoTests"] == 0
    # Joining again later: the echo test this time; Escape gives up without joining.
    await cyd.click("#audio-leave")
    await cyd.click("#audio-join")
    await expect(cyd.locator("#echo-dialog")).to_be_visible()
    await growing(cyd, lambda s: s["echo"]["bytesIn"], "the echo runs")
    await cyd.keyboard.press("Escape")
    await expect(cyd.locator("#echo-dialog")).to_be_hidden()

    async def echo_stopped() -> bool:
        return (await stats(cyd))["echo"] is None

    await eventually("the echo test stops", echo_stopped, within=5)
    assert (await stats(cyd))["audio"] is None
    await expect(cyd.locator("#audio-join")).to_be_visible()
    api(sala, "end", meetingID=meeting_id)


async def test_without_a_microphone_the_level_check_says_why(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    _, plain = browsers
    meeting_id = new_meeting(sala, "Echo", "echo")
    dan = await enter(plain, sala, meeting_id, "Dan", "MODERATOR")
    await dan.click("#audio-dialog button[value=mic]")
    await expect(dan.locator("#mic-dialog")).to_be_visible(timeout=15_000)
    await expect(dan.locator("#mic-reason")).to_have_text("No microphone was found.")
    await expect(dan.locator("#echo-dialog")).to_be_hidden()
    # Listen-only from there.
    await dan.click("#mic-dialog button[value=listen]")
    await eventually("Dan listens", lambda: _in_audio(dan, "listen"))
    api(sala, "end", meetingID=meeting_id)


async def test_a_refused_echo_test_falls_back_to_the_level_check(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, plain = browsers
    meeting_id = new_meeting(sala, "Echo", "echo")
    ada = await enter(plain, sala, meeting_id, "Ada", "MODERATOR", **NO_AUDIO)
    bea = await enter(fake, sala, meeting_id, "Bea", "VIEWER")
    await expect(bea.locator("#audio-dialog button[value=mic]")).to_be_visible()
    # While Bea decides, Ada locks viewers' microphones: the server refuses Bea's echo test.
    await ada.click("#manage-users")
    await ada.get_by_role("menuitem", name="Lock viewers…").click()
    await ada.locator("#lock-dialog input[data-lock=disableMic]").check()
    await ada.locator("#lock-dialog").get_by_role("button", name="Apply").click()
    await bea.click("#audio-dialog button[value=mic]")
    await expect(bea.locator("#mic-dialog")).to_be_visible(timeout=15_000)
    await expect(bea.locator("#mic-reason")).to_have_text(
        "Microphones are locked for viewers, so the echo test cannot run."
    )
    # Only listening is offered then.
    await expect(bea.locator("#mic-dialog button[value=ok]")).to_have_count(0)
    assert (await stats(bea))["echo"] is None and (await stats(bea))["echoTests"] == 1
    await bea.click("#mic-dialog button[value=listen]")
    await eventually("Bea listens", lambda: _in_audio(bea, "listen"))
    api(sala, "end", meetingID=meeting_id)

"""Real conferences: Chromium with fake devices, sala and its Janus, in a private network namespace.

Ada and Bea have a fake camera and a fake microphone playing speech (espeak-ng); Cyd's browser
has no devices at all and listens only. What is asserted is what people would notice: audio
arriving with energy in it, webcam and screen frames being decoded, the talking indicator, a
muted voice going silent, and what getMeetingInfo, Janus and the analytics callback say.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import uuid
from functools import partial
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import AUDIO, WEBCAM, api, enter, eventually, growing, stats
from tests.support.janus import count_handles
from tests.support.receiver import Receiver
from tests.xmlutil import parse


@pytest.fixture(scope="module")
def receiver(media_receiver: Receiver) -> Receiver:
    return media_receiver


@pytest.fixture(scope="module")
def sala(media_sala: LiveServer) -> LiveServer:
    return media_sala


def feed_of(s: dict[str, Any], kind: str, user: str | None = None) -> dict[str, Any]:
    return next(
        f for f in s["feeds"].values() if f["kind"] == kind and (user is None or f["user"] == user)
    )


def janus_admin_secret(server: LiveServer) -> tuple[str, str]:
    config = (server.data_dir / "janus" / "janus.jcfg").read_text()
    secret = re.search(r'admin_secret = "([^"]+)"', config)
    port = re.search(
        r"admin_ws_port = (\d+)",
        (server.data_dir / "janus" / "janus.transport.websockets.jcfg").read_text(),
    )
    assert secret and port
    return f"ws://127.0.0.1:{port.group(1)}", secret.group(1)


async def janus_handles(server: LiveServer) -> int:
    return await count_handles(*janus_admin_secret(server))


def janus_pid(server: LiveServer) -> int | None:
    folder = str(server.data_dir / "janus")
    found = subprocess.run(["pgrep", "-f", f"janus -F {folder}"], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    return pids[0] if pids else None


async def test_three_people_hear_and_see_each_other(
    sala: LiveServer, browsers: tuple[Browser, Browser], receiver: Receiver
) -> None:
    fake, plain = browsers
    meeting_id = f"media-{uuid.uuid4()}"
    created = parse(
        api(
            sala,
            "create",
            name="Media",
            meetingID=meeting_id,
            **{"meta_analytics-callback-url": receiver.url("/analytics")},
        )
    )
    assert created.findtext("returncode") == "SUCCESS"
    handles_before = await janus_handles(sala)

    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **AUDIO, **WEBCAM)
    bea = await enter(fake, sala, meeting_id, "Bea", "VIEWER", **AUDIO, **WEBCAM)
    # Cyd's browser has no microphone: listen-only, chosen in the audio dialog.
    cyd = await enter(plain, sala, meeting_id, "Cyd", "VIEWER")
    await cyd.click("#audio-dialog button[value=listen]")

    # Everybody receives the mix, with sound in it (Cyd hears both speakers).
    for page in (ada, bea, cyd):
        await growing(page, lambda s: s["audio"]["bytesIn"], "audio bytes arrive")
        await growing(page, lambda s: s["audio"]["energyIn"], "audio energy arrives", by=1e-4)
    assert (await stats(cyd))["audio"]["mode"] == "listen"
    # Each sees the others' webcams.
    await growing(ada, lambda s: feed_of(s, "camera")["framesDecoded"], "Ada sees Bea")
    await growing(bea, lambda s: feed_of(s, "camera")["framesDecoded"], "Bea sees Ada")
    await eventually("Cyd gets two webcams", lambda: _count_feeds(cyd, "camera", 2))
    await growing(
        cyd, lambda s: min(f["framesDecoded"] for f in s["feeds"].values()), "Cyd sees both"
    )

    # The talking indicator lights up for a speaker: in the user list and on the webcam's tile.
    await cyd.wait_for_selector('#user-list li[data-talking="true"]', timeout=30_000)
    await cyd.wait_for_selector('#videos figure[data-talking="true"]', timeout=30_000)

    info = parse(api(sala, "getMeetingInfo", meetingID=meeting_id))
    assert info.findtext("voiceParticipantCount") == "2"
    assert info.findtext("listenerCount") == "1"
    assert info.findtext("videoCount") == "2"

    # The presenter (Ada, the first moderator) shares a screen; the others see it.
    await ada.click("#screen")
    for page in (bea, cyd):
        await eventually("a screen feed", partial(_count_feeds, page, "screen", 1))
        await growing(page, lambda s: feed_of(s, "screen")["framesDecoded"], "screen frames")

    # Bea mutes herself: Ada (who hears only Bea) stops receiving sound.
    await growing(ada, lambda s: s["audio"]["energyIn"], "Ada hears Bea", by=1e-4)
    await bea.click("#mute")
    await expect(bea.locator("#mute")).to_have_attribute("aria-pressed", "true")
    # Ada sees Bea muted, on Bea's webcam and in the user list.
    await expect(ada.locator('#videos figure[data-muted="true"]', has_text="Bea")).to_be_visible(
        timeout=10_000
    )
    await expect(
        ada.locator('#user-list li[data-audio="mic"]', has_text="Bea").get_by_label(
            "Microphone muted"
        )
    ).to_be_visible()
    await asyncio.sleep(1.5)  # the mixer's buffer drains
    first = (await stats(ada))["audio"]["energyIn"]
    await asyncio.sleep(3.0)
    assert (await stats(ada))["audio"]["energyIn"] - first < 1e-4, "a muted voice is still heard"

    # Bea leaves: her streams stop and Janus lets go of her handles.
    during = await janus_handles(sala)
    await bea.click("#leave-menu")
    await bea.click('[role=menuitem][data-action="leave"]')
    await eventually(
        "Bea's webcam is gone for Ada", lambda: _count_feeds(ada, "camera", 0), within=10
    )
    await eventually("Bea's handles are freed", lambda: _fewer_handles(sala, during - 4), within=10)

    api(sala, "end", meetingID=meeting_id)
    await eventually("all handles freed", lambda: _fewer_handles(sala, handles_before), within=10)

    # The analytics callback counts the talking that happened.
    await eventually("analytics callback", lambda: _has(receiver, "/analytics"), within=30)
    body = json.loads(next(r for r in receiver.accepted() if r.path == "/analytics").body)
    talks = {a["name"]: a["engagement"]["talks"] for a in body["data"]["attendees"]}
    assert talks["Ada"] + talks["Bea"] > 0 and talks["Cyd"] == 0, talks


async def _count_feeds(page: Page, kind: str, n: int) -> bool:
    return sum(1 for f in (await stats(page))["feeds"].values() if f["kind"] == kind) == n


async def _fewer_handles(server: LiveServer, at_most: int) -> bool:
    return await janus_handles(server) <= at_most


async def _has(receiver: Receiver, path: str) -> bool:
    return any(r.path == path for r in receiver.accepted())


async def test_media_comes_back_after_janus_dies(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = f"media-{uuid.uuid4()}"
    api(sala, "create", name="Media", meetingID=meeting_id)
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **AUDIO, **WEBCAM)
    bea = await enter(fake, sala, meeting_id, "Bea", "VIEWER", **AUDIO)
    await growing(bea, lambda s: feed_of(s, "camera")["framesDecoded"], "Bea sees Ada")
    await growing(bea, lambda s: s["audio"]["bytesIn"], "Bea hears")

    [old_feed] = [k for k, f in (await stats(bea))["feeds"].items() if f["kind"] == "camera"]
    pid = janus_pid(sala)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # sala notices and starts Janus again within 5 s...
    await eventually("Janus restarted", lambda: _restarted(sala, pid), within=5, every=0.1)
    # ...and the browsers set their media up again by themselves: Ada publishes anew.
    await eventually(
        "Ada's webcam published again",
        lambda: _feed_changed(bea, old_feed),
    )
    await growing(bea, lambda s: feed_of(s, "camera")["framesDecoded"], "Bea sees Ada again")
    await growing(bea, lambda s: s["audio"]["bytesIn"], "Bea hears again")
    await growing(ada, lambda s: s["audio"]["bytesIn"], "Ada hears again")
    api(sala, "end", meetingID=meeting_id)


async def _feed_changed(page: Page, old: str) -> bool:
    cameras = [k for k, f in (await stats(page))["feeds"].items() if f["kind"] == "camera"]
    return bool(cameras) and old not in cameras


async def _restarted(server: LiveServer, old: int) -> bool:
    pid = janus_pid(server)
    return pid is not None and pid != old

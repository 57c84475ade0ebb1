"""Listen-only through the meeting's one forwarded mix, with real Chromium, sala and its Janus in
a private network namespace.

Ada speaks (a fake microphone playing speech); Bea chooses listen-only, switches to her
microphone and back. What is asserted is what she and an operator would notice: Ada's voice
reaching Bea through the Streaming mountpoint (energy in the received audio), no bridge
participant for a listener, no gap in the audio while switching, getMeetingInfo's counts at every
step, and nothing left on Janus once the meeting ends.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from sala.media.janus.client import JanusError
from tests.conftest import LiveServer
from tests.e2e.conftest import AUDIO, api, enter, eventually, growing, stats
from tests.support.janus import plugin_request
from tests.xmlutil import parse

# Every 100 ms the page notes whether audio bytes arrived on any of its audio connections.
WATCH_FLOW = """() => {
  const flow = { last: {}, times: [] };
  window.audioFlow = flow;
  window.audioFlowTimer = setInterval(async () => {
    const s = await window.salaMedia.stats();
    const now = performance.now();
    const seen = {};
    if (s.audio && s.audio.via === "bridge") seen.bridge = s.audio.bytesIn;
    if (s.listen) seen.stream = s.listen.bytesIn;
    const grew = Object.entries(seen).some(([k, v]) => v > (flow.last[k] ?? 0));
    flow.last = seen;
    if (grew) flow.times.push(now);
  }, 100);
}"""
LONGEST_GAP = """() => {
  const t = window.audioFlow.times;
  let gap = 0;
  for (let i = 1; i < t.length; i++) gap = Math.max(gap, t[i] - t[i - 1]);
  return { gap: gap / 1000, samples: t.length };
}"""


@pytest.fixture(scope="module")
def sala(media_sala: LiveServer) -> LiveServer:
    return media_sala


def janus_api(server: LiveServer) -> tuple[str, str]:
    folder = server.data_dir / "janus"
    secret = re.search(r'api_secret = "([^"]+)"', (folder / "janus.jcfg").read_text())
    ws = (folder / "janus.transport.websockets.jcfg").read_text()
    port = re.search(r"\bws_port = (\d+)", ws)
    ip = re.search(r'\bws_ip = "([^"]+)"', ws)
    assert secret and port and ip
    return f"ws://{ip.group(1)}:{port.group(1)}", secret.group(1)


async def janus(server: LiveServer, plugin: str, **body: Any) -> dict[str, Any]:
    url, secret = janus_api(server)
    return await plugin_request(url, secret, f"janus.plugin.{plugin}", body)


def counts(server: LiveServer, meeting_id: str) -> tuple[str | None, str | None]:
    info = parse(api(server, "getMeetingInfo", meetingID=meeting_id))
    return info.findtext("voiceParticipantCount"), info.findtext("listenerCount")


async def audio_via(page: Page, via: str, alone: bool = True) -> bool:
    s = await stats(page)
    audio = s.get("audio") or {}
    return audio.get("via") == via and (not alone or (s["listen"] is None) == (via == "bridge"))


async def test_a_listener_hears_the_forwarded_mix_and_switches_without_a_gap(
    sala: LiveServer, browsers: tuple[Browser, Browser]
) -> None:
    fake, _ = browsers
    meeting_id = f"listen-{uuid.uuid4()}"
    api(sala, "create", name="Lecture", meetingID=meeting_id)
    room = int(
        str(parse(api(sala, "getMeetingInfo", meetingID=meeting_id)).findtext("voiceBridge"))
    )
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **AUDIO)
    await eventually("Ada in audio", lambda: audio_via(ada, "bridge"))
    # Bea has a microphone too, but chooses listen-only in the audio dialog.
    bea = await enter(
        fake, sala, meeting_id, "Bea", "VIEWER", **{"userdata-bbb_skip_check_audio": "true"}
    )
    await bea.click("#audio-dialog button[value=listen]")
    await eventually("Bea listens to the stream", lambda: audio_via(bea, "stream"))

    # Ada's voice reaches Bea through the mountpoint.
    await growing(bea, lambda s: s["listen"]["bytesIn"], "stream bytes arrive")
    await growing(bea, lambda s: s["listen"]["energyIn"], "Ada's voice arrives", by=1e-4)
    assert counts(sala, meeting_id) == ("1", "1")
    # Janus mixes for Ada alone: Bea is no bridge participant, she watches the one mountpoint.
    bridge = (await janus(sala, "audiobridge", request="listparticipants", room=room))[
        "participants"
    ]
    assert [p["display"] for p in bridge] == ["Ada"]
    assert (await janus(sala, "streaming", request="info", id=room))["info"]["viewers"] == 1
    await expect(bea.locator("#use-mic")).to_be_visible()

    # Listen-only → microphone → listen-only while the page notes every 100 ms whether audio
    # arrived: the old connection plays until the new one is up.
    await bea.evaluate(WATCH_FLOW)
    await bea.click("#use-mic")
    await eventually("Bea on her microphone", lambda: audio_via(bea, "bridge"))
    await expect(bea.locator("#mute")).to_be_visible()
    assert counts(sala, meeting_id) == ("2", "0")
    bridge = (await janus(sala, "audiobridge", request="listparticipants", room=room))[
        "participants"
    ]
    assert sorted(p["display"] for p in bridge) == ["Ada", "Bea"]
    await growing(bea, lambda s: s["audio"]["energyIn"], "Bea hears Ada in the bridge", by=1e-4)

    await bea.click("#use-listen")
    await eventually("Bea listens again", lambda: audio_via(bea, "stream"))
    await growing(bea, lambda s: s["listen"]["energyIn"], "Ada's voice again", by=1e-4)
    flow = await bea.evaluate(LONGEST_GAP)
    await bea.evaluate("clearInterval(window.audioFlowTimer)")
    print(f"longest gap in Bea's received audio while switching: {flow['gap']:.3f} s")
    assert flow["samples"] > 20 and flow["gap"] < 0.6, flow
    assert counts(sala, meeting_id) == ("1", "1")
    bridge = (await janus(sala, "audiobridge", request="listparticipants", room=room))[
        "participants"
    ]
    assert [p["display"] for p in bridge] == ["Ada"]
    # Bea never talked as a listener; the talking indicator shows nobody talking for her.
    await expect(ada.locator('#user-list li[data-talking="true"]', has_text="Bea")).to_have_count(0)

    # The meeting ends: the mountpoint and the forwarder are gone with it.
    api(sala, "end", meetingID=meeting_id)
    await eventually("mountpoint destroyed", lambda: _no_mountpoint(sala), within=10)
    with pytest.raises(JanusError):
        await janus(sala, "audiobridge", request="listforwarders", room=room)


async def _no_mountpoint(server: LiveServer) -> bool:
    return (await janus(server, "streaming", request="list"))["list"] == []

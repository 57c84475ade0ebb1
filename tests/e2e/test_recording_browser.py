"""A recorded meeting end to end: two Chromium participants with fake camera and microphone (and a
third who listens only, through the forwarded mix, and is not recorded) in a
private network namespace, sala with its Janus capturing the media, chat, a page turn and a
drawing, the recording started and stopped by the moderator; after `end`, the pipeline's rap-*
webhooks in order, the playback page in Chromium and in Firefox, the MP4 checked by ffprobe, and unpublish and
delete doing what they say."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import AUDIO, WEBCAM, api, deck_meeting, draw_stroke, enter, growing
from tests.support.firefox import firefox
from tests.support.receiver import Receiver
from tests.xmlutil import parse

PIPELINE = [
    "rap-archive-started",
    "rap-archive-ended",
    "rap-sanity-started",
    "rap-sanity-ended",
    "rap-process-started",
    "rap-process-ended",
    "rap-process-started",
    "rap-process-ended",
    "rap-publish-started",
    "rap-publish-ended",
    "rap-publish-started",
    "rap-publish-ended",
    "rap-published",
]


@pytest.fixture(scope="module")
def receiver(media_receiver: Receiver) -> Receiver:
    return media_receiver


@pytest.fixture(scope="module")
def sala(media_sala: LiveServer) -> LiveServer:
    return media_sala


def rap_events(receiver: Receiver, record_id: str) -> list[str]:
    found = []
    for request in receiver.accepted("/hooks"):
        for event in json.loads(request.form["event"][0]):
            data = event["data"]
            if data["id"].startswith("rap-") and (data["attributes"].get("record-id") == record_id):
                found.append(data["id"])
    return found


async def recording_state(sala: LiveServer, meeting_id: str) -> tuple[str, object]:
    answer = parse(api(sala, "getRecordings", meetingID=meeting_id, state="any"))
    recording = answer.find("recordings/recording")
    if recording is None:
        return "none", answer
    return str(recording.findtext("state")), recording


async def test_a_recorded_meeting_becomes_a_playback_and_an_mp4(
    sala: LiveServer, browsers: tuple[Browser, Browser], receiver: Receiver
) -> None:
    fake, plain = browsers
    hooked = parse(api(sala, "hooks/create", callbackURL=receiver.url("/hooks")))
    assert hooked.findtext("returncode") == "SUCCESS"
    meeting_id = deck_meeting(
        sala, "rec", 2, downloadable=False, record="true", **{"meta_course": "physics-101"}
    )
    ada = await enter(fake, sala, meeting_id, "Ada", "MODERATOR", **AUDIO, **WEBCAM)
    bea = await enter(fake, sala, meeting_id, "Bea", "VIEWER", **AUDIO, **WEBCAM)
    await growing(ada, lambda s: s["audio"]["bytesIn"], "audio flows")
    # Cyd listens only, through the forwarded mix: not in the bridge, so never recorded, and
    # the recording still processes.
    cyd = await enter(plain, sala, meeting_id, "Cyd", "VIEWER")
    await cyd.click("#audio-dialog button[value=listen]")
    await growing(cyd, lambda s: s["listen"]["bytesIn"], "Cyd hears the stream")
    await expect(ada.locator("#slide")).to_have_attribute(
        "alt", "lecture.pdf, page 1 of 2", timeout=15_000
    )
    await expect(bea.locator("#recording")).to_be_hidden()

    # Before the recording starts: said, but not recorded.
    await bea.fill("#chat-text", "before the recording")
    await bea.press("#chat-text", "Enter")
    await asyncio.sleep(2)

    await ada.click("#record")
    await expect(bea.locator("#recording")).to_be_visible()
    marked_at = time.monotonic()
    await bea.fill("#chat-text", "hello recording")
    await bea.press("#chat-text", "Enter")
    await asyncio.sleep(2)
    await ada.click("#next-page")
    await draw_stroke(ada)
    await asyncio.sleep(4)
    await ada.click("#record")
    marked_s = time.monotonic() - marked_at
    await expect(bea.locator("#recording")).to_be_hidden()
    await asyncio.sleep(1)
    assert "SUCCESS" in api(sala, "end", meetingID=meeting_id)

    # Processing, then published, with the pipeline's webhooks in order.
    state, recording = "none", None
    for _ in range(240):
        state, recording = await recording_state(sala, meeting_id)
        if state in ("published", "failed"):
            break
        await asyncio.sleep(0.5)
    assert state == "published", state
    assert recording is not None
    record_id = recording.findtext("recordID")  # type: ignore[attr-defined]
    for _ in range(100):
        if rap_events(receiver, record_id)[: len(PIPELINE)] == PIPELINE:
            break
        await asyncio.sleep(0.2)
    assert rap_events(receiver, record_id) == PIPELINE
    assert recording.findtext("metadata/course") == "physics-101"  # type: ignore[attr-defined]
    formats = {
        f.findtext("type"): f
        for f in recording.findall("playback/format")  # type: ignore[attr-defined]
    }
    assert set(formats) == {"presentation", "video"}
    images = formats["presentation"].findall("preview/images/image")
    assert [i.get("alt") for i in images] == ["lecture.pdf, 1", "lecture.pdf, 2"]
    async with httpx.AsyncClient(timeout=10) as http:
        thumb = await http.get(str(images[0].text))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    length_marked = marked_s

    # The playback page in Chromium: slides, the drawing, the chat, and media that plays.
    viewer = await (await fake.new_context(locale="en-US")).new_page()
    errors: list[str] = []
    viewer.on("pageerror", lambda e: errors.append(str(e)))
    url = formats["presentation"].findtext("url")
    assert url is not None
    await viewer.goto(url)
    await expect(viewer.locator("#slide")).to_have_attribute("data-page", "1", timeout=15_000)
    chat = viewer.locator("#chat li")
    await expect(chat).to_have_count(1)  # the message before the recording is not in it
    await expect(chat.first).to_contain_text("hello recording")
    await expect(viewer.locator("#thumbnails li")).to_have_count(2)
    await viewer.locator("#thumbnails li").nth(1).click()
    await expect(viewer.locator("#slide")).to_have_attribute("data-page", "2")
    await expect(viewer.locator("#drawings polyline")).to_have_count(0)
    # Ada drew after turning the page: at the end of the recording the stroke is there.
    await viewer.evaluate("window.salaPlayer.seek(window.salaPlayer.data.duration - 200)")
    await expect(viewer.locator("#drawings polyline")).to_have_count(1, timeout=10_000)
    played = await viewer.evaluate(
        """async () => {
            const audio = document.getElementById("audio");
            audio.muted = true;
            audio.currentTime = 0.5;
            await audio.play();
            await new Promise((r) => setTimeout(r, 1500));
            const cams = [...document.querySelectorAll("#cameras video")];
            return { audio: audio.currentTime, duration: audio.duration,
                     cams: cams.map((v) => v.readyState >= 2 && !v.hidden) };
        }"""
    )
    assert played["audio"] > 1.0
    assert abs(played["duration"] - length_marked) < 2.5
    assert any(played["cams"])
    await viewer.locator("#search").fill("recording")
    await expect(viewer.locator("#results li")).to_have_count(1)
    # Captions uploaded with putRecordingTextTrack play along.
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:01:00.000\nBom dia a todos\n"
    query = urlencode({"recordID": record_id, "kind": "captions", "lang": "pt-BR"})
    digest = hashlib.sha1(f"putRecordingTextTrack{query}{sala.secret}".encode()).hexdigest()
    async with httpx.AsyncClient(timeout=10) as http:
        put = await http.post(
            f"{sala.api_url}putRecordingTextTrack?{query}&checksum={digest}",
            files={"file": ("captions.vtt", vtt)},
        )
    assert put.json()["response"]["returncode"] == "SUCCESS", put.text
    await viewer.reload()
    await viewer.locator("#captions").select_option(label="pt-BR")
    await viewer.evaluate("window.salaPlayer.seek(1000)")
    await expect(viewer.locator("#caption")).to_have_text("Bom dia a todos")

    # l=media: the media alone, no slides or chat.
    await viewer.goto(f"{url}?l=media")
    await expect(viewer.locator("#cameras video").first).to_be_attached(timeout=15_000)
    await expect(viewer.locator(".stage")).to_be_hidden()
    await expect(viewer.locator("#chat")).to_be_hidden()
    await expect(viewer.locator("#audio")).to_be_visible()
    assert errors == []

    # The same page in Firefox (Debian's, over WebDriver BiDi): slides, chat, media playing.
    async with firefox() as fox:
        await fox.goto(url)
        await fox.wait_for("document.getElementById('slide').dataset.page === '1'")
        assert await fox.evaluate("document.querySelectorAll('#chat li').length") == 1
        assert await fox.evaluate("document.getElementById('slide').naturalWidth") == 1600
        in_firefox = await fox.evaluate(
            """(async () => {
                const audio = document.getElementById("audio");
                audio.muted = true;
                await audio.play();
                await new Promise((r) => setTimeout(r, 1500));
                const cams = [...document.querySelectorAll("#cameras video")];
                return { audio: audio.currentTime,
                         cams: cams.map((v) => v.readyState >= 2 && !v.hidden) };
            })()"""
        )
        assert in_firefox["audio"] > 0.8
        assert any(in_firefox["cams"])

    # The MP4: H.264 and AAC, as long as the marked part.
    mp4 = sala.data_dir / "recordings" / record_id / "video" / "video.mp4"
    ffprobe = await asyncio.create_subprocess_exec(
        "ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(mp4),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(ffprobe.communicate(), 30)
    probe = json.loads(out)
    codecs = {s["codec_type"]: s["codec_name"] for s in probe["streams"]}
    assert codecs == {"video": "h264", "audio": "aac"}
    assert abs(float(probe["format"]["duration"]) - length_marked) < 2.5
    video_url = formats["video"].findtext("url")
    assert video_url is not None
    async with httpx.AsyncClient(timeout=10) as http:
        served = await http.get(video_url + "video.mp4", headers={"Range": "bytes=0-99"})
        assert served.status_code == 206 and len(served.content) == 100

        # updateRecordings changes what getRecordings and the playback say of it.
        assert "SUCCESS" in api(sala, "updateRecordings", recordID=record_id, meta_course="chem-2")
        assert (await http.get(f"{url}/metadata.json")).json()["metadata"]["course"] == "chem-2"
        updated = (await recording_state(sala, meeting_id))[1]
        assert updated.findtext("metadata/course") == "chem-2"  # type: ignore[attr-defined]

        # Unpublished: unreachable. Deleted: files and entry gone.
        unpublish = {"recordID": record_id, "publish": "false"}
        assert "SUCCESS" in api(sala, "publishRecordings", **unpublish)
        assert (await http.get(url)).status_code == 404
        assert (await http.get(f"{url}/recording.json")).status_code == 404
        assert "SUCCESS" in api(sala, "publishRecordings", recordID=record_id, publish="true")
        assert (await http.get(url)).status_code == 200
        assert "SUCCESS" in api(sala, "deleteRecordings", recordID=record_id)
        assert (await http.get(url)).status_code == 404
    assert not (sala.data_dir / "recordings" / record_id).exists()
    assert (await recording_state(sala, meeting_id))[0] == "deleted"

"""A lecture of synthetic participants (tests/support/synthetic): real joins, the real room
protocol and real WebRTC with sala's own Janus, in a private network namespace.

20 listeners, 2 speakers playing tones of known frequencies, a presenter publishing a webcam
and 3 of the listeners watching it. What a user would notice is checked: every listener hears
both speakers (the tones are in what it receives, and the same listener heard silence before
anybody spoke), the webcam's frames arrive, loss is counted, and getMeetingInfo's counts are
exact. It runs with listeners on each path: "stream" (the listen-only stream the browser client
uses: one forwarded mix) and "bridge" (a receive-only join of the AudioBridge, which older
clients use).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sala.config import load_settings
from tests.conftest import SECRET
from tests.room.conftest import RoomServer, serve_room
from tests.support.netns import media_network
from tests.support.synthetic import EncodedClip, ListenPath, SyntheticParticipant, make
from tests.support.synthetic.clips import camera_argv, tone_argv
from tests.xmlutil import parse

LISTENERS = 20
WATCHERS = 3
TONES = (500.0, 800.0)
"""One tone per speaker, peak 0.3 of full scale; neither is a harmonic of the other."""
HEARD = 0.03
"""Amplitude (of full scale) above which a tone counts as heard. The mix of silence decodes
to about 0 and a speaker's tone to about 0.3; Opus and the mixer lose little of it."""


@dataclass(frozen=True)
class Clips:
    tones: tuple[EncodedClip, ...]
    camera: EncodedClip


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is needed: run scripts/install-test-deps")
    folder = tmp_path_factory.mktemp("clips")
    tones = []
    for frequency in TONES:
        path = folder / f"tone-{int(frequency)}.ogg"
        make(tone_argv(path, frequency, seconds=10))
        tones.append(EncodedClip.load(path))
    make(camera_argv(folder / "camera.ivf", seconds=4))
    return Clips(tuple(tones), EncodedClip.load(folder / "camera.ivf"))


@pytest.fixture
def namespace() -> Iterator[str]:
    with media_network() as address:
        yield address


@pytest.fixture
async def lecture_server(namespace: str, tmp_path: Path) -> AsyncIterator[RoomServer]:
    """sala in this event loop with its own Janus offering media on the namespace's address
    (SQLite: the counts are the room's, whatever the store)."""
    settings = load_settings(
        secret=SECRET, data_dir=tmp_path / "data", media=True, media_ip=namespace
    )
    async with serve_room(settings) as server:
        yield server


@pytest.mark.parametrize("listen_path", ["stream", "bridge"])
async def test_a_lecture_of_synthetic_participants(
    lecture_server: RoomServer, namespace: str, clips: Clips, listen_path: ListenPath
) -> None:
    server = lecture_server
    meeting_id = await server.create()
    everybody: list[SyntheticParticipant] = []

    async def join(name: str, role: str = "VIEWER", follow: bool = False) -> SyntheticParticipant:
        participant = await SyntheticParticipant.join(
            server.http, server.base, server.secret, meeting_id, name,
            role=role, address=namespace, follow_feeds=follow,
        )  # fmt: skip
        everybody.append(participant)
        return participant

    try:
        presenter = await join("Presenter", "MODERATOR")
        camera = await presenter.publish(clips.camera)

        listeners = [await join(f"Listener {i}", follow=i < WATCHERS) for i in range(LISTENERS)]
        await asyncio.gather(*(p.listen(listen_path) for p in listeners))
        await asyncio.gather(*(p.flowing() for p in listeners))
        await asyncio.sleep(1.0)  # a whole window of the mix before anybody speaks
        silence = [p.report(TONES).hearing for p in listeners]

        speakers = [await join(f"Speaker {i}") for i in range(len(TONES))]
        for speaker, tone in zip(speakers, clips.tones, strict=True):
            await speaker.speak(tone)
        watchers = listeners[:WATCHERS]
        for watcher in watchers:
            assert await watcher.wait_for_feeds("camera") == [camera]
            await watcher.subscribe(camera)
        await asyncio.gather(*(p.flowing() for p in [*watchers, *speakers]))
        await asyncio.sleep(2.0)  # both tones fill the last second of every listener's mix

        info = parse(await server.api("getMeetingInfo", meetingID=meeting_id))
        reports = {p.name: p.report(TONES) for p in everybody}
    finally:
        await asyncio.gather(*(p.close() for p in everybody), return_exceptions=True)

    # Silence did not pass for a voice: the threshold means something.
    for heard in silence:
        assert heard is not None and heard.seconds > 0.5
        assert all(amplitude < HEARD for amplitude in heard.tones.values()), heard
    # Every listener hears both speakers, through the mix.
    for i in range(LISTENERS):
        report = reports[f"Listener {i}"]
        assert report.audio == ("listen" if listen_path == "bridge" else "stream")
        assert report.mix is not None and report.mix.packets > 100, report
        assert report.hearing is not None
        assert all(report.hearing.tones[f] > HEARD for f in TONES), (report.name, report.hearing)
        assert report.mix.loss < 0.01, report
    # Each speaker hears the other one and not itself (AudioBridge leaves one's own voice out).
    for speaker, own, other in (("Speaker 0", 500.0, 800.0), ("Speaker 1", 800.0, 500.0)):
        heard = reports[speaker].hearing
        assert heard is not None and heard.tones[other] > HEARD > heard.tones[own], heard
        assert reports[speaker].sent["mic"] > 100
    # The webcam's frames reach whoever watches it, and only them.
    for i in range(LISTENERS):
        videos = reports[f"Listener {i}"].videos
        if i >= WATCHERS:
            assert videos == {}
            continue
        video = videos[camera]
        assert video.frames >= 15 and video.keyframes >= 1, video
        assert (video.width, video.height) == (320, 240)
        assert video.loss < 0.01, video
    assert reports["Presenter"].sent["camera"] >= 30

    assert info.findtext("participantCount") == str(LISTENERS + len(TONES) + 1)
    assert info.findtext("listenerCount") == str(LISTENERS)
    assert info.findtext("voiceParticipantCount") == str(len(TONES))
    assert info.findtext("videoCount") == "1"

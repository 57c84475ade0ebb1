"""The recording pipeline on media made for the test (tests/support/mjr.py), run by the real
tools (janus-pp-rec, ffmpeg): what ends up published, what a broken capture does, and what a
restart or an operator's reprocess do.

The meeting's time is a ManualClock; captures are written with matching epoch times, so the
recording's marks cut them exactly where a real meeting would."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import select, update

from sala.clock import ManualClock
from sala.events import types
from sala.events.log import read_all_events
from sala.recordings.capture import capture_name, raw_dir
from sala.store import tables
from tests.conftest import Api
from tests.events.test_webhooks import deliver
from tests.support import mjr
from tests.support.receiver import Receiver
from tests.xmlutil import parse


async def recorded_meeting(
    api: Api,
    clock: ManualClock,
    meeting_id: str,
    *,
    marks: bool = True,
    camera: bool = True,
    voice: bool = True,
    **params: str,
) -> str:
    """A meeting with a voice from its start and a webcam from 0.5 s, recorded from 1 s to 4 s,
    ended at 5 s; returns the record ID."""
    meetings = api.services.meetings
    created = parse(
        (
            await api.get(
                "create", {"meetingID": meeting_id, "name": "Lecture", "record": "true", **params}
            )
        ).text
    )
    assert created.findtext("returncode") == "SUCCESS"
    record_id = str(created.findtext("internalMeetingID"))
    origin = clock.now_ms()
    raw = raw_dir(api.services.settings.recordings_root, record_id)
    raw.mkdir(parents=True)
    if voice:
        mjr.voice(raw / f"{capture_name('voice', 'w_ada', origin)}-audio.mjr", origin, 6)
    if camera:
        mjr.video(
            raw / f"{capture_name('camera', 'w_ada', origin + 500)}-video-0.mjr", origin + 500, 5
        )
    clock.advance(seconds=1)
    if marks:
        await meetings.log_event(record_id, types.RECORDING_STARTED, {})
    clock.advance(seconds=1)
    await meetings.log_event(
        record_id, types.CHAT_MESSAGE, {"message": "on the record", "sender_name": "Ada"}
    )
    clock.advance(seconds=2)
    if marks:
        await meetings.log_event(record_id, types.RECORDING_STOPPED, {})
    clock.advance(seconds=1)
    parse((await api.get("end", {"meetingID": meeting_id})).text)
    return record_id


async def run_pipeline(api: Api) -> None:
    pipeline = api.services.pipeline
    while await pipeline.run_once():
        await pipeline.idle()
    await pipeline.idle()


async def rap_events(api: Api, record_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with api.services.db.read() as conn:
        events = await read_all_events(conn, record_id)
    return [(e.type, e.data) for e in events if e.type.startswith("rap-")]


async def get_recording(api: Api, record_id: str) -> Any:
    answer = parse((await api.get("getRecordings", {"recordID": record_id, "state": "any"})).text)
    return answer.find("recordings/recording")


async def test_a_recorded_meeting_is_published_in_both_formats(
    api: Api, clock: ManualClock, receiver: Receiver
) -> None:
    ready = receiver.url("/ready")
    record_id = await recorded_meeting(
        api, clock, "lecture", **{"meta_bbb-recording-ready-url": ready}
    )
    assert await get_recording(api, record_id) is None
    await api.services.pipeline.discover()
    recording = await get_recording(api, record_id)
    assert recording.findtext("state") == "processing"

    await run_pipeline(api)
    recording = await get_recording(api, record_id)
    assert recording.findtext("state") == "published"
    assert recording.findtext("published") == "true"
    assert int(recording.findtext("rawSize")) > 0
    formats = {f.findtext("type"): f for f in recording.findall("playback/format")}
    assert set(formats) == {"presentation", "video"}
    assert (
        formats["presentation"].findtext("url").endswith(f"/playback/presentation/2.3/{record_id}")
    )
    kinds = [kind for kind, _ in await rap_events(api, record_id)]
    assert kinds == [
        "rap-archive-started", "rap-archive-ended", "rap-sanity-started", "rap-sanity-ended",
        "rap-process-started", "rap-process-ended", "rap-process-started", "rap-process-ended",
        "rap-publish-started", "rap-publish-ended", "rap-publish-started", "rap-publish-ended",
        "rap-published",
    ]  # fmt: skip
    ended = dict(await rap_events(api, record_id))["rap-archive-ended"]
    assert ended["duration"] == 3000 and ended["success"] is True

    root = api.services.settings.recordings_root / record_id
    document = json.loads((root / "presentation" / "recording.json").read_text())
    assert document["duration"] == 3000
    assert document["chat"] == [{"t": 1000, "name": "Ada", "text": "on the record"}]
    [camera] = document["videos"]
    # The webcam ran from 0.5 s to 5.5 s; recorded from 1 s to 4 s: the piece that shows.
    assert camera["pieces"] == [{"from": 0, "to": 3000, "offset": 500}]
    presentation = api.services.settings.recordings_root / record_id / "presentation"
    assert abs(await _duration(presentation / "audio.ogg") - 3.0) < 0.05

    # Greenlight's recording-ready callback: a JWT naming the meeting and the recording.
    await deliver(api)
    [call] = receiver.accepted("/ready")
    token = call.form["signed_parameters"][0]
    claims = jwt.decode(token, api.secret, algorithms=["HS256"])
    assert claims == {"meeting_id": "lecture", "record_id": record_id}


async def _duration(path: Path) -> float:
    from sala.recordings.tools import duration_ms

    return await duration_ms(path) / 1000


async def test_a_meeting_without_any_media_still_gets_its_playback(
    api: Api, clock: ManualClock
) -> None:
    """Media off, or nobody with a microphone or camera: slides and chat, over silence."""
    record_id = await recorded_meeting(api, clock, "silent", camera=False, voice=False)
    await run_pipeline(api)
    assert (await get_recording(api, record_id)).findtext("state") == "published"
    folder = api.services.settings.recordings_root / record_id
    document = json.loads((folder / "presentation" / "recording.json").read_text())
    assert document["videos"] == [] and document["duration"] == 3000
    assert abs(await _duration(folder / "presentation" / "audio.ogg") - 3.0) < 0.1
    assert (folder / "video" / "video.mp4").exists()
    assert not (folder / "work").exists()  # intermediate files go once published


async def test_meetings_not_marked_are_not_recorded(api: Api, clock: ManualClock) -> None:
    record_id = await recorded_meeting(api, clock, "unmarked", marks=False)
    await run_pipeline(api)
    assert await get_recording(api, record_id) is None


async def test_a_broken_capture_fails_with_its_reason_and_harms_no_other(
    api: Api, clock: ManualClock
) -> None:
    broken = await recorded_meeting(api, clock, "broken", camera=False)
    raw = raw_dir(api.services.settings.recordings_root, broken)
    mjr.corrupt(raw / f"{capture_name('screen', 'w_bea', clock.now_ms())}-video-0.mjr")
    clock.advance(seconds=10)
    fine = await recorded_meeting(api, clock, "fine", camera=False)

    await run_pipeline(api)
    assert (await get_recording(api, broken)).findtext("state") == "failed"
    assert (await get_recording(api, fine)).findtext("state") == "published"
    jobs = {j["record_id"]: j for j in await api.services.pipeline.list_jobs()}
    assert jobs[broken]["state"] == "failed"
    assert "not a readable Janus recording" in jobs[broken]["error"]
    assert ("rap-sanity-ended", {"record_id": broken, "success": False}) in [
        (k, {x: v for x, v in d.items() if x != "step_time"})
        for k, d in await rap_events(api, broken)
    ]
    # Failed recordings are not listed by default (published and unpublished only).
    default = parse((await api.get("getRecordings", {"recordID": broken})).text)
    assert default.find("recordings/recording") is None

    # The operator removes the bad file and reprocesses: it goes through.
    for bad in raw.glob("screen-*.mjr"):
        bad.unlink()
    assert await api.services.pipeline.reprocess(broken)
    await run_pipeline(api)
    assert (await get_recording(api, broken)).findtext("state") == "published"


async def test_captures_cut_short_by_a_killed_media_node_still_make_the_recording(
    api: Api, clock: ManualClock
) -> None:
    """A media node killed with SIGKILL leaves its captures as far as Janus had flushed them:
    a voice cut in the middle of a packet, a listener's capture empty (nothing flushed) or
    holding only Janus' 8-byte mark (a listen-only participant sends nothing). The recording is
    made from what was written: the cut voice is in it, the empty ones are left out."""
    record_id = await recorded_meeting(api, clock, "cut", camera=False, voice=False)
    raw = raw_dir(api.services.settings.recordings_root, record_id)
    origin = clock.now_ms() - 5000
    whole = raw / f"{capture_name('voice', 'w_ada', origin)}-audio.mjr"
    mjr.voice(whole, origin, 6)
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2 + 37])  # as a killed Janus left it
    (raw / f"{capture_name('voice', 'w_bea', origin)}-audio.mjr").write_bytes(b"")
    (raw / f"{capture_name('voice', 'w_bea', origin + 900)}-audio.mjr").write_bytes(b"MJR00002")

    await run_pipeline(api)
    assert (await get_recording(api, record_id)).findtext("state") == "published"
    # Recorded from 1 s to 4 s; what was written of Ada's voice reaches past 2 s.
    mix = api.services.settings.recordings_root / record_id / "presentation" / "audio.ogg"
    assert await _loudest_db(mix, 0.0, 1.5) > -30


async def _loudest_db(path: Path, begin: float, end: float) -> float:
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-hide_banner", "-ss", str(begin), "-t", str(end - begin),
        "-i", str(path), "-af", "volumedetect", "-f", "null", "-",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    found = re.search(r"max_volume: (-?[\d.]+) dB", err.decode())
    assert found is not None, err.decode()
    return float(found[1])


async def test_a_restart_resumes_at_the_step_it_was_in(api: Api, clock: ManualClock) -> None:
    record_id = await recorded_meeting(api, clock, "resumed", camera=False)
    pipeline = api.services.pipeline
    await pipeline.discover()
    # As if a worker had archived it and died while processing: its lease lapsed.
    async with api.services.db.write() as conn:
        await conn.execute(
            update(tables.recording_jobs)
            .where(tables.recording_jobs.c.record_id == record_id)
            .values(
                step="sanity",
                state="running",
                leased_by="dead-worker",
                lease_until=clock.now_ms() - 1,
            )
        )
    from sala.recordings.archive import archive

    await archive(
        api.services.db,
        api.services.settings.recordings_root,
        api.services.settings.data_dir / "presentations",
        record_id,
    )
    await run_pipeline(api)
    kinds = [kind for kind, _ in await rap_events(api, record_id)]
    assert kinds[0] == "rap-sanity-started"  # archive was not done again
    assert (await get_recording(api, record_id)).findtext("state") == "published"
    async with api.services.db.read() as conn:
        job = (
            await conn.execute(
                select(tables.recording_jobs).where(tables.recording_jobs.c.record_id == record_id)
            )
        ).one()
    assert (job.step, job.state, job.attempts) == ("done", "done", 1)


async def test_each_ended_meeting_is_queued_once(api: Api, clock: ManualClock) -> None:
    record_id = await recorded_meeting(api, clock, "once", camera=False)
    pipeline = api.services.pipeline
    assert await pipeline.discover() > 0
    assert await pipeline.discover() == 0
    async with api.services.db.write() as conn:
        # Replaying the log from the start queues nothing twice.
        await conn.execute(
            update(tables.log_cursors)
            .where(tables.log_cursors.c.name == "recordings")
            .values(last_xid=0, last_event_id=0)
        )
    await pipeline.discover()
    assert [j["record_id"] for j in await pipeline.list_jobs()] == [record_id]


async def test_operators_list_reprocess_and_delete_from_the_command_line(
    api: Api, clock: ManualClock
) -> None:
    settings = api.services.settings
    broken = await recorded_meeting(api, clock, "cli", camera=False)
    raw = raw_dir(settings.recordings_root, broken)
    mjr.corrupt(raw / f"{capture_name('camera', 'w_bea', clock.now_ms())}-video-0.mjr")
    await run_pipeline(api)

    def sala(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SALA_")}
        env.update(SALA_DATA_DIR=str(settings.data_dir), SALA_SECRET=api.secret)
        if settings.database_url:
            env["SALA_DATABASE_URL"] = settings.database_url
        return subprocess.run(
            [sys.executable, "-m", "sala", "recordings", *args],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip

    listed = await asyncio.to_thread(sala, "list")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{broken}  failed")
    assert "not a readable Janus recording" in line

    for bad in raw.glob("camera-*.mjr"):
        bad.unlink()
    requeued = await asyncio.to_thread(sala, "reprocess", broken)
    assert requeued.returncode == 0 and "ok" in requeued.stdout
    await run_pipeline(api)
    assert (await get_recording(api, broken)).findtext("state") == "published"

    unknown = await asyncio.to_thread(sala, "delete", "no-such-recording")
    assert unknown.returncode == 1 and "not found" in unknown.stdout
    deleted = await asyncio.to_thread(sala, "delete", broken)
    assert deleted.returncode == 0
    assert not (settings.recordings_root / broken).exists()
    assert (await get_recording(api, broken)).findtext("state") == "deleted"


async def test_a_recording_no_longer_wanted_is_not_announced_again(
    api: Api, clock: ManualClock, receiver: Receiver
) -> None:
    """BBB's rule for the recording-ready callback: 410 means the caller does not want it."""
    calls: list[str] = []
    receiver.respond = lambda r: calls.append(r.path) or 410
    await recorded_meeting(
        api, clock, "unwanted", camera=False, **{"meta_bbb-recording-ready-url": receiver.url("/r")}
    )
    await run_pipeline(api)
    await deliver(api)
    clock.advance(hours=1)
    await deliver(api)
    assert calls.count("/r") == 1
    async with api.services.outbox.read() as conn:
        statuses = (
            (
                await conn.execute(
                    select(tables.deliveries.c.status).where(
                        tables.deliveries.c.kind == "recording_ready"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert statuses == ["rejected"]


async def test_a_recording_deleted_before_processing_stays_deleted(
    api: Api, clock: ManualClock
) -> None:
    record_id = await recorded_meeting(api, clock, "regretted", camera=False)
    await api.services.pipeline.discover()
    assert "SUCCESS" in (await api.get("deleteRecordings", {"recordID": record_id})).text
    await run_pipeline(api)
    assert (await get_recording(api, record_id)).findtext("state") == "deleted"
    assert not (api.services.settings.recordings_root / record_id).exists()
    [job] = await api.services.pipeline.list_jobs()
    assert (job["state"], job["step"]) == ("done", "archive")
    kinds = [kind for kind, _ in await rap_events(api, record_id)]
    assert kinds == ["rap-deleted"]

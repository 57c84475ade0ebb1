"""Recording processing time, as a ratio of the recording's length, for each format.

    .venv/bin/python -m bench.recording [--minutes 10] [--json out.json] [--keep DIR]

A recorded meeting is generated, then processed by the real pipeline (sala/recordings) with the
real tools, and each step's time is printed:

- media, written in Janus' .mjr format as AudioBridge and VideoRoom record it
  (tests/support/mjr.py): two voices (Opus) for the whole meeting, two webcams (VP8, 640×480,
  15 fps) for the whole meeting, and a screen share (VP8, 1280×720, 5 fps) for its middle third;
- the room's log: a 20-page PDF uploaded with create (converted as sala converts uploads), a page
  turn every 30 s, a pen stroke every 10 s, a chat message every 15 s, shared-notes edits, and
  the recording marked from start to end.

The meeting's events carry the times of a ManualClock, so generating a ten-minute meeting takes
the time ffmpeg needs to encode its test media (printed apart), not ten minutes. The ratios use
each format's `rap-process-ended` step time (what getRecordings reports as processingTime);
archive and sanity, shared by both formats, are printed too. Targets (issue "Recordings"):
presentation ≤ 0.02×, video ≤ 0.25× on a 2-core machine; BBB takes about 1×.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.api import sala_revision
from sala.clock import ManualClock, SystemClock
from sala.config import load_settings
from sala.events import types
from sala.events.log import read_all_events
from sala.meetings.rules import EndReason
from sala.meetings.specs import CreateSpec
from sala.recordings.capture import capture_name, raw_dir
from sala.room.notes import encode_update
from sala.services import build_services
from tests.presentations.documents import pdf
from tests.support import mjr


def notes_edit(text: str, client: int) -> str:
    from pycrdt import Doc, Text

    doc: Doc[Text] = Doc(client_id=client)
    doc.get("notes", type=Text).insert(0, text)
    return encode_update(doc.get_update())


async def generate(services: Any, clock: ManualClock, minutes: float) -> tuple[str, float]:
    """The recorded meeting; returns its record ID and the seconds spent making media."""
    seconds = minutes * 60
    deck = base64.b64encode(await asyncio.to_thread(pdf, 20, (1280, 720))).decode()
    modules = (
        '<modules><module name="presentation">'
        f'<document filename="lecture.pdf">{deck}</document></module></modules>'
    )
    created = await services.meetings.create(
        CreateSpec(external_id="bench-recording", name="Bench lecture", record=True),
    )
    record_id = created.meeting.internal_id
    from sala.api.documents import uploads_from
    from sala.api.modules import parse_documents

    await services.presentations.add(record_id, uploads_from(parse_documents(modules)))
    await services.presentations.wait_idle()
    [document] = await services.presentations.of_meeting(record_id)
    origin = clock.now_ms()
    raw = raw_dir(services.settings.recordings_root, record_id)
    raw.mkdir(parents=True)
    started = time.perf_counter()
    jobs = [
        asyncio.to_thread(
            mjr.voice, raw / f"{capture_name('voice', user, origin)}-audio.mjr", origin, seconds, hz
        )
        for user, hz in (("w_ada", 220), ("w_bea", 330))
    ]
    jobs += [
        asyncio.to_thread(
            mjr.video,
            raw / f"{capture_name('camera', user, origin)}-video-0.mjr",
            origin,
            seconds,
            "640x480",
            15,
        )
        for user in ("w_ada", "w_bea")
    ]
    share_from = origin + int(seconds * 1000 / 3)
    jobs.append(
        asyncio.to_thread(
            mjr.video,
            raw / f"{capture_name('screen', 'w_ada', share_from)}-video-0.mjr",
            share_from,
            seconds / 3,
            "1280x720",
            5,
        )
    )
    await asyncio.gather(*jobs)
    media_s = time.perf_counter() - started

    meetings = services.meetings
    await meetings.log_event(record_id, types.RECORDING_STARTED, {})
    where = {"presentation": document.id}
    for second in range(1, int(seconds)):
        clock.advance(seconds=1)
        page = 1 + (second // 30) % 20
        if second % 30 == 0:
            await meetings.log_event(record_id, types.PAGE_CHANGED, {**where, "page": page})
        if second % 10 == 0:
            shape = {
                "id": f"s{second}",
                "tool": "pen",
                "points": [[0.1 + i / 80, 0.3 + (i % 5) / 40] for i in range(40)],
                "color": "#e11d48",
                "width": 0.004,
                "author": "w_ada",
            }
            await meetings.log_event(
                record_id,
                types.WHITEBOARD_ADDED,
                {**where, "page": page, "shape": shape},
            )
        if second % 15 == 0:
            await meetings.log_event(
                record_id,
                types.CHAT_MESSAGE,
                {"message": f"question number {second // 15}", "sender_name": "Bea"},
            )
        if second % 60 == 0:
            edit = notes_edit(f"minute {second // 60}\n", second)
            await meetings.log_event(record_id, types.NOTES_UPDATED, {"update": edit})
    clock.advance(seconds=1)
    await meetings.log_event(record_id, types.RECORDING_STOPPED, {})
    await meetings.end_by_internal_id(record_id, EndReason.END_API)
    return record_id, media_s


async def amain(args: argparse.Namespace) -> int:
    print(f"command: {' '.join(sys.argv)}")
    print(f"sala: {sala_revision()}; {os.cpu_count()} CPUs")
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="sala-bench-rec-"))
    tmp.mkdir(parents=True, exist_ok=True)
    settings = load_settings(secret="bench", data_dir=tmp / "data", media=False)
    clock = ManualClock(SystemClock().now_ms())
    services = build_services(settings, clock)
    await services.db.migrate()
    try:
        record_id, media_s = await generate(services, clock, args.minutes)
        print(f"\ngenerated a {args.minutes:g}-minute recorded meeting (media: {media_s:.1f} s)")
        pipeline = services.pipeline
        started = time.perf_counter()
        await pipeline.run_once()
        await pipeline.idle()
        wall = time.perf_counter() - started
        jobs = await pipeline.list_jobs()
        if jobs[0]["state"] != "done":
            print(f"FAILED: {jobs[0]['error']}")
            return 1
        async with services.db.read() as conn:
            events = await read_all_events(conn, record_id)
        steps = {}
        for event in events:
            if event.type.endswith("-ended") and event.type.startswith("rap-"):
                name = event.type.removeprefix("rap-").removesuffix("-ended")
                workflow = event.data.get("workflow")
                steps[f"{name}:{workflow}" if workflow else name] = event.data["step_time"]
        length_s = args.minutes * 60
        result: dict[str, Any] = {"minutes": args.minutes, "wall_s": wall, "steps_ms": steps}
        print(f"pipeline wall time: {wall:.1f} s for {length_s:.0f} s of recording")
        for step, ms in steps.items():
            print(f"  {step:<22} {ms / 1000:7.2f} s")
        for fmt in ("presentation", "video"):
            ratio = steps[f"process:{fmt}"] / 1000 / length_s
            result[f"{fmt}_ratio"] = ratio
            print(f"{fmt}: {ratio:.4f}× the recording's length")
        folder = services.settings.recordings_root / record_id
        size = {
            part: sum(f.stat().st_size for f in (folder / part).rglob("*") if f.is_file())
            for part in ("raw", "presentation", "video")
        }
        result["bytes"] = size
        print("sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in size.items()))
        if args.json:
            await asyncio.to_thread(Path(args.json).write_text, json.dumps(result, indent=2))
    finally:
        await services.http.aclose()
        await services.db.dispose()
        if services.outbox is not services.db:
            await services.outbox.dispose()
        if not args.keep:
            shutil.rmtree(tmp, True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--json")
    parser.add_argument("--keep", help="keep the generated meeting and its recording here")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

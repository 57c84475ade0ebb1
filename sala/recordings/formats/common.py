"""What both formats start from: the archive read back, the timeline, and the prepared streams
with the mixed voices (made once per recording in `<record id>/work/`)."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sala.events.log import MeetingEvent
from sala.recordings.archive import read_archive
from sala.recordings.capture import raw_dir
from sala.recordings.streams import Stream, mix_voices, prepare
from sala.recordings.timeline import Clock, Timeline, build_timeline


@dataclass
class Material:
    record_id: str
    archive: dict[str, Any]
    timeline: Timeline
    clock: Clock
    streams: list[Stream]
    mix: Path
    """The voices on the recording's clock (WAV)."""
    raw: Path

    def name_of(self, user_id: str) -> str:
        return str(self.archive["names"].get(user_id, ""))

    def videos(self) -> list[tuple[Stream, list[tuple[int, int, int]]]]:
        """Each webcam and screen with its recorded pieces (meeting start, end, recording
        start); streams that ran only outside the segments are left out."""
        found = []
        for stream in self.streams:
            if stream.kind == "voice":
                continue
            pieces = self.clock.pieces(stream.first_ms, stream.end_ms)
            if pieces:
                found.append((stream, pieces))
        return found


async def gather(root: Path, record_id: str) -> Material:
    raw = raw_dir(root, record_id)
    archive = await asyncio.to_thread(read_archive, raw)
    events = [MeetingEvent(**e) for e in archive["events"]]
    timeline = build_timeline(events, int(archive["end_time"]))
    clock = Clock(timeline.segments)
    work = root / record_id / "work"
    streams = await prepare(raw, work)
    mix = work / "voices.wav"
    if not mix.exists():
        partial = work / "partial-voices.wav"
        await mix_voices([s for s in streams if s.kind == "voice"], clock, partial)
        partial.replace(mix)
    return Material(record_id, archive, timeline, clock, streams, mix, raw)


def link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

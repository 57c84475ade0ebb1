"""From Janus' capture to media files on the recording's clock.

Each .mjr becomes a media file without decoding (janus-pp-rec): voices Opus, webcams and screens
VP8 (or H.264). Voices are then mixed into one track on the recording's clock: each placed where
it began, only the recorded segments kept and laid end to end, silence where nobody spoke, so the
track is exactly as long as the recording. Videos are not cut: the playback and the MP4 place the
recorded parts of each (`Clock.pieces`).

A capture may end before its first packet: a listen-only participant sends nothing to record
(Janus leaves only its 8-byte "MJR00002" mark), and a Janus killed with SIGKILL (its media
node died) loses what it had not flushed yet, down to an empty file. Such captures hold no
media and are left out; one cut in the middle of its packets keeps what was written before the
cut (janus-pp-rec reads up to it). Only a capture that holds something else than Janus' layout
fails the recording.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from pathlib import Path

from sala.recordings.capture import parse_capture_name
from sala.recordings.timeline import Clock
from sala.recordings.tools import RecordingError, duration_ms, extract, extracted_name, mjr_header
from sala.recordings.tools import run as run_tool
from sala.recordings.whole_pictures import repair

SAMPLE_RATE = 48_000
MAGIC = b"MJR00002"


@dataclass(frozen=True)
class Stream:
    kind: str
    """voice, camera or screen."""
    user_id: str
    file: Path
    first_ms: int
    """Meeting time (epoch ms) of its first packet."""
    duration_ms: int

    @property
    def end_ms(self) -> int:
        return self.first_ms + self.duration_ms


async def _captures(raw: Path) -> list[Path]:
    return await asyncio.to_thread(lambda: sorted(raw.glob("*.mjr")))


def holds_packets(path: Path) -> bool:
    """False for a capture that ended before its first packet (see the module's docstring);
    True for anything else, which janus-pp-rec then reads (or finds unreadable)."""
    with path.open("rb") as capture:
        start = capture.read(len(MAGIC) + 2)
        if not MAGIC.startswith(start[: len(MAGIC)]):
            return True  # not Janus' layout: let the reader say what is wrong with it
        if len(start) < len(MAGIC) + 2:
            return False  # the mark, or part of it, and nothing after
        (length,) = struct.unpack("!H", start[len(MAGIC) :])
        # Anything after the header is read (and judged) by janus-pp-rec.
        capture.seek(length, 1)
        return capture.read(1) != b""


async def _with_packets(raw: Path) -> list[Path]:
    files = [p for p in await _captures(raw) if parse_capture_name(p) is not None]
    return await asyncio.to_thread(lambda: [p for p in files if holds_packets(p)])


async def sanity(raw: Path) -> int:
    """Every capture that holds packets has a readable header; returns how many there are."""
    files = await _with_packets(raw)
    for path in files:
        await mjr_header(path)
    return len(files)


async def prepare(raw: Path, work: Path) -> list[Stream]:
    """Every captured stream as a media file in `work` (made once; reprocessing reuses them).
    A stream that holds no packets (a camera stopped at once) is left out."""
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    streams = []
    for path in await _with_packets(raw):
        capture = parse_capture_name(path)
        if capture is None:
            continue
        header = await mjr_header(path)
        target = work / extracted_name(header, path.stem)
        source = path
        if header.kind == "v" and header.codec == "vp8":
            # Only whole pictures reach the media file (sala/recordings/whole_pictures.py); the
            # copy's header says when its first picture was captured.
            source = work / f"whole-{path.name}"
            if not source.exists():
                partial_copy = source.with_name(f"partial-{source.name}")
                done = await asyncio.to_thread(repair, path, partial_copy)
                if done.kept == 0:
                    await asyncio.to_thread(partial_copy.unlink)
                    continue  # not one decodable picture: nothing to play
                await asyncio.to_thread(partial_copy.replace, source)
            header = await mjr_header(source)
        if not target.exists():
            partial = target.with_name(f"partial-{target.name}")
            try:
                await extract(source, partial)
            except RecordingError:
                if path.stat().st_size < 1024:
                    continue  # opened and closed with nothing in it
                raise
            partial.replace(target)
        length = await duration_ms(target)
        if length <= 0:
            continue
        streams.append(Stream(capture.kind, capture.user_id, target, header.first_ms, length))
    return streams


async def mix_voices(voices: list[Stream], clock: Clock, target: Path) -> None:
    """One mono WAV of every voice, on the recording's clock (see the module's docstring)."""
    if not clock.segments:
        raise RecordingError("nothing was recorded")
    origin = clock.segments[0][0]
    span_s = (clock.segments[-1][1] - origin) / 1000
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    # A silent bed as long as the whole span, so the mix never ends before the recording.
    argv += ["-f", "lavfi", "-t", f"{span_s:.3f}", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=mono"]
    graph = []
    labels = ["[0:a]"]
    for n, voice in enumerate(voices, start=1):
        argv += ["-i", str(voice.file)]
        offset = (voice.first_ms - origin) / 1000
        if offset >= 0:
            shift = f"adelay=delays={int(offset * 1000)}:all=1"
        else:
            shift = f"atrim=start={-offset:.3f},asetpts=PTS-STARTPTS"
        graph.append(f"[{n}:a]aresample={SAMPLE_RATE},aformat=channel_layouts=mono,{shift}[v{n}]")
        labels.append(f"[v{n}]")
    graph.append(f"{''.join(labels)}amix=inputs={len(labels)}:duration=first:normalize=0[mix]")
    pieces = []
    graph.append(
        f"[mix]asplit={len(clock.segments)}"
        + "".join(f"[s{i}]" for i in range(len(clock.segments)))
        if len(clock.segments) > 1
        else "[mix]anull[s0]"
    )
    for i, (start, end) in enumerate(clock.segments):
        graph.append(
            f"[s{i}]atrim=start={(start - origin) / 1000:.3f}:end={(end - origin) / 1000:.3f},"
            f"asetpts=PTS-STARTPTS[p{i}]"
        )
        pieces.append(f"[p{i}]")
    graph.append(f"{''.join(pieces)}concat=n={len(pieces)}:v=0:a=1[out]")
    argv += ["-filter_complex", ";".join(graph), "-map", "[out]", "-c:a", "pcm_s16le"]
    argv += ["-ar", str(SAMPLE_RATE), "-ac", "1", str(target)]
    await run_tool(argv, timeout_s=max(120.0, span_s))

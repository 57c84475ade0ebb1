"""What Janus writes while a recorded meeting runs, and how to read it back.

A meeting created with `record=true` has its media written at the source: AudioBridge records
each voice and VideoRoom each webcam and screen as they reach Janus (.mjr files of RTP packets,
without decoding or mixing). Every file is named `<kind>-<user id>-<epoch ms>` plus Janus' own
suffix (`-audio.mjr`, `-video-<n>.mjr`), so processing knows whose media it holds and when it
began; the exact first-packet time comes from the file's header. The room events (slides,
drawings, chat, notes, marks) are in the meeting's event log, not here.

Layout: `<recordings root>/<record id>/raw/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("voice", "camera", "screen")
_NAME = re.compile(r"^(voice|camera|screen)-(.+)-(\d{13})-(audio|video-\d+)\.mjr$")


def capture_name(kind: str, user_id: str, started_ms: int) -> str:
    """The base name Janus gets for one participant's stream (it appends its suffix)."""
    if kind not in KINDS:
        raise ValueError(f"unknown capture kind {kind!r}")
    return f"{kind}-{user_id}-{started_ms}"


@dataclass(frozen=True)
class CaptureFile:
    path: Path
    kind: str
    user_id: str
    named_ms: int
    """When sala asked for the recording (the header's first-packet time is more exact)."""


def parse_capture_name(path: Path) -> CaptureFile | None:
    match = _NAME.match(path.name)
    if match is None:
        return None
    return CaptureFile(path, match[1], match[2], int(match[3]))


def raw_dir(root: Path, record_id: str) -> Path:
    return root / record_id / "raw"

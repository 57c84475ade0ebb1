"""The programs recordings are made with: janus-pp-rec (Janus' .mjr files to media files),
ffmpeg and ffprobe, and pdftotext for searchable slides. Each runs as a subprocess with an argv
list, a time limit and a checked exit code; a failure is a RecordingError with a reason an
operator can act on.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sala.subprocesses import ProgramMissing, ProgramTimedOut, run_program


class RecordingError(Exception):
    """Why a recording step failed (kept with the job and shown to operators)."""


async def run(argv: list[str], timeout_s: float, cwd: Path | None = None) -> str:
    name = Path(argv[0]).name
    try:
        done = await run_program(argv, timeout_s, cwd=cwd)
    except ProgramMissing:
        raise RecordingError(f"{name} is not installed (scripts/bootstrap installs it)") from None
    except ProgramTimedOut:
        raise RecordingError(f"{name} took longer than {timeout_s:.0f} s") from None
    if done.returncode != 0:
        raise RecordingError(f"{name} failed ({done.returncode}): {done.last_error_line()}")
    return done.stdout.decode(errors="replace")


@dataclass(frozen=True)
class MjrHeader:
    kind: str
    """"a" (audio) or "v" (video)."""
    codec: str
    first_ms: int
    """When the first packet was written (epoch ms)."""


async def mjr_header(path: Path) -> MjrHeader:
    text = await run(["janus-pp-rec", "--json", "--debug-level", "1", str(path)], 60)
    try:
        info: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
        started_us = int(info.get("u") or info["s"])
        return MjrHeader(str(info["t"]), str(info["c"]), started_us // 1000)
    except (ValueError, KeyError, IndexError, TypeError):
        raise RecordingError(f"{path.name} is not a readable Janus recording") from None


def extracted_name(header: MjrHeader, stem: str) -> str:
    if header.kind == "a":
        return f"{stem}.opus"
    return f"{stem}.mkv" if header.codec == "h264" else f"{stem}.webm"


async def extract(path: Path, target: Path, timeout_s: float = 600) -> None:
    """The packets of one .mjr in a media file, without decoding them."""
    await run(
        ["janus-pp-rec", "--debug-level", "1", "--disable-colors", str(path), str(target)],
        timeout_s,
    )
    if not await asyncio.to_thread(_has_bytes, target):
        raise RecordingError(f"{path.name} holds no media")


def _has_bytes(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


async def duration_ms(path: Path) -> int:
    text = await run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        60,
    )
    try:
        return int(float(json.loads(text)["format"]["duration"]) * 1000)
    except (ValueError, KeyError, TypeError):
        raise RecordingError(f"{path.name} has no duration") from None


async def probe(path: Path) -> dict[str, Any]:
    text = await run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)], 60
    )
    result: dict[str, Any] = json.loads(text)
    return result


async def page_texts(pdf: Path, pages: int) -> list[str]:
    """The words on each page of a PDF, for the playback's search (empty when unreadable)."""
    if shutil.which("pdftotext") is None:
        return [""] * pages
    try:
        text = await run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], 120)
    except RecordingError:
        return [""] * pages
    found = [" ".join(page.split()) for page in text.split("\f")]
    return (found + [""] * pages)[:pages]

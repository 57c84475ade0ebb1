"""The `presentation` format: what the browser playback page (recordings/static/player.*) loads.

`<root>/<record id>/presentation/` holds `recording.json` (the timeline: pages, drawings, zoom,
chat, polls, the shared notes, slide texts for search, and where each video shows), the voices
as `audio.ogg` (Opus), the webcams and screens as captured (`videos/*.webm`, never re-encoded:
the page places each at its moments), and the slide images and thumbnails of the documents the
recording shows. Processing is mostly linking files: the only encoding is the voice track.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sala.recordings.formats.common import Material, folder_size, link
from sala.recordings.tools import page_texts
from sala.recordings.tools import run as run_tool

FORMAT = "presentation"
PREVIEW_IMAGES = 3


async def build(material: Material, out: Path) -> dict[str, Any]:
    """Write the format into `out`; returns {length_ms, size, preview: [{path, alt}]}."""
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    await run_tool(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i",
         str(material.mix), "-c:a", "libopus", "-b:a", "48k", "-application", "voip",
         str(out / "audio.ogg")],
        timeout_s=max(120.0, material.clock.duration_ms / 1000),
    )  # fmt: skip
    videos = []
    for stream, pieces in material.videos():
        name = f"videos/{stream.file.name}"
        await asyncio.to_thread(link, stream.file, out / name)
        videos.append(
            {
                "file": name,
                "kind": stream.kind,
                "user": stream.user_id,
                "name": material.name_of(stream.user_id),
                "pieces": [
                    {"from": rec, "to": rec + (end - start), "offset": start - stream.first_ms}
                    for start, end, rec in pieces
                ],
            }
        )
    shown = {s["presentation"] for s in material.timeline.slides}
    documents: dict[str, Any] = {}
    for document_id, info in material.archive["documents"].items():
        if document_id not in shown:
            continue
        source = material.raw / "slides" / document_id
        pages = int(info["pages"])
        for n in range(1, pages + 1):
            for suffix in ("", "-thumb"):
                page = source / f"{n}{suffix}.png"
                if page.exists():
                    await asyncio.to_thread(link, page, out / "slides" / document_id / page.name)
        texts = await page_texts(source / "source.pdf", pages) if info.get("pdf") else [""] * pages
        documents[document_id] = {"name": info["name"], "pages": pages, "texts": texts}
    timeline = material.timeline
    document = {
        "id": material.record_id,
        "name": material.archive["name"],
        "start": material.archive["start_time"],
        "duration": timeline.duration_ms,
        "audio": "audio.ogg",
        "videos": videos,
        "documents": documents,
        "slides": timeline.slides,
        "drawings": timeline.drawings,
        "zooms": timeline.zooms,
        "chat": timeline.chat,
        "polls": timeline.polls,
        "notes": timeline.notes,
        "notesHistory": timeline.notes_history,
    }
    await asyncio.to_thread((out / "recording.json").write_text, json.dumps(document), "utf-8")
    preview: list[dict[str, str]] = []
    for change in timeline.slides:
        thumb = f"slides/{change['presentation']}/{change['page']}-thumb.png"
        if all(p["path"] != thumb for p in preview) and (out / thumb).exists():
            name = documents.get(change["presentation"], {}).get("name", "")
            preview.append({"path": thumb, "alt": f"{name}, {change['page']}".strip(", ")})
        if len(preview) == PREVIEW_IMAGES:
            break
    return {
        "length_ms": timeline.duration_ms,
        "size": await asyncio.to_thread(folder_size, out),
        "preview": preview,
    }

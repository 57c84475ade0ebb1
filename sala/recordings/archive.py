"""The archive step: everything a recording is made from, gathered into its own folder.

`<root>/<record id>/raw/` already holds what Janus captured. Archiving adds `raw/meeting.json`
(the meeting, its attendees' names and its whole event log) and hard links to the pages of every
document the meeting had (`raw/slides/<presentation id>/`), so processing reads files only, can
be repeated after the meeting's rows or documents are gone, and nothing the recording needs
changes under it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sala.events.log import MeetingEvent, read_all_events
from sala.recordings.capture import raw_dir
from sala.recordings.timeline import Clock, segments_of
from sala.recordings.tools import RecordingError
from sala.store import tables
from sala.store.db import Database

MEETING_FILE = "meeting.json"


async def archive(db: Database, root: Path, presentations_root: Path, record_id: str) -> Path:
    """Write the archive of one meeting's recording; returns its raw folder."""
    async with db.read() as conn:
        meeting = (
            await conn.execute(
                select(tables.meetings).where(tables.meetings.c.internal_id == record_id)
            )
        ).first()
        if meeting is None:
            raise RecordingError(f"meeting {record_id} is not in the database")
        names = {
            r.internal_user_id: r.full_name
            for r in await conn.execute(
                select(tables.attendees.c.internal_user_id, tables.attendees.c.full_name).where(
                    tables.attendees.c.meeting_id == record_id
                )
            )
        }
        documents = {
            r.id: {"name": r.name, "pages": r.pages}
            for r in await conn.execute(
                select(
                    tables.presentations.c.id,
                    tables.presentations.c.name,
                    tables.presentations.c.pages,
                ).where(tables.presentations.c.meeting_id == record_id)
            )
        }
        events = await read_all_events(conn, record_id)
    m = meeting._mapping
    folder = raw_dir(root, record_id)
    slides = await asyncio.to_thread(
        _link_documents, presentations_root / record_id, folder / "slides", documents
    )
    document = {
        "record_id": record_id,
        "meeting_id": m["external_id"],
        "name": m["name"],
        "is_breakout": m["is_breakout"],
        "start_time": m["start_time"],
        "end_time": m["end_time"] or (events[-1].ts if events else m["start_time"]),
        "metadata": m["metadata"] or {},
        "names": names,
        "documents": slides,
        "events": [asdict(e) for e in events],
    }
    await asyncio.to_thread(_write_json, folder / MEETING_FILE, document)
    return folder


def _link_documents(
    source: Path, target: Path, known: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Hard links (copies across file systems) to each converted document's pages. Documents
    removed during the meeting are still on disk for recorded meetings, without their row."""
    found: dict[str, dict[str, Any]] = {}
    if not source.is_dir():
        return found
    for document in sorted(p for p in source.iterdir() if p.is_dir()):
        pages = sorted(
            (p for p in document.glob("*.png") if p.stem.isdigit()), key=lambda p: int(p.stem)
        )
        if not pages:
            continue
        into = target / document.name
        into.mkdir(parents=True, exist_ok=True)
        for file in document.iterdir():
            if file.suffix in (".png", ".pdf") and file.is_file():
                _link(file, into / file.name)
        info = known.get(document.name, {})
        found[document.name] = {
            "name": info.get("name") or "document",
            "pages": len(pages),
            "pdf": (into / "source.pdf").exists(),
        }
    return found


def _link(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document), encoding="utf-8")
    tmp.replace(path)


def recorded_ms(folder: Path) -> int:
    """How long the archived recording is (the sum of its segments)."""
    document = read_archive(folder)
    events = [MeetingEvent(**e) for e in document["events"]]
    return Clock(segments_of(events, int(document["end_time"]))).duration_ms


def read_archive(folder: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads((folder / MEETING_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        raise RecordingError("the archive has no readable meeting.json") from None
    return document

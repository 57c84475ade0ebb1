"""The recordings catalogue: finding, publishing, deleting and annotating recordings.

Filters follow BBB (bbb-api.md §2.7-2.10): record IDs match as prefixes, a meeting ID matches the
recordings of every session of that room (BBB compares the SHA-1 prefix of the record ID), states
default to published and unpublished, and `meta_*` filters accept `%` wildcards.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from sala.clock import Clock
from sala.events import types
from sala.events.log import append_event
from sala.meetings.ids import meeting_id_hash
from sala.store import tables
from sala.store.db import Database

recordings_t = tables.recordings

STATES = ("processing", "processed", "published", "unpublished", "deleted", "failed")
DEFAULT_STATES = frozenset({"published", "unpublished"})


@dataclass(frozen=True)
class Recording:
    record_id: str
    meeting_id: str
    internal_meeting_id: str
    name: str
    is_breakout: bool
    state: str
    start_time: int
    end_time: int
    participants: int
    raw_size: int
    size: int
    metadata: dict[str, str]
    formats: list[dict[str, Any]]
    text_tracks: list[dict[str, Any]]
    protected: bool = False
    """Playback only through one-time links (recordings/protection.py)."""

    @property
    def published(self) -> bool:
        return self.state == "published"

    @classmethod
    def from_row(cls, row: Any) -> Recording:
        m = row._mapping
        return cls(
            record_id=m["record_id"],
            meeting_id=m["meeting_id"],
            internal_meeting_id=m["internal_meeting_id"],
            name=m["name"],
            is_breakout=m["is_breakout"],
            state=m["state"],
            start_time=m["start_time"],
            end_time=m["end_time"],
            participants=m["participants"],
            raw_size=m["raw_size"],
            size=m["size"],
            metadata=m["metadata"] or {},
            formats=m["formats"] or [],
            text_tracks=m["text_tracks"] or [],
            protected=bool(m["protected"]),
        )


@dataclass(frozen=True)
class RecordingQuery:
    record_ids: Sequence[str] = ()
    meeting_ids: Sequence[str] = ()
    meeting_id_prefix: bool = False
    """Mconf's meetingIDWildcard: external meeting IDs as prefixes."""
    states: frozenset[str] = DEFAULT_STATES
    metadata: dict[str, str] | None = None


def like_pattern(value: str) -> str:
    """A literal SQL LIKE prefix pattern for `value` (its own % and _ escaped)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def wildcard_match(pattern: str, value: str) -> bool:
    """BBB's metadata filter: `abc%` prefix, `%abc` suffix, `%abc%` substring, else equality."""
    starts, ends = pattern.startswith("%"), pattern.endswith("%") and len(pattern) > 1
    core = pattern[1 if starts else 0 : len(pattern) - 1 if ends else len(pattern)]
    if starts and ends:
        return core in value
    if starts:
        return value.endswith(core)
    if ends:
        return value.startswith(core)
    return value == pattern


class RecordingStore:
    def __init__(self, db: Database, clock: Clock, root: Path | None = None) -> None:
        self._db = db
        self._clock = clock
        self._root = root
        """Where recordings' files live; deleting a recording removes its folder there."""

    async def find(self, query: RecordingQuery) -> list[Recording]:
        conditions: list[ColumnElement[bool]] = []
        if query.record_ids:
            conditions.append(
                or_(
                    *(
                        recordings_t.c.record_id.like(like_pattern(r), escape="\\")
                        for r in query.record_ids
                    )
                )
            )
        elif query.meeting_ids:
            if query.meeting_id_prefix:
                conditions.append(
                    or_(
                        *(
                            recordings_t.c.meeting_id.like(like_pattern(m), escape="\\")
                            for m in query.meeting_ids
                        )
                    )
                )
            else:
                conditions.append(
                    or_(
                        *(
                            recordings_t.c.record_id.like(meeting_id_hash(m) + "-%")
                            for m in query.meeting_ids
                        )
                    )
                )
        if "any" not in query.states:
            conditions.append(recordings_t.c.state.in_(sorted(query.states)))
        statement = (
            select(recordings_t)
            .where(*conditions)
            .order_by(recordings_t.c.start_time, recordings_t.c.record_id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        found = [Recording.from_row(r) for r in rows]
        if query.metadata:
            found = [r for r in found if _metadata_matches(r.metadata, query.metadata)]
        return found

    async def set_published(self, record_ids: Iterable[str], publish: bool) -> list[str]:
        """Publish or unpublish exactly these recordings; returns the IDs that exist."""
        ids = list(record_ids)
        async with self._db.write() as conn:
            found = (
                (
                    await conn.execute(
                        select(recordings_t.c.record_id).where(
                            recordings_t.c.record_id.in_(ids),
                            recordings_t.c.state.in_(["published", "unpublished"]),
                        )
                    )
                )
                .scalars()
                .all()
            )
            if found:
                await conn.execute(
                    update(recordings_t)
                    .where(recordings_t.c.record_id.in_(found))
                    .values(state="published" if publish else "unpublished")
                )
                for record_id in found:
                    await append_event(
                        conn,
                        record_id,
                        types.RAP_PUBLISHED if publish else types.RAP_UNPUBLISHED,
                        self._clock.now_ms(),
                        data={"record_id": record_id},
                    )
        return list(found)

    async def delete(self, record_ids: Iterable[str]) -> list[str]:
        ids = list(record_ids)
        async with self._db.write() as conn:
            found = (
                (
                    await conn.execute(
                        select(recordings_t.c.record_id).where(
                            recordings_t.c.record_id.in_(ids), recordings_t.c.state != "deleted"
                        )
                    )
                )
                .scalars()
                .all()
            )
            if found:
                await conn.execute(
                    update(recordings_t)
                    .where(recordings_t.c.record_id.in_(found))
                    .values(state="deleted")
                )
                for record_id in found:
                    await append_event(
                        conn,
                        record_id,
                        types.RAP_DELETED,
                        self._clock.now_ms(),
                        data={"record_id": record_id},
                    )
        if self._root is not None:
            for record_id in found:
                # Record IDs come from the database, never from the request: no path tricks.
                await asyncio.to_thread(shutil.rmtree, self._root / record_id, True)
        return list(found)

    async def update_metadata(
        self, record_ids: Iterable[str], changes: dict[str, str], protect: bool | None = None
    ) -> int:
        """Set `meta_*` values on recordings matched by ID prefix; an empty value removes a key.
        `protect` (when not None) turns protected playback on or off for them too."""
        prefixes = list(record_ids)
        async with self._db.write() as conn:
            rows = (
                await conn.execute(
                    select(recordings_t.c.record_id, recordings_t.c.metadata).where(
                        or_(
                            *(
                                recordings_t.c.record_id.like(like_pattern(p), escape="\\")
                                for p in prefixes
                            )
                        ),
                        recordings_t.c.state.in_(["published", "unpublished", "deleted"]),
                    )
                )
            ).all()
            for record_id, metadata in rows:
                updated = dict(metadata or {})
                for key, value in changes.items():
                    if value == "":
                        updated.pop(key, None)
                    else:
                        updated[key] = value
                values: dict[str, Any] = {"metadata": updated}
                if protect is not None:
                    values["protected"] = protect
                await conn.execute(
                    update(recordings_t)
                    .where(recordings_t.c.record_id == record_id)
                    .values(**values)
                )
        return len(rows)

    async def use_link(self, nonce: str, expires_at: int) -> bool:
        """Spend a protected recording's one-time link: True the first time only."""
        used = tables.used_playback_links
        now = self._clock.now_ms()
        try:
            async with self._db.write() as conn:
                # Links past their expiry are refused before they get here: forget them.
                await conn.execute(delete(used).where(used.c.expires_at <= now))
                await conn.execute(insert(used).values(nonce=nonce, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    async def put_text_track(
        self, record_id: str, folder: Path, track: dict[str, str], vtt: str
    ) -> None:
        """Store a caption file; a track of the same kind and language replaces the old one."""
        name = f"{track['kind']}_{track['lang']}.vtt"
        await asyncio.to_thread(_write_track, folder / name, vtt)
        async with self._db.write() as conn:
            current = (
                await conn.execute(
                    select(recordings_t.c.text_tracks).where(recordings_t.c.record_id == record_id)
                )
            ).scalar_one()
            tracks = [
                t
                for t in (current or [])
                if (t["kind"], t["lang"]) != (track["kind"], track["lang"])
            ]
            tracks.append({**track, "file": str(folder / name)})
            await conn.execute(
                update(recordings_t)
                .where(recordings_t.c.record_id == record_id)
                .values(text_tracks=tracks)
            )

    async def get(self, record_id: str) -> Recording | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(recordings_t).where(recordings_t.c.record_id == record_id)
                )
            ).first()
        return None if row is None else Recording.from_row(row)


def _metadata_matches(metadata: dict[str, str], filters: dict[str, str]) -> bool:
    for key, pattern in filters.items():
        value = metadata.get(key)
        if value is None or not wildcard_match(pattern, value):
            return False
    return True


def _write_track(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)

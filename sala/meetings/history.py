"""Meeting history: every session ever created, live or ended (Mconf's getAllMeetings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from sala.meetings.model import Attendee, Meeting
from sala.recordings.store import like_pattern, wildcard_match
from sala.store import tables
from sala.store.db import Database

meetings_t = tables.meetings
attendees_t = tables.attendees

DAY_MS = 86_400_000


@dataclass(frozen=True)
class HistoryQuery:
    meeting_ids: Sequence[str] = ()
    meeting_id_prefix: bool = False
    names: Sequence[str] = ()
    name_prefix: bool = False
    metadata: dict[str, str] | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    sort_by: str = "start_time"
    descending: bool = True
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class HistoryPage:
    meetings: list[Meeting]
    has_next: bool


def _date_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def _matching(
    column: ColumnElement[str], values: Sequence[str], prefix: bool
) -> ColumnElement[bool]:
    if prefix:
        return or_(*(column.like(like_pattern(v), escape="\\") for v in values))
    return column.in_(list(values))


class MeetingHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, query: HistoryQuery) -> HistoryPage:
        conditions: list[ColumnElement[bool]] = []
        if query.meeting_ids:
            conditions.append(
                _matching(meetings_t.c.external_id, query.meeting_ids, query.meeting_id_prefix)
            )
        if query.names:
            conditions.append(_matching(meetings_t.c.name, query.names, query.name_prefix))
        if query.start_date is not None:
            start = _date_ms(query.start_date)
            end_day = query.end_date or query.start_date
            conditions.append(meetings_t.c.create_time >= start)
            conditions.append(meetings_t.c.create_time < _date_ms(end_day) + DAY_MS)
        elif query.end_date is not None:
            conditions.append(meetings_t.c.create_time < _date_ms(query.end_date) + DAY_MS)
        key = meetings_t.c.name if query.sort_by == "name" else meetings_t.c.create_time
        order = [key.desc() if query.descending else key.asc(), meetings_t.c.internal_id]
        statement = select(meetings_t).where(*conditions).order_by(*order)
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
            if query.metadata:
                filters = query.metadata
                rows = [r for r in rows if _meta_ok(r.metadata or {}, filters)]
            window = rows[query.offset :]
            has_next = False
            if query.limit is not None:
                has_next = len(window) > query.limit
                window = window[: query.limit]
            live_ids = [r.internal_id for r in window if not r.ended]
            present: dict[str, list[Attendee]] = {}
            if live_ids:
                for a in (
                    await conn.execute(
                        select(attendees_t).where(
                            attendees_t.c.meeting_id.in_(live_ids), attendees_t.c.present == true()
                        )
                    )
                ).all():
                    present.setdefault(a.meeting_id, []).append(Attendee.from_row(a._mapping))
        meetings = [
            Meeting.from_row(r._mapping, tuple(present.get(r.internal_id, []))) for r in window
        ]
        return HistoryPage(meetings, has_next)


def _meta_ok(metadata: dict[str, str], filters: dict[str, str]) -> bool:
    return all(
        key in metadata and wildcard_match(pattern, metadata[key])
        for key, pattern in filters.items()
    )

"""The Elos/ConferênciaWeb extensions: getAllMeetings (history) and updateMeeting (rename)."""

from __future__ import annotations

import datetime as dt

from sala.api.calls.recordings import links, recording_fields
from sala.api.create_params import parse_metadata
from sala.api.endpoint import Answer, ApiRequest
from sala.api.errors import ApiError, missing_meeting_id, validation_error
from sala.api.params import require_length
from sala.api.render import meeting_fields
from sala.api.xml import Fields, Repeated, Value
from sala.meetings.history import HistoryQuery
from sala.recordings.store import RecordingQuery


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _date(req: ApiRequest, name: str) -> dt.date | None:
    value = req.params.nonempty(name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise validation_error(f"Param '{name}' must be a date like 2026-01-31") from None


async def get_all_meetings(req: ApiRequest) -> Answer:
    p = req.params
    sort_by = (p.nonempty("sort_by") or "start_time").lower()
    if sort_by not in ("name", "start_time"):
        raise validation_error("Param 'sort_by' must be name or start_time")
    order_by = (p.nonempty("order_by") or "desc").lower()
    if order_by not in ("asc", "desc"):
        raise validation_error("Param 'order_by' must be asc or desc")
    limit = p.integer("limit", 0, maximum=1000) or None
    query = HistoryQuery(
        meeting_ids=_list(p.nonempty("meetingID")),
        meeting_id_prefix=p.boolean("meetingIDWildcard", False),
        names=_list(p.nonempty("meetingName") or p.nonempty("meetingNames")),
        name_prefix=p.boolean("meetingNameWildcard", False)
        or p.boolean("meetingNamesWildcard", False),
        metadata=parse_metadata(p) or None,
        start_date=_date(req, "start_time"),
        end_date=_date(req, "end_time"),
        sort_by=sort_by,
        descending=order_by == "desc",
        limit=limit,
        offset=p.integer("offset", 0),
    )
    include_recordings = p.boolean("includeRecordings", False)
    page = await req.ctx.history.find(query)
    recordings = {}
    if include_recordings and page.meetings:
        found = await req.ctx.recordings.find(
            RecordingQuery(
                record_ids=[m.internal_id for m in page.meetings], states=frozenset({"any"})
            )
        )
        recordings = {r.record_id: r for r in found}
    if include_recordings and p.boolean("onlyRecorded", False):
        page_meetings = [m for m in page.meetings if m.internal_id in recordings]
    else:
        page_meetings = page.meetings
    items: list[Fields] = []
    for meeting in page_meetings:
        entry: list[tuple[str, Value]] = [
            ("meeting", [*meeting_fields(meeting), ("transfer", False), ("transferCount", 0)])
        ]
        recording = recordings.get(meeting.internal_id)
        if recording is not None:
            entry.append(("recording", recording_fields(recording, links(req))))
        items.append(entry)
    return [
        ("returncode", "SUCCESS"),
        ("nextPage", page.has_next),
        ("meetings", Repeated("meetingData", items)),
    ]


async def update_meeting(req: ApiRequest) -> Answer:
    meeting_id = req.params.nonempty("meetingID")
    if meeting_id is None:
        raise missing_meeting_id()
    name = req.params.nonempty("name")
    if name is None:
        raise ApiError("emptyError", "You must provide a meeting name")
    require_length(name, "name", "Meeting name", 2, 256)
    await req.ctx.meetings.rename(meeting_id, name)
    return [
        ("returncode", "SUCCESS"),
        ("messageKey", "meetingUpdated"),
        ("message", "The meeting name has been updated."),
    ]

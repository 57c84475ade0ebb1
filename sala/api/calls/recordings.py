"""getRecordings, publishRecordings, deleteRecordings, updateRecordings."""

from __future__ import annotations

from sala.api.create_params import parse_metadata
from sala.api.endpoint import Answer, ApiRequest
from sala.api.errors import ApiError
from sala.api.xml import Attributed, Fields, Repeated, Value
from sala.recordings.store import DEFAULT_STATES, Recording, RecordingQuery

NOT_FOUND = "We could not find recordings"


def _ids(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _record_ids(req: ApiRequest) -> list[str]:
    ids = _ids(req.params.nonempty("recordID"))
    if not ids:
        raise ApiError("missingParamRecordID", "You must specify a recordID.")
    return ids


def format_fields(fmt: dict[str, object]) -> Fields:
    fields: list[tuple[str, Value]] = [
        ("type", str(fmt.get("type", ""))),
        ("url", str(fmt.get("url", ""))),
        ("processingTime", int(str(fmt.get("processing_time", 0)))),
        ("length", int(str(fmt.get("length_ms", 0))) // 60_000),
        ("size", int(str(fmt.get("size", 0)))),
    ]
    images = fmt.get("preview") or []
    if isinstance(images, list) and images:
        fields.append(
            (
                "preview",
                [
                    (
                        "images",
                        Repeated(
                            "image",
                            [
                                Attributed(
                                    str(i.get("url", "")),
                                    [
                                        ("width", str(i.get("width", 176))),
                                        ("height", str(i.get("height", 136))),
                                        ("alt", str(i.get("alt", ""))),
                                    ],
                                )
                                for i in images
                                if isinstance(i, dict)
                            ],
                        ),
                    )
                ],
            )
        )
    return fields


def recording_fields(rec: Recording) -> Fields:
    return [
        ("recordID", rec.record_id),
        ("meetingID", rec.meeting_id),
        ("internalMeetingID", rec.internal_meeting_id),
        ("name", rec.name),
        ("isBreakout", rec.is_breakout),
        ("published", rec.published),
        ("state", rec.state),
        ("startTime", rec.start_time),
        ("endTime", rec.end_time),
        ("participants", rec.participants),
        ("rawSize", rec.raw_size),
        ("metadata", list(rec.metadata.items())),
        ("size", rec.size),
        ("playback", Repeated("format", [format_fields(f) for f in rec.formats])),
        ("data", []),
    ]


def _states(req: ApiRequest) -> frozenset[str]:
    """BBB filters by the states given; one it does not know matches no recording (no error)."""
    states = {s.lower() for s in _ids(req.params.nonempty("state"))}
    return frozenset(states) if states else DEFAULT_STATES


def _integer(value: str | None) -> int | None:
    try:
        return None if value is None else int(value.strip())
    except ValueError:
        return None


def _page_bounds(req: ApiRequest) -> tuple[int, int | None]:
    """BBB 3.0 (MeetingService.getRecordings2x): a limit turns pagination on, raised to 1 and
    capped at 100; no limit, or one that is not a number, means no paging. The offset is 0
    when missing, not a number or negative. Nothing here is an error."""
    limit = _integer(req.params.nonempty("limit"))
    if limit is not None:
        limit = min(100, max(1, limit))
    offset = max(0, _integer(req.params.nonempty("offset")) or 0)
    return offset, limit


async def get_recordings(req: ApiRequest) -> Answer:
    query = RecordingQuery(
        record_ids=_ids(req.params.nonempty("recordID")),
        meeting_ids=_ids(req.params.nonempty("meetingID")),
        meeting_id_prefix=req.params.boolean("meetingIDWildcard", False),
        states=_states(req),
        metadata=parse_metadata(req.params) or None,
    )
    found = await req.ctx.recordings.find(query)
    offset, limit = _page_bounds(req)
    page = found[offset : offset + limit] if limit is not None else found[offset:]
    if not page:
        return [
            ("returncode", "SUCCESS"),
            ("recordings", []),
            ("messageKey", "noRecordings"),
            ("message", "There are no recordings for the meeting(s)."),
        ]
    document: list[tuple[str, Value]] = [("returncode", "SUCCESS")]
    if limit is not None:
        document.append(("nextPage", offset + limit < len(found)))
    document.append(("recordings", Repeated("recording", [recording_fields(r) for r in page])))
    if limit is not None:
        document.append(("totalElements", len(found)))
    return document


async def publish_recordings(req: ApiRequest) -> Answer:
    ids = _record_ids(req)
    raw = req.params.nonempty("publish")
    if raw is None or not raw.strip():
        raise ApiError("missingParamPublish", "You must specify a publish value true or false.")
    raw = raw.strip()
    # BBB reads it with Groovy's toBoolean() (true, y, 1; anything else is false) and answers
    # the value as it was sent.
    publish = raw.lower() in ("true", "y", "1")
    if not await req.ctx.recordings.set_published(ids, publish):
        raise ApiError("notFound", NOT_FOUND)
    published: Value = publish if raw.lower() in ("true", "false") else raw
    return [("returncode", "SUCCESS"), ("published", published)]


async def delete_recordings(req: ApiRequest) -> Answer:
    if not await req.ctx.recordings.delete(_record_ids(req)):
        raise ApiError("notFound", NOT_FOUND)
    return [("returncode", "SUCCESS"), ("deleted", True)]


async def update_recordings(req: ApiRequest) -> Answer:
    ids = _record_ids(req)
    changes = {key.lower(): value for key, value in req.params.with_prefix("meta_").items()}
    if await req.ctx.recordings.update_metadata(ids, changes) == 0:
        raise ApiError("notFound", NOT_FOUND)
    return [("returncode", "SUCCESS"), ("updated", True)]

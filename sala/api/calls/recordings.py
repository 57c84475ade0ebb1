"""getRecordings, publishRecordings, deleteRecordings, updateRecordings."""

from __future__ import annotations

from sala.api.create_params import parse_metadata
from sala.api.endpoint import Answer, ApiRequest
from sala.api.errors import ApiError, validation_error
from sala.api.xml import Attributed, Fields, Repeated, Value
from sala.recordings.store import DEFAULT_STATES, STATES, Recording, RecordingQuery

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
    states = {s.lower() for s in _ids(req.params.nonempty("state"))}
    if not states:
        return DEFAULT_STATES
    unknown = states - set(STATES) - {"any"}
    if unknown:
        raise validation_error(
            f"Param 'state' accepts {', '.join(STATES)} or any; got {', '.join(sorted(unknown))}"
        )
    return frozenset(states)


def _page_bounds(req: ApiRequest) -> tuple[int, int | None]:
    """BBB: limit 1-100 turns pagination on; an invalid or missing limit means no paging."""
    raw_limit = req.params.nonempty("limit")
    raw_offset = req.params.nonempty("offset")
    limit = int(raw_limit) if raw_limit and raw_limit.isdigit() else None
    if limit is not None and not 1 <= limit <= 100:
        limit = None
    offset = int(raw_offset) if raw_offset and raw_offset.isdigit() else 0
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
    if raw is None:
        raise ApiError("missingParamPublish", "You must specify a publish value true or false.")
    if raw.lower() not in ("true", "false"):
        raise validation_error("Param 'publish' must be true or false")
    publish = raw.lower() == "true"
    if not await req.ctx.recordings.set_published(ids, publish):
        raise ApiError("notFound", NOT_FOUND)
    return [("returncode", "SUCCESS"), ("published", publish)]


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

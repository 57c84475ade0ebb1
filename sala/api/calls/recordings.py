"""getRecordings, publishRecordings, deleteRecordings, updateRecordings.

Protected recordings (Scalelite's, recordings/protection.py): `updateRecordings` takes
`protect`, getRecordings says `<protected>` after `<published>` and hands out one-time playback
links and signed preview images for them.
"""

from __future__ import annotations

from sala.api.create_params import parse_metadata
from sala.api.endpoint import Answer, ApiRequest
from sala.api.errors import ApiError
from sala.api.params import java_integer
from sala.api.xml import Attributed, Fields, Repeated, Value
from sala.recordings.protection import (
    LINK_PARAM,
    PREVIEW_PARAM,
    PlaybackAccess,
    parse_protect,
    playback_access,
    with_param,
)
from sala.recordings.store import DEFAULT_STATES, Recording, RecordingQuery

NOT_FOUND = "We could not find recordings"


def _ids(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _record_ids(req: ApiRequest) -> list[str]:
    ids = _ids(req.params.nonempty("recordID"))
    if not ids:
        raise ApiError("missingParamRecordID", "You must specify a recordID.")
    return ids


def links(req: ApiRequest) -> PlaybackAccess:
    """What signs protected recordings' playback links, for answers that list recordings."""
    return playback_access(req.ctx.settings, req.ctx.clock)


def _protected_format(
    rec: Recording, fmt: dict[str, object], access: PlaybackAccess
) -> dict[str, object]:
    """The format as a protected recording shows it: a one-time link, signed previews."""
    kind, url = str(fmt.get("type", "")), str(fmt.get("url", ""))
    previews = []
    images = fmt.get("preview")
    for image in images if isinstance(images, list) else []:
        if not isinstance(image, dict):
            continue
        image_url = str(image.get("url", ""))
        path = image_url.removeprefix(url.rstrip("/") + "/")
        signature = access.preview_signature(rec.record_id, kind, path)
        previews.append({**image, "url": with_param(image_url, PREVIEW_PARAM, signature)})
    token = access.link_token(rec.record_id, kind)
    return {**fmt, "url": with_param(url, LINK_PARAM, token), "preview": previews}


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


def recording_fields(
    rec: Recording, access: PlaybackAccess | None = None, *, with_protected: bool = False
) -> Fields:
    """`access`: sign protected recordings' playback links (without it they are left out, so
    no answer shows a protected recording's plain URL). `with_protected`: the `<protected>`
    element (getRecordings; Mconf's getAllMeetings summary has none)."""
    formats = rec.formats
    if rec.protected:
        formats = [] if access is None else [_protected_format(rec, f, access) for f in formats]
    fields: list[tuple[str, Value]] = [
        ("recordID", rec.record_id),
        ("meetingID", rec.meeting_id),
        ("internalMeetingID", rec.internal_meeting_id),
        ("name", rec.name),
        ("isBreakout", rec.is_breakout),
        ("published", rec.published),
    ]
    if with_protected:
        fields.append(("protected", rec.protected))
    fields += [
        ("state", rec.state),
        ("startTime", rec.start_time),
        ("endTime", rec.end_time),
        ("participants", rec.participants),
        ("rawSize", rec.raw_size),
        ("metadata", list(rec.metadata.items())),
        ("size", rec.size),
        ("playback", Repeated("format", [format_fields(f) for f in formats])),
        ("data", []),
    ]
    return fields


def _states(req: ApiRequest) -> frozenset[str]:
    """BBB filters by the states given; one it does not know matches no recording (no error)."""
    states = {s.lower() for s in _ids(req.params.nonempty("state"))}
    return frozenset(states) if states else DEFAULT_STATES


def _integer(value: str | None) -> int | None:
    """bbb-web's Integer.parseInt, None where it throws (offset and limit then fall back)."""
    return None if value is None else java_integer(value.strip())


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
    access = links(req)
    document.append(
        (
            "recordings",
            Repeated("recording", [recording_fields(r, access, with_protected=True) for r in page]),
        )
    )
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
    raw_protect = req.params.nonempty("protect")
    protect = None if raw_protect is None else parse_protect(raw_protect)
    if await req.ctx.recordings.update_metadata(ids, changes, protect) == 0:
        raise ApiError("notFound", NOT_FOUND)
    return [("returncode", "SUCCESS"), ("updated", True)]

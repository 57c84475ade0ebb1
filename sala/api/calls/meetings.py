"""create, end, isMeetingRunning, getMeetingInfo, getMeetings."""

from __future__ import annotations

from collections.abc import Sequence

from sala.api.create_params import parse_create
from sala.api.documents import add_documents, uploads_from_xml
from sala.api.endpoint import Answer, ApiRequest, Memo
from sala.api.errors import ApiError
from sala.api.render import meeting_fields
from sala.api.xml import Fields, Repeated
from sala.dates import java_date
from sala.meetings.errors import MeetingNotFound
from sala.meetings.model import Meeting
from sala.meetings.rules import EndReason
from sala.presentations.service import Upload

DUPLICATE_MESSAGE = "This conference was already in existence and may currently be in progress."
END_MESSAGE = (
    "A request to end the meeting was sent.  Please wait a few seconds, and then use the "
    "getMeetingInfo or isMeetingRunning API calls to verify that it was ended."
)


def optional_meeting_id(req: ApiRequest) -> str | None:
    """A meetingID bbb-web checks only when it is sent: None when absent; an empty one fails
    its size check (the violation bbb-web answers first)."""
    meeting_id = req.params.text("meetingID")
    if meeting_id == "":
        raise ApiError("sizeError", "Meeting ID must be between 2 and 256 characters")
    return meeting_id


def _meeting_id(req: ApiRequest) -> str:
    """The meeting the call names. Without one, bbb-web 3.0's meeting-exists check is the
    violation it answers (notFound), before any about the ID itself."""
    meeting_id = req.params.nonempty("meetingID")
    if meeting_id is None:
        raise ApiError("notFound", "A meeting with that ID does not exist")
    return meeting_id


async def create(req: ApiRequest) -> Answer:
    modules_xml = req.xml_body
    # A malformed body or bad base64 is refused before anything is created.
    limit = req.ctx.settings.presentation_max_documents_per_request
    uploads = await uploads_from_xml(modules_xml, limit) if modules_xml is not None else []
    spec = parse_create(req.params, req.ctx.settings, modules_xml)
    pre_uploaded = req.params.nonempty("preUploadedPresentation")
    if pre_uploaded:
        name = req.params.nonempty("preUploadedPresentationName") or "presentation.pdf"
        uploads.append(Upload(name=name, url=pre_uploaded, current=not uploads))
    if spec.is_breakout and not spec.parent_meeting_id:
        raise ApiError(
            "parentMeetingIDMissing", "No parent meeting ID was provided for the breakout room"
        )
    result = await req.ctx.meetings.create(spec)
    m = result.meeting
    if not result.duplicate:
        await _presentations_for(req, m.internal_id, m.disabled_features, uploads)
    return [
        ("returncode", "SUCCESS"),
        ("meetingID", m.external_id),
        ("internalMeetingID", m.internal_id),
        ("parentMeetingID", m.parent_meeting_id),
        ("attendeePW", m.attendee_pw or None),
        ("moderatorPW", m.moderator_pw or None),
        ("createTime", m.create_time),
        ("voiceBridge", m.voice_bridge),
        ("dialNumber", m.dial_number),
        ("createDate", java_date(m.create_time)),
        ("hasUserJoined", m.has_user_joined),
        ("duration", m.duration_minutes),
        ("hasBeenForciblyEnded", m.forcibly_ended),
        ("messageKey", "duplicateWarning" if result.duplicate else ""),
        ("message", DUPLICATE_MESSAGE if result.duplicate else ""),
    ]


async def _presentations_for(
    req: ApiRequest, meeting_id: str, disabled: frozenset[str] | set[str], uploads: list[Upload]
) -> None:
    """The meeting's documents start converting now and show up when ready. A meeting without
    any gets the default presentation when somebody first enters the room, not here: create is
    the call integrations poll and repeat, and most of what it would make is never looked at.
    BBB's preUploadedPresentationOverrideDefault=false keeps the default next to them."""
    if "presentation" in disabled or not uploads:
        return
    if not req.params.groovy_boolean("preUploadedPresentationOverrideDefault", True):
        await req.ctx.presentations.add_default(meeting_id)
    await add_documents(req.ctx.presentations, meeting_id, uploads)


async def end(req: ApiRequest) -> Answer:
    await req.ctx.meetings.end(_meeting_id(req), EndReason.END_API)
    return [
        ("returncode", "SUCCESS"),
        ("messageKey", "sentEndMeetingRequest"),
        ("message", END_MESSAGE),
    ]


async def is_meeting_running(req: ApiRequest) -> Answer:
    # bbb-web 3.0 checks this meetingID only when it is sent (its size check answers an empty
    # one first); without one, nothing is running.
    meeting_id = optional_meeting_id(req)
    running = False if meeting_id is None else await req.ctx.meetings.is_running(meeting_id)
    # Two possible answers: the bool singletons make each a permanent memo entry.
    return Memo(
        f"isMeetingRunning:{running}",
        running,
        lambda: [("returncode", "SUCCESS"), ("running", running)],
    )


async def get_meeting_info(req: ApiRequest) -> Answer:
    meeting = await req.ctx.meetings.get_live(_meeting_id(req))
    if meeting is None:
        raise MeetingNotFound()
    return Memo(
        f"getMeetingInfo:{meeting.external_id}",
        meeting,
        lambda: [("returncode", "SUCCESS"), *meeting_fields(meeting)],
    )


async def get_meetings(req: ApiRequest) -> Answer:
    meetings = await req.ctx.meetings.list_live()
    return Memo("getMeetings", meetings, lambda: _meetings_document(meetings))


def _meetings_document(meetings: Sequence[Meeting]) -> Fields:
    if not meetings:
        return [
            ("returncode", "SUCCESS"),
            ("meetings", []),
            ("messageKey", "noMeetings"),
            ("message", "no meetings were found on this server"),
        ]
    items: list[Fields] = [meeting_fields(m) for m in meetings]
    return [("returncode", "SUCCESS"), ("meetings", Repeated("meeting", items))]

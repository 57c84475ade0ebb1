"""The root (version) call, insertDocument, sendChatMessage and getJoinUrl."""

from __future__ import annotations

from urllib.parse import quote_plus

from starlette.responses import JSONResponse

from sala import __version__
from sala import checksums as checksum
from sala.api.calls.meetings import optional_meeting_id
from sala.api.documents import add_documents, uploads_from_xml
from sala.api.endpoint import Answer, ApiRequest, render, wants_json
from sala.api.errors import ApiError, missing_meeting_id
from sala.api.xml import Fields
from sala.events import types
from sala.events.types import PUBLIC_CHAT_TOPIC
from sala.meetings import ids
from sala.meetings.errors import InvalidSession

VERSION_HEADER = b"x-sala-version"


async def version(req: ApiRequest) -> Answer:
    """BBB 3.0's elements exactly (api-version.ftlx). sala serves no GraphQL and no plugin SDK,
    so those are empty rather than pointing clients at endpoints that do not exist; sala's own
    version goes in a header, where no BBB client looks for elements."""
    document: Fields = [
        ("returncode", "SUCCESS"),
        ("version", "2.0"),
        ("apiVersion", "2.0"),
        ("bbbVersion", ""),
        ("html5PluginSdkVersion", ""),
        ("graphqlWebsocketUrl", ""),
        ("graphqlApiUrl", ""),
    ]
    accept = req.headers.get("accept", "")
    response = render(document, wants_json(accept, req.content_type, req.method, req.ctx))
    response.raw_headers.append((VERSION_HEADER, __version__.encode("ascii")))
    return response


def _document_answer(returncode: str, message: str) -> Fields:
    """insertDocument's own answers, success or not, carry only these two (insert-document.ftlx);
    validation failures before them use the usual error document."""
    return [("returncode", returncode), ("message", message)]


async def insert_document(req: ApiRequest) -> Answer:
    meeting_id = req.params.nonempty("meetingID")
    if meeting_id is None:
        raise missing_meeting_id()
    meeting = await req.ctx.meetings.get_live(meeting_id)
    if meeting is None:
        return _document_answer("FAILED", f"Meeting with id [{meeting_id}] not found.")
    if "presentation" in meeting.disabled_features:
        return _document_answer("FAILED", "Presentation feature is disabled, ignoring.")
    body = req.xml_body
    if body is None:
        return _document_answer("FAILED", "Send the documents as a <modules> XML body.")
    uploads = await uploads_from_xml(body, req.ctx.settings.presentation_max_documents_per_request)
    if not uploads:
        return _document_answer("FAILED", "The XML body names no presentation document.")
    await add_documents(req.ctx.presentations, meeting.internal_id, uploads)
    await req.ctx.meetings.log_event(
        meeting.internal_id, types.PRESENTATION_INSERTED, {"filenames": [u.name for u in uploads]}
    )
    return _document_answer("SUCCESS", "Presentation is being uploaded")


async def send_chat_message(req: ApiRequest) -> Answer:
    # bbb-web 3.0: an absent meetingID passes validation and fails the lookup (meetingNotFound);
    # an empty one fails the ID's size check first.
    meeting_id = optional_meeting_id(req)
    message = req.params.text("message")
    if message is None:
        raise ApiError("nullError", "You must provide the param message")
    # bbb-web trims every value before its size checks, and sends what it checked.
    message = message.strip()
    if not 1 <= len(message) <= 500:
        raise ApiError("sizeError", "Param message must be between 1 and 500 characters")
    user_name = (req.params.text("userName") or "").strip() or "System"
    if len(user_name) > 255:
        raise ApiError("sizeError", "Param userName must be at most 255 characters")
    meeting = await req.ctx.meetings.get_live(meeting_id) if meeting_id else None
    if meeting is None or not meeting.running:
        # BBB 3.0 delivers API chat only to a running meeting: somebody is in the room.
        raise ApiError("meetingNotFound", "Meeting not found")
    data = {
        "id": ids.chat_message_id(),
        "chat": "public",
        "message": message,
        "sender_name": user_name,
        "source": "api",
    }
    await req.ctx.meetings.log_event(meeting.internal_id, types.CHAT_MESSAGE, data)
    await req.ctx.bus.publish(PUBLIC_CHAT_TOPIC, {"meeting_id": meeting.internal_id, **data})
    return [("returncode", "SUCCESS"), ("messageKey", ""), ("message", "Message successfully sent")]


def _json_failure(message: str, token: str | None) -> JSONResponse:
    return JSONResponse(
        {"response": {"returncode": "FAILED", "message": message, "sessionToken": token}}
    )


async def get_join_url(req: ApiRequest) -> Answer:
    """A fresh join URL for a user already in the room (second screen, device hand-over)."""
    token = req.params.nonempty("sessionToken")
    if token is None:
        return JSONResponse(
            {
                "response": {
                    "returncode": "FAILED",
                    "messageKey": "missingToken",
                    "message": "You must provide a session token",
                }
            }
        )
    try:
        session = await req.ctx.sessions.room_session(token)
    except InvalidSession:
        return _json_failure("Invalid Session", token)
    user, meeting = session.attendee, session.meeting
    is_moderator = user.role.value == "MODERATOR"
    pairs: list[tuple[str, str]] = [
        ("meetingID", meeting.external_id),
        ("role", user.role.value),
        ("redirect", "true"),
    ]
    if not (is_moderator and not req.params.boolean("duplicateSession", True)):
        pairs.append(("existingUserID", user.internal_user_id))
    full_name = req.params.nonempty("fullName") if is_moderator else None
    pairs.append(("fullName", full_name or user.full_name))
    for name in ("sessionName",):
        value = req.params.nonempty(name)
        if value:
            pairs.append((name, value))
    if req.params.boolean("replaceSession", False):
        pairs.append(("replaceSessionToken", token))
    if is_moderator and not meeting.is_breakout:
        pairs += [(k, v) for k, v in req.params.items() if k.startswith("userdata-")]
        layout = req.params.nonempty("enforceLayout")
        if layout:
            pairs.append(("enforceLayout", layout))
    query = "&" + "&".join(f"{k}={quote_plus(v)}" for k, v in pairs)
    signature = checksum.compute("join", query, req.ctx.settings.shared_secret, "sha1")
    url = f"{req.ctx.settings.base_url}/bigbluebutton/api/join?{query}&checksum={signature}"
    return JSONResponse(
        {
            "response": {
                "returncode": "SUCCESS",
                "message": "Join URL provided successfully.",
                "url": url,
            }
        }
    )

"""join: register a user in a meeting and send them to the room.

With `redirect=true` (the default) success is a 302 to the room, carrying a one-time session
token, and failures redirect too, with BBB's `errors=` JSON appended to the error URL. With
`redirect=false` both are XML.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.responses import RedirectResponse

from sala.api.endpoint import Answer, ApiRequest
from sala.api.errors import ApiError, missing_meeting_id
from sala.meetings.errors import MeetingError
from sala.meetings.model import Role
from sala.meetings.specs import JoinSpec

USERDATA_PREFIX = "userdata-"


def room_url(base_url: str, token: str) -> str:
    return f"{base_url}/room/join?sessionToken={token}"


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(extra)
    return urlunsplit(parts._replace(query=query))


def _role(value: str | None) -> Role | None:
    if value is None:
        return None
    try:
        return Role(value.strip().upper())
    except ValueError:
        return None


async def join(req: ApiRequest) -> Answer:
    redirect = req.params.boolean("redirect", True)
    try:
        return await _join(req, redirect)
    except (ApiError, MeetingError) as exc:
        if not redirect:
            raise
        key = exc.key
        message = exc.message
        target = (
            req.params.nonempty("errorRedirectUrl")
            or req.params.nonempty("logoutURL")
            or req.ctx.settings.logout_url
        )
        errors = json.dumps([{"key": key, "message": message}], separators=(",", ":"))
        return RedirectResponse(_with_query(target, {"errors": errors}), status_code=302)


async def _join(req: ApiRequest, redirect: bool) -> Answer:
    params = req.params
    meeting_id = params.nonempty("meetingID")
    if meeting_id is None:
        raise missing_meeting_id()
    full_name = params.nonempty("fullName")
    if full_name is None:
        raise ApiError("missingParamFullName", "You must provide your name")
    if len(full_name) > 256:
        raise ApiError("sizeError", "Param fullName must be at most 256 characters")
    custom = {key: value for key, value in params.with_prefix(USERDATA_PREFIX).items()}
    spec = JoinSpec(
        full_name=full_name,
        role=_role(params.nonempty("role")),
        password=params.nonempty("password"),
        create_time=params.nonempty("createTime"),
        external_user_id=params.nonempty("userID"),
        guest=params.optional_boolean("guest"),
        avatar_url=params.nonempty("avatarURL") or "",
        custom_data=custom,
        join_params={
            k: v
            for k, v in params.items()
            if k
            in {
                "webcamBackgroundURL",
                "excludeFromDashboard",
                "enforceLayout",
                "bot",
                "logoutURL",
                "firstName",
                "lastName",
                "sessionName",
                "auth",
                "errorRedirectUrl",
            }
        },
        existing_user_id=params.nonempty("existingUserID"),
    )
    result = await req.ctx.meetings.join(meeting_id, spec)
    url = room_url(req.ctx.settings.base_url, result.session_token)
    if redirect:
        return RedirectResponse(url, status_code=302)
    return [
        ("returncode", "SUCCESS"),
        ("messageKey", "successfullyJoined"),
        ("message", "You have joined successfully."),
        ("meeting_id", result.meeting.internal_id),
        ("user_id", result.attendee.internal_user_id),
        ("auth_token", result.attendee.auth_token),
        ("session_token", result.session_token),
        ("guestStatus", result.attendee.guest_status.value),
        ("url", url),
    ]

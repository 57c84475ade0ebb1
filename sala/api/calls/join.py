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
from sala.api.errors import ApiError
from sala.api.join_params import error_redirect_target, parse_join, wants_redirect
from sala.meetings.errors import MeetingError


def room_url(base_url: str, token: str) -> str:
    return f"{base_url}/room/join?sessionToken={token}"


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(extra)
    return urlunsplit(parts._replace(query=query))


async def join(req: ApiRequest) -> Answer:
    redirect = wants_redirect(req.params)
    try:
        return await _join(req, redirect)
    except (ApiError, MeetingError) as exc:
        if not redirect:
            raise
        key = exc.key
        message = exc.message
        target = error_redirect_target(req.params, req.ctx.settings.logout_url)
        errors = json.dumps([{"key": key, "message": message}], separators=(",", ":"))
        return RedirectResponse(_with_query(target, {"errors": errors}), status_code=302)


async def _join(req: ApiRequest, redirect: bool) -> Answer:
    meeting_id, spec = parse_join(req.params)
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

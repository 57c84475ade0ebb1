"""The hand-off from `join` to the room.

A join URL carries a one-time, expiring session token. Opening it spends the token and gives the
browser a room session (an HttpOnly cookie), then sends it to the room page. The token in the URL
is useless afterwards, so a join link that leaks from browser history cannot be replayed.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sala.config import Settings
from sala.meetings.errors import InvalidSession
from sala.meetings.sessions import RoomSessions

COOKIE = "sala_room"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body><main>{body}</main></body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


class RoomHandoff:
    def __init__(self, sessions: RoomSessions, settings: Settings) -> None:
        self._sessions = sessions
        self._secure = settings.base_url.startswith("https://")

    async def join(self, request: Request) -> Response:
        token = request.query_params.get("sessionToken", "")
        try:
            session = await self._sessions.open_room_session(token)
        except InvalidSession:
            return _page(
                "Link expired",
                "<h1>This join link was already used or has expired.</h1>"
                "<p>Ask for a new link to enter the meeting.</p>",
                status=403,
            )
        response = RedirectResponse("/room/", status_code=303)
        response.set_cookie(
            COOKIE,
            session.token,
            path="/",
            httponly=True,
            secure=self._secure,
            # Embedded in an integrator's iframe the room is a third-party context.
            samesite="none" if self._secure else "lax",
        )
        return response

    async def page(self, request: Request) -> Response:
        token = request.cookies.get(COOKIE, "")
        try:
            session = await self._sessions.room_session(token)
        except InvalidSession:
            return _page(
                "Not in a meeting",
                "<h1>You are not in a meeting.</h1><p>Use your join link to enter.</p>",
                status=401,
            )
        meeting, user = session.meeting, session.attendee
        return _page(
            meeting.name,
            f"<h1 data-meeting>{html.escape(meeting.name)}</h1>"
            f"<p data-user>{html.escape(user.full_name)} ({user.role.value.lower()})</p>",
        )

"""The hand-off from `join` to the room.

A join URL carries a one-time, expiring session token. Opening it spends the token and gives the
browser a room session (an HttpOnly cookie), then sends it to the room page. The token in the URL
is useless afterwards, so a join link that leaks from browser history cannot be replayed.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from sala.config import Settings
from sala.meetings.errors import InvalidSession
from sala.meetings.sessions import RoomSessions

COOKIE = "sala_room"
STATIC_DIR = Path(__file__).parent / "static"


def room_headers(frame_ancestors: str) -> dict[str, str]:
    """Security headers of the room's pages. No X-Frame-Options: integrators embed the room
    in an iframe; who may do so is the operator's `frame-ancestors` policy."""
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' https: data:; connect-src 'self'; object-src 'none'; "
            f"base-uri 'none'; frame-ancestors {frame_ancestors}"
        ),
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Content-Type-Options": "nosniff",
    }


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
        self._page_headers = room_headers(settings.frame_ancestors)

    async def join(self, request: Request) -> Response:
        token = request.query_params.get("sessionToken", "")
        try:
            # The session's token only: its WebSocket reads the session a moment later.
            session_token = await self._sessions.spend(token)
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
            session_token,
            path="/",
            httponly=True,
            secure=self._secure,
            # Embedded in an integrator's iframe the room is a third-party context.
            samesite="none" if self._secure else "lax",
        )
        return response

    async def page(self, request: Request) -> Response:
        """The room application; it authenticates over its WebSocket with the session cookie."""
        return FileResponse(
            STATIC_DIR / "room.html",
            headers={"Cache-Control": "no-store", **self._page_headers},
        )

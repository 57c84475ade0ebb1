"""The demo page: try a meeting from a browser right after `scripts/run`.

Every API step happens on the server, so the shared secret never reaches the browser. It is on by
default only when sala listens on loopback (SALA_DEMO switches it), since anyone who can open it
can create meetings.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import uuid
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sala.meetings.errors import MeetingError
from sala.meetings.model import Role
from sala.meetings.service import MeetingService
from sala.meetings.specs import CreateSpec, JoinSpec

STYLE = (
    "body{font:16px system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
    "input,button{font:inherit;padding:.4rem;margin:.2rem 0}label{display:block;margin-top:.6rem}"
    "code{word-break:break-all}"
)


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>sala demo</title><style>{STYLE}</style></head><body>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


class Demo:
    def __init__(self, meetings: MeetingService, base_url: str, secret: str) -> None:
        self._meetings = meetings
        self._base_url = base_url
        self._secret = secret.encode()

    def _moderator_key(self, meeting_id: str) -> str:
        """Only the creator's link makes a moderator; the shared viewer link cannot be edited
        into one."""
        return hmac.new(self._secret, meeting_id.encode(), hashlib.sha256).hexdigest()[:24]

    async def form(self, request: Request) -> Response:
        return _page(
            "<h1>sala demo</h1><p>Create a meeting and join it as moderator; then share the "
            "viewer link.</p><form method='post' action='/demo'>"
            "<label>Meeting name <input name='name' required minlength='2' maxlength='100' "
            "value='Demo meeting'></label>"
            "<label>Your name <input name='fullName' required maxlength='100'></label>"
            "<label><input type='checkbox' name='lobby' value='1'> Guests wait for approval</label>"
            "<p><button>Create and join</button></p></form>"
        )

    async def create(self, request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name", "")).strip()[:100] or "Demo meeting"
        full_name = str(form.get("fullName", "")).strip()[:100] or "Moderator"
        meeting_id = f"demo-{uuid.uuid4().hex[:12]}"
        policy = "ASK_MODERATOR" if form.get("lobby") else "ALWAYS_ACCEPT"
        if len(name) < 2:
            name = "Demo meeting"
        await self._meetings.create(
            CreateSpec(
                external_id=meeting_id,
                name=name,
                settings={
                    "guestPolicy": policy,
                    "welcome": f"Welcome to <b>{html.escape(name)}</b>!",
                },
            )
        )
        viewer = f"{self._base_url}/demo/join?{urlencode({'meeting': meeting_id})}"
        moderator = "/demo/join?" + urlencode(
            {"meeting": meeting_id, "key": self._moderator_key(meeting_id), "fullName": full_name}
        )
        return _page(
            f"<h1>{html.escape(name)}</h1><p>Viewer link to share:</p><p><code>"
            f"{html.escape(viewer)}</code></p>"
            f"<p><a href='{html.escape(moderator)}'>Enter as moderator</a></p>"
        )

    async def join(self, request: Request) -> Response:
        meeting_id = request.query_params.get("meeting", "")
        full_name = request.query_params.get("fullName", "").strip()[:100]
        key = request.query_params.get("key", "")
        moderator = hmac.compare_digest(key, self._moderator_key(meeting_id))
        role = Role.MODERATOR if moderator else Role.VIEWER
        if not full_name:
            return _page(
                "<h1>Join the meeting</h1><form method='get' action='/demo/join'>"
                f"<input type='hidden' name='meeting' value='{html.escape(meeting_id)}'>"
                f"<input type='hidden' name='key' value='{html.escape(key)}'>"
                "<label>Your name <input name='fullName' required maxlength='100'></label>"
                "<p><button>Join</button></p></form>"
            )
        try:
            joined = await self._meetings.join(
                meeting_id,
                JoinSpec(full_name=full_name, role=role, guest=role is Role.VIEWER or None),
            )
        except MeetingError as exc:
            return _page(f"<h1>Cannot join</h1><p>{html.escape(exc.message)}</p>", status=404)
        return RedirectResponse(f"/room/join?sessionToken={joined.session_token}", status_code=303)

"""The demo page: try a meeting from a browser, the shared secret staying on the server.

Off unless the operator turns it on (SALA_DEMO=true): whoever can reach it can create meetings,
and a loopback listener is no proof of privacy (a reverse proxy on the same host makes it
public). When on, it is fenced in:
- it joins only meetings it created itself: every link it hands out carries a key derived from
  the shared secret and the meeting ID, one for viewers and another for the moderator, so a
  meeting an integrator created cannot be entered by guessing or knowing its ID;
- creating is rate-limited per visitor address and overall, the meetings it makes are small and
  short (DEMO_MAX_PARTICIPANTS, DEMO_DURATION_MINUTES), and at most DEMO_MAX_LIVE run at once;
- SALA_DEMO_PASSPHRASE, when set, is asked for before anything is created.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
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
ID_PREFIX = "demo-"
DEMO_DURATION_MINUTES = 60
DEMO_MAX_PARTICIPANTS = 25
DEMO_MAX_LIVE = 20
"""Demo meetings running at once (those created in the last DEMO_DURATION_MINUTES)."""
PER_ADDRESS = (5, 600.0)
"""At most 5 meetings per visitor address in 10 minutes."""


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>sala demo</title><style>{STYLE}</style></head><body>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@dataclass
class CreationLimiter:
    """Sliding windows of creation times: one per visitor address, one for everybody."""

    per_address: tuple[int, float] = PER_ADDRESS
    live: tuple[int, float] = (DEMO_MAX_LIVE, DEMO_DURATION_MINUTES * 60.0)
    _by_address: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)

    def allow(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        _expire(self._all, now - self.live[1])
        window_start = now - self.per_address[1]
        for key in [k for k, v in self._by_address.items() if _expire(v, window_start)]:
            del self._by_address[key]
        mine = self._by_address.get(address, deque())
        if len(mine) >= self.per_address[0] or len(self._all) >= self.live[0]:
            return False
        mine.append(now)
        self._by_address[address] = mine
        self._all.append(now)
        return True


def _expire(times: deque[float], before: float) -> bool:
    """Drop the times before `before`; True when none is left."""
    while times and times[0] < before:
        times.popleft()
    return not times


class Demo:
    def __init__(
        self,
        meetings: MeetingService,
        base_url: str,
        secret: str,
        passphrase: str | None = None,
        limiter: CreationLimiter | None = None,
    ) -> None:
        self._meetings = meetings
        self._base_url = base_url
        self._secret = secret.encode()
        self._passphrase = passphrase or None
        self._limiter = limiter or CreationLimiter()

    def _key(self, role: Role, meeting_id: str) -> str:
        """The key a demo link carries: only the demo can make one, one per role, so the viewer
        link cannot be edited into the moderator's, nor a link made for another meeting."""
        message = f"sala-demo:{role.value}:{meeting_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def _role_of(self, meeting_id: str, key: str) -> Role | None:
        if not meeting_id.startswith(ID_PREFIX) or not key:
            return None
        for role in (Role.MODERATOR, Role.VIEWER):
            if hmac.compare_digest(key, self._key(role, meeting_id)):
                return role
        return None

    def _form(self, message: str = "", status: int = 200) -> Response:
        passphrase = (
            "<label>Demo passphrase <input name='passphrase' type='password' required></label>"
            if self._passphrase
            else ""
        )
        notice = f"<p role='alert'>{html.escape(message)}</p>" if message else ""
        return _page(
            "<h1>sala demo</h1><p>Create a meeting and join it as moderator; then share the "
            f"viewer link.</p>{notice}<form method='post' action='/demo'>"
            "<label>Meeting name <input name='name' required minlength='2' maxlength='100' "
            "value='Demo meeting'></label>"
            "<label>Your name <input name='fullName' required maxlength='100'></label>"
            f"{passphrase}"
            "<label><input type='checkbox' name='lobby' value='1'> Guests wait for approval</label>"
            "<p><button>Create and join</button></p></form>",
            status,
        )

    async def form(self, request: Request) -> Response:
        return self._form()

    async def create(self, request: Request) -> Response:
        async with request.form(max_files=0, max_fields=8) as form:
            fields = {k: str(v) for k, v in form.items()}
        if self._passphrase is not None and not hmac.compare_digest(
            fields.get("passphrase", "").encode(), self._passphrase.encode()
        ):
            return self._form("Wrong passphrase.", status=403)
        address = request.client.host if request.client else "?"
        if not self._limiter.allow(address):
            return self._form("Too many demo meetings were created; try again later.", 429)
        name = fields.get("name", "").strip()[:100]
        if len(name) < 2:
            name = "Demo meeting"
        full_name = fields.get("fullName", "").strip()[:100] or "Moderator"
        meeting_id = f"{ID_PREFIX}{uuid.uuid4().hex}"
        await self._meetings.create(
            CreateSpec(
                external_id=meeting_id,
                name=name,
                duration_minutes=DEMO_DURATION_MINUTES,
                max_participants=DEMO_MAX_PARTICIPANTS,
                settings={
                    "guestPolicy": "ASK_MODERATOR" if fields.get("lobby") else "ALWAYS_ACCEPT",
                    "welcome": f"Welcome to <b>{html.escape(name)}</b>!",
                },
            )
        )
        viewer = f"{self._base_url}/demo/join?" + urlencode(
            {"meeting": meeting_id, "key": self._key(Role.VIEWER, meeting_id)}
        )
        moderator = "/demo/join?" + urlencode(
            {
                "meeting": meeting_id,
                "key": self._key(Role.MODERATOR, meeting_id),
                "fullName": full_name,
            }
        )
        return _page(
            f"<h1>{html.escape(name)}</h1><p>Viewer link to share:</p><p><code>"
            f"{html.escape(viewer)}</code></p>"
            f"<p><a href='{html.escape(moderator)}'>Enter as moderator</a></p>"
        )

    async def join(self, request: Request) -> Response:
        meeting_id = request.query_params.get("meeting", "")
        key = request.query_params.get("key", "")
        role = self._role_of(meeting_id, key)
        if role is None:
            # The same answer for a meeting that does not exist and one that is not the demo's.
            return _page("<h1>Cannot join</h1><p>This demo link is not valid.</p>", status=404)
        full_name = request.query_params.get("fullName", "").strip()[:100]
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

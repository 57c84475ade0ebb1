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

The pages are a small HTML shell under the room's CSP (no inline script or style): the browser
client in client/src/demo/ (bundled as /room/static/app/demo.js and demo.css) draws the view the
shell names in `data-view`, in the visitor's language. It creates meetings through
POST /demo/rooms (JSON); the HTML form posted to /demo does the same, for browsers without
scripts. Both go through `_create`, so both have every check.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sala.meetings.errors import MeetingError
from sala.meetings.model import Role
from sala.meetings.service import MeetingService
from sala.meetings.specs import CreateSpec, JoinSpec
from sala.room.handoff import room_headers

ID_PREFIX = "demo-"
DEMO_DURATION_MINUTES = 60
DEMO_MAX_PARTICIPANTS = 25
DEMO_MAX_LIVE = 20
"""Demo meetings running at once (those created in the last DEMO_DURATION_MINUTES)."""
PER_ADDRESS = (5, 600.0)
"""At most 5 meetings per visitor address in 10 minutes."""
LOCALES = ("en-US", "pt-BR", "es-ES")
WELCOME = {
    "en-US": "Welcome to <b>{name}</b>!",
    "pt-BR": "Boas-vindas à sala <b>{name}</b>!",
    "es-ES": "¡Te damos la bienvenida a <b>{name}</b>!",
}
HEADERS = {"Cache-Control": "no-store", **room_headers("'none'")}
"""The room's CSP; nobody needs to frame the demo, so nobody may (no clickjacking of its form)."""


def _page(view: str, fallback: str, status: int = 200, **data: str) -> HTMLResponse:
    """The shell: the client draws `view` from the data attributes; `fallback` is for browsers
    without scripts."""
    attributes = "".join(
        f' data-{name.replace("_", "-")}="{html.escape(value)}"' for name, value in data.items()
    )
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta name='color-scheme' content='light dark'><link rel='icon' href='data:,'>"
        "<title>sala</title><link rel='stylesheet' href='/room/static/app/demo.css'>"
        "<script type='module' src='/room/static/app/demo.js'></script></head>"
        f'<body><div id="demo-app" data-view="{view}"{attributes}></div>'
        f"<noscript><main class='demo-fallback'>{fallback}</main></noscript></body></html>",
        status_code=status,
        headers=HEADERS,
    )


def _locale(value: object) -> str | None:
    return value if isinstance(value, str) and value in LOCALES else None


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


@dataclass(frozen=True)
class Created:
    name: str
    moderator: str
    """The moderator's invite link (asks for a name)."""
    viewer: str
    """The viewer's invite link (asks for a name)."""
    open: str
    """The creator's way in: the moderator link with their name (and language)."""


class Refused(Exception):
    """Creation refused: `code` for the client's words, `message` for the no-script page."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


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

    def _link(self, role: Role, meeting_id: str, **extra: str) -> str:
        query = {"meeting": meeting_id, "key": self._key(role, meeting_id), **extra}
        return "/demo/join?" + urlencode(query)

    async def _create(self, fields: dict[str, str], address: str) -> Created:
        """Checks the passphrase and the limits, then creates a small, short demo meeting."""
        if self._passphrase is not None and not hmac.compare_digest(
            fields.get("passphrase", "").encode(), self._passphrase.encode()
        ):
            raise Refused(403, "passphrase", "Wrong passphrase.")
        if not self._limiter.allow(address):
            raise Refused(429, "rate", "Too many demo meetings were created; try again later.")
        name = fields.get("name", "").strip()[:100]
        if len(name) < 2:
            name = "Demo meeting"
        full_name = fields.get("fullName", "").strip()[:100] or "Moderator"
        locale = _locale(fields.get("lang"))
        meeting_id = f"{ID_PREFIX}{uuid.uuid4().hex}"
        await self._meetings.create(
            CreateSpec(
                external_id=meeting_id,
                name=name,
                duration_minutes=DEMO_DURATION_MINUTES,
                max_participants=DEMO_MAX_PARTICIPANTS,
                settings={
                    "guestPolicy": "ASK_MODERATOR" if fields.get("lobby") else "ALWAYS_ACCEPT",
                    "welcome": WELCOME[locale or "en-US"].format(name=html.escape(name)),
                },
            )
        )
        mine = {"fullName": full_name, **({"lang": locale} if locale else {})}
        return Created(
            name=name,
            moderator=self._base_url + self._link(Role.MODERATOR, meeting_id),
            viewer=self._base_url + self._link(Role.VIEWER, meeting_id),
            open=self._link(Role.MODERATOR, meeting_id, **mine),
        )

    def _form(self, message: str = "", status: int = 200, code: str = "") -> Response:
        passphrase = (
            "<label>Demo passphrase <input name='passphrase' type='password' required></label>"
            if self._passphrase
            else ""
        )
        notice = f"<p role='alert'>{html.escape(message)}</p>" if message else ""
        return _page(
            "create",
            "<h1>sala demo</h1><p>Create a meeting and join it as moderator; then share the "
            f"viewer link.</p>{notice}<form method='post' action='/demo'>"
            "<label>Meeting name <input name='name' required minlength='2' maxlength='100' "
            "value='Demo meeting'></label>"
            "<label>Your name <input name='fullName' required maxlength='100'></label>"
            f"{passphrase}"
            "<label><input type='checkbox' name='lobby' value='1'> Guests wait for approval</label>"
            "<p><button>Create and join</button></p></form>",
            status,
            passphrase="required" if self._passphrase else "none",
            error=code,
            minutes=str(DEMO_DURATION_MINUTES),
            people=str(DEMO_MAX_PARTICIPANTS),
        )

    async def form(self, request: Request) -> Response:
        return self._form()

    async def create(self, request: Request) -> Response:
        """The HTML form (browsers without scripts): the links as a page."""
        async with request.form(max_files=0, max_fields=8) as form:
            fields = {k: str(v) for k, v in form.items()}
        try:
            created = await self._create(fields, _address(request))
        except Refused as refused:
            return self._form(refused.message, refused.status, refused.code)
        return _page(
            "created",
            f"<h1>{html.escape(created.name)}</h1><p>Viewer link to share:</p><p><code>"
            f"{html.escape(created.viewer)}</code></p>"
            f"<p><a href='{html.escape(created.open)}'>Enter as moderator</a></p>",
            name=created.name,
            moderator=created.moderator,
            viewer=created.viewer,
            open=created.open,
        )

    async def create_json(self, request: Request) -> Response:
        """POST /demo/rooms from the page's script: JSON in, the links (or an error code) out.
        A JSON body cannot come from another site's plain form without a CORS preflight."""
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "format"}, status_code=415, headers=HEADERS)
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"error": "format"}, status_code=400, headers=HEADERS)
        fields = {
            k: ("1" if v is True else "" if v is False else v)
            for k, v in body.items()
            if k in ("name", "fullName", "passphrase", "lobby", "lang")
            and isinstance(v, (str, bool))
        }
        try:
            created = await self._create(fields, _address(request))
        except Refused as refused:
            return JSONResponse({"error": refused.code}, refused.status, headers=HEADERS)
        return JSONResponse(
            {
                "name": created.name,
                "moderator": created.moderator,
                "viewer": created.viewer,
                "open": created.open,
            },
            headers=HEADERS,
        )

    async def join(self, request: Request) -> Response:
        meeting_id = request.query_params.get("meeting", "")
        key = request.query_params.get("key", "")
        role = self._role_of(meeting_id, key)
        if role is None:
            # The same answer for a meeting that does not exist and one that is not the demo's.
            return _page("invalid", "<h1>Cannot join</h1><p>This demo link is not valid.</p>", 404)
        full_name = request.query_params.get("fullName", "").strip()[:100]
        if not full_name:
            return _page(
                "join",
                "<h1>Join the meeting</h1><form method='get' action='/demo/join'>"
                f"<input type='hidden' name='meeting' value='{html.escape(meeting_id)}'>"
                f"<input type='hidden' name='key' value='{html.escape(key)}'>"
                "<label>Your name <input name='fullName' required maxlength='100'></label>"
                "<p><button>Join</button></p></form>",
                meeting=meeting_id,
                key=key,
                role=role.value,
            )
        locale = _locale(request.query_params.get("lang"))
        try:
            joined = await self._meetings.join(
                meeting_id,
                JoinSpec(
                    full_name=full_name,
                    role=role,
                    guest=role is Role.VIEWER or None,
                    custom_data={"bbb_override_default_locale": locale} if locale else {},
                ),
            )
        except MeetingError as exc:
            return _page(
                "error",
                f"<h1>Cannot join</h1><p>{html.escape(exc.message)}</p>",
                404,
                message=exc.message,
            )
        return RedirectResponse(f"/room/join?sessionToken={joined.session_token}", status_code=303)


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"

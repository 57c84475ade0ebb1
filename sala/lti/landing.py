"""The landing page of an LTI activity, `/lti/rooms/{token}`, and the JSON it reads and posts.

The launch's session token (sala/lti/sessions.py) is the only credential: it is in every path,
so the page works in the platform's iframe without cookies. The page is a shell under the
room's CSP; the client in client/src/lti/ (bundled as /room/static/app/lti.js and lti.css) draws
it in the launch's language and calls:

- `GET  …/state`: the activity (title, course, the user's role), its meeting (running, since
  when, who is in it) and its recordings: all of them for instructors, the published ones for
  learners (protected ones through one-time links, as getRecordings hands them out);
- `POST …/join`: the room's URL, or `{"waiting": true}` while a learner waits for the moderator;
- `GET  …/roster` (instructors): the course's members from the platform (NRPS) with who
  attended the activity's meeting, over all its sessions;
- `POST …/recordings/{record_id}/{action}` (instructors): publish, unpublish, protect,
  unprotect, delete, for the activity's own recordings only.

POSTs must be JSON (`Content-Type: application/json`), which no other site's plain form can send
without a CORS preflight. What is instructor-only is checked here, on the server: a learner's
session gets 403 and nothing changes.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sala.config import Settings
from sala.lti import meetings as activity
from sala.lti.attendance import attendance
from sala.lti.claims import locale_of, role_name
from sala.lti.keys import ToolKeys
from sala.lti.meetings import ActivityMeetings, Joined
from sala.lti.nrps import NamesRoles, RosterUnavailable
from sala.lti.pages import error_page
from sala.lti.platforms import Platforms
from sala.lti.sessions import LandingSession, Sessions
from sala.meetings.errors import MeetingError
from sala.recordings.protection import LINK_PARAM, PlaybackAccess, playback_access, with_param
from sala.recordings.store import Recording, RecordingQuery
from sala.room.handoff import room_headers
from sala.services import Services

log = logging.getLogger(__name__)

ACTIONS = ("publish", "unpublish", "protect", "unprotect", "delete")
INSTRUCTOR_STATES = frozenset({"processing", "processed", "published", "unpublished"})

_EXPIRED = {
    "en-US": (
        "This page's session has expired or is not valid.",
        "Open the activity again from your course.",
    ),
    "pt-BR": (
        "A sessão desta página expirou ou não é válida.",
        "Abra a atividade de novo a partir do seu curso.",
    ),
    "es-ES": (
        "La sesión de esta página caducó o no es válida.",
        "Abre la actividad de nuevo desde tu curso.",
    ),
}
_NO_SCRIPT = {
    "en-US": "This page needs JavaScript to join the meeting.",
    "pt-BR": "Esta página precisa de JavaScript para entrar na reunião.",
    "es-ES": "Esta página necesita JavaScript para entrar en la reunión.",
}

Handler = Callable[[Request, LandingSession], Awaitable[Response]]


class Landing:
    def __init__(
        self,
        services: Services,
        settings: Settings,
        sessions: Sessions,
        keys: ToolKeys,
        access: PlaybackAccess | None = None,
    ) -> None:
        self._services = services
        self._sessions = sessions
        self._frame_ancestors = settings.frame_ancestors
        self._meetings = ActivityMeetings(services.meetings, settings)
        self._platforms = Platforms(services.db, services.clock)
        self._roster = NamesRoles(services.http, services.destinations, keys.sign, services.clock)
        self._access = access or playback_access(settings, services.clock)

    def _headers(self) -> dict[str, str]:
        # The token is in the URL: no Referer may carry it anywhere, not even to sala itself.
        return {
            **room_headers(self._frame_ancestors),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        }

    def _json(self, body: dict[str, Any], status: int = 200) -> JSONResponse:
        return JSONResponse(body, status, headers=self._headers())

    async def _session(self, request: Request) -> LandingSession | None:
        return await self._sessions.get(str(request.path_params.get("token", "")))

    # ------------------------------------------------------------------------- the page --
    async def page(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            # No launch to take the language from: the browser's first one.
            accept = request.headers.get("accept-language", "")
            locale = locale_of(accept.split(",", 1)[0].split(";", 1)[0].strip())
            problem, fix = _EXPIRED[locale]
            return error_page(404, problem, fix, self._frame_ancestors, locale)
        launch = session.launch
        lang = launch.locale
        name = html.escape(activity.title(launch))
        return HTMLResponse(
            f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            "<meta name='color-scheme' content='light dark'><link rel='icon' href='data:,'>"
            f"<meta name='referrer' content='no-referrer'><title>{name}</title>"
            "<link rel='stylesheet' href='/room/static/app/lti.css'>"
            "<script type='module' src='/room/static/app/lti.js'></script></head>"
            f"<body><div id='lti-app' data-lang='{lang}' data-title='{name}'"
            f" data-base='/lti/rooms/{html.escape(session.token)}'></div>"
            f"<noscript><main class='lti-page'><h1>{name}</h1>"
            f"<p>{html.escape(_NO_SCRIPT[lang])}</p></main></noscript></body></html>",
            headers=self._headers(),
        )

    # ------------------------------------------------------------------------ the JSON --
    def _api(self, handler: Handler, *, instructor: bool = False, post: bool = False) -> Any:
        async def endpoint(request: Request) -> Response:
            if post and request.headers.get("content-type", "").split(";")[0].strip() != (
                "application/json"
            ):
                return self._json({"error": "format"}, 415)
            session = await self._session(request)
            if session is None:
                return self._json({"error": "session"}, 404)
            if instructor and not session.launch.moderator:
                return self._json({"error": "forbidden"}, 403)
            return await handler(request, session)

        return endpoint

    async def state(self, request: Request, session: LandingSession) -> Response:
        launch = session.launch
        meeting = await self._meetings.live(launch)
        running = meeting is not None and meeting.running
        body: dict[str, Any] = {
            "title": activity.title(launch),
            "context": launch.context_title,
            "locale": launch.locale,
            "name": launch.name,
            "instructor": launch.moderator,
            "waitForModerator": activity.waits_for_moderator(launch),
            "record": activity.flag(launch, "record"),
            "roster": launch.moderator and launch.names_roles_url is not None,
            # Only a web address: the platform's value becomes a link on the page.
            "returnUrl": launch.return_url
            if launch.return_url.startswith(("https://", "http://"))
            else "",
            "meeting": {
                "running": running,
                "since": meeting.start_time if meeting is not None and running else None,
                "moderatorPresent": bool(meeting and meeting.moderator_count),
                "participants": [
                    {"name": a.full_name, "moderator": a.role.value == "MODERATOR"}
                    for a in (meeting.attendees if meeting is not None else ())
                ],
            },
            "recordings": await self._recordings(launch.moderator, activity.meeting_id(launch)),
        }
        return self._json(body)

    async def _recordings(self, instructor: bool, meeting_id: str) -> list[dict[str, Any]]:
        states = INSTRUCTOR_STATES if instructor else frozenset({"published"})
        found = await self._services.recordings.find(
            RecordingQuery(meeting_ids=[meeting_id], states=states)
        )
        found.sort(key=lambda r: r.start_time, reverse=True)
        return [self._recording(r) for r in found if not r.is_breakout]

    def _recording(self, rec: Recording) -> dict[str, Any]:
        formats = []
        for fmt in rec.formats:
            kind, url = str(fmt.get("type", "")), str(fmt.get("url", ""))
            if not url:
                continue
            if rec.protected:
                # What getRecordings hands an integration: a one-time link for this page.
                url = with_param(url, LINK_PARAM, self._access.link_token(rec.record_id, kind))
            formats.append({"type": kind, "url": url})
        return {
            "id": rec.record_id,
            "name": rec.metadata.get("name") or rec.name,
            "start": rec.start_time,
            "end": rec.end_time,
            "state": rec.state,
            "published": rec.published,
            "protected": rec.protected,
            "playback": formats if rec.state in ("published", "unpublished") else [],
        }

    async def join(self, request: Request, session: LandingSession) -> Response:
        try:
            outcome = await self._meetings.join(session.launch)
        except MeetingError as exc:
            # The meeting ended between the check and the join, or it is full: try again.
            log.info("LTI join refused: %s", exc.message)
            return self._json({"error": "join", "message": exc.message}, 409)
        if isinstance(outcome, Joined):
            return self._json({"url": outcome.url})
        return self._json({"waiting": True})

    async def roster(self, request: Request, session: LandingSession) -> Response:
        launch = session.launch
        platform = await self._platforms.get(launch.platform_id)
        if launch.names_roles_url is None or platform is None:
            return self._json({"error": "unavailable"}, 404)
        attended = await attendance(self._services.db, activity.meeting_id(launch))
        try:
            members = await self._roster.members(platform, launch.names_roles_url)
        except RosterUnavailable as exc:
            log.warning("LTI roster of %s: %s", launch.issuer, exc)
            return self._json({"error": "unavailable"}, 502)
        rows = []
        for member in members:
            seen = attended.get(activity.user_id(launch.issuer, member.user_id))
            rows.append(
                {
                    "name": member.name or member.email or member.user_id,
                    "email": member.email,
                    "roles": sorted({role_name(r) for r in member.roles}),
                    "status": member.status,
                    "sessions": seen.sessions if seen else 0,
                    "lastJoined": seen.last_joined if seen else None,
                }
            )
        rows.sort(key=lambda row: (row["sessions"] == 0, str(row["name"]).casefold()))
        return self._json({"members": rows})

    async def recording_action(self, request: Request, session: LandingSession) -> Response:
        action = str(request.path_params["action"])
        record_id = str(request.path_params["record_id"])
        recordings = self._services.recordings
        rec = await recordings.get(record_id)
        if (
            action not in ACTIONS
            or rec is None
            or rec.meeting_id != activity.meeting_id(session.launch)
            or rec.state == "deleted"
        ):
            # Another activity's recording is as unknown here as one that does not exist.
            return self._json({"error": "not-found"}, 404)
        if action in ("publish", "unpublish"):
            await recordings.set_published([record_id], action == "publish")
        elif action in ("protect", "unprotect"):
            await recordings.update_metadata([record_id], {}, protect=action == "protect")
        else:
            await recordings.delete([record_id])
        updated = await recordings.get(record_id)
        return self._json({"recording": self._recording(updated) if updated else None})


def landing_routes(
    services: Services, settings: Settings, sessions: Sessions, keys: ToolKeys
) -> list[BaseRoute]:
    landing = Landing(services, settings, sessions, keys)
    base = "/lti/rooms/{token}"
    return [
        Route(base, landing.page, methods=["GET"]),
        Route(base + "/state", landing._api(landing.state), methods=["GET"]),
        Route(base + "/join", landing._api(landing.join, post=True), methods=["POST"]),
        Route(base + "/roster", landing._api(landing.roster, instructor=True), methods=["GET"]),
        Route(
            base + "/recordings/{record_id}/{action}",
            landing._api(landing.recording_action, instructor=True, post=True),
            methods=["POST"],
        ),
    ]

"""The room's custom stylesheet, `/room/custom.css`: join's `userdata-bbb_custom_style_url` and
`userdata-bbb_custom_style` (BBB 3.0), served to the participant who asked for them.

Both are served from the room's own origin after sala/room/css.py made them harmless, so the
room's CSP keeps allowing styles from 'self' only. The URL is fetched by sala, not by browsers:
checked by the destination policy and connected to only at the addresses it approved (as for
webhooks and documents), no redirects, bounded in time and size, and kept for a few minutes so a
class joining at once asks the host once. BBB links the URL's sheet before the inline style, so
the inline one comes second here too and wins where both set the same thing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

import httpx
from starlette.requests import Request
from starlette.responses import Response

from sala.events.destinations import DestinationPolicy, DestinationRefused
from sala.events.outbound import OutboundHttp, without_query
from sala.meetings.errors import InvalidSession
from sala.meetings.sessions import RoomSessions
from sala.room.css import MAX_CSS_CHARS, sanitize
from sala.room.handoff import COOKIE

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 5.0
"""The whole fetch, connecting and every byte included."""
KEEP_S = 300.0
KEEP_FAILURE_S = 60.0
"""A URL that gave nothing is not asked again for a minute (one per page load otherwise)."""
KEPT_URLS = 64
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class CustomStyles:
    def __init__(
        self, sessions: RoomSessions, destinations: DestinationPolicy, http: OutboundHttp
    ) -> None:
        self._sessions = sessions
        self._destinations = destinations
        self._http = http
        self._kept: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._fetching: dict[str, asyncio.Task[str]] = {}

    async def stylesheet(self, request: Request) -> Response:
        try:
            session = await self._sessions.room_session(request.cookies.get(COOKIE, ""))
        except InvalidSession:
            return Response("/* join the meeting first */", 401, media_type="text/css")
        userdata = session.attendee.custom_data
        parts = []
        url = userdata.get("bbb_custom_style_url")
        if isinstance(url, str) and url.strip():
            parts.append(await self._from_url(url.strip()))
        inline = userdata.get("bbb_custom_style")
        if isinstance(inline, str):
            parts.append(sanitize(inline))
        return Response(
            "\n".join(part for part in parts if part),
            media_type="text/css; charset=utf-8",
            headers=HEADERS,
        )

    async def _from_url(self, url: str) -> str:
        kept = self._kept.get(url)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        task = self._fetching.get(url)
        if task is None:
            task = asyncio.create_task(self._fetch_and_keep(url))
            self._fetching[url] = task
            task.add_done_callback(lambda _t: self._fetching.pop(url, None))
        # Shielded: a browser that goes away does not cancel the fetch others wait for.
        return await asyncio.shield(task)

    async def _fetch_and_keep(self, url: str) -> str:
        try:
            async with asyncio.timeout(FETCH_TIMEOUT_S):
                css = await self._fetch(url)
        except TimeoutError:
            log.info("custom style %s: no answer within %s s", without_query(url), FETCH_TIMEOUT_S)
            css = None
        keep_s = KEEP_S if css is not None else KEEP_FAILURE_S
        self._kept[url] = (time.monotonic() + keep_s, css or "")
        self._kept.move_to_end(url)
        while len(self._kept) > KEPT_URLS:
            self._kept.popitem(last=False)
        return css or ""

    async def _fetch(self, url: str) -> str | None:
        """The sanitised sheet at `url`, or None (and a log line) if it cannot be used."""
        try:
            destination = await self._destinations.check(url)
        except DestinationRefused as exc:
            log.info("custom style %s refused: %s", without_query(url), exc)
            return None
        body = bytearray()
        try:
            async with self._http.stream(destination, "GET", timeout_s=FETCH_TIMEOUT_S) as answer:
                kind = answer.headers.get("content-type", "text/css").split(";")[0].strip()
                if answer.status_code != 200 or kind.lower() != "text/css":
                    # Browsers apply a stylesheet only when it is served as text/css.
                    log.info(
                        "custom style %s: HTTP %s, %s", without_query(url), answer.status_code, kind
                    )
                    return None
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_CSS_CHARS:
                        log.info(
                            "custom style %s: larger than %s bytes",
                            without_query(url),
                            MAX_CSS_CHARS,
                        )
                        return None
                encoding = answer.charset_encoding or "utf-8"
        except httpx.HTTPError as exc:
            log.info("custom style %s: %s", without_query(url), type(exc).__name__)
            return None
        try:
            text = body.decode(encoding, errors="replace")
        except LookupError:
            text = body.decode("utf-8", errors="replace")
        return sanitize(text)

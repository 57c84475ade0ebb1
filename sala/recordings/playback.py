"""Where recordings are watched: the playback pages and their files, for published recordings
only (an unpublished or deleted recording answers 404 at every URL, as in BBB).

- `/playback/presentation/2.3/<record id>`: the player page (static/player.*), which loads
  `/playback/presentation/2.3/<record id>/recording.json` and the files beside it; `?l=media`
  shows the video only.
- `/playback/video/<record id>/`: a page with the MP4, and `/playback/video/<record id>/video.mp4`.

A protected recording (recordings/protection.py) answers only a request that carries a one-time
link's `token` (spent, turned into a cookie, and redirected to the plain URL), the cookie, or, for
a preview image, its signature; anything else gets the same 404 as a recording that is not there.
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)

from sala.recordings.protection import (
    COOKIE_NAME,
    LINK_PARAM,
    PREVIEW_PARAM,
    PlaybackAccess,
    cookie_path,
)
from sala.recordings.store import Recording, RecordingStore

STATIC_DIR = Path(__file__).parent / "static"
MEDIA_TYPES = {
    ".json": "application/json",
    ".ogg": "audio/ogg",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".png": "image/png",
    ".mp4": "video/mp4",
}


def _headers(frame_ancestors: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "media-src 'self'; object-src 'none'; base-uri 'none'; "
            f"frame-ancestors {frame_ancestors}"
        ),
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Content-Type-Options": "nosniff",
    }


class Playback:
    def __init__(
        self,
        store: RecordingStore,
        root: Path,
        frame_ancestors: str,
        access: PlaybackAccess | None = None,
    ) -> None:
        self._store = store
        self._root = root
        self._headers = _headers(frame_ancestors)
        self._access = access

    async def _recording(self, record_id: str, fmt: str) -> Recording | None:
        recording = await self._store.get(record_id)
        if recording is None or recording.state != "published":
            return None
        if not any(f.get("type") == fmt for f in recording.formats):
            return None
        return recording

    def _allowed(self, request: Request, recording: Recording, fmt: str) -> bool:
        """A file of a protected recording: the cookie its link left, or a preview's signature."""
        if not recording.protected:
            return True
        if self._access is None:
            return False
        record_id = recording.record_id
        if self._access.check_cookie(request.cookies.get(COOKIE_NAME), record_id, fmt):
            return True
        path = str(request.path_params.get("path", ""))
        signature = request.query_params.get(PREVIEW_PARAM)
        return bool(path) and self._access.check_preview(signature, record_id, fmt, path)

    async def _page(self, request: Request, fmt: str) -> Recording | Response:
        """The recording a page shows, or the answer for a protected one's link (a redirect
        with the cookie) or for a request without access (404)."""
        recording = await self._recording(request.path_params["record_id"], fmt)
        if recording is None:
            return self._missing()
        if not recording.protected:
            return recording
        access = self._access
        if access is None:
            return self._missing()
        token = request.query_params.get(LINK_PARAM)
        record_id = recording.record_id
        if token is not None:
            link = access.check_link(token, record_id, fmt)
            spent = link is not None and await self._store.use_link(link.nonce, link.expires_at)
            has_cookie = access.check_cookie(request.cookies.get(COOKIE_NAME), record_id, fmt)
            if not spent and not has_cookie:
                return self._missing()
            # The plain URL, other parameters kept (`?l=media`): reloading it works with the
            # cookie, and the spent token is not left in the address bar or history.
            query = urlencode(
                [(k, v) for k, v in request.query_params.multi_items() if k != LINK_PARAM]
            )
            target = request.url.path + (f"?{query}" if query else "")
            response = RedirectResponse(target, status_code=303, headers=self._headers)
            if spent:
                self._set_cookie(response, record_id, fmt)
            return response
        if access.check_cookie(request.cookies.get(COOKIE_NAME), record_id, fmt):
            return recording
        return self._missing()

    def _set_cookie(self, response: Response, record_id: str, fmt: str) -> None:
        assert self._access is not None
        attributes = [
            f"{COOKIE_NAME}={self._access.cookie_value(record_id, fmt)}",
            f"Max-Age={self._access.access_ms // 1000}",
            f"Path={cookie_path(record_id, fmt)}",
            "HttpOnly",
        ]
        # Integrations embed playback in their pages: over HTTPS the cookie must travel in a
        # cross-site iframe (SameSite=None), partitioned where browsers block third-party
        # cookies. Plain HTTP (development) cannot do that; Lax works at top level. Written by
        # hand: the standard library learns `Partitioned` only in Python 3.14.
        if self._access.secure_cookie:
            attributes += ["Secure", "SameSite=None", "Partitioned"]
        else:
            attributes.append("SameSite=Lax")
        response.headers.append("set-cookie", "; ".join(attributes))

    def _headers_for(self, recording: Recording) -> dict[str, str]:
        # A protected recording's answers are for one browser: no shared cache may keep them.
        return (
            {**self._headers, "Cache-Control": "private"} if recording.protected else self._headers
        )

    def _missing(self) -> Response:
        return HTMLResponse(
            "<!doctype html><meta charset='utf-8'><title>Recording not available</title>"
            "<p>This recording does not exist or is not published, or this link was already "
            "used or has expired: open the recording again from where you found it.</p>",
            status_code=404,
            headers=self._headers,
        )

    async def presentation_page(self, request: Request) -> Response:
        found = await self._page(request, "presentation")
        if isinstance(found, Response):
            return found
        return FileResponse(STATIC_DIR / "player.html", headers=self._headers_for(found))

    async def presentation_file(self, request: Request) -> Response:
        record_id = request.path_params["record_id"]
        recording = await self._recording(record_id, "presentation")
        if recording is None or not self._allowed(request, recording, "presentation"):
            return self._missing()
        folder = self._root / recording.record_id / "presentation"
        path = request.path_params["path"]
        if path == "metadata.json":
            return await self._metadata(record_id)
        if path == "captions.json" or path.startswith("captions/"):
            return await self._captions(record_id, path)
        return self._file(folder, path, self._headers_for(recording))

    async def _captions(self, record_id: str, path: str) -> Response:
        """Captions uploaded with putRecordingTextTrack: the list, and each WebVTT file."""
        recording = await self._store.get(record_id)
        tracks = recording.text_tracks if recording else []
        if path == "captions.json":
            return JSONResponse(
                [
                    {
                        "kind": t["kind"],
                        "lang": t["lang"],
                        "label": t.get("label") or t["lang"],
                        "url": f"captions/{t['kind']}_{t['lang']}.vtt",
                    }
                    for t in tracks
                ],
                headers={**self._headers, "Cache-Control": "no-store"},
            )
        for track in tracks:
            if path == f"captions/{track['kind']}_{track['lang']}.vtt":
                file = Path(str(track.get("file", "")))
                if await asyncio.to_thread(file.is_file):
                    return FileResponse(file, media_type="text/vtt", headers=self._headers)
        return self._missing()

    async def _metadata(self, record_id: str) -> Response:
        """The recording's metadata as it is now (updateRecordings changes it after
        processing; the page takes its title from here)."""
        recording = await self._store.get(record_id)
        if recording is None:
            return self._missing()
        return JSONResponse(
            {
                "name": recording.metadata.get("meetingName") or recording.name,
                "metadata": recording.metadata,
            },
            headers={**self._headers, "Cache-Control": "no-store"},
        )

    async def video_page(self, request: Request) -> Response:
        found = await self._page(request, "video")
        if isinstance(found, Response):
            return found
        recording = found
        name = recording.metadata.get("meetingName") or recording.name
        title = html.escape(name)
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{title}</title><link rel='stylesheet' href='/playback/static/player.css'>"
            f"</head><body class='video-page'><h1>{title}</h1>"
            "<video controls preload='metadata' src='video.mp4'></video>"
            "<p><a href='video.mp4' download>MP4</a></p></body></html>",
            headers=self._headers_for(recording),
        )

    async def video_file(self, request: Request) -> Response:
        recording = await self._recording(request.path_params["record_id"], "video")
        if recording is None or not self._allowed(request, recording, "video"):
            return self._missing()
        return self._file(
            self._root / recording.record_id / "video", "video.mp4", self._headers_for(recording)
        )

    def _file(self, folder: Path, relative: str, headers: dict[str, str]) -> Response:
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder.resolve()) or not target.is_file():
            return self._missing()
        return FileResponse(
            target,
            media_type=MEDIA_TYPES.get(target.suffix, "application/octet-stream"),
            # Already compressed media: no gzip (which would also defeat range requests).
            headers={**headers, "Content-Encoding": "identity"},
        )

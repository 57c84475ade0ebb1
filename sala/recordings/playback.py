"""Where recordings are watched: the playback pages and their files, for published recordings
only (an unpublished or deleted recording answers 404 at every URL, as in BBB).

- `/playback/presentation/2.3/<record id>`: the player page (static/player.*), which loads
  `/playback/presentation/2.3/<record id>/recording.json` and the files beside it; `?l=media`
  shows the video only.
- `/playback/video/<record id>/`: a page with the MP4, and `/playback/video/<record id>/video.mp4`.
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from sala.recordings.store import RecordingStore

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
    def __init__(self, store: RecordingStore, root: Path, frame_ancestors: str) -> None:
        self._store = store
        self._root = root
        self._headers = _headers(frame_ancestors)

    async def _published(self, record_id: str, fmt: str) -> Path | None:
        recording = await self._store.get(record_id)
        if recording is None or recording.state != "published":
            return None
        if not any(f.get("type") == fmt for f in recording.formats):
            return None
        return self._root / recording.record_id / fmt

    def _missing(self) -> Response:
        return HTMLResponse(
            "<!doctype html><meta charset='utf-8'><title>Recording not available</title>"
            "<p>This recording does not exist or is not published.</p>",
            status_code=404,
            headers=self._headers,
        )

    async def presentation_page(self, request: Request) -> Response:
        if await self._published(request.path_params["record_id"], "presentation") is None:
            return self._missing()
        return FileResponse(STATIC_DIR / "player.html", headers=self._headers)

    async def presentation_file(self, request: Request) -> Response:
        record_id = request.path_params["record_id"]
        folder = await self._published(record_id, "presentation")
        if folder is None:
            return self._missing()
        path = request.path_params["path"]
        if path == "metadata.json":
            return await self._metadata(record_id)
        if path == "captions.json" or path.startswith("captions/"):
            return await self._captions(record_id, path)
        return self._file(folder, path)

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
        record_id = request.path_params["record_id"]
        if await self._published(record_id, "video") is None:
            return self._missing()
        recording = await self._store.get(record_id)
        name = recording.metadata.get("meetingName") or recording.name if recording else record_id
        title = html.escape(name)
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{title}</title><link rel='stylesheet' href='/playback/static/player.css'>"
            f"</head><body class='video-page'><h1>{title}</h1>"
            "<video controls preload='metadata' src='video.mp4'></video>"
            "<p><a href='video.mp4' download>MP4</a></p></body></html>",
            headers=self._headers,
        )

    async def video_file(self, request: Request) -> Response:
        folder = await self._published(request.path_params["record_id"], "video")
        if folder is None:
            return self._missing()
        return self._file(folder, "video.mp4")

    def _file(self, folder: Path, relative: str) -> Response:
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder.resolve()) or not target.is_file():
            return self._missing()
        return FileResponse(
            target,
            media_type=MEDIA_TYPES.get(target.suffix, "application/octet-stream"),
            # Already compressed media: no gzip (which would also defeat range requests).
            headers={**self._headers, "Content-Encoding": "identity"},
        )

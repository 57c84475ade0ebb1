"""Links to a recording's caption files, as getRecordingTextTracks hands them out.

BBB answers each track with an `href` under `/bigbluebutton/textTrack/<token>/<recordID>/...`
that an LMS downloads. sala's token is derived from the shared secret and the record ID: only
whoever can call the API (and so read the answer) has it, and it keeps working for protected
recordings, whose playback files need a viewer's cookie.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from sala.recordings.store import RecordingStore

PREFIX = "/bigbluebutton/textTrack"


def track_token(secret: str, record_id: str) -> str:
    message = f"sala-text-track:{record_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def track_href(base_url: str, secret: str, record_id: str, kind: str, lang: str) -> str:
    token = track_token(secret, record_id)
    return f"{base_url}{PREFIX}/{token}/{record_id}/{kind}_{lang}.vtt"


class TrackFiles:
    def __init__(self, store: RecordingStore, secret: str) -> None:
        self._store = store
        self._secret = secret

    async def serve(self, request: Request) -> Response:
        token = str(request.path_params["token"])
        record_id = str(request.path_params["record_id"])
        name = str(request.path_params["name"])
        if not hmac.compare_digest(token, track_token(self._secret, record_id)):
            return _missing()
        recording = await self._store.get(record_id)
        for track in recording.text_tracks if recording else []:
            if name == f"{track['kind']}_{track['lang']}.vtt":
                file = Path(str(track.get("file", "")))
                if await asyncio.to_thread(file.is_file):
                    return FileResponse(
                        file,
                        media_type="text/vtt",
                        headers={"Cache-Control": "private, no-cache"},
                    )
        return _missing()


def _missing() -> Response:
    return PlainTextResponse("Not found", status_code=404)

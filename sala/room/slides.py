"""The room's HTTP side of presentations: slide images, document downloads and uploads.

Every route needs the room session cookie, and only serves or accepts documents of that
session's meeting. Uploads are for the presenter; they are accepted at once and converted in the
background like the API's (the room hears when they are ready).
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from sala.meetings.errors import InvalidSession
from sala.meetings.sessions import RoomSessions
from sala.meetings.specs import RoomSession
from sala.presentations.service import Presentation, PresentationService, Upload
from sala.room.handoff import COOKIE

DOWNLOAD_FEATURES = ("downloadPresentationWithAnnotations", "downloadPresentationOriginalFile")


class Slides:
    def __init__(self, sessions: RoomSessions, presentations: PresentationService) -> None:
        self._sessions = sessions
        self._presentations = presentations

    async def _session(self, request: Request) -> RoomSession | None:
        token = request.cookies.get(COOKIE, "")
        try:
            return await self._sessions.room_session(token)
        except InvalidSession:
            return None

    async def _presentation(
        self, request: Request
    ) -> tuple[RoomSession, Presentation] | JSONResponse:
        """The session's meeting's presentation named in the path, or the error to answer."""
        session = await self._session(request)
        if session is None:
            return _error(401, "not_in_meeting", "Join the meeting first")
        presentation = await self._presentations.get(request.path_params["presentation"])
        if presentation is None or presentation.meeting_id != session.meeting.internal_id:
            return _error(404, "not_found", "No such presentation in this meeting")
        return session, presentation

    async def page(self, request: Request) -> Response:
        found = await self._presentation(request)
        if isinstance(found, Response):
            return found
        _, presentation = found
        path = self._presentations.page_file(
            presentation, int(request.path_params["page"]), request.query_params.get("thumb") == "1"
        )
        if path is None:
            return _error(404, "not_found", "No such page")
        # Page images never change once made: cache them in the browser for the meeting.
        return FileResponse(
            path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"}
        )

    async def download(self, request: Request) -> Response:
        found = await self._presentation(request)
        if isinstance(found, Response):
            return found
        session, presentation = found
        disabled = session.meeting.disabled_features
        if not presentation.downloadable or any(f in disabled for f in DOWNLOAD_FEATURES):
            return _error(403, "forbidden", "This presentation cannot be downloaded")
        # A directory listing: slow on a shared (NFS) folder, so off the event loop.
        source = await asyncio.to_thread(self._presentations.source_file, presentation)
        if source is None:
            return _error(404, "not_found", "The document is not available")
        return FileResponse(source, filename=presentation.name)

    async def upload(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return _error(401, "not_in_meeting", "Join the meeting first")
        if "presentation" in session.meeting.disabled_features:
            return _error(403, "disabled", "Presentations are disabled in this meeting")
        if not session.attendee.is_presenter:
            return _error(403, "forbidden", "Only the presenter can upload a presentation")
        limit = self._presentations.max_bytes
        if int(request.headers.get("content-length", "0") or 0) > limit + 64 * 1024:
            return _error(413, "too_large", f"Documents are limited to {limit // 2**20} MiB")
        async with request.form(max_files=1, max_fields=4, max_part_size=limit) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                return _error(400, "invalid", "Send the document as the form field 'file'")
            data = await file.read(limit + 1)
            if len(data) > limit:
                return _error(413, "too_large", f"Documents are limited to {limit // 2**20} MiB")
            name = file.filename or "document"
        [presentation] = await self._presentations.add(
            session.meeting.internal_id, [Upload(name=name, data=data, current=True)]
        )
        return JSONResponse({"id": presentation.id, "state": presentation.state}, status_code=202)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)

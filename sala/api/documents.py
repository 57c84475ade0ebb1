"""From the API's document descriptions (the <modules> body, preUploadedPresentation) to uploads
for the presentation service."""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from sala.api.errors import ApiError, validation_error
from sala.api.modules import DocumentSpec, TooManyDocumentsInRequest, parse_documents
from sala.presentations.convert import ConversionError
from sala.presentations.service import (
    PresentationService,
    TooManyDocuments,
    Upload,
    decode_inline,
)


def _name(spec: DocumentSpec) -> str:
    if spec.filename or spec.name:
        return str(spec.filename or spec.name)
    if spec.url:
        return PurePosixPath(urlsplit(spec.url).path).name or "document.pdf"
    return "document.pdf"


INLINE_THREAD_BYTES = 64 * 1024
"""Bodies above this are parsed and decoded in a thread: a 4 MiB body would hold the event loop
(and every room on it) for tens of milliseconds."""


async def uploads_from_xml(xml_text: str, limit: int) -> list[Upload]:
    """The uploads a <modules> body names. Refuses (ApiError) a malformed body, bad base64, or
    more than `limit` documents, before anything is created."""

    def parse() -> list[Upload]:
        try:
            return uploads_from(parse_documents(xml_text, limit))
        except TooManyDocumentsInRequest:
            raise ApiError("sizeError", f"A request may name at most {limit} documents") from None

    if len(xml_text) > INLINE_THREAD_BYTES:
        return await asyncio.to_thread(parse)
    return parse()


async def add_documents(
    presentations: PresentationService, meeting_id: str, uploads: list[Upload]
) -> None:
    try:
        await presentations.add(meeting_id, uploads)
    except TooManyDocuments as exc:
        raise ApiError("sizeError", str(exc)) from None


def uploads_from(documents: list[DocumentSpec]) -> list[Upload]:
    """Refuses bad base64 before anything is created; URLs are fetched later, off the request."""
    uploads = []
    for spec in documents:
        data = None
        if spec.content is not None:
            try:
                data = decode_inline(spec.content)
            except ConversionError as exc:
                raise validation_error(f"{_name(spec)}: {exc}") from None
        uploads.append(
            Upload(
                name=_name(spec),
                data=data,
                url=None if data is not None else spec.url,
                current=spec.current,
                downloadable=spec.downloadable,
                removable=spec.removable,
            )
        )
    return uploads

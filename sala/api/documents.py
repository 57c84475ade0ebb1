"""From the API's document descriptions (the <modules> body, preUploadedPresentation) to uploads
for the presentation service."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from sala.api.errors import validation_error
from sala.api.modules import DocumentSpec
from sala.presentations.convert import ConversionError
from sala.presentations.service import Upload, decode_inline


def _name(spec: DocumentSpec) -> str:
    if spec.filename or spec.name:
        return str(spec.filename or spec.name)
    if spec.url:
        return PurePosixPath(urlsplit(spec.url).path).name or "document.pdf"
    return "document.pdf"


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

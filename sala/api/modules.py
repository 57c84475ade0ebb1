"""The XML body of `create` and `insertDocument`: `<modules><module name="presentation">`.

Parsed with defusedxml, so entity-expansion and external-entity tricks fail cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from sala.api.errors import validation_error


@dataclass(frozen=True)
class DocumentSpec:
    url: str | None
    name: str | None
    filename: str | None
    inline_base64: bool
    downloadable: bool
    removable: bool
    current: bool
    content: str | None = None
    """The base64 text of an inline document."""


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() == "true"


class TooManyDocumentsInRequest(Exception):
    pass


def parse_documents(xml_text: str, limit: int | None = None) -> list[DocumentSpec]:
    """The documents of the presentation module, in order; [] when there is none. Raises
    TooManyDocumentsInRequest as soon as there are more than `limit`."""
    try:
        root = SafeET.fromstring(xml_text)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise validation_error(f"The XML body is not a valid <modules> document: {exc}") from None
    if root.tag != "modules":
        raise validation_error("The XML body must be a <modules> document")
    documents: list[DocumentSpec] = []
    for module in root.findall("module"):
        if module.get("name") != "presentation":
            continue
        for doc in module.findall("document"):
            if limit is not None and len(documents) >= limit:
                raise TooManyDocumentsInRequest()
            url = doc.get("url")
            inline = bool((doc.text or "").strip())
            if url is None and not inline:
                raise validation_error("A <document> needs a url attribute or base64 content")
            if url is not None and not url.lower().startswith(("http://", "https://")):
                raise validation_error(f"Document url {url!r} must be http or https")
            documents.append(
                DocumentSpec(
                    url=url,
                    name=doc.get("name"),
                    filename=doc.get("filename"),
                    inline_base64=inline,
                    downloadable=_flag(doc.get("downloadable"), False),
                    removable=_flag(doc.get("removable"), True),
                    current=_flag(doc.get("current"), False),
                    content=(doc.text or "").strip() if inline else None,
                )
            )
    return documents

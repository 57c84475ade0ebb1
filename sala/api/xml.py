"""Response documents: one tree, written out as BBB's compact XML or as JSON.

A document is a list of (name, value) pairs. A value is text, a number, a boolean (written
`true`/`false`), None (the element is left out), a nested list of pairs, or `Repeated` for a
list of same-named children. BBB writes XML without a declaration, with collapsed whitespace and
escaped text; clients parse exactly that.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

Scalar = str | int | bool | None
Value = Union[Scalar, "Fields", "Repeated", "Attributed"]
Fields = Sequence[tuple[str, Value]]

_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class Cdata(str):
    """Text written as a CDATA section, as bbb-webhooks writes URLs in hooks/list: some
    receivers' parsers do not decode entities, and CDATA needs none."""


def _cdata(text: str) -> str:
    text = _INVALID_XML_CHARS.sub("", text)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True)
class Repeated:
    """`<name><item>…</item><item>…</item></name>`; a JSON array."""

    item: str
    items: Sequence[Fields | Scalar | Attributed]


@dataclass(frozen=True)
class Attributed:
    """Text with attributes, as BBB writes preview images
    (`<image width="176" height="136" alt="…">url</image>`); JSON gets the text alone."""

    text: str
    attributes: Sequence[tuple[str, str]]


@functools.lru_cache(maxsize=4096)
def is_xml_name(name: str) -> bool:
    return bool(_XML_NAME.match(name)) and not name.lower().startswith("xml")


def escape_text(text: str) -> str:
    text = _INVALID_XML_CHARS.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _scalar_text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return escape_text(value)


def _write(out: list[str], name: str, value: Value) -> None:
    if value is None:
        return
    if isinstance(value, Repeated):
        out.append(f"<{name}>")
        for item in value.items:
            _write(out, value.item, item)
        out.append(f"</{name}>")
    elif isinstance(value, Attributed):
        attributes = "".join(
            f' {key}="{escape_text(text).replace(chr(34), "&quot;")}"'
            for key, text in value.attributes
            if is_xml_name(key)
        )
        out.append(f"<{name}{attributes}>{escape_text(value.text)}</{name}>")
    elif isinstance(value, Cdata):
        out.append(f"<{name}>{_cdata(value)}</{name}>")
    elif isinstance(value, (str, int, bool)):
        out.append(f"<{name}>{_scalar_text(value)}</{name}>")
    else:
        out.append(f"<{name}>")
        for child_name, child in value:
            # Names from users (metadata, userdata) that XML cannot carry are left out rather
            # than producing a document no client can parse.
            if is_xml_name(child_name):
                _write(out, child_name, child)
        out.append(f"</{name}>")


def to_xml(document: Fields, root: str = "response") -> bytes:
    out: list[str] = []
    _write(out, root, document)
    return "".join(out).encode("utf-8")


def _json_value(value: Value) -> object:
    if isinstance(value, Repeated):
        return [_json_value(item) for item in value.items]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Attributed):
        return value.text
    return {name: _json_value(child) for name, child in value if child is not None}


def to_json(document: Fields, root: str = "response") -> bytes:
    return json.dumps(
        {root: _json_value(document)}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")

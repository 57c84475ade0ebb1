"""Whether bbb-web would take a string as a URL: `new java.net.URL(s).toURI()` succeeding.

bbb-web 3.0 checks `presentationUploadExternalUrl` this way (ValidationService.isValidURL) and
refuses the request when it fails. This is that check written out for the strings integrations
send: a scheme Java has a handler for, a port that is a number, and only the characters RFC 2396
allows (java.net.URI), anything outside US-ASCII included unless it is a space or a control
character. It errs on the side of accepting.
"""

from __future__ import annotations

import re
import unicodedata

# Java's built-in URL handlers; any other scheme is "unknown protocol".
_HANDLERS = frozenset({"http", "https", "ftp", "file", "jar", "mailto", "jrt"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_ASCII_ALLOWED = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "-_.!~*'()"  # unreserved marks
    ";/?:@&=+$,"  # reserved
)
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\]")
# bbb-web fills these in before checking; sala names a user without a space, which a URL cannot
# hold (bbb-web's "John Doe" makes every URL with %%USERNAME%% invalid).
_PLACEHOLDERS = {"%%MEETINGID%%": "123", "%%USERID%%": "456", "%%USERNAME%%": "John"}


def _legal(text: str) -> bool:
    """Only characters java.net.URI accepts outside a host: RFC 2396's, escapes, and non-ASCII
    characters that are neither spaces nor controls."""
    text = _ESCAPE.sub("", text)
    for char in text:
        if char in _ASCII_ALLOWED:
            continue
        if ord(char) < 128 or unicodedata.category(char) in ("Zs", "Zl", "Zp", "Cc"):
            return False
    return True


def _authority_ok(authority: str) -> bool:
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):
        match = _IPV6.match(host_port)
        if match is None:
            return False
        port = host_port[match.end() :]
        if port and not port.startswith(":"):
            return False
        port = port[1:]
    else:
        port = host_port.partition(":")[2] if ":" in host_port else ""
        if not _legal(host_port):
            return False
    return port == "" or (port.isascii() and port.isdigit())


def is_java_url(text: str) -> bool:
    for placeholder, value in _PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    text = text.strip(" ")
    if text[:4].lower() == "url:":
        text = text[4:]
    scheme, colon, rest = text.partition(":")
    if not colon or "/" in scheme or not _SCHEME.fullmatch(scheme):
        return False
    scheme = scheme.lower()
    if scheme not in _HANDLERS or not rest:
        return False
    if scheme == "jar" and "!/" not in rest:
        return False
    part, _, fragment = rest.partition("#")
    if "#" in fragment or not _legal(fragment):
        return False
    if part.startswith("//"):
        authority = re.split(r"[/?]", part[2:], maxsplit=1)[0]
        after = part[2 + len(authority) :]
        if not authority and not after:
            return False  # "http://": toURI() wants an authority
        return _authority_ok(authority) and _legal(after)
    return _legal(part)

"""Small helpers shared by the client-library compatibility tests.

The third-party libraries are the system under test's *clients*; these helpers only do what a
user of those libraries would do by hand (fetch a URL the library built, read the XML the library
does not parse) and give the tests an independent, library-free view of the server state.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

T = TypeVar("T")

END_TIMEOUT_S = 10.0  # `end` is asynchronous in BBB; give the server this long to drop the meeting


def new_meeting_id(prefix: str) -> str:
    """A meeting ID no other test (or earlier run against the same server) uses."""
    return f"{prefix}-{uuid.uuid4()}"


def xml_fields(text: str) -> dict[str, str]:
    """Top-level children of a BBB ``<response>`` as tag -> text (empty string for empty tags)."""
    root = ET.fromstring(text)
    assert root.tag == "response", f"not a BBB response document: {text[:300]!r}"
    return {child.tag: (child.text or "") for child in root}


@dataclass(frozen=True)
class RawApi:
    """Library-independent API access: signs like BBB's reference (SHA-1, ``urlencode``)."""

    api_url: str
    secret: str
    http: httpx.Client

    def url(self, call: str, **params: str) -> str:
        query = urlencode(params)
        checksum = hashlib.sha1(f"{call}{query}{self.secret}".encode()).hexdigest()
        sep = "&" if query else ""
        return f"{self.api_url}{call}?{query}{sep}checksum={checksum}"

    def call(self, call: str, **params: str) -> dict[str, str]:
        response = self.http.get(self.url(call, **params))
        assert response.status_code == 200, (
            f"{call}: HTTP {response.status_code}: {response.text[:300]}"
        )
        return xml_fields(response.text)

    def meeting_exists(self, meeting_id: str) -> bool:
        return self.call("getMeetingInfo", meetingID=meeting_id)["returncode"] == "SUCCESS"


def wait_until(
    probe: Callable[[], T], *, timeout: float = END_TIMEOUT_S, interval: float = 0.2
) -> T:
    """Call ``probe`` until it returns a truthy value; return that value (or the last falsy one)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def assert_redirects_into_room(http: httpx.Client, join_url: str) -> str:
    """GET a library-built join URL without following redirects, as a browser's first hop would.

    Checks the answer is a 302 that does not carry BBB's ``errors=`` payload and that the target
    (sala's room) loads: its own hops (e.g. a token-for-cookie redirect) are followed, as a browser
    would. Returns the absolute redirect target.
    """
    response = http.get(join_url)
    assert response.status_code == 302, (
        f"join should redirect (302) into the room; got {response.status_code}: "
        f"{response.text[:300]}"
    )
    location = response.headers.get("location", "")
    assert location, "302 without a Location header"
    target = urljoin(join_url, location)
    assert urlsplit(target).scheme in ("http", "https"), target
    assert "errors" not in parse_qs(urlsplit(target).query), (
        f"join redirected to an error page: {target}"
    )
    page = http.get(target, follow_redirects=True)
    assert page.status_code == 200, f"room page {target} ended at {page.url}: {page.status_code}"
    return target


def join_error_keys(http: httpx.Client, join_url: str) -> list[str]:
    """For a failing join with redirect (the default): the messageKeys carried in ``errors=``.

    bbb-api.md §1.4: the browser is sent (302) to errorRedirectUrl / logoutURL / the default
    logout URL with ``errors=`` = URI-encoded JSON array of ``{"key", "message"}``.
    """
    response = http.get(join_url)
    assert response.status_code == 302, (
        f"failing join without redirect=false should answer 302; got {response.status_code}: "
        f"{response.text[:300]}"
    )
    target = urljoin(join_url, response.headers["location"])
    errors = parse_qs(urlsplit(target).query).get("errors")
    assert errors, f"error redirect lacks the errors= parameter: {target}"
    return [entry["key"] for entry in json.loads(errors[0])]

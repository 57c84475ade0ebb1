"""Fixtures for the client-library compatibility tests (``live_server``: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ._support import RawApi


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """Plain HTTP client that does not follow redirects (to see join's 302 itself)."""
    with httpx.Client(follow_redirects=False, timeout=15.0) as client:
        yield client


@pytest.fixture
def raw_api(live_server, http: httpx.Client) -> RawApi:
    """Library-independent view of the server, to check effects the libraries cannot show."""
    return RawApi(api_url=live_server.api_url, secret=live_server.secret, http=http)

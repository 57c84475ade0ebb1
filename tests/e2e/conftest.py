"""Browser tests: a real sala process and Debian's Chromium driven by Playwright.

Chromium comes from the system (`playwright install` cannot download here); each user gets its
own browser context, so cookies are separate as on separate machines.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import LiveServer, start_server, stop_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def sala(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    data_dir.mkdir()
    # Webhooks and the analytics callback may reach the tests' receivers on loopback.
    process, server = start_server(data_dir, {"SALA_WEBHOOK_ALLOW": "127.0.0.1"})
    try:
        yield server
    finally:
        stop_server(process)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


def signed(server: LiveServer, call: str, params: dict[str, str]) -> str:
    query = urlencode(params)
    digest = hashlib.sha1(f"{call}{query}{server.secret}".encode()).hexdigest()
    return f"{server.api_url}{call}?{query}&checksum={digest}"


def api(server: LiveServer, call: str, **params: str) -> str:
    return httpx.get(signed(server, call, params), timeout=10).text


async def open_as(
    browser: Browser,
    server: LiveServer,
    meeting_id: str,
    name: str,
    role: str = "VIEWER",
    locale: str = "en-US",
    **extra: str,
) -> Page:
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    url = signed(server, "join", {"meetingID": meeting_id, "fullName": name, "role": role, **extra})
    await page.goto(url)
    return page

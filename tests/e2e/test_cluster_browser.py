"""The room page in a cluster (tests/support/cluster.py): two people in Chromium reach their
meeting through nginx on the front end that owns it; when that front end is killed, their
pages find the meeting's new owner by themselves and the chat carries on, history included."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.people import chat
from tests.support.cluster import LocalCluster, nginx_available
from tests.support.postgres import PostgresServer

SECRET = "cluster-browser-secret-0123456789abcdef"
pytestmark = pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available()))


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_server: PostgresServer, redis_url: str
) -> Iterator[LocalCluster]:
    name = f"browser_{uuid.uuid4().hex[:8]}"
    nodes = LocalCluster(tmp_path, postgres_server.create_database(name), redis_url, SECRET)
    try:
        for index in (1, 2):
            nodes.start_front_end(f"fe{index}")
        nodes.start_proxy()
        yield nodes
    finally:
        nodes.stop()
        postgres_server.drop_database(name)


def url(cluster: LocalCluster, call: str, **params: str) -> str:
    query = urlencode(params)
    digest = hashlib.sha1(f"{call}{query}{SECRET}".encode()).hexdigest()
    return f"{cluster.base}/bigbluebutton/api/{call}?{query}&checksum={digest}"


async def enter(browser: Browser, cluster: LocalCluster, name: str, role: str) -> Page:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(url(cluster, "join", meetingID="aula", fullName=name, role=role))
    await expect(page.locator("#chat-text")).to_be_visible(timeout=15_000)
    return page


async def owner_of(page: Page) -> str:
    path: str = await page.evaluate(
        "fetch('/room/route', {credentials: 'same-origin'}).then(r => r.json()).then(j => j.ws)"
    )
    return path.split("/")[2]


async def test_pages_follow_their_meeting_to_a_new_front_end(
    browser: Browser, cluster: LocalCluster
) -> None:
    async with httpx.AsyncClient() as http:
        created = await http.get(url(cluster, "create", meetingID="aula", name="Aula"))
    assert "SUCCESS" in created.text
    ada = await enter(browser, cluster, "Ada", "MODERATOR")
    bea = await enter(browser, cluster, "Bea", "VIEWER")
    await chat(ada, "antes da queda")
    await expect(bea.locator("#chat-log")).to_contain_text("antes da queda")
    owner = await owner_of(ada)

    cluster.kill(owner)
    killed = time.monotonic()
    # The pages reconnect on their own: the route now names the other front end.
    for page in (ada, bea):
        await expect(page.locator(".reconnecting")).to_be_visible(timeout=5_000)
    for page in (ada, bea):
        await expect(page.locator(".reconnecting")).to_be_hidden(timeout=15_000)
    assert time.monotonic() - killed < 15
    await expect(bea.locator("#chat-log")).to_contain_text("antes da queda")
    await chat(bea, "depois da queda")
    await expect(ada.locator("#chat-log")).to_contain_text("depois da queda", timeout=20_000)
    assert await owner_of(ada) != owner
    await expect(ada.locator("#user-list")).to_contain_text("Bea")

"""Accessibility of the room's main states and of the demo and lobby pages in Chromium: axe-core
(client/package.json's devDependencies) runs in each page and finds no serious or critical
violation of WCAG 2.x A/AA or of its best practices.

axe is evaluated through Playwright (the DevTools protocol), so the pages keep their strict CSP.
A failure lists every violation as id, impact, the element's selector and its HTML.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import ROOT, LiveServer, start_server, stop_server
from tests.e2e.conftest import api, deck_meeting, open_as
from tests.support.room_socket import RoomSocket

AXE = ROOT / "client" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
ROOM = "#room"
TIMEOUT = 15_000

RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 160) })),
  }));
}"""


@pytest.fixture(scope="module")
def sala(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """sala with the demo page on (the e2e conftest's has it off)."""
    data_dir = tmp_path_factory.mktemp("a11y") / "data"
    data_dir.mkdir()
    process, server = start_server(data_dir, {"SALA_DEMO": "true"})
    try:
        yield server
    finally:
        stop_server(process)


def root(server: LiveServer) -> str:
    return server.api_url.removesuffix("/bigbluebutton/api/")


async def audit(page: Page, state: str) -> None:
    """Runs axe in the page; fails listing the serious and critical violations."""
    if not AXE.exists():
        pytest.fail(
            f"axe-core is needed at {AXE.relative_to(ROOT)}: run scripts/build-client "
            "(npm ci in client/ installs it with the other devDependencies)"
        )
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    lines = [
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {n['target']}  {n['html']}" for n in v["nodes"])
        for v in blocking
    ]
    assert not blocking, f"{state}: {len(blocking)} serious or critical violations\n" + "\n".join(
        lines
    )


async def in_room(page: Page) -> Page:
    await page.wait_for_selector(ROOM, timeout=TIMEOUT)
    # The slide is part of the state under test; give it time to load.
    await expect(page.locator("#slide")).to_be_visible(timeout=TIMEOUT)
    return page


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def test_room_as_moderator(browser: Browser, sala: LiveServer) -> None:
    meeting_id = deck_meeting(sala, "a11y", 3)
    ada = await in_room(await open_as(browser, sala, meeting_id, "Ada Lovelace", "MODERATOR"))
    await in_room(await open_as(browser, sala, meeting_id, "Bea Souza"))
    await expect(ada.get_by_text("Bea Souza").first).to_be_visible(timeout=TIMEOUT)
    await audit(ada, "room as moderator")


async def test_room_as_viewer(browser: Browser, sala: LiveServer) -> None:
    meeting_id = deck_meeting(sala, "a11y", 3)
    await in_room(await open_as(browser, sala, meeting_id, "Ada Lovelace", "MODERATOR"))
    bea = await in_room(await open_as(browser, sala, meeting_id, "Bea Souza"))
    await audit(bea, "room as viewer")


async def test_room_in_dark_mode(browser: Browser, sala: LiveServer) -> None:
    meeting_id = deck_meeting(sala, "a11y", 3)
    ada = await in_room(await open_as(browser, sala, meeting_id, "Ada Lovelace", "MODERATOR"))
    await ada.click("#theme")
    await expect(ada.locator("html")).to_have_attribute("data-theme", "dark")
    await audit(ada, "room in dark mode")


async def test_settings_dialog(browser: Browser, sala: LiveServer) -> None:
    meeting_id = deck_meeting(sala, "a11y", 3)
    ada = await in_room(await open_as(browser, sala, meeting_id, "Ada Lovelace", "MODERATOR"))
    await ada.click("#settings")
    await expect(ada.locator("dialog[open]")).to_be_visible(timeout=TIMEOUT)
    await audit(ada, "settings dialog")


async def test_poll_open_for_a_viewer(
    browser: Browser, sala: LiveServer, http: httpx.AsyncClient
) -> None:
    meeting_id = deck_meeting(sala, "a11y", 3)
    # The first moderator in is the presenter, who starts polls.
    host = await RoomSocket.join(http, root(sala), sala.secret, meeting_id, "Ada", "MODERATOR")
    try:
        bea = await in_room(await open_as(browser, sala, meeting_id, "Bea Souza"))
        question = "Which topic should we review next?"
        await host.send({"type": "poll.start", "kind": "ABCD", "question": question})
        await expect(bea.get_by_text(question).first).to_be_visible(timeout=TIMEOUT)
        await audit(bea, "poll open for a viewer")
    finally:
        await host.close()


async def test_demo_page(browser: Browser, sala: LiveServer) -> None:
    for scheme in ("light", "dark"):
        context = await browser.new_context(locale="pt-BR", color_scheme=scheme)
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        await page.goto(f"{root(sala)}/demo")
        await page.wait_for_selector("#create-form", timeout=TIMEOUT)
        await audit(page, f"demo form ({scheme})")
        await page.fill("#full-name", "Ana Souza")
        await page.click("#create")
        await page.wait_for_selector("#room-links", timeout=TIMEOUT)
        await page.click("#viewer-link-copy")
        await audit(page, f"demo links ({scheme})")
        await page.goto(await page.input_value("#viewer-link"))
        await page.wait_for_selector("#join-form", timeout=TIMEOUT)
        await audit(page, f"demo join ({scheme})")
        await context.close()


async def test_lobby_page(browser: Browser, sala: LiveServer) -> None:
    meeting_id = f"a11y-{uuid.uuid4()}"
    api(sala, "create", name="Seminar", meetingID=meeting_id, guestPolicy="ASK_MODERATOR")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await ada.wait_for_selector(ROOM, timeout=TIMEOUT)
    gil = await open_as(browser, sala, meeting_id, "Gil", guest="true")
    await expect(gil.locator("#notice")).to_be_visible(timeout=TIMEOUT)
    await audit(gil, "lobby page")

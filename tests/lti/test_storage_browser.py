"""The postMessage storage fallback in Chromium: the LMS on another site (localhost) than sala
(127.0.0.1) frames the launch, so sala's state cookie is a third-party cookie the browser does
not send back; the platform offers its storage frame (`_parent`), and the launch still lands,
while the same launch without that storage is refused with the page that says why."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright, expect

from sala.clock import ManualClock
from sala.config import Settings
from tests.e2e.conftest import ARGS, CHROMIUM, HAVE_CHROMIUM
from tests.lti.conftest import LtiBed, open_bed
from tests.support.lms.core import LEARNER, Prepared

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
STEPS_S = 120


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def cross_site(settings: Settings, clock: ManualClock) -> AsyncIterator[LtiBed]:
    async with open_bed(settings, clock, lms_host="localhost") as bed:
        yield bed


async def test_a_framed_launch_without_third_party_cookies_lands_through_the_platforms_storage(
    cross_site: LtiBed, chromium: Browser
) -> None:
    prepared = cross_site.sim.prepare(LEARNER, storage_target="_parent")
    # Every step is bounded, so a stuck one fails here, at its line, within two minutes.
    async with asyncio.timeout(STEPS_S):
        await land_through_storage(cross_site, chromium, prepared)


async def land_through_storage(cross_site: LtiBed, chromium: Browser, prepared: Prepared) -> None:
    context = await chromium.new_context()
    page = await context.new_page()

    await page.goto(cross_site.sim.course_url(prepared))

    # What the learner sees: the landing page inside the LMS's frame. (Waiting on the locator,
    # not on a Frame's url: the frame changes site four times on the way, and Playwright's
    # Frame.url has been seen to keep the platform's URL after the swap back to sala's site.)
    tool = page.frame_locator("iframe[name=tool]")
    await expect(tool.locator("#join")).to_be_visible(timeout=30_000)
    url = await tool.locator("html").evaluate("() => location.href", timeout=10_000)
    assert re.search(r"/lti/rooms/[^/]+$", url), url
    token = url.rsplit("/", 1)[1]
    session = await cross_site.sessions.get(token)
    assert session is not None and session.launch.sub == LEARNER.id
    await context.close()


async def test_the_same_framed_launch_without_the_platforms_storage_is_refused_with_the_fix(
    cross_site: LtiBed, chromium: Browser
) -> None:
    prepared = cross_site.sim.prepare(LEARNER)
    async with asyncio.timeout(STEPS_S):
        await refused_without_storage(cross_site, chromium, prepared)


async def refused_without_storage(
    cross_site: LtiBed, chromium: Browser, prepared: Prepared
) -> None:
    context = await chromium.new_context()
    page = await context.new_page()

    await page.goto(cross_site.sim.course_url(prepared))

    tool = page.frame_locator("iframe[name=tool]")
    problem = tool.locator(".lti-problem")
    await expect(problem).to_be_visible(timeout=30_000)
    path = await tool.locator("html").evaluate("() => location.pathname", timeout=10_000)
    assert "/lti/launch" in path
    assert "third-party cookies" in await problem.inner_text()
    assert "new window" in await tool.locator(".lti-fix").inner_text()
    await context.close()

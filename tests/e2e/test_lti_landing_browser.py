"""The LTI landing page in Chromium, as instructors and learners see it inside their course:
in the launch's language (and another one when picked), the meeting's state, the recordings each
role may see, the instructor's roster from the platform (the LMS simulator's NRPS on loopback),
the learner's wait for the instructor, Join leading into the room with the right role, and no
serious or critical axe violation in any of those states, in light and dark schemes.

Sessions are opened in sala's database as a verified launch opens them (`Sessions.open`); the
whole flow from the platform's course page is tests/e2e/test_lti_browser.py's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from playwright.async_api import Browser, Page, expect

from sala.clock import SystemClock
from sala.lti import meetings as activity
from sala.lti.claims import Launch
from sala.services import Services
from sala.store.db import Database
from tests.conftest import LiveServer
from tests.e2e.conftest import api
from tests.e2e.test_accessibility_browser import audit, root
from tests.lti.landing_support import (
    CLIENT_ID,
    INSTRUCTOR,
    LEARNER,
    launch_claims,
    platform,
    recording,
    served,
    session,
)
from tests.support.lms.services import LmsServices, jwks_at, member
from tests.xmlutil import field

TIMEOUT = 15_000


@pytest.fixture
async def store(sala: LiveServer) -> AsyncIterator[Services]:
    """sala's own database, as the server's launch would write to it."""
    db = Database(f"sqlite+aiosqlite:///{sala.data_dir / 'sala.db'}")
    try:
        yield cast(Services, SimpleNamespace(db=db, clock=SystemClock()))
    finally:
        await db.dispose()


@pytest.fixture
async def lms(sala: LiveServer) -> AsyncIterator[tuple[LmsServices, str]]:
    services = LmsServices(
        client_id=CLIENT_ID,
        jwks=jwks_at(f"{root(sala)}/lti/jwks"),
        members={
            "course-1": [
                member("t1", "Ana Lima", "Instructor"),
                member("s1", "Bruno Souza"),
                member("s2", "Carla Dias"),
            ]
        },
    )
    async with served(services.routes()) as url:
        yield services, url


def meeting_of(claims: dict[str, Any]) -> str:
    return activity.meeting_id(Launch.from_claims(claims, platform_id=0, client_id=CLIENT_ID))


def attendees(sala: LiveServer, meeting_id: str) -> dict[str, str]:
    info = ET.fromstring(api(sala, "getMeetingInfo", meetingID=meeting_id))
    return {field(a, "fullName"): field(a, "role") for a in info.findall("attendees/attendee")}


async def landing(browser: Browser, url: str, scheme: str = "light") -> Page:
    context = await browser.new_context(color_scheme=scheme)
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_selector("#meeting-state", timeout=TIMEOUT)
    return page


async def test_instructor_sees_recordings_and_roster_then_joins(
    browser: Browser, sala: LiveServer, store: Services, lms: tuple[LmsServices, str]
) -> None:
    _, lms_url = lms
    issuer = f"https://lms-{id(store)}.test"  # one platform per test in the module's server
    found = await platform(store, token_url=f"{lms_url}/token", issuer=issuer)
    claims = launch_claims(
        "t1",
        "Ana Lima",
        INSTRUCTOR,
        locale="pt-BR",
        issuer=issuer,
        nrps_url=f"{lms_url}/nrps/contexts/course-1/memberships",
        custom={"record": "true"},
    )
    meeting_id = meeting_of(claims)
    await recording(store, meeting_id, suffix=1, name="Aula 1")
    await recording(store, meeting_id, suffix=2, name="Aula 2", state="unpublished")
    url = f"{root(sala)}/lti/rooms/{await session(store, found, claims)}"

    for scheme in ("light", "dark"):
        page = await landing(browser, url, scheme)
        await expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
        await expect(page.locator("#activity-title")).to_have_text("Aula de Física")
        await expect(page.locator("#join")).to_have_text("Entrar")
        await expect(page.locator("#meeting-state")).to_contain_text("Não iniciada")
        await expect(page.locator(".lti-recording")).to_have_count(2)
        unpublished = page.locator(".lti-recording", has_text="Aula 2")
        await expect(unpublished.locator("[data-action=publish]")).to_have_text("Publicar")
        rows = page.locator("#roster tbody tr")
        await expect(rows).to_have_count(3, timeout=TIMEOUT)
        await expect(page.locator("#roster")).to_contain_text("Professor")
        await audit(page, f"LTI landing, instructor ({scheme})")
        if scheme == "dark":
            # Asking to delete, with the keyboard: the question takes the buttons' place and
            # gets the focus; Cancel gives it back to Delete.
            await unpublished.locator("[data-action=delete]").focus()
            await page.keyboard.press("Enter")
            confirm = unpublished.locator("[data-action=confirm-delete]")
            await expect(confirm).to_be_focused()
            await audit(page, "LTI landing, confirming a deletion")
            await page.keyboard.press("Tab")
            await page.keyboard.press("Enter")  # Cancel
            await expect(unpublished.locator("[data-action=delete]")).to_be_focused()
        await page.context.close()

    page = await landing(browser, url)
    await page.select_option("#language", "en-US")
    await expect(page.locator("#join")).to_have_text("Join")
    await expect(page.locator("html")).to_have_attribute("lang", "en-US")
    await unpublished_publish(page)
    await page.locator("#join").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#room", timeout=TIMEOUT)
    assert attendees(sala, meeting_id) == {"Ana Lima": "MODERATOR"}
    await page.context.close()


async def unpublished_publish(page: Page) -> None:
    """Publishing from the page: the recording says so at once."""
    item = page.locator(".lti-recording", has_text="Aula 2")
    await item.locator("[data-action=publish]").click()
    await expect(item.locator("[data-action=unpublish]")).to_have_text("Unpublish")
    await expect(item.locator(".lti-tag").first).to_have_text("Published")


async def test_learner_waits_for_the_instructor_then_enters_as_viewer(
    browser: Browser, sala: LiveServer, store: Services
) -> None:
    issuer = f"https://lms-{id(store)}.test"
    found = await platform(store, issuer=issuer)
    wait = {"waitForModerator": "true"}
    learner = launch_claims(
        "s1", "Bruno Souza", LEARNER, locale="es-ES", custom=wait, issuer=issuer
    )
    teacher = launch_claims("t1", "Ana Lima", INSTRUCTOR, custom=wait, issuer=issuer)
    meeting_id = meeting_of(teacher)
    await recording(store, meeting_id, suffix=1, name="Aula 1")
    await recording(store, meeting_id, suffix=2, name="Aula 2", state="unpublished")

    bruno = await landing(browser, f"{root(sala)}/lti/rooms/{await session(store, found, learner)}")
    await expect(bruno.locator("#join")).to_have_text("Entrar")
    # Learners see the published recording only, with its playback link, and no actions.
    await expect(bruno.locator(".lti-recording")).to_have_count(1)
    await expect(bruno.locator(".lti-recording a")).to_have_text("Ver la presentación")
    await expect(bruno.locator(".lti-actions")).to_have_count(0)
    await expect(bruno.locator("#roster")).to_have_count(0)
    await audit(bruno, "LTI landing, learner")

    await bruno.click("#join")
    await expect(bruno.locator("#waiting")).to_contain_text("Esperando al profesor")
    await audit(bruno, "LTI landing, learner waiting")

    ana = await landing(browser, f"{root(sala)}/lti/rooms/{await session(store, found, teacher)}")
    await ana.click("#join")
    await ana.wait_for_selector("#room", timeout=TIMEOUT)
    # The learner's page was asking all along: now it goes in.
    await bruno.wait_for_selector("#room", timeout=TIMEOUT)
    assert attendees(sala, meeting_id) == {"Ana Lima": "MODERATOR", "Bruno Souza": "VIEWER"}
    await ana.context.close()
    await bruno.context.close()

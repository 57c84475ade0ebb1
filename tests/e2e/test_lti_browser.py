"""The whole LTI flow in Chromium: the LMS simulator's course page frames the activity as an LMS
does; the frame goes through sala's login initiation, the platform's authorization and the
launch, lands on the activity's page, and Join leads into the room. The instructor enters as
moderator, the learner as viewer of the same meeting, each as the platform names them; the
instructor's page lists the course's roster from the platform's NRPS service."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, FrameLocator, Page, expect

from sala.clock import SystemClock
from sala.lti.platforms import Platforms
from sala.store.db import Database
from tests.conftest import LiveServer
from tests.e2e.conftest import api
from tests.e2e.test_accessibility_browser import root
from tests.support.lms.core import (
    INSTRUCTOR,
    LEARNER,
    Course,
    ResourceLink,
    Simulator,
    Tool,
    serve_simulator,
)
from tests.support.lms.services import simulator_part
from tests.xmlutil import field

TIMEOUT = 20_000
COURSE = Course()
ACTIVITY = ResourceLink(id="rl-browser", title="Aula ao vivo")


@pytest.fixture
async def sim(sala: LiveServer) -> AsyncIterator[Simulator]:
    """The simulator, registered in sala as a platform (as `sala lti add-platform` does)."""
    simulator = Simulator(parts=[simulator_part])
    async with serve_simulator(simulator):
        base = root(sala)
        simulator.tool = Tool(f"{base}/lti/login", f"{base}/lti/launch", f"{base}/lti/jwks")
        db = Database(f"sqlite+aiosqlite:///{sala.data_dir / 'sala.db'}")
        try:
            await Platforms(db, SystemClock()).add(
                issuer=simulator.issuer,
                client_id=simulator.client_id,
                auth_login_url=simulator.auth_url,
                jwks_url=simulator.jwks_url,
                auth_token_url=simulator.token_url,
                name=simulator.name,
                deployments=(simulator.deployment_id,),
            )
        finally:
            await db.dispose()
        yield simulator


async def course_page(browser: Browser, sim: Simulator, url: str) -> tuple[Page, FrameLocator]:
    page = await (await browser.new_context()).new_page()
    await page.goto(url)
    tool = page.frame_locator("iframe[name=tool]")
    await expect(tool.locator("#meeting-state")).to_be_visible(timeout=TIMEOUT)
    return page, tool


async def test_instructor_and_learner_launch_from_the_course_into_one_meeting(
    browser: Browser, sala: LiveServer, sim: Simulator
) -> None:
    ana = sim.prepare(INSTRUCTOR, course=COURSE, resource_link=ACTIVITY, locale="pt-BR")
    page, tool = await course_page(browser, sim, sim.course_url(ana))
    await expect(tool.locator("#activity-title")).to_have_text("Aula ao vivo")
    await expect(tool.locator("#activity-context")).to_have_text(COURSE.title)
    await expect(tool.locator("#join")).to_have_text("Entrar")
    await expect(tool.locator("#roster tbody tr")).to_have_count(len(COURSE.members))
    await tool.locator("#join").click()
    await expect(tool.locator("#room")).to_be_visible(timeout=TIMEOUT)

    bruno = sim.prepare(LEARNER, course=COURSE, resource_link=ACTIVITY, locale="es-ES")
    other, learner = await course_page(browser, sim, sim.course_url(bruno))
    await expect(learner.locator("#join")).to_have_text("Entrar")
    await expect(learner.locator("#meeting-state")).to_contain_text(INSTRUCTOR.name)
    await expect(learner.locator("#roster")).to_have_count(0)
    await learner.locator("#join").click()
    await expect(learner.locator("#room")).to_be_visible(timeout=TIMEOUT)

    meetings = ET.fromstring(api(sala, "getMeetings"))
    [meeting] = [
        m
        for m in meetings.findall("meetings/meeting")
        if field(m, "metadata/bbb-lti-resource-link-id") == ACTIVITY.id
    ]
    assert field(meeting, "meetingName") == "Aula ao vivo"
    assert field(meeting, "metadata/bbb-origin") == "LTI"
    assert field(meeting, "metadata/bbb-context-id") == COURSE.id
    info = ET.fromstring(api(sala, "getMeetingInfo", meetingID=field(meeting, "meetingID")))
    roles = {field(a, "fullName"): field(a, "role") for a in info.findall("attendees/attendee")}
    assert roles == {INSTRUCTOR.name: "MODERATOR", LEARNER.name: "VIEWER"}
    await page.context.close()
    await other.context.close()

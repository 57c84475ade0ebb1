"""Chromium through sala's own LTI step pages, inside the simulated platform's iframes: the
deep linking picker, whose answer the page's script posts to the platform by itself, and the
end of a dynamic registration, whose page tells the platform's window it is done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sala.lti.platforms import Platforms
from sala.lti.sessions import Sessions
from sala.lti.tool import registration_key
from sala.services import Services
from tests.conftest import free_port
from tests.support.lms.deep_linking import DL, DeepLinkingReturn
from tests.support.lms.registration import PlatformRegistration
from tests.support.serving import serve_asgi


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


@dataclass
class World:
    sala: str
    services: Services
    deep_linking: DeepLinkingReturn
    registration: PlatformRegistration


@pytest.fixture
async def world(app: Starlette) -> AsyncIterator[World]:
    sala_port, lms_port = free_port(), free_port()
    lms = f"http://127.0.0.1:{lms_port}"
    deep_linking = DeepLinkingReturn(
        issuer=lms,
        client_id="sala-client",
        deployment_id="deployment-1",
        tool_jwks_url=f"http://127.0.0.1:{sala_port}/lti/jwks",
    )
    registration = PlatformRegistration(issuer=lms)
    routes: list[BaseRoute] = [*deep_linking.routes(), *registration.routes()]
    async with (
        serve_asgi(app, sala_port) as sala,
        serve_asgi(Starlette(routes=routes), lms_port),
    ):
        yield World(sala, app.state.services, deep_linking, registration)


async def test_the_picker_posts_the_chosen_settings_back_to_the_platform(
    world: World, browser: Browser
) -> None:
    services, lms = world.services, world.deep_linking
    platform = await Platforms(services.db, services.clock).add(
        issuer=lms.issuer,
        client_id=lms.client_id,
        auth_login_url=f"{lms.issuer}/lti/auth",
        jwks_url=f"{lms.issuer}/lti/certs",
        deployments=[lms.deployment_id],
    )
    session = await Sessions(services.db, services.clock).open(
        platform, lms.request_claims(locale="es-ES")
    )
    page = await browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(lms.course_page_url(f"{world.sala}/lti/deep-link/{session.token}"))
    picker = page.frame_locator("#tool")
    await expect(picker.get_by_role("heading", name="Añadir una videoconferencia")).to_be_visible()
    await picker.get_by_label("Título").fill("Tutoría semanal")
    await picker.get_by_label("Permitir la grabación").uncheck()
    await picker.get_by_label("Los participantes esperan hasta que entre un moderador").check()
    await picker.get_by_label("Invitados (usuarios de fuera del curso)").select_option(
        "ALWAYS_DENY"
    )
    await picker.get_by_role("button", name="Añadir al curso").click()

    # No second click: the page's script submits the signed answer to the platform.
    await expect(picker.get_by_text("Content added.")).to_be_visible(timeout=10_000)
    [payload] = lms.accepted
    [item] = payload[DL + "content_items"]
    assert item["title"] == "Tutoría semanal"
    assert item["custom"] == {
        "record": "false",
        "waitForModerator": "true",
        "guestPolicy": "ALWAYS_DENY",
        "muteOnStart": "false",
    }
    assert not [e for e in errors if "Content Security Policy" in e], errors
    await page.close()


async def test_the_end_of_a_registration_tells_the_platform_window(
    world: World, browser: Browser
) -> None:
    settings = world.services.settings
    tool_url = f"{world.sala}/lti/register/{registration_key(settings.shared_secret)}"
    page = await browser.new_page(locale="en-US")
    await page.goto(world.registration.admin_page_url(tool_url))
    tool = page.frame_locator("#tool")
    await expect(tool.get_by_role("heading", name="sala is registered")).to_be_visible()
    await expect(page.locator("body")).to_have_attribute("data-closed", "org.imsglobal.lti.close")
    [registered] = await Platforms(world.services.db, world.services.clock).all()
    assert registered.client_id == world.registration.client_id
    await page.close()

"""The room's frame in Chromium: its keyboard shortcuts, and the bars integrators hide."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import new_meeting, open_as


async def test_the_frame_answers_bbb_style_shortcuts(browser: Browser, sala: LiveServer) -> None:
    page = await open_as(browser, sala, new_meeting(sala), "Ada", "MODERATOR")
    nav = page.locator("#nav-panel")
    chat = page.locator("#panel-chat")
    await expect(nav).to_be_visible()
    await expect(chat).to_be_visible()

    await page.keyboard.press("Alt+Shift+U")
    await expect(nav).to_be_hidden()
    await page.keyboard.press("Alt+Shift+U")
    await expect(nav).to_be_visible()

    await page.keyboard.press("Alt+Shift+P")
    await expect(chat).to_be_hidden()
    await page.keyboard.press("Alt+Shift+P")
    await expect(chat).to_be_visible()

    # The first moderator in presents, so the "+" menu has something to offer.
    await page.keyboard.press("Alt+Shift+A")
    await expect(page.locator("#actions-menu")).to_have_attribute("aria-expanded", "true")
    await page.keyboard.press("Escape")
    await expect(page.locator("#actions-menu")).to_have_attribute("aria-expanded", "false")

    await page.keyboard.press("Alt+Shift+O")
    await expect(page.locator("#settings-dialog")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.locator("#settings-dialog")).to_be_hidden()

    await page.keyboard.press("Alt+Shift+K")
    listed = page.locator("#shortcuts-dialog")
    await expect(listed).to_be_visible()
    await expect(listed).to_contain_text("Show or hide the participants")
    await expect(listed).to_contain_text("Alt + Shift + U")
    await expect(listed).to_contain_text("Alt + M")  # the media's, listed in the same place

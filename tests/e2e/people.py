"""People in a room, as the browser tests open them and act as them: the three who meet, their
rows and menus in the user list, the chat."""

from __future__ import annotations

from playwright.async_api import Browser, Locator, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import open_as


async def ada_bea_caio(
    browser: Browser, server: LiveServer, meeting_id: str
) -> tuple[Page, Page, Page]:
    """Ada (moderator), Bea and Caio in the meeting, all three in Ada's user list."""
    ada = await open_as(browser, server, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, server, meeting_id, "Bea")
    caio = await open_as(browser, server, meeting_id, "Caio")
    await expect(ada.locator("#user-list")).to_contain_text("Caio")
    return ada, bea, caio


def user_row(page: Page, name: str) -> Locator:
    return page.locator("#user-list li[data-user]", has_text=name)


async def open_user_menu(page: Page, name: str) -> None:
    await user_row(page, name).get_by_role("button", name=f"Actions for {name}").click()


async def chat(page: Page, text: str, to: str | None = None) -> None:
    """Writes in the public chat, or privately to someone through their menu in the user list."""
    if to is not None:
        await open_user_menu(page, to)
        await page.get_by_role("menuitem", name="Start a private chat").click()
        await expect(page.locator("#chat-title")).to_have_text(f"Private chat with {to}")
    elif await page.locator("#open-chat").get_attribute("aria-pressed") == "false":
        await page.click("#open-chat")  # back to the public chat
    await page.fill("#chat-text", text)
    await page.press("#chat-text", "Enter")

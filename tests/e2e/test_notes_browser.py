"""Shared notes in Chromium: two people type at the same time and both pages end with the same
merged text; a reload shows it again; a lock makes the notes read-only for viewers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import new_meeting, open_as


async def open_notes(page: Page) -> None:
    """The shared notes' side panel, from the navigation."""
    await page.click("#open-notes", timeout=15_000)
    await expect(page.locator("#notes")).to_be_visible()


async def type_at(page: Page, where: str, words: str) -> None:
    notes = page.locator("#notes")
    await notes.focus()
    await page.keyboard.press(f"Control+{where}")
    await page.keyboard.type(words, delay=25)


async def test_two_people_type_at_once_and_see_the_same_text(
    sala: LiveServer, browser: Browser
) -> None:
    meeting_id = new_meeting(sala, "Notes", "notes")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea", locale="pt-BR")
    errors: list[str] = []
    for page in (ada, bea):
        page.on("pageerror", lambda error: errors.append(str(error)))
        await open_notes(page)
    await expect(bea.locator("#notes-title")).to_have_text("Notas compartilhadas")

    await type_at(ada, "Home", "middle")
    await expect(bea.locator("#notes")).to_have_value("middle")

    # Ada writes before the text while Bea writes after it, keystroke against keystroke: each
    # page merges the other's typing while its own caret stays where its writer put it.
    await asyncio.gather(
        type_at(ada, "Home", "Ada first. "),
        type_at(bea, "End", " Bea last."),
    )
    merged = "Ada first. middle Bea last."
    await expect(ada.locator("#notes")).to_have_value(merged)
    await expect(bea.locator("#notes")).to_have_value(merged)

    await bea.reload()
    await open_notes(bea)
    await expect(bea.locator("#notes")).to_have_value(merged, timeout=15_000)

    # Locking the notes makes them read-only for Bea, not for Ada.
    await ada.click("#manage-users")
    await ada.click('[data-action="lock-viewers"]')
    await ada.locator('[data-lock="disableNotes"]').check()
    await ada.click("#lock-apply")
    await expect(bea.locator("#notes")).to_have_js_property("readOnly", True)
    await expect(bea.locator(".notes-locked")).to_be_visible()
    await expect(ada.locator("#notes")).to_have_js_property("readOnly", False)
    await type_at(ada, "End", "!")
    await expect(bea.locator("#notes")).to_have_value(merged + "!")
    assert errors == []


async def test_a_moderator_clears_the_notes_for_everybody(
    sala: LiveServer, browser: Browser
) -> None:
    meeting_id = new_meeting(sala, "Notes", "notes")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea", locale="pt-BR")
    for page in (ada, bea):
        await open_notes(page)
    await expect(bea.locator("#notes-reset")).to_be_hidden()
    await type_at(bea, "End", "junk")
    await expect(ada.locator("#notes")).to_have_value("junk")

    await ada.locator("#notes-reset").click()
    await ada.locator('#confirm-notes-reset button[value="reset"]').click()
    for page in (ada, bea):
        await expect(page.locator("#notes")).to_have_value("")
    await expect(bea.locator("#toast")).to_have_text("Ada limpou as notas compartilhadas.")
    # Both go on writing in the new document.
    await type_at(bea, "End", "fresh")
    await expect(ada.locator("#notes")).to_have_value("fresh")
    await bea.reload()
    await open_notes(bea)
    await expect(bea.locator("#notes")).to_have_value("fresh", timeout=15_000)


async def test_notes_download_and_disabled(sala: LiveServer, browser: Browser) -> None:
    meeting_id = new_meeting(sala, "Notes", "notes")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await open_notes(ada)
    await type_at(ada, "End", "Chapter 3")
    async with ada.expect_download() as saving:
        await ada.click("#notes-download")
    download = await saving.value
    assert download.suggested_filename == "notes.txt"
    saved = Path(str(await download.path()))
    assert await asyncio.to_thread(saved.read_text) == "Chapter 3"

    # disabledFeatures=sharedNotes: no notes panel at all.
    off = new_meeting(sala, "No notes", "notes-off", disabledFeatures="sharedNotes")
    bea = await open_as(browser, sala, off, "Bea", "MODERATOR")
    await expect(bea.locator("#user-list")).to_be_visible(timeout=15_000)
    await expect(bea.locator("#open-notes")).to_have_count(0)

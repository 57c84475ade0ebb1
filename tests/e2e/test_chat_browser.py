"""The chat in a real browser: private conversations with unread badges, saving a chat, the
emoji picker by keyboard, and what locks and disabled features leave."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import open_as
from tests.e2e.test_room_browser import chat, new_meeting, open_user_menu


async def test_private_chats_are_conversations_with_unread_badges(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    caio = await open_as(browser, sala, meeting_id, "Caio")
    await expect(ada.locator("#user-list")).to_contain_text("Caio")
    public_entry = ada.locator("#open-chat")
    bea_entry = ada.locator(".nav-entry", has_text=re.compile(r"^Bea"))
    caio_entry = ada.locator(".nav-entry", has_text=re.compile(r"^Caio"))

    await chat(bea, "primeira", to="Ada")
    await chat(bea, "segunda", to="Ada")
    await chat(caio, "do Caio", to="Ada")
    await expect(bea_entry.locator(".badge")).to_have_text("2")
    await expect(bea_entry.locator(".badge")).to_have_attribute("aria-label", "2 unread")
    await expect(caio_entry.locator(".badge")).to_have_text("1")
    await expect(ada.locator("#chat-log")).not_to_contain_text("primeira")  # public chat on screen

    await bea_entry.click()
    await expect(ada.locator("#chat-title")).to_have_text("Private chat with Bea")
    await expect(ada.locator("#chat-log li")).to_have_text(
        [re.compile("primeira"), re.compile("segunda")]
    )
    await expect(bea_entry.locator(".badge")).to_have_count(0)
    await expect(caio_entry.locator(".badge")).to_have_text("1")
    # A public message while Ada reads Bea's: the public chat's entry counts it.
    await chat(caio, "para todos")
    await expect(public_entry.locator(".badge")).to_have_text("1")
    await expect(ada.locator("#chat-log")).not_to_contain_text("para todos")
    await public_entry.click()
    await expect(ada.locator("#chat-log")).to_contain_text("para todos")
    await expect(public_entry.locator(".badge")).to_have_count(0)
    # Bea only sees her own conversation with Ada, and her own messages are marked.
    await expect(bea.locator("#chat-log li.own")).to_have_count(2)
    await expect(bea.locator(".nav-entry", has_text=re.compile(r"^Caio"))).to_have_count(0)
    # Closing a private chat takes its entry away until a new message comes.
    await caio_entry.click()
    await ada.get_by_role("button", name="Close this chat").click()
    await expect(caio_entry).to_have_count(0)
    await expect(ada.locator("#chat-title")).to_have_text("Public chat")
    await chat(caio, "de novo", to="Ada")
    await expect(caio_entry.locator(".badge")).to_have_text("1")
    # Enter sends, Shift+Enter starts a new line.
    await ada.fill("#chat-text", "linha um")
    await ada.press("#chat-text", "Shift+Enter")
    await ada.type("#chat-text", "linha dois")
    await ada.press("#chat-text", "Enter")
    await expect(caio.locator("#open-chat .badge")).to_have_text("1")
    await caio.click("#open-chat")
    await expect(caio.locator("#chat-log li", has_text="linha um")).to_have_text(
        re.compile("linha um\nlinha dois")
    )


async def test_save_chat_downloads_the_conversation(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(ada.locator("#chat-save")).to_be_disabled()  # nothing to save yet
    await chat(ada, "Bom dia")
    await chat(bea, "Olá <b>professora</b>")
    await expect(ada.locator("#chat-log li")).to_have_count(2)
    async with ada.expect_download() as info:
        await ada.click("#chat-save")
    download = await info.value
    assert re.fullmatch(r"chat-\d{4}-\d\d-\d\d-\d{4}\.txt", download.suggested_filename)
    text = (await download.path()).read_text(encoding="utf-8")
    assert text.startswith("Aula de Física — Public chat\n")
    assert re.search(r"^\[\d\d:\d\d( [AP]M)?\] Ada: Bom dia$", text, re.M), text
    assert re.search(r"^\[\d\d:\d\d( [AP]M)?\] Bea: Olá <b>professora</b>$", text, re.M), text


async def test_emoji_picker_by_keyboard(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await ada.fill("#chat-text", "Parabéns ")
    await ada.focus("#emoji-button")
    await ada.keyboard.press("Enter")
    picker = ada.get_by_role("group", name="Insert emoji")
    await expect(picker.get_by_role("button")).to_have_count(42)
    await expect(picker.get_by_role("button", name="😀")).to_be_focused()
    await ada.keyboard.press("ArrowDown")  # the next row: 😊
    await ada.keyboard.press("ArrowRight")  # 😍
    await expect(picker.get_by_role("button", name="😍")).to_be_focused()
    await ada.keyboard.press("Enter")
    await expect(picker).to_have_count(0)
    await expect(ada.locator("#chat-text")).to_have_value("Parabéns 😍")
    await expect(ada.locator("#chat-text")).to_be_focused()
    await ada.keyboard.press("Enter")
    message = bea.locator("#chat-log li", has_text="Parabéns")
    # The emoji is drawn with Twemoji; the character stays as its alt text.
    await expect(message.locator("img.emoji")).to_have_attribute("alt", "😍")
    await expect(message.locator("img.emoji")).to_have_attribute(
        "src", "/room/static/app/emoji/1f60d.svg"
    )
    assert await message.locator("img.emoji").evaluate("i => i.complete && i.naturalWidth > 0")
    # Escape closes the picker and gives the focus back to its button.
    await ada.focus("#emoji-button")
    await ada.keyboard.press("Enter")
    await expect(picker).to_be_visible()
    await ada.keyboard.press("Escape")
    await expect(picker).to_have_count(0)
    await expect(ada.locator("#emoji-button")).to_be_focused()


async def test_locks_and_disabled_chat(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala, lockSettingsDisablePrivateChat="true")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(bea.locator("#user-list")).to_contain_text("Ada")
    # A locked viewer cannot start a private chat; a moderator still writes to them.
    await expect(bea.locator("#user-list [aria-haspopup=menu]")).to_have_count(0)
    await chat(ada, "só para você", to="Bea")
    entry = bea.locator(".nav-entry", has_text=re.compile(r"^Ada"))
    await entry.click()
    await expect(bea.locator("#chat-log")).to_contain_text("só para você")
    await expect(bea.locator("#chat-text")).to_be_disabled()
    await expect(bea.locator("#chat-form")).to_contain_text("A moderator locked private chats.")

    # disabledFeatures=chat: no chat at all.
    quiet = new_meeting(sala, disabledFeatures="chat")
    cyd = await open_as(browser, sala, quiet, "Cyd", "MODERATOR")
    await expect(cyd.locator("#user-list")).to_contain_text("Cyd")
    await expect(cyd.locator("#open-chat")).to_have_count(0)
    await expect(cyd.locator("#chat-text")).to_have_count(0)
    dan = await open_as(browser, sala, quiet, "Dan")
    await expect(cyd.locator("#user-list")).to_contain_text("Dan")
    await open_user_menu(cyd, "Dan")
    await expect(cyd.get_by_role("menuitem", name="Make presenter")).to_be_visible()
    await expect(cyd.get_by_role("menuitem", name="Start a private chat")).to_have_count(0)
    await expect(dan.locator("#chat-text")).to_have_count(0)

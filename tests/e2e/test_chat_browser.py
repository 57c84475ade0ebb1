"""The chat in a real browser: private conversations with unread badges, saving a chat, the
emoji picker by keyboard, what locks and disabled features leave, the message actions (react,
reply, edit, delete), clearing, typing and the announcements of messages not on screen."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, Locator, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import new_meeting, open_as
from tests.e2e.people import ada_bea_caio, chat, open_user_menu, user_row
from tests.e2e.test_accessibility_browser import audit


async def test_private_chats_are_conversations_with_unread_badges(
    browser: Browser, sala: LiveServer
) -> None:
    ada, bea, caio = await ada_bea_caio(browser, sala, new_meeting(sala))
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
    await expect(user_row(bea, "Ada").locator("[aria-haspopup=menu]")).to_have_count(0)
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


def message(page: Page, text: str) -> Locator:
    return page.locator("#chat-log li.message", has_text=text)


async def test_reactions_replies_edits_and_deletions_reach_the_other(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(ada.locator("#user-list")).to_contain_text("Bea")
    await chat(ada, "Bom dia, turma")

    # Bea reacts from the message's toolbar; Ada sees the count, adds hers by the chip.
    await message(bea, "Bom dia, turma").hover()
    await message(bea, "Bom dia, turma").get_by_role("button", name="React").click()
    await bea.get_by_role("group", name="React").get_by_role("button", name="👍").click()
    chip = message(ada, "Bom dia, turma").locator(".chat-reaction[data-emoji='👍']")
    await expect(chip).to_have_text("1")
    await expect(chip).to_have_attribute("aria-pressed", "false")
    await expect(chip).to_have_attribute("aria-label", "👍 1: Bea")
    await chip.click()
    await expect(chip).to_have_text("2")
    await expect(chip).to_have_attribute("aria-pressed", "true")
    await expect(chip).to_have_attribute("aria-label", "👍 2: Bea, You")
    theirs = message(bea, "Bom dia, turma").locator(".chat-reaction[data-emoji='👍']")
    await expect(theirs).to_have_text("2")
    await expect(theirs).to_have_attribute("aria-pressed", "true")
    # Toggled off again, one by one.
    await theirs.click()
    await expect(chip).to_have_text("1")
    await expect(chip).to_have_attribute("aria-label", "👍 1: You")
    await chip.click()
    await expect(theirs).to_have_count(0)
    await expect(chip).to_have_count(0)

    # Bea replies by keyboard: the message, its toolbar, Reply; the quote waits above the composer.
    await message(bea, "Bom dia, turma").focus()
    await bea.keyboard.press("Tab")
    await expect(bea.get_by_role("button", name="React", exact=True)).to_be_focused()
    await bea.keyboard.press("Tab")
    await expect(bea.get_by_role("button", name="Reply")).to_be_focused()
    await bea.keyboard.press("Enter")
    await expect(bea.locator("#reply-bar")).to_contain_text("Replying to Ada")
    await expect(bea.locator("#reply-bar")).to_contain_text("Bom dia, turma")
    await expect(bea.locator("#chat-text")).to_be_focused()
    await bea.keyboard.type("Bom dia!")
    await bea.keyboard.press("Enter")
    await expect(bea.locator("#reply-bar")).to_have_count(0)
    quote = message(ada, "Bom dia!").locator(".reply-quote")
    await expect(quote).to_contain_text("Ada")
    await expect(quote).to_contain_text("Bom dia, turma")
    await quote.click()
    await expect(message(ada, "Bom dia, turma").first).to_be_focused()
    # A reply can be given up: the cancel button, or Escape in the composer.
    await message(bea, "Bom dia, turma").first.hover()
    await message(bea, "Bom dia, turma").first.get_by_role("button", name="Reply").click()
    await expect(bea.locator("#reply-bar")).to_be_visible()
    await bea.keyboard.press("Escape")
    await expect(bea.locator("#reply-bar")).to_have_count(0)

    # Bea edits her reply: Escape leaves it as it was, Enter saves; Ada sees "(edited)".
    mine = message(bea, "Bom dia!")
    await mine.hover()
    await mine.get_by_role("button", name="More actions").click()
    await bea.get_by_role("menuitem", name="Edit message").click()
    editor = bea.get_by_role("textbox", name="Edit message")
    await expect(editor).to_be_focused()
    await expect(editor).to_have_value("Bom dia!")
    await editor.fill("ignore this")
    await bea.keyboard.press("Escape")
    await expect(editor).to_have_count(0)
    await expect(mine).not_to_contain_text("(edited)")
    await mine.hover()
    await mine.get_by_role("button", name="More actions").click()
    await bea.get_by_role("menuitem", name="Edit message").click()
    await editor.fill("Bom dia, professora!")
    await bea.keyboard.press("Enter")
    edited = message(ada, "Bom dia, professora!")
    await expect(edited.locator(".message-text")).to_have_text("Bom dia, professora!")
    await expect(edited).to_contain_text("(edited)")
    await expect(message(bea, "Bom dia, professora!")).to_contain_text("(edited)")

    # Ada deletes her own first message: a placeholder for Bea, and the reply's quote empties.
    original = message(ada, "Bom dia, turma").first
    await original.hover()
    await original.get_by_role("button", name="More actions").click()
    await ada.get_by_role("menuitem", name="Delete message").click()
    dialog = ada.locator("#delete-message-dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(bea.locator("#chat-log li.message.deleted")).to_have_count(0)
    await original.hover()
    await original.get_by_role("button", name="More actions").click()
    await ada.get_by_role("menuitem", name="Delete message").click()
    await dialog.get_by_role("button", name="Delete").click()
    gone = bea.locator("#chat-log li.message.deleted")
    await expect(gone).to_have_count(1)
    await expect(gone).to_contain_text("This message was deleted")
    await expect(gone).not_to_contain_text("Bom dia, turma")
    await expect(message(bea, "Bom dia, professora!").locator(".reply-quote")).to_contain_text(
        "Deleted message"
    )
    # A deleted message has no actions; a late joiner sees the placeholder too.
    await gone.hover()
    await expect(gone.locator(".message-actions")).to_have_count(0)
    caio = await open_as(browser, sala, meeting_id, "Caio")
    await expect(caio.locator("#chat-log li.message.deleted")).to_have_text(
        re.compile("This message was deleted")
    )
    await expect(message(caio, "Bom dia, professora!")).to_contain_text("(edited)")
    # axe finds nothing serious with all of it on screen: a quote, "(edited)", a placeholder,
    # reaction chips, the toolbar and the reaction row open, in light and dark.
    await message(caio, "Bom dia, professora!").hover()
    await message(caio, "Bom dia, professora!").get_by_role("button", name="React").click()
    await caio.get_by_role("group", name="React").get_by_role("button", name="❤️").click()
    await expect(message(caio, "Bom dia, professora!").locator(".chat-reaction")).to_have_text("1")
    await message(caio, "Bom dia, professora!").get_by_role("button", name="React").click()
    await audit(caio, "chat with message actions")
    await caio.keyboard.press("Escape")
    await caio.click("#theme")
    await message(caio, "Bom dia, professora!").hover()
    await asyncio.sleep(0.5)  # the background's transition
    await audit(caio, "chat with message actions, dark")


async def test_moderator_deletes_and_clears_the_public_chat(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await chat(ada, "regras da aula")
    await chat(bea, "algo impróprio")
    await chat(bea, "uma pergunta")
    # A viewer may not delete a moderator's message (nor edit it): nothing but React and Reply.
    await message(bea, "regras da aula").hover()
    await expect(
        message(bea, "regras da aula").get_by_role("button", name="More actions")
    ).to_have_count(0)
    await expect(message(bea, "regras da aula").get_by_role("button", name="Reply")).to_be_visible()
    # The moderator deletes the viewer's message.
    await message(ada, "algo impróprio").hover()
    await message(ada, "algo impróprio").get_by_role("button", name="More actions").click()
    menu = ada.get_by_role("menu", name="More actions")
    await expect(menu.get_by_role("menuitem")).to_have_text(["Delete message"])
    await menu.get_by_role("menuitem").click()
    await ada.locator("#delete-message-confirm").click()
    await expect(bea.locator("#chat-log li.message.deleted")).to_have_text(
        re.compile("This message was deleted")
    )
    await expect(bea.locator("#chat-log")).not_to_contain_text("algo impróprio")
    # Clearing the public chat, from the panel's menu, asked first; private messages stay.
    await chat(bea, "só entre nós", to="Ada")
    await ada.click("#chat-options")
    await ada.get_by_role("menuitem", name="Clear the public chat").click()
    await ada.locator("#clear-chat-confirm").click()
    await expect(ada.locator("#chat-log li")).to_have_count(0)
    await expect(ada.locator("#chat-cleared")).to_have_text("The chat was cleared by Ada")
    await expect(bea.locator("#open-chat .badge")).to_have_count(0)
    await bea.click("#open-chat")
    await expect(bea.locator("#chat-cleared")).to_have_text("The chat was cleared by Ada")
    await expect(bea.locator("#chat-log li")).to_have_count(0)
    await bea.locator(".nav-entry", has_text=re.compile(r"^\s*Ada")).click()
    await expect(bea.locator("#chat-log")).to_contain_text("só entre nós")
    # A viewer has no such menu.
    await bea.click("#open-chat")
    await expect(bea.locator("#chat-options")).to_have_count(0)
    # The next message takes the notice away.
    await chat(bea, "de novo")
    await expect(ada.locator("#chat-log li")).to_have_count(1)
    await expect(ada.locator("#chat-cleared")).to_have_count(0)


async def test_typing_indicator(browser: Browser, sala: LiveServer) -> None:
    ada, bea, caio = await ada_bea_caio(browser, sala, new_meeting(sala))
    indicator = ada.locator("#typing-indicator")
    await bea.locator("#chat-text").press_sequentially("Estou pens")
    await expect(indicator).to_have_text("Bea is typing…")
    await expect(bea.locator("#typing-indicator")).to_have_text("")  # never oneself
    await caio.locator("#chat-text").press_sequentially("Eu")
    await expect(indicator).to_have_text(re.compile("^(Bea and Caio|Caio and Bea) are typing…$"))
    # Gone a few seconds after the last keystroke.
    await expect(indicator).to_have_text("", timeout=6_000)
    # A message ends it at once.
    await bea.locator("#chat-text").press_sequentially("ando")
    await expect(indicator).to_have_text("Bea is typing…")
    await bea.press("#chat-text", "Enter")
    await expect(message(ada, "Estou pensando")).to_be_visible()
    await expect(indicator).to_have_text("")
    # Private: only the other participant sees it, in that conversation.
    await open_user_menu(bea, "Ada")
    await bea.get_by_role("menuitem", name="Start a private chat").click()
    await bea.locator("#chat-text").press_sequentially("psiu")
    await expect(caio.locator("#typing-indicator")).to_have_text("")
    await expect(indicator).to_have_text("")  # Ada reads the public chat
    await bea.press("#chat-text", "Enter")
    await ada.locator(".nav-entry", has_text=re.compile(r"^\s*Bea")).click()
    await asyncio.sleep(2.2)  # one notice every 2 s at most
    await bea.locator("#chat-text").press_sequentially("mais uma coisa")
    await expect(indicator).to_have_text("Bea is typing…")


async def test_disabled_features_hide_the_message_actions(
    browser: Browser, sala: LiveServer
) -> None:
    every = (
        "chatMessageReactions,replyChatMessage,editChatMessage,deleteChatMessage,chatEmojiPicker"
    )
    meeting_id = new_meeting(sala, disabledFeatures=every)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await chat(ada, "sem ações")
    await message(ada, "sem ações").hover()
    await expect(message(ada, "sem ações").locator(".message-actions")).to_have_count(0)
    await expect(ada.locator("#emoji-button")).to_have_count(0)
    await expect(ada.locator("#chat-text")).to_be_enabled()

    some = new_meeting(sala, disabledFeatures="editChatMessage,chatEmojiPicker")
    cyd = await open_as(browser, sala, some, "Cyd", "MODERATOR")
    await chat(cyd, "quase tudo")
    await message(cyd, "quase tudo").hover()
    await expect(message(cyd, "quase tudo").get_by_role("button", name="React")).to_be_visible()
    await expect(message(cyd, "quase tudo").get_by_role("button", name="Reply")).to_be_visible()
    await message(cyd, "quase tudo").get_by_role("button", name="More actions").click()
    await expect(cyd.get_by_role("menu", name="More actions").get_by_role("menuitem")).to_have_text(
        ["Delete message"]
    )
    await expect(cyd.locator("#emoji-button")).to_have_count(0)

    each = {
        "chatMessageReactions": "React",
        "replyChatMessage": "Reply",
        "deleteChatMessage": "More actions",  # a viewer's own message: delete was all but edit
    }
    for feature, button in each.items():
        one = new_meeting(sala, disabledFeatures=f"{feature},editChatMessage")
        dan = await open_as(browser, sala, one, "Dan")
        await chat(dan, f"sem {feature}")
        await message(dan, f"sem {feature}").hover()
        await expect(message(dan, f"sem {feature}").locator(".message-actions")).to_be_visible()
        await expect(
            message(dan, f"sem {feature}").get_by_role("button", name=button)
        ).to_have_count(0)
        await expect(dan.locator("#emoji-button")).to_be_visible()
        await dan.context.close()


async def test_a_locked_viewer_cannot_react(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala, lockSettingsDisablePublicChat="true")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await chat(ada, "aviso")
    await message(ada, "aviso").hover()
    await message(ada, "aviso").get_by_role("button", name="React").click()
    await ada.get_by_role("group", name="React").get_by_role("button", name="🎉").click()
    chip = message(bea, "aviso").locator(".chat-reaction[data-emoji='🎉']")
    await expect(chip).to_have_text("1")
    await expect(chip).to_be_disabled()
    await message(bea, "aviso").hover()
    await expect(message(bea, "aviso").locator(".message-actions")).to_have_count(0)
    await expect(bea.locator("#chat-text")).to_be_disabled()
    # Typing is not sent either (the composer is disabled), and the moderator still reacts.
    await expect(message(ada, "aviso").locator(".chat-reaction[data-emoji='🎉']")).to_be_enabled()


async def test_messages_in_a_closed_panel_are_announced(browser: Browser, sala: LiveServer) -> None:
    ada, bea, caio = await ada_bea_caio(browser, sala, new_meeting(sala))
    await ada.click("#open-chat")  # closes the public chat
    await expect(ada.locator("#chat-log")).to_have_count(0)
    live = ada.locator("#announcer")
    await chat(bea, "uma só")
    await expect(live).to_have_text("Bea in the public chat: uma só")
    # Several within a second: one sentence.
    await chat(bea, "primeira")
    await chat(caio, "segunda")
    await expect(live).to_have_text(
        re.compile(r"^2 new messages in the public chat from (Bea, Caio|Caio, Bea)$")
    )
    # A private one: its name and text, as a toast too.
    await chat(bea, "em particular", to="Ada")
    await expect(live).to_have_text("Private message from Bea: em particular")
    await expect(ada.locator(".toasts")).to_contain_text("Private message from Bea: em particular")

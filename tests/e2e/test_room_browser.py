"""The room in a real browser: what two or three people see and do."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Browser, Locator, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import api, new_meeting, open_as, signed
from tests.e2e.people import chat, open_user_menu, user_row


async def leave_menu_items(page: Page) -> Locator:
    """Opens the top bar's leave menu (Leave meeting, and End meeting for moderators)."""
    await page.click("#leave-menu")
    return page.locator("#leave-menu + [role=menu] [role=menuitem]")


async def test_two_people_chat_raise_hands_and_the_moderator_removes(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala, welcome="Bem-vindos a <b>%%CONFNAME%%</b>")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await expect(ada.locator("#meeting-name")).to_have_text("Aula de Física")
    await expect(ada.locator("#welcome b")).to_have_text("Aula de Física")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(ada.locator("#user-list")).to_contain_text("Bea")
    await expect(bea.locator("#user-list")).to_contain_text("Ada")
    assert "<participantCount>2</participantCount>" in api(
        sala, "getMeetingInfo", meetingID=meeting_id
    )

    await chat(ada, "Olá, <i>turma</i>")
    await expect(bea.locator("#chat-log")).to_contain_text("Olá, <i>turma</i>")  # text, not HTML
    await chat(bea, "Oi, professora")
    await expect(ada.locator("#chat-log")).to_contain_text("Oi, professora")

    await chat(bea, "uma dúvida particular", to="Ada")
    # Ada reads the public chat: the private one appears in her navigation with a badge.
    private_entry = ada.locator("#nav-panel .nav-entry", has_text="Bea")
    await expect(private_entry.locator(".badge")).to_have_text("1")
    await expect(ada.locator("#chat-log")).not_to_contain_text("uma dúvida particular")
    await private_entry.click()
    await expect(ada.locator("#chat-title")).to_have_text("Private chat with Bea")
    await expect(
        ada.locator("#chat-log li.private", has_text="uma dúvida particular")
    ).to_contain_text("Private from Bea")
    await chat(ada, "responde em privado", to="Bea")
    await expect(
        bea.locator("#chat-log li.private", has_text="responde em privado")
    ).to_contain_text("Private from Ada")

    await bea.click("#hand")
    await expect(user_row(ada, "Bea").get_by_role("img", name="Hand raised")).to_be_visible()

    await open_user_menu(ada, "Bea")
    await ada.get_by_role("menuitem", name="Remove", exact=True).click()
    await expect(bea.locator("#notice-text")).to_have_text("You were removed from this meeting.")
    await expect(ada.locator("#user-list")).not_to_contain_text("Bea")


async def test_guest_waits_in_the_lobby_and_is_let_in(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala, guestPolicy="ASK_MODERATOR")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await expect(ada.locator("#user-list")).to_contain_text("Ada")
    gil = await open_as(browser, sala, meeting_id, "Gil", guest="true")
    await expect(gil.locator("#notice-text")).to_have_text(
        "Please wait: a moderator will let you in soon."
    )
    await expect(ada.locator("#lobby-list")).to_contain_text("Gil")
    await ada.locator("#lobby-list li", has_text="Gil").get_by_role("button", name="Allow").click()
    await expect(gil.locator("#user-list")).to_contain_text("Ada")
    await expect(ada.locator("#user-list")).to_contain_text("Gil")


async def test_portuguese_on_request_and_disabled_private_chat(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala, disabledFeatures="privateChat")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(
        browser, sala, meeting_id, "Bea", **{"userdata-bbb_override_default_locale": "pt-br"}
    )
    await expect(bea.locator("#leave-menu")).to_have_text("Sair")
    await expect(bea.locator("#chat-title")).to_have_text("Bate-papo público")
    await expect(ada.locator("#leave-menu")).to_have_text("Leave")
    await expect(bea.locator("#user-list")).to_contain_text("Ada")
    # Nobody can be picked for a private message: a viewer has no menu on anyone (a private
    # chat would be its only entry), a moderator's menu has everything else.
    await expect(user_row(bea, "Ada").locator("[aria-haspopup=menu]")).to_have_count(0)
    await expect(bea.locator(".nav-entry", has_text=re.compile(r"^Ada"))).to_have_count(0)
    await expect(ada.locator("#user-list")).to_contain_text("Bea")
    await open_user_menu(ada, "Bea")
    await expect(ada.get_by_role("menuitem", name="Make presenter")).to_be_visible()
    await expect(ada.get_by_role("menuitem", name="Start a private chat")).to_have_count(0)


async def test_spanish_on_request_and_from_the_browser(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(
        browser,
        sala,
        meeting_id,
        "Ada",
        "MODERATOR",
        **{"userdata-bbb_override_default_locale": "es-MX"},
    )
    await expect(ada.locator("#leave-menu")).to_have_text("Salir")
    await expect(ada.locator("#chat-title")).to_have_text("Chat público")
    await expect(await leave_menu_items(ada)).to_contain_text(
        ["Salir de la sala", "Finalizar sesión"]
    )
    caio = await open_as(browser, sala, meeting_id, "Caio", locale="es-ES")
    await expect(caio.locator("#chat-title")).to_have_text("Chat público")
    await expect(caio.locator("#user-list")).to_contain_text("Ada")


async def test_browser_language_picks_the_ui_language(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    page = await open_as(browser, sala, meeting_id, "Caio", "MODERATOR", locale="pt-BR")
    await expect(await leave_menu_items(page)).to_contain_text(["Sair da sala", "Encerrar sessão"])


async def test_reload_keeps_the_user(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(bea.locator("#user-list")).to_contain_text("Ada")
    await chat(bea, "antes do reload")
    await bea.reload()
    await expect(bea.locator("#user-list")).to_contain_text("Bea (you)")
    await expect(bea.locator("#chat-log")).to_contain_text("antes do reload")
    await expect(ada.locator("#user-count")).to_have_text("2")


async def test_moderator_ends_the_meeting_for_everyone(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala, logoutURL="https://lms.example.org/course/7")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(bea.locator("#user-list")).to_contain_text("Ada")
    await expect(await leave_menu_items(bea)).to_have_text(["Leave meeting"])  # no End meeting
    await bea.keyboard.press("Escape")
    await (await leave_menu_items(ada)).filter(has_text="End meeting").click()
    await ada.locator("#confirm-end").get_by_role("button", name="End meeting").click()
    for page in (ada, bea):
        await expect(page.locator("#notice-text")).to_have_text("The meeting has ended.")
        await expect(page.locator("#notice-link")).to_have_attribute(
            "href", "https://lms.example.org/course/7"
        )
    assert "<running>false</running>" in api(sala, "isMeetingRunning", meetingID=meeting_id)


async def test_userdata_shapes_the_page(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala, disabledFeatures="userReactions,raiseHand")
    page = await open_as(
        browser,
        sala,
        meeting_id,
        "Ada",
        "MODERATOR",
        **{
            "userdata-bbb_client_title": "Física I",
            "userdata-bbb_show_participants_on_login": "false",
        },
    )
    await expect(page).to_have_title("Física I")
    await expect(page.locator("#nav-panel")).to_be_hidden()  # the user list
    await expect(page.locator("#reactions")).to_be_hidden()
    await expect(page.locator("#hand")).to_be_hidden()
    await expect(page.locator("#away")).to_be_visible()
    await expect(page.locator("#panel-chat")).to_be_visible()


async def test_people_are_told_the_meeting_is_recorded_and_may_leave(
    browser: Browser, sala: LiveServer
) -> None:
    """notifyRecordingIsOn: a recording meeting asks everyone to stay (and be recorded) or go."""
    meeting_id = f"consent-{uuid.uuid4()}"
    api(
        sala,
        "create",
        name="Aula gravada",
        meetingID=meeting_id,
        record="true",
        autoStartRecording="true",
        notifyRecordingIsOn="true",
    )
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await expect(ada.locator("#recording-notice")).to_be_visible(timeout=15_000)
    await ada.locator("#recording-notice button[value=stay]").click()
    await expect(ada.locator("#recording-notice")).to_be_hidden()
    await expect(ada.locator("#recording")).to_be_visible()

    bea = await open_as(browser, sala, meeting_id, "Bea", locale="pt-BR")
    notice = bea.locator("#recording-notice")
    await expect(notice).to_contain_text("Esta sessão está sendo gravada", timeout=15_000)
    await bea.locator("#recording-notice button[value=leave]").click()
    await expect(bea.locator("#notice-text")).to_be_visible()
    await expect(ada.locator("#user-list li")).to_have_count(1)

    # Without notifyRecordingIsOn nobody is asked.
    quiet = f"quiet-{uuid.uuid4()}"
    api(sala, "create", name="Quiet", meetingID=quiet, record="true", autoStartRecording="true")
    cyd = await open_as(browser, sala, quiet, "Cyd", "MODERATOR")
    await expect(cyd.locator("#recording")).to_be_visible(timeout=15_000)
    await expect(cyd.locator("#recording-notice")).to_be_hidden()


async def test_an_embedding_integrator_hides_the_bars(browser: Browser, sala: LiveServer) -> None:
    """userdata-bbb_hide_nav_bar and bbb_hide_actions_bar: the room shows neither bar, and its
    stage takes the room they leave."""
    meeting_id = new_meeting(sala)
    page = await open_as(
        browser,
        sala,
        meeting_id,
        "Ada",
        "MODERATOR",
        **{"userdata-bbb_hide_nav_bar": "true", "userdata-bbb_hide_actions_bar": "true"},
    )
    await expect(page.locator("#room")).to_be_visible()
    await expect(page.locator(".topbar")).to_have_count(0)
    await expect(page.locator(".actionbar")).to_have_count(0)
    room = await page.locator("#room").bounding_box()
    viewport = page.viewport_size
    assert room is not None and viewport is not None
    assert room["height"] > viewport["height"] - 5


REFUSED_STORAGE = """
Object.defineProperty(window, "localStorage", {
  get() {
    throw new DOMException("Access is denied for this document.", "SecurityError");
  },
});
"""
"""What Chrome does in a cross-site iframe (an LMS embedding the room) when the user blocks
third-party cookies: merely reading `localStorage` throws."""


async def test_the_room_works_where_the_browser_refuses_storage(
    browser: Browser, sala: LiveServer
) -> None:
    """Embedded in a learning platform with third-party storage blocked, the room still starts,
    chats, switches theme and layout choices for this page, and nothing throws."""
    meeting_id = new_meeting(sala)
    context = await browser.new_context(locale="en-US")
    await context.add_init_script(REFUSED_STORAGE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(
        signed(sala, "join", {"meetingID": meeting_id, "fullName": "Ada", "role": "MODERATOR"})
    )
    await expect(page.locator("#room")).to_be_visible()
    await chat(page, "sem armazenamento")
    await expect(page.locator("#chat-log")).to_contain_text("sem armazenamento")
    await page.click("#theme")
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert await page.evaluate("() => { try { localStorage; return false } catch { return true } }")
    assert errors == []
    await context.close()

"""The room in a real browser: what two or three people see and do."""

from __future__ import annotations

import uuid

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import api, open_as


def new_meeting(sala: LiveServer, **params: str) -> str:
    meeting_id = f"e2e-{uuid.uuid4()}"
    body = api(sala, "create", name="Aula de Física", meetingID=meeting_id, **params)
    assert "<returncode>SUCCESS</returncode>" in body, body
    return meeting_id


async def chat(page: Page, text: str, to: str | None = None) -> None:
    if to is not None:
        await page.select_option("#chat-to", label=to)
    await page.fill("#chat-text", text)
    await page.press("#chat-text", "Enter")


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
    await expect(
        ada.locator("#chat-log li.private", has_text="uma dúvida particular")
    ).to_contain_text("Private from Bea")
    await chat(ada, "responde em privado", to="Bea")
    await expect(
        bea.locator("#chat-log li.private", has_text="responde em privado")
    ).to_contain_text("Private from Ada")

    await bea.click("#hand")
    await expect(ada.locator("li[data-user]", has_text="Bea")).to_contain_text("✋")

    await (
        ada.locator("li[data-user]", has_text="Bea")
        .get_by_role("button", name="Remove", exact=True)
        .click()
    )
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
    await expect(bea.locator("#leave")).to_have_text("Sair")
    await expect(bea.locator("#chat-title")).to_have_text("Bate-papo público")
    await expect(ada.locator("#leave")).to_have_text("Leave")
    await expect(bea.locator("#user-list")).to_contain_text("Ada")
    # Only "Everyone": nobody can be picked for a private message.
    await expect(bea.locator("#chat-to option")).to_have_count(1)
    await expect(ada.locator("#chat-to option")).to_have_count(1)


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
    await expect(ada.locator("#leave")).to_have_text("Salir")
    await expect(ada.locator("#chat-title")).to_have_text("Chat público")
    await expect(ada.locator("#end")).to_have_text("Finalizar sesión")
    caio = await open_as(browser, sala, meeting_id, "Caio", locale="es-ES")
    await expect(caio.locator("#chat-title")).to_have_text("Chat público")
    await expect(caio.locator("#user-list")).to_contain_text("Ada")


async def test_browser_language_picks_the_ui_language(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    page = await open_as(browser, sala, meeting_id, "Caio", "MODERATOR", locale="pt-BR")
    await expect(page.locator("#end")).to_have_text("Encerrar sessão")


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
    await expect(bea.locator("#end")).to_be_hidden()
    await ada.click("#end")
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
    await expect(page.locator(".users")).to_be_hidden()
    await expect(page.locator("#reactions")).to_be_hidden()
    await expect(page.locator("#hand")).to_be_hidden()
    await expect(page.locator(".chat")).to_be_visible()


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

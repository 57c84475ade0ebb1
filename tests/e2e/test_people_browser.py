"""The user list in a real browser: the per-user menu, moderator tools (clearing statuses, the
guest policy), the waiting room, the reactions popover, my own status from my row, keyboard use
of the menus, and the avatars' contrast."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import new_meeting, open_as, signed
from tests.e2e.people import ada_bea_caio, open_user_menu, user_row


async def test_hands_go_first_in_the_order_they_were_raised(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    caio = await open_as(browser, sala, meeting_id, "Caio")
    rows = ada.locator("#user-list li[data-user] .name")
    await expect(rows).to_have_text(["Ada", "Bea", "Caio"])  # moderators, then by name
    await caio.click("#hand")
    await expect(caio.locator("#hand")).to_have_attribute("aria-pressed", "true")
    await bea.click("#hand")
    await expect(rows).to_have_text(["Caio", "Bea", "Ada"])
    # A moderator lowers a hand from the person's menu.
    await open_user_menu(ada, "Caio")
    await ada.get_by_role("menuitem", name="Lower hand").click()
    await expect(caio.locator("#hand")).to_have_attribute("aria-pressed", "false")
    await expect(rows).to_have_text(["Bea", "Ada", "Caio"])
    # Searching narrows the list; the count stays everybody's.
    await ada.fill("#user-search", "cai")
    await expect(rows).to_have_text(["Caio"])
    await expect(ada.locator("#user-count")).to_have_text("3")


async def test_per_user_menu_by_keyboard_promotes_and_makes_presenter(
    browser: Browser, sala: LiveServer
) -> None:
    ada, bea, caio = await ada_bea_caio(browser, sala, new_meeting(sala))
    # From the search box, Tab reaches the list (my own row first: my own status is there too);
    # arrows move between people.
    trigger = user_row(ada, "Bea").get_by_role("button", name="Actions for Bea")
    await ada.focus("#user-search")
    await ada.keyboard.press("Tab")
    await expect(user_row(ada, "Ada").get_by_role("button", name="Actions for Ada")).to_be_focused()
    await ada.keyboard.press("ArrowDown")
    await expect(trigger).to_be_focused()
    await ada.keyboard.press("ArrowDown")
    await expect(
        user_row(ada, "Caio").get_by_role("button", name="Actions for Caio")
    ).to_be_focused()
    await ada.keyboard.press("ArrowUp")
    await expect(trigger).to_be_focused()
    await ada.keyboard.press("Enter")
    items = ada.get_by_role("menu", name="Actions for Bea").get_by_role("menuitem")
    await expect(items).to_have_text(
        [
            "Start a private chat",
            "Make presenter",
            "Make moderator",
            "Remove",
            "Remove and block rejoining",
        ]
    )
    await expect(items.first).to_be_focused()
    await ada.keyboard.press("End")
    await expect(items.last).to_be_focused()
    await ada.keyboard.press("Escape")
    await expect(ada.get_by_role("menu", name="Actions for Bea")).to_have_count(0)
    await expect(trigger).to_be_focused()
    await ada.keyboard.press("Enter")
    await expect(items.first).to_be_focused()
    await ada.keyboard.press("ArrowDown")
    await ada.keyboard.press("ArrowDown")
    await expect(items.nth(2)).to_have_text("Make moderator")
    await expect(items.nth(2)).to_be_focused()
    await ada.keyboard.press("Enter")
    await expect(user_row(ada, "Bea")).to_contain_text("Moderator")
    await expect(user_row(bea, "Bea (you)")).to_contain_text("Moderator")
    await open_user_menu(ada, "Bea")
    await ada.get_by_role("menuitem", name="Make presenter").click()
    await expect(user_row(bea, "Bea (you)")).to_contain_text("Presenter")
    await expect(user_row(ada, "Ada (you)")).not_to_contain_text("Presenter")
    # A viewer's menu on someone else holds only the private chat.
    await open_user_menu(caio, "Ada")
    await expect(caio.get_by_role("menu").get_by_role("menuitem")).to_have_text(
        ["Start a private chat"]
    )


async def test_lock_viewers_dialog_locks_the_public_chat(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(bea.locator("#chat-text")).to_be_enabled()
    # The moderators' menu, by keyboard.
    await ada.focus("#manage-users")
    await ada.keyboard.press("Enter")
    menu = ada.get_by_role("menu", name="Manage participants")
    await expect(menu.get_by_role("menuitem")).to_have_text(
        ["Lock viewers…", "Clear all statuses", "Guest policy…", "Save participants' names"]
    )
    await ada.keyboard.press("Enter")
    dialog = ada.locator("#lock-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("heading")).to_have_text("Lock viewers")
    # Escape leaves without changing anything.
    await dialog.get_by_role("switch", name="Public chat").check()
    await ada.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await ada.click("#manage-users")
    await ada.get_by_role("menuitem", name="Lock viewers…").click()
    await expect(dialog.get_by_role("switch", name="Public chat")).not_to_be_checked()
    await dialog.get_by_role("switch", name="Public chat").check()
    await dialog.get_by_role("button", name="Apply").click()
    await expect(dialog).to_be_hidden()
    await expect(bea.locator("#chat-text")).to_be_disabled()
    await expect(bea.locator("#chat-form")).to_contain_text("A moderator locked the public chat.")
    await expect(ada.locator("#chat-text")).to_be_enabled()  # moderators are never locked
    await ada.click("#manage-users")
    await ada.get_by_role("menuitem", name="Lock viewers…").click()
    await expect(dialog.get_by_role("switch", name="Public chat")).to_be_checked()
    await dialog.get_by_role("switch", name="Public chat").uncheck()
    await dialog.get_by_role("button", name="Apply").click()
    await expect(bea.locator("#chat-text")).to_be_enabled()


async def test_waiting_room_allows_and_denies(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala, guestPolicy="ASK_MODERATOR")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await expect(ada.locator("#user-list")).to_contain_text("Ada")
    await expect(ada.locator("#lobby")).to_have_count(0)
    gil = await open_as(browser, sala, meeting_id, "Gil", guest="true")
    hal = await open_as(browser, sala, meeting_id, "Hal", guest="true")
    ivo = await open_as(browser, sala, meeting_id, "Ivo", guest="true")
    await expect(ada.locator("#lobby-list li")).to_have_count(3)
    await ada.get_by_role("button", name="Deny Hal").click()
    await expect(hal.locator("#notice-text")).to_have_text(
        "A moderator did not let you into this meeting."
    )
    await ada.get_by_role("button", name="Allow Gil").click()
    await expect(gil.locator("#user-list")).to_contain_text("Ada")
    await expect(ada.locator("#lobby-list li")).to_have_text(["Ivo"])
    await ada.click("#allow-all")
    await expect(ivo.locator("#user-list")).to_contain_text("Gil")
    await expect(ada.locator("#lobby")).to_have_count(0)
    await expect(user_row(ada, "Ivo")).to_contain_text("Guest")
    await expect(ada.locator("#user-count")).to_have_text("3")
    joe = await open_as(browser, sala, meeting_id, "Joe", guest="true")
    await expect(ada.locator("#lobby-list li")).to_have_text(["Joe"])
    await ada.click("#deny-all")
    await expect(joe.locator("#notice-text")).to_have_text(
        "A moderator did not let you into this meeting."
    )


async def test_reactions_popover_by_mouse_and_keyboard(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await bea.click("#reactions")
    popover = bea.get_by_role("group", name="Reactions")
    await expect(popover.locator("button.reaction[data-emoji]:not([data-emoji=''])")).to_have_count(
        8
    )
    await expect(popover.locator("img").first).to_have_attribute(
        "src", "/room/static/app/emoji/1f44d.svg"
    )
    await popover.get_by_role("button", name="🎉").click()
    await expect(popover).to_have_count(0)
    await expect(user_row(ada, "Bea").get_by_role("img", name="Reaction 🎉")).to_be_visible()
    # Twemoji's picture is drawn (the file is served, not a broken image).
    drawn = user_row(ada, "Bea").locator("img.emoji")
    await expect(drawn).to_have_attribute("alt", "")
    assert await drawn.evaluate("img => img.complete && img.naturalWidth > 0")
    # Keyboard: the chosen one has focus, arrows move, Enter picks, Escape closes.
    await bea.focus("#reactions")
    await bea.keyboard.press("Enter")
    await expect(popover.get_by_role("button", name="🎉")).to_be_focused()
    await expect(popover.get_by_role("button", name="🎉")).to_have_attribute("aria-pressed", "true")
    await bea.keyboard.press("Home")
    await bea.keyboard.press("ArrowRight")
    await expect(popover.get_by_role("button", name="👏")).to_be_focused()
    await bea.keyboard.press("Enter")
    await expect(user_row(ada, "Bea").get_by_role("img", name="Reaction 👏")).to_be_visible()
    await expect(bea.locator("#reactions")).to_be_focused()
    await bea.keyboard.press("Enter")
    await expect(popover).to_be_visible()
    await bea.keyboard.press("Escape")
    await expect(popover).to_have_count(0)
    await expect(bea.locator("#reactions")).to_be_focused()
    # Choosing the same one again takes it back.
    await bea.click("#reactions")
    await popover.get_by_role("button", name="👏").click()
    await expect(user_row(ada, "Bea").get_by_role("img", name="Reaction 👏")).to_have_count(0)
    # Away, and back.
    await bea.click("#away")
    await expect(user_row(ada, "Bea")).to_contain_text("Away")
    await expect(bea.locator("#away")).to_have_attribute("aria-label", "I'm back")
    await bea.click("#away")
    await expect(user_row(ada, "Bea")).not_to_contain_text("Away")


async def test_moderator_saves_the_names(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    await open_as(browser, sala, meeting_id, "Bea Çelik")
    await expect(ada.locator("#user-count")).to_have_text("2")
    await ada.click("#manage-users")
    async with ada.expect_download() as info:
        await ada.get_by_role("menuitem", name="Save participants' names").click()
    download = await info.value
    assert download.suggested_filename.startswith("participants-")
    assert download.suggested_filename.endswith(".txt")
    text = (await download.path()).read_text(encoding="utf-8")
    assert "Aula de Física" in text
    assert "Ada\tModerator" in text
    assert "Bea Çelik\tViewer" in text


async def test_clear_all_statuses_for_everyone(browser: Browser, sala: LiveServer) -> None:
    ada, bea, caio = await ada_bea_caio(browser, sala, new_meeting(sala))
    await bea.click("#hand")
    await bea.click("#reactions")
    await bea.get_by_role("group", name="Reactions").get_by_role("button", name="🎉").click()
    await caio.click("#hand")
    # Caio sets himself away from his own row, as from the action bar.
    await open_user_menu(caio, "Caio")
    await caio.get_by_role("menuitem", name="Set yourself away").click()
    await expect(caio.locator("#away")).to_have_attribute("aria-pressed", "true")
    await expect(user_row(ada, "Caio")).to_contain_text("Away")
    await expect(user_row(ada, "Bea").get_by_role("img", name="Reaction 🎉")).to_be_visible()
    await expect(user_row(caio, "Bea").get_by_role("img", name="Hand raised")).to_be_visible()
    # "Lower all hands" is offered while hands are up; "Clear all statuses" clears everything.
    await ada.click("#manage-users")
    menu = ada.get_by_role("menu", name="Manage participants")
    await expect(menu.get_by_role("menuitem", name="Lower all hands")).to_be_visible()
    await menu.get_by_role("menuitem", name="Clear all statuses").click()
    for page in (ada, bea, caio):
        await expect(page.locator("#user-list [role=img][aria-label='Hand raised']")).to_have_count(
            0
        )
        await expect(page.locator("#user-list [role=img][aria-label^='Reaction']")).to_have_count(0)
        await expect(page.locator("#user-list")).not_to_contain_text("Away")
    await expect(bea.locator("#hand")).to_have_attribute("aria-pressed", "false")
    await expect(caio.locator("#away")).to_have_attribute("aria-pressed", "false")
    await ada.click("#manage-users")
    await expect(menu.get_by_role("menuitem", name="Lower all hands")).to_have_count(0)
    await ada.keyboard.press("Escape")
    # Back from away, from the own row too.
    await open_user_menu(caio, "Caio")
    await caio.get_by_role("menuitem", name="Set yourself away").click()
    await expect(user_row(ada, "Caio")).to_contain_text("Away")
    await open_user_menu(caio, "Caio")
    await caio.get_by_role("menuitem", name="I'm back").click()
    await expect(user_row(ada, "Caio")).not_to_contain_text("Away")


async def test_a_reaction_goes_away_after_a_minute(browser: Browser, sala: LiveServer) -> None:
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    context = await browser.new_context(locale="en-US")
    bea = await context.new_page()
    await bea.clock.install()
    await bea.goto(
        signed(sala, "join", {"meetingID": meeting_id, "fullName": "Bea", "role": "VIEWER"})
    )
    await expect(bea.locator("#user-list")).to_contain_text("Ada")
    await bea.click("#reactions")
    await bea.get_by_role("group", name="Reactions").get_by_role("button", name="👍").click()
    await expect(user_row(ada, "Bea").get_by_role("img", name="Reaction 👍")).to_be_visible()
    await bea.clock.run_for(55_000)
    await expect(user_row(ada, "Bea").get_by_role("img", name="Reaction 👍")).to_be_visible()
    await bea.clock.run_for(6_000)
    await expect(user_row(ada, "Bea").get_by_role("img", name="Reaction 👍")).to_have_count(0)
    await expect(bea.locator("#reactions")).not_to_have_class(re.compile("has-reaction"))


async def test_guest_policy_switch_lets_the_waiting_guest_in(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala, guestPolicy="ASK_MODERATOR")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    cid = await open_as(browser, sala, meeting_id, "Cid", "MODERATOR")
    await expect(ada.locator("#user-list")).to_contain_text("Cid")
    gil = await open_as(browser, sala, meeting_id, "Gil", guest="true")
    await expect(ada.locator("#lobby-list li")).to_have_text(["Gil"])
    await ada.click("#manage-users")
    await ada.get_by_role("menuitem", name="Guest policy…").click()
    dialog = ada.locator("#guest-policy-dialog")
    await expect(dialog.get_by_role("button", name="Ask moderator")).to_have_attribute(
        "aria-pressed", "true"
    )
    await dialog.get_by_role("button", name="Always accept").click()
    await expect(dialog).to_be_hidden()
    await expect(gil.locator("#user-list")).to_contain_text("Ada")
    await expect(ada.locator("#lobby")).to_have_count(0)
    # The other moderator is told, and sees the new policy.
    await expect(cid.locator(".toasts")).to_contain_text(
        "Ada set the guest policy to “Always accept”."
    )
    await cid.click("#manage-users")
    await cid.get_by_role("menuitem", name="Guest policy…").click()
    await expect(
        cid.locator("#guest-policy-dialog").get_by_role("button", name="Always accept")
    ).to_have_attribute("aria-pressed", "true")
    await cid.keyboard.press("Escape")
    # The next guest comes straight in; with Always deny, the one after is turned away.
    hal = await open_as(browser, sala, meeting_id, "Hal", guest="true")
    await expect(hal.locator("#user-list")).to_contain_text("Ada")
    await ada.click("#manage-users")
    await ada.get_by_role("menuitem", name="Guest policy…").click()
    await dialog.get_by_role("button", name="Always deny").click()
    await expect(cid.locator(".toasts")).to_contain_text("“Always deny”")
    ivo = await open_as(browser, sala, meeting_id, "Ivo", guest="true")
    await expect(ivo.locator("body")).not_to_contain_text("Participants")
    await expect(ada.locator("#lobby")).to_have_count(0)


async def test_avatar_initials_contrast(browser: Browser, sala: LiveServer) -> None:
    """White initials reach 4.5:1 on every generated colour (axe flagged some hues before)."""
    meeting_id = new_meeting(sala)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    for name in ("Bea", "Caio", "Dora", "Edu"):
        await open_as(browser, sala, meeting_id, name)
    await expect(ada.locator("#user-list .avatar[data-initials]")).to_have_count(5)
    ratios = await ada.evaluate(CONTRASTS)
    assert ratios and min(ratios) >= 4.5, ratios


CONTRASTS = r"""() => {
  const lum = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const ratios = [...document.querySelectorAll(".avatar[data-initials]")].map((a) => {
    const [r, g, b] = getComputedStyle(a).backgroundColor.match(/\d+/g).map(Number);
    const l = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b);
    return 1.05 / (l + 0.05);
  });
  return ratios;
}"""

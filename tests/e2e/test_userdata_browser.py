"""join's userdata added in BBB 3.0, as a participant sees it in Chromium: the presentation
minimised on join, the initial layout, and custom styles that change the look and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import new_meeting, open_as, signed
from tests.support.static_server import StaticServer


async def entered(page: Page) -> Page:
    """The room is shown, with the meeting's default presentation on the stage."""
    await expect(page.locator("#room")).to_be_visible(timeout=15_000)
    await expect(page.locator("#slide")).to_have_attribute("data-page", "1", timeout=15_000)
    return page


async def join(
    browser: Browser, sala: LiveServer, meeting_id: str, name: str, **userdata: str
) -> Page:
    extra = {f"userdata-{k}": v for k, v in userdata.items()}
    return await entered(await open_as(browser, sala, meeting_id, name, "VIEWER", **extra))


async def test_the_presentation_starts_minimised_and_can_be_restored(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala, "Userdata", "userdata")
    ada = await entered(await open_as(browser, sala, meeting_id, "Ada", "MODERATOR"))
    bea = await join(browser, sala, meeting_id, "Bea", bbb_hide_presentation_on_join="true")
    await expect(bea.locator("#slide")).to_be_hidden()
    await expect(ada.locator("#slide")).to_be_visible()  # only Bea asked for it
    await bea.get_by_role("button", name="Show presentation").click()
    await expect(bea.locator("#slide")).to_be_visible()
    await bea.get_by_role("button", name="Hide presentation").click()
    await expect(bea.locator("#slide")).to_be_hidden()
    await expect(bea.get_by_role("button", name="Show presentation")).to_be_visible()


async def slide_above_webcams(page: Page) -> bool:
    """Whether the presentation is above the webcams' place (the dock, empty here: nobody
    shares a webcam, so it has no size and is measured by the page itself)."""
    await expect(page.locator("#presentation")).to_be_visible()
    above: bool = await page.evaluate(
        """() => {
            const slide = document.querySelector("#presentation").getBoundingClientRect();
            const webcams = document.querySelector("#videos").getBoundingClientRect();
            return slide.y < webcams.y;
        }"""
    )
    return above


async def test_the_default_layout_comes_from_userdata_or_the_meeting(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala, "Userdata", "userdata")
    smart = await join(browser, sala, meeting_id, "Ana", bbb_default_layout="SMART_LAYOUT")
    assert not await slide_above_webcams(smart)  # webcams on top of the stage, as before
    focus = await join(browser, sala, meeting_id, "Bia", bbb_default_layout="PRESENTATION_FOCUS")
    assert await slide_above_webcams(focus)
    videos = await join(browser, sala, meeting_id, "Cai", bbb_default_layout="VIDEO_FOCUS")
    await expect(videos.get_by_role("button", name="Show presentation")).to_be_visible()
    await expect(videos.locator("#slide")).to_be_hidden()

    # Without the userdata, the meeting's layout (create's meetingLayout) is the start.
    by_meeting = new_meeting(sala, "Userdata", "userdata", meetingLayout="VIDEO_FOCUS")
    dan = await entered(await open_as(browser, sala, by_meeting, "Dan", "MODERATOR"))
    await expect(dan.get_by_role("button", name="Show presentation")).to_be_visible()
    eva = await join(browser, sala, by_meeting, "Eva", bbb_default_layout="CUSTOM_LAYOUT")
    await expect(eva.locator("#slide")).to_be_visible()


async def watched(
    browser: Browser, sala: LiveServer, meeting_id: str, name: str, **userdata: str
) -> tuple[Page, list[str]]:
    """A participant's page, and every request it makes to an https URL or to a path marked
    "leak" (answered by nobody: the tests talk only to loopback)."""
    context = await browser.new_context(locale="en-US")
    leaks: list[str] = []

    async def stop(route: Route) -> None:
        leaks.append(route.request.url)
        await route.abort()

    await context.route(lambda url: url.startswith("https:") or "leak" in urlsplit(url).path, stop)
    page = await context.new_page()
    extra = {f"userdata-{k}": v for k, v in userdata.items()}
    await page.goto(
        signed(sala, "join", {"meetingID": meeting_id, "fullName": name, "role": "VIEWER", **extra})
    )
    return await entered(page), leaks


@pytest.fixture
def styles() -> Iterator[StaticServer]:
    server = StaticServer(
        {
            "/theme.css": (
                "text/css",
                b"#meeting-name { color: rgb(7, 8, 9) }\n"
                b"#user-count { color: rgb(7, 8, 9) }\n"
                b"body { background-image: url(https://leak.invalid/theme) }",
            )
        }
    ).start()
    yield server
    server.stop()


async def test_a_custom_style_changes_the_look(
    browser: Browser, sala: LiveServer, styles: StaticServer
) -> None:
    meeting_id = new_meeting(sala, "Userdata", "userdata")
    plain = await join(browser, sala, meeting_id, "Ana")
    styled = await join(
        browser, sala, meeting_id, "Bia", bbb_custom_style="#meeting-name { color: rgb(1, 2, 3) }"
    )
    await expect(styled.locator("#meeting-name")).to_have_css("color", "rgb(1, 2, 3)")
    await expect(plain.locator("#meeting-name")).not_to_have_css("color", "rgb(1, 2, 3)")

    # From a URL (fetched by sala, not the browser), with the inline style winning where both
    # say something, as in BBB.
    both, leaks = await watched(
        browser,
        sala,
        meeting_id,
        "Cai",
        bbb_custom_style_url=styles.url("/theme.css"),
        bbb_custom_style="#meeting-name { color: rgb(1, 2, 3) }",
    )
    await expect(both.locator("#user-count")).to_have_css("color", "rgb(7, 8, 9)")
    await expect(both.locator("#meeting-name")).to_have_css("color", "rgb(1, 2, 3)")
    await both.reload()
    await entered(both)
    await expect(both.locator("#user-count")).to_have_css("color", "rgb(7, 8, 9)")
    assert leaks == []
    assert styles.asked == ["/theme.css"]  # by sala, once


HARMFUL = (
    "@import url(http://127.0.0.1:9/leak-import.css);\n"
    "@import 'https://leak.invalid/import.css';\n"
    "#meeting-name { background-image: url(https://leak.invalid/name) }\n"
    ".topbar { background-image: image-set('https://leak.invalid/set.png' 1x) }\n"
    ".users { background-image: url(/room/static/leak-relative.png) }\n"
    "#meeting-name { color: rgb(4, 5, 6) }\n"
    "</style><script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'>"
)


async def test_a_harmful_custom_style_does_nothing_harmful(
    browser: Browser, sala: LiveServer
) -> None:
    meeting_id = new_meeting(sala, "Userdata", "userdata")
    page, leaks = await watched(browser, sala, meeting_id, "Bia", bbb_custom_style=HARMFUL)
    # The harmless part applies; nothing was fetched, nothing ran, the room works.
    await expect(page.locator("#meeting-name")).to_have_css("color", "rgb(4, 5, 6)")
    await page.fill("#chat-text", "still here")
    await page.press("#chat-text", "Enter")
    await expect(page.locator("#chat-log")).to_contain_text("still here")
    assert await page.evaluate("window.pwned") is None
    assert await page.locator("img[src=x], body script").count() == 0
    assert leaks == []

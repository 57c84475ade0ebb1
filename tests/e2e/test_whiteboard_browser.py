"""The whiteboard in Chromium: the presenter's tools (a pen stroke, shapes, text typed on the
slide, undo, the eraser, the highlighter and arrow) as a second user sees them, the keyboard's tool keys, and the
multi-user whiteboard where viewers draw and erase only their own."""

from __future__ import annotations

import base64
import uuid

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import draw_stroke, open_as, post_create
from tests.presentations import documents


async def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag across the slide between two points given in fractions of it."""
    box = await page.locator("#annotations").bounding_box()
    assert box is not None
    at = lambda p: (box["x"] + box["width"] * p[0], box["y"] + box["height"] * p[1])  # noqa: E731
    await page.mouse.move(*at(start))
    await page.mouse.down()
    await page.mouse.move(*at(end), steps=6)
    await page.mouse.up()


async def click_at(page: Page, point: tuple[float, float]) -> None:
    box = await page.locator("#annotations").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] * point[0], box["y"] + box["height"] * point[1])


async def meeting(sala: LiveServer, browser: Browser) -> tuple[Page, Page]:
    meeting_id = f"board-{uuid.uuid4()}"
    pdf = base64.b64encode(documents.pdf(2)).decode()
    post_create(
        sala,
        meeting_id,
        '<modules><module name="presentation">'
        f'<document filename="board.pdf">{pdf}</document></module></modules>',
    )
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    for page in (ada, bea):
        await expect(page.locator("#slide")).to_have_attribute(
            "alt", "board.pdf, page 1 of 2", timeout=15_000
        )
    return ada, bea


async def test_the_presenters_tools_as_another_user_sees_them(
    sala: LiveServer, browser: Browser
) -> None:
    ada, bea = await meeting(sala, browser)
    seen = bea.locator("#annotations")
    await expect(bea.locator("#draw-tools")).to_have_count(0)

    # A pen stroke, smoothed: many points, in the chosen colour.
    await draw_stroke(ada)
    await expect(seen.locator("polyline")).to_have_count(1)
    assert len((await seen.locator("polyline").get_attribute("points") or "").split()) >= 3

    # A blue, thick rectangle; an ellipse chosen with the keyboard's tool key; a line.
    await ada.click("#draw-style")
    await ada.click('[data-color="#2563eb"]')
    await ada.click('[data-width="0.008"]')
    await ada.keyboard.press("Escape")
    await ada.click('[data-tool="rect"]')
    await expect(ada.locator('[data-tool="rect"]')).to_have_attribute("aria-pressed", "true")
    await drag(ada, (0.5, 0.2), (0.8, 0.5))
    rect = seen.locator("rect")
    await expect(rect).to_have_count(1)
    await expect(rect).to_have_attribute("stroke", "#2563eb")
    await expect(rect).to_have_attribute("stroke-width", "0.008")
    await ada.locator(".pres-body").focus()
    await ada.keyboard.press("o")
    await expect(ada.locator('[data-tool="ellipse"]')).to_have_attribute("aria-pressed", "true")
    await drag(ada, (0.1, 0.6), (0.3, 0.9))
    await expect(seen.locator("ellipse")).to_have_count(1)
    await ada.click('[data-tool="line"]')
    await drag(ada, (0.4, 0.7), (0.9, 0.9))
    await expect(seen.locator("line")).to_have_count(1)

    # Text typed in place on the slide (no prompt), on two lines.
    await ada.click('[data-tool="text"]')
    await click_at(ada, (0.1, 0.3))
    editor = ada.locator("#whiteboard-text")
    await expect(editor).to_be_focused()
    await editor.type("Limits")
    await ada.keyboard.press("Shift+Enter")
    await editor.type("and series")
    await ada.keyboard.press("Enter")
    await expect(editor).to_have_count(0)
    await expect(seen.locator("text tspan")).to_have_text(["Limits", "and series"])
    # Escape abandons a text.
    await click_at(ada, (0.6, 0.1))
    await ada.locator("#whiteboard-text").type("nothing")
    await ada.keyboard.press("Escape")
    await expect(ada.locator("#whiteboard-text")).to_have_count(0)
    await expect(seen.locator("text")).to_have_count(1)

    # Undo takes back the last (the text), Ctrl+Z the one before (the line).
    await ada.click("#draw-undo")
    await expect(seen.locator("text")).to_have_count(0)
    await ada.locator(".pres-body").focus()
    await ada.keyboard.press("Control+z")
    await expect(seen.locator("line")).to_have_count(0)

    # The eraser swept across the stroke removes it, and nothing else.
    await ada.click('[data-tool="eraser"]')
    await drag(ada, (0.45, 0.3), (0.45, 0.7))
    await expect(seen.locator("polyline")).to_have_count(0)
    await expect(seen.locator("rect")).to_have_count(1)
    await expect(seen.locator("ellipse")).to_have_count(1)

    # Clear page: the rest goes; the next page is blank, and what is drawn there stays there.
    await ada.click("#draw-clear")
    await expect(seen.locator("*")).to_have_count(0)
    await ada.click('[data-tool="pen"]')
    await ada.click("#next-page")
    await expect(bea.locator("#slide")).to_have_attribute("data-page", "2")
    await draw_stroke(ada)
    await expect(seen.locator("polyline")).to_have_count(1)
    await ada.click("#prev-page")
    await expect(bea.locator("#slide")).to_have_attribute("data-page", "1")
    await expect(seen.locator("polyline")).to_have_count(0)

    # Protocol v2's shapes the server takes: a highlighter (a translucent, wider pen) and an arrow.
    await ada.click('[data-tool="highlighter"]')
    await draw_stroke(ada)
    marker = seen.locator("polyline")
    await expect(marker).to_have_count(1)
    await expect(marker).to_have_attribute("stroke-opacity", "0.4")
    assert float(await marker.get_attribute("stroke-width") or 0) > 0.008
    await ada.locator(".pres-body").focus()
    await ada.keyboard.press("a")
    await expect(ada.locator('[data-tool="arrow"]')).to_have_attribute("aria-pressed", "true")
    await drag(ada, (0.2, 0.8), (0.6, 0.7))
    await expect(seen.locator("path.arrow")).to_have_count(1)


async def test_multi_user_whiteboard(sala: LiveServer, browser: Browser) -> None:
    ada, bea = await meeting(sala, browser)
    await draw_stroke(ada)
    await expect(bea.locator("#annotations polyline")).to_have_count(1)

    await ada.click("#multi-user")
    await expect(ada.locator("#multi-user")).to_have_attribute("aria-pressed", "true")
    await expect(bea.locator("#draw-tools")).to_be_visible()
    # Viewers have no pan tool nor the multi-user switch.
    await expect(bea.locator("#pan-tool")).to_have_count(0)
    await expect(bea.locator("#multi-user")).to_have_count(0)

    await bea.click('[data-tool="rect"]')
    await drag(bea, (0.6, 0.6), (0.9, 0.9))
    await expect(ada.locator("#annotations rect")).to_have_count(1)
    # Bea's eraser passes over Ada's stroke without erasing it, and erases her own rectangle.
    await bea.click('[data-tool="eraser"]')
    await drag(bea, (0.45, 0.3), (0.45, 0.7))
    await drag(bea, (0.75, 0.5), (0.75, 0.7))
    await expect(ada.locator("#annotations rect")).to_have_count(0)
    await expect(ada.locator("#annotations polyline")).to_have_count(1)

    await ada.click("#multi-user")
    await expect(bea.locator("#draw-tools")).to_have_count(0)

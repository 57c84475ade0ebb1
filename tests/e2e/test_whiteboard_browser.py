"""The whiteboard in Chromium: the presenter's tools (a pen stroke, shapes, text typed on the
slide, undo, the eraser, the highlighter and arrow) as a second user sees them, the keyboard's tool keys, and the
multi-user whiteboard where viewers draw and erase only their own; the presenter's pointer and
everybody's cursors (and the hideViewersCursor lock); the select tool (move, resize, nudge,
Delete) and sticky notes, as another user sees them."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import deck_meeting, draw_stroke, open_as


async def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag across the slide between two points given in fractions of it."""
    box = await page.locator("#annotations").bounding_box()
    assert box is not None

    def at(p: tuple[float, float]) -> tuple[float, float]:
        return box["x"] + box["width"] * p[0], box["y"] + box["height"] * p[1]

    await page.mouse.move(*at(start))
    await page.mouse.down()
    await page.mouse.move(*at(end), steps=6)
    await page.mouse.up()


async def click_at(page: Page, point: tuple[float, float]) -> None:
    box = await page.locator("#annotations").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] * point[0], box["y"] + box["height"] * point[1])


async def hover(page: Page, point: tuple[float, float]) -> None:
    box = await page.locator("#annotations").bounding_box()
    assert box is not None
    await page.mouse.move(
        box["x"] + box["width"] * point[0], box["y"] + box["height"] * point[1], steps=3
    )


async def geometry(page: Page, selector: str) -> list[float]:
    """x, y, width and height of an SVG rect the page shows, in fractions of the slide."""
    element = page.locator(f"#annotations {selector}")
    return [
        float(await element.get_attribute(name) or "nan") for name in ("x", "y", "width", "height")
    ]


async def expect_geometry(
    page: Page, selector: str, wanted: list[float], within: float = 0.012
) -> None:
    """Waits (up to 5 s) for the rect to have this geometry, give or take `within`."""
    got: list[float] = []
    for _ in range(50):
        got = await geometry(page, selector)
        if all(abs(a - b) <= within for a, b in zip(got, wanted, strict=True)):
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"{selector}: {got}, wanted {wanted}")


async def meeting(sala: LiveServer, browser: Browser, *others: str) -> list[Page]:
    """Ada (moderator and presenter), Bea and the others (viewers) on the slide."""
    meeting_id = deck_meeting(sala, "board", 2, "board.pdf", downloadable=False)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    pages = [ada, await open_as(browser, sala, meeting_id, "Bea")]
    for name in others:
        pages.append(await open_as(browser, sala, meeting_id, name))
    for page in pages:
        await expect(page.locator("#slide")).to_have_attribute(
            "alt", "board.pdf, page 1 of 2", timeout=15_000
        )
    return pages


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


async def test_the_presenters_pointer(sala: LiveServer, browser: Browser) -> None:
    ada, bea = await meeting(sala, browser)
    pointer = bea.locator(".wb-pointer")
    await expect(pointer).to_have_count(0)
    # With any tool: the presenter's laser dot and name follow her over the slide.
    await hover(ada, (0.3, 0.4))
    await expect(pointer).to_have_count(1)
    await expect(pointer).to_have_class("wb-pointer laser ")
    await expect(pointer).to_contain_text("Ada")
    await expect(pointer).to_have_attribute("data-x", "0.3", timeout=5_000)
    await hover(ada, (0.7, 0.6))
    await expect(pointer).to_have_attribute("data-x", "0.7")
    await expect(pointer).to_have_attribute("data-y", "0.6")
    await bea.wait_for_timeout(200)  # its short glide to the new place
    frame = await bea.locator("#slide-frame").bounding_box()
    dot = await pointer.locator(".wb-pointer-dot").bounding_box()
    assert frame is not None and dot is not None
    assert abs(dot["x"] + dot["width"] / 2 - (frame["x"] + frame["width"] * 0.7)) < 3
    # Zoomed in, it stays on the same point of the slide.
    await ada.click("#zoom-in")
    await expect(bea.locator("#slide-view")).not_to_have_attribute("data-view", "0,0,1,1")
    await ada.wait_for_timeout(300)  # the view's short transition
    await hover(ada, (0.45, 0.55))
    await expect(pointer).not_to_have_attribute("data-x", "0.7")
    await bea.wait_for_timeout(300)
    view = [
        float(v)
        for v in (await bea.locator("#slide-view").get_attribute("data-view") or "").split(",")
    ]
    x = float(await pointer.get_attribute("data-x") or "nan")
    dot = await pointer.locator(".wb-pointer-dot").bounding_box()
    assert dot is not None
    shown = frame["x"] + frame["width"] * (x - view[0]) / view[2]
    assert abs(dot["x"] + dot["width"] / 2 - shown) < 3
    # The pointer tool (K) shows the dot on the presenter's own page too.
    await ada.locator(".pres-body").focus()
    await ada.keyboard.press("k")
    await expect(ada.locator('[data-tool="pointer"]')).to_have_attribute("aria-pressed", "true")
    await hover(ada, (0.4, 0.4))
    await expect(ada.locator(".wb-pointer.own")).to_have_count(1)
    # Off the slide, it goes.
    await ada.mouse.move(2, 2)
    await expect(pointer).to_have_count(0)
    await expect(ada.locator(".wb-pointer.own")).to_have_count(0)


async def test_cursors_with_the_multi_user_whiteboard(sala: LiveServer, browser: Browser) -> None:
    ada, bea, cid = await meeting(sala, browser, "Cid")
    await ada.click("#multi-user")
    await expect(bea.locator("#draw-tools")).to_be_visible()
    await hover(bea, (0.25, 0.75))
    for page in (ada, cid):
        cursor = page.locator(".wb-pointer.cursor")
        await expect(cursor).to_have_count(1)
        await expect(cursor).to_contain_text("Bea")
        await expect(cursor).to_have_attribute("data-y", "0.75", timeout=5_000)
    await bea.mouse.move(2, 2)
    await expect(ada.locator(".wb-pointer")).to_have_count(0)
    await expect(cid.locator(".wb-pointer")).to_have_count(0)

    # The moderator hides viewers' cursors from other viewers: the moderator still sees them.
    await ada.click("#manage-users")
    await ada.get_by_role("menuitem", name="Lock viewers…").click()
    dialog = ada.locator("#lock-dialog")
    await dialog.get_by_role("switch", name="See other viewers' cursors").check()
    await dialog.get_by_role("button", name="Apply").click()
    await expect(dialog).to_be_hidden()
    await hover(bea, (0.5, 0.5))
    await expect(ada.locator(".wb-pointer.cursor")).to_contain_text("Bea")
    await expect(ada.locator(".wb-pointer.cursor")).to_have_attribute(
        "data-x", "0.5", timeout=5_000
    )
    await cid.wait_for_timeout(300)
    await expect(cid.locator(".wb-pointer")).to_have_count(0)
    # The presenter's pointer still reaches everybody.
    await hover(ada, (0.1, 0.1))
    await expect(cid.locator(".wb-pointer.laser")).to_contain_text("Ada")


async def test_select_move_resize_nudge_and_delete(sala: LiveServer, browser: Browser) -> None:
    ada, bea = await meeting(sala, browser)
    await ada.click('[data-tool="rect"]')
    await drag(ada, (0.2, 0.2), (0.4, 0.4))
    await expect(bea.locator("#annotations rect")).to_have_count(1)
    await expect_geometry(bea, "rect", [0.2, 0.2, 0.2, 0.2])

    # V, then a click on its edge selects it: a frame with four grips; a drag moves it.
    await ada.locator(".pres-body").focus()
    await ada.keyboard.press("v")
    await expect(ada.locator('[data-tool="select"]')).to_have_attribute("aria-pressed", "true")
    await drag(ada, (0.2, 0.3), (0.3, 0.4))
    await expect(ada.locator("#annotations .wb-grip")).to_have_count(4)
    await expect_geometry(bea, "rect", [0.3, 0.3, 0.2, 0.2])
    # The bottom-right grip resizes it; the top-left corner stays.
    await drag(ada, (0.5, 0.5), (0.6, 0.7))
    await expect_geometry(bea, "rect", [0.3, 0.3, 0.3, 0.4])
    await expect(bea.locator("#annotations .wb-grip")).to_have_count(0)
    # Arrow keys nudge it (1% of the slide), Shift further.
    await ada.keyboard.press("ArrowRight")
    await ada.keyboard.press("Shift+ArrowDown")
    await expect_geometry(bea, "rect", [0.31, 0.35, 0.3, 0.4], within=0.003)
    # A click on nothing lets go; ] chooses it again by keyboard; Delete removes it.
    await click_at(ada, (0.9, 0.1))
    await expect(ada.locator("#annotations .wb-grip")).to_have_count(0)
    await ada.keyboard.press("]")
    await expect(ada.locator("#annotations .wb-grip")).to_have_count(4)
    await ada.keyboard.press("Delete")
    await expect(bea.locator("#annotations rect")).to_have_count(0)
    await expect(ada.locator("#annotations *")).to_have_count(0)


async def test_a_sticky_note(sala: LiveServer, browser: Browser) -> None:
    ada, bea = await meeting(sala, browser)
    await ada.locator(".pres-body").focus()
    await ada.keyboard.press("n")
    await expect(ada.locator('[data-tool="note"]')).to_have_attribute("aria-pressed", "true")
    # Yellow unless another paper is chosen.
    await ada.click("#draw-style")
    await expect(ada.locator('[data-note-color="#fef08a"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    await ada.click('[data-note-color="#fbcfe8"]')
    await ada.keyboard.press("Escape")
    await click_at(ada, (0.1, 0.1))
    editor = ada.locator("#whiteboard-text")
    await expect(editor).to_be_focused()
    await editor.type("Remember the limits of integration when substituting")
    await ada.keyboard.press("Enter")
    await expect(editor).to_have_count(0)
    note = bea.locator("#annotations g.note")
    await expect(note).to_have_count(1)
    await expect_geometry(bea, "g.note rect", [0.1, 0.1, 0.15, 0.15], within=0.002)
    await expect(note.locator("rect")).to_have_attribute("fill", "#fbcfe8")
    # Wrapped inside the note, in dark text at 2.5% of the slide's height.
    lines = note.locator("tspan")
    assert await lines.count() > 1
    await expect(note).to_contain_text("Remember the")
    assert float(await note.locator("text").get_attribute("font-size") or 0) <= 0.025
    paper = await note.locator("rect").bounding_box()
    words = await note.locator("text").bounding_box()
    assert paper is not None and words is not None
    assert (
        words["x"] >= paper["x"] and words["x"] + words["width"] <= paper["x"] + paper["width"] + 1
    )
    assert words["y"] + words["height"] <= paper["y"] + paper["height"] + 1

    # Retyped with the select tool (double click), as everybody sees.
    await ada.click('[data-tool="select"]')
    box = await ada.locator("#annotations").bounding_box()
    assert box is not None
    await ada.mouse.dblclick(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    await expect(editor).to_be_focused()
    await editor.fill("Limits!")
    await ada.keyboard.press("Enter")
    await expect(note).to_have_text("Limits!")

    # It stays after a reload.
    await bea.reload()
    await expect(bea.locator("#annotations g.note")).to_have_text("Limits!", timeout=15_000)
    await expect(bea.locator("#annotations g.note rect")).to_have_attribute("fill", "#fbcfe8")


async def test_viewers_move_only_their_own(sala: LiveServer, browser: Browser) -> None:
    ada, bea = await meeting(sala, browser)
    await ada.click('[data-tool="rect"]')
    await drag(ada, (0.2, 0.2), (0.4, 0.4))
    await ada.click("#multi-user")
    await expect(bea.locator("#draw-tools")).to_be_visible()
    await expect(bea.locator("#annotations rect")).to_have_count(1)
    await bea.click('[data-tool="rect"]')
    await drag(bea, (0.6, 0.6), (0.8, 0.8))
    await expect(ada.locator("#annotations rect")).to_have_count(2)

    # Bea's select tool does not take Ada's rectangle, and her drag changes nothing.
    await bea.click('[data-tool="select"]')
    await drag(bea, (0.2, 0.3), (0.3, 0.5))
    await expect(bea.locator("#annotations .wb-grip")).to_have_count(0)
    await bea.wait_for_timeout(500)
    await expect_geometry(ada, "rect >> nth=0", [0.2, 0.2, 0.2, 0.2], within=0.002)
    # Her own she moves.
    await drag(bea, (0.6, 0.7), (0.5, 0.6))
    await expect_geometry(ada, "rect >> nth=1", [0.5, 0.5, 0.2, 0.2])
    await expect_geometry(ada, "rect >> nth=0", [0.2, 0.2, 0.2, 0.2], within=0.002)

"""The presentation in Chromium: a PDF sent with `create` is what everybody sees, the presenter
turns pages for everyone, and uploads a new document from the room."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from pathlib import Path

from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import api, deck_meeting, draw_stroke, new_meeting, open_as, post_create
from tests.presentations import documents
from tests.support.receiver import Receiver


async def open_presentations(page: Page) -> None:
    """The presenter's "Manage presentations" dialog, from the "+" menu."""
    await page.click("#actions-menu")
    await page.click('[data-action="presentations"]')
    await expect(page.locator("#presentation-dialog")).to_be_visible()


async def test_pre_uploaded_pdf_pages_and_upload(
    sala: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    meeting_id = deck_meeting(sala, "deck", 3)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    for page in (ada, bea):
        slide = page.locator("#slide")
        await expect(slide).to_have_attribute("alt", "lecture.pdf, page 1 of 3", timeout=15_000)
        # The image really loaded (a broken one has no natural width).
        await expect(slide).to_have_js_property("complete", True)
        assert await slide.evaluate("img => img.naturalWidth") == 1600
    await expect(bea.locator("#presenter-tools")).to_be_hidden()
    await expect(bea.locator("#download")).to_be_visible()

    await ada.click("#next-page")
    await expect(bea.locator("#slide")).to_have_attribute("data-page", "2")
    await expect(bea.locator("#slide")).to_have_attribute(
        "src", f"/room/slides/{await bea.locator('#slide').get_attribute('data-presentation')}/2"
    )

    # Ada draws a stroke on page 2; Bea sees it over the slide.
    await draw_stroke(ada)
    await expect(bea.locator("#annotations polyline")).to_have_count(1)
    points = await bea.locator("#annotations polyline").get_attribute("points")
    assert points is not None and len(points.split()) >= 3
    # Bea saves the slide with the stroke on it as a PNG (BBB's snapshotOfCurrentSlide).
    async with bea.expect_download() as saving:
        await bea.click("#snapshot")
    download = await saving.value
    assert download.suggested_filename == "lecture-2.png"
    with Image.open(await download.path()) as snapshot:
        assert snapshot.size[0] == 1600
        rgb = snapshot.convert("RGB")
        # The pen's red (#e11d48) is only in the stroke: the slide is grey and dark blue.
        pixels = rgb.resize((400, 225)).tobytes()
        reds = sum(
            1
            for i in range(0, len(pixels), 3)
            if pixels[i] > 170 and pixels[i + 1] < 90 and pixels[i + 2] < 130
        )
        assert reds > 20
    await ada.click("#draw-undo")
    await expect(bea.locator("#annotations polyline")).to_have_count(0)
    # Ada zooms in: Bea's view follows.
    await ada.click("#zoom-in")
    await expect(bea.locator("#slide-view")).to_have_attribute("data-view", "0.1,0.1,0.8,0.8")

    upload = tmp_path / "week2.png"
    upload.write_bytes(documents.png())
    await open_presentations(ada)
    await ada.set_input_files("#upload", str(upload))
    await expect(bea.locator("#slide")).to_have_attribute(
        "alt", "week2.png, page 1 of 1", timeout=15_000
    )


async def test_a_poll_in_the_browser(
    sala: LiveServer, browser: Browser, receiver: Receiver
) -> None:
    meeting_id = f"poll-{uuid.uuid4()}"
    post_create(
        sala,
        meeting_id,
        '<modules><module name="presentation"></module></modules>',
        **{"meta_analytics-callback-url": receiver.url("/analytics")},
    )
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea", locale="pt-BR")
    cyd = await open_as(browser, sala, meeting_id, "Cyd")
    await ada.click("#open-polls")
    await ada.fill("#poll-question", "Ready?")
    await ada.click("#poll-form button[type=submit]")
    # Bea's page speaks Portuguese: the preset answers too.
    await expect(bea.locator("#poll-dialog")).to_be_visible()
    await bea.get_by_role("radio", name="Sim").check()
    await bea.click("#poll-dialog button[value=answer]")
    await expect(cyd.locator("#poll-dialog")).to_be_visible()
    await cyd.get_by_role("radio", name="No").check()
    await cyd.click("#poll-dialog button[value=answer]")
    await expect(ada.locator("#poll-live-responses li")).to_have_count(2)
    await ada.click("#poll-publish")
    for page in (bea, cyd):
        await expect(page.locator("#poll-result-counts li")).to_have_count(2)
        await expect(page.locator("#poll-result-counts li").first).to_have_attribute(
            "data-votes", "1"
        )
    # The result is drawn on the slide, in each page's language.
    await expect(bea.locator("#annotations .poll-board text")).to_contain_text(
        ["Ready?", "Sim: 1 (50%)", "Não: 1 (50%)"]
    )
    await expect(cyd.locator("#annotations .poll-board text")).to_contain_text(
        ["Ready?", "Yes: 1 (50%)", "No: 1 (50%)"]
    )

    # The votes reach the analytics callback when the meeting ends.
    assert "SUCCESS" in api(sala, "end", meetingID=meeting_id)
    for _ in range(100):
        if receiver.accepted("/analytics"):
            break
        await asyncio.sleep(0.1)
    [callback] = receiver.accepted("/analytics")
    data = json.loads(callback.body)["data"]
    assert data["polls"][0]["question"] == "Ready?"
    assert data["polls"][0]["votes"] == {"Yes": 1, "No": 1}
    votes = {a["name"]: a["engagement"]["poll_votes"] for a in data["attendees"]}
    assert votes == {"Ada": 0, "Bea": 1, "Cyd": 1}


async def test_upload_dialog_drop_progress_errors_and_the_manager(
    sala: LiveServer, browser: Browser
) -> None:
    meeting_id = deck_meeting(sala, "upload", 2)
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    await expect(bea.locator("#slide")).to_have_attribute(
        "alt", "lecture.pdf, page 1 of 2", timeout=15_000
    )
    # Only the presenter manages presentations.
    if await bea.locator("#actions-menu").count():
        await bea.click("#actions-menu")
        await expect(bea.locator('[data-action="presentations"]')).to_have_count(0)
        await bea.keyboard.press("Escape")

    await open_presentations(ada)
    rows = ada.locator("#presentation-list li")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("lecture.pdf")
    await expect(rows.first).to_contain_text("Current")

    # A long document dropped on the dialog: it converts in runs of ten pages, and both the
    # dialog and everybody's presentation say how far it is.
    long_pdf = base64.b64encode(documents.pdf(40, (1600, 900))).decode()
    dropped = await ada.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "application/pdf" }));
            return transfer;
        }""",
        [long_pdf, "week3.pdf"],
    )
    await ada.dispatch_event(".dropzone", "dragover", {"dataTransfer": dropped})
    await ada.dispatch_event(".dropzone", "drop", {"dataTransfer": dropped})
    # And a broken one chosen with the file picker: its error is shown.
    await ada.set_input_files(
        "#upload",
        files=[
            {
                "name": "broken.pdf",
                "mimeType": "application/pdf",
                "buffer": documents.corrupted_pdf(),
            }
        ],
    )
    uploads = ada.locator("#upload-list li")
    await expect(uploads).to_have_count(2)
    week3 = uploads.filter(has_text="week3.pdf")
    await expect(week3).to_contain_text(re.compile(r"Converting: page \d+ of 40"), timeout=30_000)
    await expect(bea.locator("#presentation-status")).to_contain_text(
        re.compile(r"Preparing week3\.pdf"), timeout=30_000
    )
    await expect(week3).to_have_attribute("data-status", "ready", timeout=60_000)
    await expect(week3).to_contain_text("Ready")
    broken = uploads.filter(has_text="broken.pdf")
    await expect(broken).to_have_attribute("data-status", "failed", timeout=30_000)
    assert (await broken.locator(".upload-state").inner_text()).strip() not in ("", "Ready")
    await expect(bea.locator("#slide")).to_have_attribute(
        "alt", "week3.pdf, page 1 of 40", timeout=15_000
    )

    # The manager: present the first document again, then remove the long one.
    await expect(rows).to_have_count(3)
    await ada.get_by_role("button", name="Present lecture.pdf").click()
    await expect(bea.locator("#slide")).to_have_attribute("alt", "lecture.pdf, page 1 of 2")
    await expect(rows.filter(has_text="lecture.pdf")).to_contain_text("Current")
    await ada.get_by_role("button", name="Remove week3.pdf").click()
    await expect(rows.filter(has_text="week3.pdf")).to_have_count(0)
    await expect(ada.get_by_role("link", name="Download lecture.pdf")).to_be_visible()
    await ada.click('#presentation-dialog button[value="done"]')
    await expect(ada.locator("#presentation-dialog")).to_be_hidden()


async def test_the_polls_panel_custom_anonymous_several_typed(
    sala: LiveServer, browser: Browser
) -> None:
    meeting_id = new_meeting(sala, "Polls", "polls")
    ada = await open_as(browser, sala, meeting_id, "Ada", "MODERATOR")
    bea = await open_as(browser, sala, meeting_id, "Bea")
    cyd = await open_as(browser, sala, meeting_id, "Cyd", locale="es-ES")
    await expect(ada.locator("#open-polls")).to_be_visible(timeout=15_000)
    await expect(bea.locator("#user-list")).to_be_visible(timeout=15_000)
    await expect(bea.locator("#open-polls")).to_have_count(0)

    await ada.click("#open-polls")
    await ada.fill("#poll-question", "Which topics?")
    await ada.get_by_text("Your own options").click()
    options = ada.locator("#poll-options input")
    await expect(options).to_have_count(2)
    await expect(ada.locator("#poll-form button[type=submit]")).to_be_disabled()
    await options.nth(0).fill("Limits")
    await options.nth(1).fill("Derivatives")
    await ada.click("#poll-add-option")
    await options.nth(2).fill("Integrals")
    await ada.check("#poll-anonymous")
    await ada.check("#poll-multiple")
    await ada.click("#poll-form button[type=submit]")
    await expect(ada.locator("#poll-live-question")).to_have_text("Which topics?")
    await expect(ada.locator("#poll-live-counts li")).to_have_count(3)

    # Bea answers with the keyboard only: the first answer has the focus.
    await expect(bea.locator("#poll-dialog")).to_be_visible()
    await expect(bea.get_by_role("checkbox", name="Limits")).to_be_focused()
    await bea.keyboard.press("Space")
    await bea.keyboard.press("Tab")
    await bea.keyboard.press("Tab")
    await bea.keyboard.press("Space")
    await bea.keyboard.press("Tab")  # "Later"
    await bea.keyboard.press("Tab")  # "Answer"
    await bea.keyboard.press("Enter")
    await expect(bea.locator("#poll-dialog")).to_be_hidden()
    await expect(ada.locator("#poll-responders")).to_have_text("1 of 2 answered")
    # Anonymous: counts, no names.
    await expect(ada.locator("#poll-live-responses")).to_have_count(0)
    await expect(ada.locator("#poll-live-counts li").nth(0)).to_have_attribute("data-votes", "1")
    await expect(ada.locator("#poll-live-counts li").nth(2)).to_have_attribute("data-votes", "1")

    # Cyd puts the question aside, then comes back to it.
    await expect(cyd.locator("#poll-dialog")).to_be_visible()
    await cyd.get_by_role("button", name="Más tarde").click()
    await expect(cyd.locator("#poll-dialog")).to_be_hidden()
    await cyd.click("#poll-reopen")
    await cyd.get_by_role("checkbox", name="Derivatives").check()
    await cyd.click('#poll-dialog button[value="answer"]')
    await expect(ada.locator("#poll-responders")).to_have_text("2 of 2 answered")

    # Ended, then published: the result is on the viewers' screens with its bars.
    await ada.click("#poll-stop")
    await expect(ada.locator(".poll-state")).to_have_text("Ended")
    await ada.click("#poll-publish")
    for page, title in ((bea, "Poll results"), (cyd, "Resultado de la encuesta")):
        card = page.locator("#poll-result")
        await expect(card).to_contain_text(title)
        await expect(page.locator("#poll-result-counts li")).to_have_count(3)
        await expect(page.locator("#poll-result-counts li").nth(1)).to_have_attribute(
            "data-votes", "1"
        )
    await expect(bea.locator("#poll-result-counts li").nth(0)).to_contain_text("1 (50%)")

    # A typed answer next, not anonymous: the presenter sees who wrote what.
    await ada.click("#poll-new")
    await ada.get_by_text("Typed answer").click()
    await ada.fill("#poll-question", "Your age?")
    await ada.click("#poll-form button[type=submit]")
    await expect(bea.locator("#poll-dialog-text")).to_be_visible()
    await bea.fill("#poll-dialog-text", "42")
    await bea.press("#poll-dialog-text", "Enter")
    await expect(ada.locator("#poll-live-responses li")).to_have_text(["Bea42"])
    await expect(ada.locator("#poll-live-counts li").first).to_contain_text("42")

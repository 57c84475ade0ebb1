"""The presentation in Chromium: a PDF sent with `create` is what everybody sees, the presenter
turns pages for everyone, and uploads a new document from the room."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path

from PIL import Image
from playwright.async_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import api, draw_stroke, open_as, post_create
from tests.presentations import documents
from tests.support.receiver import Receiver


async def test_pre_uploaded_pdf_pages_and_upload(
    sala: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    meeting_id = f"deck-{uuid.uuid4()}"
    pdf = base64.b64encode(documents.pdf(3)).decode()
    post_create(
        sala,
        meeting_id,
        '<modules><module name="presentation">'
        f'<document filename="lecture.pdf" downloadable="true">{pdf}</document>'
        "</module></modules>",
    )
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
    await ada.click("#poll-panel summary")
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

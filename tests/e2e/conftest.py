"""Browser tests: a real sala process and Debian's Chromium driven by Playwright.

Chromium comes from the system (`playwright install` cannot download here); each user gets its
own browser context, so cookies are separate as on separate machines.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import LiveServer, start_server, stop_server
from tests.presentations import documents
from tests.support.netns import media_network
from tests.support.receiver import Receiver

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def sala(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    data_dir.mkdir()
    # Webhooks and the analytics callback may reach the tests' receivers on loopback.
    process, server = start_server(data_dir, {"SALA_WEBHOOK_ALLOW": "127.0.0.1"})
    try:
        yield server
    finally:
        stop_server(process)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


def signed(server: LiveServer, call: str, params: dict[str, str]) -> str:
    query = urlencode(params)
    digest = hashlib.sha1(f"{call}{query}{server.secret}".encode()).hexdigest()
    return f"{server.api_url}{call}?{query}&checksum={digest}"


def api(server: LiveServer, call: str, **params: str) -> str:
    return httpx.get(signed(server, call, params), timeout=10).text


async def draw_stroke(page: Page) -> None:
    """A pen stroke across the slide with the mouse, as a presenter draws one."""
    box = await page.locator("#annotations").bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    await page.mouse.down()
    for step in range(1, 6):
        await page.mouse.move(
            box["x"] + box["width"] * (0.2 + step * 0.1), box["y"] + box["height"] * 0.5
        )
    await page.mouse.up()


def new_meeting(
    server: LiveServer, name: str = "Aula de Física", prefix: str = "e2e", **params: str
) -> str:
    """A meeting made by create (`params` are create's); its ID, `prefix` and a UUID."""
    meeting_id = f"{prefix}-{uuid.uuid4()}"
    body = api(server, "create", name=name, meetingID=meeting_id, **params)
    assert "<returncode>SUCCESS</returncode>" in body, body
    return meeting_id


def post_create(server: LiveServer, meeting_id: str, body: str, **params: str) -> None:
    """create with an XML body (pre-uploaded presentations), as integrations send it."""
    query = urlencode({"name": "Lecture", "meetingID": meeting_id, **params})
    digest = hashlib.sha1(f"create{query}{server.secret}".encode()).hexdigest()
    response = httpx.post(
        f"{server.api_url}create?{query}&checksum={digest}",
        content=body,
        headers={"Content-Type": "application/xml"},
        timeout=10,
    )
    assert "<returncode>SUCCESS</returncode>" in response.text, response.text


def deck_meeting(
    server: LiveServer,
    prefix: str,
    pages: int,
    filename: str = "lecture.pdf",
    downloadable: bool = True,
    **params: str,
) -> str:
    """A meeting created with a PDF of `pages` pages pre-uploaded, as integrations send one."""
    meeting_id = f"{prefix}-{uuid.uuid4()}"
    pdf = base64.b64encode(documents.pdf(pages)).decode()
    attributes = f'filename="{filename}"' + (' downloadable="true"' if downloadable else "")
    post_create(
        server,
        meeting_id,
        f'<modules><module name="presentation"><document {attributes}>{pdf}</document>'
        "</module></modules>",
        **params,
    )
    return meeting_id


async def open_as(
    browser: Browser,
    server: LiveServer,
    meeting_id: str,
    name: str,
    role: str = "VIEWER",
    locale: str = "en-US",
    **extra: str,
) -> Page:
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    url = signed(server, "join", {"meetingID": meeting_id, "fullName": name, "role": role, **extra})
    await page.goto(url)
    return page


# ---------------------------------------------------------------- media in a namespace --
MEDIA_ARGS = [
    *ARGS,
    "--autoplay-policy=no-user-gesture-required",
    # Host candidates as plain addresses: Janus is configured to ignore mDNS names.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
SPEECH = (
    "Good morning everybody. Today we look at how the conference carries voices and pictures. "
    "Please keep your microphone open while I speak, and tell me when you can hear me clearly."
)
AUDIO = {
    "userdata-bbb_listen_only_mode": "false",
    "userdata-bbb_skip_check_audio": "true",
}
WEBCAM = {"userdata-bbb_auto_share_webcam": "true", "userdata-bbb_skip_video_preview": "true"}


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    with media_network(janus=False) as address:
        yield address


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed: run scripts/install-test-deps")
    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), SPEECH], check=True, timeout=60)
    return wav


@pytest.fixture
async def browsers(namespace: str, speech: Path) -> AsyncIterator[tuple[Browser, Browser]]:
    """One browser with fake devices (speech on the microphone), one with no devices at all."""
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is needed for the browser tests: run scripts/install-test-deps")
    async with async_playwright() as playwright:
        fake = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *MEDIA_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={speech}",
                "--auto-select-desktop-capture-source=Entire screen",
            ],
        )
        plain = await playwright.chromium.launch(executable_path=CHROMIUM, args=MEDIA_ARGS)
        yield fake, plain
        await fake.close()
        await plain.close()


async def enter(
    browser: Browser, server: LiveServer, meeting_id: str, name: str, role: str, **extra: str
) -> Page:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    page.on(
        "console",
        lambda m: print(f"[{name}] {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    url = signed(server, "join", {"meetingID": meeting_id, "fullName": name, "role": role, **extra})
    await page.goto(url)
    await page.wait_for_selector("#room:not([hidden])", timeout=15_000)
    return page


async def stats(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.salaMedia.stats()")
    return result


async def eventually(
    what: str, check: Callable[[], Awaitable[bool]], within: float = 25.0, every: float = 0.5
) -> None:
    for _ in range(int(within / every)):
        if await check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"not within {within} s: {what}")


async def growing(
    page: Page, pick: Callable[[dict[str, Any]], float], what: str, by: float = 0.0
) -> None:
    """`pick(stats)` grows (by more than `by`) between two samples a second apart."""

    async def check() -> bool:
        try:
            before = pick(await stats(page))
            await asyncio.sleep(1.0)
            return pick(await stats(page)) > before + by
        except (KeyError, TypeError, StopIteration):
            return False

    await eventually(what, check)


@pytest.fixture(scope="module")
def media_receiver(namespace: str) -> Iterator[Receiver]:
    """A webhook receiver made inside the namespace, for the media modules' sala."""
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def media_sala(namespace: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """sala with its own Janus on the namespace's address, hooks allowed to loopback."""
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps")
    data_dir = tmp_path_factory.mktemp("media") / "data"
    data_dir.mkdir()
    process, server = start_server(
        data_dir,
        {"SALA_MEDIA": "true", "SALA_MEDIA_IP": namespace, "SALA_WEBHOOK_ALLOW": "127.0.0.1"},
    )
    try:
        yield server
    finally:
        stop_server(process)

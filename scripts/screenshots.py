"""Screenshots of the room for the README: docs/screenshots/*.png (run by scripts/screenshots).

Starts sala on loopback with a temporary data dir (and the demo page on), creates a class with a
pre-uploaded PDF, fills it with people (room clients from tests/support/room_socket.py: a user
list, raised hands, chat) and renders, in Debian's Chromium through Playwright:

    moderator.png   the moderator with the slides (and cameras, when media can run), 1440x900
    dark.png        the same in dark mode
    settings.png    the settings dialog
    poll.png        a viewer answering a poll
    phone.png       a viewer on a phone, 390x844
    demo.png        the /demo landing page

and the LTI pages, reached through the LMS simulator's real flow (tests/support/lms/: login
initiation, the platform's signed launch, sala's landing), with sala in this process:

    lti-landing.png   an instructor's activity page in pt-BR: the meeting running with two
                      people in it, two recordings, the course's roster with attendance
    lti-learner.png   a learner's page in es-ES on a phone, waiting for the instructor
    lti-picker.png    the deep linking picker an instructor adding sala to a course sees (en-US)

(and, for review only, the instructor's page in dark mode and in es-ES on a phone, and an error
page, in $TMPDIR/sala-shots-review/).
`--only room` or `--only lti` renders one of the two sets.

Cameras need Janus and a private network namespace (tests/support/netns.py, root), as the media
tests do; Chromium then uses its fake camera. Without them (or with --no-media) the room runs
without media and says so. Each state waits for its elements by id or role with a timeout; a
state whose elements never appear is skipped with a message, and the others are still rendered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from playwright.async_api import Browser, Page, async_playwright  # noqa: E402
from sqlalchemy import update  # noqa: E402

from sala.clock import ManualClock, SystemClock  # noqa: E402
from sala.config import load_settings  # noqa: E402
from sala.lti import meetings as activity  # noqa: E402
from sala.store import tables  # noqa: E402
from tests.conftest import SECRET, LiveServer, start_server, stop_server  # noqa: E402
from tests.e2e.conftest import ARGS, CHROMIUM, MEDIA_ARGS, post_create, signed  # noqa: E402
from tests.lti.conftest import LtiBed, open_bed  # noqa: E402
from tests.lti.landing_support import recording  # noqa: E402
from tests.support.lms import core as lms  # noqa: E402
from tests.support.lms.services import simulator_part  # noqa: E402
from tests.support.netns import NamespaceUnavailable, private_network  # noqa: E402
from tests.support.room_socket import RoomSocket, signed_url  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
REVIEW = Path(tempfile.gettempdir()) / "sala-shots-review"
"""Shots for checking the pages by eye (dark mode, long words, errors), not for the docs."""
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LTI_DESKTOP = {"width": 1100, "height": 800}
"""About what an LMS gives an activity's iframe beside its own navigation."""
LTI_PICKER = {"width": 900, "height": 760}
WAIT = 15_000
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PEOPLE = [
    "Bruno Lima", "Carla Mendes", "Diego Alves", "Elisa Rocha", "Felipe Costa", "Gabriela Nunes",
    "Heitor Santos", "Isabela Freitas", "João Pereira", "Larissa Martins", "Mateus Ribeiro",
]  # fmt: skip
CHAT = [
    ("Carla Mendes", "Bom dia! The slides are up, thanks."),
    ("Diego Alves", "Could you go over the limit on slide 2 again?"),
    ("Elisa Rocha", "Is the homework due on Friday?"),
]
MEDIA_USERDATA = {
    "userdata-bbb_auto_share_webcam": "true",
    "userdata-bbb_skip_video_preview": "true",
    "userdata-bbb_listen_only_mode": "false",
    "userdata-bbb_skip_check_audio": "true",
}


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_BOLD if bold else FONT
    return ImageFont.truetype(path, size) if Path(path).exists() else ImageFont.load_default()


def lecture_pdf() -> bytes:
    """Three 16:9 slides of a calculus class: a title, a definition, a plot."""
    slides = []
    for title, lines in (
        ("Cálculo I — Aula 12", ["Limits and continuity", "Prof. Ana Souza"]),
        (
            "The limit of a function",
            [
                "lim f(x) = L  as  x → a",
                "• f(x) gets as close to L as we like",
                "• by taking x close enough to a (x ≠ a)",
                "• one-sided limits: x → a⁻ and x → a⁺",
            ],
        ),
        ("Example: f(x) = (x² − 1) / (x − 1)", ["not defined at x = 1, yet the limit is 2"]),
    ):
        image = Image.new("RGB", (1600, 900), (250, 251, 253))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, 1600, 14), fill=(29, 95, 209))
        if not slides:
            draw.text((120, 330), title, font=font(84, bold=True), fill=(17, 24, 39))
            draw.text((124, 460), lines[0], font=font(48), fill=(29, 95, 209))
            draw.text((124, 540), lines[1], font=font(36), fill=(75, 85, 99))
        else:
            draw.text((100, 90), title, font=font(60, bold=True), fill=(17, 24, 39))
            for i, line in enumerate(lines):
                draw.text((110, 240 + i * 80), line, font=font(40), fill=(55, 65, 81))
        if len(slides) == 2:
            x0, y0, scale = 760, 780, 110
            draw.line((x0 - 300, y0, x0 + 700, y0), fill=(120, 130, 150), width=3)
            draw.line((x0 - 200, y0 + 40, x0 - 200, 330), fill=(120, 130, 150), width=3)
            points = [
                (x0 + (x / 10) * scale, y0 - (x / 10 + 1) * scale / 2) for x in range(-15, 50)
            ]
            draw.line(points, fill=(29, 95, 209), width=6)
            hole = (x0 + scale, y0 - scale)
            draw.ellipse((hole[0] - 12, hole[1] - 12, hole[0] + 12, hole[1] + 12),
                         outline=(198, 40, 40), width=5, fill=(250, 251, 253))  # fmt: skip
        slides.append(image)
    out = io.BytesIO()
    slides[0].save(out, format="PDF", save_all=True, append_images=slides[1:], resolution=150)
    return out.getvalue()


def root_url(server: LiveServer) -> str:
    return server.api_url.removesuffix("/bigbluebutton/api/")


async def state(name: str, take: Callable[[], Awaitable[None]]) -> bool:
    """Runs one screenshot; a missing element skips it with a message instead of stopping."""
    try:
        await take()
    except Exception as exc:  # any failure of one state skips only that state
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"  skipped {name}: {first}", flush=True)
        return False
    print(f"  {OUT.relative_to(ROOT) / name}", flush=True)
    return True


async def enter(
    browser: Browser,
    server: LiveServer,
    meeting_id: str,
    name: str,
    role: str,
    media: bool,
    **context: Any,
) -> Page:
    # Without a camera of its own a page joins no audio either: no audio dialog over the shot.
    extra = MEDIA_USERDATA if media else {"userdata-bbb_auto_join_audio": "false"}
    ctx = await browser.new_context(locale="en-US", **context)
    page = await ctx.new_page()
    url = signed(server, "join", {"meetingID": meeting_id, "fullName": name, "role": role, **extra})
    await page.goto(url)
    await page.wait_for_selector("#room", timeout=WAIT)
    return page


async def settle(page: Page, close_dialogs: bool = True) -> None:
    """The slide loaded (when there is one), no dialog left open, animations done."""
    try:
        await page.locator("#slide").wait_for(state="visible", timeout=WAIT)
        await page.wait_for_function(
            "() => document.querySelector('#slide')?.complete", timeout=WAIT
        )
    except Exception:
        print("  (no #slide in the page: the presentation is not shown)", flush=True)
    if close_dialogs and await page.locator("dialog[open]").count():
        await page.keyboard.press("Escape")
    await page.mouse.move(0, 0)
    await page.wait_for_timeout(1200)


async def shoot(o: argparse.Namespace, server: LiveServer, media: bool) -> None:
    base = root_url(server)
    meeting_id = f"aula-{uuid.uuid4().hex[:8]}"
    pdf = base64.b64encode(lecture_pdf()).decode()
    post_create(
        server,
        meeting_id,
        '<modules><module name="presentation">'
        f'<document filename="aula-12.pdf" downloadable="true">{pdf}</document>'
        "</module></modules>",
        name="Cálculo I — Aula 12",
        record="true",
        welcome="Welcome to <b>Cálculo I</b>! Slides and notes stay here after class.",
    )
    OUT.mkdir(parents=True, exist_ok=True)
    crowd: list[RoomSocket] = []
    async with httpx.AsyncClient(timeout=30) as http, async_playwright() as playwright:
        args = [*MEDIA_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=args if media else ARGS
        )
        try:
            ana = await enter(browser, server, meeting_id, "Ana Souza", "MODERATOR", media,
                              viewport=DESKTOP)  # fmt: skip
            for person in PEOPLE:
                crowd.append(await RoomSocket.join(http, base, server.secret, meeting_id, person))
            if media:
                for person in ("Lucas Teixeira", "Marina Araújo"):
                    await enter(browser, server, meeting_id, person, "VIEWER", True,
                                viewport={"width": 800, "height": 600})  # fmt: skip
            by_name = dict(zip(PEOPLE, crowd, strict=True))
            for person, text in CHAT:
                await by_name[person].send({"type": "chat.send", "text": text})
            for person in ("Diego Alves", "Isabela Freitas"):
                await by_name[person].send({"type": "hand.set", "raised": True})
            await by_name["Gabriela Nunes"].send({"type": "reaction.set", "emoji": "👍"})
            await settle(ana)
            if media:
                try:
                    await ana.locator("video").first.wait_for(state="visible", timeout=WAIT)
                    await ana.wait_for_timeout(2500)
                except Exception:
                    print("  (no camera video appeared: cameras are not in the shots)")

            async def moderator() -> None:
                await ana.screenshot(path=OUT / "moderator.png")

            await state("moderator.png", moderator)

            async def settings() -> None:
                await ana.click("#settings", timeout=WAIT)
                await ana.locator("dialog[open]").wait_for(state="visible", timeout=WAIT)
                await ana.wait_for_timeout(400)
                await ana.screenshot(path=OUT / "settings.png")
                await ana.keyboard.press("Escape")

            await state("settings.png", settings)

            async def dark() -> None:
                await ana.click("#theme", timeout=WAIT)
                await ana.locator("html[data-theme=dark]").wait_for(state="attached", timeout=WAIT)
                await ana.evaluate("() => document.activeElement?.blur()")  # no tooltip
                await ana.mouse.move(720, 500)
                await ana.wait_for_timeout(500)
                await ana.screenshot(path=OUT / "dark.png")
                await ana.click("#theme", timeout=WAIT)

            await state("dark.png", dark)

            async def phone() -> None:
                page = await enter(browser, server, meeting_id, "Paula Dias", "VIEWER", False,
                                   viewport=PHONE, is_mobile=True, has_touch=True,
                                   device_scale_factor=2)  # fmt: skip
                await settle(page)
                await page.screenshot(path=OUT / "phone.png")

            await state("phone.png", phone)

            async def poll() -> None:
                # A second moderator takes the presenter's role and starts a poll; a viewer's
                # page shows it.
                viewer = await enter(browser, server, meeting_id, "Rafael Gomes", "VIEWER", False,
                                     viewport=DESKTOP)  # fmt: skip
                host = await RoomSocket.join(
                    http, base, server.secret, meeting_id, "Monitor Caio", "MODERATOR"
                )
                crowd.append(host)
                await host.send({"type": "user.presenter", "user": host.you["id"]})
                await asyncio.sleep(0.5)
                question = "Is the limit of f(x) at x = 1 equal to 2?"
                await host.send({"type": "poll.start", "kind": "YN", "question": question})
                shown = viewer.locator("dialog[open]").get_by_text(question)
                await viewer.get_by_text(question).first.wait_for(state="attached", timeout=WAIT)
                if not await shown.count():
                    await viewer.get_by_role(
                        "button", name=re.compile("answer the poll", re.I)
                    ).click(timeout=WAIT)
                await shown.first.wait_for(state="visible", timeout=WAIT)
                await settle(viewer, close_dialogs=False)
                await viewer.screenshot(path=OUT / "poll.png")

            await state("poll.png", poll)

            async def demo() -> None:
                ctx = await browser.new_context(locale="en-US", viewport=DESKTOP)
                page = await ctx.new_page()
                await page.goto(f"{base}/demo")
                await page.locator("#create-form").wait_for(state="visible", timeout=WAIT)
                await page.fill("#full-name", "Ana Souza")
                await page.wait_for_timeout(500)
                await page.screenshot(path=OUT / "demo.png")

            await state("demo.png", demo)
        finally:
            await asyncio.gather(*(s.close() for s in crowd), return_exceptions=True)
            await browser.close()


# ---------------------------------------------------------------------------------- LTI --
LIS = lms.MEMBERSHIP
DAY_MS = 86_400_000
TEACHER = lms.User("u-ana", "Ana", "Souza", "ana@lms.test", (LIS + "Instructor",))
ASSISTANT = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
MONITOR = lms.User("u-davi", "Davi", "Reis", "davi@lms.test", (ASSISTANT,))
STUDENTS = [
    lms.User(f"u-{given.lower()}", given, family, f"{given.lower()}@lms.test", (LIS + "Learner",))
    for given, family in (
        ("Bruno", "Lima"), ("Carla", "Mendes"), ("Elisa", "Rocha"), ("Felipe", "Costa"),
        ("Gabriela", "Nunes"), ("Heitor", "Santos"), ("Isabela", "Freitas"),
    )
]  # fmt: skip
PHYSICS = lms.Course("fis-101-b", "Física I — Turma B", "FIS101-B", (TEACHER, MONITOR, *STUDENTS))
LECTURES = lms.ResourceLink("rl-aulas", "Aulas ao vivo")
CHEMISTRY = lms.Course("qui-110", "Química General — Grupo 2", "QUI110",
                       (TEACHER, *STUDENTS[:3]))  # fmt: skip
SEMINAR = lms.ResourceLink("rl-seminario", "Seminario de laboratorio")
BIOLOGY = lms.Course("bio-201", "Biology 201: Cells and Genetics", "BIO201", (TEACHER,))


async def enter_activity(bed: LtiBed, user: lms.User, **prepare: Any) -> RoomSocket:
    """`user` launches the activity from the course and presses Join (the landing page's POST),
    then enters the room as the browser would."""
    launched = await bed.launch(user, **prepare)
    assert launched.location is not None, f"the launch of {user.name} was refused"
    answer = await bed.sala.http.post(
        f"{launched.location}/join",
        content="{}",
        headers={"Content-Type": "application/json"},
    )
    url = answer.json().get("url")
    if not url:
        raise RuntimeError(f"{user.name} could not join: {answer.text[:200]}")
    return await RoomSocket.enter(bed.sala.http, bed.sala.base, url)


async def landing_url(bed: LtiBed, user: lms.User, **prepare: Any) -> str:
    launched = await bed.launch(user, **prepare)
    assert launched.location is not None, f"the launch of {user.name} was refused"
    return launched.location


async def shoot_lti(data: Path) -> None:
    settings = load_settings(secret=SECRET, data_dir=data, public_url="http://127.0.0.1",
                             webhook_allow="127.0.0.1", media=False)  # fmt: skip
    clock = ManualClock(SystemClock().now_ms())
    crowd: list[RoomSocket] = []
    physics = {"course": PHYSICS, "resource_link": LECTURES, "custom": {"record": "true"}}
    async with open_bed(settings, clock, (simulator_part,)) as bed, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # Last week's class: the teacher and four students came, then it ended. Its events
            # are moved a week back, so the roster's "last joined" tells the two sessions apart.
            for user in (TEACHER, *STUDENTS[:4]):
                crowd.append(await enter_activity(bed, user, locale="pt-BR", **physics))
            launch = (await bed.launch(TEACHER, **physics)).session
            assert launch is not None
            meeting_id = activity.meeting_id(launch.launch)
            base, secret = bed.sala.base, bed.sala.secret
            await bed.sala.http.get(signed_url(base, secret, "end", {"meetingID": meeting_id}))
            await asyncio.gather(*(s.close() for s in crowd), return_exceptions=True)
            crowd.clear()
            async with bed.sala.services.db.write() as conn:
                events = tables.meeting_events
                await conn.execute(update(events).values(ts=events.c.ts - 7 * DAY_MS))
            now = int(time.time() * 1000)
            db = bed.sala.services
            await recording(db, meeting_id, name="Aula 1 — Cinemática", start=now - 14 * DAY_MS,
                            minutes=52)  # fmt: skip
            await recording(db, meeting_id, name="Aula 2 — As leis de Newton na prática",
                            start=now - 7 * DAY_MS, minutes=47, state="unpublished")  # fmt: skip
            # Today's class: the teacher and one student are in it.
            for user in (TEACHER, STUDENTS[0]):
                crowd.append(await enter_activity(bed, user, locale="pt-BR", **physics))

            async def instructor() -> None:
                url = await landing_url(bed, TEACHER, locale="pt-BR", **physics)
                for scheme in ("light", "dark"):
                    ctx = await browser.new_context(viewport=LTI_DESKTOP, color_scheme=scheme)
                    page = await ctx.new_page()
                    await page.goto(url)
                    await page.locator("#roster tbody tr").first.wait_for(timeout=WAIT)
                    await page.locator(".lti-people li").first.wait_for(timeout=WAIT)
                    await page.wait_for_timeout(600)
                    if scheme == "light":
                        await page.screenshot(path=OUT / "lti-landing.png", full_page=True)
                    else:
                        await page.screenshot(path=REVIEW / "lti-landing-dark.png", full_page=True)
                    await ctx.close()
                # For review only: the longest words (es-ES) on a phone, and an error page.
                url = await landing_url(bed, TEACHER, locale="es-ES", **physics)
                ctx = await browser.new_context(viewport=PHONE, device_scale_factor=2)
                page = await ctx.new_page()
                await page.goto(url)
                await page.locator("#roster tbody tr").first.wait_for(timeout=WAIT)
                await page.wait_for_timeout(600)
                await page.screenshot(path=REVIEW / "lti-landing-phone-es.png", full_page=True)
                await page.goto(f"{bed.sala.base}/lti/rooms/not-a-session")
                await page.screenshot(path=REVIEW / "lti-error-phone.png")
                await ctx.close()
                print(f"  (for review) {REVIEW}", flush=True)

            await state("lti-landing.png", instructor)

            async def learner() -> None:
                prepared = {"course": CHEMISTRY, "resource_link": SEMINAR,
                            "custom": {"waitForModerator": "true", "record": "true"}}  # fmt: skip
                seminar = await bed.launch(TEACHER, **prepared)
                assert seminar.session is not None
                seminar_id = activity.meeting_id(seminar.session.launch)
                await recording(db, seminar_id, name="Sesión 3 — Enlaces químicos",
                                start=now - 3 * DAY_MS, minutes=58)  # fmt: skip
                await recording(db, seminar_id, name="Sesión 4 — Borrador", state="unpublished",
                                start=now - 1 * DAY_MS, minutes=12)  # fmt: skip
                url = await landing_url(bed, STUDENTS[1], locale="es-ES", **prepared)
                ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                                device_scale_factor=2)  # fmt: skip
                page = await ctx.new_page()
                await page.goto(url)
                await page.locator("#join:enabled").click(timeout=WAIT)
                await page.locator("#waiting").wait_for(timeout=WAIT)
                await page.wait_for_timeout(600)
                await page.screenshot(path=OUT / "lti-learner.png")
                await ctx.close()

            await state("lti-learner.png", learner)

            async def picker() -> None:
                # No title suggested by the platform (Moodle sends none): sala's own.
                url = await landing_url(bed, TEACHER, course=BIOLOGY, deep_linking={"title": ""},
                                        locale="en-US")  # fmt: skip
                ctx = await browser.new_context(viewport=LTI_PICKER, color_scheme="light")
                page = await ctx.new_page()
                await page.goto(url)
                await page.locator("form").wait_for(timeout=WAIT)
                await page.wait_for_timeout(400)
                await page.screenshot(path=OUT / "lti-picker.png")
                await ctx.close()

            await state("lti-picker.png", picker)
        finally:
            await asyncio.gather(*(s.close() for s in crowd), return_exceptions=True)
            await browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-media", action="store_true", help="no cameras (no Janus, no netns)")
    parser.add_argument("--only", choices=("room", "lti"), help="render one set only")
    o = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    REVIEW.mkdir(exist_ok=True)
    if o.only != "lti":
        shoot_room(o)
    if o.only != "room":
        with tempfile.TemporaryDirectory(prefix="sala-shots-lti-") as tmp:
            (Path(tmp) / "data").mkdir()
            asyncio.run(shoot_lti(Path(tmp) / "data"))
    return 0


def shoot_room(o: argparse.Namespace) -> None:
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="sala-shots-") as tmp:
        env = {"SALA_DEMO": "true"}
        media = not o.no_media
        if media and shutil.which("janus") is None:
            print("no cameras: Janus is not installed (scripts/install-test-deps)")
            media = False
        if media:
            try:
                address = stack.enter_context(private_network())
                env |= {"SALA_MEDIA": "true", "SALA_MEDIA_IP": address}
            except NamespaceUnavailable as exc:
                print(f"no cameras: {exc}")
                media = False
        data = Path(tmp) / "data"
        data.mkdir()
        process, server = start_server(data, env)
        try:
            asyncio.run(shoot(o, server, media))
        finally:
            stop_server(process)


if __name__ == "__main__":
    sys.exit(main())

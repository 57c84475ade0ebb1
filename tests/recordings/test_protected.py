"""Protected recordings as Scalelite 1.2 has them and Greenlight v3 drives them: `updateRecordings`
takes `protect`, getRecordings says `<protected>` and hands out one-time playback links; a link's
first use leaves a cookie for that recording's playback, and nothing plays without one.

The recording is put in the catalogue and on disk as the pipeline leaves it; playback is fetched
over HTTP from the in-process app, each browser a client with its own cookies."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import insert
from starlette.applications import Starlette

from sala.clock import ManualClock
from sala.store import tables
from tests.conftest import Api
from tests.xmlutil import success

BASE = "https://sala.test"


async def published(api: Api, external_id: str = "lecture") -> str:
    """A published recording with both formats, its files where playback reads them."""
    record_id = f"{hashlib.sha1(external_id.encode()).hexdigest()}-1700000000000"
    presentation = f"{BASE}/playback/presentation/2.3/{record_id}"
    video = f"{BASE}/playback/video/{record_id}/"
    async with api.services.db.write() as conn:
        await conn.execute(
            insert(tables.recordings).values(
                record_id=record_id,
                meeting_id=external_id,
                internal_meeting_id=record_id,
                name="Lecture",
                is_breakout=False,
                state="published",
                start_time=1_700_000_000_000,
                end_time=1_700_000_600_000,
                participants=2,
                raw_size=100,
                size=50,
                metadata={"gl-listed": "true"},
                formats=[
                    {
                        "type": "presentation",
                        "url": presentation,
                        "processing_time": 10,
                        "length_ms": 600_000,
                        "size": 40,
                        "preview": [{"url": f"{presentation}/slides/d/1-thumb.png", "alt": "1"}],
                    },
                    {
                        "type": "video",
                        "url": video,
                        "processing_time": 10,
                        "length_ms": 600_000,
                        "size": 10,
                        "preview": [],
                    },
                ],
                text_tracks=[],
            )
        )
    root = api.services.settings.recordings_root / record_id
    (root / "presentation" / "slides" / "d").mkdir(parents=True)
    (root / "presentation" / "recording.json").write_text('{"duration": 600000}')
    (root / "presentation" / "slides" / "d" / "1-thumb.png").write_bytes(b"\x89PNG thumb")
    (root / "video").mkdir()
    (root / "video" / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(1000))
    return record_id


@asynccontextmanager
async def browser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Somebody's browser: the same server, cookies of its own."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def listed(api: Api, record_id: str) -> Any:
    root = success(await api.get("getRecordings", {"recordID": record_id}))
    recording = root.find("recordings/recording")
    assert recording is not None
    return recording


def urls(recording: Any) -> dict[str, str]:
    return {f.findtext("type"): f.findtext("url") for f in recording.findall("playback/format")}


async def protect(api: Api, record_id: str, value: str, **meta: str) -> None:
    success(await api.get("updateRecordings", {"recordID": record_id, "protect": value, **meta}))


async def test_protect_is_stored_and_listed_after_published(api: Api) -> None:
    record_id = await published(api)
    recording = await listed(api, record_id)
    tags = [child.tag for child in recording]
    assert tags[tags.index("published") + 1] == "protected"
    assert recording.findtext("protected") == "false"

    # Greenlight v3 sets its visibility this way.
    await protect(api, record_id, "true", **{"meta_gl-listed": "false"})
    recording = await listed(api, record_id)
    assert recording.findtext("protected") == "true"
    assert recording.findtext("metadata/gl-listed") == "false"
    for url in urls(recording).values():
        assert "token" in parse_qs(urlsplit(url).query)

    await protect(api, record_id, "false")
    recording = await listed(api, record_id)
    assert recording.findtext("protected") == "false"
    assert urls(recording)["presentation"] == f"{BASE}/playback/presentation/2.3/{record_id}"

    await protect(api, record_id, "TRUE")
    assert (await listed(api, record_id)).findtext("protected") == "true"
    await protect(api, record_id, "0")  # Scalelite reads it as a Rails boolean
    assert (await listed(api, record_id)).findtext("protected") == "false"


async def test_a_link_works_once_and_leaves_a_cookie_for_that_playback(
    app: Starlette, api: Api
) -> None:
    record_id = await published(api)
    page = f"/playback/presentation/2.3/{record_id}"
    async with browser(app) as anyone:
        # Unprotected, as before: anybody with the URL plays it.
        assert (await anyone.get(page)).status_code == 200
        assert (await anyone.get(f"{page}/recording.json")).status_code == 200

    await protect(api, record_id, "true")
    links = urls(await listed(api, record_id))
    async with browser(app) as anyone:
        for path in (page, f"{page}/recording.json", f"/playback/video/{record_id}/video.mp4"):
            assert (await anyone.get(path)).status_code == 404, path

    async with browser(app) as student:
        first = await student.get(links["presentation"])
        assert first.status_code == 303
        assert first.headers["location"] == page  # the token is not kept in the address
        cookie = first.headers["set-cookie"].lower()
        assert f"path={page.lower()}" in cookie
        for flag in ("httponly", "secure", "samesite=none", "partitioned", "max-age=21600"):
            assert flag in cookie
        assert (await student.get(page)).status_code == 200
        document = await student.get(f"{page}/recording.json")
        assert document.json() == {"duration": 600000}
        assert document.headers["cache-control"] == "private"  # for this browser only
        # Reloading the link itself keeps working for the one who used it.
        assert (await student.get(links["presentation"], follow_redirects=True)).status_code == 200
        # That cookie is for the presentation only: the video needs its own link.
        assert (await student.get(f"/playback/video/{record_id}/video.mp4")).status_code == 404
        assert (await student.get(links["video"], follow_redirects=True)).status_code == 200
        video = await student.get(
            f"/playback/video/{record_id}/video.mp4", headers={"Range": "bytes=0-3"}
        )
        assert video.status_code == 206

    async with browser(app) as friend:
        # The same link passed on: already used.
        assert (await friend.get(links["presentation"])).status_code == 404
        assert (await friend.get(page)).status_code == 404

    # A new getRecordings (the LMS page reloaded) gives a new link.
    fresh = urls(await listed(api, record_id))["presentation"]
    assert fresh != links["presentation"]
    async with browser(app) as friend:
        assert (await friend.get(fresh, follow_redirects=True)).status_code == 200


async def test_links_and_cookies_expire(app: Starlette, api: Api, clock: ManualClock) -> None:
    record_id = await published(api)
    page = f"/playback/presentation/2.3/{record_id}"
    await protect(api, record_id, "true")
    stale = urls(await listed(api, record_id))["presentation"]
    clock.advance(minutes=61)
    async with browser(app) as late:
        assert (await late.get(stale)).status_code == 404

    link = urls(await listed(api, record_id))["presentation"]
    async with browser(app) as student:
        assert (await student.get(link, follow_redirects=True)).status_code == 200
        clock.advance(hours=5, minutes=59)
        assert (await student.get(f"{page}/recording.json")).status_code == 200
        clock.advance(minutes=2)
        assert (await student.get(f"{page}/recording.json")).status_code == 404
        assert (await student.get(page)).status_code == 404


async def test_other_parameters_survive_the_redirect(app: Starlette, api: Api) -> None:
    record_id = await published(api)
    await protect(api, record_id, "true")
    link = urls(await listed(api, record_id))["presentation"]
    async with browser(app) as student:
        answer = await student.get(link + "&l=media")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/playback/presentation/2.3/{record_id}?l=media"


async def test_previews_of_a_protected_recording_are_signed_images(
    app: Starlette, api: Api, clock: ManualClock
) -> None:
    record_id = await published(api)
    await protect(api, record_id, "true")
    recording = await listed(api, record_id)
    [image] = recording.findall("playback/format/preview/images/image")
    thumb = str(image.text)
    async with browser(app) as lms:
        assert (await lms.get(thumb)).content == b"\x89PNG thumb"
        signature = parse_qs(urlsplit(thumb).query)["access"][0]
        other = f"/playback/presentation/2.3/{record_id}/recording.json?access={signature}"
        assert (await lms.get(other)).status_code == 404  # for that image only
        assert (await lms.get(thumb.split("?")[0])).status_code == 404
        clock.advance(minutes=61)
        assert (await lms.get(thumb)).status_code == 404

"""The demo page: off unless turned on, joins only meetings it made, creation is bounded."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from sala.app import build_app
from sala.clock import ManualClock
from sala.config import Settings, load_settings
from tests.conftest import SECRET, Api
from tests.xmlutil import field, success


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what is under test happens before any database is involved."""
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


def demo_settings(tmp_path: Path, database_url: str, **extra: object) -> Settings:
    return load_settings(
        secret=SECRET,
        data_dir=tmp_path / "demo-data",
        database_url=database_url,
        public_url="https://sala.test",
        media=False,
        host="127.0.0.1",
        **extra,
    )


async def _client(settings: Settings, clock: ManualClock) -> AsyncIterator[Api]:
    app: Starlette = build_app(settings, clock, run_reaper=False, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="https://sala.test") as client:
            yield Api(client, settings.shared_secret, app.state.services)


@pytest.fixture
async def demo(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[Api]:
    async for api in _client(demo_settings(tmp_path, database_url, demo=True), clock):
        yield api


def _links(page: str) -> tuple[str, str]:
    viewer = re.search(r"<code>https://sala\.test(/demo/join\?[^<]+)</code>", page)
    moderator = re.search(r"href='(/demo/join\?[^']+)'", page)
    assert viewer and moderator, page
    return viewer.group(1).replace("&amp;", "&"), moderator.group(1).replace("&amp;", "&")


async def _entered_as(api: Api, joined: httpx.Response) -> tuple[str, str, str]:
    """(meeting ID, name, role) of the room session a demo redirect leads to."""
    assert joined.status_code == 303, joined.text
    token = joined.headers["location"].removeprefix("/room/join?sessionToken=")
    session = await api.services.sessions.open_room_session(token)
    attendee = session.attendee
    return session.meeting.external_id, attendee.full_name, attendee.role.value


async def test_demo_is_off_unless_turned_on_even_on_loopback(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    settings = demo_settings(tmp_path, database_url)
    assert settings.host == "127.0.0.1"
    async for api in _client(settings, clock):
        assert (await api.client.get("/demo")).status_code == 404
        assert (await api.client.post("/demo", data={"name": "x"})).status_code in (404, 405)
        meeting_id, _ = await api.create()
        response = await api.client.get(
            "/demo/join", params={"meeting": meeting_id, "fullName": "Intruder"}
        )
        assert response.status_code == 404


async def test_demo_never_joins_a_meeting_it_did_not_create(demo: Api) -> None:
    meeting_id, created = await demo.create()
    success(created)
    internal_id = field(success(created), "internalMeetingID")
    for target in (meeting_id, internal_id, f"demo-{meeting_id}"):
        for key in ("", "0" * 32):
            response = await demo.client.get(
                "/demo/join", params={"meeting": target, "key": key, "fullName": "Intruder"}
            )
            assert response.status_code == 404, response.text
            assert "sessionToken" not in response.headers.get("location", "")
    root = success(await demo.get("getMeetingInfo", {"meetingID": meeting_id}))
    assert field(root, "participantCount") == "0"


async def test_demo_links_join_with_their_own_role_only(demo: Api) -> None:
    page = await demo.client.post("/demo", data={"name": "Physics", "fullName": "Ada"})
    assert page.status_code == 200
    viewer, moderator = _links(page.text)
    meeting_id = re.search(r"meeting=(demo-[0-9a-f]+)", viewer)
    assert meeting_id is not None

    joined = await demo.client.get(moderator)
    assert await _entered_as(demo, joined) == (meeting_id.group(1), "Ada", "MODERATOR")
    joined = await demo.client.get(viewer + "&fullName=Bea")
    assert await _entered_as(demo, joined) == (meeting_id.group(1), "Bea", "VIEWER")

    # The viewer key does not open another demo meeting.
    other = await demo.client.post("/demo", data={"name": "Chemistry", "fullName": "Cy"})
    other_viewer, _ = _links(other.text)
    other_id = re.search(r"meeting=(demo-[0-9a-f]+)", other_viewer)
    assert other_id is not None
    forged = viewer.replace(meeting_id.group(1), other_id.group(1)) + "&fullName=Eve"
    assert (await demo.client.get(forged)).status_code == 404


async def test_demo_creation_is_rate_limited_per_visitor(demo: Api) -> None:
    statuses = [
        (await demo.client.post("/demo", data={"name": "Room", "fullName": "A"})).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    meetings = success(await demo.get("getMeetings"))
    assert len(list(meetings.iter("meeting"))) == 5


async def test_demo_meetings_are_small_and_short(demo: Api) -> None:
    page = await demo.client.post("/demo", data={"name": "Room", "fullName": "A"})
    viewer, _ = _links(page.text)
    meeting_id = re.search(r"meeting=(demo-[0-9a-f]+)", viewer)
    assert meeting_id is not None
    root = success(await demo.get("getMeetingInfo", {"meetingID": meeting_id.group(1)}))
    assert field(root, "duration") == "60"
    assert field(root, "maxUsers") == "25"


async def test_demo_passphrase(tmp_path: Path, database_url: str, clock: ManualClock) -> None:
    settings = demo_settings(tmp_path, database_url, demo=True, demo_passphrase="open sesame")
    async for api in _client(settings, clock):
        assert "passphrase" in (await api.client.get("/demo")).text
        wrong = await api.client.post(
            "/demo", data={"name": "Room", "fullName": "A", "passphrase": "guess"}
        )
        assert wrong.status_code == 403
        assert not list(success(await api.get("getMeetings")).iter("meeting"))
        right = await api.client.post(
            "/demo", data={"name": "Room", "fullName": "A", "passphrase": "open sesame"}
        )
        assert right.status_code == 200
        assert len(list(success(await api.get("getMeetings")).iter("meeting"))) == 1


async def test_demo_page_is_a_shell_under_the_rooms_csp(demo: Api) -> None:
    page = await demo.client.get("/demo")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    # No inline script or style: the page's code and looks come from the bundle.
    assert "<style" not in page.text and "style=" not in page.text
    scripts = re.findall(r"<script\b[^>]*>", page.text)
    assert scripts == ["<script type='module' src='/room/static/app/demo.js'>"]
    assert 'data-view="create"' in page.text and 'data-passphrase="none"' in page.text


async def _create_json(api: Api, body: object, **headers: str) -> httpx.Response:
    return await api.client.post(
        "/demo/rooms",
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


async def test_demo_json_creates_with_links_per_role_and_language(demo: Api) -> None:
    answer = await _create_json(
        demo, {"name": "Física", "fullName": "Ana", "lobby": True, "lang": "pt-BR"}
    )
    assert answer.status_code == 200, answer.text
    room = answer.json()
    assert room["name"] == "Física"
    assert room["viewer"].startswith("https://sala.test/demo/join?")
    assert room["moderator"].startswith("https://sala.test/demo/join?")
    assert "fullName" not in room["moderator"] and "fullName" not in room["viewer"]
    meeting_id = re.search(r"meeting=(demo-[0-9a-f]+)", room["viewer"])
    assert meeting_id is not None

    joined = await demo.client.get(room["open"])
    assert await _entered_as(demo, joined) == (meeting_id.group(1), "Ana", "MODERATOR")
    root = success(await demo.get("getMeetingInfo", {"meetingID": meeting_id.group(1)}))
    assert field(root, "maxUsers") == "25"
    # Invite links ask for a name, then join with their own role.
    viewer = room["viewer"].removeprefix("https://sala.test")
    asks = await demo.client.get(viewer)
    assert asks.status_code == 200 and 'data-view="join"' in asks.text
    assert 'data-role="VIEWER"' in asks.text
    joined = await demo.client.get(viewer + "&fullName=Bia&lang=es-ES")
    assert await _entered_as(demo, joined) == (meeting_id.group(1), "Bia", "VIEWER")
    moderator = room["moderator"].removeprefix("https://sala.test")
    joined = await demo.client.get(moderator + "&fullName=Cai&lang=xx")
    assert await _entered_as(demo, joined) == (meeting_id.group(1), "Cai", "MODERATOR")


async def test_demo_join_carries_the_chosen_language_into_the_room(demo: Api) -> None:
    room = (await _create_json(demo, {"name": "Aula", "fullName": "Ana", "lang": "es-ES"})).json()
    joined = await demo.client.get(room["open"])
    assert "lang=es-ES" in room["open"]
    token = joined.headers["location"].removeprefix("/room/join?sessionToken=")
    session = await demo.services.sessions.open_room_session(token)
    assert session.attendee.custom_data == {"bbb_override_default_locale": "es-ES"}


async def test_demo_json_has_every_check_of_the_form(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    settings = demo_settings(tmp_path, database_url, demo=True, demo_passphrase="open sesame")
    async for api in _client(settings, clock):
        assert 'data-passphrase="required"' in (await api.client.get("/demo")).text
        wrong = await _create_json(api, {"name": "Room", "passphrase": "guess"})
        assert (wrong.status_code, wrong.json()) == (403, {"error": "passphrase"})
        missing = await _create_json(api, {"name": "Room"})
        assert missing.status_code == 403
        # Not JSON, or JSON of the wrong shape: nothing is created.
        form = await api.client.post("/demo/rooms", data={"passphrase": "open sesame"})
        assert form.status_code == 415
        assert (await _create_json(api, b"{not json")).status_code == 400
        assert (await _create_json(api, ["open sesame"])).status_code == 400
        odd = await _create_json(api, {"name": "Room", "passphrase": ["open sesame"]})
        assert odd.status_code == 403
        assert not list(success(await api.get("getMeetings")).iter("meeting"))
        statuses = [
            (await _create_json(api, {"name": "Room", "passphrase": "open sesame"})).status_code
            for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]
        limited = await _create_json(api, {"name": "Room", "passphrase": "open sesame"})
        assert limited.json() == {"error": "rate"}
        assert len(list(success(await api.get("getMeetings")).iter("meeting"))) == 5


async def test_demo_json_and_form_share_one_rate_limit(demo: Api) -> None:
    for _ in range(3):
        assert (await _create_json(demo, {"name": "Room"})).status_code == 200
    for _ in range(2):
        answer = await demo.client.post("/demo", data={"name": "Room", "fullName": "A"})
        assert answer.status_code == 200
    assert (await _create_json(demo, {"name": "Room"})).status_code == 429
    refused = await demo.client.post("/demo", data={"name": "Room", "fullName": "A"})
    assert refused.status_code == 429 and 'data-error="rate"' in refused.text


async def test_demo_json_is_off_unless_turned_on(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    async for api in _client(demo_settings(tmp_path, database_url), clock):
        assert (await _create_json(api, {"name": "Room"})).status_code in (404, 405)

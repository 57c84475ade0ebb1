"""GET /metrics: off unless the operator set a token, refused without it, and then figures an
operator can trust (live meetings, people in them, deliveries waiting)."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from sala.app import build_app
from sala.config import Settings
from tests.conftest import Api, ManualClock

TOKEN = "scrape-token-0123456789"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


def value(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


async def test_metrics_count_what_is_live(api: Api) -> None:
    scrape = {"Authorization": f"Bearer {TOKEN}"}
    before = await api.client.get("/metrics", headers=scrape)
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    assert value(before.text, "sala_meetings") == 0
    meeting, _ = await api.create()
    await api.create()
    await api.get("hooks/create", {"callbackURL": "http://127.0.0.1:9/hook"})
    token = await api.room_session(meeting, "Ana")
    # Ana's room connection is up (what the room reports when her page connects).
    session = await api.services.sessions.room_session(token)
    await api.services.meetings.user_connected(
        session.meeting.internal_id, session.attendee.internal_user_id
    )
    await api.services.events.run_once()  # the worker's fan-out queues the webhooks
    after = (await api.client.get("/metrics", headers=scrape)).text
    assert value(after, "sala_meetings") == 2
    assert value(after, "sala_participants") == 1
    assert value(after, "sala_websocket_connections") == 0
    assert value(after, "sala_deliveries_pending") >= 1  # meeting-created, to a closed port


async def test_metrics_want_the_token(api: Api) -> None:
    assert (await api.client.get("/metrics")).status_code == 401
    wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_metrics_are_off_without_a_token(settings: Settings, clock: ManualClock) -> None:
    app: Starlette = build_app(
        settings.model_copy(update={"metrics_token": None}),
        clock,
        run_reaper=False,
        run_workers=False,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://sala.test") as client:
            assert (await client.get("/metrics")).status_code == 404

"""Deep linking as an instructor goes through it: the picker in the launch's language, the
settings chosen, and the signed LtiDeepLinkingResponse the page posts to the platform, which
the simulated platform verifies against sala's published JWKS over real HTTP, finding the
content item's custom settings and its own `data` echoed. Learners, other launches and expired
sessions get a page saying why, and nothing is signed for them.

Run on SQLite only: sessions and platforms are covered on PostgreSQL by their own tests.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from sala.lti.claims import MESSAGE_TYPE, RESOURCE_LINK_REQUEST
from sala.lti.platforms import Platforms
from sala.lti.sessions import Sessions
from sala.services import Services
from tests.conftest import free_port
from tests.support.lms.deep_linking import DL, LEARNER, DeepLinkingReturn
from tests.support.serving import serve_asgi


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


@dataclass
class World:
    sala: str
    lms: DeepLinkingReturn
    services: Services
    http: httpx.AsyncClient

    async def session(self, **claims: str) -> str:
        platforms = Platforms(self.services.db, self.services.clock)
        platform = await platforms.find(self.lms.issuer, self.lms.client_id)
        assert platform is not None
        opened = await Sessions(self.services.db, self.services.clock).open(
            platform, self.lms.request_claims(**claims)
        )
        return opened.token


@pytest.fixture
async def world(app: Starlette) -> AsyncIterator[World]:
    """sala (the test's app) and the simulated platform, each on a loopback port."""
    sala_port, lms_port = free_port(), free_port()
    lms = DeepLinkingReturn(
        issuer=f"http://127.0.0.1:{lms_port}",
        client_id="sala-client",
        deployment_id="deployment-1",
        tool_jwks_url=f"http://127.0.0.1:{sala_port}/lti/jwks",
    )
    services: Services = app.state.services
    await Platforms(services.db, services.clock).add(
        issuer=lms.issuer,
        client_id=lms.client_id,
        auth_login_url=f"{lms.issuer}/lti/auth",
        jwks_url=f"{lms.issuer}/lti/certs",
        deployments=[lms.deployment_id],
    )
    async with (
        serve_asgi(app, sala_port) as sala,
        serve_asgi(Starlette(routes=lms.routes()), lms_port),
        httpx.AsyncClient(timeout=10) as http,
    ):
        yield World(sala, lms, services, http)


def autopost(page: str) -> tuple[str, dict[str, str]]:
    """The form the page's script submits: where, and its fields."""
    action = re.search(r"<form id='lti-post-form' method='post' action='([^']+)'", page)
    assert action, page
    fields = dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}


async def test_an_instructor_adds_a_meeting_with_its_settings(world: World) -> None:
    token = await world.session(locale="pt-BR")
    picker = await world.http.get(f"{world.sala}/lti/deep-link/{token}")
    assert picker.status_code == 200
    assert "lang='pt-BR'" in picker.text
    assert "Adicionar uma videoconferência" in picker.text
    assert "Física I" in picker.text  # the course named in the introduction
    assert "Um moderador aprova cada um" in picker.text
    assert "frame-ancestors" in picker.headers["content-security-policy"]

    chosen = await world.http.post(
        f"{world.sala}/lti/deep-link/{token}",
        data={
            "title": "Aula ao vivo",
            "record": "true",
            "guestPolicy": "ASK_MODERATOR",
            "muteOnStart": "true",
        },
    )
    assert chosen.status_code == 200
    assert "data-action='submit'" in chosen.text  # lti-post.js submits it at once
    action, fields = autopost(chosen.text)
    assert action == world.lms.return_url
    assert set(fields) == {"JWT"}

    # What the browser does next: post the form to the platform, which verifies it.
    returned = await world.http.post(action, data=fields)
    assert returned.status_code == 200, world.lms.refused
    [payload] = world.lms.accepted
    [item] = payload[DL + "content_items"]
    assert item == {
        "type": "ltiResourceLink",
        "title": "Aula ao vivo",
        "url": "https://sala.test/lti/launch",
        "custom": {
            "record": "true",
            "waitForModerator": "false",
            "guestPolicy": "ASK_MODERATOR",
            "muteOnStart": "true",
        },
    }
    assert payload[DL + "data"] == world.lms.sent_data


async def test_a_learner_is_refused_the_picker_and_nothing_is_signed(world: World) -> None:
    token = await world.session(role=LEARNER, locale="es-ES")
    picker = await world.http.get(f"{world.sala}/lti/deep-link/{token}")
    assert picker.status_code == 403
    assert "Solo los profesores pueden añadir una videoconferencia" in picker.text
    assert "<form" not in picker.text
    posted = await world.http.post(
        f"{world.sala}/lti/deep-link/{token}", data={"title": "Mine", "record": "true"}
    )
    assert posted.status_code == 403
    assert "JWT" not in posted.text


async def test_other_launches_and_unknown_sessions_get_a_page_saying_why(world: World) -> None:
    platform = await Platforms(world.services.db, world.services.clock).find(world.lms.issuer)
    assert platform is not None
    claims = world.lms.request_claims()
    claims[MESSAGE_TYPE] = RESOURCE_LINK_REQUEST
    del claims[DL + "deep_linking_settings"]
    launch = await Sessions(world.services.db, world.services.clock).open(platform, claims)
    resource = await world.http.get(f"{world.sala}/lti/deep-link/{launch.token}")
    assert resource.status_code == 400
    assert "not a request to add content" in resource.text
    scripted = world.lms.request_claims()
    scripted[DL + "deep_linking_settings"]["deep_link_return_url"] = "javascript:alert(1)"
    odd = await Sessions(world.services.db, world.services.clock).open(platform, scripted)
    refused = await world.http.post(f"{world.sala}/lti/deep-link/{odd.token}", data={})
    assert refused.status_code == 400
    assert "javascript:" not in refused.text
    unknown = await world.http.get(f"{world.sala}/lti/deep-link/{'x' * 43}")
    assert unknown.status_code == 404
    assert "expired" in unknown.text

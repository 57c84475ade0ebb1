"""LTI Dynamic Registration as an administrator goes through it: the platform opens sala's
registration URL with its configuration's address and a one-time token, sala registers itself
at the simulated platform over real HTTP and stores the platform, and the page it answers tells
the platform's window it is done. Every refusal (a wrong or missing key, a configuration that
claims another issuer, a token the platform refuses, a plain-HTTP platform) stores nothing.

Run on SQLite only: what is stored goes through Platforms, whose tests cover PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from sala.lti.platforms import Platform, Platforms
from sala.lti.tool import NRPS_SCOPE, ToolUrls, issuer_segment
from tests.conftest import Api, free_port
from tests.support.lms.registration import TOOL_CONFIGURATION, PlatformRegistration
from tests.support.serving import serve_asgi


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


@pytest.fixture
async def platform() -> AsyncIterator[PlatformRegistration]:
    port = free_port()
    simulated = PlatformRegistration(issuer=f"http://127.0.0.1:{port}")
    async with serve_asgi(Starlette(routes=simulated.routes()), port):
        yield simulated


def registration_url(api: Api) -> str:
    settings = api.services.settings
    return ToolUrls(settings.base_url).registration(settings.shared_secret)


async def stored(api: Api) -> list[Platform]:
    return await Platforms(api.services.db, api.services.clock).all()


async def test_a_platform_registers_sala_and_is_trusted(
    api: Api, platform: PlatformRegistration
) -> None:
    page = await api.client.get(
        platform.initiation_url(registration_url(api)), headers={"Accept-Language": "pt-BR"}
    )

    assert page.status_code == 200, page.text
    assert "O sala está registrado" in page.text
    # The page's script (no inline script under the CSP) posts the close message.
    assert "data-action='close'" in page.text
    assert "/room/static/app/lti-post.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    [registered] = await stored(api)
    base = platform.issuer
    assert registered.issuer == base
    assert registered.client_id == platform.client_id
    assert registered.auth_login_url == f"{base}/lti/auth"
    assert registered.jwks_url == f"{base}/lti/certs"
    assert registered.auth_token_url == f"{base}/lti/token"
    assert registered.deployments == ("deployment-1",)
    assert registered.registered_by == "dynamic"
    assert registered.name == "simulated-lms"
    assert "add-deployment" not in page.text
    # The one-time token went to both of the platform's endpoints as a Bearer token.
    assert platform.configuration_requests == [f"Bearer {platform.token}"]
    assert platform.registration_authorizations == [f"Bearer {platform.token}"]
    [sent] = platform.registrations
    assert sent["initiate_login_uri"] == "https://sala.test/lti/login"
    assert sent["redirect_uris"] == ["https://sala.test/lti/launch"]
    assert sent["jwks_uri"] == "https://sala.test/lti/jwks"
    assert sent["scope"] == NRPS_SCOPE
    tool = sent[TOOL_CONFIGURATION]
    assert tool["domain"] == "sala.test"
    assert tool["target_link_uri"] == "https://sala.test/lti/launch"
    assert [m["type"] for m in tool["messages"]] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    ]


async def test_a_wrong_or_missing_key_is_refused_before_anything_is_fetched(
    api: Api, platform: PlatformRegistration
) -> None:
    good = registration_url(api)
    wrong = good[: -len("0000")] + ("0000" if not good.endswith("0000") else "1111")
    refused = await api.client.get(platform.initiation_url(wrong))
    assert refused.status_code == 403
    assert "its key is wrong" in refused.text
    assert "sala lti registration-url" in refused.text
    missing = await api.client.get(
        platform.initiation_url("https://sala.test/lti/register"), follow_redirects=True
    )
    assert missing.status_code == 404
    assert platform.configuration_requests == [] and platform.registrations == []
    assert await stored(api) == []


async def test_a_configuration_claiming_another_issuer_is_refused(
    api: Api, platform: PlatformRegistration
) -> None:
    platform.claimed_issuer = "https://lms.example.edu"
    refused = await api.client.get(platform.initiation_url(registration_url(api)))
    assert refused.status_code == 400
    assert "names the issuer https://lms.example.edu" in refused.text
    # Read, but never answered with a registration, and nothing trusted.
    assert len(platform.configuration_requests) == 1
    assert platform.registrations == []
    assert await stored(api) == []


async def test_a_token_the_platform_refuses_stores_nothing(
    api: Api, platform: PlatformRegistration
) -> None:
    url = registration_url(api)
    stale = platform.initiation_url(url).replace(platform.token, "stale-token")
    refused = await api.client.get(stale)
    assert refused.status_code == 502
    assert "answered 401: invalid_token" in refused.text
    assert "start the registration again" in refused.text
    assert await stored(api) == []


async def test_a_platform_outside_https_is_refused_without_contacting_it(
    api: Api, platform: PlatformRegistration
) -> None:
    url = registration_url(api) + "?openid_configuration=http://lms.example.edu/config"
    refused = await api.client.get(url)
    assert refused.status_code == 400
    assert "is not an HTTPS URL" in refused.text
    opened_directly = await api.client.get(registration_url(api))
    assert opened_directly.status_code == 400
    assert "Tool URL" in opened_directly.text
    assert await stored(api) == []


async def test_a_url_for_one_issuer_accepts_it_from_another_site_and_nothing_else(
    api: Api, platform: PlatformRegistration
) -> None:
    """Canvas's issuer is https://canvas.instructure.com while its configuration is served from
    the school's site: the operator's URL for that issuer lets it in, and only it."""
    settings = api.services.settings
    urls = ToolUrls(settings.base_url)
    canvas = "https://canvas.instructure.com"
    for_canvas = urls.registration(settings.shared_secret, issuer=canvas)

    platform.claimed_issuer = "https://lms.example.edu"
    other = await api.client.get(platform.initiation_url(for_canvas))
    assert other.status_code == 400
    assert f"this registration URL is for {canvas} only" in other.text
    # The issuer in the URL cannot be swapped: the key vouches for that issuer alone.
    key = for_canvas.split("/")[-2]
    swapped = for_canvas.rsplit("/", 2)[0] + f"/{key}/" + issuer_segment(platform.issuer)
    assert (await api.client.get(platform.initiation_url(swapped))).status_code == 403
    assert await stored(api) == []

    # Canvas, which names no deployment in its answer and sends no names unless asked.
    platform.claimed_issuer = canvas
    platform.product = "canvas"
    platform.deployment_id = None
    page = await api.client.get(platform.initiation_url(for_canvas))
    assert page.status_code == 200, page.text
    [registered] = await stored(api)
    assert registered.issuer == canvas
    assert registered.client_id == platform.client_id
    assert registered.deployments == ()
    assert f"sala lti add-deployment {registered.id} DEPLOYMENT_ID" in page.text
    tool = platform.registrations[-1][TOOL_CONFIGURATION]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert tool["messages"][1]["placements"] == ["link_selection", "assignment_selection"]

"""What the landing tests share: a registered platform, launches of one activity by people of
several roles (sessions opened with `Sessions.open`, as a verified launch does), recordings put
in the catalogue as the pipeline leaves them, and a Starlette app (the LMS simulator's parts)
served on loopback in the test's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sala.lti import claims as c
from sala.lti.platforms import Platform, Platforms
from sala.lti.sessions import Sessions
from sala.services import Services
from sala.store import tables
from tests.support.serving import stop_server

ISSUER = "https://lms.test"
CLIENT_ID = "sala-tool"
DEPLOYMENT = "deployment-1"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR = [LIS + "Instructor"]
LEARNER = [LIS + "Learner"]


async def platform(
    services: Services, token_url: str = "https://lms.test/token", issuer: str = ISSUER
) -> Platform:
    return await Platforms(services.db, services.clock).add(
        issuer=issuer,
        client_id=CLIENT_ID,
        auth_login_url=f"{issuer}/auth",
        jwks_url=f"{issuer}/jwks",
        auth_token_url=token_url,
        name="Test LMS",
        deployments=(DEPLOYMENT,),
    )


def launch_claims(
    sub: str,
    name: str,
    roles: list[str],
    *,
    link: str = "link-1",
    custom: dict[str, str] | None = None,
    locale: str = "en-US",
    context: str = "course-1",
    nrps_url: str | None = None,
    picture: str = "",
    issuer: str = ISSUER,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "iss": issuer,
        "aud": CLIENT_ID,
        "sub": sub,
        "name": name,
        "email": f"{sub}@lms.test",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
        c.VERSION: "1.3.0",
        c.DEPLOYMENT_ID: DEPLOYMENT,
        c.RESOURCE_LINK: {"id": link, "title": "Aula de Física"},
        c.ROLES: roles,
        c.CONTEXT: {"id": context, "title": "Física I", "label": "FIS1"},
        c.LAUNCH_PRESENTATION: {"locale": locale, "return_url": "https://lms.test/course/1"},
        c.CUSTOM: custom or {},
    }
    if picture:
        found["picture"] = picture
    if nrps_url:
        found[c.NAMES_ROLES] = {"context_memberships_url": nrps_url, "service_versions": ["2.0"]}
    return found


async def session(services: Services, found: Platform, claims: dict[str, Any]) -> str:
    opened = await Sessions(services.db, services.clock).open(found, claims)
    return opened.token


async def recording(
    services: Services,
    meeting_id: str,
    *,
    suffix: int = 0,
    state: str = "published",
    protected: bool = False,
    name: str = "Aula de Física",
    start: int | None = None,
    minutes: int = 30,
) -> str:
    """A recording of the meeting `meeting_id` (external ID) with a presentation format,
    `minutes` long from `start` (ms; default a fixed time in 2023, `suffix` seconds later)."""
    start = 1_700_000_000_000 + suffix * 1000 if start is None else start
    record_id = f"{hashlib.sha1(meeting_id.encode()).hexdigest()}-{start}"
    url = f"https://sala.test/playback/presentation/2.3/{record_id}"
    async with services.db.write() as conn:
        await conn.execute(
            insert(tables.recordings).values(
                record_id=record_id,
                meeting_id=meeting_id,
                internal_meeting_id=record_id,
                name=name,
                is_breakout=False,
                state=state,
                start_time=start,
                end_time=start + minutes * 60_000,
                participants=2,
                raw_size=100,
                size=50,
                metadata={},
                formats=[{"type": "presentation", "url": url, "length_ms": minutes * 60_000}],
                text_tracks=[],
                protected=protected,
            )
        )
    return record_id


@contextlib.asynccontextmanager
async def served(routes: list[BaseRoute]) -> AsyncIterator[str]:
    """`routes` served by uvicorn on a free loopback port, in this event loop; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "the simulator did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await stop_server(server, task)

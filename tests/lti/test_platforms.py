"""The registry of platforms and the sessions launches open, on SQLite as on PostgreSQL:
registrations are unique per issuer and client, a login that names no client finds the issuer's
only registration, removing a platform leaves nothing of it behind, and sessions expire."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from sala.clock import ManualClock
from sala.config import Settings
from sala.lti.claims import DEPLOYMENT_ID, MESSAGE_TYPE, RESOURCE_LINK, ROLES
from sala.lti.platforms import PlatformExists, Platforms
from sala.lti.sessions import Sessions
from sala.store import tables
from sala.store.db import Database

ISSUER = "https://lms.example.edu"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.sqlalchemy_url)
    await database.migrate()
    yield database
    await database.dispose()


async def _add(platforms: Platforms, client_id: str = "client-1") -> object:
    return await platforms.add(
        issuer=ISSUER,
        client_id=client_id,
        auth_login_url=f"{ISSUER}/auth",
        jwks_url=f"{ISSUER}/jwks",
        deployments=["d1", "d1", "d2"],
    )


async def test_one_registration_per_issuer_and_client(db: Database, clock: ManualClock) -> None:
    platforms = Platforms(db, clock)
    first = await _add(platforms)
    assert first == await platforms.find(ISSUER, "client-1")
    assert (await platforms.find(ISSUER)).deployments == ("d1", "d2")  # type: ignore[union-attr]
    with pytest.raises(PlatformExists):
        await _add(platforms)
    await _add(platforms, "client-2")
    # Two clients of one issuer: a login naming neither is ambiguous.
    assert await platforms.find(ISSUER) is None
    assert (await platforms.find(ISSUER, "client-2")).client_id == "client-2"  # type: ignore[union-attr]
    assert await platforms.find("https://other.example.edu") is None


async def test_removing_a_platform_ends_its_sessions(db: Database, clock: ManualClock) -> None:
    platforms = Platforms(db, clock)
    platform = await _add(platforms)
    assert await platforms.add_deployment(platform.id, "d3")  # type: ignore[attr-defined]
    assert not await platforms.add_deployment(platform.id, "d3")  # type: ignore[attr-defined]
    sessions = Sessions(db, clock, minutes=10)
    claims = {
        "iss": ISSUER,
        "sub": "u1",
        "given_name": "Ana",
        "family_name": "Souza",
        MESSAGE_TYPE: "LtiResourceLinkRequest",
        DEPLOYMENT_ID: "d1",
        RESOURCE_LINK: {"id": "rl-1", "title": "Aula 1"},
        ROLES: [MEMBERSHIP + "Instructor"],
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {"locale": "pt_BR"},
    }
    opened = await sessions.open(platform, claims)  # type: ignore[arg-type]
    got = await sessions.get(opened.token)
    assert got is not None
    assert got.launch.name == "Ana Souza" and got.launch.moderator
    assert got.launch.locale == "pt-BR" and got.launch.resource_link_id == "rl-1"

    assert await platforms.remove(platform.id)  # type: ignore[attr-defined]
    assert await sessions.get(opened.token) is None
    async with db.read() as conn:
        for table in (tables.lti_deployments, tables.lti_sessions, tables.lti_platforms):
            assert (await conn.execute(select(func.count()).select_from(table))).scalar() == 0


async def test_a_session_expires(db: Database, clock: ManualClock) -> None:
    platform = await _add(Platforms(db, clock))
    sessions = Sessions(db, clock, minutes=10)
    opened = await sessions.open(platform, {"iss": ISSUER, ROLES: [MEMBERSHIP + "Learner"]})  # type: ignore[arg-type]
    assert (await sessions.get(opened.token)).launch.moderator is False  # type: ignore[union-attr]
    clock.advance(minutes=10)
    assert await sessions.get(opened.token) is None
    assert await sessions.get("") is None and await sessions.get("x" * 100) is None

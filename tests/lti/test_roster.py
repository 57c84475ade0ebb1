"""The instructor's roster: the course's members from the platform's Names and Role
Provisioning Service (sala authenticates to the platform's token endpoint with a JWT signed by
its own key, and reads every page of the membership), each with how many sessions of the
activity's meeting they entered, from the event log. The LMS simulator's services run on
loopback and check everything sala sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sala.lti import meetings as activity
from sala.lti.claims import Launch
from tests.conftest import Api
from tests.lti.landing_support import (
    CLIENT_ID,
    INSTRUCTOR,
    LEARNER,
    launch_claims,
    platform,
    served,
    session,
)
from tests.lti.test_landing import enter
from tests.support.lms.services import LmsServices, member

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def lms(api: Api) -> AsyncIterator[tuple[LmsServices, str]]:
    async def sala_jwks() -> dict[str, Any]:
        keys: dict[str, Any] = (await api.client.get("/lti/jwks")).json()
        return keys

    services = LmsServices(
        client_id=CLIENT_ID,
        jwks=sala_jwks,
        members={
            "course-1": [
                member("t1", "Ana Lima", "Instructor"),
                member("s1", "Bruno Souza"),
                member("s2", "Carla Dias"),
                member("s3", "Davi Rocha"),
                member("s4", "Elisa Melo", status="Inactive"),
            ]
        },
    )
    async with served(services.routes()) as url:
        yield services, url


async def test_roster_with_attendance_over_all_sessions(
    api: Api, lms: tuple[LmsServices, str]
) -> None:
    simulator, url = lms
    found = await platform(api.services, token_url=f"{url}/token")
    nrps = f"{url}/nrps/contexts/course-1/memberships"

    def claims(sub: str, name: str, roles: list[str]) -> dict[str, Any]:
        return launch_claims(sub, name, roles, nrps_url=nrps)

    teacher = await session(api.services, found, claims("t1", "Ana Lima", INSTRUCTOR))
    bruno = await session(api.services, found, claims("s1", "Bruno Souza", LEARNER))
    carla = await session(api.services, found, claims("s2", "Carla Dias", LEARNER))
    mid = activity.meeting_id(
        Launch.from_claims(
            claims("t1", "Ana", INSTRUCTOR), platform_id=found.id, client_id=found.client_id
        )
    )

    # Monday's class: Ana and Bruno; Wednesday's: Ana and Carla (twice: she reconnected).
    await enter(api, teacher)
    await enter(api, bruno)
    await api.services.meetings.end(mid)
    await enter(api, teacher)
    await enter(api, carla)
    await enter(api, carla)

    seen = (await api.client.get(f"/lti/rooms/{teacher}/state")).json()
    assert seen["roster"] is True
    answer = await api.client.get(f"/lti/rooms/{teacher}/roster")
    assert answer.status_code == 200, answer.text
    rows = {m["name"]: m for m in answer.json()["members"]}
    assert {name: row["sessions"] for name, row in rows.items()} == {
        "Ana Lima": 2,
        "Bruno Souza": 1,
        "Carla Dias": 1,
        "Davi Rocha": 0,
        "Elisa Melo": 0,
    }
    assert rows["Ana Lima"]["roles"] == ["Instructor"]
    assert rows["Bruno Souza"]["roles"] == ["Learner"]
    assert rows["Davi Rocha"]["lastJoined"] is None and rows["Carla Dias"]["lastJoined"]
    assert rows["Elisa Melo"]["status"] == "Inactive"
    # One token, then every page of the membership (two members a page).
    assert simulator.log == [
        ("token", CLIENT_ID),
        ("members", "course-1:0"),
        ("members", "course-1:2"),
        ("members", "course-1:4"),
    ]

    # The token is reused while valid; the learners' page has no roster and gets none.
    assert (await api.client.get(f"/lti/rooms/{teacher}/roster")).status_code == 200
    assert [what for what, _ in simulator.log].count("token") == 1
    asked = len(simulator.log)
    assert (await api.client.get(f"/lti/rooms/{bruno}/state")).json()["roster"] is False
    assert (await api.client.get(f"/lti/rooms/{bruno}/roster")).status_code == 403
    assert len(simulator.log) == asked


async def test_a_platform_refusing_sala_shows_the_roster_unavailable(
    api: Api, lms: tuple[LmsServices, str]
) -> None:
    simulator, url = lms
    simulator.client_id = "someone-else"  # sala's assertion is not the registered client's
    found = await platform(api.services, token_url=f"{url}/token")
    teacher = await session(
        api.services,
        found,
        launch_claims(
            "t1", "Ana", INSTRUCTOR, nrps_url=f"{url}/nrps/contexts/course-1/memberships"
        ),
    )
    answer = await api.client.get(f"/lti/rooms/{teacher}/roster")
    assert answer.status_code == 502 and answer.json() == {"error": "unavailable"}
    assert simulator.log == [("token-refused", "iss/sub")]

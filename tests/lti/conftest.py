"""sala and the LMS simulator, both on loopback, with the simulator registered in sala as a
platform: what every LTI flow test starts from.

`lti` gives an `LtiBed`: `bed.sim` (tests/support/lms/core.py), `bed.sala` (the server, its
services), `bed.platform` (the registration), `bed.clock` (sala's clock), `bed.browser()` (a
fresh browser, closed at the end) and `await bed.launch(user, ...)`, the whole flow a browser
goes through. Parts of the simulator from other modules are passed with
`@pytest.mark.lms_parts(fn, ...)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sala.clock import ManualClock
from sala.config import Settings
from sala.lti.platforms import Platform, Platforms
from sala.lti.sessions import LandingSession, Sessions
from tests.room.conftest import RoomServer, serve_room
from tests.support.lms.core import (
    INSTRUCTOR,
    Browser,
    Prepared,
    Simulator,
    Tool,
    User,
    Visit,
    serve_simulator,
)


@dataclass
class Launched:
    prepared: Prepared
    visit: Visit
    location: str | None
    """Where sala sent the browser after a launch it accepted (/lti/rooms/… or
    /lti/deep-link/…), None if it refused."""
    session: LandingSession | None


@dataclass
class LtiBed:
    sala: RoomServer
    sim: Simulator
    registration: Platform | None
    """The simulator's registration in sala (None when opened with register=False, for tests
    that register it themselves, dynamically or through the CLI)."""
    clock: ManualClock
    settings: Settings
    _browsers: list[Browser] = field(default_factory=list)

    @property
    def platform(self) -> Platform:
        assert self.registration is not None, "the simulator is not registered in sala"
        return self.registration

    @property
    def platforms(self) -> Platforms:
        return Platforms(self.sala.services.db, self.sala.services.clock)

    @property
    def sessions(self) -> Sessions:
        return Sessions(self.sala.services.db, self.sala.services.clock)

    def browser(self, accept_cookies: bool = True) -> Browser:
        browser = Browser(accept_cookies)
        self._browsers.append(browser)
        return browser

    async def launch(
        self, user: User = INSTRUCTOR, *, browser: Browser | None = None, **prepare: Any
    ) -> Launched:
        """`user` launches from the simulator (login initiation, authorization, launch) in
        `browser` (default: a new one); `prepare` goes to Simulator.prepare."""
        prepared = self.sim.prepare(user, **prepare)
        visit = await (browser or self.browser()).go(self.sim.start_url(prepared))
        location = visit.redirect_to("/lti/rooms/") or visit.redirect_to("/lti/deep-link/")
        session = None
        if location is not None:
            session = await self.sessions.get(location.rstrip("/").rsplit("/", 1)[1])
        return Launched(prepared, visit, location, session)

    async def close(self) -> None:
        for browser in self._browsers:
            await browser.aclose()


def lms_parts(request: pytest.FixtureRequest) -> tuple[Any, ...]:
    marker = request.node.get_closest_marker("lms_parts")
    return tuple(marker.args) if marker else ()


@contextlib.asynccontextmanager
async def open_bed(
    settings: Settings,
    clock: ManualClock,
    parts: tuple[Any, ...] = (),
    lms_host: str = "127.0.0.1",
    register: bool = True,
) -> AsyncIterator[LtiBed]:
    """The simulator (with `parts`, on `lms_host`) and sala, the simulator registered in sala
    as a platform with its deployment unless `register` is False."""
    sim = Simulator(parts)
    async with serve_simulator(sim, lms_host), serve_room(settings, clock) as sala:
        sim.tool = Tool(
            login_url=sala.base + "/lti/login",
            launch_url=sala.base + "/lti/launch",
            jwks_url=sala.base + "/lti/jwks",
        )
        platform = None
        if register:
            platform = await Platforms(sala.services.db, sala.services.clock).add(
                issuer=sim.issuer,
                client_id=sim.client_id,
                auth_login_url=sim.auth_url,
                jwks_url=sim.jwks_url,
                auth_token_url=sim.token_url,
                name=sim.name,
                deployments=[sim.deployment_id],
            )
        bed = LtiBed(sala, sim, platform, clock, settings)
        try:
            yield bed
        finally:
            await bed.close()


@pytest.fixture
async def lti(
    settings: Settings, clock: ManualClock, request: pytest.FixtureRequest
) -> AsyncIterator[LtiBed]:
    async with open_bed(settings, clock, lms_parts(request)) as bed:
        yield bed

"""Fixtures of the meetings tests: the services on a migrated database, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sala.clock import ManualClock
from sala.config import Settings
from sala.services import Services, build_services


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    built = build_services(settings, clock)
    await built.db.migrate()
    yield built
    await built.db.dispose()

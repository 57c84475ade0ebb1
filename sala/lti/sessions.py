"""The sessions verified launches open: a random token that lets one browser use the landing
page (join, and for instructors manage recordings) for a while.

The token travels in the landing page's URL rather than in a cookie: inside the platform's
iframe, browsers that block third-party cookies would otherwise lose it. It is 256 random bits,
single-purpose, expires (`lti_session_minutes`), and the page sends no Referer carrying it.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from sala.clock import Clock
from sala.lti.claims import DEFAULT_MODERATOR_ROLES, Launch
from sala.lti.platforms import Platform
from sala.store import tables
from sala.store.db import Database

t = tables.lti_sessions


@dataclass(frozen=True)
class LandingSession:
    token: str
    launch: Launch
    expires_at: int


class Sessions:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        minutes: int = 480,
        moderator_roles: Collection[str] = DEFAULT_MODERATOR_ROLES,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ms = minutes * 60_000
        self._moderator_roles = frozenset(moderator_roles)

    def launch_of(self, platform: Platform, claims: Mapping[str, Any]) -> Launch:
        return Launch.from_claims(
            claims,
            platform_id=platform.id,
            client_id=platform.client_id,
            moderator_roles=self._moderator_roles,
        )

    async def open(self, platform: Platform, claims: Mapping[str, Any]) -> LandingSession:
        token = secrets.token_urlsafe(32)
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            await conn.execute(delete(t).where(t.c.expires_at < now))
            await conn.execute(
                insert(t).values(
                    token=token,
                    platform_id=platform.id,
                    launch=dict(claims),
                    created_at=now,
                    expires_at=now + self._ms,
                )
            )
        return LandingSession(token, self.launch_of(platform, claims), now + self._ms)

    async def get(self, token: str) -> LandingSession | None:
        """The live session `token` names, or None (unknown or expired)."""
        if not token or len(token) > 64:
            return None
        p = tables.lti_platforms
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(t.c.launch, t.c.expires_at, p.c.id, p.c.client_id)
                    .join(p, p.c.id == t.c.platform_id)
                    .where(t.c.token == token)
                )
            ).first()
        if row is None or row.expires_at <= self._clock.now_ms():
            return None
        launch = Launch.from_claims(
            row.launch,
            platform_id=row.id,
            client_id=row.client_id,
            moderator_roles=self._moderator_roles,
        )
        return LandingSession(token, launch, row.expires_at)

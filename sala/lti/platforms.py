"""The learning platforms sala trusts, and their deployments.

A platform is registered once (LTI Dynamic Registration, or `sala lti add-platform` for those
without it) and known by its issuer and the client id it gave sala; a launch is let in only
for a deployment registered under that platform. Removing a platform removes its deployments,
logins in flight and sessions with it (the foreign keys cascade).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from sala.clock import Clock
from sala.store import tables
from sala.store.db import Database

t = tables.lti_platforms
d = tables.lti_deployments


@dataclass(frozen=True)
class Platform:
    id: int
    issuer: str
    client_id: str
    name: str
    auth_login_url: str
    auth_token_url: str | None
    token_audience: str | None
    jwks_url: str
    registered_by: str
    created_at: int
    deployments: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], deployments: Sequence[str]) -> Platform:
        return cls(
            id=row["id"],
            issuer=row["issuer"],
            client_id=row["client_id"],
            name=row["name"],
            auth_login_url=row["auth_login_url"],
            auth_token_url=row["auth_token_url"],
            token_audience=row["token_audience"],
            jwks_url=row["jwks_url"],
            registered_by=row["registered_by"],
            created_at=row["created_at"],
            deployments=tuple(sorted(deployments)),
        )


class PlatformExists(Exception):
    """That issuer already registered that client id."""


class Platforms:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self,
        *,
        issuer: str,
        client_id: str,
        auth_login_url: str,
        jwks_url: str,
        auth_token_url: str | None = None,
        token_audience: str | None = None,
        name: str = "",
        deployments: Sequence[str] = (),
        registered_by: str = "cli",
    ) -> Platform:
        now = self._clock.now_ms()
        try:
            async with self._db.write() as conn:
                platform_id = (
                    await conn.execute(
                        insert(t)
                        .values(
                            issuer=issuer,
                            client_id=client_id,
                            name=name,
                            auth_login_url=auth_login_url,
                            auth_token_url=auth_token_url,
                            token_audience=token_audience,
                            jwks_url=jwks_url,
                            registered_by=registered_by,
                            created_at=now,
                        )
                        .returning(t.c.id)
                    )
                ).scalar_one()
                for deployment_id in dict.fromkeys(deployments):
                    await conn.execute(
                        insert(d).values(
                            platform_id=platform_id, deployment_id=deployment_id, created_at=now
                        )
                    )
        except IntegrityError:
            raise PlatformExists(f"{issuer} already registered client {client_id}") from None
        found = await self.get(platform_id)
        assert found is not None
        return found

    async def add_deployment(self, platform_id: int, deployment_id: str) -> bool:
        """False when the platform already had it."""
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(d).values(
                        platform_id=platform_id,
                        deployment_id=deployment_id,
                        created_at=self._clock.now_ms(),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def get(self, platform_id: int) -> Platform | None:
        found = await self._select(t.c.id == platform_id)
        return found[0] if found else None

    async def find(self, issuer: str, client_id: str | None = None) -> Platform | None:
        """The platform `issuer` registered with `client_id`; without a client id (a login
        initiation may leave it out), the issuer's only registration, if it has exactly one."""
        if client_id is not None:
            found = await self._select((t.c.issuer == issuer) & (t.c.client_id == client_id))
        else:
            found = await self._select(t.c.issuer == issuer)
        return found[0] if len(found) == 1 else None

    async def all(self) -> list[Platform]:
        return await self._select(None)

    async def remove(self, platform_id: int) -> bool:
        async with self._db.write() as conn:
            # SQLite enforces foreign keys only when asked; delete the children explicitly.
            for child in (tables.lti_sessions, tables.lti_nonces, tables.lti_states, d):
                await conn.execute(delete(child).where(child.c.platform_id == platform_id))
            gone = await conn.execute(delete(t).where(t.c.id == platform_id))
        return bool(gone.rowcount)

    async def _select(self, where: Any) -> list[Platform]:
        query = select(t).order_by(t.c.id)
        if where is not None:
            query = query.where(where)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
            ids = [row["id"] for row in rows]
            deployments: dict[int, list[str]] = {i: [] for i in ids}
            if ids:
                for platform_id, deployment_id in await conn.execute(
                    select(d.c.platform_id, d.c.deployment_id).where(d.c.platform_id.in_(ids))
                ):
                    deployments[platform_id].append(deployment_id)
        return [Platform.from_row(row, deployments[row["id"]]) for row in rows]

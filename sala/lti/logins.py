"""Logins in flight and nonces already used: what ties a launch to the login that asked for it,
and makes each id_token good for one launch.

A login initiation stores a random `state` and `nonce` (`lti_states`) for a few minutes; the
platform sends both back, the nonce inside the signed id_token. A launch is let in only by
spending its state (deleted, so once) and recording its nonce (`lti_nonces`, kept until the
token would have expired anyway), in one transaction: a token posted twice, or a nonce seen
before, is refused, and a refused launch spends nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from sala.clock import Clock
from sala.store import tables
from sala.store.db import Database

states = tables.lti_states
nonces = tables.lti_nonces

MAX_NONCE_KEEP_MS = 86_400_000
"""A nonce is kept until its token expires, at most a day: an older token cannot be replayed
anyway, since the state it needs was spent (and a new login's state carries a new nonce)."""


@dataclass(frozen=True)
class Login:
    state: str
    nonce: str
    platform_id: int
    expires_at: int
    storage_target: str | None


class Replayed(Exception):
    """The nonce was used by an earlier launch."""


class StateSpent(Exception):
    """The state is unknown: used by an earlier launch, expired, or never issued."""


class Logins:
    def __init__(self, db: Database, clock: Clock, minutes: float = 10) -> None:
        self._db = db
        self._clock = clock
        self._ms = int(minutes * 60_000)

    async def begin(self, platform_id: int, storage_target: str | None = None) -> Login:
        now = self._clock.now_ms()
        login = Login(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            platform_id=platform_id,
            expires_at=now + self._ms,
            storage_target=storage_target,
        )
        async with self._db.write() as conn:
            # Logins nobody finished, and nonces past their time, go as new ones come.
            await conn.execute(delete(states).where(states.c.expires_at < now))
            await conn.execute(delete(nonces).where(nonces.c.expires_at < now))
            await conn.execute(
                insert(states).values(
                    state=login.state,
                    nonce=login.nonce,
                    platform_id=platform_id,
                    expires_at=login.expires_at,
                    storage_target=storage_target,
                )
            )
        return login

    async def find(self, state: str) -> Login | None:
        """The live login `state` names, without spending it."""
        if not state or len(state) > 64:
            return None
        async with self._db.read() as conn:
            row = (await conn.execute(select(states).where(states.c.state == state))).first()
        if row is None or row.expires_at <= self._clock.now_ms():
            return None
        return Login(row.state, row.nonce, row.platform_id, row.expires_at, row.storage_target)

    async def nonce_used(self, platform_id: int, nonce: str) -> bool:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(nonces.c.nonce).where(
                        (nonces.c.platform_id == platform_id) & (nonces.c.nonce == nonce)
                    )
                )
            ).first()
        return row is not None

    async def spend(self, login: Login, nonce: str, token_expires_ms: int) -> None:
        """Spend the login's state and record the token's nonce, both or neither. Raises
        StateSpent or Replayed."""
        now = self._clock.now_ms()
        keep_until = min(max(token_expires_ms, now), now + MAX_NONCE_KEEP_MS)
        try:
            async with self._db.write() as conn:
                gone = await conn.execute(
                    delete(states).where(
                        (states.c.state == login.state) & (states.c.expires_at > now)
                    )
                )
                if gone.rowcount != 1:
                    raise StateSpent(login.state)
                await conn.execute(
                    insert(nonces).values(
                        platform_id=login.platform_id, nonce=nonce, expires_at=keep_until
                    )
                )
        except IntegrityError:
            raise Replayed(nonce) from None

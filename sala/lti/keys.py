"""sala's own signing keys as an LTI tool: RSA keys kept in the database (`lti_keys`), the newest
active one signing (RS256, its `kid` in the header), all of them published at `GET /lti/jwks`.

Platforms verify what sala signs (deep linking responses, the client assertions of service
calls) against that JWKS, which they cache. So a key is rotated, not replaced: after
`rotate_days` a new key signs and the old one is retired, but stays published for
RETIRED_GRACE_DAYS so a platform holding a token or a cached JWKS from before still verifies it.
Keys retired longer ago are deleted. Rotation happens on its own when a key is needed (no
timer), and `rotate()` forces one (say, after a suspected leak).

The kid is the key's RFC 7638 thumbprint: stable, derived from the public key, and identical
in every process that reads the same row.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, insert, select, update

from sala.clock import Clock
from sala.store import tables
from sala.store.db import Database

t = tables.lti_keys

ALGORITHM = "RS256"
KEY_BITS = 2048
RETIRED_GRACE_DAYS = 7
"""How long a retired key stays in the JWKS: longer than platforms cache a JWKS (hours) and than
anything sala signs lives (minutes)."""
DAY_MS = 86_400_000


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {"kty": "RSA", "e": _b64(numbers.e), "n": _b64(numbers.n)}


def thumbprint(public: rsa.RSAPublicKey) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    members = json.dumps(public_jwk(public), sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def _new_key() -> tuple[str, str]:
    """(kid, private PEM). CPU-bound for tens of milliseconds: run it off the event loop."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return thumbprint(key.public_key()), pem


@dataclass(frozen=True)
class _Key:
    kid: str
    private: rsa.RSAPrivateKey
    created_at: int
    retired_at: int | None


class ToolKeys:
    def __init__(self, db: Database, clock: Clock, rotate_days: float = 90) -> None:
        """`rotate_days`: age at which the signing key is replaced; 0 never rotates on its own."""
        self._db = db
        self._clock = clock
        self._rotate_ms = int(rotate_days * DAY_MS)
        self._parsed: dict[str, rsa.RSAPrivateKey] = {}
        # One rotation at a time in this process (another process may rotate too: both keys
        # are then published, and the newest signs).
        self._lock = asyncio.Lock()

    async def sign(
        self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None
    ) -> str:
        """A compact JWS (RS256) of `claims`, signed with the current key, `kid` in its header."""
        key = await self._current()
        return jwt.encode(
            dict(claims),
            key.private,
            algorithm=ALGORITHM,
            headers={**(headers or {}), "kid": key.kid},
        )

    async def jwks(self) -> dict[str, Any]:
        """The JWK Set to publish: the signing key and those retired within the grace period."""
        await self._current()  # creates the first key, or rotates a stale one
        return {
            "keys": [
                {
                    **public_jwk(key.private.public_key()),
                    "kid": key.kid,
                    "alg": ALGORITHM,
                    "use": "sig",
                }
                for key in await self._published()
            ]
        }

    async def rotate(self) -> str:
        """A new signing key now; the old ones are retired (still published for the grace
        period). The new key's kid."""
        async with self._lock:
            return await self._rotate()

    async def _current(self) -> _Key:
        active = await self._active()
        if active is not None and not self._stale(active):
            return active
        async with self._lock:
            active = await self._active()  # another task may have rotated while we waited
            if active is None or self._stale(active):
                await self._rotate()
                active = await self._active()
        assert active is not None
        return active

    def _stale(self, key: _Key) -> bool:
        return self._rotate_ms > 0 and self._clock.now_ms() - key.created_at >= self._rotate_ms

    async def _rotate(self) -> str:
        kid, pem = await asyncio.to_thread(_new_key)
        now = self._clock.now_ms()
        async with self._db.write() as conn:
            await conn.execute(update(t).where(t.c.retired_at.is_(None)).values(retired_at=now))
            await conn.execute(delete(t).where(t.c.retired_at < now - RETIRED_GRACE_DAYS * DAY_MS))
            await conn.execute(insert(t).values(kid=kid, private_pem=pem, created_at=now))
        return kid

    async def _active(self) -> _Key | None:
        keys = [key for key in await self._published() if key.retired_at is None]
        return keys[0] if keys else None

    async def _published(self) -> list[_Key]:
        """Active keys (newest first), then retired ones still within the grace period."""
        horizon = self._clock.now_ms() - RETIRED_GRACE_DAYS * DAY_MS
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    select(t)
                    .where(t.c.retired_at.is_(None) | (t.c.retired_at >= horizon))
                    .order_by(t.c.retired_at.is_not(None), t.c.created_at.desc())
                )
            ).all()
        return [
            _Key(row.kid, self._private(row.kid, row.private_pem), row.created_at, row.retired_at)
            for row in rows
        ]

    def _private(self, kid: str, pem: str) -> rsa.RSAPrivateKey:
        # Parsing a PEM costs a millisecond or so; keys never change under their kid.
        key = self._parsed.get(kid)
        if key is None:
            loaded = serialization.load_pem_private_key(pem.encode(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"LTI key {kid} is not an RSA key")
            key = self._parsed[kid] = loaded
        return key

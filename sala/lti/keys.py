"""STAND-IN for H1's ToolKeys (drop at merge): one in-memory RSA key per process, enough for
the registration and deep linking tests to sign and publish. H1's module owns the real one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sala.clock import Clock
from sala.store.db import Database


class ToolKeys:
    def __init__(self, db: Database, clock: Clock, rotate_days: int = 90) -> None:
        self._key: rsa.RSAPrivateKey | None = None
        self._kid = "stand-in"

    async def _private(self) -> rsa.RSAPrivateKey:
        if self._key is None:
            self._key = await asyncio.to_thread(rsa.generate_private_key, 65537, 2048)
        return self._key

    async def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        key = await self._private()
        return jwt.encode(claims, key, "RS256", headers={**(headers or {}), "kid": self._kid})

    async def jwks(self) -> dict[str, Any]:
        key = await self._private()
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        return {"keys": [{**jwk, "kid": self._kid, "alg": "RS256", "use": "sig"}]}

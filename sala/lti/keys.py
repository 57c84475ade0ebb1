"""STAND-IN for H1's ToolKeys (sala/lti/keys.py): drop this file at merge.

An in-memory RSA key with the interface the preamble gives (`sign`, `jwks`, `rotate`), so the
landing's NRPS client and its tests run before the real one is merged.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sala.clock import Clock
from sala.store.db import Database


class ToolKeys:
    def __init__(self, db: Database, clock: Clock, rotate_days: int = 90) -> None:
        self._clock = clock
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = uuid.uuid4().hex

    async def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(claims, self._key, "RS256", headers={**(headers or {}), "kid": self._kid})

    async def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self._kid, "alg": "RS256", "use": "sig"}]}

    async def rotate(self) -> str:
        return self._kid


def stand_in_routes(keys: ToolKeys) -> list[BaseRoute]:
    """GET /lti/jwks, as H1's lti_routes serves it: for the simulator's token endpoint."""

    async def jwks(_: Request) -> Response:
        return JSONResponse(await keys.jwks())

    return [Route("/lti/jwks", jwks, methods=["GET"])]

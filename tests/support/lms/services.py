"""The LMS simulator's LTI Advantage services: the OAuth 2.0 token endpoint and the Names and
Role Provisioning Services 2.0 membership endpoint.

The token endpoint grants `client_credentials` only to a tool that authenticates with a JWT
client assertion (RFC 7523, LTI Advantage Security Framework §4.1): signed with a key from the
tool's published JWKS, `iss` and `sub` the tool's client ID, `aud` this endpoint, unexpired, and
a `jti` not seen before. The membership endpoint wants that token as a Bearer, the NRPS media
type, and answers the context's members `page_size` at a time, linking the next page with
`Link: <…>; rel="next"`. Everything it was asked is kept in `log`, for the tests to read.

`simulator_part` plugs both into the simulator's server (core.py's `Simulator(parts=…)`): the
tool is the simulator's registered client, its keys are read from the tool's JWKS URL, and a
course's members are those of the courses of the simulator's prepared launches.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
MEMBERSHIPS_PATH = "/nrps/contexts/{context}/memberships"
TOKEN_PATH = "/token"

Jwks = Callable[[], Awaitable[dict[str, Any]]]


def jwks_at(url: str) -> Jwks:
    """The tool's keys, read from its JWKS URL at each verification (as a platform may)."""

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(url)
            answer.raise_for_status()
            keys: dict[str, Any] = answer.json()
            return keys

    return fetch


def member(user_id: str, name: str, role: str = "Learner", **extra: Any) -> dict[str, Any]:
    """A member as NRPS lists one."""
    given, _, family = name.partition(" ")
    return {
        "status": "Active",
        "name": name,
        "given_name": given,
        "family_name": family,
        "email": f"{user_id}@lms.test",
        "user_id": user_id,
        "roles": [LIS + role],
        **extra,
    }


@dataclass
class LmsServices:
    client_id: str
    jwks: Jwks
    members: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    """By context ID."""
    page_size: int = 2
    log: list[tuple[str, str]] = field(default_factory=list)
    """(what, detail): "token" granted, "token-refused" with the reason, "members" pages."""
    _tokens: dict[str, float] = field(default_factory=dict)
    _jtis: set[str] = field(default_factory=set)

    def routes(self) -> list[Route]:
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(MEMBERSHIPS_PATH, self.memberships, methods=["GET"]),
        ]

    def _refuse(self, error: str, reason: str, status: int = 400) -> Response:
        self.log.append(("token-refused", reason))
        return JSONResponse({"error": error, "error_description": reason}, status)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return self._refuse("unsupported_grant_type", "grant_type")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return self._refuse("invalid_client", "client_assertion_type")
        scopes = str(form.get("scope", "")).split()
        if NRPS_SCOPE not in scopes:
            return self._refuse("invalid_scope", "scope")
        assertion = str(form.get("client_assertion", ""))
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
            keys = {k.get("kid"): k for k in (await self.jwks())["keys"]}
            if kid not in keys:
                return self._refuse("invalid_client", "unknown kid", 401)
            claims = jwt.decode(
                assertion,
                jwt.PyJWK(keys[kid]).key,
                algorithms=["RS256"],
                audience=str(request.url),
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            return self._refuse("invalid_client", f"assertion: {exc}", 401)
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            return self._refuse("invalid_client", "iss/sub", 401)
        if claims["jti"] in self._jtis:
            return self._refuse("invalid_client", "jti replayed", 401)
        self._jtis.add(claims["jti"])
        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + 3600
        self.log.append(("token", self.client_id))
        return JSONResponse(
            {"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": NRPS_SCOPE}
        )

    async def memberships(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        expires = self._tokens.get(auth.removeprefix("Bearer ").strip())
        if not auth.startswith("Bearer ") or expires is None or expires < time.monotonic():
            return JSONResponse({"error": "invalid_token"}, 401)
        if MEMBERSHIP_TYPE not in request.headers.get("accept", ""):
            return JSONResponse({"error": "not acceptable"}, 406)
        context = request.path_params["context"]
        everyone = self.members.get(context)
        if everyone is None:
            return JSONResponse({"error": "no such context"}, 404)
        start = int(request.query_params.get("from", "0"))
        page = everyone[start : start + self.page_size]
        self.log.append(("members", f"{context}:{start}"))
        headers = {"Content-Type": MEMBERSHIP_TYPE}
        if start + self.page_size < len(everyone):
            after = request.url.replace(query=urlencode({"from": start + self.page_size}))
            headers["Link"] = f'<{after}>; rel="next"'
        body = {
            "id": str(request.url),
            "context": {"id": context, "title": context},
            "members": page,
        }
        return JSONResponse(body, headers=headers, media_type=MEMBERSHIP_TYPE)


class _Courses(Mapping[str, list[dict[str, Any]]]):
    """The members of the courses the simulator's prepared launches name, by course ID."""

    def __init__(self, sim: Any) -> None:
        self._sim = sim

    def _all(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for prepared in self._sim.prepared.values():
            course = prepared.course
            found[course.id] = [
                {
                    "status": "Active",
                    "name": user.name,
                    "given_name": user.given_name,
                    "family_name": user.family_name,
                    "email": user.email,
                    "user_id": user.id,
                    "roles": list(user.roles),
                    **({"picture": user.picture} if user.picture else {}),
                }
                for user in course.members
            ]
        return found

    def __getitem__(self, context: str) -> list[dict[str, Any]]:
        return self._all()[context]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def simulator_part(sim: Any) -> list[BaseRoute]:
    """The token and membership endpoints as a part of core.py's `Simulator`; the instance is
    left on `sim.services` for the tests to read its log."""

    async def tool_keys() -> dict[str, Any]:
        assert sim.tool is not None, "set sim.tool (sala's URLs) first"
        return await jwks_at(sim.tool.jwks_url)()

    services = LmsServices(client_id=sim.client_id, jwks=tool_keys, members=_Courses(sim))
    sim.services = services
    return services.routes()

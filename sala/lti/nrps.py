"""The Names and Role Provisioning Services 2.0 client: who is in a course, as the platform says.

sala asks the platform's token endpoint for an access token with the OAuth 2.0 client
credentials grant, authenticating with a JWT client assertion (RFC 7523, as the LTI Advantage
Security Framework requires) signed with the tool's key (`ToolKeys.sign`), for the scope
`contextmembership.readonly`; then reads the membership container the launch named, page after
page (`Link: <…>; rel="next"`), bounded. Every request goes through `OutboundHttp` after the
destination policy approved the URL, as webhooks do: the URLs come from a signed launch and a
registered platform, but still must not reach sala's own network.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

from sala.clock import Clock
from sala.events.destinations import DestinationPolicy, DestinationRefused
from sala.events.outbound import AnswerTooLarge, OutboundHttp
from sala.lti.platforms import Platform

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_PAGES = 50
"""A course bigger than 50 pages of members is shown in part (the platform picks page sizes)."""
MAX_BODY = 8 * 1024 * 1024
TIMEOUT_S = 10.0

Signer = Callable[[dict[str, Any]], Awaitable[str]]


class RosterUnavailable(Exception):
    """The platform did not give the roster; the message says why, for the operator's log."""


@dataclass(frozen=True)
class Member:
    user_id: str
    """The platform's user ID: the `sub` of that user's launches."""
    name: str
    email: str
    roles: tuple[str, ...]
    status: str
    """Active, Inactive or Deleted (NRPS); Active when the platform leaves it out."""


def _member(raw: Mapping[str, Any]) -> Member | None:
    user = raw.get("user_id")
    if not isinstance(user, str) or not user:
        return None
    full = " ".join(
        str(raw[k]) for k in ("given_name", "family_name") if isinstance(raw.get(k), str)
    )
    roles = raw.get("roles")
    return Member(
        user_id=user,
        name=str(raw.get("name") or full or ""),
        email=str(raw.get("email") or ""),
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        status=str(raw.get("status") or "Active"),
    )


def next_link(header: str) -> str | None:
    """The `rel="next"` target of a Link header (RFC 8288), if any."""
    for part in header.split(","):
        target, _, params = part.partition(";")
        target = target.strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return target[1:-1]
    return None


class NamesRoles:
    def __init__(
        self,
        http: OutboundHttp,
        destinations: DestinationPolicy,
        sign: Signer,
        clock: Clock,
    ) -> None:
        self._http = http
        self._destinations = destinations
        self._sign = sign
        self._clock = clock
        self._tokens: dict[int, tuple[str, int]] = {}
        """Access tokens by platform, with when they expire (ms): one token serves many
        landings until it runs out, so a class opening the page does not ask once each."""

    async def _send(
        self, url: str, method: str, headers: dict[str, str], content: bytes | None = None
    ) -> httpx.Response:
        try:
            destination = await self._destinations.check(url)
        except DestinationRefused as refused:
            raise RosterUnavailable(f"{url}: {refused}") from None
        try:
            response = await self._http.request(
                destination,
                method,
                headers=headers,
                content=content,
                timeout_s=TIMEOUT_S,
                max_bytes=MAX_BODY,
            )
        except AnswerTooLarge:
            raise RosterUnavailable(f"{url}: answer too large") from None
        except httpx.HTTPError as exc:
            raise RosterUnavailable(f"{url}: {exc.__class__.__name__}") from None
        return response

    async def _access_token(self, platform: Platform) -> str:
        now = self._clock.now_ms()
        cached = self._tokens.get(platform.id)
        if cached is not None and cached[1] > now:
            return cached[0]
        if not platform.auth_token_url:
            raise RosterUnavailable(f"platform {platform.issuer} has no token URL")
        seconds = now // 1000
        assertion = await self._sign(
            {
                "iss": platform.client_id,
                "sub": platform.client_id,
                "aud": platform.token_audience or platform.auth_token_url,
                "iat": seconds,
                "exp": seconds + 300,
                "jti": secrets.token_urlsafe(16),
            }
        )
        body = urlencode(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
                "scope": SCOPE,
            }
        ).encode()
        response = await self._send(
            platform.auth_token_url,
            "POST",
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            body,
        )
        answer = _json(response)
        token = answer.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise RosterUnavailable(
                f"{platform.auth_token_url}: no access token (HTTP {response.status_code}, "
                f"{str(answer.get('error', ''))[:100]})"
            )
        lifetime = answer.get("expires_in")
        seconds_valid = lifetime if isinstance(lifetime, int) and lifetime > 0 else 3600
        # Kept a minute less than granted, so it is not used as it expires.
        self._tokens[platform.id] = (token, now + max(seconds_valid - 60, 0) * 1000)
        return token

    async def members(self, platform: Platform, url: str) -> list[Member]:
        """Every member of the context whose membership URL the launch carried."""
        token = await self._access_token(platform)
        found: list[Member] = []
        page: str | None = url
        for _ in range(MAX_PAGES):
            if page is None:
                break
            response = await self._send(
                page, "GET", {"Accept": MEMBERSHIP_TYPE, "Authorization": f"Bearer {token}"}
            )
            if response.status_code == 401:
                self._tokens.pop(platform.id, None)
            if response.status_code != 200:
                raise RosterUnavailable(f"{page}: HTTP {response.status_code}")
            members = _json(response).get("members")
            for raw in members if isinstance(members, list) else []:
                member = _member(raw) if isinstance(raw, Mapping) else None
                if member is not None:
                    found.append(member)
            following = next_link(response.headers.get("link", ""))
            page = urljoin(page, following) if following else None
        return found


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = json.loads(response.content)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

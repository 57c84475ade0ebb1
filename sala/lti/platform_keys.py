"""The platforms' public keys: each platform's JWKS, fetched through sala's outbound HTTP client
(the destination policy applies, redirects are not followed), kept in memory, and fetched again
when a token names a kid it does not hold, which is how a platform's key rotation reaches sala.

Refetching is bounded: a token with an unknown kid costs at most one fetch per platform every
`min_refetch_s`, whoever sends it, and concurrent launches share one fetch. A JWKS is also
refreshed after `max_age_s` so a key the platform withdrew stops verifying. The answer is read
up to MAX_JWKS_BYTES, and only RSA signing keys are kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jwt import PyJWK
from jwt.exceptions import PyJWKError

from sala.clock import Clock
from sala.events.destinations import DestinationPolicy, DestinationRefused
from sala.events.outbound import OutboundHttp, without_query

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 32
TIMEOUT_S = 5.0
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


class KeysUnavailable(Exception):
    """The platform's JWKS could not be fetched or read; the message says why."""


@dataclass
class _Cached:
    keys: dict[str, PyJWK] = field(default_factory=dict)
    fetched_at: int | None = None
    error: str | None = None
    """Why the last fetch failed, until one succeeds."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class PlatformKeys:
    def __init__(
        self,
        http: OutboundHttp,
        destinations: DestinationPolicy,
        clock: Clock,
        *,
        allow_http: bool = False,
        min_refetch_s: float = 10.0,
        max_age_s: float = 3600.0,
    ) -> None:
        """`allow_http`: accept a JWKS URL over plain http off loopback (never in production:
        whoever sits on the path could hand sala their own keys)."""
        self._http = http
        self._destinations = destinations
        self._clock = clock
        self._allow_http = allow_http
        self._min_refetch_ms = int(min_refetch_s * 1000)
        self._max_age_ms = int(max_age_s * 1000)
        self._cache: dict[str, _Cached] = {}
        self.fetches = 0
        """JWKS requests sent (for tests and metrics)."""

    async def key(self, jwks_url: str, kid: str | None) -> PyJWK:
        """The key `kid` names in the JWKS at `jwks_url` (without a kid: the set's only key).
        Raises KeysUnavailable, or KeyError when the platform does not publish that kid."""
        cached = self._cache.setdefault(jwks_url, _Cached())
        found = self._pick(cached, kid)
        if found is not None and not self._old(cached):
            return found
        async with cached.lock:
            found = self._pick(cached, kid)
            if (found is None or self._old(cached)) and self._may_fetch(cached):
                # Failures count too: an unreachable platform is tried once per interval, not
                # once per launch.
                cached.fetched_at = self._clock.now_ms()
                try:
                    cached.keys = await self._fetch(jwks_url)
                    cached.error = None
                except KeysUnavailable as exc:
                    cached.error = str(exc)
                    # Briefly unreachable at refresh time: the key in hand still verifies.
                    if found is None:
                        raise
                    log.warning("keeping the cached keys of %s: %s", without_query(jwks_url), exc)
                found = self._pick(cached, kid)
        if found is None:
            if cached.error is not None:
                raise KeysUnavailable(cached.error)
            raise KeyError(kid)
        return found

    def _old(self, cached: _Cached) -> bool:
        return cached.fetched_at is None or (
            self._clock.now_ms() - cached.fetched_at >= self._max_age_ms
        )

    def _may_fetch(self, cached: _Cached) -> bool:
        return cached.fetched_at is None or (
            self._clock.now_ms() - cached.fetched_at >= self._min_refetch_ms
        )

    @staticmethod
    def _pick(cached: _Cached, kid: str | None) -> PyJWK | None:
        if kid is None:
            return next(iter(cached.keys.values())) if len(cached.keys) == 1 else None
        return cached.keys.get(kid)

    async def _fetch(self, url: str) -> dict[str, PyJWK]:
        if urlsplit(url).scheme != "https" and not self._allow_http and not is_loopback_url(url):
            raise KeysUnavailable(f"the platform's key set URL {without_query(url)} is not https")
        self.fetches += 1
        try:
            destination = await self._destinations.check(url)
            async with self._http.stream(destination, "GET", timeout_s=TIMEOUT_S) as response:
                if response.status_code != 200:
                    raise KeysUnavailable(
                        f"{without_query(url)} answered HTTP {response.status_code}"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise KeysUnavailable(
                            f"{without_query(url)} answered more than {MAX_JWKS_BYTES} bytes"
                        )
        except DestinationRefused as exc:
            raise KeysUnavailable(f"sala may not reach {without_query(url)}: {exc}") from None
        except KeysUnavailable:
            raise
        except Exception as exc:  # any transport failure: the launch is refused, sala goes on
            raise KeysUnavailable(f"{without_query(url)} could not be read: {exc!r}") from None
        return self._parse(url, bytes(body))

    @staticmethod
    def _parse(url: str, body: bytes) -> dict[str, PyJWK]:
        try:
            document: Any = json.loads(body)
        except ValueError:
            raise KeysUnavailable(f"{without_query(url)} did not answer JSON") from None
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise KeysUnavailable(f"{without_query(url)} is not a JWK Set (no 'keys' list)")
        keys: dict[str, PyJWK] = {}
        for entry in entries[:MAX_KEYS]:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA":
                continue
            if entry.get("use", "sig") != "sig":
                continue
            try:
                key = PyJWK(entry, algorithm="RS256")
            except PyJWKError as exc:
                log.warning("skipping a key of %s: %s", without_query(url), exc)
                continue
            keys[str(entry.get("kid", ""))] = key
        if not keys:
            raise KeysUnavailable(f"{without_query(url)} publishes no RSA signing key")
        return keys

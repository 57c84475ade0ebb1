"""The ICE servers a browser is given: STUN, and TURN with short-lived credentials.

TURN credentials follow the REST API convention coturn implements (`use-auth-secret` with
`static-auth-secret`): the username is "<expiry unix time>:<user id>" and the password is
base64(HMAC-SHA1(secret, username)). Nothing is stored; coturn checks them with the same secret,
and they stop working at the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from sala.clock import Clock


class IceServers:
    def __init__(
        self,
        clock: Clock,
        stun: list[str],
        turn: list[str],
        turn_secret: str | None,
        ttl_seconds: int,
    ) -> None:
        self._clock = clock
        self._stun = stun
        self._turn = turn
        self._secret = turn_secret
        self._ttl = ttl_seconds

    def for_user(self, user_id: str) -> list[dict[str, Any]]:
        servers: list[dict[str, Any]] = [{"urls": self._stun}] if self._stun else []
        if self._turn and self._secret:
            username, credential = self.credentials(user_id)
            servers.append({"urls": self._turn, "username": username, "credential": credential})
        return servers

    def credentials(self, user_id: str) -> tuple[str, str]:
        assert self._secret is not None
        expiry = self._clock.now_ms() // 1000 + self._ttl
        username = f"{expiry}:{user_id}"
        digest = hmac.new(self._secret.encode(), username.encode(), hashlib.sha1).digest()
        return username, base64.b64encode(digest).decode()

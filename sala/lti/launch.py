"""The id_token of a launch, verified (LTI 1.3 Core §5.1.3, Security Framework §5.1.3): signed
RS256 by a key the platform publishes, issued by a registered platform for sala's client id
(`aud`, and `azp` when there are several audiences), within its validity (exp, iat, nbf, with
`skew_s` of tolerance each way), LTI 1.3.0, a message type sala handles, from a registered
deployment, with the claims that message type needs.

What ties the token to a login and to a browser (nonce, state, cookie or platform storage) is
the web layer's (sala/lti/web.py with sala/lti/logins.py). Every refusal is a `Refused` whose
page says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.exceptions import (
    DecodeError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MissingRequiredClaimError,
    PyJWTError,
)

from sala.clock import Clock
from sala.lti import claims as c
from sala.lti.platform_keys import KeysUnavailable, PlatformKeys
from sala.lti.platforms import Platform, Platforms
from sala.lti.refusals import Refused

VERSION = "1.3.0"
MESSAGE_TYPES = frozenset({c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST})
MAX_TOKEN_CHARS = 64 * 1024


@dataclass(frozen=True)
class Verified:
    platform: Platform
    claims: Mapping[str, Any]

    @property
    def nonce(self) -> str:
        return str(self.claims["nonce"])

    @property
    def expires_ms(self) -> int:
        return int(self.claims["exp"]) * 1000


def unverified_claims(token: str) -> Mapping[str, Any]:
    """The payload without any check: only for choosing the error page's language."""
    try:
        payload: Any = jwt.decode(token, options={"verify_signature": False})
    except PyJWTError:
        return {}
    return payload if isinstance(payload, Mapping) else {}


def _audiences(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [a for a in value if isinstance(a, str)]
    return []


def _seconds(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class LaunchVerifier:
    def __init__(
        self, platforms: Platforms, keys: PlatformKeys, clock: Clock, skew_s: int = 60
    ) -> None:
        self._platforms = platforms
        self._keys = keys
        self._clock = clock
        self._skew = skew_s

    async def verify(self, token: str) -> Verified:
        if len(token) > MAX_TOKEN_CHARS:
            raise Refused("malformed_token")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except PyJWTError:
            raise Refused("malformed_token") from None
        # Only RS256: "none" or an HMAC algorithm would let the token choose how it is checked.
        if header.get("alg") != "RS256" or not isinstance(unverified, dict):
            raise Refused("malformed_token")
        platform = await self._platform(unverified)
        try:
            key = await self._keys.key(platform.jwks_url, header.get("kid"))
        except KeysUnavailable as exc:
            raise Refused("keys_unavailable", detail=str(exc)) from None
        except KeyError:
            raise Refused("unknown_key", kid=header.get("kid") or "-") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=platform.client_id,
                issuer=platform.issuer,
                # Time is checked below on sala's clock, with the skew and words of our own.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iss", "aud", "exp", "iat"],
                },
            )
        except InvalidSignatureError:
            raise Refused("bad_signature") from None
        except InvalidAudienceError:
            raise Refused(
                "wrong_audience",
                audience=", ".join(_audiences(unverified.get("aud"))) or "-",
                client_id=platform.client_id,
            ) from None
        except InvalidIssuerError:  # the platform was chosen by this issuer: cannot happen
            raise Refused("unknown_platform", issuer="-", client_id=platform.client_id) from None
        except MissingRequiredClaimError as exc:
            raise Refused("missing_claim", claim=exc.claim, message_type="LTI message") from None
        except (DecodeError, PyJWTError):
            raise Refused("malformed_token") from None
        self._check_audience(claims, platform)
        self._check_times(claims)
        self._check_lti(claims, platform)
        return Verified(platform, claims)

    async def _platform(self, unverified: Mapping[str, Any]) -> Platform:
        """The registration the token is for: its issuer, and the client id among its audiences
        (`azp` first). An issuer with one registration is used even when the audience is wrong,
        so the signature is checked before the audience is reported."""
        issuer = unverified.get("iss")
        audiences = _audiences(unverified.get("aud"))
        azp = unverified.get("azp")
        if not isinstance(issuer, str) or not issuer:
            raise Refused("missing_claim", claim="iss", message_type="LTI message")
        candidates = [p for p in await self._platforms.all() if p.issuer == issuer]
        if not candidates:
            raise Refused("unknown_platform", issuer=issuer, client_id=azp or ", ".join(audiences))
        wanted = [azp] if isinstance(azp, str) else audiences
        for platform in candidates:
            if platform.client_id in wanted:
                return platform
        if len(candidates) == 1:
            return candidates[0]
        raise Refused(
            "wrong_audience",
            audience=", ".join(audiences) or "-",
            client_id=" / ".join(p.client_id for p in candidates),
        )

    @staticmethod
    def _check_audience(claims: Mapping[str, Any], platform: Platform) -> None:
        audiences = _audiences(claims.get("aud"))
        azp = claims.get("azp")
        # Several audiences: the token must say it was authorised for sala (azp).
        if (len(audiences) > 1 or azp is not None) and azp != platform.client_id:
            raise Refused(
                "wrong_audience",
                audience=f"{', '.join(audiences)} (azp {azp or '-'})",
                client_id=platform.client_id,
            )

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock.now_ms() // 1000
        exp, iat, nbf = (_seconds(claims.get(name)) for name in ("exp", "iat", "nbf"))
        if exp is None or iat is None:
            raise Refused("malformed_token")
        if now > exp + self._skew:
            raise Refused("expired", seconds=now - exp)
        for moment in (iat, nbf):
            if moment is not None and moment > now + self._skew:
                raise Refused("not_yet_valid", seconds=moment - now)

    @staticmethod
    def _check_lti(claims: Mapping[str, Any], platform: Platform) -> None:
        version = claims.get(c.VERSION)
        if version != VERSION:
            raise Refused("wrong_version", version=version or "-")
        message_type = claims.get(c.MESSAGE_TYPE)
        if message_type not in MESSAGE_TYPES:
            raise Refused("wrong_message_type", message_type=message_type or "-")
        deployment = claims.get(c.DEPLOYMENT_ID)
        if not isinstance(deployment, str) or not deployment:
            raise Refused("missing_claim", claim=c.DEPLOYMENT_ID, message_type=message_type)
        if deployment not in platform.deployments:
            raise Refused("unknown_deployment", deployment_id=deployment, issuer=platform.issuer)
        if not isinstance(claims.get("nonce"), str) or not claims["nonce"]:
            raise Refused("missing_claim", claim="nonce", message_type=message_type)
        if not isinstance(claims.get(c.ROLES), list):
            raise Refused("missing_claim", claim=c.ROLES, message_type=message_type)
        if message_type == c.RESOURCE_LINK_REQUEST:
            link = claims.get(c.RESOURCE_LINK)
            if (
                not isinstance(link, Mapping)
                or not isinstance(link.get("id"), str)
                or not link["id"]
            ):
                raise Refused(
                    "missing_claim", claim=c.RESOURCE_LINK + ".id", message_type=message_type
                )
        else:
            settings = claims.get(c.DEEP_LINKING_SETTINGS)
            if not isinstance(settings, Mapping) or not settings.get("deep_link_return_url"):
                raise Refused(
                    "missing_claim",
                    claim=c.DEEP_LINKING_SETTINGS + ".deep_link_return_url",
                    message_type=message_type,
                )

"""What sala tells a platform about itself: the URLs of its LTI endpoints (login, launch, JWKS,
deep linking, dynamic registration), the scopes and claims it asks for, and the key that gates
dynamic registration.

`sala lti show-config` prints these for an administrator registering sala by hand, and dynamic
registration sends the same in its `lti-tool-configuration`, so both ways register one tool.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPES = (NRPS_SCOPE,)
"""The platform services sala uses: the course roster (Names and Role Provisioning)."""
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email", "picture", "locale")
"""The identity claims sala shows (names, avatar) and reads (locale) in a launch."""
TOOL_NAME = "sala"
DESCRIPTION = "Video conferencing: a meeting room per activity, with its recordings."


def secure_url(url: str) -> bool:
    """An absolute HTTPS URL, or plain HTTP to loopback (tests, a platform on the same
    machine): what LTI 1.3 asks of every platform URL sala is told."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def registration_key(shared_secret: str, issuer: str | None = None) -> str:
    """The key an administrator's registration URL carries. Only whoever can read sala's shared
    secret (the operator, through `sala lti registration-url`) can make it, so a stranger who
    finds /lti/register cannot make sala trust a platform of their own. It changes with the
    secret. With `issuer`, the key vouches for that one issuer (see `issuer_segment`)."""
    message = b"sala-lti:dynamic-registration" + (b"\n" + issuer.encode() if issuer else b"")
    return hmac.new(shared_secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def key_matches(shared_secret: str, key: str, issuer: str | None = None) -> bool:
    return hmac.compare_digest(key.encode(), registration_key(shared_secret, issuer).encode())


def issuer_segment(issuer: str) -> str:
    """An issuer as one path segment of a registration URL (base64url, unpadded). The issuer
    travels in the path, not the query, because the platform adds its own query parameters."""
    return base64.urlsafe_b64encode(issuer.encode()).decode().rstrip("=")


def issuer_from_segment(segment: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class ToolUrls:
    """The URLs of sala's LTI endpoints under its public base URL."""

    base_url: str

    @property
    def login(self) -> str:
        """OIDC login initiation (the platform starts every launch here)."""
        return f"{self.base_url}/lti/login"

    @property
    def launch(self) -> str:
        """The redirect URI and target link URI: every id_token is posted here, resource link
        launches and deep linking requests alike."""
        return f"{self.base_url}/lti/launch"

    @property
    def deep_linking(self) -> str:
        """Deep linking requests arrive at the launch endpoint too, which sends instructors on
        to the picker; platforms ask for a separate field, so it is named apart."""
        return self.launch

    @property
    def jwks(self) -> str:
        return f"{self.base_url}/lti/jwks"

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def registration(self, shared_secret: str, issuer: str | None = None) -> str:
        """The dynamic registration URL an administrator pastes into the platform. Without
        `issuer`, the platform's issuer must be on the site its configuration is fetched from;
        with it, the platform must be that issuer, wherever its configuration is (Canvas: the
        issuer is https://canvas.instructure.com, the configuration on the school's site)."""
        key = registration_key(shared_secret, issuer)
        if issuer is None:
            return f"{self.base_url}/lti/register/{key}"
        return f"{self.base_url}/lti/register/{key}/{issuer_segment(issuer)}"

"""The simulator's side of LTI Dynamic Registration 1.0: the platform's OpenID configuration
(section 3.4) and its registration endpoint (section 3.5), both requiring the one-time
registration token as a Bearer token, as Moodle does.

The registration endpoint checks the tool's client metadata the way a platform would (the
required fields, an `lti-tool-configuration` with a domain, target link URI, claims and
messages) and answers with a client id and a deployment id; what it received is recorded for
the tests.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
CONFIGURATION_PATH = "/lti/openid-configuration"
REGISTRATION_PATH = "/lti/registrations"
ADMIN_PATH = "/admin/tools/register"


@dataclass
class PlatformRegistration:
    """`issuer`: the simulator's URL (its base); `claimed_issuer`: what the configuration says
    its issuer is, when a test wants it to lie."""

    issuer: str
    client_id: str = field(default_factory=lambda: f"client-{secrets.token_hex(4)}")
    deployment_id: str | None = "deployment-1"
    """None: the answer names no deployment (Canvas creates it when the tool is installed)."""
    product: str = "simulated-lms"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    claimed_issuer: str | None = None
    configuration_requests: list[str | None] = field(default_factory=list)
    """The Authorization header of each configuration request."""
    registrations: list[dict[str, Any]] = field(default_factory=list)
    """The client metadata of each accepted registration."""
    registration_authorizations: list[str | None] = field(default_factory=list)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(CONFIGURATION_PATH, self._configuration, methods=["GET"]),
            Route(REGISTRATION_PATH, self._register, methods=["POST"]),
            Route(ADMIN_PATH, self._admin_page, methods=["GET"]),
        ]

    def initiation_url(self, tool_registration_url: str) -> str:
        """What the platform opens when its administrator pastes the tool's URL: the URL with
        `openid_configuration` and `registration_token` added (section 3.3)."""
        query = urlencode(
            {
                "openid_configuration": self.issuer + CONFIGURATION_PATH,
                "registration_token": self.token,
            }
        )
        separator = "&" if "?" in tool_registration_url else "?"
        return f"{tool_registration_url}{separator}{query}"

    def admin_page_url(self, tool_registration_url: str) -> str:
        """The administrator's page that opens the tool's registration in an iframe."""
        return f"{self.issuer}{ADMIN_PATH}?{urlencode({'tool': tool_registration_url})}"

    async def _admin_page(self, request: Request) -> Response:
        """As Canvas does: the tool's registration in an iframe, and a listener for the tool's
        `org.imsglobal.lti.close` message, which it records in `body[data-closed]`."""
        frame = html.escape(self.initiation_url(request.query_params["tool"]))
        return HTMLResponse(
            "<!doctype html><title>Register a tool</title><body>"
            f"<iframe id='tool' src='{frame}' width='800' height='600'></iframe>"
            "<script>addEventListener('message', (e) => {"
            " if (e.source === document.getElementById('tool').contentWindow)"
            "  document.body.dataset.closed = e.data && e.data.subject; });</script>"
        )

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    async def _configuration(self, request: Request) -> Response:
        self.configuration_requests.append(request.headers.get("authorization"))
        if not self._authorized(request):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        base = self.issuer
        return JSONResponse(
            {
                "issuer": self.claimed_issuer or base,
                "authorization_endpoint": f"{base}/lti/auth",
                "token_endpoint": f"{base}/lti/token",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "jwks_uri": f"{base}/lti/certs",
                "registration_endpoint": base + REGISTRATION_PATH,
                "scopes_supported": ["openid", NRPS_SCOPE],
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["iss", "aud", "sub", "name", "email", "picture", "locale"],
                "authorization_server": f"{base}/lti/token",
                PLATFORM_CONFIGURATION: {
                    "product_family_code": self.product,
                    "version": "1.0",
                    "messages_supported": [
                        {"type": "LtiResourceLinkRequest"},
                        {"type": "LtiDeepLinkingRequest"},
                    ],
                    "variables": [],
                },
            }
        )

    async def _register(self, request: Request) -> Response:
        self.registration_authorizations.append(request.headers.get("authorization"))
        if not self._authorized(request):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return _invalid("the registration must be JSON")
        try:
            body = await request.json()
        except ValueError:
            return _invalid("the registration is not JSON")
        problem = _check(body)
        if problem:
            return _invalid(problem)
        self.registrations.append(body)
        tool = dict(body[TOOL_CONFIGURATION])
        if self.deployment_id is not None:
            tool["deployment_id"] = self.deployment_id
        return JSONResponse(
            {**body, "client_id": self.client_id, TOOL_CONFIGURATION: tool}, status_code=200
        )


def _invalid(description: str) -> Response:
    return JSONResponse(
        {"error": "invalid_client_metadata", "error_description": description}, status_code=400
    )


def _check(body: object) -> str | None:
    """What a platform would refuse in the tool's client metadata (section 3.5.1)."""
    if not isinstance(body, dict):
        return "the registration is not an object"
    expected = {
        "application_type": "web",
        "response_types": ["id_token"],
        "token_endpoint_auth_method": "private_key_jwt",
    }
    for name, value in expected.items():
        if body.get(name) != value:
            return f"{name} must be {value!r}"
    if set(body.get("grant_types") or ()) != {"implicit", "client_credentials"}:
        return "grant_types must be implicit and client_credentials"
    for name in ("initiate_login_uri", "jwks_uri", "client_name"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} is missing"
    if not body.get("redirect_uris"):
        return "redirect_uris is missing"
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        return "lti-tool-configuration is missing"
    for name in ("domain", "target_link_uri"):
        if not isinstance(tool.get(name), str) or not tool[name]:
            return f"lti-tool-configuration.{name} is missing"
    if not isinstance(tool.get("claims"), list) or not isinstance(tool.get("messages"), list):
        return "lti-tool-configuration needs claims and messages"
    return None

"""The simulator's side of Deep Linking 2.0: the deep linking request's claims a platform sends
(section 4.4) and its return endpoint, which verifies the tool's LtiDeepLinkingResponse as a
platform must (section 4.2; LTI Security Framework 5.1.3): an RS256 signature by a key of the
tool's published JWKS, fetched over HTTP, `iss` the tool's client id, `aud` the platform, not
expired, the deployment the request named, and `data` echoed unchanged. What it accepted or
refused is recorded for the tests.
"""

from __future__ import annotations

import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR = MEMBERSHIP + "Instructor"
LEARNER = MEMBERSHIP + "Learner"
RETURN_PATH = "/lti/deep-linking/return"
COURSE_PATH = "/course/add-content"


@dataclass
class DeepLinkingReturn:
    issuer: str
    client_id: str
    deployment_id: str
    tool_jwks_url: str
    accepted: list[dict[str, Any]] = field(default_factory=list)
    """The verified payloads."""
    refused: list[str] = field(default_factory=list)
    sent_data: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    @property
    def return_url(self) -> str:
        return self.issuer + RETURN_PATH

    def routes(self) -> list[BaseRoute]:
        return [
            Route(RETURN_PATH, self._receive, methods=["POST"]),
            Route(COURSE_PATH, self._course_page, methods=["GET"]),
        ]

    def course_page_url(self, tool_url: str) -> str:
        """The course page where the instructor adds content: the tool in an iframe, as
        platforms show a deep linking request (here already past the launch)."""
        return f"{self.issuer}{COURSE_PATH}?{urlencode({'tool': tool_url})}"

    async def _course_page(self, request: Request) -> Response:
        frame = html.escape(request.query_params["tool"])
        return HTMLResponse(
            "<!doctype html><title>Física I</title><body><h1>Física I</h1>"
            f"<iframe id='tool' src='{frame}' width='800' height='700'></iframe>"
        )

    def request_claims(
        self, role: str = INSTRUCTOR, locale: str = "en-US", sub: str = "teacher-1"
    ) -> dict[str, Any]:
        """The verified claims of an LtiDeepLinkingRequest for `role` in a course."""
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": secrets.token_urlsafe(8),
            "name": "Ana Souza",
            LTI + "message_type": "LtiDeepLinkingRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "roles": [role],
            LTI + "context": {"id": "course-7", "title": "Física I", "label": "FIS1"},
            LTI + "launch_presentation": {"locale": locale},
            DL + "deep_linking_settings": {
                "deep_link_return_url": self.return_url,
                "accept_types": ["link", "ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": False,
                "data": self.sent_data,
            },
        }

    async def _receive(self, request: Request) -> Response:
        form = await request.form()
        token = form.get("JWT")
        if not isinstance(token, str):
            return self._refuse("no JWT field")
        try:
            header = jwt.get_unverified_header(token)
            async with httpx.AsyncClient(timeout=10) as http:
                keys = (await http.get(self.tool_jwks_url)).json()["keys"]
            key = next(k for k in keys if k.get("kid") == header.get("kid"))
            payload: dict[str, Any] = jwt.decode(
                token,
                jwt.PyJWK(key).key,
                algorithms=["RS256"],
                audience=self.issuer,
                issuer=self.client_id,
                options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
            )
        except (jwt.InvalidTokenError, StopIteration, KeyError, httpx.HTTPError) as exc:
            return self._refuse(f"{type(exc).__name__}: {exc}")
        if payload.get(LTI + "message_type") != "LtiDeepLinkingResponse":
            return self._refuse("not an LtiDeepLinkingResponse")
        if payload.get(LTI + "version") != "1.3.0":
            return self._refuse("version is not 1.3.0")
        if payload.get(LTI + "deployment_id") != self.deployment_id:
            return self._refuse("another deployment")
        if payload.get(DL + "data") != self.sent_data:
            return self._refuse("data not echoed")
        self.accepted.append(payload)
        return HTMLResponse("<!doctype html><title>Added</title><p>Content added.</p>")

    def _refuse(self, why: str) -> Response:
        self.refused.append(why)
        return HTMLResponse(f"<p>refused: {why}</p>", status_code=400)

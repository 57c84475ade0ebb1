"""LTI Dynamic Registration 1.0: an administrator pastes sala's registration URL into the
platform, the platform opens it with `openid_configuration` and `registration_token`, and sala
fetches the platform's configuration, registers itself at the platform's registration endpoint,
stores the platform and its deployment, and answers a page that tells the platform's window it
is done (`{subject: "org.imsglobal.lti.close"}`).

The URL is gated: it carries a key derived from sala's shared secret (sala/lti/tool.py), so a
stranger cannot make sala trust a platform of theirs. Nothing is fetched before the key is
checked, and nothing is stored unless every check passed and the platform gave a client id.
The platform's URLs must be HTTPS (plain HTTP only on loopback, for tests and a platform on the
same machine), and every request goes through the destination policy like webhooks do.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sala.events.destinations import DestinationPolicy, DestinationRefused
from sala.events.outbound import AnswerTooLarge, OutboundHttp
from sala.lti.claims import DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST
from sala.lti.platforms import Platform, PlatformExists, Platforms
from sala.lti.tool import (
    CLAIMS,
    DESCRIPTION,
    SCOPES,
    TOOL_NAME,
    ToolUrls,
    issuer_from_segment,
    key_matches,
    secure_url,
)
from sala.lti.toolpages import CLOSE_MARKER, problem_html, request_locale, tool_page

log = logging.getLogger(__name__)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_PLACEMENTS = ("link_selection", "assignment_selection")
TIMEOUT_S = 10.0
MAX_ANSWER_BYTES = 256 * 1024
"""A platform's configuration or registration answer is a few kilobytes."""

WORDS: dict[str, dict[str, str]] = {
    "en-US": {
        "failed": "sala could not be registered",
        "fix": "What to do",
        "done": "sala is registered",
        "done_body": "{platform} can now launch sala. You can close this window.",
        "close": "Close",
        "no_deployment": "The platform did not say which deployment this is, so launches are "
        "refused until sala's operator adds its deployment ID (`sala lti add-deployment {id} "
        "DEPLOYMENT_ID`); the platform shows it in the tool's settings.",
    },
    "pt-BR": {
        "failed": "Não foi possível registrar o sala",
        "fix": "O que fazer",
        "done": "O sala está registrado",
        "done_body": "{platform} já pode abrir o sala. Você pode fechar esta janela.",
        "close": "Fechar",
        "no_deployment": "A plataforma não disse qual é a implantação (deployment), então os "
        "acessos serão recusados até o operador do sala adicionar o ID dela (`sala lti "
        "add-deployment {id} DEPLOYMENT_ID`); a plataforma o mostra nas configurações da "
        "ferramenta.",
    },
    "es-ES": {
        "failed": "No se pudo registrar sala",
        "fix": "Qué hacer",
        "done": "sala está registrado",
        "done_body": "{platform} ya puede abrir sala. Puede cerrar esta ventana.",
        "close": "Cerrar",
        "no_deployment": "La plataforma no indicó cuál es la implementación (deployment), así "
        "que los accesos se rechazarán hasta que el operador de sala añada su ID (`sala lti "
        "add-deployment {id} DEPLOYMENT_ID`); la plataforma lo muestra en la configuración de "
        "la herramienta.",
    },
}


class RegistrationRefused(Exception):
    """`problem` and `fix` are shown to the administrator (in English: they are technical and
    name the platform's fields); `status` is the page's."""

    def __init__(self, status: int, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem
        self.fix = fix


def _checked_url(url: object, what: str) -> str:
    """`url` if it is an absolute HTTPS URL (HTTP only on loopback)."""
    if not isinstance(url, str) or not url:
        raise RegistrationRefused(
            502,
            f"The platform's configuration has no {what}.",
            "The platform does not seem to support LTI Dynamic Registration; register sala by "
            "hand (`sala lti show-config`, then `sala lti add-platform`).",
        )
    if secure_url(url):
        return url
    raise RegistrationRefused(
        400,
        f"The platform's {what} is not an HTTPS URL: {url}",
        "LTI 1.3 requires HTTPS; serve the platform over HTTPS and start the registration again.",
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


@dataclass(frozen=True)
class PlatformConfiguration:
    """What sala needs of a platform's OpenID configuration."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str | None
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None
    product: str
    scopes: frozenset[str]
    messages: frozenset[str]

    @classmethod
    def read(
        cls, document: Mapping[str, Any], fetched_from: str, vouched: str | None = None
    ) -> PlatformConfiguration:
        """`vouched`: the issuer the operator's registration URL names, if it names one."""
        issuer = _checked_url(document.get("issuer"), "issuer")
        if vouched is not None:
            if issuer != vouched:
                raise RegistrationRefused(
                    400,
                    f"The platform's configuration names the issuer {issuer}, but this "
                    f"registration URL is for {vouched} only.",
                    "Ask sala's operator for the registration URL of this platform "
                    "(`sala lti registration-url --issuer ISSUER`).",
                )
        # Otherwise the configuration must come from the issuer's own site: whoever serves a
        # document could claim to be any platform and receive its launches' trust.
        elif _origin(issuer) != _origin(fetched_from):
            raise RegistrationRefused(
                400,
                f"The platform's configuration names the issuer {issuer}, but it was fetched "
                f"from {fetched_from}, another site.",
                "Start the registration from the platform itself. If its issuer really is "
                "another site (Canvas: https://canvas.instructure.com), ask sala's operator "
                "for a registration URL for that issuer (`sala lti registration-url --issuer "
                "ISSUER`).",
            )
        algorithms = document.get("id_token_signing_alg_values_supported")
        if isinstance(algorithms, list) and "RS256" not in algorithms:
            raise RegistrationRefused(
                400,
                "The platform does not sign its launches with RS256, which LTI 1.3 requires.",
                "Check the platform's LTI 1.3 support.",
            )
        lti = document.get(PLATFORM_CONFIGURATION)
        lti = lti if isinstance(lti, Mapping) else {}
        messages = lti.get("messages_supported")
        token_endpoint = document.get("token_endpoint")
        server = document.get("authorization_server")
        return cls(
            issuer=issuer,
            authorization_endpoint=_checked_url(
                document.get("authorization_endpoint"), "authorization_endpoint"
            ),
            token_endpoint=_checked_url(token_endpoint, "token_endpoint")
            if token_endpoint
            else None,
            jwks_uri=_checked_url(document.get("jwks_uri"), "jwks_uri"),
            registration_endpoint=_checked_url(
                document.get("registration_endpoint"), "registration_endpoint"
            ),
            authorization_server=server if isinstance(server, str) and server else None,
            product=str(lti.get("product_family_code") or ""),
            scopes=frozenset(
                s for s in document.get("scopes_supported") or () if isinstance(s, str)
            ),
            messages=frozenset(
                str(m.get("type"))
                for m in (messages if isinstance(messages, list) else ())
                if isinstance(m, Mapping)
            ),
        )


def tool_registration(urls: ToolUrls, platform: PlatformConfiguration) -> dict[str, Any]:
    """The client metadata sala registers (Dynamic Registration 1.0, section 3.5): only the
    scopes and messages the platform says it supports."""
    messages: list[dict[str, Any]] = [
        {"type": RESOURCE_LINK_REQUEST, "target_link_uri": urls.launch}
    ]
    # A platform that lists no messages says nothing either way: offer deep linking too.
    if not platform.messages or DEEP_LINKING_REQUEST in platform.messages:
        messages.append(
            {
                "type": DEEP_LINKING_REQUEST,
                "target_link_uri": urls.deep_linking,
                "label": TOOL_NAME,
                "label#pt-BR": "sala (videoconferência)",
                "label#es-ES": "sala (videoconferencia)",
            }
        )
    scopes = [s for s in SCOPES if s in platform.scopes]
    extensions: dict[str, Any] = {}
    if platform.product == "canvas":
        # Canvas sends no names unless asked ("anonymous" by default), and shows a deep linking
        # tool only in the placements it names (the same as `sala lti show-config --format
        # canvas`).
        extensions[CANVAS_PRIVACY] = "public"
        messages[-1]["placements"] = list(CANVAS_PLACEMENTS)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": TOOL_NAME,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urls.domain,
            "description": DESCRIPTION,
            "target_link_uri": urls.launch,
            "claims": list(CLAIMS),
            "messages": messages,
            **extensions,
        },
    }


class DynamicRegistration:
    def __init__(
        self,
        platforms: Platforms,
        http: OutboundHttp,
        destinations: DestinationPolicy,
        urls: ToolUrls,
        shared_secret: str,
        frame_ancestors: str,
    ) -> None:
        self._platforms = platforms
        self._http = http
        self._destinations = destinations
        self._urls = urls
        self._secret = shared_secret
        self._frame_ancestors = frame_ancestors

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/lti/register/{key}", self.register, methods=["GET"]),
            Route("/lti/register/{key}/{issuer}", self.register, methods=["GET"]),
        ]

    async def register(self, request: Request) -> Response:
        """GET /lti/register/{key}[/{issuer}]?openid_configuration=…&registration_token=…"""
        locale = request_locale(request)
        segment = request.path_params.get("issuer")
        vouched = issuer_from_segment(str(segment)) if segment is not None else None
        try:
            key = str(request.path_params.get("key", ""))
            if (segment is not None and vouched is None) or not key_matches(
                self._secret, key, vouched
            ):
                raise RegistrationRefused(
                    403,
                    "This registration URL is not sala's: its key is wrong.",
                    "Ask sala's operator for the URL `sala lti registration-url` prints, and "
                    "paste it whole.",
                )
            platform = await self._register(
                request.query_params.get("openid_configuration", ""),
                request.query_params.get("registration_token") or None,
                vouched,
            )
        except RegistrationRefused as refused:
            log.warning("LTI dynamic registration refused: %s", refused.problem)
            words = WORDS[locale]
            body = problem_html(words["failed"], refused.problem, words["fix"], refused.fix)
            return tool_page(
                words["failed"], body, self._frame_ancestors, status=refused.status, lang=locale
            )
        log.info(
            "LTI platform %s registered (client %s, deployments %s)",
            platform.issuer,
            platform.client_id,
            ", ".join(platform.deployments) or "none yet",
        )
        words = WORDS[locale]
        done = words["done_body"].format(platform=platform.name or platform.issuer)
        missing = words["no_deployment"].format(id=platform.id)
        body = (
            f"{CLOSE_MARKER}<h1>{html.escape(words['done'])}</h1>"
            f"<p class='lti-note' role='status'>{html.escape(done)}</p>"
            + ("" if platform.deployments else f"<p class='lti-problem'>{html.escape(missing)}</p>")
            + "<button type='button' id='lti-close' class='primary wide'>"
            f"{html.escape(words['close'])}</button>"
        )
        return tool_page(words["done"], body, self._frame_ancestors, lang=locale)

    async def _register(
        self, openid_configuration: str, token: str | None, vouched: str | None
    ) -> Platform:
        if not openid_configuration:
            raise RegistrationRefused(
                400,
                "The platform did not say where its configuration is (no openid_configuration).",
                'Paste this URL into the platform\'s dynamic registration field ("Tool URL", '
                '"Dynamic registration URL"); opening it directly does nothing.',
            )
        config_url = _checked_url(openid_configuration, "openid_configuration URL")
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        document = await self._json(
            "GET", config_url, {"Accept": "application/json", **auth}, None, "configuration"
        )
        platform = PlatformConfiguration.read(document, config_url, vouched)
        answer = await self._json(
            "POST",
            platform.registration_endpoint,
            {"Accept": "application/json", "Content-Type": "application/json", **auth},
            json.dumps(tool_registration(self._urls, platform)).encode(),
            "registration endpoint",
        )
        client_id = answer.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise RegistrationRefused(
                502,
                "The platform accepted the registration but gave sala no client id.",
                "Register sala by hand (`sala lti add-platform`) with the client id the "
                "platform shows.",
            )
        tool = answer.get(TOOL_CONFIGURATION)
        deployment = tool.get("deployment_id") if isinstance(tool, Mapping) else None
        deployments = [str(deployment)] if isinstance(deployment, str | int) and deployment else []
        name = platform.product or urlsplit(platform.issuer).hostname or platform.issuer
        try:
            return await self._platforms.add(
                issuer=platform.issuer,
                client_id=client_id,
                auth_login_url=platform.authorization_endpoint,
                jwks_url=platform.jwks_uri,
                auth_token_url=platform.token_endpoint,
                token_audience=platform.authorization_server,
                name=name,
                deployments=deployments,
                registered_by="dynamic",
            )
        except PlatformExists:
            # The same client registered again (a retried registration): keep it, learn the
            # deployment.
            existing = await self._platforms.find(platform.issuer, client_id)
            assert existing is not None
            for deployment_id in deployments:
                await self._platforms.add_deployment(existing.id, deployment_id)
            found = await self._platforms.get(existing.id)
            assert found is not None
            return found

    async def _json(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        what: str,
    ) -> Mapping[str, Any]:
        try:
            destination = await self._destinations.check(url)
            response = await self._http.request(
                destination,
                method,
                headers=headers,
                content=content,
                timeout_s=TIMEOUT_S,
                max_bytes=MAX_ANSWER_BYTES,
            )
        except AnswerTooLarge:
            raise RegistrationRefused(
                502,
                f"The platform's {what} answered more than {MAX_ANSWER_BYTES // 1024} KiB.",
                "Check that the registration URL is the platform's LTI registration address.",
            ) from None
        except DestinationRefused as exc:
            raise RegistrationRefused(
                502,
                f"sala may not connect to the platform's {what}: {exc}.",
                "Allow the platform's address in SALA_WEBHOOK_ALLOW (docs/configuration.md) "
                "and start the registration again.",
            ) from None
        except Exception as exc:  # connection refused, TLS, timeouts: httpx's many errors
            raise RegistrationRefused(
                502,
                f"sala could not reach the platform's {what} ({type(exc).__name__}: {exc}).",
                "Check that sala's server can reach the platform over HTTPS, then start the "
                "registration again.",
            ) from None
        if not 200 <= response.status_code < 300:
            detail = ""
            try:
                body = response.json()
                if isinstance(body, Mapping):
                    detail = str(body.get("error_description") or body.get("error") or "")
            except ValueError:
                pass
            raise RegistrationRefused(
                502,
                f"The platform's {what} answered {response.status_code}"
                + (f": {detail[:300]}" if detail else "."),
                "Registration links are valid once and for a short time: start the registration "
                "again from the platform.",
            )
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, Mapping):
            raise RegistrationRefused(
                502,
                f"The platform's {what} did not answer JSON.",
                "Check that the platform supports LTI Dynamic Registration.",
            )
        return document

"""LTI 1.3's doors into sala: OIDC login initiation (`GET|POST /lti/login`), the launch
(`POST /lti/launch`, and `POST /lti/launch/storage` for browsers whose state cookie was
blocked), and sala's key set (`GET /lti/jwks`). `lti_routes` builds the LTI parts over the
front end's services and returns every LTI route.

The login binds the browser that starts it: a cookie named after the state (`SameSite=None;
Secure; HttpOnly` under https, since the launch is a cross-site POST into the platform's
iframe). A browser that blocks third-party cookies does not send it back; if the platform
offered its postMessage storage (`lti_storage_target`, "LTI Client Side postMessage Storage"),
the login also put the state there, and the launch answers a page whose script reads it back
from the platform's frame and, when it matches, confirms with a same-origin JSON request
(a cross-site page can neither read that storage nor send that request). Without either proof
the launch is refused, and a refused launch creates nothing and spends neither state nor nonce.

Launches are accepted over https only unless sala's public URL is on loopback
(`SALA_LTI_ALLOW_HTTP` overrides, for test servers).
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sala.config import Settings
from sala.lti import claims as c
from sala.lti.deep_linking import DeepLinking
from sala.lti.keys import ToolKeys
from sala.lti.landing import landing_routes
from sala.lti.launch import LaunchVerifier, Verified, unverified_claims
from sala.lti.logins import Login, Logins, Replayed, StateSpent
from sala.lti.pages import page
from sala.lti.platform_keys import PlatformKeys, is_loopback_url
from sala.lti.platforms import Platforms
from sala.lti.refusals import Refused
from sala.lti.registration import DynamicRegistration
from sala.lti.sessions import Sessions
from sala.lti.tool import ToolUrls
from sala.services import Services

log = logging.getLogger(__name__)

COOKIE_PREFIX = "sala_lti_"
"""The login's cookie is COOKIE_PREFIX + state: one per login, so two activities opened at once
in two tabs do not overwrite each other's."""
STORAGE_KEY_PREFIX = "state_"
"""The key the state is put under in the platform's storage."""
MAX_FIELD = 64 * 1024


@dataclass
class Lti:
    """The LTI parts, shared by every LTI page (registration, deep linking, the landing page)."""

    settings: Settings
    platforms: Platforms
    keys: ToolKeys
    platform_keys: PlatformKeys
    logins: Logins
    sessions: Sessions
    verifier: LaunchVerifier

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def login_url(self) -> str:
        return self.base_url + "/lti/login"

    @property
    def launch_url(self) -> str:
        """The redirect URI platforms post id_tokens to (resource links and deep linking)."""
        return self.base_url + "/lti/launch"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/lti/jwks"


def build_lti(settings: Settings, services: Services) -> Lti:
    platforms = Platforms(services.db, services.clock)
    platform_keys = PlatformKeys(
        services.http, services.destinations, services.clock, allow_http=settings.lti_allow_http
    )
    return Lti(
        settings=settings,
        platforms=platforms,
        keys=ToolKeys(services.db, services.clock, settings.lti_key_rotation_days),
        platform_keys=platform_keys,
        logins=Logins(services.db, services.clock, settings.lti_login_minutes),
        sessions=Sessions(
            services.db,
            services.clock,
            minutes=settings.lti_session_minutes,
            moderator_roles=Settings.csv(settings.lti_moderator_roles),
        ),
        verifier=LaunchVerifier(
            platforms, platform_keys, services.clock, settings.lti_clock_skew_seconds
        ),
    )


def lti_routes(settings: Settings, services: Services) -> list[BaseRoute]:
    """Every LTI route, over LTI parts built from the front end's services."""
    lti = build_lti(settings, services)
    doors = LaunchDoors(lti)
    urls = ToolUrls(settings.base_url)
    registration = DynamicRegistration(
        lti.platforms,
        services.http,
        services.destinations,
        urls,
        settings.shared_secret,
        settings.frame_ancestors,
    )
    deep_linking = DeepLinking(
        lti.sessions, lti.keys, services.clock, urls, settings.frame_ancestors
    )
    return [
        Route("/lti/login", doors.login, methods=["GET", "POST"]),
        Route("/lti/launch", doors.launch, methods=["POST"]),
        Route("/lti/launch/storage", doors.storage_launch, methods=["POST"]),
        Route("/lti/jwks", doors.jwks, methods=["GET"]),
        *registration.routes(),
        *deep_linking.routes(),
        *landing_routes(services, settings, lti.sessions, lti.keys),
    ]


def _locale(request: Request, claims: Mapping[str, Any] | None = None) -> str:
    """The error page's language: the launch's, else the browser's."""
    presentation = (claims or {}).get(c.LAUNCH_PRESENTATION)
    if isinstance(presentation, Mapping) and isinstance(presentation.get("locale"), str):
        return c.locale_of(presentation["locale"])
    accept = request.headers.get("accept-language", "")
    return c.locale_of(accept.split(",", 1)[0].split(";", 1)[0].strip())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class LaunchDoors:
    def __init__(self, lti: Lti) -> None:
        self._lti = lti
        self._settings = lti.settings
        self._frames = lti.settings.frame_ancestors
        self._secure = lti.base_url.startswith("https://")

    # --- checks shared by login and launch ---------------------------------------------------
    def _https_or_refuse(self) -> None:
        base = self._lti.base_url
        if not self._secure and not self._settings.lti_allow_http and not is_loopback_url(base):
            raise Refused("http_not_allowed", url=base)

    def _platform_url_ok(self, url: str, what: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "https" or (
            parts.scheme == "http" and (self._settings.lti_allow_http or is_loopback_url(url))
        ):
            return
        raise Refused("platform_http", what=what, url=url)

    # --- OIDC login initiation ---------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            form = await request.form(max_files=0, max_fields=50)
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        locale = _locale(request)
        try:
            return await self._login(params, locale)
        except Refused as refusal:
            log.info("LTI login refused: %s", refusal.code)
            return refusal.page(self._frames, locale)

    async def _login(self, params: Mapping[str, str], locale: str) -> Response:
        self._https_or_refuse()
        missing = [n for n in ("iss", "login_hint", "target_link_uri") if not params.get(n)]
        if missing:
            raise Refused("missing_parameters", names=", ".join(missing))
        issuer = params["iss"]
        client_id = params.get("client_id") or None
        platform = await self._lti.platforms.find(issuer, client_id)
        if platform is None:
            raise Refused("unknown_platform", issuer=issuer, client_id=client_id or "-")
        deployment = params.get("lti_deployment_id")
        if deployment and deployment not in platform.deployments:
            raise Refused("unknown_deployment", deployment_id=deployment, issuer=issuer)
        target = params["target_link_uri"]
        if not (target == self._lti.base_url or target.startswith(self._lti.base_url + "/")):
            raise Refused("bad_target", url=target, expected=self._lti.launch_url)
        self._platform_url_ok(platform.auth_login_url, "OIDC authorization URL")
        storage = (params.get("lti_storage_target") or "").strip()[:255] or None
        login = await self._lti.logins.begin(platform.id, storage)
        query = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": platform.client_id,
            "redirect_uri": self._lti.launch_url,
            "login_hint": params["login_hint"],
            "state": login.state,
            "nonce": login.nonce,
        }
        if params.get("lti_message_hint"):
            query["lti_message_hint"] = params["lti_message_hint"]
        separator = "&" if urlsplit(platform.auth_login_url).query else "?"
        authorize = platform.auth_login_url + separator + urlencode(query)
        response: Response
        if storage is None:
            response = RedirectResponse(authorize, status_code=302)
        else:
            response = self._storage_page(
                "put",
                locale,
                {
                    "authorize": authorize,
                    "state": login.state,
                    "key": STORAGE_KEY_PREFIX + login.state,
                    "target": storage,
                    "origin": _origin(platform.auth_login_url),
                },
            )
        response.headers["Cache-Control"] = "no-store"
        self._set_cookie(response, login)
        return response

    def _set_cookie(self, response: Response, login: Login) -> None:
        response.set_cookie(
            COOKIE_PREFIX + login.state,
            login.state,
            max_age=self._settings.lti_login_minutes * 60,
            path="/lti/",
            httponly=True,
            secure=self._secure,
            # The launch is a cross-site POST from the platform: only SameSite=None comes back
            # with it, and browsers take SameSite=None only with Secure (https). On plain http
            # (loopback tests) the platform must be same-site, as it is on 127.0.0.1.
            samesite="none" if self._secure else "lax",
        )

    # --- the launch --------------------------------------------------------------------------
    async def launch(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=50, max_part_size=MAX_FIELD)
        token = form.get("id_token")
        state = form.get("state")
        unverified = unverified_claims(token) if isinstance(token, str) else {}
        locale = _locale(request, unverified)
        try:
            self._https_or_refuse()
            if not isinstance(token, str) or not token or not isinstance(state, str) or not state:
                raise Refused("missing_token")
            verified, login = await self._verify(token, state)
            cookie = request.cookies.get(COOKIE_PREFIX + state)
            if cookie is None or cookie != state:
                if login.storage_target is None:
                    raise Refused("cookie_missing")
                # The cookie did not come back; the platform's storage may vouch instead.
                return self._storage_page(
                    "get",
                    locale,
                    {
                        "token": token,
                        "state": state,
                        "key": STORAGE_KEY_PREFIX + state,
                        "target": login.storage_target,
                        "origin": _origin(verified.platform.auth_login_url),
                    },
                    Refused("storage_refused"),
                )
            location = await self._finish(verified, login)
        except Refused as refusal:
            log.info("LTI launch refused: %s", refusal.code)
            return refusal.page(self._frames, locale)
        response = RedirectResponse(location, status_code=303)
        response.headers["Cache-Control"] = "no-store"
        response.delete_cookie(
            COOKIE_PREFIX + state,
            path="/lti/",
            secure=self._secure,
            httponly=True,
            samesite="none" if self._secure else "lax",
        )
        return response

    async def storage_launch(self, request: Request) -> Response:
        """The storage page's confirmation: the state came back from the platform's storage.
        Only sala's own page can send it: JSON, from sala's origin."""
        if request.headers.get("origin") != _origin(self._lti.base_url) or not request.headers.get(
            "content-type", ""
        ).startswith("application/json"):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        body = await request.body()
        try:
            data = json.loads(body) if len(body) <= MAX_FIELD * 2 else None
        except ValueError:
            data = None
        token = data.get("id_token") if isinstance(data, dict) else None
        state = data.get("state") if isinstance(data, dict) else None
        locale = _locale(request, unverified_claims(token) if isinstance(token, str) else {})
        try:
            self._https_or_refuse()
            if not isinstance(token, str) or not token or not isinstance(state, str) or not state:
                raise Refused("missing_token")
            verified, login = await self._verify(token, state)
            if login.storage_target is None:
                raise Refused("cookie_missing")
            location = await self._finish(verified, login)
        except Refused as refusal:
            problem, fix = refusal.words(locale)
            return JSONResponse(
                {"error": refusal.code, "problem": problem, "fix": fix},
                status_code=refusal.status,
            )
        return JSONResponse({"location": location}, headers={"Cache-Control": "no-store"})

    async def _verify(self, token: str, state: str) -> tuple[Verified, Login]:
        """Everything but the browser's proof, spending nothing."""
        verified = await self._lti.verifier.verify(token)
        platform = verified.platform
        if await self._lti.logins.nonce_used(platform.id, verified.nonce):
            raise Refused("replayed")
        login = await self._lti.logins.find(state)
        if login is None:
            raise Refused("state_unknown")
        if login.platform_id != platform.id:
            raise Refused("state_mismatch", detail="the login was for another platform")
        if login.nonce != verified.nonce:
            raise Refused("state_mismatch", detail="the id_token's nonce is not the login's")
        return verified, login

    async def _finish(self, verified: Verified, login: Login) -> str:
        """Spend the login, open the session; where the browser goes next."""
        try:
            await self._lti.logins.spend(login, verified.nonce, verified.expires_ms)
        except StateSpent:
            raise Refused("state_unknown") from None
        except Replayed:
            raise Refused("replayed") from None
        session = await self._lti.sessions.open(verified.platform, verified.claims)
        kind = "deep-link" if session.launch.message_type == c.DEEP_LINKING_REQUEST else "rooms"
        log.info(
            "LTI launch: platform %s, %s, %s",
            verified.platform.id,
            session.launch.message_type,
            "moderator" if session.launch.moderator else "viewer",
        )
        return f"{self._lti.base_url}/lti/{kind}/{session.token}"

    def _storage_page(
        self, step: str, locale: str, data: Mapping[str, str], failure: Refused | None = None
    ) -> Response:
        """The page whose script (client/src/lti-storage) talks to the platform's storage frame:
        `put` at login (then goes on to the platform), `get` at launch (then confirms)."""
        attributes = "".join(f' data-{name}="{html.escape(value)}"' for name, value in data.items())
        body = f'<div id="lti-storage" data-step="{step}"{attributes}></div>'
        if failure is not None:
            problem, fix = failure.words(locale)
            body += (
                f"<div id='lti-storage-failed' hidden data-code='{failure.code}'>"
                f"<p class='lti-problem' role='alert'>{html.escape(problem)}</p>"
                f"<p class='lti-fix'>{html.escape(fix)}</p></div>"
            )
        body += "<script type='module' src='/room/static/app/lti-storage.js'></script>"
        return page("sala", body, self._frames, 200, locale)

    async def jwks(self, _: Request) -> Response:
        return JSONResponse(
            await self._lti.keys.jwks(),
            # Platforms cache it; one that meets a kid it lacks fetches it again, and a retired
            # key stays published for days.
            headers={"Cache-Control": "public, max-age=300"},
        )

"""The LMS simulator's core: an LTI 1.3 platform on loopback, as IMS LTI 1.3 Core and the
Security Framework describe one.

It has its own RSA key and JWKS (`GET /jwks`), an OIDC authorization endpoint (`/auth`) that
checks what a tool's login redirect must carry and answers a form that posts the signed
id_token and the state to the tool's redirect URI, a launch starter (`/launch/{hint}`, the
auto-submitting form to the tool's login initiation URL, what an LMS puts in its iframe) and a
course page (`/course/{hint}`) that frames it, with the platform half of the postMessage storage
when the launch offers it.

Other parts plug in as functions `(Simulator) -> routes` (registration.py, deep_linking.py,
services.py), so one server serves all of them. Launches are prepared with `prepare(...)`,
which returns the `lti_message_hint` the rest of the flow carries; `Browser` plays the user's
browser over plain HTTP (redirects, auto-submitting forms, cookies).

Negative tests shape the token through `prepare`: `sign_with` another key, `claims` to
override (a value of None removes the claim), `expired`.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from tests.conftest import free_port
from tests.support.serving import serve_asgi

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"

# Paths the other parts serve (they plug in with these, so the claims below point at them).
DEEP_LINK_RETURN_PATH = "/deep-linking/return"
TOKEN_PATH = "/token"
MEMBERSHIPS_PATH = "/nrps/contexts/{context}/memberships"


# ------------------------------------------------------------------------------- people --
@dataclass(frozen=True)
class User:
    id: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]
    picture: str = ""

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


INSTRUCTOR = User(
    "u-instructor-1",
    "Ana",
    "Souza",
    "ana@lms.test",
    (MEMBERSHIP + "Instructor", INSTITUTION + "Faculty"),
    "https://lms.test/avatars/ana.png",
)
LEARNER = User("u-learner-1", "Bruno", "Lima", "bruno@lms.test", (MEMBERSHIP + "Learner",))
LEARNER_2 = User("u-learner-2", "Carla", "Dias", "carla@lms.test", (MEMBERSHIP + "Learner",))
TEACHING_ASSISTANT = User(
    "u-ta-1", "Davi", "Reis", "davi@lms.test", (MEMBERSHIP + "Instructor#TeachingAssistant",)
)


@dataclass(frozen=True)
class Course:
    id: str = "course-101"
    title: str = "Introdução à Física"
    label: str = "FIS101"
    members: tuple[User, ...] = (INSTRUCTOR, LEARNER, LEARNER_2)


@dataclass(frozen=True)
class ResourceLink:
    id: str = "rl-1"
    title: str = "Aula ao vivo"
    description: str = ""


@dataclass
class Tool:
    """What the platform knows of the tool (sala): where logins start, where id_tokens go."""

    login_url: str
    launch_url: str
    jwks_url: str
    redirect_uris: tuple[str, ...] = ()
    """Allowed redirect URIs; default: the launch URL alone."""

    def allowed_redirects(self) -> tuple[str, ...]:
        return self.redirect_uris or (self.launch_url,)


# ------------------------------------------------------------------------------- keys --
@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def new(cls) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), uuid.uuid4().hex)

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {
            "kty": "RSA",
            "e": b64(numbers.e),
            "n": b64(numbers.n),
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        }

    def sign(self, claims: Mapping[str, Any], kid: str | None = None) -> str:
        return jwt.encode(
            dict(claims), self.private, algorithm="RS256", headers={"kid": kid or self.kid}
        )


# ---------------------------------------------------------------------------- launches --
@dataclass
class Prepared:
    """A launch the platform will sign when the tool's login comes back with its hint."""

    hint: str
    user: User
    course: Course
    message_type: str
    resource_link: ResourceLink | None
    target_link_uri: str
    custom: dict[str, str]
    locale: str
    claims: dict[str, Any]
    """Overrides, merged last (None removes a claim)."""
    sign_with: SigningKey | None
    kid: str | None
    expired: bool
    deep_linking: dict[str, Any] | None
    storage_target: str | None
    deployment_id: str
    client_id: str | None


@dataclass(frozen=True)
class Issued:
    """An id_token the authorization endpoint handed out, with its state and destination."""

    id_token: str
    state: str
    redirect_uri: str
    claims: Mapping[str, Any]


class Simulator:
    def __init__(
        self,
        parts: Sequence[Callable[[Simulator], Sequence[BaseRoute]]] = (),
        *,
        client_id: str = "sala-client-1",
        deployment_id: str = "deployment-1",
        name: str = "LMS Simulator",
    ) -> None:
        self.key = SigningKey.new()
        self.published: list[SigningKey] = [self.key]
        """Keys in the JWKS (rotate_key replaces or adds)."""
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.name = name
        self.base = ""
        """http://127.0.0.1:PORT once started; also the issuer."""
        self.tool: Tool | None = None
        self.prepared: dict[str, Prepared] = {}
        self.courses: dict[str, Course] = {}
        """Courses launches were prepared in, by id (their members answer Names and Roles)."""
        self.issued: list[Issued] = []
        self.jwks_requests = 0
        self.jwks_status = 200
        """What GET /jwks answers (503: the platform's key set is unreachable)."""
        self.auth_errors: list[str] = []
        self.nrps = True
        """Whether launches carry the Names and Roles service claim."""
        self._parts = parts

    # --- identity ------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return self.base

    @property
    def auth_url(self) -> str:
        return self.base + "/auth"

    @property
    def jwks_url(self) -> str:
        return self.base + "/jwks"

    @property
    def token_url(self) -> str:
        return self.base + TOKEN_PATH

    def memberships_url(self, course: Course) -> str:
        return self.base + MEMBERSHIPS_PATH.format(context=course.id)

    def rotate_key(self, keep_old: bool = False) -> SigningKey:
        """A new signing key; the JWKS publishes it (and the old one, if `keep_old`)."""
        self.key = SigningKey.new()
        self.published = [self.key, *self.published] if keep_old else [self.key]
        return self.key

    # --- preparing launches --------------------------------------------------------------
    def prepare(
        self,
        user: User = INSTRUCTOR,
        *,
        course: Course | None = None,
        resource_link: ResourceLink | None = None,
        custom: Mapping[str, str] | None = None,
        deep_linking: bool | Mapping[str, Any] = False,
        locale: str = "en-US",
        claims: Mapping[str, Any] | None = None,
        sign_with: SigningKey | None = None,
        kid: str | None = None,
        expired: bool = False,
        storage_target: str | None = None,
        deployment_id: str | None = None,
        client_id: str | None = None,
        target_link_uri: str | None = None,
    ) -> Prepared:
        """A launch of `user` into `resource_link` of `course` (or, with `deep_linking`, a deep
        linking request: True for the default settings, or a mapping merged into them).
        `client_id`: what the login initiation names (default the simulator's)."""
        assert self.tool is not None, "set sim.tool (sala's URLs) before preparing launches"
        course = course or Course()
        settings: dict[str, Any] | None = None
        if deep_linking:
            settings = {
                "deep_link_return_url": self.base + DEEP_LINK_RETURN_PATH,
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": False,
                "auto_create": True,
                "title": "Sala",
                "data": "dl-" + secrets.token_hex(8),
            }
            if isinstance(deep_linking, Mapping):
                settings.update(deep_linking)
        prepared = Prepared(
            hint=secrets.token_urlsafe(16),
            user=user,
            course=course,
            message_type=DEEP_LINKING_REQUEST if settings else RESOURCE_LINK_REQUEST,
            resource_link=None if settings else (resource_link or ResourceLink()),
            target_link_uri=target_link_uri or self.tool.launch_url,
            custom=dict(custom or {}),
            locale=locale,
            claims=dict(claims or {}),
            sign_with=sign_with,
            kid=kid,
            expired=expired,
            deep_linking=settings,
            storage_target=storage_target,
            deployment_id=deployment_id or self.deployment_id,
            client_id=client_id,
        )
        self.prepared[prepared.hint] = prepared
        self.courses[course.id] = course
        return prepared

    def start_url(self, prepared: Prepared) -> str:
        """The launch starter: an auto-submitting form to the tool's login URL."""
        return f"{self.base}/launch/{prepared.hint}"

    def course_url(self, prepared: Prepared) -> str:
        """The course page framing the launch (what a browser test opens)."""
        return f"{self.base}/course/{prepared.hint}"

    def login_params(self, prepared: Prepared) -> dict[str, str]:
        """The third-party login initiation's parameters (LTI 1.3 Core §4.1)."""
        assert self.tool is not None
        params = {
            "iss": self.issuer,
            "login_hint": prepared.user.id,
            "target_link_uri": prepared.target_link_uri,
            "lti_message_hint": prepared.hint,
            "client_id": prepared.client_id or self.client_id,
            "lti_deployment_id": prepared.deployment_id,
        }
        if prepared.storage_target:
            params["lti_storage_target"] = prepared.storage_target
        return params

    def claims_for(self, prepared: Prepared, nonce: str) -> dict[str, Any]:
        now = int(time.time())
        if prepared.expired:
            now -= 3600
        user, course = prepared.user, prepared.course
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": user.id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": user.name,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
            LTI + "version": "1.3.0",
            LTI + "message_type": prepared.message_type,
            LTI + "deployment_id": prepared.deployment_id,
            LTI + "target_link_uri": prepared.target_link_uri,
            LTI + "roles": list(user.roles),
            LTI + "context": {
                "id": course.id,
                "label": course.label,
                "title": course.title,
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            },
            LTI + "tool_platform": {
                "guid": "lms-simulator",
                "name": self.name,
                "product_family_code": "sala-lms-simulator",
                "version": "1.0",
            },
            LTI + "launch_presentation": {
                "document_target": "iframe",
                "locale": prepared.locale,
                "return_url": f"{self.base}/course/{prepared.hint}/return",
            },
        }
        if user.picture:
            claims["picture"] = user.picture
        if prepared.custom:
            claims[LTI + "custom"] = dict(prepared.custom)
        if prepared.resource_link is not None:
            link = prepared.resource_link
            claims[LTI + "resource_link"] = {
                "id": link.id,
                "title": link.title,
                "description": link.description,
            }
        if prepared.deep_linking is not None:
            claims[DL + "deep_linking_settings"] = dict(prepared.deep_linking)
        if self.nrps:
            claims[NRPS] = {
                "context_memberships_url": self.memberships_url(course),
                "service_versions": ["2.0"],
            }
        for name, value in prepared.claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    # --- the web side --------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/jwks", self._jwks, methods=["GET"]),
            Route("/auth", self._authorize, methods=["GET", "POST"]),
            Route("/launch/{hint}", self._start, methods=["GET"]),
            Route("/course/{hint}", self._course, methods=["GET"]),
            Route("/course/{hint}/return", self._returned, methods=["GET"]),
        ]
        for part in self._parts:
            routes += part(self)
        return routes

    async def _jwks(self, _: Request) -> Response:
        self.jwks_requests += 1
        if self.jwks_status != 200:
            return PlainTextResponse("unavailable", status_code=self.jwks_status)
        return JSONResponse({"keys": [key.jwk() for key in self.published]})

    async def _start(self, request: Request) -> Response:
        prepared = self.prepared.get(request.path_params["hint"])
        if prepared is None or self.tool is None:
            return PlainTextResponse("no such launch", status_code=404)
        return auto_post(self.tool.login_url, self.login_params(prepared))

    async def _course(self, request: Request) -> Response:
        prepared = self.prepared.get(request.path_params["hint"])
        if prepared is None:
            return PlainTextResponse("no such launch", status_code=404)
        storage = (
            f"<script>{STORAGE_SCRIPT}</script>" if prepared.storage_target == "_parent" else ""
        )
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(prepared.course.title)}</title>{storage}</head><body>"
            f"<h1>{html.escape(prepared.course.title)}</h1>"
            f"<iframe name='tool' title='sala' src='{html.escape(self.start_url(prepared))}'"
            " allow='camera; microphone; display-capture; autoplay' width='1000' height='700'>"
            "</iframe></body></html>"
        )

    async def _returned(self, _: Request) -> Response:
        return HTMLResponse("<!doctype html><title>Course</title><p>Back in the course.</p>")

    async def _authorize(self, request: Request) -> Response:
        """The OIDC authorization endpoint (Security Framework §5.1.1.2, LTI Core §4.1.1)."""
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": self.client_id,
        }
        problems = [f"{k} must be {v!r}" for k, v in expected.items() if params.get(k) != v]
        problems += [
            f"{k} is missing"
            for k in ("state", "nonce", "login_hint", "redirect_uri")
            if not params.get(k)
        ]
        prepared = self.prepared.get(params.get("lti_message_hint", ""))
        if prepared is None:
            problems.append("lti_message_hint names no prepared launch")
        elif params.get("login_hint") != prepared.user.id:
            problems.append("login_hint is not the launching user")
        assert self.tool is not None
        if params.get("redirect_uri") not in self.tool.allowed_redirects():
            problems.append("redirect_uri is not registered")
        if problems:
            self.auth_errors.extend(problems)
            return PlainTextResponse("; ".join(problems), status_code=400)
        assert prepared is not None
        claims = self.claims_for(prepared, params["nonce"])
        key = prepared.sign_with or self.key
        token = key.sign(claims, prepared.kid)
        self.issued.append(Issued(token, params["state"], params["redirect_uri"], claims))
        return auto_post(params["redirect_uri"], {"id_token": token, "state": params["state"]})


def auto_post(action: str, fields: Mapping[str, str]) -> HTMLResponse:
    """A page that posts `fields` to `action` as soon as it loads (how LMSs send launches)."""
    inputs = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in fields.items()
    )
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>…</title></head><body>"
        f"<form method='post' action='{html.escape(action)}' data-auto-submit>{inputs}</form>"
        "<script>document.forms[0].submit()</script></body></html>"
    )


# The platform half of "LTI Client Side postMessage Storage": answers lti.capabilities,
# lti.put_data and lti.get_data from the tool's frame, keeping values per tool origin.
STORAGE_SCRIPT = """
(function () {
  var store = {};
  window.addEventListener('message', function (event) {
    var data = event.data || {};
    var reply = { message_id: data.message_id };
    var space = store[event.origin] = store[event.origin] || {};
    if (data.subject === 'lti.capabilities') {
      reply.subject = 'lti.capabilities.response';
      reply.supported_messages = [
        { subject: 'lti.capabilities' },
        { subject: 'lti.put_data', frame: '_parent' },
        { subject: 'lti.get_data', frame: '_parent' }
      ];
    } else if (data.subject === 'lti.put_data') {
      space[data.key] = data.value;
      reply.subject = 'lti.put_data.response';
      reply.key = data.key;
      reply.value = data.value;
    } else if (data.subject === 'lti.get_data') {
      reply.subject = 'lti.get_data.response';
      reply.key = data.key;
      reply.value = space[data.key];
    } else {
      return;
    }
    event.source.postMessage(reply, event.origin);
  });
})();
"""


@contextlib.asynccontextmanager
async def serve_simulator(sim: Simulator, host_name: str = "127.0.0.1") -> AsyncIterator[Simulator]:
    """`sim` on a free loopback port in this event loop, until the block ends. `host_name`:
    the name in its URLs ("localhost" puts it on another site than sala on 127.0.0.1, as a
    real LMS is, for browser tests of third-party contexts)."""
    port = free_port()
    sim.base = f"http://{host_name}:{port}"
    async with serve_asgi(Starlette(routes=sim.routes()), port):
        yield sim


# ----------------------------------------------------------------------------- browser --
class _Forms(HTMLParser):
    """The auto-submitting form of a page, if it has one: (method, action, fields)."""

    def __init__(self) -> None:
        super().__init__()
        self.form: tuple[str, str, dict[str, str]] | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "data-auto-submit" in a and self.form is None:
            self.form = (a.get("method", "get").lower(), a.get("action", ""), {})
            self._inside = True
        elif tag == "input" and self._inside and self.form is not None and a.get("name"):
            self.form[2][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


@dataclass
class Visit:
    """Where a browser went: every response on the way, the last one last."""

    history: list[httpx.Response] = field(default_factory=list)

    @property
    def final(self) -> httpx.Response:
        return self.history[-1]

    def redirect_to(self, path_prefix: str) -> str | None:
        """The first redirect whose target's path starts with `path_prefix`."""
        for response in self.history:
            location = response.headers.get("location")
            if (
                response.is_redirect
                and location
                and httpx.URL(location).path.startswith(path_prefix)
            ):
                return location
        return None


class Browser:
    """A user's browser over plain HTTP: keeps cookies, follows redirects and submits the
    auto-submitting forms LTI uses (scripts are not run: the postMessage storage needs a
    real browser)."""

    def __init__(self, accept_cookies: bool = True) -> None:
        self.http = httpx.AsyncClient(timeout=15, follow_redirects=False)
        self.accept_cookies = accept_cookies
        """False: a browser that blocks (third-party) cookies."""

    async def aclose(self) -> None:
        await self.http.aclose()

    async def go(
        self,
        url: str,
        *,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        steps: int = 12,
    ) -> Visit:
        visit = Visit()
        for _ in range(steps):
            response = await self.http.request(method, url, data=dict(data) if data else None)
            if not self.accept_cookies:
                self.http.cookies.clear()
            visit.history.append(response)
            if response.is_redirect:
                url, method, data = urljoin(url, response.headers["location"]), "GET", None
                continue
            form = self._auto_form(response)
            if form is None:
                return visit
            method, action, fields = form
            url, method, data = urljoin(url, action), method.upper(), fields
            if method == "GET":
                url, data = url + ("&" if "?" in url else "?") + urlencode(fields), None
        raise AssertionError(f"more than {steps} steps: {[r.url for r in visit.history]}")

    @staticmethod
    def _auto_form(response: httpx.Response) -> tuple[str, str, dict[str, str]] | None:
        if "text/html" not in response.headers.get("content-type", ""):
            return None
        parser = _Forms()
        parser.feed(response.text)
        return parser.form

    async def post(self, url: str, data: Mapping[str, str]) -> Visit:
        return await self.go(url, method="POST", data=data)


def decode_unverified(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return payload

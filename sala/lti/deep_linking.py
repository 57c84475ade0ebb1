"""Deep Linking 2.0: an instructor adding sala to a course picks the activity's settings (title,
recording, waiting for a moderator, guests, muted on entry), and sala answers the platform with
a signed `LtiDeepLinkingResponse` holding one `ltiResourceLink` whose `custom` parameters carry
those settings; the platform stores them and sends them back in every launch of that link
(sala/lti/meetings.py reads them).

`GET /lti/deep-link/{token}` is the picker (a plain form, in the launch's language), reached
from the launch's deep linking request; `POST` to the same URL signs the answer and posts it to
the platform's `deep_link_return_url` with the `data` the platform sent echoed back. Only a
moderator role (Instructor, Administrator, TeachingAssistant by default) may use it.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sala.clock import Clock
from sala.lti import claims as c
from sala.lti.keys import ToolKeys
from sala.lti.sessions import LandingSession, Sessions
from sala.lti.tool import ToolUrls, secure_url
from sala.lti.toolpages import autopost_html, problem_html, tool_page

log = logging.getLogger(__name__)

RESPONSE = "LtiDeepLinkingResponse"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
RESOURCE_LINK = "ltiResourceLink"
GUEST_POLICIES = ("ALWAYS_ACCEPT", "ASK_MODERATOR", "ALWAYS_DENY")
TITLE_MAX = 200
LIFETIME_S = 300
"""The answer is posted at once; five minutes covers a slow network and clock skew."""

WORDS: dict[str, dict[str, str]] = {
    "en-US": {
        "heading": "Add a video conference",
        "intro": "Choose how the meeting of this activity works. You can change it later by "
        "editing the activity in {course}.",
        "this_course": "the course",
        "title": "Title",
        "default_title": "Video conference",
        "record": "Allow recording",
        "wait": "Participants wait until a moderator joins",
        "mute": "Participants join muted",
        "options": "In the meeting",
        "record_hint": "Moderators start and stop the recording; recordings are listed on the "
        "activity's page.",
        "wait_hint": "Until then they see a waiting page that lets them in by itself.",
        "mute_hint": "Everyone can turn their microphone on afterwards.",
        "guests": "Guests (users from outside the course)",
        "ALWAYS_ACCEPT": "Let them in",
        "ASK_MODERATOR": "A moderator lets each one in",
        "ALWAYS_DENY": "Keep them out",
        "add": "Add to the course",
        "sending": "Adding the activity to the course…",
        "continue": "Continue",
        "failed": "The activity could not be added",
        "fix": "What to do",
    },
    "pt-BR": {
        "heading": "Adicionar uma videoconferência",
        "intro": "Escolha como funciona a reunião desta atividade. Você pode mudar depois "
        "editando a atividade em {course}.",
        "this_course": "o curso",
        "title": "Título",
        "default_title": "Videoconferência",
        "record": "Permitir gravação",
        "wait": "Participantes esperam até um moderador entrar",
        "mute": "Participantes entram com o microfone desligado",
        "options": "Na reunião",
        "record_hint": "Os moderadores iniciam e param a gravação; as gravações ficam na página "
        "da atividade.",
        "wait_hint": "Até lá, veem uma página de espera que os deixa entrar sozinha.",
        "mute_hint": "Cada um pode ligar o microfone depois.",
        "guests": "Convidados (usuários de fora do curso)",
        "ALWAYS_ACCEPT": "Deixar entrar",
        "ASK_MODERATOR": "Um moderador aprova cada um",
        "ALWAYS_DENY": "Não deixar entrar",
        "add": "Adicionar ao curso",
        "sending": "Adicionando a atividade ao curso…",
        "continue": "Continuar",
        "failed": "Não foi possível adicionar a atividade",
        "fix": "O que fazer",
    },
    "es-ES": {
        "heading": "Añadir una videoconferencia",
        "intro": "Elija cómo funciona la reunión de esta actividad. Puede cambiarlo después "
        "editando la actividad en {course}.",
        "this_course": "el curso",
        "title": "Título",
        "default_title": "Videoconferencia",
        "record": "Permitir la grabación",
        "wait": "Los participantes esperan hasta que entre un moderador",
        "mute": "Los participantes entran con el micrófono silenciado",
        "options": "En la reunión",
        "record_hint": "Los moderadores inician y detienen la grabación; las grabaciones se "
        "listan en la página de la actividad.",
        "wait_hint": "Hasta entonces ven una página de espera que les deja entrar sola.",
        "mute_hint": "Cada uno puede activar su micrófono después.",
        "guests": "Invitados (usuarios de fuera del curso)",
        "ALWAYS_ACCEPT": "Dejarles entrar",
        "ASK_MODERATOR": "Un moderador admite a cada uno",
        "ALWAYS_DENY": "No dejarles entrar",
        "add": "Añadir al curso",
        "sending": "Añadiendo la actividad al curso…",
        "continue": "Continuar",
        "failed": "No se pudo añadir la actividad",
        "fix": "Qué hacer",
    },
}

PROBLEMS: dict[str, dict[str, tuple[str, str]]] = {
    "expired": {
        "en-US": (
            "This page has expired or its address is incomplete.",
            "Go back to the course and add the activity again.",
        ),
        "pt-BR": (
            "Esta página expirou ou seu endereço está incompleto.",
            "Volte ao curso e adicione a atividade de novo.",
        ),
        "es-ES": (
            "Esta página ha caducado o su dirección está incompleta.",
            "Vuelva al curso y añada la actividad de nuevo.",
        ),
    },
    "not_deep_linking": {
        "en-US": (
            "This launch was not a request to add content, so there is nothing to pick.",
            "Open the activity from the course instead.",
        ),
        "pt-BR": (
            "Este acesso não foi um pedido para adicionar conteúdo; não há o que escolher.",
            "Abra a atividade pelo curso.",
        ),
        "es-ES": (
            "Este acceso no era una solicitud para añadir contenido; no hay nada que elegir.",
            "Abra la actividad desde el curso.",
        ),
    },
    "learner": {
        "en-US": (
            "Only instructors can add a video conference to a course.",
            "Ask an instructor of the course to add it.",
        ),
        "pt-BR": (
            "Só professores podem adicionar uma videoconferência a um curso.",
            "Peça a um professor do curso que a adicione.",
        ),
        "es-ES": (
            "Solo los profesores pueden añadir una videoconferencia a un curso.",
            "Pida a un profesor del curso que la añada.",
        ),
    },
    "unsupported": {
        "en-US": (
            "The platform does not accept the kind of link sala adds (an LTI resource link) here.",
            "Add sala from a place in the course that accepts external tool activities.",
        ),
        "pt-BR": (
            "A plataforma não aceita aqui o tipo de link que o sala adiciona (um link de "
            "recurso LTI).",
            "Adicione o sala a partir de um lugar do curso que aceite atividades de "
            "ferramentas externas.",
        ),
        "es-ES": (
            "La plataforma no acepta aquí el tipo de enlace que añade sala (un enlace de "
            "recurso LTI).",
            "Añada sala desde un lugar del curso que acepte actividades de herramientas externas.",
        ),
    },
}


class DeepLinking:
    def __init__(
        self,
        sessions: Sessions,
        keys: ToolKeys,
        clock: Clock,
        urls: ToolUrls,
        frame_ancestors: str,
    ) -> None:
        self._sessions = sessions
        self._keys = keys
        self._clock = clock
        self._urls = urls
        self._frame_ancestors = frame_ancestors

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/lti/deep-link/{token}", self.picker, methods=["GET"]),
            Route("/lti/deep-link/{token}", self.choose, methods=["POST"]),
        ]

    async def picker(self, request: Request) -> Response:
        """GET /lti/deep-link/{token}"""
        session = await self._instructor_session(request)
        if isinstance(session, Response):
            return session
        launch = session.launch
        words = WORDS[launch.locale]
        settings = launch.deep_linking or {}
        suggested = settings.get("title")
        title = suggested if isinstance(suggested, str) and suggested else words["default_title"]
        course = launch.context_title or words["this_course"]
        options = "".join(
            f"<option value='{policy}'{' selected' if policy == 'ALWAYS_ACCEPT' else ''}>"
            f"{html.escape(words[policy])}</option>"
            for policy in GUEST_POLICIES
        )
        checks = "".join(
            f"<div class='lti-option'><input type='checkbox' id='opt-{name}' name='{name}' "
            f"value='true' aria-describedby='opt-{name}-hint'{' checked' if on else ''}>"
            f"<label for='opt-{name}'>{html.escape(words[key])}</label>"
            f"<p id='opt-{name}-hint' class='lti-hint'>{html.escape(words[f'{key}_hint'])}"
            "</p></div>"
            for name, key, on in (
                ("record", "record", True),
                ("waitForModerator", "wait", False),
                ("muteOnStart", "mute", False),
            )
        )
        body = (
            f"<h1>{html.escape(words['heading'])}</h1>"
            f"<p class='lti-note'>{html.escape(words['intro'].format(course=course))}</p>"
            f"<form class='lti-form' method='post' action='/lti/deep-link/{session.token}'>"
            f"<label class='field'>{html.escape(words['title'])}"
            f"<input name='title' required maxlength='{TITLE_MAX}' "
            f"value='{html.escape(title[:TITLE_MAX])}'></label>"
            f"<fieldset class='lti-options'><legend>{html.escape(words['options'])}</legend>"
            f"{checks}</fieldset>"
            f"<label class='field'>{html.escape(words['guests'])}"
            f"<select name='guestPolicy'>{options}</select></label>"
            f"<button type='submit' class='wide'>{html.escape(words['add'])}</button></form>"
        )
        return tool_page(words["heading"], body, self._frame_ancestors, lang=launch.locale)

    async def choose(self, request: Request) -> Response:
        """POST /lti/deep-link/{token}: sign the answer and post it to the platform."""
        session = await self._instructor_session(request)
        if isinstance(session, Response):
            return session
        launch = session.launch
        words = WORDS[launch.locale]
        form = await request.form()

        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        policy = text("guestPolicy")
        custom = {
            "record": "true" if text("record") == "true" else "false",
            "waitForModerator": "true" if text("waitForModerator") == "true" else "false",
            "guestPolicy": policy if policy in GUEST_POLICIES else "ALWAYS_ACCEPT",
            "muteOnStart": "true" if text("muteOnStart") == "true" else "false",
        }
        title = text("title")[:TITLE_MAX] or words["default_title"]
        settings = launch.deep_linking or {}
        jwt = await self._keys.sign(self.response_claims(session, title, custom))
        log.info(
            "LTI deep linking: %s added to %s (%s)",
            title,
            launch.context_id or "a course",
            launch.issuer,
        )
        body = autopost_html(
            str(settings["deep_link_return_url"]), {"JWT": jwt}, words["sending"], words["continue"]
        )
        return tool_page(words["sending"], body, self._frame_ancestors, lang=launch.locale)

    def response_claims(
        self, session: LandingSession, title: str, custom: Mapping[str, str]
    ) -> dict[str, Any]:
        """The LtiDeepLinkingResponse (Deep Linking 2.0, section 4.2): from sala's client id to
        the platform, for the deployment the request came from."""
        launch = session.launch
        settings = launch.deep_linking or {}
        now = self._clock.now_ms() // 1000
        claims: dict[str, Any] = {
            "iss": launch.client_id,
            "aud": launch.issuer,
            "iat": now,
            "exp": now + LIFETIME_S,
            "nonce": secrets.token_urlsafe(16),
            c.DEPLOYMENT_ID: launch.deployment_id,
            c.MESSAGE_TYPE: RESPONSE,
            c.VERSION: "1.3.0",
            CONTENT_ITEMS: [
                {
                    "type": RESOURCE_LINK,
                    "title": title,
                    "url": self._urls.launch,
                    "custom": dict(custom),
                }
            ],
        }
        # The platform's opaque `data` must come back unchanged when it sent one.
        if isinstance(settings.get("data"), str):
            claims[DATA] = settings["data"]
        return claims

    async def _instructor_session(self, request: Request) -> LandingSession | Response:
        """The live deep linking session of an instructor, or the page saying why not."""
        session = await self._sessions.get(str(request.path_params.get("token", "")))
        if session is None:
            return self._problem("expired", "en-US", 404)
        launch = session.launch
        settings = launch.deep_linking
        return_url = settings.get("deep_link_return_url") if settings else None
        # The return URL becomes a form's action: an HTTPS URL only (the launch was verified,
        # but a `javascript:` action would run in sala's origin).
        if (
            launch.message_type != c.DEEP_LINKING_REQUEST
            or not isinstance(return_url, str)
            or not secure_url(return_url)
        ):
            return self._problem("not_deep_linking", launch.locale, 400)
        if not launch.moderator:
            return self._problem("learner", launch.locale, 403)
        accepted = settings.get("accept_types") if settings else None
        if isinstance(accepted, list) and RESOURCE_LINK not in accepted:
            return self._problem("unsupported", launch.locale, 400)
        return session

    def _problem(self, which: str, locale: str, status: int) -> Response:
        problem, fix = PROBLEMS[which][locale]
        words = WORDS[locale]
        body = problem_html(words["failed"], problem, words["fix"], fix)
        return tool_page(words["failed"], body, self._frame_ancestors, status=status, lang=locale)

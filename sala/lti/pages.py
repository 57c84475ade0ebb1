"""The plain pages of the LTI flow that are not the landing page's client: errors, each saying
what went wrong and what to fix, in the launch's language when it is known.

They run under the room's Content-Security-Policy (no inline script or style) and inside the
platform's iframe, so `frame-ancestors` is the operator's setting, as for the room. They look like
sala's other LTI step pages (sala/lti/toolpages.py: one card under the wordmark).
"""

from __future__ import annotations

import html

from starlette.responses import HTMLResponse

from sala.lti.toolpages import tool_page

_TITLES = {
    "en-US": "The activity could not be opened",
    "pt-BR": "Não foi possível abrir a atividade",
    "es-ES": "No se pudo abrir la actividad",
}
_FIX = {"en-US": "What to do", "pt-BR": "O que fazer", "es-ES": "Qué hacer"}


def page(
    title: str, body_html: str, frame_ancestors: str, status: int = 200, lang: str = "en-US"
) -> HTMLResponse:
    """A page under the LTI pages' headers; `body_html` must already be escaped."""
    return tool_page(title, body_html, frame_ancestors, status=status, lang=lang)


def error_page(
    status: int,
    problem: str,
    fix: str,
    frame_ancestors: str,
    locale: str = "en-US",
) -> HTMLResponse:
    """`problem`: what went wrong, for the person who sees it; `fix`: what they (or the
    platform's administrator) should do. Both plain text, in `locale` where the caller has it."""
    title = _TITLES.get(locale, _TITLES["en-US"])
    body = (
        f"<h1>{html.escape(title)}</h1>"
        f"<p class='lti-problem' role='alert'>{html.escape(problem)}</p>"
        f"<h2>{html.escape(_FIX.get(locale, _FIX['en-US']))}</h2>"
        f"<p class='lti-fix'>{html.escape(fix)}</p>"
    )
    return page(title, body, frame_ancestors, status, locale)

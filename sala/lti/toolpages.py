"""The pages of sala's own LTI steps that the landing client does not draw: the deep linking
picker, the page that posts the signed answer back to the platform, and the one that ends a
dynamic registration.

They run under the room's Content-Security-Policy, which forbids inline scripts and styles: the
posting and closing is done by /room/static/app/lti-post.js (client/src/lti-post/), which reads
what to do from `#lti-post`'s data attributes, and every form also works without it (a button).
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse

from sala.lti.claims import locale_of
from sala.room.handoff import room_headers


def request_locale(request: Request) -> str:
    """The administrator's language for the registration pages (no launch says it there)."""
    first = request.headers.get("accept-language", "").split(",", 1)[0].split(";", 1)[0]
    return locale_of(first.strip())


def tool_page(
    title: str,
    body_html: str,
    frame_ancestors: str,
    *,
    status: int = 200,
    lang: str = "en-US",
) -> HTMLResponse:
    """`body_html` must already be escaped; the page is never cached (it may carry a token)."""
    return HTMLResponse(
        f"<!doctype html><html lang='{html.escape(lang)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta name='color-scheme' content='light dark'><link rel='icon' href='data:,'>"
        f"<title>{html.escape(title)}</title>"
        "<link rel='stylesheet' href='/room/static/app/lti-post.css'>"
        "<script type='module' src='/room/static/app/lti-post.js'></script></head>"
        "<body><main class='lti-tool'><p class='lti-brand wordmark' aria-hidden='true'>sala</p>"
        f"<div class='lti-card'>{body_html}</div></main>"
        "</body></html>",
        status_code=status,
        headers={**room_headers(frame_ancestors), "Cache-Control": "no-store"},
    )


def problem_html(title: str, problem: str, fix_label: str, fix: str) -> str:
    return (
        f"<h1>{html.escape(title)}</h1>"
        f"<p class='lti-problem' role='alert'>{html.escape(problem)}</p>"
        f"<h2>{html.escape(fix_label)}</h2><p class='lti-fix'>{html.escape(fix)}</p>"
    )


def autopost_html(action: str, fields: dict[str, str], message: str, button: str) -> str:
    """A form the script submits as soon as the page loads (`data-action='submit'`)."""
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(name)}' value='{html.escape(value)}'>"
        for name, value in fields.items()
    )
    return (
        "<div id='lti-post' data-action='submit' hidden></div>"
        f"<p class='lti-note' role='status'>{html.escape(message)}</p>"
        f"<form id='lti-post-form' method='post' action='{html.escape(action)}'>{hidden}"
        f"<button type='submit' class='primary wide'>{html.escape(button)}</button></form>"
    )


CLOSE_MARKER = "<div id='lti-post' data-action='close' hidden></div>"
"""Tells the script to post {subject: 'org.imsglobal.lti.close'} to the window that opened the
registration (the platform's page), as Dynamic Registration 1.0 asks."""

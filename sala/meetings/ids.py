"""Identifiers and secrets in the formats BBB integrations expect (see bbb-api.md §1.5)."""

from __future__ import annotations

import hashlib
import secrets
import string

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly from `alphabet` (at most 256 characters), from one
    read of the system's random source rather than one per character: every join makes four of
    these (issue 17)."""
    size = len(alphabet)
    # A byte at or above `fair` is skipped: keeping it would favour the alphabet's first letters.
    fair = 256 - 256 % size
    drawn: list[str] = []
    while len(drawn) < length:
        # Enough bytes for the whole string at once, nearly always (1/64 are skipped for 36).
        for byte in secrets.token_bytes(length + 8):
            if byte < fair:
                drawn.append(alphabet[byte % size])
                if len(drawn) == length:
                    break
    return "".join(drawn)


def internal_meeting_id(external_id: str, create_time_ms: int) -> str:
    """sha1(external id) + "-" + create time: also the record ID of the session's recording."""
    return f"{meeting_id_hash(external_id)}-{create_time_ms}"


def meeting_id_hash(external_id: str) -> str:
    return hashlib.sha1(external_id.encode("utf-8")).hexdigest()


def internal_user_id() -> str:
    return "w_" + _random(_LOWER_ALNUM, 12)


def auth_token() -> str:
    return _random(_LOWER_ALNUM, 12)


def session_token() -> str:
    # BBB uses 16 characters; sala's tokens are single-use credentials, so they get more entropy.
    return _random(_LOWER_ALNUM, 32)


def password() -> str:
    return _random(_ALNUM, 8)


def voice_bridge(digits: int = 5) -> str:
    first = secrets.choice("123456789")
    return first + "".join(secrets.choice(string.digits) for _ in range(digits - 1))


def chat_message_id() -> str:
    """A chat message's id: made once when it is sent and logged with it, so the room, its
    replay after a restart and webhooks all name the message the same."""
    return "m_" + _random(_LOWER_ALNUM, 16)

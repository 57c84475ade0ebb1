"""Identifiers and secrets: BBB's formats, and every character equally likely."""

from __future__ import annotations

import re
from collections import Counter

from sala.meetings import ids


def test_identifiers_have_the_formats_integrations_expect() -> None:
    assert re.fullmatch(r"w_[a-z0-9]{12}", ids.internal_user_id())
    assert re.fullmatch(r"[a-z0-9]{12}", ids.auth_token())
    assert re.fullmatch(r"[a-z0-9]{32}", ids.session_token())
    assert re.fullmatch(r"[A-Za-z0-9]{8}", ids.password())
    assert re.fullmatch(r"m_[a-z0-9]{16}", ids.chat_message_id())
    assert len({ids.session_token() for _ in range(1000)}) == 1000


def test_every_character_of_a_token_is_equally_likely() -> None:
    # 36 letters: a byte taken modulo 36 without skipping 252-255 would make "a" to "d" 8/7
    # as likely as the rest, ~14 % more: over 360,000 draws that is ~1,400 more of each of them
    # against a spread (three standard deviations) of ~290.
    drawn = Counter("".join(ids.session_token() for _ in range(11_250)))
    expected = 11_250 * 32 / 36
    assert len(drawn) == 36
    assert all(abs(count - expected) < 400 for count in drawn.values()), drawn.most_common(6)

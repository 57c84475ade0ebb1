"""TURN credentials as coturn checks them (use-auth-secret), and what the room gives browsers."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sala.clock import ManualClock
from sala.media.ice import IceServers


def test_turn_credentials_verify_with_the_shared_secret_and_expire() -> None:
    clock = ManualClock(1_700_000_000_000)
    ice = IceServers(
        clock,
        stun=["stun:stun.example.edu:3478"],
        turn=["turn:turn.example.edu:3478?transport=udp"],
        turn_secret="coturn-secret",
        ttl_seconds=3600,
    )
    stun, turn = ice.for_user("w_abc")
    assert stun == {"urls": ["stun:stun.example.edu:3478"]}
    expiry, user = turn["username"].split(":")
    assert user == "w_abc" and int(expiry) == 1_700_000_000 + 3600
    # What coturn computes from the username with its static-auth-secret.
    expected = hmac.new(b"coturn-secret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()
    wrong = hmac.new(b"other", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] != base64.b64encode(wrong).decode()
    # Each user gets their own; later ones expire later.
    clock.advance(seconds=60)
    assert ice.for_user("w_def")[1]["username"].startswith(f"{1_700_000_000 + 3660}:")


def test_no_turn_without_a_secret() -> None:
    ice = IceServers(
        ManualClock(0), stun=[], turn=["turn:t.example.edu"], turn_secret=None, ttl_seconds=60
    )
    assert ice.for_user("w_abc") == []

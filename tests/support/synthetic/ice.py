"""ICE for synthetic participants: host candidates on one address only, no STUN.

aioice gathers a host candidate on every address of every interface it finds (ifaddr), and
aiortc adds Google's STUN server when it is given no ICE servers. Media tests may talk only to
the private network namespace's address (tests/support/netns.py), and a crowd of participants
should not bind a socket per interface each. So the peer connections get no ICE servers at all,
and gathering inside `gathering_on(address)` finds exactly that address.

aioice offers no per-connection choice of addresses: its module function is replaced once by
one that reads a context variable, which `gathering_on` sets for the calling task only. Outside
it (and for any other aioice user in the process) gathering is unchanged. asyncio copies the
context into the tasks aiortc starts to gather, so the address follows the negotiation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import aioice.ice
from aiortc import RTCBundlePolicy, RTCConfiguration

_PINNED: ContextVar[tuple[str, ...] | None] = ContextVar("synthetic_ice_address", default=None)
_GATHER_ALL = aioice.ice.get_host_addresses
_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)", re.MULTILINE)


class IceMisconfigured(RuntimeError):
    """A local description offers candidates elsewhere than the pinned address."""


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    pinned = _PINNED.get()
    if pinned is None:
        return _GATHER_ALL(use_ipv4, use_ipv6)
    return list(pinned)


def configuration(max_bundle: bool = False) -> RTCConfiguration:
    """No STUN and no TURN: host candidates only (aiortc's default would add a public STUN).
    With `max_bundle`, every stream shares the first one's transport: for an offer with two
    video streams in one BUNDLE (a relay's webcam and screen). aiortc's default (balanced)
    puts the second video stream on the first video's own transport, which the BUNDLE then
    leaves without ICE, so that stream never receives anything (aiortc 1.x)."""
    policy = RTCBundlePolicy.MAX_BUNDLE if max_bundle else RTCBundlePolicy.BALANCED
    return RTCConfiguration(iceServers=[], bundlePolicy=policy)


@contextmanager
def gathering_on(address: str) -> Iterator[None]:
    """Candidates gathered in this block (by this task and the tasks it starts) use `address`."""
    aioice.ice.get_host_addresses = _host_addresses
    token = _PINNED.set((address,))
    try:
        yield
    finally:
        _PINNED.reset(token)


def check_candidates(sdp: str, address: str) -> None:
    """Raises unless the description offers host candidates, all of them on `address`."""
    found = _CANDIDATE.findall(sdp)
    wrong = [f"{ip} ({kind})" for ip, kind in found if ip != address or kind != "host"]
    if not found or wrong:
        raise IceMisconfigured(
            f"candidates must all be host candidates on {address}; found "
            f"{', '.join(wrong) if wrong else 'none'}"
        )

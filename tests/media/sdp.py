"""SDP offers written by hand, for tests that drive the media server without a browser.

They are well-formed enough for Janus to negotiate (it answers), but carry no candidates, so no
media ever flows: what they test is signaling, rules and bookkeeping. Media itself is tested
with Chromium in tests/e2e.
"""

from __future__ import annotations

import secrets

FINGERPRINT = ":".join(f"{b:02X}" for b in bytes(range(32)))


def _head(mids: str) -> list[str]:
    return [
        "v=0",
        f"o=- {secrets.randbits(40)} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        f"a=group:BUNDLE {mids}",
        "a=msid-semantic: WMS *",
    ]


def _transport(mid: str, setup: str = "actpass") -> list[str]:
    return [
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        f"a=ice-ufrag:{secrets.token_hex(4)}",
        f"a=ice-pwd:{secrets.token_hex(12)}",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {FINGERPRINT}",
        f"a=setup:{setup}",
        f"a=mid:{mid}",
        "a=rtcp-mux",
    ]


def audio_offer(direction: str = "sendrecv") -> str:
    lines = [
        *_head("0"),
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        *_transport("0"),
        f"a={direction}",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
    ]
    if direction in ("sendrecv", "sendonly"):
        lines.append(f"a=ssrc:{secrets.randbits(31)} cname:sala-test")
    return "\r\n".join(lines) + "\r\n"


def video_offer() -> str:
    ssrc = secrets.randbits(31)
    lines = [
        *_head("0"),
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        *_transport("0"),
        "a=sendonly",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 nack",
        "a=rtcp-fb:96 nack pli",
        "a=rtcp-fb:96 ccm fir",
        f"a=ssrc:{ssrc} cname:sala-test",
        f"a=ssrc:{ssrc} msid:cam cam0",
    ]
    return "\r\n".join(lines) + "\r\n"


def answer_to(offer: str) -> str:
    """A receive-only answer to the media server's offer for a subscription."""
    mids = [line[len("a=mid:") :] for line in offer.splitlines() if line.startswith("a=mid:")]
    lines = _head(" ".join(mids))
    sections = offer.split("\r\nm=")[1:]
    for mid, section in zip(mids, sections, strict=False):
        m_line = "m=" + section.splitlines()[0]
        codecs = [line for line in section.splitlines() if line.startswith("a=rtpmap:")]
        lines += [m_line, *_transport(mid, setup="active"), "a=recvonly", *codecs]
    return "\r\n".join(lines) + "\r\n"

"""One meeting's mix and lecture video relayed to another media node, for the listen-only
listeners seated there.

On the relay node: a Streaming mountpoint bound on that node's media address (`NodeInfo.
media_host`), at ports its Janus takes from the Streaming range, accepting SRTP only, with three
streams declared up front: the mix (mid `a`), the presenter's webcam (`camera`) and the screen
(`screen`), the video ones in the meeting's codec (`video_codec`: VP8 or H.264), so a viewer's
SDP never changes when a feed starts or stops (a stream with no forwarder is simply silent). The
webcam's stream is declared simulcast, with a port per substream: a webcam published in simulcast
layers is forwarded layer by layer and each viewer there picks its layer (`listen_layer`), as
VideoRoom subscribers on the meeting's node do. On the meeting's own node: one more AudioBridge
RTP forwarder of the mix to it, and VideoRoom RTP forwarders for each feed shown (one per
simulcast layer), all SRTP with the same key (AES_CM_128_HMAC_SHA1_80; a fresh random 30-byte key
per relay, sent to the two Janus servers over their API and kept nowhere else). Video forwarders
take the mountpoint's keyframe requests back on its RTCP ports. The mix is encoded once on the
meeting's node whatever the number of relays, and each feed is sent once per relay node; each
relay costs its node only the relaying of packets.

Each listener seated on a relay has a Janus session of its own on the relay node, so a listener
leaving, or the relay node dying, is one close. The mountpoint's id is the meeting's voice bridge
plus `RELAY_IDS`, apart from the ids of the meetings' own listen-only mountpoints (their voice
bridges), so a node can relay one meeting and carry another with the same number.
"""

from __future__ import annotations

import base64
import contextlib
import secrets

from sala.media.engine import FeedKind, MediaError, Relayed
from sala.media.janus.client import JanusClient, JanusError
from sala.media.janus.engine import (
    MIX_MID,
    JanusEngine,
    JanusMeeting,
    ListenSeat,
    MountPort,
    PublishedFeed,
)

RELAY_IDS = 1 << 40
VIDEOS = (FeedKind.CAMERA, FeedKind.SCREEN)
"""The video streams of a relay mountpoint, in its SDP's order; each one's mid is the kind."""
SRTP_KEY_BYTES = 30
"""An SDES master key and salt for AES-128 (16 + 14 bytes), as Janus expects it base64-encoded."""


def srtp_key() -> str:
    return base64.b64encode(secrets.token_bytes(SRTP_KEY_BYTES)).decode("ascii")


class Relay:
    def __init__(self, home: JanusMeeting, there: JanusEngine, node: str, host: str) -> None:
        self.home = home
        self.there = there
        self.node = node
        self.host = host
        self.mountpoint = RELAY_IDS + home.number
        self.forwarder: int | None = None
        self.seats: set[ListenSeat] = set()
        self.showing: dict[FeedKind, tuple[PublishedFeed, list[int]]] = {}
        """Each video stream's feed now and the forwarders sending it here (one per layer)."""
        self._ports: dict[str, MountPort] = {}
        self._key = srtp_key()

    async def open(self) -> None:
        """The mountpoint on the relay node, then the forwarder to it on the meeting's node."""
        try:
            self._ports = await self.there.make_mountpoint(
                self.mountpoint,
                self.host,
                f"relay of {self.home.number}",
                self._key,
                videos=tuple(kind.value for kind in VIDEOS),
                simulcast=frozenset({FeedKind.CAMERA.value}),  # screens are one layer
                codec=self.home.video_codec,
            )
        except (JanusError, TimeoutError) as exc:
            raise MediaError("media_unavailable", "The media server refused a relay") from exc
        try:
            self.forwarder = await self.home.forward(
                self.host, self._ports[MIX_MID].port, self._key
            )
        except (JanusError, TimeoutError, MediaError) as exc:
            await self.there.destroy_mountpoint(self.mountpoint)
            raise MediaError("media_unavailable", "The meeting's mix cannot be relayed") from exc

    async def seat(self) -> ListenSeat:
        """A session of its own on the relay node for one listener."""
        client = await self.there.client()
        seat = ListenSeat(self.node, client, self.mountpoint, home=False, carries=self.carries)
        self.seats.add(seat)
        return seat

    async def show(self, wanted: dict[FeedKind, PublishedFeed]) -> None:
        """Forward `wanted` (the meeting's lecture feeds) here: a forwarder for each feed not
        shown yet, and the forwarder of each feed no longer wanted stopped. A stream whose feed
        changes (a new presenter) gets the new one's packets: Janus' Streaming rewrites
        sequence numbers and timestamps across the change, and the new forwarder's first
        keyframe request comes from the mountpoint as its RTCP latches."""
        for kind in VIDEOS:
            now, want = self.showing.get(kind), wanted.get(kind)
            if now is not None and now[0] is want:
                continue
            if now is not None:
                del self.showing[kind]
                await self.home.stop_feed_forward(now[0].feed.id, now[1])
            if want is not None:
                forwarders = await self.home.forward_feed(
                    want, self.host, self._ports[kind.value], self._key
                )
                self.showing[kind] = (want, forwarders)

    def carries(self) -> Relayed:
        """Each video stream's feed now (its id), None where no forwarder sends one."""
        return {
            kind.value: (shown[0].feed.id if (shown := self.showing.get(kind)) else None)
            for kind in VIDEOS
        }

    async def close(self, *, there_alive: bool = True) -> None:
        """Stop the forwarders and destroy the mountpoint (unless the relay node is gone)."""
        if self.forwarder is not None:
            await self.home.stop_forward(self.forwarder)
        showing, self.showing = list(self.showing.values()), {}
        for published, forwarders in showing:
            await self.home.stop_feed_forward(published.feed.id, forwarders)
        if there_alive:
            await self.there.destroy_mountpoint(self.mountpoint)


async def close_session(client: JanusClient) -> None:
    """End a listener's session on a relay node; Janus drops its handle with it."""
    with contextlib.suppress(JanusError, TimeoutError):
        await client.request({"janus": "destroy", "session_id": client.session_id})
    await client.close()

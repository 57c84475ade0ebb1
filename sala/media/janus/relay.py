"""One meeting's mix relayed to another media node, for the listen-only listeners seated there.

On the relay node: a Streaming mountpoint bound on that node's media address (`NodeInfo.
media_host`), at a port its Janus takes from the Streaming range, accepting SRTP only. On the
meeting's own node: one more AudioBridge RTP forwarder of the mix to it, SRTP with the same key
(AES_CM_128_HMAC_SHA1_80; a fresh random 30-byte key per relay, sent to the two Janus servers
over their API and kept nowhere else). The mix is encoded once on the meeting's node whatever
the number of relays; each relay costs its node only the relaying of packets.

Each listener seated on a relay has a Janus session of its own on the relay node, so a listener
leaving, or the relay node dying, is one close. The mountpoint's id is the meeting's voice bridge
plus `RELAY_IDS`, apart from the ids of the meetings' own listen-only mountpoints (their voice
bridges), so a node can relay one meeting and carry another with the same number.
"""

from __future__ import annotations

import base64
import contextlib
import secrets

from sala.media.engine import MediaError
from sala.media.janus.client import JanusClient, JanusError
from sala.media.janus.engine import JanusEngine, JanusMeeting, ListenSeat

RELAY_IDS = 1 << 40
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
        self._key = srtp_key()

    async def open(self) -> None:
        """The mountpoint on the relay node, then the forwarder to it on the meeting's node."""
        try:
            port = await self.there.make_mountpoint(
                self.mountpoint, self.host, f"relay of {self.home.number}", self._key
            )
        except (JanusError, TimeoutError) as exc:
            raise MediaError("media_unavailable", "The media server refused a relay") from exc
        try:
            self.forwarder = await self.home.forward(self.host, port, self._key)
        except (JanusError, TimeoutError, MediaError) as exc:
            await self.there.destroy_mountpoint(self.mountpoint)
            raise MediaError("media_unavailable", "The meeting's mix cannot be relayed") from exc

    async def seat(self) -> ListenSeat:
        """A session of its own on the relay node for one listener."""
        client = await self.there.client()
        seat = ListenSeat(self.node, client, self.mountpoint, home=False)
        self.seats.add(seat)
        return seat

    async def close(self, *, there_alive: bool = True) -> None:
        """Stop the forwarder and destroy the mountpoint (unless the relay node is gone)."""
        if self.forwarder is not None:
            await self.home.stop_forward(self.forwarder)
        if there_alive:
            await self.there.destroy_mountpoint(self.mountpoint)


async def close_session(client: JanusClient) -> None:
    """End a listener's session on a relay node; Janus drops its handle with it."""
    with contextlib.suppress(JanusError, TimeoutError):
        await client.request({"janus": "destroy", "session_id": client.session_id})
    await client.close()

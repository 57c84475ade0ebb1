"""A synthetic participant: sala's real join and room protocol, real WebRTC with Janus through
the room's media messages, and no browser.

It joins as a browser does (tests/support/room_socket.py: the checksummed API `join`, the
hand-off, the room WebSocket, `hello` and `welcome`) and negotiates each piece of media on a
peer connection of its own, with whole SDP (gathered before sending), as the browser client does
(client/src/features/stage/media.js; docs/protocol.md):

- `listen("bridge")`: a receive-only offer in `media.audio.join` (listen-only in the meeting's
  AudioBridge, one Opus encoder per listener on Janus: the old path, the baseline);
- `listen("stream")`: `media.listen.start`, the server's offer of the meeting's listen-only
  stream, `media.listen.answer`, `media.listen.started`; on a relay node that stream also
  carries the presenter's webcam and the screen (video streams `camera` and `screen`), and
  `relayed` holds which feeds they carry, as the offer and `media.listen.relayed` say;
- `speak(clip)`: a microphone playing a pre-encoded Opus clip, in `media.audio.join`; it hears
  the mix too;
- `publish(kind, clip)`: a webcam or screen playing a pre-encoded VP8 clip (`media.publish`);
- `subscribe(feed)`: `media.subscribe`, the feed's offer, `media.answer`.

With `at_socket`, `listen("stream")` and `subscribe` count what arrives at the connection's ICE
socket (media.py; the listen-only stream's relayed video too): a large crowd's cheap receivers.

ICE uses only the given address, with no STUN (ice.py). What arrives is counted per stream
(media.py) and reported as plain values (report.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Literal

import httpx
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from tests.support.netns import MEDIA_ADDRESS
from tests.support.room_socket import RoomSocket, Watcher
from tests.support.synthetic import ice
from tests.support.synthetic.clips import EncodedClip
from tests.support.synthetic.media import ClipTrack, ReceiveTap, send_levels
from tests.support.synthetic.report import ParticipantReport, Received

ListenPath = Literal["bridge", "stream"]
RELAYED = "listen:"
"""Taps of the listen-only stream's video (a relay's webcam and screen) are keyed by mid."""
CONNECT_TIMEOUT = 20.0


class MediaRefused(RuntimeError):
    """The room answered a media request with an error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class SyntheticParticipant:
    def __init__(self, socket: RoomSocket, name: str, address: str) -> None:
        self.socket = socket
        self.name = name
        self.address = address
        self.user_id = str(socket.you.get("id", ""))
        self.audio: str | None = None
        self.feeds: list[dict[str, Any]] = []
        """The webcams and screens the room offers this participant now (with `follow_feeds`)."""
        self.feeds_changed = asyncio.Event()
        self.relayed: dict[str, int | None] | None = None
        """Listening on a relay node: the feeds its stream carries, by kind (the server says)."""
        self.relayed_changed = asyncio.Event()
        self._pcs: dict[str, RTCPeerConnection] = {}
        self._taps: dict[str, ReceiveTap] = {}
        self._tracks: dict[str, ClipTrack] = {}
        self._senders: dict[str, RTCRtpSender] = {}

    @classmethod
    async def join(
        cls,
        http: httpx.AsyncClient,
        base: str,
        secret: str,
        meeting_id: str,
        name: str,
        *,
        role: str = "VIEWER",
        address: str = MEDIA_ADDRESS,
        follow_feeds: bool = False,
        follow_roster: bool = True,
        **extra: str,
    ) -> SyntheticParticipant:
        """Joins the meeting (API join, hand-off, room socket). With `follow_feeds` it keeps
        `feeds` up to date (every room message is then parsed: only for subscribers); without
        `follow_roster` its socket does not keep the roster (a large crowd's listeners)."""
        board = _FeedBoard()
        watch: dict[str, Watcher] = (
            {"welcome": board.update, "media.feeds": board.update} if follow_feeds else {}
        )
        socket = await RoomSocket.join(
            http, base, secret, meeting_id, name, role, watch=watch, **extra
        )
        socket.follow_roster = follow_roster
        participant = cls(socket, name, address)
        board.attach(participant)
        return participant

    # -------------------------------------------------------------------------- audio --
    async def listen(self, path: ListenPath = "bridge", at_socket: bool = False) -> None:
        """Listen-only, by the old bridge join or the listen-only stream. With `at_socket` the
        mix, and the stream's relayed video, are counted at the ICE socket once connected
        (media.py: a large crowd's cheap listeners, proven to receive but not heard)."""
        if path == "bridge":
            pc = await self._peer("audio")
            self._tap("audio", pc.addTransceiver("audio", direction="recvonly").receiver)
            sdp = await self._offer(pc)
            reply = await self._ask(
                {"type": "media.audio.join", "sdp": sdp, "listenOnly": True}, "media.audio.answer"
            )
            await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        else:
            offer = await self._ask({"type": "media.listen.start"}, "media.listen.offer")
            self._relayed(offer)
            if "relayed" in offer:  # only then: every message is parsed from now on
                self.socket.watch("media.listen.relayed", self._relayed)
            pc = await self._peer("audio", max_bundle=True)
            sdp = await self._answer(pc, offer["sdp"], "audio", relayed=True)
            await self._ask({"type": "media.listen.answer", "sdp": sdp}, "media.listen.started")
        self.audio = "listen" if path == "bridge" else "stream"
        await _connected(pc)
        if at_socket:
            videos = [tap for key, tap in self._taps.items() if key.startswith(RELAYED)]
            self._taps["audio"].at_socket(*videos)

    async def speak(self, clip: EncodedClip) -> None:
        """Joins the audio with a microphone playing `clip` (Opus); hears the mix as well."""
        track = ClipTrack(clip)
        self._tracks["mic"] = track
        pc = await self._peer("audio")
        transceiver = pc.addTransceiver(track, direction="sendrecv")
        send_levels(transceiver.sender, track)
        self._tap("audio", transceiver.receiver)
        sdp = await self._offer(pc)
        reply = await self._ask(
            {"type": "media.audio.join", "sdp": sdp, "listenOnly": False}, "media.audio.answer"
        )
        await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        self.audio = "mic"
        await _connected(pc)

    async def stop_listening(self) -> None:
        """Leaves the audio, whichever way it was joined."""
        if self.audio == "stream":
            await self._ask({"type": "media.listen.stop"}, "media.listen.stopped")
        elif self.audio is not None:
            await self._ask({"type": "media.audio.leave"}, "media.audio.left")
        self.audio = None
        await self._close_piece("audio")

    # -------------------------------------------------------------------------- video --
    async def publish(self, clip: EncodedClip, kind: str = "camera") -> int:
        """Publishes a webcam (or the presenter's screen) playing `clip` (VP8); returns the
        feed's id once Janus has the media."""
        track = ClipTrack(clip)
        self._tracks[kind] = track
        pc = await self._peer(kind)
        transceiver = pc.addTransceiver(track, direction="sendonly")
        self._senders[kind] = transceiver.sender
        # The clip is VP8: offer nothing else, or a room preferring H.264 would take that.
        transceiver.setCodecPreferences(
            [
                c
                for c in RTCRtpSender.getCapabilities("video").codecs
                if c.mimeType in ("video/VP8", "video/rtx")
            ]
        )
        sdp = await self._offer(pc)
        reply = await self._ask(
            {"type": "media.publish", "kind": kind, "sdp": sdp}, "media.published"
        )
        await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        await _connected(pc)
        return int(reply["feed"])

    async def wait_for_feeds(
        self, kind: str = "camera", count: int = 1, within: float = 20.0
    ) -> list[int]:
        """The ids of the first `count` feeds of `kind` the room offers (needs `follow_feeds`)."""
        async with asyncio.timeout(within):
            while True:
                found = [f["id"] for f in self.feeds if f["kind"] == kind]
                if len(found) >= count:
                    return found[:count]
                self.feeds_changed.clear()
                await self.feeds_changed.wait()

    async def subscribe(self, feed: int, at_socket: bool = False) -> None:
        """Receives a feed through the meeting's VideoRoom (a connection of its own); with
        `at_socket` it is counted at that connection's ICE socket once connected."""
        name = f"feed-{feed}"
        offer = await self._ask({"type": "media.subscribe", "feed": feed}, "media.offer")
        pc = await self._peer(name)
        sdp = await self._answer(pc, offer["sdp"], "video", name)
        await self._ask({"type": "media.answer", "feed": feed, "sdp": sdp}, "media.ok")
        await _connected(pc)
        if at_socket:
            self._taps[name].at_socket()

    # -------------------------------------------------------------------------- state --
    async def flowing(self, within: float = 20.0) -> None:
        """Waits until every stream it receives has delivered packets (video: a frame). The
        video of a relayed listen-only stream is left out: it flows only while a feed is shown
        (`seeing` waits for it)."""
        # Counters grow in the taps' packet handlers; polling them costs less than an event
        # set by every packet.
        async with asyncio.timeout(within):
            while True:
                taps = [t for key, t in self._taps.items() if not key.startswith(RELAYED)]
                if all((t.frames if t.kind == "video" else t.packets) for t in taps):
                    return
                await asyncio.sleep(0.1)

    async def carrying(self, within: float = 10.0, **feeds: int | None) -> None:
        """Waits until the server said the listen-only stream carries `feeds` (by kind)."""
        async with asyncio.timeout(within):
            while self.relayed is None or any(self.relayed.get(k) != v for k, v in feeds.items()):
                self.relayed_changed.clear()
                await self.relayed_changed.wait()

    def _relayed(self, message: dict[str, Any]) -> None:
        relayed = message.get("relayed")
        self.relayed = None if relayed is None else dict(relayed)
        self.relayed_changed.set()

    async def seeing(self, mid: str, frames: int = 1, within: float = 20.0) -> Received:
        """Waits until the listen-only stream's video `mid` ("camera", "screen") has delivered
        `frames` more frames than now; returns what arrived on it so far."""
        tap = self._taps.get(RELAYED + mid)
        if tap is None:
            raise AssertionError(f"{self.name}'s listen-only stream has no video {mid!r}")
        target = tap.frames + frames
        async with asyncio.timeout(within):
            while True:
                if tap.frames >= target:
                    return tap.received()
                await asyncio.sleep(0.1)

    def report(self, tones: Iterable[float] = (), hear: bool = True) -> ParticipantReport:
        """What it received so far. With `hear`, the last second of the mix is decoded for its
        level and the strength of `tones` (milliseconds of CPU: not for every snapshot); a mix
        counted at the socket is not heard."""
        mix = self._taps.get("audio")
        return ParticipantReport(
            name=self.name,
            user_id=self.user_id,
            audio=self.audio,
            mix=mix.received() if mix else None,
            hearing=mix.hearing(tones) if mix and mix.audible and hear else None,
            videos={
                int(key.removeprefix("feed-")): tap.received()
                for key, tap in self._taps.items()
                if key.startswith("feed-")
            },
            relayed={
                key.removeprefix(RELAYED): tap.received()
                for key, tap in self._taps.items()
                if key.startswith(RELAYED)
            },
            sent={kind: track.sent for kind, track in self._tracks.items()},
            sent_rtp={kind: _rtp_sent(sender) for kind, sender in self._senders.items()},
            states={key: pc.connectionState for key, pc in self._pcs.items()},
        )

    async def close(self) -> None:
        """Closes every peer connection and leaves the room (safe to call twice)."""
        for key in list(self._pcs):
            await self._close_piece(key)
        await self.socket.close()

    # ---------------------------------------------------------------------- plumbing --
    async def _peer(self, key: str, max_bundle: bool = False) -> RTCPeerConnection:
        """A new peer connection for this piece; the one it replaces (a second join) closes."""
        old = self._pcs.pop(key, None)
        if old is not None:
            await old.close()
        pc = RTCPeerConnection(ice.configuration(max_bundle))
        self._pcs[key] = pc
        return pc

    def _tap(self, key: str, receiver: Any, kind: str = "audio") -> None:
        self._taps[key] = ReceiveTap(receiver, kind)

    async def _offer(self, pc: RTCPeerConnection) -> str:
        with ice.gathering_on(self.address):
            await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        ice.check_candidates(sdp, self.address)
        return sdp

    async def _answer(
        self,
        pc: RTCPeerConnection,
        offer: str,
        kind: str,
        key: str = "audio",
        relayed: bool = False,
    ) -> str:
        """With `relayed` (the listen-only stream), its video streams are tapped too, by mid."""
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        for transceiver in pc.getTransceivers():
            if transceiver.kind == kind:
                self._tap(key, transceiver.receiver, kind)
            elif relayed and transceiver.kind == "video":
                self._tap(RELAYED + str(transceiver.mid), transceiver.receiver, "video")
        with ice.gathering_on(self.address):
            await pc.setLocalDescription(await pc.createAnswer())
        sdp = pc.localDescription.sdp
        ice.check_candidates(sdp, self.address)
        return sdp

    async def _ask(self, message: dict[str, Any], expected: str) -> dict[str, Any]:
        reply = await self.socket.request(message)
        if reply.get("type") == "error":
            raise MediaRefused(str(reply.get("code")), str(reply.get("message")))
        if reply.get("type") != expected:
            raise MediaRefused("unexpected", f"{message['type']} answered {reply.get('type')}")
        return reply

    async def _close_piece(self, key: str) -> None:
        pc = self._pcs.pop(key, None)
        if pc is not None:
            await pc.close()
        self._taps.pop(key, None)
        if key == "audio":  # the listen-only stream's video went with its connection
            for tapped in [k for k in self._taps if k.startswith(RELAYED)]:
                del self._taps[tapped]
        self._senders.pop(key, None)
        track = self._tracks.pop("mic" if key == "audio" else key, None)
        if track is not None:
            track.stop()


class _FeedBoard:
    """Holds the feeds the room offered before the participant object exists (the welcome
    arrives during the join), then keeps the participant's `feeds` current."""

    def __init__(self) -> None:
        self._feeds: list[dict[str, Any]] = []
        self._owner: SyntheticParticipant | None = None

    def update(self, message: dict[str, Any]) -> None:
        self._feeds = list(message.get("feeds") or [])
        if self._owner is not None:
            self._owner.feeds = self._feeds
            self._owner.feeds_changed.set()

    def attach(self, owner: SyntheticParticipant) -> None:
        self._owner = owner
        owner.feeds = self._feeds
        owner.feeds_changed.set()


def _rtp_sent(sender: RTCRtpSender) -> int:
    """RTP packets the sender has sent (aiortc counts them for its sender reports)."""
    return int(sender._RTCRtpSender__packet_count)  # type: ignore[attr-defined]


async def _connected(pc: RTCPeerConnection, within: float = CONNECT_TIMEOUT) -> None:
    """Waits for the peer connection to connect (ICE and DTLS); raises if it fails."""
    async with asyncio.timeout(within):
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed"):
                raise ConnectionError(f"peer connection {pc.connectionState}")
            await asyncio.sleep(0.05)

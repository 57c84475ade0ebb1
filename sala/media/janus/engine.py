"""The media engine on Janus: an AudioBridge room and a VideoRoom room per meeting.

Voices are mixed by AudioBridge (each participant hears everybody but themselves; joining with
a receive-only offer is listen-only, at the cost of one Opus encoder per listener). Listen-only
at scale goes around the bridge: once a meeting has its first such listener, an AudioBridge RTP
forwarder sends the mix, encoded once, to a Streaming mountpoint on the same Janus (plain RTP on
loopback), and every listener watches that mountpoint (docs/decisions.md). Webcams and screens
are published to VideoRoom as video only, since voices already travel through the mix, and each
subscription is a handle of its own.

Every participant gets a Janus session on a WebSocket of its own, so a participant's failure or
departure is one `close()`. Rooms are created on first use and destroyed with the meeting
(AudioBridge runs a mixer thread per room even when idle). When Janus restarts, everything on it
is gone: the controller reconnects, rooms are created again on next use, and every participant's
listener hears `media_lost(..., "all")` so the room can tell the browser to negotiate again.

With several media nodes (sala/media/nodes.py) there is one engine per node. Its owner hears
through `on_disconnect` when the connection to the node drops, and `abandon()`s the engine of a
node that is gone: every participant hears `media_lost(..., "all")` and negotiates again on the
node the meeting moves to. A meeting's `ListenRouter` (sala/media/relays.py) then seats the
listeners beyond its node's share on other nodes: each such listener's Streaming handle is on a
session of the other node's Janus (a `ListenSeat`), watching a relay of the mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sala.media.engine import Feed, FeedKind, MediaError, MediaListener, Relayed
from sala.media.janus.client import JanusClient, JanusError, JanusGone
from sala.recordings.capture import capture_name

log = logging.getLogger(__name__)

AUDIOBRIDGE = "janus.plugin.audiobridge"
VIDEOROOM = "janus.plugin.videoroom"
ECHOTEST = "janus.plugin.echotest"
STREAMING = "janus.plugin.streaming"
STREAM_EXISTS = 456  # Streaming's "cannot create", which a left-over mountpoint id gives
STREAM_HOST = "127.0.0.1"
"""Where the mountpoint takes the forwarded mix: the forwarder runs in the same Janus, so the
port is bound on loopback only and nothing outside the node can reach it."""
MIX_PT = 111  # the payload type of Opus in the forwarded RTP and in the mountpoint's SDP
MIX_MID = "a"  # the mix's stream in a mountpoint
VIDEO_CODECS = ("vp8", "h264")
"""The video codecs a meeting's VideoRoom takes, the meeting's own (`video_codec`) first."""
H264_PROFILE = "42e01f"
"""Constrained baseline, level 3.1: the H.264 every browser encodes and decodes. VideoRoom
prefers it among the profiles a publisher offers (`h264_profile`), and a relay mountpoint
declares it (`fmtp`), so what a relay carries is what its viewers were offered."""
H264_FMTP = f"profile-level-id={H264_PROFILE};packetization-mode=1"
VIDEO_PT = 96
"""The payload type of the video codec in a relay mountpoint's first video stream; the next ones
take the following numbers. Distinct numbers let a viewer tell the streams apart: Janus' Streaming
offer (1.1.2) bundles them, and a receiver that cannot match a packet by SSRC or mid goes by payload
type (aiortc put the screen's packets on the webcam's stream when both were 96)."""
SRTP_SUITE = 80
"""AES_CM_128_HMAC_SHA1_80 for a mix forwarded to another node (a 30-byte SDES key)."""
ROOM_EXISTS = {486, 427}  # AudioBridge, VideoRoom
NO_SUCH_ROOM = {485, 426}

# Talking detection: the levels that worked with real speech (see docs/decisions.md).
TALKING = {"audiolevel_event": True, "audio_active_packets": 50, "audio_level_average": 40}


@dataclass(frozen=True)
class JanusNode:
    """One Janus server: where to reach its API, and the secret it wants."""

    name: str
    ws_url: str
    api_secret: str


@dataclass(frozen=True)
class MountPort:
    """Where one stream of a Streaming mountpoint takes its RTP, and (video) where it sends its
    keyframe requests from and takes the forwarder's RTCP."""

    port: int
    rtcp_port: int | None = None
    pt: int = MIX_PT
    layers: tuple[int, ...] = ()
    """A simulcast video stream's ports for substreams 1 and 2 (`port` takes substream 0)."""


@dataclass(eq=False)
class PublishedFeed:
    """A webcam or screen published to the meeting's VideoRoom now: its video stream's `mid`
    and codec as Janus answered them (a relay forwards that stream by mid). A new publication
    of the same feed is a new object: forwarders of the old one went with its handle."""

    feed: Feed
    mid: str
    codec: str
    simulcast: bool = False
    """Whether the publisher's offer announced simulcast layers (`a=simulcast`)."""


@dataclass(eq=False)
class ListenSeat:
    """Where one listener's Streaming handle attaches: a session (`client`) on the Janus of
    `node` and the mountpoint (`stream_id`) there. On the meeting's own node (`home`) it is the
    participant's own session; on another node, a session of its own that the router opened."""

    node: str
    client: JanusClient
    stream_id: int
    home: bool
    released: bool = False
    carries: Callable[[], Relayed] | None = None
    """On a relay node: which feeds the mountpoint's video streams carry now (`Relay.carries`)."""


class ListenRouter(Protocol):
    """Seats a meeting's listeners on media nodes other than its own (sala/media/relays.py);
    a meeting without one (a single Janus) seats every listener on its own node."""

    def elsewhere(self, home_listeners: int) -> str | None:
        """The node for the next listener, given how many listen on the meeting's own node
        now; None for the meeting's own. A node returned is reserved for a `seat` to follow."""
        ...

    async def seat(self, node: str, user_id: str) -> ListenSeat: ...

    async def release(self, seat: ListenSeat) -> None: ...

    async def feeds_changed(self) -> None:
        """The feeds a relay carries (`JanusMeeting.lecture_feeds`) may have changed."""
        ...


class JanusEngine:
    def __init__(
        self,
        node: JanusNode,
        timeout: float = 10.0,
        on_disconnect: Callable[[], None] | None = None,
        video_codec: str = "vp8",
    ) -> None:
        self.node = node
        self.video_codec = video_codec
        """The meeting's codec (Settings.video_codec): VideoRoom's first choice for publishers
        and the codec of relay mountpoints' video streams."""
        self._timeout = timeout
        self._on_disconnect = on_disconnect
        """Called when the connection to Janus drops (not on stop); without it the engine
        connects again on next use, as a single node whose Janus restarted wants."""
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._abandoned = False
        self._controller: JanusClient | None = None
        self._handles: dict[str, int] = {}
        self._connecting = asyncio.Lock()
        self.generation = 0
        """Grows each time the controller connects again (after a Janus restart): rooms made
        in an earlier generation are gone."""
        self._meetings: dict[str, JanusMeeting] = {}

    async def start(self) -> None:
        await self._control()

    @property
    def connected(self) -> bool:
        """Whether the engine's own connection to Janus is up now."""
        return self._controller is not None and not self._controller.closed.is_set()

    async def stop(self) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
        for meeting in list(self._meetings.values()):
            await meeting.close()
        if self._controller is not None:
            await self._controller.close()
            self._controller = None

    async def abandon(self) -> None:
        """The node is gone (or unreachable): tell every participant their media is lost, drop
        the connections without waiting for a dead server, and refuse any further use."""
        self._abandoned = True
        if self._watcher is not None and self._watcher is not asyncio.current_task():
            self._watcher.cancel()
        meetings = list(self._meetings.values())
        self._meetings.clear()
        for meeting in meetings:
            await meeting.abandon()
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.abort()

    async def _watch(self, client: JanusClient) -> None:
        await client.closed.wait()
        if self._on_disconnect is not None and not (self._stopping or self._abandoned):
            self._on_disconnect()

    async def open_meeting(
        self,
        meeting_id: str,
        number: int,
        listener: MediaListener,
        record_dir: Path | None = None,
    ) -> JanusMeeting:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            meeting = JanusMeeting(self, meeting_id, number, listener, record_dir)
            self._meetings[meeting_id] = meeting
        return meeting

    def forget(self, meeting_id: str) -> None:
        self._meetings.pop(meeting_id, None)

    async def client(self) -> JanusClient:
        """A new connection with its own session (one per participant)."""
        try:
            client = await JanusClient(
                self.node.ws_url, self.node.api_secret, timeout=self._timeout
            ).connect()
            await client.create_session()
        except (OSError, JanusError, TimeoutError) as exc:
            raise MediaError("media_unavailable", "The media server cannot be reached") from exc
        return client

    async def _control(self) -> tuple[JanusClient, int]:
        if self._abandoned:
            raise MediaError("media_unavailable", "The media server went away")
        async with self._connecting:
            client = self._controller
            if client is None or client.closed.is_set():
                if client is not None:
                    await client.close()
                    self._lost()
                client = await self.client()
                self._controller = client
                self._handles = {
                    AUDIOBRIDGE: await client.attach(AUDIOBRIDGE),
                    VIDEOROOM: await client.attach(VIDEOROOM),
                    STREAMING: await client.attach(STREAMING),
                }
                self.generation += 1
                if self._on_disconnect is not None:
                    self._watcher = asyncio.create_task(self._watch(client), name="janus-watch")
            return client, self.generation

    def _lost(self) -> None:
        """Janus went away: whatever it held is gone, for every meeting."""
        for meeting in self._meetings.values():
            meeting.lost()

    async def control(self, plugin: str, body: dict[str, Any]) -> dict[str, Any]:
        """A plugin request that belongs to no participant (create, destroy, mute)."""
        client, _ = await self._control()
        answer = await client.message(self._handles[plugin], body)
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        return data

    async def ensure_rooms(self, number: int, made_in: int, record_dir: Path | None) -> int:
        """Create the meeting's rooms unless they exist in this generation; returns it.
        With `record_dir`, Janus writes each voice, webcam and screen there (.mjr files)."""
        _, generation = await self._control()
        if made_in == generation:
            return generation
        audio: dict[str, Any] = {"sampling_rate": 48000, **TALKING}
        # The bitrate cap (REMB to each publisher) leaves room for a webcam's three simulcast
        # layers together (150 + 500 + 1,200 kbit/s: docs/decisions.md, "Simulcast").
        codecs = (self.video_codec, *(c for c in VIDEO_CODECS if c != self.video_codec))
        video: dict[str, Any] = {
            "publishers": 100,
            "bitrate": 2_000_000,
            "videocodec": ",".join(codecs),  # the first one a publisher offers is taken
        }
        if self.video_codec == "h264":
            video["h264_profile"] = H264_PROFILE
        if record_dir is not None:
            where = await asyncio.to_thread(_capture_folder, record_dir)
            audio["mjrs_dir"] = where
            video["rec_dir"] = where
        for plugin, options in ((AUDIOBRIDGE, audio), (VIDEOROOM, video)):
            body = {"request": "create", "room": number, "permanent": False, **options}
            try:
                await self.control(plugin, body)
            except JanusError as exc:
                if exc.code not in ROOM_EXISTS:
                    raise
                # Left over from a meeting with the same voice bridge that did not end cleanly.
                await self.control(plugin, {"request": "destroy", "room": number})
                await self.control(plugin, body)
        return generation

    async def make_stream(self, number: int) -> int:
        """The meeting's listen-only mountpoint and the forwarder feeding it; returns the
        mountpoint's id. The port is Janus' choice (port 0: from the Streaming plugin's own
        range), bound on loopback only (`iface`)."""
        ports = await self.make_mountpoint(number, STREAM_HOST, f"listen-only {number}")
        await self.forward_mix(number, STREAM_HOST, ports[MIX_MID].port)
        return number

    async def make_mountpoint(
        self,
        mountpoint: int,
        iface: str,
        description: str,
        srtp_key: str | None = None,
        videos: tuple[str, ...] = (),
        simulcast: frozenset[str] = frozenset(),
        codec: str = "vp8",
    ) -> dict[str, MountPort]:
        """A Streaming mountpoint taking one Opus stream (mid `MIX_MID`) and a video stream in
        `codec` (VP8, or H.264 in `H264_PROFILE`) per mid in `videos`, on `iface`, at ports
        Janus chooses from its Streaming range; returns mid -> ports. Each video stream has an
        RTCP port too: a viewer joining (or asking) makes Janus send a keyframe request from
        there to whoever sends RTCP to it (a VideoRoom forwarder with `rtcp_port`). A video
        stream whose mid is in `simulcast` takes three simulcast substreams, one per port
        (`port`, then `layers`), and each viewer gets the one it asks for (`configure` with
        `substream`); a single-layer source sending to `port` alone plays there too. With
        `srtp_key` (SDES, base64) the mountpoint accepts only SRTP made with that key, on every
        stream, and drops anything else."""
        audio = {"type": "audio", "mid": MIX_MID, "codec": "opus", "pt": MIX_PT, "port": 0}
        video: dict[str, Any] = {"type": "video", "codec": codec, "port": 0, "rtcpport": 0}
        if codec == "h264":
            video["fmtp"] = H264_FMTP  # Streaming offers no H.264 parameters without it
        layered = {"simulcast": True, "port2": 0, "port3": 0}  # 0: from the Streaming range
        media = [
            audio,
            *(
                {**video, "mid": mid, "pt": VIDEO_PT + i, **(layered if mid in simulcast else {})}
                for i, mid in enumerate(videos)
            ),
        ]
        pts = {str(m["mid"]): int(str(m["pt"])) for m in media}
        body: dict[str, Any] = {
            "request": "create",
            "type": "rtp",
            "id": mountpoint,
            "description": description,
            "permanent": False,
            "media": [{**m, "iface": iface} for m in media],
        }
        if srtp_key is not None:
            body |= {"srtpsuite": SRTP_SUITE, "srtpcrypto": srtp_key}
        try:
            created = await self.control(STREAMING, body)
        except JanusError as exc:
            if exc.code != STREAM_EXISTS:
                raise
            # Left over from a meeting with the same voice bridge that did not end cleanly.
            await self.control(STREAMING, {"request": "destroy", "id": mountpoint})
            created = await self.control(STREAMING, body)
        return {
            str(p["mid"]): MountPort(
                int(p["port"]),
                p.get("rtcp_port") or None,
                pts[str(p["mid"])],
                tuple(int(p[k]) for k in ("port_2", "port_3") if p.get(k)),
            )
            for p in created["stream"]["ports"]
        }

    async def forward_mix(
        self, number: int, host: str, port: int, srtp_key: str | None = None
    ) -> int:
        """An AudioBridge RTP forwarder sending the room's mix (Opus, encoded once) to
        `host`:`port`, SRTP with `srtp_key`; returns its id. It sends even while nobody speaks
        (`always_on`): listeners' connections then carry a steady stream of silence."""
        body: dict[str, Any] = {
            "request": "rtp_forward",
            "room": number,
            "host": host,
            "port": port,
            "codec": "opus",
            "ptype": MIX_PT,
            "always_on": True,
        }
        if srtp_key is not None:
            body |= {"srtp_suite": SRTP_SUITE, "srtp_crypto": srtp_key}
        forwarded = await self.control(AUDIOBRIDGE, body)
        return int(forwarded["stream_id"])

    async def forward_feed(
        self,
        number: int,
        published: PublishedFeed,
        host: str,
        to: MountPort,
        srtp_key: str,
    ) -> list[int]:
        """VideoRoom RTP forwarders sending one publisher's video to `host`, SRTP with
        `srtp_key`, taking keyframe requests back on `to.rtcp_port`; returns their ids.

        A simulcast publication sent to a simulcast stream (`to.layers`) is forwarded layer by
        layer: substream 0 to `to.port`, 1 and 2 to `to.layers` (`port_2`, `port_3`: three
        forwarders, Janus 1.1.2 answers one id each), so each viewer there picks its layer. A
        simulcast publication sent to a single-port stream is forwarded as a viewer would get
        it (`simulcast`: the forwarder follows the top layer the publisher sends, switching on
        keyframes); without either Janus forwards layer 0 only, the smallest. With `simulcast`
        a single-layer publication is not forwarded at all (1.1.2, tried), so neither is used
        unless the publisher's offer announced layers."""
        # An SSRC of its own per forwarder (Janus keeps the publisher's otherwise): a feed
        # replacing another on a stream is then always a new source to the mountpoint, which
        # rewrites sequence numbers and timestamps when the SSRC changes. Streaming also tells
        # a simulcast stream's substreams apart by SSRC (one per port), so those differ too.
        ssrcs = [secrets.randbits(32) or 1 for _ in range(3)]
        stream: dict[str, Any] = {
            "mid": published.mid,
            "port": to.port,
            "pt": to.pt,
            "ssrc": ssrcs[0],
        }
        if published.simulcast and len(to.layers) == 2:
            for i, port in enumerate(to.layers, start=2):
                stream |= {f"port_{i}": port, f"pt_{i}": to.pt, f"ssrc_{i}": ssrcs[i - 1]}
        elif published.simulcast:
            stream["simulcast"] = True
        if to.rtcp_port is not None:
            stream["rtcp_port"] = to.rtcp_port
        body: dict[str, Any] = {
            "request": "rtp_forward",
            "room": number,
            "publisher_id": published.feed.id,
            "host": host,
            "srtp_suite": SRTP_SUITE,
            "srtp_crypto": srtp_key,
            "streams": [stream],
        }
        forwarded = await self.control(VIDEOROOM, body)
        return [int(f["stream_id"]) for f in forwarded["forwarders"]]

    async def stop_feed_forward(self, number: int, feed_id: int, forwarders: list[int]) -> None:
        """Stop the forwarders of a feed; those whose publisher left went with it already."""
        for forwarder in forwarders:
            with contextlib.suppress(JanusError, MediaError, TimeoutError):
                await self.control(
                    VIDEOROOM,
                    {
                        "request": "stop_rtp_forward",
                        "room": number,
                        "publisher_id": feed_id,
                        "stream_id": forwarder,
                    },
                )

    async def stop_forward(self, number: int, forwarder: int) -> None:
        with contextlib.suppress(JanusError, MediaError, TimeoutError):
            await self.control(
                AUDIOBRIDGE, {"request": "stop_rtp_forward", "room": number, "stream_id": forwarder}
            )

    async def destroy_mountpoint(self, mountpoint: int) -> None:
        with contextlib.suppress(JanusError, MediaError, TimeoutError):
            await self.control(STREAMING, {"request": "destroy", "id": mountpoint})

    async def destroy_rooms(self, number: int) -> None:
        # The bridge first: destroying it stops its forwarder before the mountpoint goes.
        for plugin in (AUDIOBRIDGE, VIDEOROOM):
            with contextlib.suppress(JanusError, MediaError, TimeoutError):
                await self.control(plugin, {"request": "destroy", "room": number})
        await self.destroy_mountpoint(number)


def _capture_folder(record_dir: Path) -> str:
    """The folder made, and its absolute path: a media node's Janus runs in another working
    directory (and on another machine, where the shared recordings folder is mounted at the same
    path), so a relative one would land elsewhere."""
    record_dir.mkdir(parents=True, exist_ok=True)
    return str(record_dir.absolute())


class JanusMeeting:
    def __init__(
        self,
        engine: JanusEngine,
        meeting_id: str,
        number: int,
        listener: MediaListener,
        record_dir: Path | None = None,
    ) -> None:
        self._engine = engine
        self.record_dir = record_dir
        self.node = engine.node.name
        self.video_codec = engine.video_codec
        """The codec a relay of this meeting carries (its VideoRoom's first choice)."""
        self.meeting_id = meeting_id
        self.number = number
        self.listener = listener
        self._generation = 0
        self._stream_made = 0
        """The generation the listen-only mountpoint and its forwarder were made in (0: none)."""
        self.stream_id: int | None = None
        self.router: ListenRouter | None = None
        """Seats listeners on other nodes once this one has its share (with media nodes)."""
        self.home_listeners = 0
        """Listeners seated on this node's own mountpoint now."""
        self.published: dict[int, PublishedFeed] = {}
        """Feed id -> the webcams and screens published now (what relays may carry)."""
        self.presenter: str | None = None
        """Whose webcam relays carry (the room says: `lecturer`)."""
        self._ready = asyncio.Lock()
        self._audio_ids = itertools.count(1)
        self.participants: dict[str, JanusParticipant] = {}
        self._talking: dict[str, bool] = {}

    async def rooms(self) -> None:
        async with self._ready:
            self._generation = await self._engine.ensure_rooms(
                self.number, self._generation, self.record_dir
            )

    async def stream(self) -> int:
        """The listen-only mountpoint, made with its forwarder when the first listener comes
        (after a Janus restart, again); returns its id."""
        async with self._ready:
            self._generation = await self._engine.ensure_rooms(
                self.number, self._generation, self.record_dir
            )
            if self._stream_made != self._generation or self.stream_id is None:
                self.stream_id = await self._engine.make_stream(self.number)
                self._stream_made = self._generation
            return self.stream_id

    async def seat_listener(self, user_id: str, own: JanusClient) -> ListenSeat:
        """Where this listener's stream comes from: this node's mountpoint (on the listener's
        own session `own`), or, once this node has its share, a relay on another node."""
        for attempt in range(3):
            router = self.router
            node = None if router is None else router.elsewhere(self.home_listeners)
            if node is None or router is None:
                break
            try:
                return await router.seat(node, user_id)
            except MediaError as exc:
                # That node went away (the router has it lost now): choose again.
                if exc.code != "media_unavailable" or attempt == 2:
                    raise
        self.home_listeners += 1  # counted before the first await: a burst sees it
        try:
            return ListenSeat(self.node, own, await self.stream(), home=True)
        except BaseException:
            self.home_listeners -= 1
            raise

    async def release_listener(self, seat: ListenSeat) -> None:
        if seat.released:
            return
        seat.released = True
        if seat.home:
            self.home_listeners -= 1
        elif self.router is not None:
            await self.router.release(seat)

    async def forward(self, host: str, port: int, srtp_key: str) -> int:
        """One more forwarder of the mix (to a relay on another node); returns its id."""
        await self.rooms()
        return await self._engine.forward_mix(self.number, host, port, srtp_key)

    async def stop_forward(self, forwarder: int) -> None:
        await self._engine.stop_forward(self.number, forwarder)

    # ------------------------------------------------------------ relayed video --
    def lecture_feeds(self) -> dict[FeedKind, PublishedFeed]:
        """What a relay to another node carries besides the mix: the presenter's webcam and
        the screen being shared (only the presenter shares one; the latest if several), in the
        meeting's codec only (a relay mountpoint's streams are declared in it up front)."""
        chosen: dict[FeedKind, PublishedFeed] = {}
        for published in self.published.values():  # in publication order: the latest wins
            feed = published.feed
            if published.codec.lower() != self.video_codec:  # subscribed to on this node
                continue
            if feed.kind is FeedKind.SCREEN or feed.user_id == self.presenter:
                chosen[feed.kind] = published
        return chosen

    async def lecturer(self, user_id: str | None) -> None:
        """The meeting's presenter changed: relays carry their webcam from now on."""
        if user_id != self.presenter:
            self.presenter = user_id
            await self._feeds_changed()

    async def feed_published(self, published: PublishedFeed) -> None:
        self.published.pop(published.feed.id, None)
        self.published[published.feed.id] = published
        await self._feeds_changed()

    async def feed_gone(self, feed_id: int) -> None:
        if self.published.pop(feed_id, None) is not None:
            await self._feeds_changed()

    async def _feeds_changed(self) -> None:
        if self.router is not None:
            await self.router.feeds_changed()

    async def forward_feed(
        self, published: PublishedFeed, host: str, to: MountPort, srtp_key: str
    ) -> list[int]:
        return await self._engine.forward_feed(self.number, published, host, to, srtp_key)

    async def stop_feed_forward(self, feed_id: int, forwarders: list[int]) -> None:
        await self._engine.stop_feed_forward(self.number, feed_id, forwarders)

    def recording(self, kind: str, user_id: str) -> dict[str, Any]:
        """What a join or publish adds to be recorded: a file name saying whose media it is
        and since when (recordings/capture.py reads it back)."""
        if self.record_dir is None:
            return {}
        return {"record": True, "filename": capture_name(kind, user_id, time.time_ns() // 10**6)}

    async def participant(self, user_id: str, display: str) -> JanusParticipant:
        old = self.participants.pop(user_id, None)
        if old is not None:
            await old.close()
        await self.rooms()
        client = await self._engine.client()
        participant = JanusParticipant(self, user_id, display, client, next(self._audio_ids))
        self.participants[user_id] = participant
        return participant

    async def mute(self, user_id: str, muted: bool) -> None:
        participant = self.participants.get(user_id)
        if participant is None or participant.audio_handle is None:
            raise MediaError("not_in_audio", "That user is not in the audio conference")
        await self._engine.control(
            AUDIOBRIDGE,
            {
                "request": "mute" if muted else "unmute",
                "room": self.number,
                "id": participant.audio_id,
            },
        )

    async def talking(self, audio_id: int, talking: bool) -> None:
        """AudioBridge tells every handle in the room; report each change once."""
        user_id = next(
            (p.user_id for p in self.participants.values() if p.audio_id == audio_id), None
        )
        if user_id is None or self._talking.get(user_id, False) == talking:
            return
        self._talking[user_id] = talking
        await self.listener.talking(user_id, talking)

    def forget(self, participant: JanusParticipant) -> None:
        if self.participants.get(participant.user_id) is participant:
            del self.participants[participant.user_id]
        if self._talking.pop(participant.user_id, False):
            asyncio.get_running_loop().create_task(
                self.listener.talking(participant.user_id, False)
            )

    def lost(self) -> None:
        self._generation = 0
        self._stream_made = 0

    async def abandon(self, *, destroy: bool = False) -> None:
        """The meeting leaves this node (gone, or the meeting moved): every participant's media
        is lost. With `destroy` (the node still runs) its rooms there are destroyed too."""
        for participant in list(self.participants.values()):
            await participant.abandon()
        self._engine.forget(self.meeting_id)
        if destroy:
            await self._engine.destroy_rooms(self.number)

    async def close(self) -> None:
        for participant in list(self.participants.values()):
            await participant.close()
        await self._engine.destroy_rooms(self.number)
        self._engine.forget(self.meeting_id)


class JanusParticipant:
    def __init__(
        self,
        meeting: JanusMeeting,
        user_id: str,
        display: str,
        client: JanusClient,
        audio_id: int,
    ) -> None:
        self._meeting = meeting
        self.user_id = user_id
        self._display = display
        self._client = client
        self.audio_id = audio_id
        self.audio_handle: int | None = None
        self._listen_handle: int | None = None
        self._listen_seat: ListenSeat | None = None
        self._publishers: dict[FeedKind, int] = {}
        self._feed_ids: dict[FeedKind, int] = {}
        self._subscriptions: dict[int, int] = {}
        self._mids: dict[int, str] = {}
        """Each subscription's video stream (its `mid`), which a layer choice names."""
        self._echo_handle: int | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._watch = asyncio.get_running_loop().create_task(self._watch_connection())

    async def _watch_connection(self) -> None:
        await self._client.closed.wait()
        if not self._closed:
            self._closed = True
            self._meeting.forget(self)
            await self._release_seat()
            await self._feeds_gone()
            await self._meeting.listener.media_lost(self.user_id, "all")

    async def _request(
        self,
        handle: int,
        body: dict[str, Any],
        jsep: dict[str, Any] | None = None,
        client: JanusClient | None = None,
    ) -> dict[str, Any]:
        try:
            return await (client or self._client).message(handle, body, jsep)
        except JanusGone as exc:
            raise MediaError("media_unavailable", "The media server went away") from exc
        except JanusError as exc:
            log.info("Janus refused %s for %s: %s", body.get("request"), self.user_id, exc)
            raise MediaError("media_refused", f"The media server refused: {exc.reason}") from exc
        except TimeoutError as exc:
            raise MediaError("media_timeout", "The media server did not answer") from exc

    async def _attach(
        self,
        plugin: str,
        on_hangup: Callable[[], Awaitable[None]] | None = None,
        on_up: Callable[[], Awaitable[None]] | None = None,
        client: JanusClient | None = None,
    ) -> int:
        async def on_event(message: dict[str, Any]) -> None:
            data = message.get("plugindata", {}).get("data", {})
            kind = message.get("janus")
            if data.get("audiobridge") in ("talking", "stopped-talking"):
                # AudioBridge tells every participant about everybody's talking; each handle
                # reports only its own, so N participants cost N events, not N².
                if data.get("id") == self.audio_id:
                    await self._meeting.talking(self.audio_id, data["audiobridge"] == "talking")
            elif kind == "hangup" and on_hangup is not None and not self._closed:
                await on_hangup()
            elif kind == "webrtcup" and on_up is not None and not self._closed:
                await on_up()

        try:
            return await (client or self._client).attach(plugin, on_event)
        except (JanusError, TimeoutError) as exc:
            raise MediaError("media_unavailable", "The media server cannot be reached") from exc

    # ------------------------------------------------------------------------ audio --
    async def join_audio(self, offer: str, *, muted: bool) -> str:
        async with self._lock:
            await self._meeting.rooms()
            if self.audio_handle is not None:
                await self._detach(self.audio_handle)
                self.audio_handle = None
            lost = self._lost("audio")
            handle = await self._attach(AUDIOBRIDGE, lost)
            self.audio_handle = handle
            await self._request(
                handle,
                {
                    "request": "join",
                    "room": self._meeting.number,
                    "id": self.audio_id,
                    "display": self._display,
                    "muted": muted,
                    **self._meeting.recording("voice", self.user_id),
                },
            )
            answer = await self._request(
                handle, {"request": "configure", "muted": muted}, _offer(offer)
            )
            return _sdp(answer)

    async def set_muted(self, muted: bool) -> None:
        async with self._lock:
            if self.audio_handle is None:
                raise MediaError("not_in_audio", "Join the audio conference first")
            await self._request(self.audio_handle, {"request": "configure", "muted": muted})

    async def leave_audio(self) -> None:
        async with self._lock:
            if self.audio_handle is not None:
                handle, self.audio_handle = self.audio_handle, None
                await self._detach(handle)
            await self._meeting.talking(self.audio_id, False)

    # ------------------------------------------------------------------ listen-only --
    async def start_listen(self) -> str:
        async with self._lock:
            await self._drop_listen()
            seat = await self._meeting.seat_listener(self.user_id, self._client)
            self._listen_seat = seat
            handle = await self._attach(STREAMING, self._lost("listen"), client=seat.client)
            self._listen_handle = handle
            offer = await self._request(
                handle, {"request": "watch", "id": seat.stream_id}, client=seat.client
            )
            return _sdp(offer, kind="offer")

    def listen_relayed(self) -> Relayed | None:
        seat = self._listen_seat
        if seat is None or seat.carries is None:
            return None
        return seat.carries()

    async def listen_answer(self, answer: str) -> None:
        async with self._lock:
            if self._listen_handle is None or self._listen_seat is None:
                raise MediaError("not_listening", "Start listening first")
            await self._request(
                self._listen_handle,
                {"request": "start"},
                {"type": "answer", "sdp": answer},
                client=self._listen_seat.client,
            )

    async def listen_layer(self, feed_id: int, substream: int, temporal: int | None) -> None:
        async with self._lock:
            seat, handle = self._listen_seat, self._listen_handle
            carries = None if seat is None or seat.carries is None else seat.carries()
            if seat is None or handle is None or carries is None:
                raise MediaError("not_relayed", "Your listen-only stream carries no webcam")
            if carries.get(FeedKind.CAMERA.value) != feed_id:
                raise MediaError("not_relayed", "Your listen-only stream carries another webcam")
            # Streaming (1.1.2) picks a simulcast stream's layer per viewer and per mid; a layer
            # nobody sends makes it fall back to the one below.
            body: dict[str, Any] = {
                "request": "configure",
                "mid": FeedKind.CAMERA.value,
                "substream": substream,
            }
            if temporal is not None:
                body["temporal"] = temporal
            await self._request(handle, body, client=seat.client)

    async def stop_listen(self) -> None:
        async with self._lock:
            await self._drop_listen()

    async def _drop_listen(self) -> None:
        handle, self._listen_handle = self._listen_handle, None
        seat, self._listen_seat = self._listen_seat, None
        if seat is None:
            return
        if handle is not None and seat.home:
            await self._detach(handle)
        # A seat on another node is a session of its own: releasing it closes the session,
        # which takes the handle with it.
        await self._meeting.release_listener(seat)

    # ------------------------------------------------------------------------ video --
    async def publish(self, feed: Feed, offer: str) -> str:
        async with self._lock:
            await self._meeting.rooms()
            old = self._publishers.pop(feed.kind, None)
            if old is not None:
                await self._detach(old)
                await self._meeting.feed_gone(self._feed_ids.pop(feed.kind, feed.id))
            listener = self._meeting.listener

            async def up() -> None:
                await listener.feed_up(feed)

            handle = await self._attach(VIDEOROOM, self._lost(feed.kind.value), up)
            self._publishers[feed.kind] = handle
            answer = await self._request(
                handle,
                {
                    "request": "joinandconfigure",
                    "ptype": "publisher",
                    "room": self._meeting.number,
                    "id": feed.id,
                    "display": self._display,
                    **self._meeting.recording(feed.kind.value, self.user_id),
                },
                _offer(offer),
            )
            sdp = _sdp(answer)
            self._feed_ids[feed.kind] = feed.id
            video = _video_stream(answer)
            if video is not None:
                layered = "a=simulcast:" in offer
                await self._meeting.feed_published(PublishedFeed(feed, *video, simulcast=layered))
            return sdp

    async def unpublish(self, kind: FeedKind) -> None:
        async with self._lock:
            handle = self._publishers.pop(kind, None)
            if handle is not None:
                await self._detach(handle)
            await self._feeds_gone(kind)

    async def _feeds_gone(self, *kinds: FeedKind) -> None:
        """The meeting forgets these publications (their relays' forwarders went with them)."""
        for kind in kinds or tuple(self._feed_ids):
            feed_id = self._feed_ids.pop(kind, None)
            if feed_id is not None:
                with contextlib.suppress(MediaError, JanusError, TimeoutError):
                    await self._meeting.feed_gone(feed_id)

    async def subscribe(self, feed: Feed) -> str:
        async with self._lock:
            old = self._subscriptions.pop(feed.id, None)
            self._mids.pop(feed.id, None)
            if old is not None:
                await self._detach(old)
            handle = await self._attach(VIDEOROOM, self._lost(f"subscription:{feed.id}"))
            self._subscriptions[feed.id] = handle
            offer = await self._request(
                handle,
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": self._meeting.number,
                    "streams": [{"feed": feed.id}],
                },
            )
            streams = offer.get("plugindata", {}).get("data", {}).get("streams") or []
            mid = next((s.get("mid") for s in streams if s.get("type") == "video"), None)
            if isinstance(mid, str):
                self._mids[feed.id] = mid
            return _sdp(offer, kind="offer")

    async def answer(self, feed_id: int, answer: str) -> None:
        async with self._lock:
            handle = self._subscriptions.get(feed_id)
            if handle is None:
                raise MediaError("not_subscribed", "Subscribe to that feed first")
            await self._request(handle, {"request": "start"}, {"type": "answer", "sdp": answer})

    async def unsubscribe(self, feed_id: int) -> None:
        async with self._lock:
            handle = self._subscriptions.pop(feed_id, None)
            self._mids.pop(feed_id, None)
            if handle is not None:
                await self._detach(handle)

    async def choose_layer(self, feed_id: int, substream: int, temporal: int | None) -> None:
        async with self._lock:
            handle = self._subscriptions.get(feed_id)
            mid = self._mids.get(feed_id)
            if handle is None or mid is None:
                raise MediaError("not_subscribed", "Subscribe to that feed first")
            # VideoRoom (1.x, multistream) picks layers per stream of the subscription; a
            # layer the publisher does not send makes it fall back to the one below.
            stream: dict[str, Any] = {"mid": mid, "substream": substream}
            if temporal is not None:
                stream["temporal"] = temporal
            await self._request(handle, {"request": "configure", "streams": [stream]})

    # ------------------------------------------------------------------- echo test --
    async def start_echo(self, offer: str) -> str:
        async with self._lock:
            if self._echo_handle is not None:
                await self._detach(self._echo_handle)
                self._echo_handle = None
            handle = await self._attach(ECHOTEST)
            self._echo_handle = handle
            # Audio only: the check is of the microphone and the way back, not of a webcam.
            answer = await self._request(handle, {"audio": True, "video": False}, _offer(offer))
            return _sdp(answer)

    async def stop_echo(self) -> None:
        async with self._lock:
            if self._echo_handle is not None:
                handle, self._echo_handle = self._echo_handle, None
                await self._detach(handle)

    # ----------------------------------------------------------------------- common --
    def _lost(self, what: str) -> Callable[[], Awaitable[None]]:
        async def lost() -> None:
            await self._meeting.listener.media_lost(self.user_id, what)

        return lost

    async def _detach(self, handle: int) -> None:
        with contextlib.suppress(JanusError, TimeoutError):
            await self._client.detach(handle)

    async def _release_seat(self) -> None:
        """Leaving: a listener seat on another node is a session to close as well."""
        seat, self._listen_seat, self._listen_handle = self._listen_seat, None, None
        if seat is not None:
            with contextlib.suppress(MediaError, JanusError, TimeoutError):
                await self._meeting.release_listener(seat)

    async def abandon(self) -> None:
        """The node is gone: drop the connection and tell the room, which has the browser
        negotiate again (on the node the meeting moved to)."""
        if self._closed:
            return  # already told, when its own connection dropped
        self._closed = True
        self._watch.cancel()
        self._meeting.forget(self)
        self._client.abort()
        await self._release_seat()
        await self._feeds_gone()
        await self._meeting.listener.media_lost(self.user_id, "all")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._watch.cancel()
        self._meeting.forget(self)
        await self._release_seat()
        await self._feeds_gone()
        # Closing the session's connection lets Janus drop its handles (and peer connections).
        with contextlib.suppress(JanusError, TimeoutError):
            await self._client.request({"janus": "destroy", "session_id": self._client.session_id})
        await self._client.close()


def _offer(sdp: str) -> dict[str, Any]:
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise MediaError("bad_sdp", "That is not an SDP offer")
    return {"type": "offer", "sdp": sdp}


def _video_stream(answer: dict[str, Any]) -> tuple[str, str] | None:
    """The publisher's video stream (mid, codec) as VideoRoom's answer lists it."""
    streams = answer.get("plugindata", {}).get("data", {}).get("streams") or []
    for stream in streams:
        if stream.get("type") == "video" and isinstance(stream.get("mid"), str):
            return str(stream["mid"]), str(stream.get("codec") or "")
    return None


def _sdp(answer: dict[str, Any], kind: str = "answer") -> str:
    jsep = answer.get("jsep") or {}
    if jsep.get("type") != kind or not isinstance(jsep.get("sdp"), str):
        raise MediaError("media_refused", f"The media server sent no SDP {kind}")
    return str(jsep["sdp"])

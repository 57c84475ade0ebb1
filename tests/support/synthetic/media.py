"""The media side of a synthetic participant: what it sends and how it counts what it gets.

Sending: `ClipTrack` plays an `EncodedClip` in real time, looping, as aiortc track packets that
the sender packs without encoding. `send_levels` puts each Opus packet's level in the RTP
audio-level extension, as a browser does (aiortc computes levels only for audio it encodes).

Receiving: `ReceiveTap` sits on an aiortc receiver and counts every RTP packet as it arrives:
packets, bytes, loss from the sequence numbers (RFC 3550's expected minus received), video
frames (a packet with the marker bit ends one; VP8 is never decoded), keyframes and their size
from the VP8 header. aiortc's own receive path still runs after it (statistics, receiver
reports, NACK and picture-loss requests, as a browser sends Janus), but the decoder thread
aiortc starts for each receiver is stopped at once: nothing would read the decoded frames, and
decoding is what would make hundreds of participants per core impossible. For audio the tap
keeps the last second of Opus payloads; `hearing()` decodes that window only when asked and
measures its level and the strength of given tones.

`at_socket()` moves the count below aiortc, for crowds larger than aiortc's receive path allows
on one core (about 60 µs of Python a packet): once connected, the connection's socket is no
longer read by the event loop on every datagram; one `SocketDrain` per event loop empties all
such sockets every 50 ms (a packet costs a `recvfrom` and a look at its header, and a thousand
listeners cost no more wake-ups than one). The tap counts SRTP packets by their RTP header,
which SRTP leaves in clear (sequence number, payload type); STUN, DTLS and RTCP go on to aioice
and aiortc as before, at most 50 ms late, so ICE consent and the DTLS session stay alive. Such
a tap proves that the packets reached this participant's own connection, in order and unlost,
not what they carry: nothing is decrypted, no receiver report or NACK is sent (aiortc's
receiver-report task is stopped), and `hearing()` has nothing to decode. Streams sharing the
connection (BUNDLE: a relay's webcam and screen beside the mix) are counted at the same socket
when their taps are given too, each by its own payload types (a relay mountpoint gives each
stream its own); video frames are counted by the RTP marker bit, also in clear (keyframes and
picture sizes are not: they are in the encrypted payload). Packets of streams not tapped are
neither counted nor handed on.
"""

from __future__ import annotations

import asyncio
import math
import socket
import weakref
from array import array
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from fractions import Fraction
from typing import Any, ClassVar

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtpPacket

from tests.support.synthetic.clips import OPUS_RATE, EncodedClip, _opus_decoder, decode_opus
from tests.support.synthetic.report import Hearing, Received

VIDEO_RATE = 90000
AUDIO_WINDOW = 50
"""Opus payloads kept for `hearing()`: one second at 20 ms a packet."""


# ------------------------------------------------------------------------------ sending --
class ClipTrack(MediaStreamTrack):
    """An `EncodedClip` played in real time for as long as the track lives (it loops)."""

    def __init__(self, clip: EncodedClip) -> None:
        super().__init__()
        self.kind = clip.kind
        self._clip = clip
        self._clock = OPUS_RATE if clip.kind == "audio" else VIDEO_RATE
        self._time_base = Fraction(1, self._clock)
        self._next = 0
        self._loop = 0
        self._start: float | None = None
        self.level: int | None = None
        """The level (dBov) of the packet returned last (audio)."""
        self.sent = 0

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        clip = self._clip
        encoded = clip.packets[self._next]
        at = self._loop * clip.length + encoded.at
        now = asyncio.get_running_loop().time()
        if self._start is None:
            self._start = now - at
        else:
            delay = self._start + at - now
            if delay > 0:
                await asyncio.sleep(delay)
        self._next += 1
        if self._next == len(clip.packets):
            self._next, self._loop = 0, self._loop + 1
        packet = av.Packet(encoded.data)
        packet.pts = round(at * self._clock)
        packet.time_base = self._time_base
        self.level = encoded.level
        self.sent += 1
        return packet


def send_levels(sender: RTCRtpSender, track: ClipTrack) -> None:
    """Each packet the sender makes from `track` carries that packet's level (RFC 6465)."""
    pack: Callable[[Any], Awaitable[Any]] = sender._next_encoded_frame  # type: ignore[attr-defined]

    async def with_level(codec: Any) -> Any:
        frame = await pack(codec)
        if frame is not None and frame.audio_level is None:
            frame.audio_level = track.level
        return frame

    sender._next_encoded_frame = with_level  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- receiving --
class ReceiveTap:
    """Counts what one receiver gets; see the module's docstring."""

    def __init__(self, receiver: RTCRtpReceiver, kind: str) -> None:
        self.kind = kind
        self.packets = 0
        self.bytes = 0
        self.frames = 0
        self.keyframes = 0
        self.width: int | None = None
        self.height: int | None = None
        self._media_types: set[int] | None = None
        """Payload types of the media codecs (not RTX), once the receiver knows them."""
        self._base: int | None = None
        self._highest = 0
        """Extended highest sequence number (wraps counted)."""
        self._window: deque[bytes] = deque(maxlen=AUDIO_WINDOW)
        self.audible = True
        """False once counted at the socket: nothing to hear then."""
        self._receiver = receiver
        handle = receiver._handle_rtp_packet
        receive = receiver.receive

        async def tapped(packet: RtpPacket, arrival_time_ms: int) -> None:
            self._count(packet)
            await handle(packet, arrival_time_ms)

        async def receiving(parameters: Any) -> None:
            self._media_types = {
                c.payloadType for c in parameters.codecs if not c.mimeType.endswith("/rtx")
            }
            await receive(parameters)
            receiver._RTCRtpReceiver__stop_decoder()  # type: ignore[attr-defined]

        receiver._handle_rtp_packet = tapped  # type: ignore[method-assign]
        receiver.receive = receiving  # type: ignore[method-assign]

    def at_socket(self, *bundled: ReceiveTap) -> None:
        """From now on, count this receiver's packets at its ICE socket (module docstring),
        and those of `bundled`, the taps of the other streams of the same connection (BUNDLE),
        each by its payload types. Call it once the peer connection is connected and the
        receivers know their codecs."""
        taps = (self, *bundled)
        routes: dict[int, ReceiveTap] = {}
        for tap in taps:
            tap.audible = False
            tap._window.clear()
            # Its receiver reports would report nothing (aiortc sees no RTP now): they stop too.
            reports = tap._receiver._RTCRtpReceiver__rtcp_task  # type: ignore[attr-defined]
            if reports is not None:
                reports.cancel()
            routes |= dict.fromkeys(tap._media_types or (), tap)
        # A receiver that did not learn its codecs takes every RTP packet (one stream alone).
        anything = self if self._media_types is None else None
        connection = self._receiver.transport.transport._connection
        drain = SocketDrain.of(asyncio.get_running_loop())
        for protocol in connection._protocols:
            drain.take(protocol, _socket_reader(routes, anything, protocol.datagram_received))

    def _count(self, packet: RtpPacket) -> None:
        if self._media_types is not None and packet.payload_type not in self._media_types:
            return  # a retransmission or padding stream: not part of the media's own count
        self._count_header(packet.sequence_number, len(packet.payload))
        if self.kind == "audio":
            self._window.append(packet.payload)
            return
        if packet.marker:
            self.frames += 1
        self._vp8_header(packet.payload)

    def _count_clear(self, data: bytes) -> None:
        """One SRTP packet, from what its RTP header shows in clear."""
        # Size: all but the fixed header (extensions and SRTP's tag included).
        self._count_header(int.from_bytes(data[2:4], "big"), len(data) - 12)
        if self.kind == "video" and data[1] & 0x80:  # the marker bit: a frame's last packet
            self.frames += 1

    def _count_header(self, seq: int, size: int) -> None:
        self.packets += 1
        self.bytes += size
        if self._base is None:
            self._base = self._highest = seq
        else:
            # The closest extended number to the highest so far (handles wrap and reorder).
            delta = (seq - self._highest) & 0xFFFF
            if delta < 0x8000:
                self._highest += delta

    def _vp8_header(self, payload: bytes) -> None:
        """RFC 7741: a keyframe's first packet tells its size."""
        if len(payload) < 1 or not payload[0] & 0x10 or payload[0] & 0x07:
            return  # not the start of partition 0
        pos = 1
        if payload[0] & 0x80:
            if len(payload) < 2:
                return
            extensions = payload[1]
            pos = 2
            if extensions & 0x80:  # picture ID, 7 or 15 bits
                if len(payload) <= pos:
                    return
                pos += 2 if payload[pos] & 0x80 else 1
            if extensions & 0x40:  # TL0PICIDX
                pos += 1
            if extensions & 0x30:  # TID / KEYIDX
                pos += 1
        header = payload[pos : pos + 10]
        if len(header) < 10 or header[0] & 0x01 or header[3:6] != b"\x9d\x01\x2a":
            return
        self.keyframes += 1
        self.width = int.from_bytes(header[6:8], "little") & 0x3FFF
        self.height = int.from_bytes(header[8:10], "little") & 0x3FFF

    @property
    def lost(self) -> int:
        if self._base is None:
            return 0
        return max(0, self._highest - self._base + 1 - self.packets)

    def received(self) -> Received:
        return Received(
            kind=self.kind,
            packets=self.packets,
            lost=self.lost,
            bytes=self.bytes,
            frames=self.frames,
            keyframes=self.keyframes,
            width=self.width,
            height=self.height,
        )

    def hearing(self, tones: Iterable[float] = ()) -> Hearing:
        """The level of the last second received, and the amplitude of each tone in it."""
        decoder = _opus_decoder()
        samples: array[int] = array("h")
        for payload in list(self._window):
            samples.extend(decode_opus(decoder, payload))
        return analyse(samples, tones)


Reader = Callable[[bytes, tuple[Any, ...]], None]


def _socket_reader(
    routes: dict[int, ReceiveTap], anything: ReceiveTap | None, upstream: Reader
) -> Reader:
    """Counts each RTP packet on the tap of its payload type (`anything` takes those of no
    tap), and hands everything else (STUN, DTLS, RTCP) `upstream`."""

    def read(data: bytes, addr: tuple[Any, ...]) -> None:
        # RFC 7983: 128-191 is RTP or RTCP; RFC 5761: RTCP's packet types are 192-223.
        if len(data) >= 12 and 128 <= data[0] <= 191 and not 192 <= data[1] <= 223:
            tap = routes.get(data[1] & 0x7F, anything)
            if tap is not None:
                tap._count_clear(data)
            return
        upstream(data, addr)

    return read


class SocketDrain:
    """Empties the sockets of taps counted at the socket, every `PERIOD` (module docstring)."""

    PERIOD = 0.05
    MOST_A_ROUND = 64
    """Datagrams read from one socket a round: more than 50 ms of any stream here."""
    _by_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SocketDrain]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self._sockets: list[tuple[asyncio.DatagramTransport, socket.socket, Reader]] = []
        self._task: asyncio.Task[None] | None = None
        self.failures: Counter[str] = Counter()
        """Exceptions raised by aioice or aiortc for datagrams handed on, by type."""

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> SocketDrain:
        drain = cls._by_loop.get(loop)
        if drain is None:
            drain = cls._by_loop[loop] = cls()
        return drain

    def take(self, protocol: Any, read: Reader) -> None:
        """From now on the drain, not the event loop, reads `protocol`'s socket into `read`."""
        transport: asyncio.DatagramTransport = protocol.transport
        transport.pause_reading()
        own = transport.get_extra_info("socket")
        # A duplicate of the descriptor: the transport keeps and closes its own.
        duplicate = socket.fromfd(own.fileno(), own.family, own.type)
        self._sockets.append((transport, duplicate, read))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._sockets:
            await asyncio.sleep(self.PERIOD)
            for entry in list(self._sockets):
                transport, duplicate, read = entry
                if transport.is_closing():
                    self._sockets.remove(entry)
                    duplicate.close()
                    continue
                for _ in range(self.MOST_A_ROUND):
                    try:
                        data, addr = duplicate.recvfrom(2048)
                    except OSError:  # BlockingIOError: nothing more now
                        break
                    try:
                        read(data, addr)
                    except Exception as error:  # one connection's trouble stops no other
                        self.failures[type(error).__name__] += 1


def analyse(samples: array[int], tones: Iterable[float]) -> Hearing:
    """RMS level (of full scale) and, per frequency, the amplitude found there (Goertzel)."""
    n = len(samples)
    if n == 0:
        return Hearing(rms=0.0, seconds=0.0, tones={f: 0.0 for f in tones})
    rms = math.sqrt(sum(s * s for s in samples) / n) / 32768
    found = {}
    for frequency in tones:
        coefficient = 2 * math.cos(2 * math.pi * frequency / OPUS_RATE)
        before = earlier = 0.0
        for s in samples:
            before, earlier = s + coefficient * before - earlier, before
        power = before * before + earlier * earlier - coefficient * before * earlier
        found[frequency] = 2 * math.sqrt(max(power, 0.0)) / n / 32768
    return Hearing(rms=rms, seconds=n / OPUS_RATE, tones=found)

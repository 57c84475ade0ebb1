"""Janus recordings (.mjr) made without Janus, for the pipeline's tests and its benchmark.

ffmpeg encodes a test picture (VP8 in IVF) or a tone (Opus in Ogg); the frames are cut into RTP
packets the way a browser sends them and written in Janus' .mjr layout: "MJR00002", a JSON
header (kind, codec, created and first-packet times in epoch µs), then for each packet "MEET",
its time in ms since the start, its length and the RTP bytes.
"""

from __future__ import annotations

import json
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

MAX_PAYLOAD = 1100


def _rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> bytes:
    return (
        struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts, ssrc) + payload
    )


def _write(
    path: Path, kind: str, codec: str, start_ms: int, packets: list[tuple[int, bytes]]
) -> None:
    info = json.dumps({"t": kind, "c": codec, "s": start_ms * 1000, "u": start_ms * 1000}).encode()
    with path.open("wb") as out:
        out.write(b"MJR00002" + struct.pack("!H", len(info)) + info)
        for at_ms, packet in packets:
            out.write(b"MEET" + struct.pack("!IH", at_ms, len(packet)) + packet)


def _ivf_frames(data: bytes) -> Iterator[tuple[int, bytes]]:
    header_len = struct.unpack_from("<H", data, 6)[0]
    at = header_len
    while at + 12 <= len(data):
        size, pts = struct.unpack_from("<IQ", data, at)
        yield pts, data[at + 12 : at + 12 + size]
        at += 12 + size


def _ogg_packets(data: bytes) -> Iterator[bytes]:
    at = 0
    partial = b""
    while at + 27 <= len(data) and data[at : at + 4] == b"OggS":
        segments = data[at + 26]
        table = data[at + 27 : at + 27 + segments]
        body = at + 27 + segments
        for lacing in table:
            partial += data[body : body + lacing]
            body += lacing
            if lacing < 255:
                yield partial
                partial = b""
        at = body


def video(path: Path, start_ms: int, seconds: float, size: str = "320x240", fps: int = 15) -> None:
    """A VP8 webcam (testsrc2) of `seconds`, as VideoRoom would record it."""
    ivf = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         f"testsrc2=size={size}:rate={fps}", "-t", str(seconds), "-c:v", "libvpx",
         "-deadline", "good", "-cpu-used", "16", "-threads", "1", "-b:v", "300k",
         "-g", str(fps * 2),
         "-f", "ivf", "-"],
        capture_output=True, check=True, timeout=600,
    ).stdout  # fmt: skip
    packets = []
    seq = 0
    for pts, frame in _ivf_frames(ivf):
        ts = pts * 90000 // fps
        at_ms = pts * 1000 // fps
        chunks = [frame[i : i + MAX_PAYLOAD] for i in range(0, len(frame), MAX_PAYLOAD)]
        for n, chunk in enumerate(chunks):
            descriptor = b"\x10" if n == 0 else b"\x00"
            packets.append(
                (at_ms, _rtp(96, seq, ts, 0x1234, descriptor + chunk, n == len(chunks) - 1))
            )
            seq += 1
    _write(path, "v", "vp8", start_ms, packets)


def voice(path: Path, start_ms: int, seconds: float, tone_hz: int = 440) -> None:
    """An Opus voice (a tone) of `seconds`, as AudioBridge would record it."""
    ogg = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         f"sine=frequency={tone_hz}:sample_rate=48000", "-t", str(seconds), "-c:a", "libopus",
         "-b:a", "32k", "-frame_duration", "20", "-ac", "1", "-f", "ogg", "-"],
        capture_output=True, check=True, timeout=600,
    ).stdout  # fmt: skip
    packets = []
    for n, packet in enumerate(p for p in _ogg_packets(ogg) if not p.startswith(b"Opus")):
        packets.append((n * 20, _rtp(111, n, n * 960, 0x5678, packet, False)))
    _write(path, "a", "opus", start_ms, packets)


def corrupt(path: Path) -> None:
    """Something named like a capture that is not one."""
    path.write_bytes(b"MJR00002\x00\x05{not json" + b"\x00" * 64)

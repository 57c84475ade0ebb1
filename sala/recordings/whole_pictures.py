"""Whole VP8 pictures from a webcam or screen capture, before janus-pp-rec reads it.

A browser decodes a recorded video only while every picture in it is whole: one broken picture
is a decode error that stops the playback's `<video>` for good. Janus' captures can hold broken
pictures:
- A simulcast webcam is recorded by Janus 1.1.2's VideoRoom as one stream that climbs to the best
  layer it receives; at a layer switch the first packet of the new layer's key frame has been
  seen written with another RTP timestamp than the rest of that picture, so the capture starts
  with half a key frame.
- Packets lost on the way to Janus leave pictures with holes.

`repair` writes a copy of a capture that holds only whole pictures (consecutive sequence numbers,
the VP8 start of partition 0 first and the marker last, one RTP timestamp), from the first whole
key frame on; after a broken picture it drops what follows until the next key frame, because
those pictures refer to the broken one. A picture whose packets are all there and carry one VP8
picture ID but two timestamps (the layer switch above) is mended, not dropped: its packets get
the timestamp of its last one, so the video starts where it started. The copy's header has its
first-packet time moved by the RTP time left out at the start, so the video stays where it was
on the recording's clock.

The layout is Janus' MJR00002: "MJR00002", a big-endian 16-bit length and a JSON header, then
per packet "MEET", a 32-bit arrival time (ms since the capture started), a 16-bit length and the
RTP packet. A capture cut short (a killed Janus) is read up to its last whole packet.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

MAGIC = b"MJR00002"
PACKET_MARK = b"MEET"
VIDEO_CLOCK_HZ = 90_000


@dataclass(frozen=True)
class Packet:
    seq: int
    """Sequence number unwrapped past 65535, in the order the capture holds them."""
    timestamp: int
    marker: bool
    starts_picture: bool
    """The VP8 descriptor's S bit with partition index 0: the first packet of a picture."""
    picture_id: int | None
    """The VP8 descriptor's picture ID, when the sender numbers its pictures."""
    key: bool
    """The first packet of a key frame."""
    entry: bytes
    """The whole capture entry ("MEET" ... packet), copied as is."""


@dataclass(frozen=True)
class Repair:
    kept: int
    """Pictures kept."""
    dropped: int
    """Pictures left out (broken, or depending on a broken one, or before the first key frame)."""


def repair(source: Path, target: Path) -> Repair:
    """Writes `target`, the capture `source` with whole pictures only (see the module's
    docstring). Blocking: run it in a thread."""
    with source.open("rb") as capture:
        header = _read_header(capture)
        packets = sorted(_packets(capture), key=lambda p: p.seq)
    pictures = list(_pictures(_unique(packets)))
    kept: list[list[Packet]] = []
    dropped = 0
    decodable = False
    for picture, whole in pictures:
        if whole and (decodable or picture[0].key):
            kept.append(_one_timestamp(picture))
            decodable = True
        else:
            dropped += 1
            decodable = False
    if kept and packets:
        skipped_ticks = (kept[0][0].timestamp - packets[0].timestamp) & 0xFFFFFFFF
        first_us = header.get("u") or header.get("s")
        if isinstance(first_us, int) and skipped_ticks < 2**31:
            header["u"] = first_us + skipped_ticks * 1_000_000 // VIDEO_CLOCK_HZ
    text = json.dumps(header).encode()
    with target.open("wb") as out:
        out.write(MAGIC + struct.pack("!H", len(text)) + text)
        for picture in kept:
            for packet in picture:
                out.write(packet.entry)
    return Repair(len(kept), dropped)


def _read_header(capture: BinaryIO) -> dict[str, object]:
    start = capture.read(len(MAGIC) + 2)
    if len(start) < len(MAGIC) + 2 or not start.startswith(MAGIC):
        raise ValueError("not a Janus MJR00002 capture")
    (length,) = struct.unpack("!H", start[len(MAGIC) :])
    header = json.loads(capture.read(length))
    if not isinstance(header, dict):
        raise ValueError("the capture's header is not a JSON object")
    return header


def _packets(capture: BinaryIO) -> Iterator[Packet]:
    last: int | None = None
    while True:
        head = capture.read(10)
        if len(head) < 10 or head[:4] != PACKET_MARK:
            return
        (length,) = struct.unpack("!H", head[8:])
        rtp = capture.read(length)
        if len(rtp) < length:
            return
        parsed = _parse(rtp)
        if parsed is None:
            continue  # padding only, or not RTP: nothing a picture needs
        seq16, timestamp, marker, starts, key, picture_id = parsed
        seq = seq16 if last is None else _unwrap(last, seq16)
        last = seq
        yield Packet(seq, timestamp, marker, starts, picture_id, key, head + rtp)


def _unwrap(previous: int, seq16: int) -> int:
    """The unwrapped sequence number nearest to `previous` with these low 16 bits."""
    delta = (seq16 - previous) & 0xFFFF
    return previous + delta if delta < 0x8000 else previous + delta - 0x10000


def _parse(rtp: bytes) -> tuple[int, int, bool, bool, bool, int | None] | None:
    """(sequence number, timestamp, marker, starts a picture, key frame, picture ID) of a VP8
    RTP packet (RFC 3550 header, RFC 7741 payload descriptor), or None when it carries no VP8
    data."""
    if len(rtp) < 12 or rtp[0] >> 6 != 2:
        return None
    end = len(rtp)
    if rtp[0] & 0x20:  # padding: its length is the last byte
        end -= rtp[-1]
    offset = 12 + 4 * (rtp[0] & 0x0F)
    if rtp[0] & 0x10:  # header extension
        if offset + 4 > end:
            return None
        (words,) = struct.unpack("!H", rtp[offset + 2 : offset + 4])
        offset += 4 + 4 * words
    if offset >= end:
        return None
    seq, timestamp = struct.unpack("!HI", rtp[2:8])
    marker = bool(rtp[1] & 0x80)
    first = rtp[offset]
    starts = bool(first & 0x10) and first & 0x07 == 0
    picture_id = None
    offset += 1
    if first & 0x80:  # extended control bits
        if offset >= end:
            return None
        extended = rtp[offset]
        offset += 1
        if extended & 0x80:  # picture ID, 7 or 15 bits
            if offset + 1 >= end:
                return None
            if rtp[offset] & 0x80:
                picture_id = ((rtp[offset] & 0x7F) << 8) | rtp[offset + 1]
                offset += 2
            else:
                picture_id = rtp[offset]
                offset += 1
        if extended & 0x40:  # TL0PICIDX
            offset += 1
        if extended & 0x30:  # TID / KEYIDX
            offset += 1
    if offset >= end:
        return None
    # VP8 frame tag (RFC 6386 9.1): the lowest bit is 0 for a key frame.
    key = starts and rtp[offset] & 0x01 == 0
    return seq, timestamp, marker, starts, key, picture_id


def _unique(packets: list[Packet]) -> list[Packet]:
    """Sorted packets without repeats (a retransmission recorded twice)."""
    unique: list[Packet] = []
    for packet in packets:
        if not unique or unique[-1].seq != packet.seq:
            unique.append(packet)
    return unique


def _pictures(packets: list[Packet]) -> Iterator[tuple[list[Packet], bool]]:
    """Pictures in sequence order, each with whether it is whole. Packets before a picture's
    start (the rest of one whose start was lost) come out as a broken picture of their own."""
    current: list[Packet] = []
    for packet in packets:
        if current and (packet.starts_picture or _ended(current)):
            yield current, _whole(current)
            current = []
        current.append(packet)
    if current:
        yield current, _whole(current)


def _ended(picture: list[Packet]) -> bool:
    return picture[-1].marker


def _whole(picture: list[Packet]) -> bool:
    """Every packet of the picture is there, and they share one timestamp or, when the sender
    numbers pictures, one picture ID (see `_one_timestamp`)."""
    first = picture[0]
    one_picture = all(p.timestamp == first.timestamp for p in picture) or (
        first.picture_id is not None and all(p.picture_id == first.picture_id for p in picture)
    )
    return (
        first.starts_picture
        and picture[-1].marker
        and one_picture
        and all(b.seq == a.seq + 1 for a, b in pairwise(picture))
    )


TIMESTAMP_AT = 10 + 4  # in a capture entry: "MEET", arrival time, length, then RTP's bytes 4-8


def _one_timestamp(picture: list[Packet]) -> list[Packet]:
    """The picture with every packet on its last packet's timestamp."""
    timestamp = picture[-1].timestamp
    if all(p.timestamp == timestamp for p in picture):
        return picture
    stamped = struct.pack("!I", timestamp)
    return [
        replace(
            p,
            timestamp=timestamp,
            entry=p.entry[:TIMESTAMP_AT] + stamped + p.entry[TIMESTAMP_AT + 4 :],
        )
        for p in picture
    ]

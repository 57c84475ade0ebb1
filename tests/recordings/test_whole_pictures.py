"""A webcam capture keeps only pictures a browser can decode (sala/recordings/whole_pictures.py).

Captures are written here in Janus' MJR00002 layout with VP8 RTP packets as Chrome sends them
(extended descriptor with a 15-bit picture ID); the frame data is a key or delta frame tag and
filler. The Chromium recording test plays a real repaired capture."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from sala.recordings.whole_pictures import MAGIC, repair

FIRST_US = 1_796_000_000_000_000


@dataclass
class Pkt:
    seq: int
    ts: int
    start: bool = False
    marker: bool = False
    key: bool = False
    picture: int = 0


def rtp(p: Pkt) -> bytes:
    header = struct.pack("!BBHII", 0x80, (0x80 if p.marker else 0) | 96, p.seq & 0xFFFF, p.ts, 7)
    descriptor = bytes([0x80 | (0x10 if p.start else 0), 0x80]) + struct.pack(
        "!H", 0x8000 | p.picture
    )
    tag = bytes([0x00 if p.key else 0x01]) if p.start else b"\x55"
    return header + descriptor + tag + b"\x00" * 40


def capture(path: Path, packets: list[Pkt], cut: int = 0) -> None:
    text = json.dumps({"t": "v", "c": "vp8", "s": FIRST_US - 1000, "u": FIRST_US}).encode()
    body = b"".join(
        b"MEET" + struct.pack("!IH", n * 10, len(rtp(p))) + rtp(p) for n, p in enumerate(packets)
    )
    path.write_bytes(MAGIC + struct.pack("!H", len(text)) + text + body[: len(body) - cut])


def picture(seq: int, ts: int, n: int, key: bool = False, pic: int = 0) -> list[Pkt]:
    return [
        Pkt(seq + i, ts, start=i == 0, marker=i == n - 1, key=key and i == 0, picture=pic)
        for i in range(n)
    ]


def read(path: Path) -> tuple[dict[str, int], list[tuple[int, int]]]:
    """A capture's header and its packets' (sequence number, timestamp)."""
    data = path.read_bytes()
    (length,) = struct.unpack("!H", data[8:10])
    header = json.loads(data[10 : 10 + length])
    seqs, i = [], 10 + length
    while i < len(data):
        assert data[i : i + 4] == b"MEET"
        (size,) = struct.unpack("!H", data[i + 8 : i + 10])
        seqs.append(struct.unpack("!HI", data[i + 12 : i + 18]))
        i += 10 + size
    return header, seqs


def test_a_key_frame_written_with_two_timestamps_is_mended_on_one(tmp_path: Path) -> None:
    # What Janus 1.1.2 wrote for a simulcast webcam: the key frame's first packet carries
    # another timestamp than the rest of the picture (one picture ID throughout).
    split = [Pkt(100, 0, start=True, key=True, picture=5), Pkt(101, 1671, marker=True, picture=5)]
    after = picture(102, 6171, 1, pic=6) + picture(103, 10_671, 2, pic=7)
    capture(tmp_path / "in.mjr", split + after)

    done = repair(tmp_path / "in.mjr", tmp_path / "out.mjr")

    header, packets = read(tmp_path / "out.mjr")
    assert packets == [(100, 1671), (101, 1671), (102, 6171), (103, 10_671), (104, 10_671)]
    assert (done.kept, done.dropped) == (3, 0)
    # The first picture's time is its last packet's: 1671 ticks of 90 kHz after the first.
    assert header["u"] == FIRST_US + 18_566
    assert header["c"] == "vp8"


def test_a_capture_that_starts_with_half_a_key_frame_starts_at_the_next_whole_one(
    tmp_path: Path,
) -> None:
    # The key frame's start and a rest that is not its own (another picture ID).
    half = [Pkt(100, 0, start=True, key=True, picture=5), Pkt(101, 1671, marker=True, picture=9)]
    delta = picture(102, 6171, 1, pic=6)
    key = picture(103, 90_000, 3, key=True, pic=7)  # one second later
    after = picture(106, 93_000, 2, pic=8)
    capture(tmp_path / "in.mjr", half + delta + key + after)

    done = repair(tmp_path / "in.mjr", tmp_path / "out.mjr")

    header, packets = read(tmp_path / "out.mjr")
    assert [seq for seq, _ in packets] == [103, 104, 105, 106, 107]
    assert (done.kept, done.dropped) == (2, 2)
    # The video starts a second later on the recording's clock.
    assert header["u"] == FIRST_US + 1_000_000


def test_a_lost_packet_drops_pictures_until_the_next_key_frame(tmp_path: Path) -> None:
    packets = picture(10, 0, 2, key=True, pic=1) + picture(12, 3000, 3, pic=2)
    broken = picture(15, 6000, 3, pic=3)
    del broken[1]  # lost on the way to Janus
    packets += broken + picture(18, 9000, 1, pic=4) + picture(19, 12000, 2, key=True, pic=5)
    packets += picture(21, 15000, 1, pic=6)
    capture(tmp_path / "in.mjr", packets)

    done = repair(tmp_path / "in.mjr", tmp_path / "out.mjr")

    header, packets = read(tmp_path / "out.mjr")
    assert [seq for seq, _ in packets] == [10, 11, 12, 13, 14, 19, 20, 21]
    assert (done.kept, done.dropped) == (4, 2)
    assert header["u"] == FIRST_US  # nothing dropped at the start


def test_packets_are_put_back_in_order_across_the_sequence_wrap(tmp_path: Path) -> None:
    first = picture(65534, 0, 3, key=True, pic=1)  # 65534, 65535, 0
    second = picture(65537, 3000, 2, pic=2)  # 1, 2
    arrived = [first[0], first[2], first[1], second[1], second[0], second[0]]  # one repeated
    capture(tmp_path / "in.mjr", arrived)

    done = repair(tmp_path / "in.mjr", tmp_path / "out.mjr")

    assert [seq for seq, _ in read(tmp_path / "out.mjr")[1]] == [65534, 65535, 0, 1, 2]
    assert (done.kept, done.dropped) == (2, 0)


def test_a_capture_cut_in_a_packet_keeps_the_whole_pictures_before_it(tmp_path: Path) -> None:
    capture(tmp_path / "in.mjr", picture(1, 0, 2, key=True) + picture(3, 3000, 2, pic=1), cut=20)

    done = repair(tmp_path / "in.mjr", tmp_path / "out.mjr")

    assert [seq for seq, _ in read(tmp_path / "out.mjr")[1]] == [1, 2]
    assert (done.kept, done.dropped) == (1, 1)


def test_a_capture_without_a_whole_key_frame_keeps_nothing(tmp_path: Path) -> None:
    capture(tmp_path / "in.mjr", picture(1, 0, 3, pic=1) + picture(4, 3000, 2, pic=2))

    done = repair(tmp_path / "in.mjr", tmp_path / "out.mjr")

    assert done.kept == 0
    assert read(tmp_path / "out.mjr")[1] == []

"""Pre-encoded media for synthetic participants: made once with ffmpeg, held in memory.

A synthetic speaker sends Opus packets and a synthetic webcam VP8 frames that were encoded once
when the fixture or benchmark started, so sending costs no encoder (aiortc packs pre-encoded
packets as they are). ffmpeg makes the files (argv lists built by the functions below, one
runner that checks the exit code); `EncodedClip.load` reads one back into memory as packets
with their times, and for Opus the level of each packet (RFC 6465 dBov), which the sender puts
in the audio-level header extension a browser sends, so the media server's talking detection
sees the speaker as it would a browser.

Tones have a known frequency and amplitude: a listener that hears them can tell which speaker
it hears, and silence cannot pass for them.
"""

from __future__ import annotations

import math
import subprocess
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

FFMPEG = "ffmpeg"
OPUS_RATE = 48000


class ClipError(RuntimeError):
    pass


def tone_argv(path: Path, frequency: float, seconds: float, amplitude: float = 0.3) -> list[str]:
    """A sine of `frequency` Hz and peak `amplitude` (of full scale), mono Opus in Ogg, 20 ms
    packets (what browsers send)."""
    source = f"aevalsrc={amplitude}*sin(2*PI*{frequency}*t):s={OPUS_RATE}:d={seconds}"
    return [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", source,
        "-c:a", "libopus", "-b:a", "32k", "-application", "voip", "-frame_duration", "20",
        "-ac", "1", str(path),
    ]  # fmt: skip


def speech_argv(wav: Path, path: Path) -> list[str]:
    """A recording (espeak-ng's WAV, for one) as mono Opus in Ogg, 20 ms packets."""
    return [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
        "-ar", str(OPUS_RATE), "-c:a", "libopus", "-b:a", "32k", "-application", "voip",
        "-frame_duration", "20", "-ac", "1", str(path),
    ]  # fmt: skip


def camera_argv(
    path: Path,
    seconds: float,
    size: str = "320x240",
    fps: int = 15,
    bitrate: str = "300k",
) -> list[str]:
    """A moving test pattern as VP8 in IVF, a keyframe every second (a subscriber who arrives
    while it plays gets a picture within a second: a pre-encoded sender cannot answer a
    keyframe request)."""
    return [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}",
        "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", bitrate,
        "-g", str(fps), "-keyint_min", str(fps), "-auto-alt-ref", "0", "-lag-in-frames", "0",
        "-pix_fmt", "yuv420p", str(path),
    ]  # fmt: skip


def make(argv: list[str], timeout: float = 120.0) -> None:
    """Runs one of the argv lists above; raises with ffmpeg's last words if it fails."""
    done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-800:]
        raise ClipError(f"{argv[0]} exited with {done.returncode}: {tail}")


@dataclass(frozen=True)
class EncodedPacket:
    data: bytes
    at: float
    """Seconds from the clip's start."""
    level: int | None
    """Opus only: the packet's level in dBov (0 loudest, -127 silence)."""


@dataclass(frozen=True)
class EncodedClip:
    kind: str
    """"audio" (Opus) or "video" (VP8)."""
    packets: tuple[EncodedPacket, ...]
    length: float
    """Seconds from one loop's start to the next."""

    @classmethod
    def load(cls, path: Path) -> EncodedClip:
        with av.open(str(path)) as container:
            stream = container.streams[0]
            codec = stream.codec_context.name
            if codec not in ("opus", "vp8"):
                raise ClipError(f"{path}: {codec} is neither Opus nor VP8")
            decoder = _opus_decoder() if codec == "opus" else None
            packets: list[EncodedPacket] = []
            step = 0.0
            for packet in container.demux(stream):
                if not packet.size or packet.pts is None or packet.time_base is None:
                    continue
                level = _level(decoder, packet) if decoder is not None else None
                at = float(packet.pts * packet.time_base)
                if packet.duration:
                    step = float(packet.duration * packet.time_base)
                packets.append(EncodedPacket(bytes(packet), at, level))
        if not packets:
            raise ClipError(f"{path} holds no packets")
        first = packets[0].at
        packets = [EncodedPacket(p.data, p.at - first, p.level) for p in packets]
        if not step and len(packets) > 1:
            step = packets[-1].at / (len(packets) - 1)
        kind = "audio" if codec == "opus" else "video"
        return cls(kind, tuple(packets), packets[-1].at + step)


def _opus_decoder() -> av.AudioCodecContext:
    decoder = av.CodecContext.create("libopus", "r")
    assert isinstance(decoder, av.AudioCodecContext)
    decoder.format = "s16"
    decoder.layout = "mono"
    decoder.sample_rate = OPUS_RATE
    return decoder


def decode_opus(decoder: av.AudioCodecContext, payload: bytes) -> array[int]:
    """One Opus packet as 16-bit mono samples (48 kHz)."""
    packet = av.Packet(payload)
    packet.pts = 0
    packet.time_base = Fraction(1, OPUS_RATE)
    samples: array[int] = array("h")
    for frame in decoder.decode(packet):
        plane = bytes(frame.planes[0])[: frame.samples * 2]  # planes are padded
        samples.frombytes(plane)
    return samples


def _level(decoder: av.AudioCodecContext, packet: av.Packet) -> int:
    samples = decode_opus(decoder, bytes(packet))
    if not samples:
        return -127
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32767
    return max(-127, min(0, round(20 * math.log10(rms)))) if rms > 0 else -127

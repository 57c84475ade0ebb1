"""What a synthetic participant says it received: plain values a test asserts on and a
benchmark prints or writes as JSON (`dataclasses.asdict`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Received:
    """One incoming stream (the audio mix, or one webcam or screen), counted from its RTP."""

    kind: str
    packets: int
    lost: int
    """Packets the sequence numbers say were sent and never arrived."""
    bytes: int
    frames: int = 0
    """Video: frames completed (RTP marker bit)."""
    keyframes: int = 0
    width: int | None = None
    """Video: the size of the last keyframe."""
    height: int | None = None

    @property
    def loss(self) -> float:
        """The fraction of packets lost (0 when none was expected yet)."""
        expected = self.packets + self.lost
        return self.lost / expected if expected else 0.0


@dataclass(frozen=True)
class Hearing:
    """The audio mix as heard over the last `seconds`."""

    rms: float
    """Root mean square of the decoded samples, as a fraction of full scale."""
    seconds: float
    tones: dict[float, float] = field(default_factory=dict)
    """Frequency (Hz) -> the amplitude found at that frequency, as a fraction of full scale."""

    @property
    def dbfs(self) -> float:
        return -200.0 if self.rms <= 0 else 20 * math.log10(self.rms)


@dataclass(frozen=True)
class ParticipantReport:
    name: str
    user_id: str
    audio: str | None
    """How it is in the audio: None, "mic", "listen" (the old receive-only bridge join) or
    "stream" (the listen-only stream)."""
    mix: Received | None
    """The meeting's audio as it arrives (listeners and speakers)."""
    hearing: Hearing | None
    videos: dict[int, Received]
    """Feed id -> that webcam or screen as it arrives."""
    relayed: dict[str, Received]
    """The listen-only stream's video on a relay node ("camera", "screen") as it arrives."""
    sent: dict[str, int]
    """What it sends -> packets handed to the sender so far ("mic", "camera", "screen"): Opus
    packets, or video frames."""
    states: dict[str, str]
    """Each peer connection's state ("audio", "camera", "feed-3"…)."""
    sent_rtp: dict[str, int] = field(default_factory=dict)
    """Webcam and screen -> RTP packets sent so far (a frame is one or more)."""

    @property
    def lost(self) -> int:
        streams = [s for s in (self.mix, *self.videos.values()) if s is not None]
        return sum(s.lost for s in streams)

    @property
    def packets(self) -> int:
        streams = [s for s in (self.mix, *self.videos.values()) if s is not None]
        return sum(s.packets for s in streams)

"""The media engine interface: what the room needs from whatever carries audio and video.

The room speaks to a `MediaEngine` and never to Janus itself, so another engine could stand
behind this interface. An engine gives each meeting a `MeetingMedia` (an audio mix and a
forwarding room for webcams and screens) and each participant a `ParticipantMedia`; SDP goes in
and out whole (no trickle). What happens on the engine's side without being asked (somebody
starts or stops talking, a participant's media was lost) comes back through `MediaListener`.

`node` names the media server a meeting runs on, so meetings can later be spread over several.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class FeedKind(StrEnum):
    CAMERA = "camera"
    SCREEN = "screen"


@dataclass(frozen=True)
class Feed:
    """A published webcam or screen, identified within its meeting by `id`."""

    id: int
    user_id: str
    kind: FeedKind


Relayed = dict[str, int | None]
"""What a relayed listen-only stream carries: kind ("camera", "screen") -> feed id or None."""


class MediaError(Exception):
    """The engine refused or failed a request; `message` is safe to show the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class MediaListener(Protocol):
    async def talking(self, user_id: str, talking: bool) -> None: ...

    async def feed_up(self, feed: Feed) -> None:
        """A published feed's media reached the engine: others can now receive it."""
        ...

    async def media_lost(self, user_id: str, what: str) -> None:
        """`what` is "audio", "listen" (the stream a listener watches), or the FeedKind of a
        publication, or "subscription:<feed>"; "all" when the participant's whole connection
        to the media server is gone."""
        ...

    async def relayed(self, user_id: str, feeds: Relayed) -> None:
        """What the listen-only stream of a listener seated on a relay node carries changed
        (the presenter changed, a screen started or stopped): `feeds` as `listen_relayed`."""
        ...


class ParticipantMedia(Protocol):
    async def join_audio(self, offer: str, *, muted: bool) -> str:
        """Connect to the meeting's mix; a receive-only offer joins listen-only. Returns the
        SDP answer."""
        ...

    async def set_muted(self, muted: bool) -> None: ...

    async def leave_audio(self) -> None: ...

    async def start_listen(self) -> str:
        """Listen-only at no encoding cost: receive the meeting's mix as it is encoded once for
        every listener (the participant is not in the mix and is never recorded). Returns the
        engine's SDP offer; `listen_answer` completes it. A new start replaces the running one."""
        ...

    def listen_relayed(self) -> Relayed | None:
        """The feeds the running listen-only stream carries besides the mix: on a relay node,
        kind ("camera", "screen") -> the feed id shown there or None; None for a stream without
        video (the meeting's own node, or no stream)."""
        ...

    async def listen_answer(self, answer: str) -> None: ...

    async def listen_layer(self, feed_id: int, substream: int, temporal: int | None) -> None:
        """Which simulcast layer of the webcam the listen-only stream carries (`feed_id`, as
        `listen_relayed` names it) to receive, as `choose_layer` for a subscription. Refused
        (`not_relayed`) unless the running stream carries that webcam now."""
        ...

    async def stop_listen(self) -> None: ...

    async def publish(self, feed: Feed, offer: str) -> str:
        """Publish a webcam or screen (video only: voices go through the mix)."""
        ...

    async def unpublish(self, kind: FeedKind) -> None: ...

    async def subscribe(self, feed: Feed) -> str:
        """Start receiving another participant's feed; returns the engine's SDP offer."""
        ...

    async def answer(self, feed_id: int, answer: str) -> None: ...

    async def unsubscribe(self, feed_id: int) -> None: ...

    async def choose_layer(self, feed_id: int, substream: int, temporal: int | None) -> None:
        """Which simulcast layer of a subscribed webcam to receive: `substream` 0 (lowest
        resolution) to 2, `temporal` 0 (lowest frame rate) to 2, or None for all frames. A
        layer the publisher does not send falls back to the next one down."""
        ...

    async def start_echo(self, offer: str) -> str:
        """The audio check before joining: the engine sends this participant's own voice
        back through the media server (the whole path: network, codec, server), as BBB's echo
        test does. Returns the SDP answer. A new check replaces the running one."""
        ...

    async def stop_echo(self) -> None: ...

    async def close(self) -> None:
        """Release everything this participant holds on the engine."""
        ...


class MeetingMedia(Protocol):
    node: str

    async def participant(self, user_id: str, display: str) -> ParticipantMedia: ...

    async def mute(self, user_id: str, muted: bool) -> None:
        """A moderator mutes (or unmutes) somebody in the mix."""
        ...

    async def lecturer(self, user_id: str | None) -> None:
        """The meeting's presenter now: whose webcam is relayed, with the screen, to listeners
        on other media nodes."""
        ...

    async def close(self) -> None:
        """The meeting ended: every participant and both rooms go."""
        ...


class MediaEngine(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def open_meeting(
        self,
        meeting_id: str,
        number: int,
        listener: MediaListener,
        record_dir: Path | None = None,
    ) -> MeetingMedia:
        """The meeting's media, created on first use. `number` (the voice bridge) names its
        rooms on the engine. With `record_dir`, every voice, webcam and screen is written
        there as it arrives (recordings/capture.py names the files)."""
        ...

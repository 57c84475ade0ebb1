"""The room's WebSocket protocol: what a browser may send, validated before anything acts on it.

Every client message is a JSON object with a `type`; `parse` returns a typed message or raises
ProtocolError with a code the client can show. docs/protocol.md is the prose version; the
handshake carries PROTOCOL_VERSION.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

PROTOCOL_VERSION = 3
ACCEPTED_VERSIONS = frozenset({1, 2, 3})
"""Version 2 only adds messages and fields, so a version-1 client is still served. Version 3
replaces the per-change presence messages with a snapshot and batched deltas
(room/presence.py); versions 1 and 2 still get the old ones."""
MAX_MESSAGE_BYTES = 32 * 1024
MAX_SDP_CHARS = 24 * 1024
MAX_CHAT_CHARS = 1000
MAX_NOTES_UPDATE_CHARS = 30 * 1024


class ProtocolError(Exception):
    """A message the room refuses; the connection stays open."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _plain(text: str) -> str:
    # Control characters (NUL, escape sequences, C1) have no place in text people read; line
    # breaks and tabs do. Refused, not stripped, so what is logged is what was sent.
    if _CONTROL.search(text):
        raise ValueError("control characters are not allowed")
    return text


PlainText = Annotated[str, AfterValidator(_plain)]
"""Free text people write (chat, lobby message, polls, whiteboard text)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: str | None = Field(default=None, max_length=64)
    """Echoed in the answer or error, so a client can match them."""


class Hello(_Message):
    type: Literal["hello"]
    version: int


class Ping(_Message):
    type: Literal["ping"]


class ChatSend(_Message):
    type: Literal["chat.send"]
    text: PlainText = Field(min_length=1, max_length=MAX_CHAT_CHARS)
    to: str | None = Field(default=None, max_length=40)
    """A user ID for a private message; absent for public chat."""
    replyTo: str | None = Field(default=None, min_length=1, max_length=40)
    """The id of a message of the same conversation this one answers."""


MessageId = Annotated[str, Field(min_length=1, max_length=40)]


class ChatReact(_Message):
    type: Literal["chat.react"]
    message: MessageId
    emoji: str = Field(max_length=16)
    on: bool = True


class ChatEdit(_Message):
    type: Literal["chat.edit"]
    message: MessageId
    text: PlainText = Field(min_length=1, max_length=MAX_CHAT_CHARS)


class ChatDelete(_Message):
    type: Literal["chat.delete"]
    message: MessageId


class ChatTyping(_Message):
    type: Literal["chat.typing"]
    to: str | None = Field(default=None, max_length=40)


class ChatClear(_Message):
    type: Literal["chat.clear"]


CHAT_WRITES = (ChatSend, ChatReact, ChatEdit, ChatDelete)
"""What counts against the chat rate limit (each fans out to a whole conversation)."""


class HandSet(_Message):
    type: Literal["hand.set"]
    raised: bool
    user: str | None = Field(default=None, max_length=40)
    """Moderators may lower someone else's hand."""


class ReactionSet(_Message):
    type: Literal["reaction.set"]
    emoji: str | None = Field(default=None, max_length=16)


class AwaySet(_Message):
    type: Literal["away.set"]
    away: bool


class StatusClear(_Message):
    """A moderator lowers every hand and clears every reaction and away."""

    type: Literal["status.clear"]


class UserRemove(_Message):
    type: Literal["user.remove"]
    user: str = Field(max_length=40)
    ban: bool = False


class UserRole(_Message):
    type: Literal["user.role"]
    user: str = Field(max_length=40)
    role: Literal["MODERATOR", "VIEWER"]


class UserPresenter(_Message):
    type: Literal["user.presenter"]
    user: str = Field(max_length=40)


class LockSet(_Message):
    type: Literal["lock.set"]
    disableCam: bool | None = None
    disableMic: bool | None = None
    disablePrivateChat: bool | None = None
    disablePublicChat: bool | None = None
    disableNotes: bool | None = None
    hideUserList: bool | None = None
    hideViewersCursor: bool | None = None


class GuestDecide(_Message):
    type: Literal["guest.decide"]
    user: str | None = Field(default=None, max_length=40)
    """One waiting guest, or everyone waiting when absent."""
    allow: bool


class GuestPolicySet(_Message):
    type: Literal["guest.policy"]
    policy: Literal["ALWAYS_ACCEPT", "ALWAYS_DENY", "ASK_MODERATOR"]


LayoutName = Literal[
    "CUSTOM_LAYOUT",
    "SMART_LAYOUT",
    "PRESENTATION_FOCUS",
    "VIDEO_FOCUS",
    "CAMERAS_ONLY",
    "PRESENTATION_ONLY",
    "PARTICIPANTS_AND_CHAT_ONLY",
]
LAYOUTS: tuple[str, ...] = get_args(LayoutName)
"""BBB 3.0's layout names (create's meetingLayout, join's enforceLayout)."""


class LayoutPush(_Message):
    """A moderator puts everybody in one layout (BBB's "push layout to everyone")."""

    type: Literal["layout.push"]
    layout: LayoutName


class LobbyMessage(_Message):
    type: Literal["lobby.message"]
    text: PlainText = Field(max_length=MAX_CHAT_CHARS)


class MeetingEnd(_Message):
    type: Literal["meeting.end"]


class Leave(_Message):
    type: Literal["leave"]


class RecordingSet(_Message):
    """A moderator starts or stops the recording (BBB's recording marks)."""

    type: Literal["recording.set"]
    recording: bool


# ----------------------------------------------------------------------- presentation --
class PresentationPage(_Message):
    """The presenter shows another page of the current presentation."""

    type: Literal["presentation.page"]
    page: int = Field(ge=1, le=100_000)


class PresentationShow(_Message):
    """The presenter makes another of the meeting's presentations the current one."""

    type: Literal["presentation.show"]
    presentation: str = Field(min_length=1, max_length=36)


# ------------------------------------------------------------------------- whiteboard --
Point = Annotated[list[Annotated[float, Field(ge=-0.5, le=1.5)]], Field(min_length=2, max_length=2)]


class Shape(BaseModel):
    """One annotation; coordinates are fractions of the slide's width and height.

    `highlighter` is a pen stroke drawn translucent; `arrow` goes from its first point to its
    second; `note` is a sticky note with text on `color`, its top-left corner at the first
    point and its bottom-right at the second (one point: NOTE_SIZE square)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_-]+$")
    tool: Literal["pen", "line", "rect", "ellipse", "text", "highlighter", "arrow", "note"]
    points: list[Point] = Field(min_length=1, max_length=2000)
    color: str = Field(default="#e11d48", pattern=r"^#[0-9a-fA-F]{6}$")
    width: float = Field(default=0.004, gt=0, le=0.05)
    text: PlainText | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _fits_its_tool(self) -> Shape:
        if self.tool == "arrow" and len(self.points) != 2:
            raise ValueError("an arrow has exactly two points")
        if self.tool == "note":
            if len(self.points) > 2:
                raise ValueError("a note has one or two points")
            if not self.text:
                raise ValueError("a note needs text")
        return self


NOTE_SIZE = 0.15
"""A note given one point spans this fraction of the slide's width and height."""


class DrawAdd(_Message):
    type: Literal["draw.add"]
    presentation: str = Field(min_length=1, max_length=36)
    page: int = Field(ge=1, le=100_000)
    shape: Shape


class DrawUpdate(_Message):
    """Move, resize, recolour or retype an existing annotation: the whole shape again."""

    type: Literal["draw.update"]
    presentation: str = Field(min_length=1, max_length=36)
    page: int = Field(ge=1, le=100_000)
    shape: Shape


class DrawErase(_Message):
    """Erase one annotation (`shape`), undo one's last (`undo`), or clear the page."""

    type: Literal["draw.erase"]
    presentation: str = Field(min_length=1, max_length=36)
    page: int = Field(ge=1, le=100_000)
    shape: str | None = Field(default=None, max_length=36)
    undo: bool = False
    clear: bool = False


class WhiteboardMulti(_Message):
    """The presenter lets everybody draw, or only themselves."""

    type: Literal["whiteboard.multi"]
    enabled: bool


class PointerMove(_Message):
    """The presenter's pointer (or a cursor, with the multi-user whiteboard) on the current
    slide, in fractions; both null hide it."""

    type: Literal["pointer.move"]
    x: float | None = Field(default=None, ge=-0.5, le=1.5)
    y: float | None = Field(default=None, ge=-0.5, le=1.5)

    @model_validator(mode="after")
    def _both_or_neither(self) -> PointerMove:
        if (self.x is None) != (self.y is None):
            raise ValueError("x and y are both numbers, or both null")
        return self


# ------------------------------------------------------------------------------ polls --
PollKind = Literal["YN", "TF", "ABCD", "custom", "response"]


class PollStart(_Message):
    """The presenter asks: yes/no, true/false, A-D, custom options, or a typed response."""

    type: Literal["poll.start"]
    kind: PollKind
    question: PlainText = Field(default="", max_length=300)
    options: list[Annotated[PlainText, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=10
    )
    anonymous: bool = False
    multiple: bool = False


class PollAnswer(_Message):
    type: Literal["poll.answer"]
    poll: str = Field(min_length=1, max_length=36)
    choices: list[Annotated[int, Field(ge=0, le=9)]] = Field(default_factory=list, max_length=10)
    text: PlainText | None = Field(default=None, min_length=1, max_length=100)


class PollStop(_Message):
    type: Literal["poll.stop"]


class PollPublish(_Message):
    type: Literal["poll.publish"]


class PresentationZoom(_Message):
    """The presenter's view of the page: a rectangle in fractions of the slide (x, y, w, h);
    w = h = 1 shows the whole page."""

    type: Literal["presentation.zoom"]
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(ge=0.1, le=1)
    h: float = Field(ge=0.1, le=1)


class PresentationRemove(_Message):
    """The presenter removes a removable document that is not the one shown."""

    type: Literal["presentation.remove"]
    presentation: str = Field(min_length=1, max_length=36)


class NotesUpdate(_Message):
    """A Yjs update of the shared notes, base64 (room/notes.py)."""

    type: Literal["notes.update"]
    update: str = Field(min_length=4, max_length=MAX_NOTES_UPDATE_CHARS)
    generation: int | None = Field(default=None, ge=0, le=2**31)
    """The document the edit was made on (a reset starts a new one); absent: the current."""


class NotesSync(_Message):
    """Asks for the whole notes document again, answered with `notes.state` (a client whose
    edit was refused drops its copy and starts over from the room's)."""

    type: Literal["notes.sync"]


class NotesReset(_Message):
    """A moderator empties the shared notes for everybody (a new document)."""

    type: Literal["notes.reset"]


# ------------------------------------------------------------------------------ media --
Sdp = Annotated[str, Field(min_length=10, max_length=MAX_SDP_CHARS)]
FeedKindName = Literal["camera", "screen"]


class AudioJoin(_Message):
    """Join the audio conference: with a microphone, or listen-only (a receive-only offer)."""

    type: Literal["media.audio.join"]
    sdp: Sdp
    listenOnly: bool = False


class ListenStart(_Message):
    """Listen-only through the meeting's one forwarded mix: the server answers with the media
    server's SDP offer (`media.listen.offer`)."""

    type: Literal["media.listen.start"]


class ListenAnswer(_Message):
    """The browser's answer to `media.listen.offer`; `media.listen.started` follows."""

    type: Literal["media.listen.answer"]
    sdp: Sdp


class ListenStop(_Message):
    type: Literal["media.listen.stop"]


class AudioLeave(_Message):
    type: Literal["media.audio.leave"]


class AudioMute(_Message):
    """Mute or unmute oneself, or (moderators) somebody else."""

    type: Literal["media.audio.mute"]
    muted: bool
    user: str | None = Field(default=None, max_length=80)


class EchoStart(_Message):
    """The audio check: the server sends one's own voice back (an offer with a microphone)."""

    type: Literal["media.echo.start"]
    sdp: Sdp


class EchoStop(_Message):
    type: Literal["media.echo.stop"]


class MuteAll(_Message):
    type: Literal["media.audio.mute_all"]
    muted: bool = True
    exceptPresenter: bool = False


class Publish(_Message):
    type: Literal["media.publish"]
    kind: FeedKindName
    sdp: Sdp


class Unpublish(_Message):
    """Stop one's own webcam or screen, or (moderators) eject somebody's webcam."""

    type: Literal["media.unpublish"]
    kind: FeedKindName
    user: str | None = Field(default=None, max_length=80)


class Subscribe(_Message):
    type: Literal["media.subscribe"]
    feed: int = Field(ge=1, le=2**31)


class SubscribeAnswer(_Message):
    type: Literal["media.answer"]
    feed: int = Field(ge=1, le=2**31)
    sdp: Sdp


class Unsubscribe(_Message):
    type: Literal["media.unsubscribe"]
    feed: int = Field(ge=1, le=2**31)


SUBSTREAMS = 3
"""A webcam is published in up to three simulcast layers, lowest first: from 720p, 0 is 320
pixels wide, 1 is 640 and 2 is 1280; each has up to three temporal layers (frame rates)."""


class Quality(_Message):
    """Which layer of a webcam one receives: the client picks it from the tile's size on screen
    and the bandwidth it measures (docs/decisions.md, "Simulcast")."""

    type: Literal["media.quality"]
    feed: int = Field(ge=1, le=2**31)
    substream: int = Field(ge=0, le=SUBSTREAMS - 1)
    temporal: int | None = Field(default=None, ge=0, le=2)
    """Absent: every frame of the layer (the full frame rate)."""


class ListenLayer(_Message):
    """Which layer of the webcam its listen-only stream carries a listener on a relay node
    receives (v3): as `media.quality`, for the feed `relayed` names under `camera`."""

    type: Literal["media.listen.layer"]
    feed: int = Field(ge=1, le=2**31)
    substream: int = Field(ge=0, le=SUBSTREAMS - 1)
    temporal: int | None = Field(default=None, ge=0, le=2)
    """Absent: every frame of the layer (the full frame rate)."""


MediaMessage = (
    AudioJoin
    | AudioLeave
    | ListenStart
    | ListenAnswer
    | ListenStop
    | ListenLayer
    | AudioMute
    | MuteAll
    | Publish
    | Unpublish
    | Subscribe
    | SubscribeAnswer
    | Unsubscribe
    | Quality
    | EchoStart
    | EchoStop
)
MEDIA_MESSAGES = (
    AudioJoin,
    AudioLeave,
    ListenStart,
    ListenAnswer,
    ListenStop,
    ListenLayer,
    AudioMute,
    MuteAll,
    Publish,
    Unpublish,
    Subscribe,
    SubscribeAnswer,
    Unsubscribe,
    Quality,
    EchoStart,
    EchoStop,
)


ClientMessage = Annotated[
    Hello
    | Ping
    | ChatSend
    | ChatReact
    | ChatEdit
    | ChatDelete
    | ChatTyping
    | ChatClear
    | HandSet
    | ReactionSet
    | AwaySet
    | StatusClear
    | UserRemove
    | UserRole
    | UserPresenter
    | LockSet
    | GuestDecide
    | GuestPolicySet
    | LayoutPush
    | LobbyMessage
    | MeetingEnd
    | Leave
    | PresentationPage
    | PresentationShow
    | PresentationRemove
    | PresentationZoom
    | DrawAdd
    | DrawUpdate
    | DrawErase
    | WhiteboardMulti
    | PointerMove
    | PollStart
    | PollAnswer
    | PollStop
    | PollPublish
    | NotesUpdate
    | NotesSync
    | NotesReset
    | RecordingSet
    | MediaMessage,
    Field(discriminator="type"),
]

_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)

REACTIONS = frozenset({"👍", "👎", "👏", "😂", "😮", "❤️", "🎉", "🤔", "🙋", "☕"})


def parse(raw: str | bytes) -> ClientMessage:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes")
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("bad_json", "The message is not valid JSON") from None
    ref = data.get("ref") if isinstance(data, dict) and isinstance(data.get("ref"), str) else None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("bad_message", "A message is a JSON object with a type", ref)
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "union_tag_invalid":
            raise ProtocolError(
                "unknown_type", f"Unknown message type {data['type']!r}", ref
            ) from None
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        raise ProtocolError("invalid", f"{where}: {first['msg']}", ref) from None

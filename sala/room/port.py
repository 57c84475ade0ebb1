"""What a room hands its features: the participant record, the refusal they raise, and the
narrow port (RoomPort) through which a feature reads the meeting and its policy, finds
participants, writes to the log and the store, and reaches connections.

A feature (room/features/, room/media.py, room/notes_room.py) owns its own state and answers the
message types it lists in `routes()`; the room (room/room.py) holds the lock, the one dispatch
table built from those routes, and the fan-out. Features import this module, never the room.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from sala.events.log import MeetingEvent
from sala.meetings.model import Attendee, Meeting, Role
from sala.meetings.policy import MeetingPolicy
from sala.room import protocol as p
from sala.room.connection import Connection


class Refused(p.ProtocolError):
    """An action the room refuses: an error message back, the connection stays."""


def require_moderator(me: Participant, ref: str | None) -> None:
    if me.attendee.role is not Role.MODERATOR:
        raise Refused("forbidden", "Only moderators can do that", ref)


@dataclass
class Participant:
    attendee: Attendee
    """As the store had it when this participant arrived, refreshed by the room whenever the
    room changes it (role, presenter) — not re-read for every message."""
    hand: bool = False
    reaction: str | None = None
    away: bool = False
    audio: str | None = None
    """None, "mic" or "listen" (listen-only)."""
    muted: bool = False
    talking: bool = False
    connections: set[Connection] = field(default_factory=set)

    @property
    def user_id(self) -> str:
        return self.attendee.internal_user_id

    def view(self) -> dict[str, Any]:
        a = self.attendee
        return {
            "id": a.internal_user_id,
            "name": a.full_name,
            "role": a.role.value,
            "guest": a.guest,
            "presenter": a.is_presenter,
            "hand": self.hand,
            "reaction": self.reaction,
            "away": self.away,
            "avatar": a.avatar_url or None,
            "audio": self.audio,
            "muted": self.muted,
            "talking": self.talking,
        }


M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Connection, Participant, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    handler: Handler
    locked: bool = True
    """Run under the room's lock (everything but media, which waits on the media server and is
    serialised per participant by RoomMedia)."""


Routes = Mapping[type[BaseModel], Route]


def route(
    kind: type[M],
    handler: Callable[[Connection, Participant, M], Awaitable[None]],
    *,
    locked: bool = True,
) -> tuple[type[BaseModel], Route]:
    """One entry of a feature's routes: the handler is typed for the message it receives."""
    return kind, Route(handler, locked)


class Replays(Protocol):
    """A feature whose state a room rebuilds from the meeting's event log when it starts (after
    a restart, or in the process taking the meeting over from one that died)."""

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        """Every event of the meeting, in order; called once, before anybody is seated."""
        ...


class RoomPort(Protocol):
    """The room as its features see it."""

    @property
    def id(self) -> str:
        """The meeting's internal ID."""
        ...

    @property
    def meeting(self) -> Meeting:
        """The room's latest snapshot of the meeting."""
        ...

    @property
    def policy(self) -> MeetingPolicy:
        """What the meeting's settings allow, built from that snapshot."""
        ...

    @property
    def logout_url(self) -> str: ...

    def now_ms(self) -> int: ...

    def participant(self, user_id: str, ref: str | None = None) -> Participant:
        """The participant with this ID, or Refused("not_found")."""
        ...

    def find(self, user_id: str) -> Participant | None: ...

    def everyone(self) -> list[Participant]: ...

    def send_to(self, user_id: str, message: dict[str, Any]) -> None:
        """To this process's connections of one participant (answers and notices)."""
        ...

    async def broadcast(
        self, message: dict[str, Any], to: list[str] | None = None, but: str | None = None
    ) -> None:
        """To every connection in the meeting, in every process (or only to these users), except
        those of the user `but`."""
        ...

    async def publish_user(self, participant: Participant) -> None:
        """Announce a participant's changed state (batched: room/presence.py)."""
        ...

    def publish_talking(self, participant: Participant) -> None:
        """Announce that a participant started or stopped talking (batched too)."""
        ...

    async def log(self, by: Participant | None, kind: str, data: dict[str, Any]) -> None:
        """Append an event (sala/events/types.py) to the meeting's log."""
        ...

    async def activity(self, kind: str) -> None:
        """Something happened that keeps the meeting from ending as inactive."""
        ...

    async def update_settings(self, changes: dict[str, Any]) -> None:
        """Change the meeting's settings; the policy is rebuilt from them."""
        ...

    async def update_attendee(
        self, user_id: str, changes: dict[str, Any], event: tuple[str, dict[str, Any]]
    ) -> None:
        """Change an attendee's role, presenter flag or guest status, with its event; the
        participant's attendee is refreshed here and in the other processes."""
        ...

    async def presenter_in_store(self) -> bool:
        """Whether someone the store counts as in the meeting presents (after a takeover the
        presenter may not have reconnected yet)."""
        ...

    async def update_media_flags(
        self, participant: Participant, changes: dict[str, Any], event: str, data: dict[str, Any]
    ) -> None:
        """Media state for getMeetingInfo, and its event in the log, in one transaction."""
        ...

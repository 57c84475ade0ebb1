"""The room's one dispatch table, with the room's store faked in memory: every message the
protocol parses reaches a handler, anything else is refused as the parser refuses it, and a
participant's role is what the room last made it — without reading the store per message."""

from __future__ import annotations

import json
import typing
from dataclasses import replace
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from sala.clock import ManualClock
from sala.events.bus import InProcessBus
from sala.meetings.model import Attendee, Meeting, Role
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.room import Room
from tests.meetings.factories import attendee, meeting


class FakeMeetings:
    """The part of MeetingService the room uses, over a dict."""

    def __init__(self, live: Meeting, *people: Attendee) -> None:
        self.meeting = live
        self.attendees = {a.internal_user_id: a for a in people}
        self.events: list[tuple[str, dict[str, Any], str | None]] = []
        self.attendee_reads = 0

    async def get_for_room(self, _internal_id: str) -> Meeting:
        return self.meeting

    async def has_present_presenter(self, _internal_id: str) -> bool:
        return any(a.is_presenter and a.present for a in self.attendees.values())

    async def get_attendee(self, user_id: str) -> Attendee | None:
        self.attendee_reads += 1
        return self.attendees.get(user_id)

    async def update_attendee(
        self,
        _meeting_id: str,
        user_id: str,
        changes: dict[str, Any],
        event: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        if "role" in changes:
            changes = {**changes, "role": Role(changes["role"])}
        self.attendees[user_id] = replace(self.attendees[user_id], **changes)
        if event is not None:
            self.events.append((event[0], event[1], user_id))

    async def update_settings(self, _meeting_id: str, changes: dict[str, Any]) -> None:
        self.meeting = replace(self.meeting, settings={**self.meeting.settings, **changes})

    async def log_event(
        self, _meeting_id: str, kind: str, data: dict[str, Any], user_id: str | None = None
    ) -> None:
        self.events.append((kind, data, user_id))

    async def user_connected(self, _meeting_id: str, _user_id: str) -> None:
        pass

    async def user_disconnected(self, _meeting_id: str, _user_id: str) -> None:
        pass

    async def record_activity(self, _meeting_id: str, _kind: str) -> None:
        pass

    async def end_by_internal_id(self, _internal_id: str, _reason: object) -> None:
        pass


async def _nothing(_room: Room) -> None:
    pass


def sent(conn: Connection) -> list[dict[str, Any]]:
    """What the connection was sent so far (its outbox, emptied)."""
    out = []
    while not conn.outbox.empty():
        text = conn.outbox.get_nowait()
        if text is not None:
            out.append(json.loads(text))
    return out


@pytest.fixture
def store() -> FakeMeetings:
    return FakeMeetings(
        meeting({"lockSettingsDisablePublicChat": True}),
        attendee("ada", Role.MODERATOR),
        attendee("bea"),
    )


@pytest.fixture
async def seated(store: FakeMeetings) -> tuple[Room, Connection, Connection]:
    room = Room(store.meeting, store, InProcessBus(), ManualClock(), "https://out", _nothing)  # type: ignore[arg-type]
    ada, bea = Connection(store.attendees["ada"]), Connection(store.attendees["bea"])
    await room.attach(ada)
    await room.attach(bea)
    assert sent(ada)[0]["type"] == "welcome"
    assert sent(bea)[0]["type"] == "welcome"
    return room, ada, bea


def _message_types() -> list[type[BaseModel]]:
    union = typing.get_args(p.ClientMessage)[0]
    return list(typing.get_args(union))


def test_every_message_the_protocol_parses_has_one_handler(store: FakeMeetings) -> None:
    room = Room(store.meeting, store, InProcessBus(), ManualClock(), "https://out", _nothing)  # type: ignore[arg-type]
    routed = set(room._routes)
    assert set(_message_types()) <= routed
    # Media waits on the media server: outside the room's lock; the rest under it.
    assert {k for k, r in room._routes.items() if not r.locked} == set(p.MEDIA_MESSAGES)


class Teleport(BaseModel):
    type: Literal["teleport"] = "teleport"
    ref: str | None = None


async def test_a_message_without_a_handler_is_refused_as_the_parser_refuses_it(
    seated: tuple[Room, Connection, Connection],
) -> None:
    room, _ada, bea = seated
    with pytest.raises(p.ProtocolError) as parsed:
        p.parse('{"type": "teleport", "ref": "t1"}')
    with pytest.raises(p.ProtocolError) as dispatched:
        await room.handle(bea, Teleport(ref="t1"))  # type: ignore[arg-type]
    assert (dispatched.value.code, dispatched.value.message, dispatched.value.ref) == (
        parsed.value.code,
        parsed.value.message,
        "t1",
    )
    assert dispatched.value.code == "unknown_type"


async def test_a_message_reaches_its_feature(
    seated: tuple[Room, Connection, Connection], store: FakeMeetings
) -> None:
    room, ada, bea = seated
    await room.handle(ada, p.parse('{"type": "ping", "ref": "p"}'))
    assert sent(ada) == [{"type": "pong", "ref": "p"}]
    await room.handle(ada, p.parse('{"type": "chat.send", "text": "hello", "ref": "c"}'))
    [message] = sent(bea)
    assert (message["type"], message["text"], message["from"]["id"]) == (
        "chat.message",
        "hello",
        "ada",
    )
    assert store.events[-1][0] == "chat-message"
    # The feature's rules hold: the public chat is locked for viewers.
    with pytest.raises(p.ProtocolError) as refused:
        await room.handle(bea, p.parse('{"type": "chat.send", "text": "hi", "ref": "c2"}'))
    assert (refused.value.code, refused.value.ref) == ("locked", "c2")


async def test_the_attendee_is_not_read_again_for_every_message(
    seated: tuple[Room, Connection, Connection], store: FakeMeetings
) -> None:
    room, ada, _bea = seated
    reads = store.attendee_reads
    for n in range(5):
        await room.handle(ada, p.parse(f'{{"type": "chat.send", "text": "m{n}"}}'))
        await room.handle(ada, p.parse('{"type": "hand.set", "raised": true}'))
    assert store.attendee_reads == reads


async def test_promotion_and_demotion_take_effect_at_once(
    seated: tuple[Room, Connection, Connection],
) -> None:
    room, ada, bea = seated
    lock = '{"type": "lock.set", "disableCam": true, "ref": "l"}'
    with pytest.raises(p.ProtocolError) as before:
        await room.handle(bea, p.parse(lock))
    assert before.value.code == "forbidden"

    await room.handle(ada, p.parse('{"type": "user.role", "user": "bea", "role": "MODERATOR"}'))
    rewelcome = [m for m in sent(bea) if m["type"] == "welcome"]
    assert rewelcome[-1]["you"]["role"] == "MODERATOR"
    await room.handle(bea, p.parse(lock))  # now hers to do
    await room.handle(bea, p.parse('{"type": "chat.send", "text": "no lock on me"}'))

    await room.handle(ada, p.parse('{"type": "user.role", "user": "bea", "role": "VIEWER"}'))
    with pytest.raises(p.ProtocolError) as after:
        await room.handle(bea, p.parse(lock))
    assert after.value.code == "forbidden"
    with pytest.raises(p.ProtocolError) as locked:
        await room.handle(bea, p.parse('{"type": "chat.send", "text": "and now?"}'))
    assert locked.value.code == "locked"


async def test_a_removed_participant_is_gone_at_once(
    seated: tuple[Room, Connection, Connection],
) -> None:
    room, ada, bea = seated
    await room.handle(ada, p.parse('{"type": "user.remove", "user": "bea"}'))
    assert [m["type"] for m in sent(bea)] == ["removed"]
    assert bea.closed and bea.close_code == 4410
    assert {"type": "user.left", "user": "bea"} in sent(ada)
    # A new connection on the same seat is a new arrival, not the old participant.
    assert "bea" not in room.participants

"""Seating a newcomer (Room.attach with the meeting its room session read): counted present once,
before the room's lock, and counted out again when it is turned away after that; anyone the room
has seated before is read from the store again, since the room may have changed them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from sala.clock import ManualClock
from sala.events.bus import InProcessBus
from sala.meetings.model import Role
from sala.room.connection import Connection
from sala.room.port import Refused
from sala.room.room import Room
from tests.meetings.factories import attendee, meeting
from tests.room.test_dispatch import FakeMeetings, _nothing, sent


class CountingMeetings(FakeMeetings):
    """The faked store, counting who it holds as present."""

    def __init__(self) -> None:
        super().__init__(meeting(), attendee("ada", Role.MODERATOR), attendee("bea"))
        self.present: Counter[str] = Counter()
        self.room: Room | None = None
        self.end_while_connecting = False

    async def user_connected(self, _meeting_id: str, user_id: str) -> None:
        self.present[user_id] += 1
        if self.end_while_connecting and self.room is not None:
            # The meeting ends while the newcomer's presence is being written.
            await self.room.close("ended")

    async def user_disconnected(self, _meeting_id: str, user_id: str) -> None:
        self.present[user_id] -= 1


@pytest.fixture
def store() -> CountingMeetings:
    return CountingMeetings()


def room_of(store: CountingMeetings) -> Room:
    room = Room(store.meeting, store, InProcessBus(), ManualClock(), "https://out", _nothing)  # type: ignore[arg-type]
    store.room = room
    return room


async def test_a_newcomer_is_seated_from_its_session_and_counted_present_once(
    store: CountingMeetings,
) -> None:
    room = room_of(store)
    ada = Connection(store.attendees["ada"])

    await room.attach(ada, store.meeting)

    welcome = sent(ada)[0]
    assert welcome["type"] == "welcome" and welcome["you"]["role"] == "MODERATOR"
    assert store.present == {"ada": 1}


async def test_a_newcomer_turned_away_after_being_counted_is_counted_out(
    store: CountingMeetings,
) -> None:
    room = room_of(store)
    store.end_while_connecting = True

    with pytest.raises(Refused):
        await room.attach(Connection(store.attendees["bea"]), store.meeting)

    assert store.present["bea"] == 0
    assert "bea" not in room.participants


async def test_someone_seated_before_is_read_again_with_what_changed_meanwhile(
    store: CountingMeetings,
) -> None:
    room = room_of(store)
    first = Connection(store.attendees["bea"])
    await room.attach(first, store.meeting)
    await room.detach(first)
    # Made a moderator while away; the session read the row before that.
    stale = store.attendees["bea"]
    store.attendees["bea"] = replace(stale, role=Role.MODERATOR)

    again = Connection(stale)
    await room.attach(again, store.meeting)

    welcome = sent(again)[0]
    assert welcome["type"] == "welcome" and welcome["you"]["role"] == "MODERATOR"

"""The roster as pages see it (room/presence.py): a snapshot plus batched deltas.

The property: whatever joins, leaves, flag and role changes, reconnections, hidden-list toggles
and ticks interleave, every connection that applies its snapshot and then its deltas, each delta
starting exactly where the previous left off (`since` = the last `seq` it had: nothing missed,
nothing applied twice), ends with the true roster (with `hideUserList`, a viewer's: moderators
and themselves). Then, on a real server: N joins cost an observer a handful of frames (one per
tick), not N, and a newcomer's chat never arrives before their join.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sala.meetings.model import Role
from sala.meetings.policy import LockSettings, MeetingPolicy
from sala.room import presence as presence_module
from sala.room.connection import Connection
from sala.room.port import Participant
from sala.room.presence import Presence
from tests.meetings.factories import attendee
from tests.room.conftest import RoomServer
from tests.support.room_socket import RoomSocket

USERS = [f"u{i}" for i in range(6)]


class FakeRoom:
    """The two things presence reads of a room."""

    def __init__(self) -> None:
        self.participants: dict[str, Participant] = {}
        self.policy = MeetingPolicy(locks=LockSettings(), disabled=frozenset())

    def everyone(self) -> list[Participant]:
        return list(self.participants.values())


@dataclass
class Page:
    """A connection as the browser client keeps its roster."""

    conn: Connection
    participant: Participant
    roster: dict[str, Any]
    seq: int
    live: bool = True

    def read(self) -> None:
        while not self.conn.outbox.empty():
            text = self.conn.outbox.get_nowait()
            assert text is not None
            message = json.loads(text)
            if message["type"] == "welcome":
                self.roster = {u["id"]: u for u in message["users"]}
                self.seq = message["usersSeq"]
            elif message["type"] == "users.reset":
                self.roster = {u["id"]: u for u in message["users"]}
                self.seq = message["seq"]
            else:
                assert message["type"] == "users.delta", message
                # Exactly after what it had: no change missed, none applied twice.
                assert message["since"] == self.seq, (message, self.seq)
                assert message["seq"] > self.seq
                for user in message["set"]:
                    self.roster[user["id"]] = user
                for gone in message["gone"]:
                    self.roster.pop(gone, None)
                self.seq = message["seq"]


def _open(presence: Presence, participant: Participant) -> Page:
    conn = Connection(participant.attendee)
    conn.version = 3
    participant.connections.add(conn)
    snapshot = presence.attach(conn, participant)
    conn.send_text(f'{{"type":"welcome","usersSeq":{conn.users_seq},"users":{snapshot}}}')
    return Page(conn, participant, {}, 0)


def _expected(room: FakeRoom, viewer: Participant) -> dict[str, Any]:
    everyone = {p.user_id: p.view() for p in room.everyone()}
    if room.policy.sees_whole_user_list(viewer.attendee):
        return everyone
    return {u: v for u, v in everyone.items() if v["role"] == "MODERATOR" or u == viewer.user_id}


user = st.sampled_from(USERS)
step = st.one_of(
    st.tuples(st.just("join"), user, st.booleans()),
    st.tuples(st.just("leave"), user),
    st.tuples(st.just("open"), user),
    st.tuples(st.just("hand"), user),
    st.tuples(st.just("talk"), user),
    st.tuples(st.just("role"), user),
    st.tuples(st.just("hide")),
    st.tuples(st.just("flush")),
    st.tuples(st.just("tick")),
)


async def _play(steps: list[tuple[Any, ...]]) -> None:
    room = FakeRoom()
    presence = Presence(room)
    pages: list[Page] = []
    for kind, *args in steps:
        target = room.participants.get(args[0]) if args else None
        if kind == "join" and target is None:
            role = Role.MODERATOR if args[1] else Role.VIEWER
            joined = Participant(attendee(args[0], role))
            room.participants[joined.user_id] = joined
            presence.joined(joined)
            pages.append(_open(presence, joined))
        elif kind == "leave" and target is not None:
            del room.participants[target.user_id]
            presence.left(target.user_id)
            for page in pages:
                if page.participant is target:
                    page.live = False  # its connections close with the leave
        elif kind == "open" and target is not None:
            pages.append(_open(presence, target))
        elif kind == "hand" and target is not None:
            target.hand = not target.hand
            presence.updated(target)
        elif kind == "talk" and target is not None:
            target.talking = not target.talking
            presence.talking(target)
        elif kind == "role" and target is not None:
            role = Role.VIEWER if target.attendee.role is Role.MODERATOR else Role.MODERATOR
            target.attendee = replace(target.attendee, role=role)
            presence.updated(target)
            # What the room does for a new role: a new welcome on each of their connections.
            for conn in target.connections:
                snapshot = presence.attach(conn, target)
                conn.send_text(
                    f'{{"type":"welcome","usersSeq":{conn.users_seq},"users":{snapshot}}}'
                )
        elif kind == "hide":
            hidden = not room.policy.locks.hide_user_list
            room.policy = replace(room.policy, locks=LockSettings(hide_user_list=hidden))
            presence.resend()
        elif kind == "flush":
            presence.flush()
        elif kind == "tick":
            await asyncio.sleep(presence_module.PRESENCE_TICK_S * 3)
        for page in pages:
            if page.live:
                page.read()
    presence.flush()
    for page in pages:
        if page.live:
            page.read()
            assert page.roster == _expected(room, page.participant)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, max_size=40))
def test_snapshot_plus_deltas_is_always_the_true_roster(
    steps: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence_module, "PRESENCE_TICK_S", 0.001)
    asyncio.run(_play(steps))


def test_a_big_batch_goes_out_at_once_and_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """More than MAX_BATCH people changing within one tick: deltas go out as the batch fills,
    and a page opened in the middle of it still ends exact."""
    monkeypatch.setattr(presence_module, "MAX_BATCH", 8)
    steps: list[tuple[Any, ...]] = [("join", f"u{i}", i == 0) for i in range(5)]
    steps += [("hand", f"u{i}") for i in range(5)] + [("open", "u0"), ("talk", "u3")]
    steps += [("join", f"u{i}", False) for i in range(5, 6)] + [("leave", "u2")]
    asyncio.run(_play(steps))


# ------------------------------------------------------------------------ a real server --
JOINERS = 40


async def test_joins_cost_an_observer_one_frame_per_tick_not_one_per_join(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create()
    base, secret, http = room_server.base, room_server.secret, room_server.http
    observer = await RoomSocket.join(http, base, secret, meeting_id, "Observer", "MODERATOR")
    # A version-1 client beside it still gets one user.joined per join.
    legacy = await room_server.joined(meeting_id, "Legacy")
    await observer.roster(lambda users: len(users) == 2)
    before = observer.received
    started = time.monotonic()
    joiners = await asyncio.gather(
        *(RoomSocket.join(http, base, secret, meeting_id, f"Joiner {i}") for i in range(JOINERS))
    )
    everyone = {"Observer", "Legacy", *(f"Joiner {i}" for i in range(JOINERS))}
    await observer.roster(lambda users: {u["name"] for u in users.values()} == everyone)
    took = time.monotonic() - started
    frames = observer.received - before
    ticks = took / presence_module.PRESENCE_TICK_S
    # One delta per tick at most (and one more for a tick cut short), never one per join.
    assert frames <= ticks + 2, (frames, took)
    assert frames < JOINERS / 2, (frames, took)
    for i in range(JOINERS):
        await legacy.expect("user.joined", where=lambda m, i=i: m["user"]["name"] == f"Joiner {i}")
    # Every joiner ends with the whole roster too: its snapshot plus the deltas after it.
    for joiner in joiners:
        await joiner.roster(lambda users: {u["name"] for u in users.values()} == everyone)
    for socket in [observer, *joiners]:
        await socket.close()
    await legacy.ws.close()


async def test_a_newcomer_s_chat_never_arrives_before_their_join(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    base, secret, http = room_server.base, room_server.secret, room_server.http
    observer = await RoomSocket.join(http, base, secret, meeting_id, "Observer", "MODERATOR")
    seen: list[bool] = []
    apply = observer._apply

    def watching(message: dict[str, Any]) -> None:
        apply(message)
        if message.get("type") == "chat.message":
            seen.append(message["from"]["id"] in observer.users)

    observer._apply = watching  # type: ignore[method-assign]
    for round_ in range(5):
        heard = observer.expect("chat.message")
        newcomer = await RoomSocket.join(http, base, secret, meeting_id, f"New {round_}")
        # At once: well within the tick that would announce the join.
        await newcomer.send({"type": "chat.send", "text": f"hello {round_}"})
        message = await asyncio.wait_for(heard, 5)
        assert message["text"] == f"hello {round_}"
        assert seen[-1], "the chat arrived before its sender's join"
        assert observer.users[newcomer.you["id"]]["name"] == f"New {round_}"
        await newcomer.close()
    await observer.close()


def test_a_big_room_waits_longer_between_deltas_so_they_cost_a_bounded_rate() -> None:
    """Each delta is a frame per connection: past a few hundred connections the tick grows
    with the room (up to MAX_TICK_S), so presence sends about the same frames per second
    whatever the size, and a small room keeps PRESENCE_TICK_S."""

    class Crowd:
        def __init__(self, connections: int) -> None:
            self.people = [SimpleNamespace(connections={object()}) for _ in range(connections)]

        def everyone(self) -> list[Any]:
            return self.people

    def tick(connections: int) -> float:
        return Presence(Crowd(connections)).tick_s()  # type: ignore[arg-type]

    assert tick(10) == tick(300) == presence_module.PRESENCE_TICK_S
    assert tick(1000) == pytest.approx(1000 * presence_module.TICK_PER_CONNECTION_S)
    assert tick(1000) / presence_module.PRESENCE_TICK_S > 2.5
    assert tick(100_000) == presence_module.MAX_TICK_S
    # Frames per second of deltas (connections / tick) stop growing with the room.
    assert 1000 / tick(1000) == pytest.approx(1500 / tick(1500))

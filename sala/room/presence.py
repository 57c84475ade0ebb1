"""Who is in a room as the pages see it: the roster, a newcomer's snapshot of it, and the changes
to it, batched so that N people joining cost O(N) messages, not O(N²).

Every change of a participant's public state (a join, a leave, role, presenter, hand, reaction,
away, audio, mute, talking) is numbered (`seq`) and kept as the participant's latest record,
encoded to JSON once. A newcomer's `welcome` carries the whole roster as it is now (the records
joined, never re-encoded) and the number of the last change it includes (`usersSeq`). Changes
are not sent one by one: at most every PRESENCE_TICK_S (longer in a room of hundreds, so that
deltas cost a bounded number of frames a second; or as soon as MAX_BATCH participants
changed) one `users.delta` goes out, encoded once for everybody, with each changed
participant's latest record (`set`) or their departure (`gone`), the changes after `since` up to
`seq`. A connection whose snapshot is newer than the batch's start gets only the changes after
its snapshot (a delta of its own, built from the same encoded records), so nothing is missed or
applied twice. Anything else the room sends (chat, notices) first flushes the pending changes
(`flush`), so a message never arrives before the join of the person it comes from.

With `hideUserList`, viewers see moderators and themselves: their deltas carry only those, and
`gone` for someone who stops being visible to them (a moderator leaving or demoted).

Clients of protocol versions 1 and 2 still get one `user.joined`, `user.updated`,
`user.talking` or `user.left` per change, at once, encoded once for all of them.

The roster and the deltas are this process's: a meeting's connections all go to the front end
that owns it (room/ownership.py), so presence never crosses the bus.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sala.meetings.model import Role
from sala.meetings.policy import MeetingPolicy
from sala.room.connection import Connection, encode
from sala.room.port import Participant

PRESENCE_TICK_S = 0.1
"""How long a change may wait for others before it is sent (talking indicators show this much
later; a burst of joins costs everybody one message per tick)."""
TICK_PER_CONNECTION_S = 0.0003
"""A big room's tick grows with it: a delta costs a frame per connection (~40-50 µs each, the
write and its permessage-deflate), so at PRESENCE_TICK_S a 1,000-connection room filling up
spent about half a core on deltas alone. Past ~330 connections the tick is this much per
connection, which keeps presence at no more than ~3,300 frames a second whatever the size
(issue 17: "cap per-message work")."""
MAX_TICK_S = 0.5
"""The longest a change waits, however big the room (a talking indicator in a huge room)."""
MAX_BATCH = 256
"""Changed participants that make a delta go out at once: bounds a delta's size, and the work of
the few connections that need a delta of their own."""
BATCHED_FROM_VERSION = 3
"""Clients that said this version or later in `hello` get snapshot + deltas; older ones get one
message per change."""
_MODERATOR = Role.MODERATOR.value


class PresenceRoom(Protocol):
    """What presence reads of its room."""

    @property
    def policy(self) -> MeetingPolicy: ...

    def everyone(self) -> list[Participant]: ...


@dataclass(slots=True)
class _Change:
    index: int
    record: str | None
    """The participant's view as JSON, or None: they left."""
    moderator: bool
    shown: bool
    """Visible to viewers of a hidden list at some point since the last delta (a moderator)."""


def batched(conn: Connection) -> bool:
    return conn.version >= BATCHED_FROM_VERSION


def delta_text(seq: int, since: int, records: Iterable[str], gone: list[str]) -> str:
    return (
        f'{{"type":"users.delta","seq":{seq},"since":{since},'
        f'"set":[{",".join(records)}],"gone":{json.dumps(gone)}}}'
    )


class Presence:
    def __init__(self, room: PresenceRoom) -> None:
        self._room = room
        self.seq = 0
        """The number of the latest change."""
        self._since = 0
        """The last change sent in a delta: pending changes are numbered after it."""
        self._records: dict[str, str] = {}
        self._moderators: set[str] = set()
        self._pending: dict[str, _Change] = {}
        """Per participant, their latest change since the last delta, in the order of `index`."""
        self._legacy: set[Connection] = set()
        self._timer: asyncio.TimerHandle | None = None
        self.deltas_sent = 0
        """Deltas sent (encoded once each), for tests and the benchmark."""

    # --------------------------------------------------------------------------- changes --
    def joined(self, participant: Participant) -> None:
        self._changed(participant, "user.joined")

    def updated(self, participant: Participant) -> None:
        self._changed(participant, "user.updated")

    def talking(self, participant: Participant) -> None:
        self._changed(participant, "user.talking")

    def left(self, user_id: str) -> None:
        self._records.pop(user_id, None)
        was_moderator = user_id in self._moderators
        self._moderators.discard(user_id)
        self._note(user_id, None, False, was_moderator)
        if self._legacy:
            text = encode({"type": "user.left", "user": user_id})
            for conn in self._legacy:
                conn.send_text(text)

    def _changed(self, participant: Participant, kind: str) -> None:
        view = participant.view()
        user_id = participant.user_id
        record = encode(view)
        moderator = view["role"] == _MODERATOR
        was_moderator = user_id in self._moderators
        self._records[user_id] = record
        if moderator:
            self._moderators.add(user_id)
        else:
            self._moderators.discard(user_id)
        self._note(user_id, record, moderator, was_moderator)
        if self._legacy:
            self._send_legacy(kind, view)

    def _note(self, user_id: str, record: str | None, moderator: bool, was: bool) -> None:
        self.seq += 1
        previous = self._pending.pop(user_id, None)
        shown = was or moderator or (previous is not None and previous.shown)
        self._pending[user_id] = _Change(self.seq, record, moderator, shown)
        if len(self._pending) >= MAX_BATCH:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.tick_s(), self.flush)

    def tick_s(self) -> float:
        """How long changes wait for others here: PRESENCE_TICK_S, longer in a big room."""
        connections = sum(len(p.connections) for p in self._room.everyone())
        return min(MAX_TICK_S, max(PRESENCE_TICK_S, connections * TICK_PER_CONNECTION_S))

    def _send_legacy(self, kind: str, view: dict[str, Any]) -> None:
        if kind == "user.talking":
            message: dict[str, Any] = {"type": kind, "user": view["id"], "talking": view["talking"]}
        else:
            message = {"type": kind, "user": view}
        text = encode(message)
        policy = self._room.policy
        hidden = policy.locks.hide_user_list and kind != "user.talking"
        for conn in self._legacy:
            if (
                hidden
                and view["role"] != _MODERATOR
                and view["id"] != conn.user_id
                and not policy.sees_whole_user_list(conn.attendee)
            ):
                continue
            conn.send_text(text)

    # ----------------------------------------------------------------------- snapshots --
    def attach(self, conn: Connection, viewer: Participant) -> str:
        """The roster `conn` starts from, as a JSON array; from now on it gets the changes
        after it. Call it and queue the welcome with no `await` in between."""
        conn.users_seq = self.seq
        if not batched(conn):
            self._legacy.add(conn)
        return self.snapshot(viewer)

    def detach(self, conn: Connection) -> None:
        self._legacy.discard(conn)

    def snapshot(self, viewer: Participant) -> str:
        if self._room.policy.sees_whole_user_list(viewer.attendee):
            return f"[{','.join(self._records.values())}]"
        seen = [self._records[u] for u in self._moderators if u in self._records]
        own = self._records.get(viewer.user_id)
        if own is not None and viewer.user_id not in self._moderators:
            seen.append(own)
        return f"[{','.join(seen)}]"

    def resend(self) -> None:
        """What viewers may see changed (the user list was hidden or shown again): every
        batched connection gets its roster again (`users.reset`)."""
        self.flush()
        whole: str | None = None
        for participant in self._room.everyone():
            conns = [c for c in participant.connections if batched(c)]
            if not conns:
                continue
            if self._room.policy.sees_whole_user_list(participant.attendee):
                whole = whole or self._reset_text(self.snapshot(participant))
                text = whole
            else:
                text = self._reset_text(self.snapshot(participant))
            for conn in conns:
                conn.users_seq = self.seq
                conn.send_text(text)

    def _reset_text(self, users: str) -> str:
        return f'{{"type":"users.reset","seq":{self.seq},"users":{users}}}'

    # -------------------------------------------------------------------------- deltas --
    def flush(self) -> None:
        """Send the pending changes now (before any other message of the room)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        since, seq = self._since, self.seq
        self._since = seq
        changes = list(pending.items())
        whole = delta_text(
            seq,
            since,
            (c.record for _, c in changes if c.record is not None),
            [u for u, c in changes if c.record is None],
        )
        self.deltas_sent += 1
        policy = self._room.policy
        hidden = policy.locks.hide_user_list
        partial: str | None = None
        """The delta of a hidden list, for viewers who did not change themselves."""
        for participant in self._room.everyone():
            sees_all = not hidden or policy.sees_whole_user_list(participant.attendee)
            for conn in participant.connections:
                if not batched(conn) or conn.users_seq >= seq:
                    continue
                if conn.users_seq <= since and sees_all:
                    text = whole
                elif conn.users_seq <= since and participant.user_id not in pending:
                    partial = partial or _own_delta(changes, seq, since, "")
                    text = partial
                else:
                    # A snapshot taken mid-batch, or a hidden list: its own delta.
                    viewer = None if sees_all else participant.user_id
                    text = _own_delta(changes, seq, max(since, conn.users_seq), viewer)
                conn.users_seq = seq
                conn.send_text(text)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()
        self._legacy.clear()


def _own_delta(changes: list[tuple[str, _Change]], seq: int, after: int, viewer: str | None) -> str:
    """The changes numbered after `after`; for `viewer` of a hidden list, only moderators and
    themselves (and `gone` for whoever stopped being visible)."""
    records: list[str] = []
    gone: list[str] = []
    for user_id, change in changes:
        if change.index <= after:
            continue
        if viewer is None or user_id == viewer or (change.moderator and change.record):
            if change.record is None:
                gone.append(user_id)
            else:
                records.append(change.record)
        elif change.shown:
            gone.append(user_id)
    return delta_text(seq, after, records, gone)

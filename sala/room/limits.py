"""What one room session, one user and one meeting may take from this process.

An outside probe opened 300 WebSockets on one viewer's cookie; each stayed within its own
per-connection rate limit, and together they took a core and delayed everybody's chat by
seconds. So the room counts per session, per user and per meeting, whatever the number of
sockets:

- a room session keeps at most MAX_CONNECTIONS_PER_SESSION sockets and a user (one attendee,
  who may hold several sessions through getJoinUrl's existingUserID) MAX_CONNECTIONS_PER_USER;
  a new socket beyond that closes the *oldest* with CloseCode.REPLACED, because a reload opens its
  new socket before the server notices the old one is gone: refusing the newest would lock
  reloads out, while the oldest is the socket nobody looks at any more;
- connecting is rate-limited per user (USER_CONNECTS), so closing and reopening in a loop
  (each open costs a database lookup and a welcome) is slowed down;
- messages are rate-limited per user (USER_MESSAGES, and USER_CHATS for chat) shared by all
  their sockets, then per meeting (MEETING_MESSAGES, MEETING_CHATS), so one meeting's flood
  cannot take the process from the others;
- pointer moves have their own budgets (USER_POINTERS, MEETING_POINTERS) instead of the
  general one, and are dropped silently beyond them.

Everything is counted before a message is parsed or handled. The counts are this process's: with
several processes sharing a meeting, each enforces them on its own connections.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sala.room import protocol as p
from sala.room.close_codes import CloseCode
from sala.room.connection import Connection
from sala.room.ratelimit import TokenBucket


@dataclass(frozen=True)
class Rate:
    per_s: float
    burst: float


MAX_CONNECTIONS_PER_SESSION = 3
"""Two tabs, plus the moment a reload's new socket overlaps the old one."""
MAX_CONNECTIONS_PER_USER = 5
"""Across the sessions of one attendee (getJoinUrl's existingUserID gives them more than one)."""

USER_CONNECTS = Rate(0.5, 10)
"""Ten quick (re)connections, then one every two seconds."""
USER_MESSAGES = Rate(20, 40)
USER_CHATS = Rate(3, 10)
MEETING_MESSAGES = Rate(300, 600)
"""A meeting of 1,000 pinging every 20 s uses 50 a second; a class answering in chat at once
fits the burst."""
MEETING_CHATS = Rate(30, 150)
"""Chat is what fans out to everybody: 30 a second to a meeting of 500 is 15,000 frames."""

USER_POINTERS = Rate(15, 30)
"""`pointer.move`: a page sends one per animation frame at most, throttled to ~15 a second; the
moves have their own budget so a moving pointer does not starve the user's other messages.
Moves beyond it are dropped, not refused (the next one supersedes them anyway)."""
MEETING_POINTERS = Rate(150, 300)
"""Every move fans out to the whole meeting: ten multi-user cursors at full speed fit."""

NOTES_UPDATES_PER_USER = Rate(10, 40)
"""Shared-notes edits: a page sends one update per pause in typing (at most about 8 a second),
and a paste as chunks of 3,000 characters: 40 of them are a 120 kB paste."""
NOTES_BYTES_PER_USER = Rate(2048, 128 * 1024)
"""Typing is tens of bytes a second; a paste of 128 KiB goes through at once; filling the
notes' budget (room/notes.py) alone takes a viewer minutes, not seconds."""
NOTES_SYNCS_PER_USER = Rate(0.2, 3)
"""`notes.sync` answers with the whole document (up to the budget): a page asks after a refused
edit, not in a loop."""

_SWEEP_AT = 256
"""Idle budgets are swept every this many admissions, and idle buckets once this many piled up."""


class Limited(p.ProtocolError):
    """A message refused by a rate limit. `own_fault` is false when it is the meeting's budget
    that ran out: that does not count towards closing the sender's connection for flooding."""

    def __init__(self, message: str, ref: str | None = None, *, own_fault: bool = True) -> None:
        super().__init__("rate_limited", message, ref)
        self.own_fault = own_fault


class KeyedBuckets:
    """One token bucket per key (a user), made on first use; buckets that have filled up again
    are dropped once many piled up, since a full bucket is the same as a new one."""

    def __init__(self, rate: Rate, now: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._now = now
        self._buckets: dict[str, TokenBucket] = {}
        self._sweep_at = _SWEEP_AT

    def take(self, key: str, cost: float = 1.0) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._sweep_at:
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full()}
                # When few filled up (a class joining at once), the next sweep waits until
                # the map doubled: sweeping at every new key would cost n² on the loop.
                self._sweep_at = max(_SWEEP_AT, 2 * len(self._buckets))
            bucket = self._buckets[key] = TokenBucket(self._rate.per_s, self._rate.burst, self._now)
        return bucket.take(cost)


@dataclass(eq=False)
class _Budget:
    """A user's or a meeting's buckets, and their connections here (oldest first)."""

    messages: TokenBucket
    chats: TokenBucket
    connections: dict[Connection, None] = field(default_factory=dict)

    def idle(self) -> bool:
        return not self.connections and self.messages.full() and self.chats.full()


@dataclass(eq=False)
class Lease:
    """One admitted connection's place in the counts; `check_*` raise Limited."""

    conn: Connection
    session: str
    user_id: str
    meeting_id: str
    _user: _Budget
    _meeting: _Budget
    _pointers: KeyedBuckets
    _meeting_pointers: KeyedBuckets

    def check_message(self) -> None:
        # The user's own budget first: a refused flooder then costs the meeting nothing.
        if not self._user.messages.take():
            raise Limited("Slow down")
        if not self._meeting.messages.take():
            raise Limited("This meeting is very busy; try again in a moment", own_fault=False)

    def pointer_allowed(self) -> bool:
        """Whether a `pointer.move` may go now (USER_POINTERS, then MEETING_POINTERS); one that
        may not is dropped without an error."""
        return self._pointers.take(self.user_id) and self._meeting_pointers.take(self.meeting_id)

    def check_chat(self, ref: str | None) -> None:
        if not self._user.chats.take():
            raise Limited("Too many chat messages", ref)
        if not self._meeting.chats.take():
            raise Limited(
                "The chat of this meeting is very busy; try again in a moment",
                ref,
                own_fault=False,
            )


class ConnectionLimits:
    """The counts of this process's room connections; RoomSocket admits and releases each."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        # Module constants are read here, not at import, so tests and operators patching them
        # before the app is built get what they set.
        self.per_session = MAX_CONNECTIONS_PER_SESSION
        self.per_user = MAX_CONNECTIONS_PER_USER
        self._user_rates = (USER_MESSAGES, USER_CHATS)
        self._meeting_rates = (MEETING_MESSAGES, MEETING_CHATS)
        self._connects = KeyedBuckets(USER_CONNECTS, now)
        self._pointers = KeyedBuckets(USER_POINTERS, now)
        self._meeting_pointers = KeyedBuckets(MEETING_POINTERS, now)
        self._sessions: dict[str, dict[Connection, None]] = {}
        self._users: dict[str, _Budget] = {}
        self._meetings: dict[str, _Budget] = {}
        self._leases: dict[Connection, Lease] = {}
        self._admitted = 0

    @property
    def connected(self) -> int:
        """Room connections open in this process now."""
        return len(self._leases)

    def may_connect(self, user_id: str) -> bool:
        """Whether this user may open one more connection now (USER_CONNECTS)."""
        return self._connects.take(user_id)

    def admit(self, conn: Connection, session: str, user_id: str, meeting_id: str) -> Lease:
        """Count a new connection in; the oldest ones of its session and user beyond their caps
        are closed with CloseCode.REPLACED (and stop counting at once)."""
        self._sweep()
        user = self._users.get(user_id) or self._budget(self._users, user_id, self._user_rates)
        meeting = self._meetings.get(meeting_id) or self._budget(
            self._meetings, meeting_id, self._meeting_rates
        )
        lease = Lease(
            conn,
            session,
            user_id,
            meeting_id,
            user,
            meeting,
            self._pointers,
            self._meeting_pointers,
        )
        self._leases[conn] = lease
        of_session = self._sessions.setdefault(session, {})
        of_session[conn] = None
        user.connections[conn] = None
        meeting.connections[conn] = None
        while len(of_session) > self.per_session:
            self._replace(next(iter(of_session)))
        while len(user.connections) > self.per_user:
            self._replace(next(iter(user.connections)))
        return lease

    def release(self, lease: Lease) -> None:
        """The connection is gone (or was replaced: then this changes nothing)."""
        if self._leases.get(lease.conn) is not lease:
            return
        del self._leases[lease.conn]
        of_session = self._sessions.get(lease.session)
        if of_session is not None:
            of_session.pop(lease.conn, None)
            if not of_session:
                del self._sessions[lease.session]
        lease._user.connections.pop(lease.conn, None)
        lease._meeting.connections.pop(lease.conn, None)

    def _replace(self, oldest: Connection) -> None:
        self.release(self._leases[oldest])
        oldest.close(CloseCode.REPLACED)

    def _budget(self, where: dict[str, _Budget], key: str, rates: tuple[Rate, Rate]) -> _Budget:
        messages, chats = rates
        budget = _Budget(
            TokenBucket(messages.per_s, messages.burst, self._now),
            TokenBucket(chats.per_s, chats.burst, self._now),
        )
        where[key] = budget
        return budget

    def _sweep(self) -> None:
        # A budget outlives its last connection until its buckets have filled up again, so
        # disconnecting and reconnecting does not refill them; then it is as good as a new one
        # and goes.
        self._admitted += 1
        if self._admitted % _SWEEP_AT:
            return
        for where in (self._users, self._meetings):
            for key in [k for k, b in where.items() if b.idle()]:
                del where[key]

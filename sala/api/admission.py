"""Admission control for API calls: how much of the event loop integrations may take.

The API and the rooms share one event loop. Integrations poll (getMeetingInfo, isMeetingRunning)
in closed loops, each sending its next request as soon as the last is answered. Two limits
apply to every call, in this order:

1. **Pacing.** Closed-loop pollers keep the loop busy however few calls are worked on at once:
   a memoized getMeetingInfo costs ~60 µs of the loop, so three pollers fill it, one at a time
   or not. A loop that never waits for events hurts the rooms more than its queue explains:
   their database work runs in a thread (aiosqlite) that gets the interpreter only when the
   loop thread lets go of it, which a loop that never sleeps does every
   `sys.getswitchinterval()` (5 ms). Each chat message makes several database round trips
   (the attendee read, the event's insert and commit) inside its room's lock, so a polling
   storm took a room's throughput below its traffic and chat latency grew without bound,
   whatever the concurrency limit below (bench/room.py --pollers, docs/performance.md).
   So while somebody is in a room of this process (ROOMS, counted by the room's WebSocket
   endpoint), the loop thread's CPU time is read every SAMPLE_S while calls arrive, and while
   its moving average is above LOOP_SHARE of the wall time, calls are spaced out: the gap
   between two admissions grows by half at each such reading (up to MAX_GAP_S) and shrinks by
   a fifth at each one below. The API then gets what the rooms leave of LOOP_SHARE, and at
   least 1 / MAX_GAP_S calls a second. With no room open the API may fill the loop: nobody
   is waiting for it then, and its throughput is what bench/api.py measures.
2. **Concurrency.** At most `limit` calls are worked on at once and the rest wait their turn,
   so a burst of expensive calls cannot take the loop in one go.

Calls wait in the order they came; a poller is slowed down, not refused: its answer comes a
little later, which is what closes its loop. Only the call's own work holds a place: reading
the request body happens before (a slow uploader must not hold the API up for everybody) and
writing the answer after (nor a slow reader). `limit` 0 turns both off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

LOOP_SHARE = 0.4
"""Above this share of the loop thread's time (rooms and API together), API calls are paced.
Chosen with bench/room.py --pollers 50 (docs/performance.md): 0.4 kept the room's chat p99
within 1.3-1.9x of its p99 without pollers at 200 and 500 clients; 0.5 gave 1.3-2.2x and
0.6 2-4x, for more polls a second."""
SAMPLE_S = 0.05
"""How often the loop thread's CPU time is read, while calls arrive."""
SMOOTHING_S = 0.25
"""Time constant of the busy share's moving average: a room's fan-out comes in bursts."""
MIN_GAP_S = 0.0001
MAX_GAP_S = 0.01


class Occupancy:
    """Room connections open in this process."""

    def __init__(self) -> None:
        self.connections = 0

    @contextmanager
    def connected(self) -> Iterator[None]:
        """Counts one connection while the block runs."""
        self.connections += 1
        try:
            yield
        finally:
            self.connections -= 1


ROOMS = Occupancy()
"""The process's rooms (one event loop per process), counted by sala/room/websocket.py."""


class Admission:
    def __init__(self, limit: int, rooms: Occupancy = ROOMS) -> None:
        """`limit`: calls worked on at once, and pacing on; 0 lets every call through."""
        self.limit = limit
        self._rooms = rooms
        self._active = 0
        """Calls being worked on."""
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.gap = 0.0
        """Seconds between two admissions; 0 while the loop has room to spare."""
        self.busy = 0.0
        """The loop thread's busy share, a moving average."""
        self._next = 0.0  # the earliest monotonic time the next call may be admitted
        self._sampled_at = time.monotonic()
        self._sampled_cpu = time.thread_time()

    def _sample(self, now: float) -> None:
        """Adjust the gap to the loop thread's busy share since the last sample. Called from
        the loop thread (admissions run there), so thread_time() is the loop's CPU time."""
        elapsed = now - self._sampled_at
        if elapsed < SAMPLE_S:
            return
        cpu = time.thread_time()
        busy = (cpu - self._sampled_cpu) / elapsed
        self._sampled_at, self._sampled_cpu = now, cpu
        self.busy += min(1.0, elapsed / SMOOTHING_S) * (busy - self.busy)
        if self.busy > LOOP_SHARE:
            self.gap = min(MAX_GAP_S, max(MIN_GAP_S, 1.5 * self.gap))
        elif self.gap:
            self.gap = 0.8 * self.gap if self.gap > MIN_GAP_S else 0.0

    async def __aenter__(self) -> None:
        if self.limit <= 0:
            return
        if self._rooms.connections or self.gap:
            await self._pace()
        # A counter and a queue of futures rather than asyncio.Semaphore: this runs on every
        # poll, and the semaphore's acquire/locked()/release cost 0.5 µs more per call
        # (in-process getMeetingInfo: 7.5 µs against 7.0).
        if self._active < self.limit and not self._waiters:
            self._active += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a place just as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(turn)
            raise

    async def _pace(self) -> None:
        now = time.monotonic()
        if self._rooms.connections:
            self._sample(now)
        else:
            self.gap = self.busy = 0.0  # nobody left in a room: pacing protects nothing
            self._sampled_at, self._sampled_cpu = now, time.thread_time()
        if self.gap:
            turn = max(now, self._next)
            self._next = turn + self.gap
            if turn > now:
                await asyncio.sleep(turn - now)

    def _release(self) -> None:
        """Hand the place to the first call still waiting, or free it."""
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._active -= 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.limit > 0:
            self._release()

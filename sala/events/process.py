"""Delivery in its own process: `sala serve` starts `sala worker` beside it and restarts it if it
dies. Webhook and callback traffic then runs on the other core and never takes CPU or event-loop
time from the API; the two meet only in the database (the outbox and its claims).

The server tells its worker when to look through the worker's stdin: one byte, at most every
WAKE_COALESCE_S (every ROOM_COALESCE_S when only rooms changed), "e" for new events and "o"
when the outbox changed (hooks/enable). Without
that the worker would poll, and polling five times a second cost more CPU than a meeting's
whole signaling. It still looks every POLL_S for what other sala processes logged, and exits
when its stdin closes (its server is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable

from sala.children import die_with_parent
from sala.events.hooks import HookStore
from sala.events.worker import OUTBOX_CHANGED

log = logging.getLogger(__name__)

POLL_S = 5.0
"""Besides being woken by its server, the worker looks for new events this often."""
WAKE_COALESCE_S = 0.1
"""At most ten wake-ups a second: under load each is a batch, and a webhook waits 0.1 s at most."""
ROOM_COALESCE_S = 1.0
"""For changes announced on a room's topic: at most one wake-up a second from a busy meeting."""
ROOM_TOPIC_PREFIX = "room:"


WORKER_WAKE_TOPIC = "worker.wake"
"""Bus topic on which front ends wake the workers of a cluster (they have no pipe to them)."""


class WakeCoalescer:
    """Turns a front end's bus traffic into few wake-ups for the workers: "e" for new events,
    "o" when the outbox changed, at most every WAKE_COALESCE_S (ROOM_COALESCE_S when only rooms
    changed). `send` carries them: the pipe to `sala serve`'s own worker, or the shared bus."""

    def __init__(self, send: Callable[[bytes], None], hooks: HookStore | None = None) -> None:
        self._send = send
        self._hooks = hooks
        self._pending: set[bytes] = set()
        self._flush: asyncio.TimerHandle | None = None

    async def on_bus(self, topic: str, _message: dict[str, object]) -> None:
        """Something changed in this process: wake the worker (coalesced)."""
        if topic == WORKER_WAKE_TOPIC:
            return  # another front end's wake-up, not a change
        room = topic.startswith(ROOM_TOPIC_PREFIX)
        if room and self._hooks is not None and not await self._hooks.any_collecting():
            # Room traffic (talking, hands, chat) only matters to hooks; with none, the
            # worker's own look every POLL_S moves the log position along.
            return
        self._pending.add(b"o" if topic == OUTBOX_CHANGED else b"e")
        # Frequent and rarely urgent for webhooks: at most one wake-up a second for it.
        delay = ROOM_COALESCE_S if room else WAKE_COALESCE_S
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        if self._flush is not None and self._flush.when() <= due:
            return
        if self._flush is not None:
            self._flush.cancel()
        self._flush = loop.call_at(due, self._send_wake)

    def _send_wake(self) -> None:
        self._flush = None
        pending, self._pending = self._pending, set()
        self._send(b"".join(sorted(pending)))

    def cancel(self) -> None:
        if self._flush is not None:
            self._flush.cancel()


class WorkerProcess:
    """The `sala worker` child of `sala serve`."""

    def __init__(self, hooks: HookStore | None = None, base_url: str | None = None) -> None:
        self._base_url = base_url
        """What the server is reached at (the worker writes it into playback links); its host
        and port may have come from `sala serve`'s flags, which the worker does not get."""
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False
        self.wakes = WakeCoalescer(self._write, hooks)

    async def start(self) -> None:
        await self._spawn()
        self._watch = asyncio.create_task(self._supervise(), name="sala-worker-watch")

    async def _spawn(self) -> None:
        env = dict(os.environ)
        if self._base_url:
            env["SALA_PUBLIC_URL"] = self._base_url
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sala",
            "worker",
            stdin=asyncio.subprocess.PIPE,
            env=env,
            # Besides its stdin closing: a worker whose loop is busy still goes at once when
            # its server is killed. SIGTERM is its ordinary stop (it ends its programs too);
            # forked on the server's event loop thread, as sala/children.py requires.
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
        log.info("delivery worker started (pid %s)", self._process.pid)

    def _write(self, wake: bytes) -> None:
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        # A byte or two into a pipe the worker drains: never blocks in practice, and a worker
        # that stopped reading is restarted by _supervise anyway.
        with contextlib.suppress(OSError, RuntimeError):
            process.stdin.write(wake)

    async def _supervise(self) -> None:
        pause = 0.5
        while not self._stopping:
            assert self._process is not None
            code = await self._process.wait()
            if self._stopping:
                return
            log.error("delivery worker exited with %s; restarting", code)
            await asyncio.sleep(pause)
            pause = min(10.0, pause * 2)
            await self._spawn()

    async def stop(self) -> None:
        self._stopping = True
        self.wakes.cancel()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()

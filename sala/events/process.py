"""Delivery in its own process: `sala serve` starts `sala worker` beside it and restarts it if it
dies. Webhook and callback traffic then runs on the other core and never takes CPU or event-loop
time from the API; the two meet only in the database (the outbox and its claims).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

from sala.app import build_services
from sala.config import Settings
from sala.events.outbox import prepare_outbox
from sala.events.worker import EventWorker

log = logging.getLogger(__name__)

WORKER_NICENESS = 10

POLL_S = 0.2
"""The worker cannot hear the API's in-process bus, so it looks for new events this often."""


class WorkerProcess:
    """The `sala worker` child of `sala serve`."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        await self._spawn()
        self._watch = asyncio.create_task(self._supervise(), name="sala-worker-watch")

    async def _spawn(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sala", "worker", stdin=asyncio.subprocess.DEVNULL
        )
        log.info("delivery worker started (pid %s)", self._process.pid)

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


async def run_worker(settings: Settings) -> None:
    """The body of `sala worker`: fan-out and delivery until told to stop or orphaned."""
    # Background work: when both compete for a busy CPU, the API answers first and deliveries
    # wait a little (they are queued, not lost).
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    services = build_services(settings)
    await services.db.migrate()
    await prepare_outbox(services.db, services.outbox)
    worker = EventWorker(
        services.events.fanout, services.deliverer, services.bus, idle_seconds=POLL_S
    )
    worker.start()
    parent = os.getppid()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        # A worker whose `sala serve` died (kill -9) must not linger: the next serve starts its own.
        while not stop.is_set() and os.getppid() == parent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        await worker.stop()
        await services.http.aclose()
        await services.db.dispose()
        if services.outbox is not services.db:
            await services.outbox.dispose()

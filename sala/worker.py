"""The worker role: fan-out of the event log into webhooks and callbacks, their delivery, the
recordings pipeline and the lifecycle reaper, in a process of their own; in a cluster also the
conversion of the documents front ends accepted.

`sala serve` starts one as its child (`sala worker`), waking it through a pipe and taking it
down with it. In a cluster, `sala serve --role worker` runs any number of them on any machines:
front ends wake them through the shared bus (WORKER_WAKE_TOPIC), and they share the work through
the database (the fan-out's cursor, delivery claims, recording-job leases), so none is special.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import stat
import sys
from collections.abc import Callable
from typing import Any

from sala.cluster.membership import Membership
from sala.cluster.orphans import OrphanSweeper
from sala.config import Settings
from sala.events.outbox import prepare_outbox
from sala.events.process import POLL_S, WORKER_WAKE_TOPIC
from sala.events.worker import OUTBOX_CHANGED, EventWorker
from sala.presentations.service import PresentationService
from sala.services import build_foundation, build_presentations, build_worker_services

log = logging.getLogger(__name__)

WORKER_NICENESS = 10
"""Background work: when both compete for a busy CPU, the API answers first and deliveries
wait a little (they are queued, not lost)."""


async def run_worker(settings: Settings, *, standalone: bool = False) -> None:
    """The body of a worker until told to stop (SIGTERM/SIGINT). As `sala serve`'s child it
    also stops when its parent goes; `standalone` (a cluster's `--role worker`) has no parent
    to watch and is woken through the bus instead of a pipe."""
    if not standalone:
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICENESS)
    base = build_foundation(settings)
    if base.cluster is not None:
        await base.cluster.start()
    await base.db.migrate()
    await prepare_outbox(base.db, base.outbox)
    services = build_worker_services(base, idle_seconds=POLL_S, wake_topics=(OUTBOX_CHANGED,))
    worker = services.events
    worker.start()
    services.pipeline.start()
    membership: Membership | None = None
    orphans: OrphanSweeper | None = None
    converter: PresentationService | None = None
    stop_converter_wakes: Callable[[], None] | None = None
    if standalone:
        # A cluster's front ends only accept documents; its workers convert them (in one
        # process the front end converts what it accepts, and its worker child leaves them).
        converter = build_presentations(base, "convert")
        stop_converter_wakes = converter.hear_wakes()
        await converter.resume()
        # In one process the front end's own reaper does this; a cluster's front ends leave
        # it to the workers (several may run it: its updates are conditional).
        services.reaper.start()
    if standalone and base.cluster is not None:
        membership = Membership(base.cluster.registry, base.cluster.node_id, "worker", "")
        membership.start()
        orphans = OrphanSweeper(
            base.meetings, base.cluster.rooms, settings.reconnect_grace_after_restart_seconds
        )
        orphans.start()

    async def woken(_topic: str, message: dict[str, Any]) -> None:
        worker.poke(outbox_changed="o" in str(message.get("wake", "")))

    unsubscribe = base.bus.subscribe(WORKER_WAKE_TOPIC, woken)
    parent = None if standalone else os.getppid()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    wakes = asyncio.create_task(_listen_for_wakes(worker, stop), name="sala-worker-wakes")
    try:
        # A worker whose `sala serve` died (kill -9) must not linger: the next serve starts its own.
        while not stop.is_set() and (parent is None or os.getppid() == parent):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        unsubscribe()
        if stop_converter_wakes is not None:
            stop_converter_wakes()
        if converter is not None:
            await converter.close()
        wakes.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await wakes
        await worker.stop()
        await services.pipeline.stop()
        await services.reaper.stop()
        if membership is not None:
            await membership.stop()
        if orphans is not None:
            await orphans.stop()
        await base.close()


async def _listen_for_wakes(worker: EventWorker, stop: asyncio.Event) -> None:
    """Read the server's wake bytes from stdin; end of file means the server is gone."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
        # A pipe, or a socket pair (what uvloop gives a child for stdin).
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            return  # started by hand: the bus and polling wake it
    except (OSError, ValueError):
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        data = await reader.read(64)
        if not data:
            stop.set()
            return
        worker.poke(outbox_changed=b"o" in data)

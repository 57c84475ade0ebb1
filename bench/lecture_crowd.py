"""A lecture's crowd (bench/lecture_load.py's `crowd`) in a process of its own, for benchmarks
whose crowd is too large to share an event loop with what it measures.

A thousand synthetic listeners keep one Python process busy: in the process of the front end
and the media agents (bench/lecture_nodes.py) they delay the agents' heartbeats and the front
end's keepalives with Janus until media nodes look lost. Here the crowd runs in a child
process (multiprocessing, spawn), which starts in the network namespace of the thread that
makes it, so it reaches the media nodes as the parent does. The parent commands it through a
pipe and gets plain values back:

    async with CrowdProcess(lecture, plan, clips, ready_within) as people:
        people.ready_s                         # seconds until every stream delivered media
        await people.reports(hear)             # what the listeners received, the presenter
                                               # sent, and the crowd's CPU
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import aioice.ice
import httpx

from bench.lecture_load import CrowdPlan, Lecture, LectureClips, crowd
from bench.pipe import pipe_answer
from tests.support.synthetic import ParticipantReport
from tests.support.synthetic.media import SocketDrain
from tests.support.synthetic.report import Hearing

CONSENT_MISSES = 30
"""Consent checks in a row a connection may miss before aioice closes it (its own: 6)."""


@dataclass(frozen=True)
class Snapshot:
    listeners: list[ParticipantReport]
    """What each listener received, counted at one instant, `at` (time.monotonic())."""
    presenter: ParticipantReport | None
    """What the presenter sent (and received) at the same instant."""
    hearing: list[Hearing | None]
    """Each listener's last second heard, decoded after the count (None when not asked)."""
    at: float
    cpu_s: float
    """The crowd process' CPU time at `at` (user and system, every thread)."""


class CrowdProcess:
    def __init__(
        self,
        lecture: Lecture,
        plan: CrowdPlan,
        clips: LectureClips,
        ready_within: float,
        uvloop: bool = False,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self._process = context.Process(
            target=_main,
            args=(child, lecture, plan, clips, ready_within, uvloop),
            name="bench-lecture-crowd",
            daemon=True,
        )
        self._ready_within = ready_within
        self._child = child
        self.ready_s = 0.0
        self.tones = clips.tones[: plan.speakers]

    @property
    def pid(self) -> int | None:
        return self._process.pid

    async def __aenter__(self) -> CrowdProcess:
        self._process.start()
        self._child.close()
        answer = await self._answer(self._ready_within + 30)
        self.ready_s = float(answer["ready_s"])
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with contextlib.suppress(Exception):
            self._control.send(("close", {}))
            await self._answer(60)
        await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 10)
        self._control.close()

    async def reports(self, hear: bool) -> Snapshot:
        """The listeners' reports now; with `hear`, their last second decoded for the tones."""
        self._control.send(("reports", {"hear": hear}))
        answer = await self._answer(120)
        keys = ("listeners", "presenter", "hearing", "at", "cpu_s")
        return Snapshot(*(answer[key] for key in keys))

    async def _answer(self, within_s: float) -> dict[str, Any]:
        return await pipe_answer(
            self._control,
            within_s,
            silent=f"the crowd did not answer within {within_s:.0f} s",
            failed="the crowd failed",
        )


def _main(
    control: Connection,
    lecture: Lecture,
    plan: CrowdPlan,
    clips: LectureClips,
    ready_within: float,
    use_uvloop: bool,
) -> None:
    # aioice checks consent (RFC 7675) every 5 s with one try that must be answered within
    # 0.5 s, and closes the connection after six misses in a row. While the crowd's own joins
    # keep both cores busy (a thousand DTLS handshakes, Janus at full load), the oldest
    # connections on aiortc's whole receive path, the speaker's among them, missed six in a
    # row and closed: an artefact of one machine playing crowd and servers, which browsers,
    # retransmitting their checks, would not have. Misses are tolerated for 2.5 minutes here.
    aioice.ice.CONSENT_FAILURES = CONSENT_MISSES
    work = _serve(control, lecture, plan, clips, ready_within)
    if use_uvloop:
        import uvloop

        uvloop.run(work)
    else:
        asyncio.run(work)


async def _serve(
    control: Connection, lecture: Lecture, plan: CrowdPlan, clips: LectureClips, ready_within: float
) -> None:
    try:
        started = time.monotonic()
        async with (
            httpx.AsyncClient(timeout=30) as http,
            crowd(http, lecture, plan, clips, ready_within) as people,
        ):
            control.send({"ready_s": time.monotonic() - started})
            while True:
                command, args = await asyncio.to_thread(control.recv)
                if command == "close":
                    break
                # Counted first, at one instant (the parent's clock: CLOCK_MONOTONIC is shared),
                # then heard: decoding takes a while, and packets go on arriving meanwhile.
                listeners = [p.report(hear=False) for p in people.listeners]
                presenter = people.presenter.report(hear=False) if people.presenter else None
                at, cpu_s = time.monotonic(), time.process_time()
                hearing = [
                    p.report(people.tones).hearing if args["hear"] else None
                    for p in people.listeners
                ]
                control.send(
                    {
                        "listeners": listeners,
                        "presenter": presenter,
                        "hearing": hearing,
                        "at": at,
                        "cpu_s": cpu_s,
                    }
                )
        control.send({"closed": True})
    except Exception as error:  # the parent reports it and stops
        failures = dict(SocketDrain.of(asyncio.get_running_loop()).failures)
        control.send({"failed": f"{type(error).__name__}: {error} (drain: {failures})"})

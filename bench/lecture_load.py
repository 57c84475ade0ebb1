"""A lecture's crowd of synthetic participants in one process (tests/support/synthetic), for
bench/lecture.py; run alone, it measures what the participants themselves cost.

    crowd(http, lecture, plan)       context manager: everybody joined, media flowing
    run_crowd(lecture, plan, hold)   the same, held `hold` seconds; returns every report
    make_clips(folder, ...)          the pre-encoded tones, webcam and screen (ffmpeg, once)

The presenter (a moderator) publishes the webcam and the screen and speaks with the first
clip, the other clips go to speakers, and listeners join listen-only by the chosen path
("bridge": a receive-only join of the AudioBridge, one encoder each on Janus; "stream": the
listen-only stream); the first `watchers` listeners (all of them by default) also receive the
webcam and the screen: from their listen-only stream when it carries them (seated on a relay
node: `relayed`, as the room client does), else by subscribing on the meeting's node. With
`presenting` false the publisher joins as a viewer: nobody presents, so relays carry the mix
alone and every watcher subscribes (how video reached relayed listeners before it was relayed).
The caller must already be in the network namespace sala's Janus offers media in
(tests/support/netns.py), and gives its address.

Run alone:

    .venv/bin/python -m bench.lecture_load [--listeners 50,100,200] [--path bridge]
        [--seconds 20] [--watch] [--json out.json]

needs root (a private network namespace, as bench/media.py), janus and ffmpeg. For each N it
starts a fresh `sala serve` (and its Janus) pinned to CPU 1, pins itself to CPU 0, fills a
meeting with N listeners and one speaker, and over `--seconds` of steady media reports this
process's CPU (per listener and per packet received), the listeners' packets and loss, and
Janus' and sala's CPU beside it. With --watch every listener also receives a webcam.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.api import machine, process_cpu, sala_revision
from bench.media import SECRET, children, janus_pid, signed, start_sala
from tests.support.netns import MEDIA_ADDRESS, private_network
from tests.support.synthetic import (
    EncodedClip,
    ListenPath,
    ParticipantReport,
    SyntheticParticipant,
    camera_argv,
    make,
    tone_argv,
)

TONES = (500.0, 800.0, 650.0, 950.0, 575.0, 725.0)
"""One tone per speaker (the presenter first): a listener's report tells whom it hears."""


@dataclass(frozen=True)
class Lecture:
    """Where the meeting is: sala's root URL, its API secret, the meeting (created already),
    and the address ICE must use (the namespace's)."""

    base: str
    secret: str
    meeting_id: str
    address: str = MEDIA_ADDRESS


@dataclass(frozen=True)
class LectureClips:
    voices: tuple[EncodedClip, ...]
    """Opus tones at TONES[i], the presenter's first."""
    camera: EncodedClip | None = None
    screen: EncodedClip | None = None

    @property
    def tones(self) -> tuple[float, ...]:
        return TONES[: len(self.voices)]


@dataclass(frozen=True)
class CrowdPlan:
    listeners: int
    path: ListenPath = "bridge"
    speakers: int = 1
    """Voices in the audio, the presenter's included (at most len(clips.voices))."""
    video: bool = True
    """The presenter publishes the webcam and screen clips there are."""
    watchers: int | None = None
    """Listeners who also receive the video (None: all of them)."""
    presenting: bool = True
    """The publisher is a moderator, so the presenter (relays carry its webcam); False: a
    viewer, and nobody presents (relays carry no webcam)."""
    joins_at_once: int = 8
    heard_by: int | None = None
    """Listeners whose mix goes through aiortc's receive path and can be heard (decoded when
    asked); the others count it at their ICE socket (tests/support/synthetic/media.py), which
    costs far less (their video too). None: every listener."""


def make_clips(
    folder: Path,
    voices: int = 3,
    camera: str | None = "640x360",
    screen: str | None = "1280x720",
    seconds: float = 10.0,
) -> LectureClips:
    """Encodes the lecture's clips once (blocking: call it from a thread in an event loop)."""
    folder.mkdir(parents=True, exist_ok=True)
    tones = []
    for frequency in TONES[:voices]:
        path = folder / f"voice-{int(frequency)}.ogg"
        make(tone_argv(path, frequency, seconds))
        tones.append(EncodedClip.load(path))
    camera_clip = screen_clip = None
    if camera:
        make(camera_argv(folder / "camera.ivf", seconds, size=camera, fps=15, bitrate="500k"))
        camera_clip = EncodedClip.load(folder / "camera.ivf")
    if screen:
        make(camera_argv(folder / "screen.ivf", seconds, size=screen, fps=5, bitrate="400k"))
        screen_clip = EncodedClip.load(folder / "screen.ivf")
    return LectureClips(tuple(tones), camera_clip, screen_clip)


@dataclass
class Crowd:
    presenter: SyntheticParticipant | None = None
    speakers: list[SyntheticParticipant] = field(default_factory=list)
    listeners: list[SyntheticParticipant] = field(default_factory=list)
    feeds: list[int] = field(default_factory=list)
    """The presenter's webcam and screen."""
    tones: tuple[float, ...] = ()

    @property
    def everybody(self) -> list[SyntheticParticipant]:
        first = [self.presenter] if self.presenter else []
        return [*first, *self.speakers, *self.listeners]

    def reports(self) -> list[ParticipantReport]:
        return [p.report(self.tones) for p in self.everybody]

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.everybody), return_exceptions=True)


@contextlib.asynccontextmanager
async def crowd(
    http: httpx.AsyncClient,
    lecture: Lecture,
    plan: CrowdPlan,
    clips: LectureClips,
    ready_within: float = 120.0,
) -> AsyncIterator[Crowd]:
    """Everybody joined and every stream delivering media; all of them leave afterwards."""
    people = Crowd(tones=clips.tones[: plan.speakers])
    gate = asyncio.Semaphore(plan.joins_at_once)

    async def join(name: str, role: str = "VIEWER", follow: bool = False) -> SyntheticParticipant:
        async with gate:
            return await SyntheticParticipant.join(
                http, lecture.base, lecture.secret, lecture.meeting_id, name,
                role=role, address=lecture.address, follow_feeds=follow, follow_roster=follow,
            )  # fmt: skip

    started = time.monotonic()
    listening: list[SyntheticParticipant] = []

    async def listener(i: int) -> None:
        participant = await join(f"Listener {i}")
        people.listeners.append(participant)
        if len(people.listeners) % 100 == 0:
            joined, elapsed = len(people.listeners), time.monotonic() - started
            print(f"  {joined} listeners joined after {elapsed:.0f} s", file=sys.stderr)
        async with gate:
            at_socket = plan.heard_by is not None and i >= plan.heard_by
            await participant.listen(plan.path, at_socket=at_socket)
            if plan.watchers is None or i < plan.watchers:
                # What the listen-only stream carries is shown from it; the rest is subscribed.
                carried = set((participant.relayed or {}).values())
                for feed in people.feeds:
                    if feed not in carried:
                        await participant.subscribe(feed, at_socket=at_socket)
        listening.append(participant)
        if len(listening) % 100 == 0:
            elapsed = time.monotonic() - started
            print(f"  {len(listening)} listening after {elapsed:.0f} s", file=sys.stderr)

    try:
        async with asyncio.timeout(ready_within):
            role = "MODERATOR" if plan.presenting else "VIEWER"
            people.presenter = await join("Presenter", role, follow=True)
            if plan.video:
                for kind, clip in (("camera", clips.camera), ("screen", clips.screen)):
                    if clip is not None:
                        people.feeds.append(await people.presenter.publish(clip, kind))
                        # Offered to others once Janus has its media: the presenter sees it too.
                        await people.presenter.wait_for_feeds(kind)
            if plan.speakers:
                await people.presenter.speak(clips.voices[0])
            for i in range(1, plan.speakers):
                speaker = await join(f"Speaker {i}")
                people.speakers.append(speaker)
                await speaker.speak(clips.voices[i])
            await asyncio.gather(*(listener(i) for i in range(plan.listeners)))
            await asyncio.gather(*(p.flowing() for p in people.everybody))
        yield people
    finally:
        await people.close()


async def run_crowd(
    lecture: Lecture, plan: CrowdPlan, clips: LectureClips, hold: float
) -> list[ParticipantReport]:
    """Starts the crowd, keeps it `hold` seconds once media flows everywhere, and returns what
    each participant received."""
    async with httpx.AsyncClient(timeout=30) as http, crowd(http, lecture, plan, clips) as people:
        await asyncio.sleep(hold)
        return people.reports()


# ------------------------------------------------------------------ measuring the crowd --
def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of a process and of its descendants on `cpus` (threads and processes they
    start later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task.name), cpus)
    for child in children(pid):
        pin(child, cpus)


def _received(reports: Sequence[ParticipantReport]) -> tuple[int, int]:
    return sum(r.packets for r in reports), sum(r.lost for r in reports)


async def measure(
    n: int, args: argparse.Namespace, workdir: Path, clips: LectureClips
) -> dict[str, Any]:
    data_dir = workdir / f"n{n}" / "data"
    data_dir.mkdir(parents=True)
    port = 18500 + n
    sala = await asyncio.to_thread(start_sala, data_dir, port)
    pin(sala.pid, {1})
    base = f"http://127.0.0.1:{port}"
    try:
        meeting_id = f"lecture-{uuid.uuid4()}"
        async with httpx.AsyncClient(timeout=30) as http:
            await http.get(signed(base, "create", {"name": "Lecture", "meetingID": meeting_id}))
            plan = CrowdPlan(listeners=n, path=args.path, speakers=1, video=args.watch)
            started = time.monotonic()
            async with crowd(http, Lecture(base, SECRET, meeting_id), plan, clips) as people:
                ready_s = time.monotonic() - started
                await asyncio.sleep(3.0)  # joins' after-effects settle
                janus = await asyncio.to_thread(janus_pid, data_dir)
                server = [
                    sala.pid,
                    *(p for p in await asyncio.to_thread(children, sala.pid) if p != janus),
                ]
                listeners = people.listeners
                before = _received([p.report(hear=False) for p in listeners])
                cpu0 = time.process_time(), process_cpu(janus), sum(process_cpu(p) for p in server)
                t0 = time.monotonic()
                await asyncio.sleep(args.seconds)
                wall = time.monotonic() - t0
                cpu1 = time.process_time(), process_cpu(janus), sum(process_cpu(p) for p in server)
                after = _received([p.report(hear=False) for p in listeners])
                heard = [p.report(people.tones).hearing for p in listeners]
    finally:
        sala.terminate()
        await asyncio.to_thread(sala.wait, 20)
    packets, lost = after[0] - before[0], after[1] - before[1]
    own = cpu1[0] - cpu0[0]
    return {
        "listeners": n,
        "path": args.path,
        "watch": args.watch,
        "ready_s": ready_s,
        "window_s": wall,
        "packets_per_s": packets / wall,
        "loss": lost / (packets + lost) if packets + lost else 0.0,
        "hearing_all": all(h is not None and h.rms > 0.05 for h in heard),
        "cpu": {
            "crowd": 100 * own / wall,
            "janus": 100 * (cpu1[1] - cpu0[1]) / wall,
            "sala": 100 * (cpu1[2] - cpu0[2]) / wall,
        },
        "per_listener_ms_per_s": 1000 * own / wall / n,
        "per_packet_us": 1e6 * own / packets if packets else float("nan"),
    }


def show(result: dict[str, Any]) -> None:
    cpu = result["cpu"]
    capacity = 1000 / result["per_listener_ms_per_s"]
    print(
        f"{result['listeners']:>5} {result['path']:>6} {'yes' if result['watch'] else 'no':>5}"
        f" {result['ready_s']:>7.1f} {result['packets_per_s']:>8.0f} {100 * result['loss']:>6.2f}"
        f" {'yes' if result['hearing_all'] else 'NO':>5} {cpu['crowd']:>6.1f}"
        f" {result['per_listener_ms_per_s']:>7.2f} {result['per_packet_us']:>6.0f}"
        f" {capacity:>8.0f} {cpu['janus']:>6.1f} {cpu['sala']:>5.1f}"
    )


async def amain(args: argparse.Namespace) -> int:
    counts = [int(c) for c in args.listeners.split(",")]
    print(f"command: {' '.join(sys.argv)}")
    info = await asyncio.to_thread(machine)
    print(f"sala: {sala_revision()}; machine: {info['cpus']} CPUs ({info['cpu_model']})")
    print("crowd pinned to CPU 0; sala and its Janus to CPU 1; CPU in % of one core\n")
    print(
        "    N   path watch ready_s  pkts/s loss% heard  crowd ms/s/l  us/pkt per-core  janus  sala"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="sala-bench-lecture-load-") as tmp:
        workdir = Path(tmp)
        clips = await asyncio.to_thread(
            make_clips, workdir / "clips", 1, "320x240" if args.watch else None, None
        )
        with private_network():
            # Threads inherit the namespace of the thread that makes them (bench/media.py).
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=4))
            pin(os.getpid(), {0})
            for n in counts:
                result = await measure(n, args, workdir, clips)
                show(result)
                results.append(result)
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", default="50,100,200")
    parser.add_argument("--path", choices=["bridge", "stream"], default="bridge")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--watch", action="store_true", help="every listener receives a webcam")
    parser.add_argument("--json")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

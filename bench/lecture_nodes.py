"""A listen-only lecture over two media nodes: where the listeners sit and what each node's
Janus costs, with every listener on the meeting's node and with half of them relayed to the
other node, side by side in one run.

    .venv/bin/python -m bench.lecture_nodes [--listeners 200] [--seconds 15] [--heard N]
        [--steps one,two] [--camera] [--spread] [--json out.json]

Needs root (network namespaces), janus and ffmpeg, and a quiet machine. Two real media nodes
(tests/support/media_nodes.py: each Janus in a network namespace of its own, beside the media
agent, heartbeating into an in-memory registry) and a front end (sala, in this process) that
places the meeting and seats its listeners. The lecture: one speaker playing a tone and N
synthetic listen-only listeners on the listen-only stream (tests/support/synthetic, through
bench/lecture_load.py's crowd), all in this process, which runs on CPU 0 while both Janus
processes run on CPU 1.

Two steps: "one node" (`media_listeners_per_node` >= N: every listener on the meeting's node)
and "two nodes" (N/2 per node: the meeting's node relays its mix over SRTP to the other node,
which takes the other half). Over `--seconds` of steady media each step reports the listeners
per node (sala's own seating record), each Janus' CPU (% of one core), the mix's packets each
listener received (of 50 a second), loss, how many heard the speaker, and getMeetingInfo's
listenerCount. The crowd's CPU includes the front end's and the agents' (one process).

A crowd of aiortc receivers costs this process about 2 ms of CPU a second per listener, so
more than about 400 do not fit beside two Janus on two cores. `--heard N` keeps aiortc's
receive path for the first N listeners only (they are the ones heard: their last second of
the mix is decoded for the speaker's tone); the others count the mix's packets at their own
ICE socket, by the RTP header SRTP leaves in clear, which proves the packets reached each of
them, in order and unlost, at a fraction of the cost. `--steps two` runs the two-node step
alone (one node's ICE port range holds 1,000 connections). `--spread` pins each Janus to a
CPU of its own and leaves this process to the scheduler, as when the nodes are two machines;
by default both Janus share CPU 1 and this process has CPU 0.

`--camera`: the speaker, the presenter, also publishes a webcam (the synthetic participant's
pre-encoded VP8, 640x360 at 15 fps and about 500 kbit/s, as bench/lecture.py's), and every
listener watches it: listeners seated on a relay node get it in their listen-only stream (the
relay carries the presenter's webcam; `relayed` in `media.listen.offer`), those on the meeting's
node subscribe to it in the VideoRoom there. Listeners count its packets, loss and frames as
they count the mix (at the socket beyond `--heard`: the relay's webcam stream by its own
payload type, a subscription on a connection of its own), and each step also reports how many
got the video, its packets a second received per listener against those the presenter sent,
and loss. With `--camera` the steps are by default the side by side of the relay's video:

- "relayed": every listener seated on the relay node (the meeting's node takes none: a
  benchmark-only seating, below), the webcam relayed in their listen-only stream, one forward
  from the meeting's node;
- "subscribed": the same listeners on the same relay node, the webcam published by a speaker
  who is not the presenter (a viewer, and nobody presents), so the relay carries the mix alone
  and every listener subscribes to the webcam in the meeting's VideoRoom: how relayed listeners
  watched before the relay carried video. Janus' CPU on the meeting's node in both, and the
  ratio, is what relaying the video saves there.

(`--steps one,two,relayed,subscribed` runs any of them; relayed and subscribed always have the
webcam.) The seating of those two steps puts every listener on the relay node, which sala itself
never does (`media_listeners_per_node` is at least 1 and the meeting's node fills first): the
benchmark replaces the seating rule in this process, so that the meeting's node serves only the
webcam's publisher, the speaker, and whatever video it sends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sala.media.relays
import sala.services
from bench.api import machine, process_cpu, sala_revision
from bench.lecture_crowd import CrowdProcess, Snapshot
from bench.lecture_load import CrowdPlan, Lecture, make_clips, pin
from sala.clock import Clock
from sala.cluster.directory import LocalDirectory
from sala.cluster.nodes import LocalRegistry
from sala.config import Settings, load_settings
from sala.media.runtime import MediaRuntime
from sala.media.seating import seat_node
from tests.room.conftest import RoomServer, serve_room
from tests.support.media_nodes import MediaNodeThread, NodeSettings, start_announced
from tests.support.netns import private_network
from tests.support.synthetic import ParticipantReport, Received

API_SECRET = "bench-lecture-nodes"
HEARD_RMS = 0.02
MIX_PACKETS_PER_S = 50
CAMERA = "640x360"
"""The webcam's picture (15 fps, about 500 kbit/s: bench/lecture_load.py's `make_clips`)."""
WATCHED = 0.95
"""A listener watched the webcam when it received at least this share of the packets sent."""


@dataclass(frozen=True)
class Step:
    """One lecture: its name, listeners a node, and how the webcam reaches the listeners."""

    name: str
    per_node: int
    camera: bool
    home_seats: bool = True
    """False: every listener on the relay node (`_relay_seating`)."""
    presenting: bool = True
    """False: the webcam's publisher does not present, so relays do not carry it."""


def steps(args: argparse.Namespace) -> list[Step]:
    n, camera = args.listeners, args.camera
    known = {
        "one": Step("one node", n, camera),
        "two": Step("two nodes", (n + 1) // 2, camera),
        "relayed": Step("webcam relayed", n, True, home_seats=False),
        "subscribed": Step("webcam subscribed", n, True, home_seats=False, presenting=False),
    }
    chosen = args.steps or ("relayed,subscribed" if camera else "one,two")
    return [known[name] for name in chosen.split(",")]


def _relay_seating(
    home: str, seated: Mapping[str, int], per_node: int, candidates: Any, placement: Any
) -> str:
    """sala's seating with the meeting's node counted full: listeners go to relay nodes."""
    return seat_node(home, {**seated, home: per_node}, per_node, candidates, placement)


@asynccontextmanager
async def front_end(
    registry: LocalRegistry, folder: Path, per_node: int, home_seats: bool = True
) -> AsyncIterator[RoomServer]:
    """sala placing meetings on the registry's media nodes, with `per_node` listeners a node;
    without `home_seats`, none on the meeting's node (`_relay_seating`)."""
    directory = LocalDirectory()

    def on_media_nodes(settings: Settings, clock: Clock, **_: object) -> MediaRuntime:
        return MediaRuntime(settings, clock, registry=registry, directory=directory)

    original = sala.services.MediaRuntime  # type: ignore[attr-defined]
    sala.services.MediaRuntime = on_media_nodes  # type: ignore[attr-defined,assignment]
    if not home_seats:
        sala.media.relays.seat_node = _relay_seating  # type: ignore[attr-defined]
    try:
        settings = load_settings(
            secret="bench",
            data_dir=folder,
            media=True,
            janus_api_secret=API_SECRET,
            media_listeners_per_node=per_node,
        )
        async with serve_room(settings) as server:
            yield server
    finally:
        sala.services.MediaRuntime = original  # type: ignore[attr-defined]
        sala.media.relays.seat_node = seat_node  # type: ignore[attr-defined]


async def step(
    plan_of: Step,
    args: argparse.Namespace,
    registry: LocalRegistry,
    nodes: dict[str, MediaNodeThread],
    workdir: Path,
    clips: Any,
) -> dict[str, Any]:
    name, per_node = plan_of.name, plan_of.per_node
    async with front_end(registry, workdir / name, per_node, plan_of.home_seats) as server:
        media_nodes = server.services.media.nodes
        assert media_nodes is not None
        meeting_id = f"lecture-{uuid.uuid4()}"
        await server.api("create", name="Lecture", meetingID=meeting_id)
        created = await server.api("getMeetingInfo", meetingID=meeting_id)
        internal = created.split("<internalMeetingID>")[1].split("</internalMeetingID>")[0]
        plan = CrowdPlan(
            listeners=args.listeners,
            path="stream",
            speakers=1,
            video=plan_of.camera,
            presenting=plan_of.presenting,
            heard_by=args.heard,
        )
        # The crowd's address: the hub's side of the first node, which both reach (the hub
        # routes).
        address = next(iter(nodes.values())).node.hub_address
        lecture = Lecture(server.base, server.secret, meeting_id, address)
        # About 15 joins a second: the crowd's own DTLS handshakes are most of a join's cost.
        # A webcam subscription is another connection, another handshake.
        ready_within = max(120.0, args.listeners / (2.5 if plan_of.camera else 5))
        async with CrowdProcess(lecture, plan, clips, ready_within) as people:
            if people.pid is not None and not args.spread:
                pin(people.pid, {0})
            await asyncio.sleep(3.0)  # the joins' after-effects settle
            placed = media_nodes.meeting(internal)
            assert placed is not None, "the meeting has no media"
            seated = placed.relays.seated()
            home = placed.node_id
            janus = {node_id: node.janus_pid for node_id, node in nodes.items()}
            before = await people.reports(hear=False)
            cpu0 = time.process_time(), {n: process_cpu(p) for n, p in janus.items() if p}
            t0 = time.monotonic()
            await asyncio.sleep(args.seconds)
            wall = time.monotonic() - t0
            cpu1 = time.process_time(), {n: process_cpu(p) for n, p in janus.items() if p}
            after = await people.reports(hear=True)
            counted_s = after.at - before.at
            info = await server.api("getMeetingInfo", meetingID=meeting_id)
        await server.api("end", meetingID=meeting_id)
    pairs = [(a.mix, b.mix) for a, b in zip(after.listeners, before.listeners, strict=True)]
    packets = sum(a.packets - b.packets for a, b in pairs if a and b)
    lost = sum(a.lost - b.lost for a, b in pairs if a and b)
    hearing = after.hearing
    heard_of = sum(1 for h in hearing if h is not None)
    heard_packets = sum(
        a.packets - b.packets
        for (a, b), h in zip(pairs, hearing, strict=True)
        if a and b and h is not None
    )
    return {
        "video": _video(before, after, counted_s) if plan_of.camera else None,
        "step": name,
        "listeners": args.listeners,
        "per_node": per_node,
        "home": home,
        "seated": seated,
        "ready_s": round(people.ready_s, 1),
        "window_s": round(wall, 1),
        "janus_cpu": {n: 100 * (cpu1[1][n] - cpu0[1][n]) / wall for n in cpu1[1]},
        "crowd_cpu": 100 * (after.cpu_s - before.cpu_s) / counted_s,
        "front_end_cpu": 100 * (cpu1[0] - cpu0[0]) / wall,
        "mix_delivery": packets / (counted_s * args.listeners * MIX_PACKETS_PER_S),
        "mix_delivery_heard": heard_packets / (counted_s * heard_of * MIX_PACKETS_PER_S)
        if heard_of
        else None,
        "loss": lost / (packets + lost) if packets + lost else 1.0,
        "heard": sum(1 for h in hearing if h is not None and h.rms > HEARD_RMS),
        "heard_of": heard_of,
        "lossless": sum(1 for a, b in pairs if a and b and a.lost == b.lost),
        "silent": sum(1 for a, b in pairs if a and b and a.packets == b.packets),
        "silent_heard": sum(
            1
            for (a, b), h in zip(pairs, hearing, strict=True)
            if a and b and h is not None and a.packets == b.packets
        ),
        "not_connected": sum(
            1 for r in after.listeners if any(v != "connected" for v in r.states.values())
        ),
        "listener_count": _count(info, "listenerCount"),
    }


def _video(before: Snapshot, after: Snapshot, counted_s: float) -> dict[str, Any]:
    """The webcam over the window: what the presenter sent, what each listener received."""
    sent = _sent(after.presenter) - _sent(before.presenter)
    got = [
        _minus(_watched(a), _watched(b))
        for a, b in zip(after.listeners, before.listeners, strict=True)
    ]
    packets = sum(g.packets for g in got)
    lost = sum(g.lost for g in got)
    frames = sum(g.frames for g in got)
    relayed = sum(1 for a in after.listeners if _relayed_camera(a) is not None)
    return {
        "sent_per_s": sent / counted_s,
        "received_per_s": packets / counted_s / len(got) if got else 0.0,
        "frames_per_s": frames / counted_s / len(got) if got else 0.0,
        "loss": lost / (packets + lost) if packets + lost else 1.0,
        "receiving": sum(1 for g in got if g.packets),
        "watched": sum(1 for g in got if sent and g.packets >= WATCHED * sent),
        "from_stream": relayed,
        "subscribed": sum(1 for a in after.listeners if a.videos),
    }


def _sent(presenter: ParticipantReport | None) -> int:
    return 0 if presenter is None else presenter.sent_rtp.get("camera", 0)


def _relayed_camera(report: ParticipantReport) -> Received | None:
    """The webcam in a listener's listen-only stream, if it carried any."""
    camera = report.relayed.get("camera")
    return camera if camera is not None and camera.packets else None


def _watched(report: ParticipantReport) -> Received:
    """The webcam as a listener received it, from its stream or subscribed (one of them)."""
    streams = [*report.videos.values(), report.relayed.get("camera")]
    return Received(
        kind="video",
        packets=sum(s.packets for s in streams if s),
        lost=sum(s.lost for s in streams if s),
        bytes=sum(s.bytes for s in streams if s),
        frames=sum(s.frames for s in streams if s),
    )


def _minus(after: Received, before: Received) -> Received:
    return Received(
        kind=after.kind,
        packets=after.packets - before.packets,
        lost=after.lost - before.lost,
        bytes=after.bytes - before.bytes,
        frames=after.frames - before.frames,
    )


def _count(xml: str, element: str) -> int | None:
    start, end = xml.find(f"<{element}>"), xml.find(f"</{element}>")
    return None if start < 0 or end < 0 else int(xml[start + len(element) + 2 : end])


def show(r: dict[str, Any]) -> None:
    home = r["home"]
    for node_id in sorted(r["janus_cpu"]):
        role = "meeting's node" if node_id == home else "other node"
        print(
            f"{r['step']:>17} {node_id:>8} {role:>15} {r['seated'].get(node_id, 0):>9}"
            f" {r['janus_cpu'][node_id]:>6.1f}"
        )
    video = r["video"]
    if video is not None:
        print(
            f"{'':>17} webcam: {video['receiving']}/{r['listeners']} listeners received it"
            f" ({video['from_stream']} from their listen-only stream, {video['subscribed']}"
            f" subscribed), {video['watched']} got >= {100 * WATCHED:.0f} % of it;"
            f" {video['received_per_s']:.1f} packets/s a listener of {video['sent_per_s']:.1f}"
            f" sent, {video['frames_per_s']:.1f} frames/s, loss {100 * video['loss']:.2f} %"
        )
    print(
        f"{'':>17} ready {r['ready_s']} s, mix {100 * r['mix_delivery']:.0f} %"
        f" ({_percent(r['mix_delivery_heard'])} for those heard), loss"
        f" {100 * r['loss']:.2f} %, heard {r['heard']}/{r['heard_of']}, listenerCount"
        f" {r['listener_count']}, crowd {r['crowd_cpu']:.1f} %, front end and agents"
        f" {r['front_end_cpu']:.1f} % of a core; {r['lossless']} listeners lost nothing,"
        f" {r['silent']} received nothing ({r['silent_heard']} of those heard),"
        f" {r['not_connected']} not connected"
    )


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="sala-bench-lecture-nodes-") as tmp:
        workdir = Path(tmp)
        camera = CAMERA if any(s.camera for s in steps(args)) else None
        clips = await asyncio.to_thread(make_clips, workdir / "clips", 1, camera, None)
        with private_network():
            # Threads inherit the namespace of the thread that makes them (bench/media.py).
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=4))
            values = [None if v == "default" else int(v) for v in args.event_loops.split(",")]
            for i, loops in enumerate(values):
                results += await _with_nodes(1 + 2 * i, loops, args, workdir, clips)
    return results


async def _with_nodes(
    first: int, loops: int | None, args: argparse.Namespace, workdir: Path, clips: Any
) -> list[dict[str, Any]]:
    """The steps on two fresh media nodes, numbered from `first`, whose Janus have `loops`
    event loops."""
    results = []
    registry = LocalRegistry()
    folder = workdir / f"loops-{loops}"
    # Each run's nodes are new machines of the private network: their links to the hub, and
    # so their numbers, are their own.
    started = [
        MediaNodeThread(NodeSettings(i, folder / f"node{i}", API_SECRET, loops), registry)
        for i in (first, first + 1)
    ]
    try:
        await start_announced(started, registry)
        if not args.spread:
            pin(os.getpid(), {0})
        for cpu, node in enumerate(started):
            if node.janus_pid is not None:
                pin(node.janus_pid, {cpu % 2} if args.spread else {1})
        nodes = {node.node_id: node for node in started}
        print(f"Janus event loops: {_loops(loops)}")
        print(f"{'step':>17} {'node':>8} {'role':>15} {'listeners':>9} {'Janus%':>6}")
        for plan in steps(args):
            result = await step(plan, args, registry, nodes, folder, clips)
            result["event_loops"] = loops
            show(result)
            results.append(result)
    finally:
        for node in started:
            await node.stop()
    return results


async def amain(args: argparse.Namespace) -> int:
    print(f"command: {' '.join(sys.argv)}")
    info = await asyncio.to_thread(machine)
    print(f"sala: {sala_revision()}; machine: {info['cpus']} CPUs ({info['cpu_model']})\n")
    results = await run(args)
    print()
    for r in results:
        total = sum(r["janus_cpu"].values())
        print(
            f"{r['step']}, event loops {_loops(r['event_loops'])}:"
            f" {total:.1f} % of a core in Janus for {args.listeners} listeners,"
            f" {10 * total / args.listeners:.2f} ms of CPU a second per listener"
        )
    for loops in dict.fromkeys(r["event_loops"] for r in results):
        done = {r["step"]: r for r in results if r["event_loops"] == loops}
        if "one node" in done and "two nodes" in done:
            relaying(args, loops, done["one node"], done["two nodes"])
        if "webcam relayed" in done and "webcam subscribed" in done:
            watching(args, loops, done["webcam relayed"], done["webcam subscribed"])
    for name in dict.fromkeys(r["step"] for r in results):
        runs = [r for r in results if r["step"] == name]
        if len(runs) == 2:
            first, second = (sum(r["janus_cpu"].values()) for r in runs)
            print(
                f"{name}: Janus with event loops {_loops(runs[1]['event_loops'])} used"
                f" {second / first:.2f}x the CPU of event loops {_loops(runs[0]['event_loops'])}"
            )
    return await _written(args, results)


def _percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{100 * fraction:.0f} %"


def _loops(value: int | None) -> str:
    return "default" if value is None else str(value)


def relaying(
    args: argparse.Namespace, loops: int | None, one: dict[str, Any], two: dict[str, Any]
) -> None:
    total_one, total_two = sum(one["janus_cpu"].values()), sum(two["janus_cpu"].values())
    home = two["home"]
    relay_node = next(n for n in two["janus_cpu"] if n != home)
    print(
        f"Event loops {_loops(loops)}: Janus CPU for {args.listeners} listeners:"
        f" {total_one:.1f} % on one node; {total_two:.1f} % over two"
        f" ({two['janus_cpu'][home]:.1f} % on the meeting's node,"
        f" {two['janus_cpu'][relay_node]:.1f} % on the relay node for"
        f" {two['seated'].get(relay_node, 0)} listeners): {total_two / total_one:.2f}x in total,"
        f" the meeting's node down to {two['janus_cpu'][home] / total_one:.2f}x"
    )


def watching(
    args: argparse.Namespace, loops: int | None, relayed: dict[str, Any], subscribed: dict[str, Any]
) -> None:
    """The side by side of the webcam relayed and subscribed, the same listeners on the relay
    node."""
    home = relayed["home"]
    by_relay, by_subscribing = relayed["janus_cpu"][home], subscribed["janus_cpu"][home]
    total_relayed = sum(relayed["janus_cpu"].values())
    total_subscribed = sum(subscribed["janus_cpu"].values())
    print(
        f"Event loops {_loops(loops)}: {args.listeners} listeners on the relay node watching"
        f" the webcam: the meeting's node's Janus {by_relay:.1f} % with the webcam relayed in"
        f" their stream, {by_subscribing:.1f} % with each subscribing there:"
        f" {_ratio(by_subscribing, by_relay)} the CPU subscribed; both Janus"
        f" {total_relayed:.1f} % against {total_subscribed:.1f} %"
        f" ({_ratio(total_subscribed, total_relayed)})"
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


async def _written(args: argparse.Namespace, results: list[dict[str, Any]]) -> int:
    if args.json:
        document = {"steps": results}
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(document, indent=2))
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--heard", type=int, help="listeners heard (default: all)")
    parser.add_argument(
        "--steps",
        help="of one, two, relayed, subscribed, comma-separated (default: one,two; with"
        " --camera: relayed,subscribed)",
    )
    parser.add_argument(
        "--camera", action="store_true", help="the presenter publishes a webcam; listeners watch"
    )
    parser.add_argument("--spread", action="store_true")
    parser.add_argument(
        "--event-loops", default="default", help="Janus' event loops per run: 0,1 or default"
    )
    parser.add_argument("--json")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args(argv)
    if args.uvloop:
        import uvloop

        return uvloop.run(amain(args))
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())

"""Lecture capacity: how many lecture participants one media node serves per core, with the
listen-only stream (one encode for every listener) and with the old per-listener bridge join,
side by side in one run; and what room signalling costs at 1,000 clients.

    .venv/bin/python -m bench.lecture [--listeners 25,50,100,150] [--seconds 15]
        [--audio-only] [--signalling 1000] [--json out.json]

Needs root (a private network namespace, as bench/media.py), janus and ffmpeg, and a quiet
machine. The lecture: a presenter publishing a webcam (640x360, 15 fps) and a screen (1280x720,
5 fps) and speaking, two more speakers, and N listeners who hear the mix and watch the webcam
and the screen (with --audio-only they only listen). Everybody is a synthetic participant
(tests/support/synthetic: sala's real join and room protocol, real WebRTC with Janus, media
pre-encoded so the crowd costs no encoder), all in this one process.

For each listen-only path and each N, a fresh `sala serve` (and its Janus) runs pinned to
CPU 1 and the crowd to CPU 0, so what sala and Janus use is measured apart from what drives
them. Over `--seconds` of steady media it reports Janus' and sala's CPU (in % of one core),
the packets the listeners received and lost, and whether every listener heard the speakers
(decoded level of the mix). A step is "sustained" when every listener heard the speakers, loss
is < 1 %, listeners received at least 95 % of the mix's 50 packets a second (an overloaded
AudioBridge sends fewer packets rather than losing numbered ones), and Janus + sala used < 80 %
of one core; a step whose joins fail is not sustained. Participants per core = (N + 3) /
(Janus + sala CPU in cores) at the largest sustained N; BBB's published figure is about 25
users per core. A path stops growing N once a step is not sustained, or once the crowd itself
saturates its core (then the node was not the limit, and the figure is a lower bound on the
node's capacity).

--signalling N then runs bench/room.py with N room clients in one meeting (the time until every
client has the whole roster, and chat fan-out latency), in its own process, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.api import machine, process_cpu, sala_revision
from bench.lecture_load import CrowdPlan, Lecture, LectureClips, crowd, make_clips, pin
from bench.media import SECRET, children, janus_pid, signed, start_sala
from tests.support.netns import private_network
from tests.support.synthetic import ListenPath

BBB_USERS_PER_CORE = 25
"""BBB's sizing guidance: about 200 users on an 8-core server."""
MAX_LOSS = 0.01
MAX_NODE_CPU = 80.0
CROWD_SATURATED = 92.0
"""Above this (% of its core) the crowd, not the node, may be what limits the step."""
SPEAKERS = 3
HEARD_RMS = 0.02
MIX_PACKETS_PER_S = 50
"""Opus frames of 20 ms: what each listener should receive of the mix every second."""
MIN_DELIVERY = 0.95
"""An overloaded AudioBridge sends fewer mix packets rather than losing numbered ones, so a
step is also not sustained when listeners receive less than this share of them."""


async def measure(
    path: ListenPath, n: int, args: argparse.Namespace, workdir: Path, clips: LectureClips
) -> dict[str, Any]:
    """One lecture of `n` listeners on `path`, on a fresh sala and Janus."""
    data_dir = workdir / f"{path}-{n}" / "data"
    data_dir.mkdir(parents=True)
    port = 18700 + n + (0 if path == "stream" else 3000)
    sala = await asyncio.to_thread(start_sala, data_dir, port)
    pin(sala.pid, {1})
    base = f"http://127.0.0.1:{port}"
    try:
        meeting_id = f"lecture-{uuid.uuid4()}"
        async with httpx.AsyncClient(timeout=30) as http:
            await http.get(signed(base, "create", {"name": "Lecture", "meetingID": meeting_id}))
            plan = CrowdPlan(
                listeners=n,
                path=path,
                speakers=SPEAKERS,
                video=not args.audio_only,
            )
            started = time.monotonic()
            async with crowd(http, Lecture(base, SECRET, meeting_id), plan, clips) as people:
                ready_s = time.monotonic() - started
                await asyncio.sleep(3.0)  # the joins' after-effects settle
                janus = await asyncio.to_thread(janus_pid, data_dir)
                server = [
                    sala.pid,
                    *(p for p in await asyncio.to_thread(children, sala.pid) if p != janus),
                ]
                before = [p.report(hear=False) for p in people.listeners]
                cpu0 = time.process_time(), process_cpu(janus), sum(process_cpu(p) for p in server)
                t0 = time.monotonic()
                await asyncio.sleep(args.seconds)
                wall = time.monotonic() - t0
                cpu1 = time.process_time(), process_cpu(janus), sum(process_cpu(p) for p in server)
                after = [p.report(people.tones) for p in people.listeners]
                info = (
                    await http.get(signed(base, "getMeetingInfo", {"meetingID": meeting_id}))
                ).text
    finally:
        sala.terminate()
        await asyncio.to_thread(sala.wait, 20)
    audio = _window(before, after, audio=True)
    video = _window(before, after, audio=False)
    packets = audio[0] + video[0]
    lost = audio[1] + video[1]
    janus_cpu = 100 * (cpu1[1] - cpu0[1]) / wall
    sala_cpu = 100 * (cpu1[2] - cpu0[2]) / wall
    crowd_cpu = 100 * (cpu1[0] - cpu0[0]) / wall
    heard = sum(1 for r in after if r.hearing is not None and r.hearing.rms > HEARD_RMS)
    loss = lost / (packets + lost) if packets + lost else 1.0
    delivery = audio[0] / (wall * n * MIX_PACKETS_PER_S)
    return {
        "path": path,
        "listeners": n,
        "participants": n + SPEAKERS,
        "ready_s": round(ready_s, 1),
        "window_s": round(wall, 1),
        "audio_packets_per_s": round(audio[0] / wall),
        "video_packets_per_s": round(video[0] / wall),
        "loss": loss,
        "mix_delivery": delivery,
        "heard": heard,
        "counted": _count(info, "participantCount"),
        "listeners_counted": _count(info, "listenerCount"),
        "cpu": {"janus": janus_cpu, "sala": sala_cpu, "crowd": crowd_cpu},
        "sustained": loss < MAX_LOSS
        and delivery >= MIN_DELIVERY
        and janus_cpu + sala_cpu < MAX_NODE_CPU
        and heard == n,
        "crowd_bound": crowd_cpu >= CROWD_SATURATED,
    }


def _window(before: list[Any], after: list[Any], *, audio: bool) -> tuple[int, int]:
    """Packets received and lost by the listeners between two snapshots."""

    def streams(report: Any) -> list[Any]:
        if audio:
            return [report.mix] if report.mix is not None else []
        return list(report.videos.values())

    packets = lost = 0
    for old, new in zip(before, after, strict=True):
        for s in streams(new):
            packets += s.packets
            lost += s.lost
        for s in streams(old):
            packets -= s.packets
            lost -= s.lost
    return packets, lost


def _count(xml: str, element: str) -> int | None:
    start = xml.find(f"<{element}>")
    end = xml.find(f"</{element}>")
    if start < 0 or end < 0:
        return None
    return int(xml[start + len(element) + 2 : end])


def show(r: dict[str, Any]) -> None:
    cpu = r["cpu"]
    node = cpu["janus"] + cpu["sala"]
    per_core = r["participants"] / (node / 100) if node > 0 else float("nan")
    flags = "ok" if r["sustained"] else "NOT sustained"
    if r["crowd_bound"]:
        flags += ", crowd-bound"
    print(
        f"{r['path']:>6} {r['listeners']:>5} {r['ready_s']:>7.1f} {r['audio_packets_per_s']:>8}"
        f" {r['video_packets_per_s']:>8} {100 * r['loss']:>6.2f} {100 * r['mix_delivery']:>5.0f}"
        f" {r['heard']:>5}"
        f" {r['counted']!s:>6} {cpu['janus']:>6.1f} {cpu['sala']:>5.1f} {node:>6.1f}"
        f" {cpu['crowd']:>6.1f} {per_core:>8.0f}  {flags}"
    )


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest sustained lecture per path, its participants per core, and the CPU ratio of
    the two paths at the largest N both sustained."""
    out: dict[str, Any] = {"bbb_users_per_core": BBB_USERS_PER_CORE}
    for path in ("stream", "bridge"):
        ok = [r for r in results if r["path"] == path and r.get("sustained")]
        if ok:
            best = max(ok, key=lambda r: r["listeners"])
            node = best["cpu"]["janus"] + best["cpu"]["sala"]
            out[path] = {
                "largest_participants": best["participants"],
                "node_cpu": node,
                "participants_per_core": best["participants"] / (node / 100),
                "crowd_bound": best["crowd_bound"],
            }
    both = {r["listeners"] for r in results if r["path"] == "stream" and r.get("sustained")} & {
        r["listeners"] for r in results if r["path"] == "bridge" and r.get("sustained")
    }
    if both:
        n = max(both)
        cpu = {
            r["path"]: r["cpu"]["janus"] + r["cpu"]["sala"] for r in results if r["listeners"] == n
        }
        out["same_n"] = {"listeners": n, **cpu, "bridge_over_stream": cpu["bridge"] / cpu["stream"]}
    return out


async def lectures(args: argparse.Namespace) -> list[dict[str, Any]]:
    counts = [int(c) for c in args.listeners.split(",")]
    results: list[dict[str, Any]] = []
    print("sala and its Janus pinned to CPU 1, the crowd to CPU 0; CPU in % of one core")
    print(
        "  path     N ready_s audio/s  video/s loss%  mix% heard  count  janus  sala   node"
        "  crowd per-core"
    )
    with tempfile.TemporaryDirectory(prefix="sala-bench-lecture-") as tmp:
        workdir = Path(tmp)
        clips = await asyncio.to_thread(
            make_clips,
            workdir / "clips",
            SPEAKERS,
            None if args.audio_only else "640x360",
            None if args.audio_only else "1280x720",
        )
        with private_network():
            # Threads inherit the namespace of the thread that makes them (bench/media.py).
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=4))
            pin(os.getpid(), {0})
            paths: tuple[ListenPath, ...] = ("stream", "bridge")
            for path in paths:
                for n in counts:
                    try:
                        result = await measure(path, n, args, workdir, clips)
                    except Exception as exc:  # the node gave way: that step is not sustained
                        print(f"{path:>6} {n:>5}  failed: {exc!r}")
                        results.append({"path": path, "listeners": n, "error": repr(exc)})
                        break
                    show(result)
                    results.append(result)
                    if not result["sustained"] or result["crowd_bound"]:
                        break
    return results


async def amain(args: argparse.Namespace) -> int:
    print(f"command: {' '.join(sys.argv)}")
    info = await asyncio.to_thread(machine)
    print(f"sala: {sala_revision()}; machine: {info['cpus']} CPUs ({info['cpu_model']})\n")
    results = await lectures(args)
    total = summary(results)
    print()
    for path in ("stream", "bridge"):
        if path in total:
            s = total[path]
            bound = " (the crowd was the limit: a lower bound)" if s["crowd_bound"] else ""
            print(
                f"{path}: largest sustained lecture {s['largest_participants']} participants at"
                f" {s['node_cpu']:.1f}% of a core: {s['participants_per_core']:.0f} per core,"
                f" {s['participants_per_core'] / BBB_USERS_PER_CORE:.1f}x BBB's"
                f" ~{BBB_USERS_PER_CORE}{bound}"
            )
    if "same_n" in total:
        same = total["same_n"]
        print(
            f"same lecture ({same['listeners']} listeners): Janus + sala {same['stream']:.1f}%"
            f" with the stream, {same['bridge']:.1f}% with per-listener encoding:"
            f" {same['bridge_over_stream']:.2f}x"
        )
    if args.signalling:
        print(f"\nroom signalling: bench/room.py --clients {args.signalling}", flush=True)
        room = [sys.executable, "-m", "bench.room", "--clients", str(args.signalling)]
        await asyncio.to_thread(subprocess.run, room, check=False)
    if args.json:
        document = {"lectures": results, "summary": total}
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(document, indent=2))
        print(f"\nwrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", default="25,50,100,150,200")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--audio-only", action="store_true")
    parser.add_argument("--signalling", type=int, default=0, help="room clients, e.g. 1000")
    parser.add_argument("--json")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

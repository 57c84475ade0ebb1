"""Media: N Chromium participants in one meeting; what sala costs next to Janus, and how fast
people hear and see each other.

    .venv/bin/python -m bench.media [--participants 2,4,6] [--seconds 20] [--json out.json]

Needs root (a private network namespace, as in tests/e2e: Janus ignores loopback interfaces,
so sala, Janus and Chromium share a veth holding 127.0.0.2 and nothing leaves the namespace),
and the packages scripts/install-test-deps installs (janus, chromium, espeak-ng).

For each N, a fresh `sala serve` (with its own Janus) gets one meeting, and N participants join
one after another from one Chromium with fake devices (speech from espeak-ng on the microphone,
the fake 640x480 camera), each joining the audio with the microphone and sharing its webcam
(userdata-bbb_auto_join_audio, bbb_auto_share_webcam, no checks). For each joiner the page
itself records, on its own clock (performance.now(), from navigation start):

- `load`: the page's load event;
- `audio`: the audio connection is up and bytes of the mix arrive;
- `frame`: a frame of every webcam already published has been decoded (joiners after the first).

`after load` is frame - load: the target is at most 1 s on loopback. Then, with everybody in,
the CPU of sala (the server and its worker child) and of Janus is sampled from /proc over
`--seconds`: the target is sala at most 10% of Janus. Chromium's own CPU is printed too: on a
2-core machine it is what limits N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

from bench.api import machine, process_cpu, sala_revision, top_frames
from sala import checksums as checksum
from tests.support.netns import private_network

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-media-secret"
SPEECH = (
    "Good morning everybody. Today we measure how quickly people hear and see each other "
    "in a conference, and what it costs the server that carries it."
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
USERDATA = {
    "userdata-bbb_auto_join_audio": "true",
    "userdata-bbb_listen_only_mode": "false",
    "userdata-bbb_skip_check_audio": "true",
    "userdata-bbb_auto_share_webcam": "true",
    "userdata-bbb_skip_video_preview": "true",
}
# Runs in the page: resolves with performance.now() once `wanted` webcams show decoded frames
# and the audio carries bytes; polls salaMedia.stats() every 25 ms, gives up after 30 s.
TIMINGS_JS = """
async (wanted) => {
  const found = { load: performance.getEntriesByType("navigation")[0].loadEventEnd };
  const start = performance.now();
  while (performance.now() - start < 30000 && !(found.audio && found.frame)) {
    const s = await window.salaMedia.stats();
    if (!found.audio && s.audio && s.audio.state === "connected" && s.audio.bytesIn > 0)
      found.audio = performance.now();
    const cams = Object.values(s.feeds).filter((f) => f.kind === "camera" && f.framesDecoded > 0);
    if (!found.frame && cams.length >= wanted) found.frame = performance.now();
    await new Promise((r) => setTimeout(r, 25));
  }
  return found;
}
"""


def signed(base: str, call: str, params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    query = urlencode(params)
    digest = checksum.compute(call, query, SECRET, "sha1")
    return f"{base}/bigbluebutton/api/{call}?{query}&checksum={digest}"


def start_sala(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SALA_DATA_DIR": str(data_dir),
        "SALA_SECRET": SECRET,
        "SALA_LOG_LEVEL": "warning",
        "SALA_MEDIA": "true",
        "SALA_MEDIA_IP": "127.0.0.2",
    }
    log = (data_dir.parent / "sala.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "sala", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("sala did not start")


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def janus_pid(data_dir: Path) -> int:
    found = subprocess.run(
        ["pgrep", "-f", f"janus -F {data_dir / 'janus'}"], capture_output=True, text=True
    )
    return int(found.stdout.split()[0])


def versions() -> tuple[str, str]:
    janus = subprocess.run(["janus", "--version"], capture_output=True, text=True)
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
    return janus.stdout.split("\n")[0], chromium.stdout.strip()


def chromium_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if "chromium" in (entry / "comm").read_text():
                    total += process_cpu(int(entry.name))
            except OSError:
                continue
    return total


async def run_n(
    browser: Browser, n: int, seconds: float, workdir: Path, profile: Path | None
) -> dict[str, Any]:
    data_dir = workdir / f"n{n}" / "data"
    data_dir.mkdir(parents=True)
    port = 18000 + n
    sala = await asyncio.to_thread(start_sala, data_dir, port)
    base = f"http://127.0.0.1:{port}"
    pages: list[Page] = []
    try:
        meeting_id = f"bench-{uuid.uuid4()}"
        create = signed(base, "create", {"name": "Bench", "meetingID": meeting_id})
        await asyncio.to_thread(httpx.get, create, timeout=10)
        joins = []
        for i in range(n):
            context = await browser.new_context()
            page = await context.new_page()
            params = {"meetingID": meeting_id, "fullName": f"P{i}", "role": "MODERATOR"}
            params.update(USERDATA)
            await page.goto(signed(base, "join", params))
            await page.wait_for_function("window.salaMedia !== undefined")
            found = await page.evaluate(TIMINGS_JS, i)
            pages.append(page)
            joins.append({"participant": i, **found})
            await asyncio.sleep(1.0)
        await asyncio.sleep(3.0)  # everybody's subscriptions settle
        janus = await asyncio.to_thread(janus_pid, data_dir)
        workers = [p for p in await asyncio.to_thread(children, sala.pid) if p != janus]
        t0 = time.monotonic()
        server0 = process_cpu(sala.pid)
        workers0 = sum(process_cpu(p) for p in workers)
        janus0 = process_cpu(janus)
        chromium0 = chromium_cpu()
        if profile:
            spy = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "py-spy"), "record",
                "--pid", str(sala.pid), "--duration", str(int(seconds)), "--rate", "1000",
                "--format", "raw", "--output", str(profile / f"n{n}.folded"), "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        await asyncio.sleep(seconds)
        wall = time.monotonic() - t0
        server_pct = 100 * (process_cpu(sala.pid) - server0) / wall
        worker_pct = 100 * (sum(process_cpu(p) for p in workers) - workers0) / wall
        sala_pct = server_pct + worker_pct
        if profile:
            await spy.wait()
        janus_pct = 100 * (process_cpu(janus) - janus0) / wall
        chromium_pct = 100 * (chromium_cpu() - chromium0) / wall
    finally:
        for page in pages:
            await page.context.close()
        sala.terminate()
        await asyncio.to_thread(sala.wait, 20)
    return {
        "participants": n,
        "joins": joins,
        "cpu": {
            "sala": sala_pct,
            "server": server_pct,
            "worker": worker_pct,
            "janus": janus_pct,
            "chromium": chromium_pct,
        },
    }


def report(result: dict[str, Any]) -> None:
    n = result["participants"]
    cpu = result["cpu"]
    ratio = cpu["sala"] / cpu["janus"] if cpu["janus"] else float("inf")
    print(f"\n{n} participants")
    print(f"  {'joiner':>6} {'load ms':>8} {'audio ms':>9} {'frame ms':>9} {'after load':>11}")
    after = []
    for j in result["joins"]:
        frame = j.get("frame")
        gap = frame - j["load"] if frame and j["participant"] > 0 else None
        if gap is not None:
            after.append(gap)
        print(
            f"  {j['participant']:>6} {j['load']:>8.0f} {j.get('audio', float('nan')):>9.0f} "
            f"{(frame if j['participant'] > 0 and frame else float('nan')):>9.0f} "
            f"{(gap if gap is not None else float('nan')):>11.0f}"
        )
    if after:
        worst = max(after)
        verdict = "HOLDS" if worst <= 1000 else "DOES NOT HOLD"
        print(
            f"  first frame after load: median {statistics.median(after):.0f} ms,"
            f" worst {worst:.0f} ms (target <= 1000 ms) -> {verdict}"
        )
    print(
        f"  cpu over the steady window (% of one core): sala {cpu['sala']:.1f}"
        f" (server {cpu['server']:.1f}, delivery worker {cpu['worker']:.1f}),"
        f" Janus {cpu['janus']:.1f}, Chromium (all participants) {cpu['chromium']:.0f}"
    )
    verdict = "HOLDS" if ratio <= 0.10 else "DOES NOT HOLD"
    print(f"  sala / Janus = {ratio:.2f} (target <= 0.10) -> {verdict}")


async def amain(args: argparse.Namespace) -> int:
    counts = [int(c) for c in args.participants.split(",")]
    print(f"command: {' '.join(sys.argv)}")
    info = await asyncio.to_thread(machine)
    janus, chromium = await asyncio.to_thread(versions)
    print(f"sala: {sala_revision()}, SQLite; {janus}; {chromium}")
    print(f"machine: {info['cpus']} CPUs ({info['cpu_model']}), Linux {info['kernel']}")
    results = []
    with tempfile.TemporaryDirectory(prefix="sala-bench-media-") as tmp:
        workdir = Path(tmp)
        wav = workdir / "speech.wav"
        await asyncio.to_thread(
            subprocess.run, ["espeak-ng", "-s", "150", "-w", str(wav), SPEECH], check=True
        )
        with private_network():
            # Threads inherit the namespace of the thread that creates them: the default
            # executor's were made outside, and sala started from one would not be reachable.
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=4))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={wav}"],
                )
                try:
                    for n in counts:
                        result = await run_n(browser, n, args.seconds, workdir, args.profile)
                        report(result)
                        if args.profile:
                            for frame, share in top_frames(args.profile / f"n{n}.folded", 15):
                                print(f"    {share:5.1f}%  {frame}")
                        results.append(result)
                finally:
                    await browser.close()
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", default="2,4,6")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json")
    parser.add_argument("--profile", type=Path, help="py-spy the server into this directory")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

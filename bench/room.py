"""Room fan-out: N WebSocket clients in one meeting; chat delivery latency, memory and CPU.

    .venv/bin/python -m bench.room [--clients 50,200,500] [--rate 10] [--duration 10]
        [--warmup 2] [--idle 5] [--senders N] [--join-concurrency 20] [--join-client raw|httpx]
        [--ping-interval 20]
        [--no-deflate] [--loop uvloop|asyncio] [--profile DIR] [--watch-server-gc]
        [--pollers N [--api-concurrency 0,2,8,16]] [--json out.json] [--keep]
        [--hello-version 3] [--server-tree DIR]

For each client count N, in order, on a fresh `sala serve` (its own SQLite data dir):

1. Creates one meeting and reads the server's RSS (VmRSS in /proc/<pid>/status).
2. Joins N clients, `--join-concurrency` at a time, each like a browser: the checksummed API
   `join` (302) -> `/room/join?sessionToken=...` (303 + `sala_room` cookie; both on one
   keep-alive HTTP/1.1 connection per join worker, raw asyncio streams, or with
   `--join-client httpx` through httpx as before: 73-76 % of a core for this process while
   1,000 clients joined, against 42-43 % raw, CPU a 2-core machine's server then lacks) -> WebSocket
   `/room/ws` with that cookie -> `{"type":"hello","version":1}` -> waits for `welcome`. Client 0
   is a moderator, the rest viewers. Every client is a real WebSocket connection owned by this
   process (websockets' asyncio client, permessage-deflate offered as browsers do unless
   --no-deflate), read continuously from the moment it opens, and sends `{"type":"ping"}` every
   --ping-interval seconds as the browser client does (the server drops connections silent for
   60 s). Once the room is quiet the RSS is read again: (after - before) / N is the memory per
   connected client, one-time costs (the room itself, first-use allocations) included.
3. Idle window (--idle s): server CPU with everybody connected and only pings flowing; that
   rate is subtracted for the "net" CPU figures.
4. Warm-up (--warmup s), then the measured window (--duration s): public chat messages at
   --rate per second in total, on an absolute schedule, round-robin over --senders clients so
   that each stays under the server's per-connection limits (chat 3/s burst 10, all messages
   20/s burst 40). Each text is `bench <seq> <time.monotonic() at send>`; every client's reader
   takes time.monotonic() as soon as a message is handed to it, so a latency is one clock in one
   process. The window closes when every client has every measured message (or --drain s
   after the last send). Latency figures: per recipient (each delivery to a client other than
   the sender) and "everybody" (per message, the last of the N-1 deliveries), p50/p99/max.
   Joining ends, for the "roster" figure, once every client sees the whole meeting: each client
   keeps the roster as the browser does (the welcome's `users`, then `users.delta`/`users.reset`
   with protocol version 3, or `user.joined`/`user.left` with versions 1 and 2) and the time
   from the first join to the moment the last client's roster holds all N is "roster"; the
   frames each client received while joining are counted (an O(N²) protocol gives each ~N).
5. Checks: every client must receive every message exactly once (losses and duplicates are
   counted, the sender's own echo separately), no `error` message may arrive, and no
   connection may close before the teardown (each one's close code is kept).

A polling storm (--pollers N): integrations poll in closed loops, and the API shares the rooms'
event loop. N pollers run from the start of the warm-up to the end of the measured window, each
sending `getMeetingInfo` for the room's meeting (the same signed URL every time, as an
integration polling one meeting does) on a keep-alive HTTP/1.1 connection of its own and the next
request as soon as the answer is in. They run in a process of their own (multiprocessing, spawn:
its own event loop, raw sockets over loopback), so the room clients' readers here do not share a
loop with them; the machine's cores they do share, and that process's CPU is reported ("pollers")
and not counted as "other". It stops when told, and in any case after warm-up + duration + twice
--drain + 30 s. Polls/s and poll latency p50/p99/max are over the answers that ended inside the
measured window; an answer that is not HTTP 200 with SUCCESS is a failure and fails the run.
--api-concurrency LIST compares server settings under the storm: for each client count a fresh
server without pollers (SALA_API_CONCURRENCY as inherited: sala's default), then one fresh server
per value with SALA_API_CONCURRENCY set to it (0: no admission control) and the pollers; a last
table puts them side by side with "x p99", the p99 with pollers over the p99 without (per
recipient and everybody). Without --api-concurrency, --pollers runs each client count once, with
pollers. Without either option the runs and the output are as before.

--hello-version V says that version in `hello` (3 by default: snapshot + batched deltas; 2 or 1
for the per-change messages). --server-tree DIR runs `python -m sala` from another checkout (for
instance `git archive <base> | tar -x -C DIR`, with its built client copied in), so that the old
code is measured by the same generator in the same session; it then needs --hello-version 2.

CPU per message is the server's utime+stime (/proc/<pid>/stat, all threads, plus its child
processes: `sala serve` runs a `sala worker` child for webhook delivery) over the measured window
divided by messages sent and by chat frames delivered (N per message, the sender's echo
included: the server writes all of them); the main process's share is shown separately. This
process's CPU and the whole machine's (/proc/stat) are sampled over the same window, so a reader
can tell whether the load generator kept up (its CPU share, its send lag) and whether something
else was using the machine ("other"). Latency measured here includes this process's own
scheduling of N reader tasks (its GC pauses in the window are reported).

--profile DIR runs `py-spy record` on the server for the measured window (raw collapsed stacks
in DIR) and prints the functions with the most samples, self and inclusive; sampling slows the
server, so profiled figures are not the headline ones. --watch-server-gc starts the server as
`python -c <bootstrap> serve ...`: sala's own `main` behind a gc callback that logs each
collection of generation 2 (or over 2 ms) with its CLOCK_MONOTONIC time, and reports those that
fell in the measured window. Per-message first/median/last delivery times are in the JSON
(`timeline`, with `window_start_monotonic`) to line stalls up with such traces.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import math
import multiprocessing
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

HOST = "127.0.0.1"
SECRET = "bench-room-secret-0123456789abcdef"
REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGET_CLIENTS = 500
TARGET_RATE = 10.0
TARGET_P99_MS = 100.0
CHAT_LIMIT_PER_S = 3.0  # sala/room/limits.py: USER_CHATS, Rate(3, 10) per user
SENDER_RATE = 2.0  # what one sender is given by default, safely under CHAT_LIMIT_PER_S
MAX_POLLERS = 500  # closed loops, each a connection of its own
OTHER_PCT = 15.0  # busy CPU outside server + this process above this: the machine was shared

STARTUP_TIMEOUT = 60.0
WELCOME_TIMEOUT = 60.0
QUIET_S = 1.0  # the room counts as settled after this long without any frame arriving
SETTLE_TIMEOUT = 120.0
HELLO = json.dumps({"type": "hello", "version": 3})
ROSTER_TIMEOUT = 120.0
PING = json.dumps({"type": "ping"})
TEXT_RE = re.compile(r"^bench (\d+) ([0-9.]+)$")

clock: Callable[[], float] = time.monotonic


# --------------------------------------------------------------------------------- /proc ----
def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process, all its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (sala serve starts a `sala worker` child)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, ()))
    return tree


def tree_cpu_s(pid: int) -> dict[int, float]:
    cpu = {}
    for member in process_tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            cpu[member] = proc_cpu_s(member)
    return cpu


def proc_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def machine_busy_s() -> tuple[float, float]:
    """Busy and steal CPU seconds of the whole machine, all cores.

    Busy is everything but idle, iowait and steal (time the hypervisor gave to someone else).
    """
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice; guest is inside user.
    steal = values[7] if len(values) > 7 else 0
    return (sum(values[:7]) - values[3] - values[4]) / CLK_TCK, steal / CLK_TCK


@dataclass
class CpuSample:
    wall: float
    server: dict[int, float]  # the server and its children, per PID
    server_pid: int
    me: float
    machine: float
    steal: float

    @classmethod
    def take(cls, server_pid: int) -> CpuSample:
        busy, steal = machine_busy_s()
        server = tree_cpu_s(server_pid)
        return cls(clock(), server, server_pid, proc_cpu_s(os.getpid()), busy, steal)

    @property
    def server_main(self) -> float:
        return self.server.get(self.server_pid, 0.0)


@dataclass
class CpuWindow:
    wall_s: float
    server_s: float  # the server process and its children
    main_s: float  # the server process alone (the event loop with the rooms, and its threads)
    me_s: float
    other_s: float
    steal_s: float

    @classmethod
    def between(cls, a: CpuSample, b: CpuSample, extra_pids_s: float = 0.0) -> CpuWindow:
        server = sum(cpu - a.server.get(pid, 0.0) for pid, cpu in b.server.items())
        me = b.me - a.me
        other = max(0.0, b.machine - a.machine - server - me - extra_pids_s)
        main = b.server_main - a.server_main
        return cls(b.wall - a.wall, server, main, me, other, b.steal - a.steal)

    def pct(self, seconds: float) -> float:
        return 100.0 * seconds / self.wall_s if self.wall_s > 0 else 0.0


class GcWatch:
    """This process's garbage collections while active: a pause here delays every reader."""

    def __init__(self) -> None:
        self.active = False
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.active:
            self.pauses.append(time.perf_counter() - self._started)


GC_WATCH = GcWatch()


# ---------------------------------------------------------------------------------- server --
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def signed(base: str, call: str, params: Sequence[tuple[str, str]]) -> str:
    """An API URL with its SHA-1 checksum over the query as sent (bbb-api.md §1.3)."""
    query = urlencode(params)
    digest = hashlib.sha1(f"{call}{query}{SECRET}".encode()).hexdigest()
    return f"{base}/bigbluebutton/api/{call}?{query}&checksum={digest}"


# --watch-server-gc: sala's own `main`, started after a gc callback that logs every collection
# of generation 2, or longer than 2 ms, as "<CLOCK_MONOTONIC> <generation> <seconds>".
GC_BOOT = """
import gc, os, sys, time
log = open(os.environ["BENCH_SERVER_GC_LOG"], "w", buffering=1)
started = [0.0]
def watch(phase, info):
    if phase == "start":
        started[0] = time.perf_counter()
        return
    took = time.perf_counter() - started[0]
    if info["generation"] == 2 or took > 0.002:
        log.write(f"{time.monotonic():.6f} {info['generation']} {took:.6f}\\n")
gc.callbacks.append(watch)
from sala.cli import main
sys.exit(main(sys.argv[1:]))
"""


class Server:
    """`python -m sala serve` on a free port with a data dir of its own; stopped by its PID."""

    def __init__(
        self,
        workdir: Path,
        label: str,
        watch_gc: bool = False,
        api_concurrency: int | None = None,
        env: dict[str, str] | None = None,
        tree: Path | None = None,
    ) -> None:
        self.tree = tree or REPO
        """The checkout whose `sala` runs (--server-tree: the old code, for a side-by-side)."""
        self.port = free_port()
        self.api_concurrency = api_concurrency  # SALA_API_CONCURRENCY; None: as inherited
        self.env = env or {}
        """Settings on top of the defaults above (bench/cluster.py: PostgreSQL, no media)."""
        self.base = f"http://{HOST}:{self.port}"
        self.data_dir = workdir / f"data-{label}"
        self.log_path = workdir / f"sala-{label}.log"
        self.gc_log = workdir / f"sala-{label}-gc.log" if watch_gc else None
        self._proc: subprocess.Popen[bytes] | None = None

    def gc_pauses(self, start: float, end: float) -> list[tuple[int, float]]:
        """(generation, seconds) of the collections logged between two CLOCK_MONOTONIC times."""
        if self.gc_log is None or not self.gc_log.exists():
            return []
        pauses = []
        for line in self.gc_log.read_text().splitlines():
            at, generation, took = line.split()
            if start <= float(at) <= end:
                pauses.append((int(generation), float(took)))
        return pauses

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self) -> None:
        env = {
            **os.environ,
            "SALA_DATA_DIR": str(self.data_dir),
            "SALA_SECRET": SECRET,
            "SALA_LOG_LEVEL": "warning",
        }
        for key in ("SALA_DATABASE_URL", "SALA_PUBLIC_URL", "SALA_CONFIG_FILE", "SALA_REDIS_URL"):
            env.pop(key, None)
        if self.api_concurrency is not None:
            env["SALA_API_CONCURRENCY"] = str(self.api_concurrency)
        env.update(self.env)
        argv = [sys.executable, "-m", "sala", "serve", "--host", HOST, "--port", str(self.port)]
        if self.gc_log is not None:
            argv[1:3] = ["-c", GC_BOOT]
            env["BENCH_SERVER_GC_LOG"] = str(self.gc_log)
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                argv, cwd=self.tree, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    async def wait_ready(self, http: httpx.AsyncClient) -> None:
        deadline = clock() + STARTUP_TIMEOUT
        while clock() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"sala exited at start-up; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{self.base}/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"sala did not answer /health within {STARTUP_TIMEOUT:.0f} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------------- pollers --
POLL_TIMEOUT = 30.0  # one answer; a poller waiting longer counts a failure and reconnects
POLL_RETRY_S = 0.1  # after a failure, so that a refusing server is not hammered in a spin
POLL_SUCCESS = b"<returncode>SUCCESS</returncode>"
POLL_STOP_TIMEOUT = POLL_TIMEOUT + 15.0  # for the poller process to report once told to stop

T = TypeVar("T")


def run_on_loop(loop_name: str, coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on uvloop when asked for and installed, else on asyncio's own loop."""
    if loop_name == "uvloop":
        try:
            import uvloop
        except ImportError:
            _progress("uvloop is not installed; using asyncio's loop")
        else:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(coro)
    return asyncio.run(coro)


def poll_request(base: str, meeting_id: str) -> bytes:
    """The one getMeetingInfo request every poller sends again and again (an integration
    polling one meeting sends the same signed URL each time)."""
    url = signed(base, "getMeetingInfo", [("meetingID", meeting_id)])
    target = url[len(base) :]
    host = base.removeprefix("http://")
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode("ascii")


async def _read_response(
    reader: asyncio.StreamReader,
) -> tuple[int, dict[bytes, list[bytes]], bytes]:
    """Status, headers (lower-case names, each with its values) and body of one HTTP/1.1 answer
    framed by Content-Length (sala's are)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    if b"transfer-encoding" in headers:
        raise ValueError("answer not framed by Content-Length")
    if b"content-length" not in headers:
        raise ValueError("answer without Content-Length")
    return status, headers, await reader.readexactly(int(headers[b"content-length"][0]))


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 answer framed by Content-Length (sala's are)."""
    status, _, body = await _read_response(reader)
    return status, body


class JoinHttp:
    """One keep-alive HTTP/1.1 connection for a join worker's requests (the API join, the
    hand-off), as a browser keeps one: raw asyncio streams, as the pollers' (httpx cost the
    generator about half of its CPU while 1,000 clients joined; issue 17)."""

    def __init__(self, base: str) -> None:
        self._host = base.removeprefix("http://")
        self._port = int(self._host.rpartition(":")[2])
        self._base = base
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, url: str) -> tuple[int, dict[bytes, list[bytes]], bytes]:
        target = url.removeprefix(self._base)
        request = f"GET {target} HTTP/1.1\r\nHost: {self._host}\r\nAccept: */*\r\n\r\n"
        for attempt in (0, 1):
            if self._streams is None:
                self._streams = await asyncio.open_connection(HOST, self._port)
            reader, writer = self._streams
            try:
                writer.write(request.encode("ascii"))
                answer = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed the idle connection (keep-alive timeout): one new one.
                self.close()
                if attempt:
                    raise
                continue
            if any(v.lower() == b"close" for v in answer[1].get(b"connection", ())):
                self.close()
            return answer
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _poll(
    port: int, request: bytes, pollers: int, max_seconds: float, control: Connection
) -> tuple[bytes, bytes, dict[str, int]]:
    """`pollers` closed loops, each on a keep-alive connection of its own, each sending its
    next request as soon as the previous answer is in, until `control` becomes readable (the
    bench says stop) or for max_seconds at most. Returns, as array('d') bytes, the
    CLOCK_MONOTONIC time each successful answer ended and its latency, and the failures."""
    control.send("ready")  # before the loop watches the pipe (and makes it non-blocking)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_reader(control.fileno(), stop.set)
    deadline = clock() + max_seconds
    ends, latencies = array("d"), array("d")
    failures: Counter[str] = Counter()

    async def closed_loop() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            while not stop.is_set() and clock() < deadline:
                try:
                    if reader is None or writer is None:
                        reader, writer = await asyncio.open_connection(HOST, port)
                    started = clock()
                    writer.write(request)
                    async with asyncio.timeout(POLL_TIMEOUT):
                        status, body = await _read_answer(reader)
                    ended = clock()
                except (OSError, TimeoutError, ValueError, IndexError,
                        asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:  # fmt: skip
                    failures[type(exc).__name__] += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    await asyncio.sleep(POLL_RETRY_S)
                    continue
                if status == 200 and POLL_SUCCESS in body:
                    ends.append(ended)
                    latencies.append(ended - started)
                else:
                    failures[f"HTTP {status}: {body[:80]!r}"] += 1
        finally:
            if writer is not None:
                writer.close()

    tasks = [asyncio.create_task(closed_loop()) for _ in range(pollers)]
    _done, pending = await asyncio.wait(tasks, timeout=max_seconds + POLL_TIMEOUT + 5)
    for task in pending:
        task.cancel()
        failures["still running at the deadline"] += 1
    if pending:
        await asyncio.wait(pending, timeout=5)
    loop.remove_reader(control.fileno())
    return ends.tobytes(), latencies.tobytes(), dict(failures)


def poller_process(
    port: int, request: bytes, pollers: int, max_seconds: float, loop_name: str, control: Connection
) -> None:
    """The poller process's entry point (multiprocessing, spawn): polls, then sends its report
    back through `control`. Plain types both ways, whatever module name each side gives this."""
    report = run_on_loop(loop_name, _poll(port, request, pollers, max_seconds, control))
    # The loop watched the pipe and made it non-blocking: a large report would not go through.
    os.set_blocking(control.fileno(), True)
    with contextlib.suppress(OSError):
        control.send(report)


@dataclass
class PollStats:
    polls: int
    polls_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    failures: dict[str, int]


class Pollers:
    """A process of its own that runs the closed-loop pollers: its event loop and its CPU are
    not this one's, so the room clients' readers here are not slowed by the polling."""

    def __init__(self, server: Server, meeting_id: str, pollers: int, max_seconds: float,
                 loop_name: str) -> None:  # fmt: skip
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        request = poll_request(server.base, meeting_id)
        self._proc = context.Process(
            target=poller_process,
            args=(server.port, request, pollers, max_seconds, loop_name, child),
            name="bench-room-pollers",
            daemon=True,
        )
        self._proc.start()
        child.close()
        self.report: tuple[bytes, bytes, dict[str, int]] | None = None

    async def ready(self) -> None:
        """Wait until the pollers are about to start (the process imports for a while)."""

        def wait() -> bool:
            return self._control.poll(STARTUP_TIMEOUT) and self._control.recv() == "ready"

        if not await asyncio.to_thread(wait):
            raise RuntimeError("the poller process did not start")

    @property
    def pid(self) -> int:
        assert self._proc.pid is not None
        return self._proc.pid

    def cpu_s(self) -> float:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return proc_cpu_s(self.pid)
        return 0.0

    def _collect(self) -> tuple[bytes, bytes, dict[str, int]] | None:
        with contextlib.suppress(OSError, EOFError):
            self._control.send("stop")
            if self._control.poll(POLL_STOP_TIMEOUT):
                report: tuple[bytes, bytes, dict[str, int]] = self._control.recv()
                return report
        return None

    async def stop(self) -> None:
        """Tell the pollers to stop, take their report, and end the process (by its PID)."""
        self.report = await asyncio.to_thread(self._collect)
        await asyncio.to_thread(self._proc.join, 10)
        if self._proc.is_alive():
            self._proc.kill()
            await asyncio.to_thread(self._proc.join, 10)
        self._control.close()

    def stats(self, start: float, end: float) -> PollStats:
        """The answers that ended between two CLOCK_MONOTONIC times."""
        if self.report is None:
            return PollStats(0, 0.0, None, None, None, {"no report from the poller process": 1})
        raw_ends, raw_latencies, failures = self.report
        ends, latencies = array("d"), array("d")
        ends.frombytes(raw_ends)
        latencies.frombytes(raw_latencies)
        inside = [lat for at, lat in zip(ends, latencies, strict=True) if start <= at <= end]
        return PollStats(
            polls=len(inside),
            polls_per_s=round(len(inside) / (end - start), 1) if end > start else 0.0,
            p50_ms=ms(percentile(inside, 50)),
            p99_ms=ms(percentile(inside, 99)),
            max_ms=ms(percentile(inside, 100)),
            failures=failures,
        )


# --------------------------------------------------------------------------------- clients --
@dataclass
class Sent:
    """One chat message: who sent it when, and which clients have it."""

    seq: int
    sender: int
    t_send: float
    measured: bool
    got: bytearray
    latencies: list[float] = field(default_factory=list)  # recipients other than the sender
    echo_s: float | None = None


async def app_pings(ws: ClientConnection, interval: float, seed: int) -> None:
    """What the browser client does: `{"type":"ping"}` every `interval` s (the server drops
    connections silent for 60 s), the first after a random part of it. Cancel to stop."""
    await asyncio.sleep(random.Random(seed).uniform(0, interval))
    with contextlib.suppress(ConnectionClosed):
        while True:
            await ws.send(PING)
            await asyncio.sleep(interval)


class Socket:
    """A room WebSocket of a benchmark's client: its reader task (every frame is read as it
    arrives), its app pings, and its welcome; `close` ends them (bench/crowd.py's too)."""

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.welcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing = False
        self._reader: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None

    async def close(self) -> None:
        self.closing = True
        if self._pinger is not None:
            self._pinger.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 10)


class Client(Socket):
    def __init__(self, run: Run, index: int) -> None:
        super().__init__()
        self.run = run
        self.index = index
        self.role = "MODERATOR" if index == 0 else "VIEWER"
        self.join_s: float | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.frames = 0
        self.roster: set[str] = set()
        self.roster_seq = 0
        self.roster_full_at: float | None = None
        """When this client's roster first held all the run's clients."""

    def _roster(self, message: dict[str, Any], now: float) -> None:
        """The roster as the browser keeps it, whichever protocol version the server speaks."""
        kind = message.get("type")
        if kind == "welcome" or kind == "users.reset":
            self.roster = {u["id"] for u in message["users"]}
            self.roster_seq = int(message.get("usersSeq", message.get("seq", 0)))
        elif kind == "users.delta":
            if message["seq"] <= self.roster_seq:
                return
            self.roster_seq = message["seq"]
            self.roster.update(u["id"] for u in message["set"])
            self.roster.difference_update(message["gone"])
        elif kind == "user.joined":
            self.roster.add(message["user"]["id"])
        elif kind == "user.left":
            self.roster.discard(message["user"])
        else:
            return
        if self.roster_full_at is None and len(self.roster) >= self.run.n:
            self.roster_full_at = now
            self.run.roster_done += 1
            if self.run.roster_done == self.run.n:
                self.run.roster_complete.set()

    async def join(self, http: httpx.AsyncClient | JoinHttp, meeting_id: str) -> None:
        run, o = self.run, self.run.o
        started = clock()
        params = [
            ("meetingID", meeting_id),
            ("fullName", f"Bench user {self.index}"),
            ("role", self.role),
            ("userID", f"bench-{self.index}"),
        ]
        url = signed(run.server.base, "join", params)
        if isinstance(http, JoinHttp):
            status, headers, body = await http.get(url)
            if status != 302:
                raise RuntimeError(f"join answered {status}: {body[:200]!r}")
            status, headers, _ = await http.get(headers[b"location"][0].decode())
            cookies = (c.split(b";", 1)[0].partition(b"=") for c in headers.get(b"set-cookie", ()))
            cookie = next((v.decode() for k, _, v in cookies if k == b"sala_room"), None)
        else:
            answer = await http.get(url)
            if answer.status_code != 302:
                raise RuntimeError(f"join answered {answer.status_code}: {answer.text[:200]}")
            handoff = await http.get(answer.headers["location"])
            status, cookie = handoff.status_code, handoff.cookies.get("sala_room")
        if status != 303 or not cookie:
            raise RuntimeError(f"hand-off answered {status} without a room cookie")
        self.ws = await websockets.connect(
            run.server.base.replace("http://", "ws://") + "/room/ws",
            additional_headers={"Cookie": f"sala_room={cookie}"},
            open_timeout=30,
            close_timeout=5,
            ping_interval=None,  # browsers send no protocol pings; the app pings below
            max_size=16 * 2**20,
            compression=None if o.no_deflate else "deflate",
        )
        self._reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send(json.dumps({"type": "hello", "version": o.hello_version}))
        await asyncio.wait_for(asyncio.shield(self.welcome), WELCOME_TIMEOUT)
        self.join_s = clock() - started
        if o.ping_interval > 0:
            self._pinger = asyncio.create_task(app_pings(self.ws, o.ping_interval, self.index))

    async def _read(self, ws: ClientConnection) -> None:
        run = self.run
        try:
            async for raw in ws:
                now = clock()
                self.frames += 1
                message = json.loads(raw)
                kind = message.get("type")
                if kind != "pong":  # pongs never stop; the room is quiet without them
                    run.frame_arrived.set()
                if kind == "chat.message":
                    run.chat_received(self, str(message.get("text", "")), now)
                elif self.roster_full_at is None:
                    self._roster(message, now)
                if kind == "welcome":
                    if not self.welcome.done():
                        self.welcome.set_result(None)
                elif kind == "error":
                    run.errors[f"{message.get('code')}: {message.get('message')}"] += 1
                elif kind in ("removed", "meeting.ended", "guest.denied"):
                    run.errors[f"server sent {kind}"] += 1
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code
            self.close_reason = ws.close_reason or ""
            if not self.welcome.done():
                self.welcome.set_exception(
                    RuntimeError(f"closed before welcome: {self.close_code} {self.close_reason}")
                )
            if not self.closing:
                run.disconnected.append((self.index, self.close_code, self.close_reason))

    async def send_chat(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "chat.send", "text": text}))


# ------------------------------------------------------------------------------- results ----
def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks; q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000.0 * seconds, 2)


@dataclass
class Result:
    clients: int
    joined: int = 0
    join_failures: list[str] = field(default_factory=list)
    join_wall_s: float = 0.0
    join_p50_ms: float | None = None
    join_p99_ms: float | None = None
    join_server_cpu_pct: float = 0.0
    join_bench_cpu_pct: float = 0.0
    roster_s: float | None = None
    """From the first join until every client's roster held all N (None: some never did)."""
    roster_server_cpu_s: float = 0.0
    join_frames_mean: float = 0.0
    join_frames_max: int = 0
    """Frames a client received from its welcome to the end of the joins (pongs included)."""
    hello_version: int = 3
    server_tree: str | None = None
    settle_s: float = 0.0
    participant_count: int | None = None
    rss_before_kib: int = 0
    rss_joined_kib: int = 0
    rss_end_kib: int = 0
    rss_per_client_kib: float = 0.0
    server_processes: int = 1
    children_rss_kib: int = 0
    senders: int = 0
    sent: int = 0
    expected: int = 0  # deliveries to clients other than the sender
    delivered: int = 0
    lost: int = 0
    echo_lost: int = 0
    duplicates: int = 0
    unknown: int = 0
    complete_messages: int = 0
    recipient_p50_ms: float | None = None
    recipient_p99_ms: float | None = None
    recipient_max_ms: float | None = None
    everybody_p50_ms: float | None = None
    everybody_p99_ms: float | None = None
    everybody_max_ms: float | None = None
    send_lag_max_ms: float = 0.0
    window_s: float = 0.0
    server_cpu_s: float = 0.0
    server_cpu_pct: float = 0.0
    server_main_cpu_pct: float = 0.0
    idle_server_cpu_pct: float = 0.0
    cpu_us_per_sent: float = 0.0
    cpu_us_per_delivery: float = 0.0
    net_cpu_us_per_sent: float = 0.0
    net_cpu_us_per_delivery: float = 0.0
    client_cpu_pct: float = 0.0
    client_gc_count: int = 0
    client_gc_max_ms: float = 0.0
    server_gc: list[tuple[int, float]] | None = None
    """With --watch-server-gc: (generation, ms) of the server's collections in the window."""
    other_cpu_pct: float = 0.0
    steal_pct: float = 0.0
    disconnected: list[tuple[int, int | None, str]] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    profiled: bool = False
    profile_self: list[tuple[str, float]] = field(default_factory=list)
    profile_inclusive: list[tuple[str, float]] = field(default_factory=list)
    timeline: list[tuple[float, float | None, float | None, float | None]] = field(
        default_factory=list
    )
    """Per measured message: seconds into the window, first / median / last delivery in ms."""
    window_start_monotonic: float = 0.0
    """CLOCK_MONOTONIC (shared by all processes) of the first measured send, to line up traces."""
    pollers: int = 0
    """--pollers: closed-loop getMeetingInfo pollers running through warm-up and window."""
    api_concurrency: int | None = None
    """SALA_API_CONCURRENCY given to this server; None: not set by the bench (sala's default)."""
    polls: int = 0  # answers that ended in the measured window
    polls_per_s: float = 0.0
    poll_p50_ms: float | None = None
    poll_p99_ms: float | None = None
    poll_max_ms: float | None = None
    poll_failures: dict[str, int] = field(default_factory=dict)
    """Over the whole polling, warm-up included."""
    poller_cpu_pct: float = 0.0

    @property
    def setup(self) -> str:
        """How this run differs from the others of its client count, for the tables."""
        admission = "-" if self.api_concurrency is None else str(self.api_concurrency)
        return f"{self.pollers}p a={admission}" if self.pollers else f"quiet a={admission}"

    @property
    def ok(self) -> bool:
        return (
            self.joined == self.clients
            and self.lost == 0
            and self.echo_lost == 0
            and self.duplicates == 0
            and not self.disconnected
            and not self.errors
            and not self.poll_failures
        )


# ----------------------------------------------------------------------------------- run ----
@dataclass
class Options:
    clients: list[int]
    rate: float
    duration: float
    warmup: float
    idle: float
    drain: float
    senders: int
    join_concurrency: int
    ping_interval: float
    join_client: str
    no_deflate: bool
    loop: str
    profile: Path | None
    json_path: Path | None
    keep: bool
    watch_server_gc: bool
    pollers: int = 0
    api_concurrency: list[int] | None = None
    hello_version: int = 3
    server_tree: Path | None = None

    @property
    def storm(self) -> bool:
        """--pollers or --api-concurrency: runs are labelled by setup, and the storm table."""
        return self.pollers > 0 or self.api_concurrency is not None


class Run:
    """One client count on one fresh server."""

    def __init__(self, o: Options, n: int, server: Server, pollers: int = 0) -> None:
        self.o = o
        self.n = n
        self.server = server
        self.pollers = pollers
        self.result = Result(clients=n, pollers=pollers, api_concurrency=server.api_concurrency)
        self.clients: list[Client] = []
        self.sent: dict[int, Sent] = {}
        self.outstanding = 0
        self.drained = asyncio.Event()
        self.drained.set()
        self.frame_arrived = asyncio.Event()
        self.roster_done = 0
        self.roster_complete = asyncio.Event()
        self.errors: Counter[str] = Counter()
        self.disconnected: list[tuple[int, int | None, str]] = []
        self.unknown = 0
        self.duplicates = 0
        self._seq = 0

    # -- bookkeeping, called by every reader ---------------------------------------------
    def chat_received(self, client: Client, text: str, now: float) -> None:
        match = TEXT_RE.match(text)
        record = self.sent.get(int(match.group(1))) if match else None
        if match is None or record is None:
            self.unknown += 1
            return
        latency = now - float(match.group(2))
        if record.got[client.index]:
            self.duplicates += 1
            return
        record.got[client.index] = 1
        if client.index == record.sender:
            record.echo_s = latency
        else:
            record.latencies.append(latency)
        self.outstanding -= 1
        if self.outstanding == 0:
            self.drained.set()

    # -- phases ----------------------------------------------------------------------------
    async def join_all(self, http: httpx.AsyncClient, meeting_id: str) -> None:
        self.clients = [Client(self, i) for i in range(self.n)]
        pending = iter(self.clients)
        failures: list[str] = []

        async def worker() -> None:
            own = None if self.o.join_client == "httpx" else JoinHttp(self.server.base)
            try:
                for client in pending:  # shared iterator: each client is taken by one worker
                    try:
                        await client.join(own or http, meeting_id)
                    except Exception as exc:
                        failures.append(f"client {client.index}: {exc!r}"[:300])
            finally:
                if own is not None:
                    own.close()

        await asyncio.gather(*(worker() for _ in range(min(self.o.join_concurrency, self.n))))
        self.result.join_failures = failures

    async def settle(self) -> None:
        """Wait until no frame has arrived for QUIET_S (the joins' announcements are through)."""
        deadline = clock() + SETTLE_TIMEOUT
        while clock() < deadline:
            self.frame_arrived.clear()
            try:
                await asyncio.wait_for(self.frame_arrived.wait(), QUIET_S)
            except TimeoutError:
                return

    async def chat(self, seconds: float, measured: bool, senders: list[Client]) -> float:
        """Send rate*seconds messages on an absolute schedule; the largest lag behind it."""
        count = round(seconds * self.o.rate)
        start = clock()
        lag = 0.0
        for k in range(count):
            due = start + k / self.o.rate
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            sender = senders[k % len(senders)]
            self._seq += 1
            seq = self._seq
            t_send = clock()
            lag = max(lag, t_send - due)
            self.sent[seq] = Sent(seq, sender.index, t_send, measured, bytearray(self.n))
            self.outstanding += self.n
            self.drained.clear()
            await sender.send_chat(f"bench {seq} {t_send:.6f}")
        return lag

    async def wait_drained(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained.wait(), self.o.drain)

    # -- the whole thing -------------------------------------------------------------------
    async def execute(self) -> Result:
        r, o = self.result, self.o
        pid = self.server.pid
        limits = httpx.Limits(max_connections=o.join_concurrency + 2)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            await self.server.wait_ready(http)
            meeting_id = f"bench-room-{self.n}"
            created = await http.get(
                signed(
                    self.server.base,
                    "create",
                    [("name", f"Bench room {self.n}"), ("meetingID", meeting_id)],
                )
            )
            if "<returncode>SUCCESS</returncode>" not in created.text:
                raise RuntimeError(f"create failed: {created.text[:300]}")
            await asyncio.sleep(0.5)
            r.rss_before_kib = proc_rss_kib(pid)

            before = CpuSample.take(pid)
            await self.join_all(http, meeting_id)
            after = CpuSample.take(pid)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.roster_complete.wait(), ROSTER_TIMEOUT)
            rostered = CpuSample.take(pid)
            if self.roster_complete.is_set():
                last = max(c.roster_full_at or 0.0 for c in self.clients)
                r.roster_s = round(max(last, after.wall) - before.wall, 2)
            r.roster_server_cpu_s = round(CpuWindow.between(before, rostered).server_s, 2)
            r.hello_version = o.hello_version
            r.server_tree = None if o.server_tree is None else str(o.server_tree)
            frames = [c.frames for c in self.clients]
            r.join_frames_mean = round(sum(frames) / len(frames), 1)
            r.join_frames_max = max(frames)
            await self.settle()
            r.settle_s = round(clock() - after.wall, 2)
            joined = [c for c in self.clients if c.join_s is not None]
            r.joined = len(joined)
            r.join_wall_s = round(after.wall - before.wall, 2)
            join_times = [c.join_s for c in joined if c.join_s is not None]
            r.join_p50_ms, r.join_p99_ms = (ms(percentile(join_times, q)) for q in (50, 99))
            joining = CpuWindow.between(before, after)
            r.join_server_cpu_pct = round(joining.pct(joining.server_s), 1)
            r.join_bench_cpu_pct = round(joining.pct(joining.me_s), 1)
            r.rss_joined_kib = proc_rss_kib(pid)
            r.server_processes = len(after.server)
            for child in after.server:
                if child != pid:
                    with contextlib.suppress(OSError, RuntimeError):
                        r.children_rss_kib += proc_rss_kib(child)
            r.rss_per_client_kib = round((r.rss_joined_kib - r.rss_before_kib) / self.n, 1)
            info = await http.get(
                signed(self.server.base, "getMeetingInfo", [("meetingID", meeting_id)])
            )
            found = re.search(r"<participantCount>(\d+)</participantCount>", info.text)
            r.participant_count = int(found.group(1)) if found else None
            _progress(
                f"  {self.n} clients: {r.joined} joined in {r.join_wall_s:.1f} s"
                f" ({len(r.join_failures)} failed);"
                f" RSS {r.rss_before_kib} -> {r.rss_joined_kib} KiB"
            )
            if r.join_failures:
                for failure in r.join_failures[:5]:
                    _progress(f"    {failure}")
            if len(joined) < 2:
                raise RuntimeError("fewer than two clients joined; nothing to measure")

            senders = self._senders(joined)
            r.senders = len(senders)
            idle_a = CpuSample.take(pid)
            await asyncio.sleep(o.idle)
            idle = CpuWindow.between(idle_a, CpuSample.take(pid))
            idle_rate = idle.server_s / idle.wall_s if idle.wall_s > 0 else 0.0
            r.idle_server_cpu_pct = round(100.0 * idle_rate, 2)

            polling = None
            if self.pollers:
                # Bounded however the window goes: warm-up, window and drain, and a margin.
                bound = o.warmup + o.duration + 2 * o.drain + 30.0
                polling = Pollers(self.server, meeting_id, self.pollers, bound, o.loop)
            try:
                if polling is not None:
                    await polling.ready()
                if o.warmup > 0:
                    await self.chat(o.warmup, False, senders)
                    await self.wait_drained()
                spy = self._start_profiler(pid)
                GC_WATCH.pauses.clear()
                GC_WATCH.active = True
                poll_a = polling.cpu_s() if polling is not None else 0.0
                a = CpuSample.take(pid)
                lag = await self.chat(o.duration, True, senders)
                await self.wait_drained()
                b = CpuSample.take(pid)
                poll_b = polling.cpu_s() if polling is not None else 0.0
                GC_WATCH.active = False
            finally:
                if polling is not None:
                    await polling.stop()
            poll_cpu = max(0.0, poll_b - poll_a)
            if polling is not None:
                stats = polling.stats(a.wall, b.wall)
                r.polls, r.polls_per_s = stats.polls, stats.polls_per_s
                r.poll_p50_ms, r.poll_p99_ms = stats.p50_ms, stats.p99_ms
                r.poll_max_ms = stats.max_ms
                r.poll_failures = stats.failures
                r.poller_cpu_pct = round(100.0 * poll_cpu / (b.wall - a.wall), 1)
            if self.server.gc_log is not None:
                r.server_gc = [
                    (gen, round(1000.0 * took, 1))
                    for gen, took in self.server.gc_pauses(a.wall, b.wall)
                ]
            r.client_gc_count = len(GC_WATCH.pauses)
            r.client_gc_max_ms = round(1000.0 * max(GC_WATCH.pauses, default=0.0), 2)
            spy_cpu = self._finish_profiler(spy)
            r.rss_end_kib = proc_rss_kib(pid)
            window = CpuWindow.between(a, b, spy_cpu + poll_cpu)
            r.send_lag_max_ms = round(1000.0 * lag, 2)
            self._tally(window, idle_rate)
            r.disconnected = list(self.disconnected)
            r.errors = dict(self.errors)
            await self._close_all()
        return r

    def _senders(self, joined: list[Client]) -> list[Client]:
        count = self.o.senders or max(5, math.ceil(self.o.rate / SENDER_RATE))
        count = min(count, len(joined))
        if self.o.rate / count >= CHAT_LIMIT_PER_S:
            raise SystemExit(
                f"{self.o.rate}/s over {count} senders is over the server's chat limit of "
                f"{CHAT_LIMIT_PER_S}/s per connection; use more --senders"
            )
        step = len(joined) / count
        return [joined[int(i * step + step / 2)] for i in range(count)]

    def _tally(self, window: CpuWindow, idle_rate: float) -> None:
        r = self.result
        measured = [s for s in self.sent.values() if s.measured]
        live = self.n  # the server delivers to every connected client, the sender included
        per_recipient = [lat for s in measured for lat in s.latencies]
        everybody = [max(s.latencies) for s in measured if len(s.latencies) == live - 1]
        r.sent = len(measured)
        r.expected = len(measured) * (live - 1)
        r.delivered = len(per_recipient)
        r.lost = r.expected - r.delivered
        r.echo_lost = sum(1 for s in measured if s.echo_s is None)
        r.duplicates = self.duplicates
        r.unknown = self.unknown
        r.complete_messages = len(everybody)
        r.recipient_p50_ms, r.recipient_p99_ms, r.recipient_max_ms = (
            ms(percentile(per_recipient, q)) for q in (50, 99, 100)
        )
        r.everybody_p50_ms, r.everybody_p99_ms, r.everybody_max_ms = (
            ms(percentile(everybody, q)) for q in (50, 99, 100)
        )
        if measured:
            t0 = r.window_start_monotonic = measured[0].t_send
            r.timeline = [
                (
                    round(s.t_send - t0, 3),
                    ms(min(s.latencies, default=None)),
                    ms(percentile(s.latencies, 50)),
                    ms(max(s.latencies, default=None)),
                )
                for s in measured
            ]
        frames = r.delivered + (r.sent - r.echo_lost)
        r.window_s = round(window.wall_s, 3)
        r.server_cpu_s = round(window.server_s, 3)
        r.server_cpu_pct = round(window.pct(window.server_s), 1)
        r.server_main_cpu_pct = round(window.pct(window.main_s), 1)
        r.client_cpu_pct = round(window.pct(window.me_s), 1)
        r.other_cpu_pct = round(window.pct(window.other_s), 1)
        r.steal_pct = round(window.pct(window.steal_s), 1)
        net = max(0.0, window.server_s - idle_rate * window.wall_s)
        if r.sent:
            r.cpu_us_per_sent = round(1e6 * window.server_s / r.sent, 1)
            r.net_cpu_us_per_sent = round(1e6 * net / r.sent, 1)
        if frames:
            r.cpu_us_per_delivery = round(1e6 * window.server_s / frames, 2)
            r.net_cpu_us_per_delivery = round(1e6 * net / frames, 2)

    async def _close_all(self) -> None:
        gate = asyncio.Semaphore(50)

        async def close(client: Client) -> None:
            async with gate:
                await client.close()

        for client in self.clients:
            client.closing = True
        await asyncio.gather(*(close(c) for c in self.clients))

    # -- py-spy ----------------------------------------------------------------------------
    def _start_profiler(self, pid: int) -> tuple[subprocess.Popen[bytes], Path] | None:
        if self.o.profile is None:
            return None
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.o.profile.mkdir(parents=True, exist_ok=True)
        out = self.o.profile / f"room-{self.n}.txt"
        seconds = str(math.ceil(self.o.duration + 2))
        argv = [spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking",
                "--format", "raw", "--duration", seconds, "--output", str(out)]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # py-spy attaches before the window opens
        self.result.profiled = True
        return proc, out

    def _finish_profiler(self, spy: tuple[subprocess.Popen[bytes], Path] | None) -> float:
        """Stop py-spy; the CPU it used during the window (not the server's, not 'other')."""
        if spy is None:
            return 0.0
        proc, out = spy
        used = 0.0
        with contextlib.suppress(OSError, ValueError, IndexError):
            used = proc_cpu_s(proc.pid)
        try:
            proc.wait(timeout=self.o.duration + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        self.result.profile_self, self.result.profile_inclusive = summarize_profile(out)
        return used


def _frame_name(frame: str) -> str:
    """`send (websockets/protocol.py:123)` -> `send (websockets/protocol.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name


Shares = list[tuple[str, float]]


def summarize_profile(raw: Path, limit: int = 20) -> tuple[Shares, Shares]:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    try:
        lines = raw.read_text(errors="replace").splitlines()
    except OSError:
        return [], []
    for line in lines:
        stack, _, number = line.rpartition(" ")
        if not number.isdigit() or not stack:
            continue
        count = int(number)
        frames = [_frame_name(f) for f in stack.split(";")]
        total += count
        leaf[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return [], []

    def top(counter: Counter[str]) -> Shares:
        return [(k, round(100.0 * v / total, 1)) for k, v in counter.most_common(limit)]

    return top(leaf), top(inclusive)


# ---------------------------------------------------------------------------------- report --
def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


HEADER = (
    f"{'clients':>7} {'join s':>6} {'KiB/cl':>6} {'sent':>5} {'lost':>5} {'disc':>4} "
    f"{'rcpt p50':>8} {'p99':>6} {'max':>6} {'all p50':>8} {'p99':>6} {'max':>6} "
    f"{'srv CPU':>7} {'µs/sent':>8} {'µs/dlv':>6} {'bench':>5} {'other':>5}"
)


SETUP_WIDTH = 10


def row(r: Result, storm: bool = False) -> str:
    setup = f"{r.setup:<{SETUP_WIDTH}} " if storm else ""
    return (
        f"{setup}{r.clients:>7} {r.join_wall_s:>6.1f} {r.rss_per_client_kib:>6.1f} {r.sent:>5} "
        f"{r.lost + r.echo_lost:>5} {len(r.disconnected):>4} "
        f"{_fmt(r.recipient_p50_ms):>8} {_fmt(r.recipient_p99_ms):>6} "
        f"{_fmt(r.recipient_max_ms):>6} "
        f"{_fmt(r.everybody_p50_ms):>8} {_fmt(r.everybody_p99_ms):>6} "
        f"{_fmt(r.everybody_max_ms):>6} "
        f"{r.server_cpu_pct:>6.1f}% {r.cpu_us_per_sent:>8.0f} {r.cpu_us_per_delivery:>6.1f} "
        f"{r.client_cpu_pct:>4.0f}% {r.other_cpu_pct:>4.0f}%"
    )


def report(o: Options, results: list[Result], command: str) -> None:
    print()
    print(f"command: {command}")
    print(
        f"{o.rate:g} chat messages/s for {o.duration:g} s (after {o.warmup:g} s warm-up); "
        f"latency in ms; CPU per message = server utime+stime / messages "
        f"(µs/dlv: per chat frame delivered, echo included); 'bench' and 'other' = this "
        f"process's and the rest of the machine's CPU, % of one core"
    )
    storm = o.storm
    print((f"{'setup':<{SETUP_WIDTH}} " if storm else "") + HEADER)
    for r in results:
        print(row(r, storm))
    print()
    for r in results:
        notes = [
            f"{r.senders} senders",
            f"RSS {r.rss_before_kib}->{r.rss_joined_kib}->{r.rss_end_kib} KiB"
            + (
                f" (+{r.server_processes - 1} child process(es), {r.children_rss_kib} KiB)"
                if r.server_processes > 1
                else ""
            ),
            f"server CPU {r.server_cpu_pct:.1f}% of which main process "
            f"{r.server_main_cpu_pct:.1f}%",
            f"join p50/p99 {_fmt(r.join_p50_ms, '.0f')}/{_fmt(r.join_p99_ms, '.0f')} ms "
            f"(server {r.join_server_cpu_pct:.0f}% CPU), quiet {r.settle_s:.1f} s later",
            f"participantCount {r.participant_count}",
            f"roster complete {_fmt(r.roster_s, '.2f')} s (hello v{r.hello_version}, server "
            f"{r.roster_server_cpu_s:.1f} CPU-s, bench {r.join_bench_cpu_pct:.0f}% while joining), "
            f"frames per client while joining {r.join_frames_mean:.0f} (max {r.join_frames_max})",
            f"idle server {r.idle_server_cpu_pct:.1f}% CPU",
            f"net of idle {r.net_cpu_us_per_sent:.0f} µs/sent, "
            f"{r.net_cpu_us_per_delivery:.1f} µs/dlv",
            f"send lag max {r.send_lag_max_ms:.1f} ms",
            f"bench GCs {r.client_gc_count} (max {r.client_gc_max_ms:.1f} ms)",
            f"steal {r.steal_pct:.0f}%",
            f"{r.complete_messages}/{r.sent} messages reached everybody",
        ]
        if r.server_gc is not None:
            gen2 = [took for gen, took in r.server_gc if gen == 2]
            notes.append(
                f"server GC in window: {len(gen2)} gen-2 (max {max(gen2, default=0):.0f} ms), "
                f"{len(r.server_gc) - len(gen2)} younger over 2 ms"
            )
        if r.duplicates or r.unknown:
            notes.append(f"{r.duplicates} duplicates, {r.unknown} unknown chat frames")
        if r.join_failures:
            notes.append(f"{len(r.join_failures)} joins failed")
        if r.disconnected:
            codes = Counter(code for _, code, _ in r.disconnected)
            notes.append(f"disconnected: {dict(codes)}")
        if r.errors:
            notes.append(f"errors: {r.errors}")
        if r.other_cpu_pct > OTHER_PCT:
            notes.append(f"WARNING: {r.other_cpu_pct:.0f}% of a core busy elsewhere")
        if r.profiled:
            notes.append("PROFILED (py-spy attached: figures inflated)")
        if r.pollers:
            notes.append(
                f"{r.pollers} pollers: {r.polls_per_s:.0f} polls/s, p50/p99/max "
                f"{_fmt(r.poll_p50_ms)}/{_fmt(r.poll_p99_ms)}/{_fmt(r.poll_max_ms)} ms, "
                f"poller process {r.poller_cpu_pct:.0f}% CPU"
            )
        if r.poll_failures:
            notes.append(f"poll failures: {r.poll_failures}")
        print((f"{r.clients:>7} {r.setup}: " if storm else f"{r.clients:>7}: ") + "; ".join(notes))
        if r.profile_self:
            print("         py-spy self time:")
            for name, share in r.profile_self[:12]:
                print(f"           {share:5.1f}%  {name}")
            print("         py-spy inclusive:")
            for name, share in r.profile_inclusive[:20]:
                print(f"           {share:5.1f}%  {name}")
    print(
        "\nsignalling (issue 17 targets: 1,000 clients see the whole roster in < 10 s, chat p99 "
        "to everybody < 100 ms):"
    )
    for r in results:
        print(
            f"  {r.clients:>5} clients, hello v{r.hello_version}"
            f"{'' if r.server_tree is None else ' on ' + r.server_tree}: "
            f"all welcomed {r.join_wall_s:.2f} s, every roster whole {_fmt(r.roster_s, '.2f')} s "
            f"({r.roster_server_cpu_s:.1f} server CPU-s), {r.join_frames_mean:.0f} frames per "
            f"client while joining; chat p99 {_fmt(r.recipient_p99_ms)} ms per recipient, "
            f"{_fmt(r.everybody_p99_ms)} ms to everybody"
        )
    if storm:
        storm_report(o, results)
    target = next((r for r in results if r.clients == TARGET_CLIENTS and not r.pollers), None)
    if target is not None and math.isclose(o.rate, TARGET_RATE):
        p99 = target.everybody_p99_ms
        held = p99 is not None and p99 < TARGET_P99_MS and target.ok
        print(
            f"\ntarget: {TARGET_CLIENTS} clients, p99 delivered-to-everybody "
            f"< {TARGET_P99_MS:g} ms "
            f"at {TARGET_RATE:g} msg/s, nothing lost or disconnected: "
            f"{'HOLDS' if held else 'MISSED'} (p99 {_fmt(p99)} ms, per recipient "
            f"{_fmt(target.recipient_p99_ms)} ms)"
        )
    bad = [f"{r.clients} {r.setup}" if storm else r.clients for r in results if not r.ok]
    print("delivery: " + ("every message reached every client, no disconnections" if not bad
                          else f"PROBLEMS at {bad} clients (see notes)"))  # fmt: skip


STORM_HEADER = (
    f"{'clients':>7} {'pollers':>7} {'admit':>5} {'polls/s':>7} {'poll p50':>8} {'p99':>6} "
    f"{'rcpt p50':>8} {'p99':>6} {'max':>6} {'x p99':>6} "
    f"{'all p50':>8} {'p99':>6} {'max':>6} {'x p99':>6} "
    f"{'srv CPU':>7} {'pollers':>7} {'bench':>5} {'other':>5}"
)


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if value is None or not base else f"{value / base:.1f}x"


def storm_row(r: Result, quiet: Result | None) -> str:
    base_rcpt = quiet.recipient_p99_ms if quiet is not None else None
    base_all = quiet.everybody_p99_ms if quiet is not None else None
    admission = "-" if r.api_concurrency is None else str(r.api_concurrency)
    polled = r.pollers > 0
    return (
        f"{r.clients:>7} {r.pollers:>7} {admission:>5} "
        f"{(f'{r.polls_per_s:.0f}' if polled else '-'):>7} "
        f"{_fmt(r.poll_p50_ms):>8} {_fmt(r.poll_p99_ms):>6} "
        f"{_fmt(r.recipient_p50_ms):>8} {_fmt(r.recipient_p99_ms):>6} "
        f"{_fmt(r.recipient_max_ms):>6} {_ratio(r.recipient_p99_ms, base_rcpt):>6} "
        f"{_fmt(r.everybody_p50_ms):>8} {_fmt(r.everybody_p99_ms):>6} "
        f"{_fmt(r.everybody_max_ms):>6} {_ratio(r.everybody_p99_ms, base_all):>6} "
        f"{r.server_cpu_pct:>6.1f}% "
        f"{(f'{r.poller_cpu_pct:.0f}%' if polled else '-'):>7} "
        f"{r.client_cpu_pct:>4.0f}% {r.other_cpu_pct:>4.0f}%"
    )


def storm_report(o: Options, results: list[Result]) -> None:
    """Side by side, per client count: chat latency without pollers and with them under each
    admission setting, and p99 with pollers over p99 without ("x p99")."""
    print(
        f"\npolling storm: {o.pollers} closed-loop getMeetingInfo pollers on the room's meeting, "
        f"in a process of their own (one keep-alive connection each), through warm-up and "
        f"window; 'admit' = SALA_API_CONCURRENCY of that server (0: no limit, -: sala's "
        f"default); polls/s and poll latency over the measured window; chat latency in ms; "
        f"'x p99' = p99 / p99 of the run without pollers; CPU in % of one core"
    )
    print(STORM_HEADER)
    for r in results:
        quiet = next((q for q in results if q.clients == r.clients and not q.pollers), None)
        print(storm_row(r, quiet))


def environment() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, timeout=10).stdout.strip()  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "sala"],
                           capture_output=True, text=True, timeout=10).stdout.strip()  # fmt: skip
    return {
        "sala_revision": (head or "unknown") + (" + uncommitted changes in sala/" if dirty else ""),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "packages": {p: version(p) for p in ("uvicorn", "websockets", "starlette", "uvloop")},
    }


# ------------------------------------------------------------------------------------ main --
async def amain(o: Options, command: str) -> list[Result]:
    results: list[Result] = []
    workdir = Path(tempfile.mkdtemp(prefix="sala-bench-room-"))
    gc.callbacks.append(GC_WATCH)
    _progress(f"work dir {workdir}; load average {os.getloadavg()}")
    try:
        for n, pollers, admission in plan_runs(o):
            label = str(n) if not o.storm else f"{n}-p{pollers}-a{admission}"
            server = Server(workdir, label, o.watch_server_gc, admission, tree=o.server_tree)
            server.start()
            try:
                what = f"{n} clients" + (f", {pollers} pollers" if pollers else "")
                what += "" if admission is None else f", SALA_API_CONCURRENCY={admission}"
                _progress(f"{what}: sala pid {server.pid} on port {server.port}")
                result = await Run(o, n, server, pollers).execute()
            finally:
                server.stop()
            results.append(result)
            print(row(result, o.storm), file=sys.stderr, flush=True)
    finally:
        if not o.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def plan_runs(o: Options) -> list[tuple[int, int, int | None]]:
    """(clients, pollers, SALA_API_CONCURRENCY or None) of each run, one fresh server each:
    with --api-concurrency, per client count a run without pollers, then one with them per
    setting; otherwise one run per client count."""
    if o.api_concurrency is None:
        return [(n, o.pollers, None) for n in o.clients]
    return [
        run
        for n in o.clients
        for run in [(n, 0, None), *((n, o.pollers, c) for c in o.api_concurrency)]
    ]


def parse_args(argv: Sequence[str] | None = None) -> Options:
    ap = argparse.ArgumentParser(prog="python -m bench.room", description=__doc__.split("\n")[0])
    ap.add_argument("--clients", default="50,200,500", help="comma-separated client counts")
    ap.add_argument("--rate", type=float, default=10.0, help="chat messages per second, total")
    ap.add_argument("--duration", type=float, default=10.0, help="measured window, seconds")
    ap.add_argument("--warmup", type=float, default=2.0, help="chat before the window, seconds")
    ap.add_argument("--idle", type=float, default=5.0, help="idle CPU baseline window, seconds")
    ap.add_argument("--drain", type=float, default=15.0,
                    help="wait this long for the last deliveries after the last send")  # fmt: skip
    ap.add_argument("--senders", type=int, default=0,
                    help="clients that send chat (default max(5, rate/2))")  # fmt: skip
    ap.add_argument("--join-concurrency", type=int, default=20)
    ap.add_argument("--join-client", choices=("raw", "httpx"), default="raw",
                    help="the joins' HTTP requests: one raw keep-alive connection per join "
                         "worker, or httpx as before (~1.7x this process CPU)")  # fmt: skip
    ap.add_argument("--ping-interval", type=float, default=20.0,
                    help="app ping per client, s (0: none; the server drops at 60 s)")  # fmt: skip
    ap.add_argument("--no-deflate", action="store_true",
                    help="do not offer permessage-deflate (browsers do)")  # fmt: skip
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                    help="this process's event loop (the server uses uvloop)")  # fmt: skip
    ap.add_argument("--profile", type=Path, help="py-spy the server's measured window into DIR")
    ap.add_argument("--json", dest="json_path", type=Path, help="write results here")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server logs, data)")
    ap.add_argument("--watch-server-gc", action="store_true",
                    help="run sala's main behind a gc callback that logs collections")  # fmt: skip
    ap.add_argument("--pollers", type=int, default=0,
                    help="closed-loop getMeetingInfo pollers (a process of their own) "
                         "through warm-up and window")  # fmt: skip
    ap.add_argument("--api-concurrency", default=None,
                    help="comma-separated SALA_API_CONCURRENCY values (0: no admission "
                         "control), each with --pollers on a fresh server, after a run "
                         "without pollers")  # fmt: skip
    ap.add_argument("--hello-version", type=int, default=3, choices=(1, 2, 3),
                    help="the protocol version the clients say (3: snapshot + deltas)")  # fmt: skip
    ap.add_argument("--server-tree", type=Path, default=None,
                    help="run `python -m sala` from this checkout (the old code)")  # fmt: skip
    a = ap.parse_args(argv)
    try:
        clients = [int(c) for c in str(a.clients).split(",") if c.strip()]
    except ValueError:
        ap.error("--clients takes integers, e.g. 50,200,500")
    if not clients or min(clients) < 2:
        ap.error("--clients: at least 2 per run")
    if a.rate <= 0 or a.duration <= 0 or a.join_concurrency < 1:
        ap.error("--rate, --duration and --join-concurrency must be positive")
    if not 0 <= a.pollers <= MAX_POLLERS:
        ap.error(f"--pollers: 0 to {MAX_POLLERS}")
    api_concurrency: list[int] | None = None
    if a.api_concurrency is not None:
        try:
            api_concurrency = [int(c) for c in str(a.api_concurrency).split(",") if c.strip()]
        except ValueError:
            ap.error("--api-concurrency takes integers, e.g. 0,8")
        if not api_concurrency or min(api_concurrency) < 0:
            ap.error("--api-concurrency: one or more integers >= 0")
        if a.pollers == 0:
            ap.error("--api-concurrency compares settings under a polling storm: give --pollers")
    return Options(
        clients=clients,
        rate=a.rate,
        duration=a.duration,
        warmup=a.warmup,
        idle=a.idle,
        drain=a.drain,
        senders=a.senders,
        join_concurrency=a.join_concurrency,
        ping_interval=a.ping_interval,
        join_client=a.join_client,
        no_deflate=a.no_deflate,
        loop=a.loop,
        profile=a.profile,
        json_path=a.json_path,
        keep=a.keep,
        watch_server_gc=a.watch_server_gc,
        pollers=a.pollers,
        api_concurrency=api_concurrency,
        hello_version=a.hello_version,
        server_tree=None if a.server_tree is None else a.server_tree.resolve(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    o = parse_args(argv)
    args = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.room", *args])
    env = environment()
    results = run_on_loop(o.loop, amain(o, command))
    report(o, results, command)
    if o.json_path is not None:
        payload = {
            "command": command,
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(o).items()},
            "environment": env,
            "targets": {"clients": TARGET_CLIENTS, "rate": TARGET_RATE, "p99_ms": TARGET_P99_MS},
            "results": [{**asdict(r), "ok": r.ok} for r in results],
        }
        o.json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

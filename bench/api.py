"""API throughput and latency: sala's hot calls against a bare ASGI ceiling, on loopback.

    .venv/bin/python -m bench.api [--clients 50] [--duration 10] [--db sqlite|postgresql|both]
        [--warmup 3] [--json out.json] [--sala-rev REV] [--retries 2] [--quiet-wait 120]
        [--pin] [--profile DIR]

What it does, in order:

1. Starts bench/ceiling_app.py (bare ASGI, fixed XML body, same uvicorn flags as `sala serve`)
   and loads it with the same client as everything else: that run is the ceiling. It is measured
   again at the end; ratios are taken against the higher of the two (the stricter reading).
   The same answer served through a Starlette route (`--app starlette`) is measured too, as a
   reference for what the framework alone costs.
2. For each database: starts a fresh `sala serve` (a new SQLite data dir, or a new database on a
   throwaway PostgreSQL from tests/support/postgres.py), creates 100 meetings, then measures
   getMeetings, getMeetingInfo, isMeetingRunning, join (redirect=false) and create (unique
   meetingIDs), in that order: reads first so getMeetings sees exactly the 100 meetings, create
   last because it adds meetings.

The load generator is N asyncio tasks in this process, each owning one HTTP/1.1 keep-alive
connection (asyncio.open_connection, hand-parsed status line and Content-Length) and sending the
next request as soon as the previous answer arrived (closed loop). Every URL is signed before the
clock starts. Each phase warms up on its connections first, then measures. Every answer must be
HTTP 200 with <returncode>SUCCESS</returncode>; anything else is counted as a failure and printed.

CPU time of the server (all threads, and its event-loop thread alone), of this process, of
PostgreSQL and of the whole machine is sampled from /proc for each measured window, so a reader
can tell who was saturated (the load generator must stay below 100% while the server sits at
100% of a core) and whether something else was using the machine ("other"): a window with more
than OTHER_PCT of a core busy elsewhere is measured again, up to --retries times, and before
each window the run waits (at most --quiet-wait seconds) for the machine to be idle.

sala runs from the work tree, which others may be editing; `--sala-rev REV` runs it as committed
at REV instead (a `git archive` export in the temp dir), so one run measures one revision.

Nothing is pinned by default. With --pin the server gets one core and this process another
(os.sched_setaffinity; PostgreSQL stays free): on the 2-vCPU VM this was written on that made the
ceiling bimodal (about 17k or 47k req/s, both processes half idle in the slow mode), while
unpinned it is steady and bound by the server's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"
SECRET = "bench-secret-0123456789abcdef"
API = "/bigbluebutton/api/"
SUCCESS = b"<returncode>SUCCESS</returncode>"
CALLS = ("create", "join", "getMeetingInfo", "isMeetingRunning", "getMeetings")
# Measurement order: reads while exactly the fixture meetings exist, then the writes.
RUN_ORDER = ("getMeetings", "getMeetingInfo", "isMeetingRunning", "join", "create")
TARGET_CALLS = ("isMeetingRunning", "getMeetingInfo")
TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0
TARGET_CLIENTS = 50
OTHER_PCT = 20.0  # busy CPU outside the benchmark above this: the machine was shared
SATURATED_PCT = 90.0  # event-loop CPU below this: the server was waiting, not computing
REQUEST_TIMEOUT = 30.0  # slack after a window closes for the last answers to arrive
STARTUP_TIMEOUT = 60.0
REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------------- signing --
def signed_path(call: str, params: Sequence[tuple[str, str]]) -> str:
    """`/bigbluebutton/api/<call>?<query>&checksum=<sha1>` (bbb-api.md §1.3)."""
    query = urlencode(params)
    digest = hashlib.sha1((call + query + SECRET).encode("utf-8")).hexdigest()
    joined = f"{query}&checksum={digest}" if query else f"checksum={digest}"
    return f"{API}{call}?{joined}"


def request_bytes(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: sala-bench\r\n\r\n".encode()


def _create_request(tag: str, port: int, n: int) -> bytes:
    params = [("name", "Bench meeting"), ("meetingID", f"c-{tag}-{n}")]
    return request_bytes(signed_path("create", params), port)


# ------------------------------------------------------------------------------- HTTP client --
class ProtocolError(Exception):
    """An answer this client cannot read (no Content-Length, chunked, garbage)."""


class Connection:
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(HOST, self.port)

    async def reopen(self) -> None:
        self.close()
        await self.open()

    def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()

    async def roundtrip(self, payload: bytes) -> tuple[int, bytes]:
        reader, writer = self._reader, self._writer
        if reader is None or writer is None:
            raise ConnectionError("not connected")
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 "):
            raise ProtocolError(f"bad status line {head[:40]!r}")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.find(b"\r\ncontent-length:")
        if start < 0:
            raise ProtocolError(f"no Content-Length in {head[:200]!r}")
        end = lower.find(b"\r\n", start + 17)
        length = int(head[start + 17 : end])
        body = await reader.readexactly(length) if length else b""
        if b"\r\nconnection: close\r\n" in lower:
            await self.reopen()
        return status, body


# ------------------------------------------------------------------------- request sources --
#: What a client calls for its next request; None means stop.
Source = Callable[[], bytes | None]


class Cycle:
    """The same few signed requests over and over (reads, joins), each client at its own offset."""

    def __init__(self, payloads: Sequence[bytes], offset: int) -> None:
        self._payloads = payloads
        self._index = offset % len(payloads)

    def next(self) -> bytes | None:
        payload = self._payloads[self._index]
        self._index = (self._index + 1) % len(self._payloads)
        return payload


def _cycle_sources(payloads: Sequence[bytes], clients: int) -> list[Source]:
    return [Cycle(payloads, i * 7).next for i in range(clients)]


class Pool:
    """Requests that must each be sent once (create with unique meetingIDs), shared by clients."""

    def __init__(self, make: Callable[[int], bytes]) -> None:
        self._make = make
        self._payloads: list[bytes] = []
        self._next = 0
        self.exhausted = False

    def top_up(self, count: int) -> None:
        """Sign `count` more requests; called between windows, never while measuring."""
        start = len(self._payloads)
        self._payloads.extend(self._make(start + i) for i in range(count))

    def next(self) -> bytes | None:
        if self._next >= len(self._payloads):
            self.exhausted = True
            return None
        payload = self._payloads[self._next]
        self._next += 1
        return payload

    def remaining(self) -> int:
        return len(self._payloads) - self._next


def _pool_sources(pool: Pool, clients: int) -> list[Source]:
    return [pool.next for _ in range(clients)]


# ---------------------------------------------------------------------------- the load loop --
@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    per_second: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    first_start: float = 0.0
    until: float = 0.0
    completed_in_window: int = 0
    """Successful answers that arrived before the window closed: the throughput count."""

    def fail(self, reason: str) -> None:
        self.failures[reason[:160]] += 1


async def _client(conn: Connection, source: Source, until: float, window: Window) -> None:
    perf = time.perf_counter
    latencies = window.latencies
    per_second = window.per_second
    origin = window.first_start
    while True:
        started = perf()
        if started >= until:
            return
        payload = source()
        if payload is None:
            return
        try:
            status, body = await conn.roundtrip(payload)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ProtocolError, ValueError) as exc:  # fmt: skip
            window.fail(f"{type(exc).__name__}: {exc}")
            try:
                await conn.reopen()
            except OSError as reconnect_error:
                window.fail(f"reconnect failed: {reconnect_error}")
                return
            continue
        ended = perf()
        if status == 200 and SUCCESS in body:
            latencies.append(ended - started)
            if ended < until:
                window.completed_in_window += 1
                per_second[int(ended - origin)] += 1
        else:
            window.fail(f"HTTP {status}: {body[:120]!r}")


async def _drive(conns: Sequence[Connection], sources: Sequence[Source], seconds: float) -> Window:
    """All clients in a closed loop for `seconds`; waits (bounded) for the last answers."""
    window = Window()
    window.first_start = time.perf_counter()
    until = window.until = window.first_start + seconds
    tasks = [
        asyncio.create_task(_client(conn, src, until, window))
        for conn, src in zip(conns, sources, strict=True)
    ]
    done, pending = await asyncio.wait(tasks, timeout=seconds + REQUEST_TIMEOUT)
    for task in pending:
        task.cancel()
        window.fail(f"no answer within {REQUEST_TIMEOUT:.0f}s after the window closed")
    for task in done:
        if (exc := task.exception()) is not None:
            window.fail(f"client crashed: {type(exc).__name__}: {exc}")
    if pending:
        await asyncio.wait(pending, timeout=5)
    return window


# ------------------------------------------------------------------------------ CPU probes --
_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int, thread: int | None = None) -> list[str] | None:
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    # Fields after "(comm)": state is field 3, so index i here is field i + 3.
    return text[text.rfind(")") + 2 :].split()


def process_cpu(pid: int, *, with_children: bool = False, thread: int | None = None) -> float:
    """CPU seconds of a process (all its threads), or of one of its threads."""
    fields = _stat_fields(pid) if thread is None else _stat_fields(pid, thread)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def family_cpu(root_pid: int) -> float:
    """CPU seconds of a process and its direct children (the postmaster and its backends)."""
    # Backends that exit in between move from the children's sum to the root's cutime/cstime.
    ticks = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and fields[1] == str(root_pid):
                ticks += int(fields[11]) + int(fields[12])
    return process_cpu(root_pid, with_children=True) + ticks / _TICK


def machine_busy_cpu() -> float:
    """CPU seconds all cores spent not idle since boot (user, nice, system, irq, softirq, steal)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


def self_cpu() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class CpuSnapshot:
    at: float
    server: float
    server_main: float
    client: float
    db: float
    machine: float


class CpuProbe:
    def __init__(self, server_pid: int, db_pid: int | None) -> None:
        self.server_pid = server_pid
        self.db_pid = db_pid

    def snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(
            at=time.perf_counter(),
            server=process_cpu(self.server_pid),
            server_main=process_cpu(self.server_pid, thread=self.server_pid),
            client=self_cpu(),
            db=family_cpu(self.db_pid) if self.db_pid else 0.0,
            machine=machine_busy_cpu(),
        )


# ---------------------------------------------------------------------------------- results --
@dataclass
class PhaseResult:
    call: str
    db: str
    clients: int
    seconds: float
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_pct: float
    server_loop_cpu_pct: float
    client_cpu_pct: float
    db_cpu_pct: float
    other_cpu_pct: float
    """Busy CPU on the machine outside server, load generator and database (other work, and
    interrupt time not charged to a process): above OTHER_PCT the figure was disturbed."""
    ratio: float | None = None
    attempts: int = 1
    per_second: list[int] = field(default_factory=list)
    """Successful answers in each second of the window (a drift shows as a slope)."""
    failure_reasons: dict[str, int] = field(default_factory=dict)
    profile: list[tuple[str, float]] = field(default_factory=list)


def _percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summarize(
    call: str,
    db: str,
    clients: int,
    window: Window,
    warmup_failures: Counter[str],
    before: CpuSnapshot,
    after: CpuSnapshot,
) -> PhaseResult:
    ordered = sorted(window.latencies)
    # Throughput counts answers received inside the window; latency covers every request sent
    # in it, including the last ones answered after it closed.
    seconds = window.until - window.first_start
    wall = after.at - before.at
    failures = window.failures + warmup_failures

    def pct(a: float, b: float) -> float:
        return 100.0 * (b - a) / wall if wall > 0 else 0.0

    return PhaseResult(
        call=call,
        db=db,
        clients=clients,
        seconds=round(seconds, 3),
        requests=len(ordered),
        failures=sum(failures.values()),
        rps=window.completed_in_window / seconds if seconds > 0 else 0.0,
        p50_ms=1000 * _percentile(ordered, 0.50),
        p90_ms=1000 * _percentile(ordered, 0.90),
        p99_ms=1000 * _percentile(ordered, 0.99),
        max_ms=1000 * (ordered[-1] if ordered else float("nan")),
        server_cpu_pct=pct(before.server, after.server),
        server_loop_cpu_pct=pct(before.server_main, after.server_main),
        client_cpu_pct=pct(before.client, after.client),
        db_cpu_pct=pct(before.db, after.db),
        other_cpu_pct=max(
            0.0,
            pct(before.machine, after.machine)
            - pct(before.server, after.server)
            - pct(before.client, after.client)
            - pct(before.db, after.db),
        ),
        per_second=[window.per_second[i] for i in range(int(seconds))],
        failure_reasons=dict(failures.most_common(10)),
    )


# --------------------------------------------------------------------------------- processes --
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _affinity(cpus: set[int] | None) -> Iterator[None]:
    """Run the block (a spawn) with this process on `cpus`, so the child inherits them."""
    if cpus is None:
        yield
        return
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


class ServerProcess:
    """One server we started; only its own PID is ever signalled."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path = REPO
    ) -> None:
        self.name = name
        self.cwd = cwd
        self.env = env
        self.log_path = log_path
        self.port = _free_port()
        self.argv = [*argv, "--host", HOST, "--port", str(self.port)]
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.name} not running")
        return self._proc.pid

    def start(self, cpus: set[int] | None) -> None:
        with self.log_path.open("ab") as log, _affinity(cpus):
            self._proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    async def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        payload = request_bytes(path, self.port)
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            conn = Connection(self.port)
            try:
                await conn.open()
                status, _ = await asyncio.wait_for(conn.roundtrip(payload), 5)
                if status == 200:
                    return
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError):
                pass
            finally:
                conn.close()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {STARTUP_TIMEOUT}s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"


# ------------------------------------------------------------------------------------ runner --
@dataclass
class Options:
    clients: int
    duration: float
    warmup: float
    meetings: int
    dbs: list[str]
    server_cpus: set[int] | None
    client_cpus: set[int] | None
    profile_dir: Path | None
    sala_src: Path
    retries: int
    quiet_wait: float
    """Directory `python -m sala` runs in, so the sala package found first is the one in it."""


class Bench:
    def __init__(self, options: Options, workdir: Path) -> None:
        self.o = options
        self.workdir = workdir
        self.results: list[PhaseResult] = []
        self.ceilings: list[PhaseResult] = []
        self.references: list[PhaseResult] = []
        self.notes: list[str] = []

    # -- one phase --------------------------------------------------------------------------
    async def phase(
        self,
        call: str,
        db: str,
        server: ServerProcess,
        probe: CpuProbe,
        make_sources: Callable[[], list[Source]],
        pool: Pool | None = None,
    ) -> PhaseResult:
        """Measure; on a shared machine (other work above OTHER_PCT) measure again, up to
        --retries times, and keep the least disturbed attempt. Failures of every attempt count."""
        attempts: list[PhaseResult] = []
        for _ in range(1 + self.o.retries):
            await self._settle(f"{call} {db}")
            attempts.append(await self._phase_once(call, db, server, probe, make_sources, pool))
            if attempts[-1].other_cpu_pct <= OTHER_PCT:
                break
            print(
                f"  ({call} {db}: {attempts[-1].other_cpu_pct:.0f}% of a core busy outside the"
                " benchmark; measuring again)",
                flush=True,
            )
        best = min(attempts, key=lambda r: r.other_cpu_pct)
        best.attempts = len(attempts)
        for other in attempts:
            if other is not best:
                best.failures += other.failures
                for reason, count in other.failure_reasons.items():
                    best.failure_reasons[reason] = best.failure_reasons.get(reason, 0) + count
        return best

    async def _settle(self, label: str) -> None:
        """Wait (at most --quiet-wait seconds) for a second in which the machine is idle enough:
        between phases our own processes are idle, so what is busy belongs to someone else."""
        deadline = time.monotonic() + self.o.quiet_wait
        waited = False
        while True:
            before = machine_busy_cpu()
            await asyncio.sleep(1.0)
            busy = 100.0 * (machine_busy_cpu() - before)
            if busy <= OTHER_PCT:
                break
            if time.monotonic() >= deadline:
                print(f"  ({label}: machine still {busy:.0f}% busy; measuring anyway)", flush=True)
                return
            waited = True
        if waited:
            print(f"  ({label}: waited for the machine to go quiet)", flush=True)

    async def _phase_once(
        self,
        call: str,
        db: str,
        server: ServerProcess,
        probe: CpuProbe,
        make_sources: Callable[[], list[Source]],
        pool: Pool | None,
    ) -> PhaseResult:
        o = self.o
        conns = [Connection(server.port) for _ in range(o.clients)]
        await asyncio.gather(*(c.open() for c in conns))
        try:
            sources = make_sources()
            if pool is not None:
                # Enough for a warm-up at up to 4000 req/s, signed before it starts.
                pool.top_up(
                    max(0, int(max(o.warmup, 0.1) * 4000) + 20 * o.clients - pool.remaining())
                )
            warm = await _drive(conns, sources, o.warmup)
            if pool is not None:
                # Enough unique requests for 3x the warm-up rate over the window, signed now.
                rate = len(warm.latencies) / max(o.warmup, 0.1)
                pool.top_up(max(0, int(rate * o.duration * 3) + 20 * o.clients - pool.remaining()))
            profiler = self._start_profiler(server, call if db == "-" else f"{db}-{call}")
            before = probe.snapshot()
            window = await _drive(conns, sources, o.duration)
            after = probe.snapshot()
            result = summarize(call, db, o.clients, window, warm.failures, before, after)
            if profiler is not None:
                result.profile = self._finish_profiler(*profiler)
            if pool is not None and pool.exhausted:
                self.notes.append(f"{db} {call}: ran out of pre-signed requests; rate understated")
            return result
        finally:
            for conn in conns:
                conn.close()

    # -- profiling (optional) --------------------------------------------------------------
    def _start_profiler(
        self, server: ServerProcess, label: str
    ) -> tuple[subprocess.Popen[bytes], Path] | None:
        if self.o.profile_dir is None:
            return None
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        out = self.o.profile_dir / f"{label}.txt"
        seconds = str(max(1, int(self.o.duration)))
        argv = [
            py_spy, "record", "--pid", str(server.pid), "--rate", "200", "--nonblocking",
            "--threads", "--format", "raw", "--duration", seconds, "--output", str(out),
        ]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, out

    def _finish_profiler(self, proc: subprocess.Popen[bytes], out: Path) -> list[tuple[str, float]]:
        try:
            proc.wait(timeout=self.o.duration + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        return top_frames(out)

    # -- ceiling ----------------------------------------------------------------------------
    async def run_ceiling(self, label: str, app: str = "asgi") -> None:
        server = ServerProcess(
            label,
            [sys.executable, "-m", "bench.ceiling_app", "--log-level", "warning", "--app", app],
            dict(os.environ),
            self.workdir / "ceiling.log",
        )
        server.start(self.o.server_cpus)
        try:
            await server.wait_ready("/")
            probe = CpuProbe(server.pid, None)
            # The same kind of request line as isMeetingRunning; the app ignores it.
            payloads = [
                request_bytes(
                    signed_path("isMeetingRunning", [("meetingID", f"m{i}")]), server.port
                )
                for i in range(self.o.meetings)
            ]
            ceiling = await self.phase(
                label, "-", server, probe,
                functools.partial(_cycle_sources, payloads, self.o.clients),
            )  # fmt: skip
        finally:
            server.stop()
        (self.ceilings if app == "asgi" else self.references).append(ceiling)
        self._print_row(ceiling)

    # -- sala on one database ---------------------------------------------------------------
    async def run_sala(self, db: str) -> None:
        pg = None
        env = {
            **os.environ,
            "SALA_SECRET": SECRET,
            "SALA_LOG_LEVEL": "warning",
            "SALA_DATA_DIR": str(self.workdir / f"data-{db}"),
        }
        env.pop("SALA_DATABASE_URL", None)
        if db == "postgresql":
            from tests.support.postgres import PostgresServer

            with _affinity(_all_cpus()):
                pg = PostgresServer().start()
            env["SALA_DATABASE_URL"] = pg.create_database("sala_bench")
        server = ServerProcess(
            f"sala ({db})",
            [sys.executable, "-m", "sala", "serve"],
            env,
            self.workdir / f"sala-{db}.log",
            cwd=self.o.sala_src,
        )
        try:
            server.start(self.o.server_cpus)
            await server.wait_ready("/health")
            probe = CpuProbe(server.pid, pg.pid if pg else None)
            port = server.port
            meeting_ids = await self._fixture(port, db)
            per_meeting: dict[str, list[bytes]] = {
                call: [
                    request_bytes(signed_path(call, [("meetingID", m)]), port) for m in meeting_ids
                ]
                for call in ("getMeetingInfo", "isMeetingRunning")
            }
            per_meeting["getMeetings"] = [request_bytes(signed_path("getMeetings", []), port)]
            per_meeting["join"] = [
                request_bytes(
                    signed_path(
                        "join",
                        [("meetingID", m), ("fullName", "Bench User"), ("role", "VIEWER"),
                         ("redirect", "false")],
                    ),
                    port,
                )
                for m in meeting_ids
            ]  # fmt: skip
            await self._check_meeting_count(port, len(meeting_ids))
            for call in RUN_ORDER:
                pool: Pool | None = None
                make_sources: Callable[[], list[Source]]
                if call == "create":
                    tag = f"{os.getpid()}-{int(time.time())}"
                    pool = Pool(functools.partial(_create_request, tag, port))
                    make_sources = functools.partial(_pool_sources, pool, self.o.clients)
                else:
                    make_sources = functools.partial(
                        _cycle_sources, per_meeting[call], self.o.clients
                    )
                if call == "join":
                    await self._check_meeting_count(port, len(meeting_ids))
                result = await self.phase(call, db, server, probe, make_sources, pool)
                self.results.append(result)
                self._print_row(result)
        finally:
            server.stop()
            if pg is not None:
                pg.stop()

    async def _fixture(self, port: int, db: str) -> list[str]:
        """Create the live meetings every read runs against; all must succeed."""
        ids = [f"bench-{db}-{i:03d}" for i in range(self.o.meetings)]
        conn = Connection(port)
        await conn.open()
        try:
            for meeting_id in ids:
                params = [
                    ("name", f"Bench room {meeting_id}"),
                    ("meetingID", meeting_id),
                    # Keep them alive however long the run takes (default: 5 minutes unjoined).
                    ("meetingExpireIfNoUserJoinedInMinutes", "600"),
                ]
                status, body = await conn.roundtrip(
                    request_bytes(signed_path("create", params), port)
                )
                if status != 200 or SUCCESS not in body:
                    raise RuntimeError(f"fixture create failed: HTTP {status} {body[:300]!r}")
        finally:
            conn.close()
        return ids

    async def _check_meeting_count(self, port: int, expected: int) -> None:
        conn = Connection(port)
        await conn.open()
        try:
            status, body = await conn.roundtrip(request_bytes(signed_path("getMeetings", []), port))
        finally:
            conn.close()
        found = body.count(b"<meeting>")
        if status != 200 or found != expected:
            raise RuntimeError(
                f"getMeetings shows {found} meetings (HTTP {status}), not {expected}"
            )

    # -- output -----------------------------------------------------------------------------
    HEADER = (
        f"{'call':<17}{'db':<11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>7}"
        f"{'fails':>7}{'srv cpu':>9}{'(loop)':>8}{'cli cpu':>9}{'pg cpu':>8}{'other':>8}"
    )

    def _print_row(self, r: PhaseResult) -> None:
        ratio = f"{r.ratio:.3f}" if r.ratio is not None else "-"
        db_cpu = f"{r.db_cpu_pct:.0f}%" if r.db == "postgresql" else "-"
        idle = "*" if r.server_loop_cpu_pct < SATURATED_PCT else " "
        shared = "!" if r.other_cpu_pct > OTHER_PCT else " "
        print(
            f"{r.call:<17}{r.db:<11}{r.rps:>9.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{ratio:>7}"
            f"{r.failures:>7}{r.server_cpu_pct:>8.0f}%{r.server_loop_cpu_pct:>6.0f}%{idle}"
            f"{r.client_cpu_pct:>8.0f}%{db_cpu:>8}{r.other_cpu_pct:>6.0f}%{shared}",
            flush=True,
        )
        for reason, count in r.failure_reasons.items():
            print(f"    {count} x {reason}", flush=True)
        for frame, share in r.profile[:12]:
            print(f"    {share:5.1f}%  {frame}", flush=True)

    def print_table(self) -> None:
        rows = (
            self.ceilings
            + self.references
            + sorted(self.results, key=lambda r: (self.o.dbs.index(r.db), CALLS.index(r.call)))
        )
        print("\n" + self.HEADER)
        print("-" * len(self.HEADER))
        for row in rows:
            self._print_row(row)
        if any(r.server_loop_cpu_pct < SATURATED_PCT for r in rows):
            print(
                f"* server event loop below {SATURATED_PCT:.0f}% of a core: bound by waiting"
                " (write lock, database round trips, thread hand-offs, cross-CPU wake-ups, or"
                " CPU taken by other work), not by the server's CPU"
            )
        if any(r.other_cpu_pct > OTHER_PCT for r in rows):
            print(
                f"! more than {OTHER_PCT:.0f}% of a core busy outside this benchmark: the machine"
                " was shared during that window; rerun before trusting the figure"
            )

    @property
    def ceiling_rps(self) -> float:
        return max((c.rps for c in self.ceilings), default=0.0)

    def set_ratios(self) -> None:
        """Every figure as a share of the best ceiling run."""
        if self.ceiling_rps > 0:
            for r in [*self.ceilings, *self.references, *self.results]:
                r.ratio = r.rps / self.ceiling_rps

    def targets(self) -> list[dict[str, Any]]:
        verdicts: list[dict[str, Any]] = []
        for r in self.results:
            if r.call not in TARGET_CALLS:
                continue
            ratio_ok = r.ratio is not None and r.ratio >= TARGET_RATIO
            p99_ok = r.p99_ms < TARGET_P99_MS
            verdicts.append(
                {
                    "call": r.call,
                    "db": r.db,
                    "ratio": r.ratio,
                    "ratio_ok": ratio_ok,
                    "p99_ms": r.p99_ms,
                    "p99_ok": p99_ok,
                    "failures": r.failures,
                    "holds": ratio_ok and p99_ok and r.failures == 0,
                }
            )
        return verdicts

    def print_targets(self) -> None:
        print(
            f"\ntargets: isMeetingRunning, getMeetingInfo >= {TARGET_RATIO} x ceiling and "
            f"p99 < {TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} clients"
        )
        if self.o.clients != TARGET_CLIENTS:
            print(f"  (this run used {self.o.clients} clients: verdicts are indicative only)")
        for v in self.targets():
            ratio = "n/a" if v["ratio"] is None else f"{v['ratio']:.3f}"
            print(
                f"  {v['call']:<17}{v['db']:<11} ratio {ratio} {'ok' if v['ratio_ok'] else 'FAIL'}"
                f", p99 {v['p99_ms']:.1f} ms {'ok' if v['p99_ok'] else 'FAIL'}"
                f"{'' if v['failures'] == 0 else ', FAILED REQUESTS'}"
                f" -> {'HOLDS' if v['holds'] else 'DOES NOT HOLD'}"
            )


# ---------------------------------------------------------------------------------- helpers --
def _all_cpus() -> set[int]:
    return set(range(os.cpu_count() or 1))


def top_frames(raw_path: Path, limit: int = 25) -> list[tuple[str, float]]:
    """Self-time share per function from py-spy's collapsed stacks (leaf frame of each sample)."""
    counts: Counter[str] = Counter()
    total = 0
    try:
        lines = raw_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        leaf = stack.rsplit(";", 1)[-1]
        counts[leaf] += int(number)
        total += int(number)
    return [(frame, 100.0 * n / total) for frame, n in counts.most_common(limit)] if total else []


def sala_revision() -> str:
    """HEAD of the work tree the servers import sala from, and whether sala/ differs from it."""
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()  # fmt: skip
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "sala"], capture_output=True,
                               text=True, timeout=10).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" + uncommitted changes in sala/" if dirty else "")


def export_revision(rev: str, into: Path) -> str:
    """`git archive` sala/ at `rev` into `into` (read-only for the repository); its short hash."""
    git = ["git", "-C", str(REPO)]
    resolved = subprocess.run([*git, "rev-parse", "--short", "--verify", f"{rev}^{{commit}}"],
                              capture_output=True, text=True, timeout=30)  # fmt: skip
    if resolved.returncode != 0:
        raise SystemExit(f"--sala-rev {rev!r}: {resolved.stderr.strip()}")
    commit = resolved.stdout.strip()
    archive = subprocess.run([*git, "archive", "--format=tar", commit, "sala"],
                             capture_output=True, timeout=120, check=True)  # fmt: skip
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return commit


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_gib = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    versions = {}
    for package in ("uvicorn", "starlette", "httptools", "uvloop", "sqlalchemy", "aiosqlite",
                    "asyncpg"):  # fmt: skip
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    pg_version = None
    with contextlib.suppress(Exception):
        from tests.support.postgres import find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is not None:
            out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True,
                                 text=True, timeout=10)  # fmt: skip
            pg_version = out.stdout.strip()
    return {
        "sala_revision": sala_revision(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "postgres": pg_version,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per call")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per call")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--meetings", type=int, default=100, help="live meetings during reads")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--pin", action="store_true", help="pin the server and this process to different cores"
    )
    parser.add_argument(
        "--retries", type=int, default=2,
        help=f"re-measure a call while more than {OTHER_PCT:.0f}%% of a core is busy elsewhere",
    )  # fmt: skip
    parser.add_argument(
        "--quiet-wait", type=float, default=120.0, metavar="SECONDS",
        help="before each window, wait up to this long for other work on the machine to stop",
    )  # fmt: skip
    parser.add_argument(
        "--sala-rev", metavar="REV",
        help="run sala as committed at REV (git archive into a temp dir), not the work tree",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, metavar="DIR",
        help="record each sala window with py-spy (raw stacks in DIR); perturbs the figures",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 1000 or args.duration <= 0 or args.warmup < 0:
        parser.error("need 1 <= --clients <= 1000, --duration > 0, --warmup >= 0")
    if not 0 <= args.retries <= 10 or not 0 <= args.quiet_wait <= 3600:
        parser.error("need 0 <= --retries <= 10 and 0 <= --quiet-wait <= 3600")
    if not 1 <= args.meetings <= 10_000:
        parser.error("need 1 <= --meetings <= 10000")
    return args


async def amain(args: argparse.Namespace, command: str) -> int:
    with tempfile.TemporaryDirectory(prefix="sala-bench-") as tmp:
        return await run(args, command, Path(tmp))


async def run(args: argparse.Namespace, command: str, workdir: Path) -> int:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus: set[int] | None = None
    client_cpus: set[int] | None = None
    if args.pin and len(cpus) >= 2:
        client_cpus, server_cpus = {cpus[0]}, {cpus[1]}
        os.sched_setaffinity(0, client_cpus)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    info = machine()
    sala_src = REPO
    if args.sala_rev:
        sala_src = workdir / "src"
        commit = export_revision(args.sala_rev, sala_src)
        info["sala_revision"] = f"{commit} (git archive of {args.sala_rev}; work tree not used)"
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    options = Options(
        clients=args.clients, duration=args.duration, warmup=args.warmup, meetings=args.meetings,
        dbs=dbs, server_cpus=server_cpus, client_cpus=client_cpus, profile_dir=args.profile,
        sala_src=sala_src, retries=args.retries, quiet_wait=args.quiet_wait,
    )  # fmt: skip
    print(f"command: {command}")
    print(f"sala: {info['sala_revision']}")
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gib']} GiB, "
        f"Linux {info['kernel']}, Python {info['python']}, "
        + ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    )
    if server_cpus and client_cpus:
        print(
            f"pinning: server on CPU {min(server_cpus)}, load generator on CPU {min(client_cpus)}"
            " (sched_setaffinity); PostgreSQL unpinned"
        )
    else:
        print("pinning: none (the kernel places server, load generator and PostgreSQL)")
    print(
        f"load: {args.clients} keep-alive connections, closed loop, {args.warmup:g}s warm-up + "
        f"{args.duration:g}s measured per call, {args.meetings} live meetings\n"
    )
    print(Bench.HEADER)
    print("-" * len(Bench.HEADER))
    bench = Bench(options, workdir)
    await bench.run_ceiling("ceiling@start")
    await bench.run_ceiling("starlette-route", "starlette")
    for db in dbs:
        await bench.run_sala(db)
    await bench.run_ceiling("ceiling@end")
    bench.set_ratios()
    revision_after = info["sala_revision"] if args.sala_rev else sala_revision()
    if revision_after != info["sala_revision"]:
        bench.notes.append(
            f"sala changed during the run ({info['sala_revision']} -> {revision_after}): "
            "each database's figures come from the code its server started with"
        )
    bench.print_table()
    bench.print_targets()
    for note in bench.notes:
        print(f"note: {note}")
    failures = sum(r.failures for r in [*bench.ceilings, *bench.references, *bench.results])
    if failures:
        print(f"\n{failures} FAILED REQUESTS: the figures above include errors", file=sys.stderr)
    if args.json is not None:
        document = {
            "command": command,
            "machine": info,
            "sala_revision_at_end": revision_after,
            "settings": {
                "clients": args.clients, "duration_s": args.duration, "warmup_s": args.warmup,
                "meetings": args.meetings, "server_cpus": sorted(server_cpus or []),
                "client_cpus": sorted(client_cpus or []), "profiled": args.profile is not None,
            },
            "ceiling_rps": bench.ceiling_rps,
            "ceilings": [asdict(c) for c in bench.ceilings],
            "references": [asdict(c) for c in bench.references],
            "results": [asdict(r) for r in bench.results],
            "targets": bench.targets(),
            "notes": bench.notes,
        }  # fmt: skip
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shown = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.api", *shown])
    try:
        import uvloop
    except ImportError:
        return asyncio.run(amain(args, command))
    return uvloop.run(amain(args, command))


if __name__ == "__main__":
    raise SystemExit(main())

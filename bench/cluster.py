"""sala on one process and on several: chat throughput, latency and CPU per delivered message.

    flock /tmp/sala-test.lock .venv/bin/python -m bench.cluster [--meetings 60] [--per-meeting 20]
        [--setups single,cluster] [--fronts 3] [--crowds 2] [--rate 1] [--senders 5]
        [--in-flight 4] [--cap 20] [--warmup 3] [--duration 20] [--saturate 15] [--idle 5]
        [--drain 10] [--media-burst 30] [--burst-seconds 1] [--burst-runs 5]
        [--watch-server-gc] [--profile DIR] [--json out.json] [--keep]

Run it under the shared lock, never beside the tests: it wants the machine's two cores.
One PostgreSQL (tests/support/postgres.py, on loopback) serves both setups, a database each:

- **single**: `sala serve` (role all: the API, the rooms and its `sala worker` child) on
  PostgreSQL without Redis, the single-process baseline;
- **cluster**: `--fronts` × `sala serve --role frontend` and one `sala serve --role worker`
  on the same PostgreSQL and a Redis (tests/support/redis.py), started by tests/support/cluster.py
  without its nginx: the clients talk to each node's own port, so the proxy's CPU is in neither
  setup's figures.

For each setup, `--meetings` meetings are created through the front ends in turn and each gets
`--per-meeting` WebSocket clients (bench/crowd.py: `--crowds` processes, each with some of the
meetings, all joining like browsers and connecting to the meeting owner's own
`/n/<node>/room/ws`). The first client of meeting i asks `/room/route` on front end i mod F, so
the meetings spread evenly over the front ends as the proxy's round robin would spread them.
Then, each window preceded by `--warmup` s of the same load:

1. idle (`--idle` s): everybody connected, only the browsers' pings (every 20 s) flowing;
2. moderate (`--duration` s): `--rate` public chat messages a second in every meeting, on an
   absolute schedule spread evenly over the meetings, from `--senders` people per meeting in
   turn: p50/p99/max latency per recipient (each delivery to a client other than the sender)
   and per message to everybody (the last of its deliveries), and CPU per delivery;
3. saturation (`--saturate` s): `--in-flight` messages in flight in every meeting at all times
   (the next is sent as soon as one has reached all of its meeting's clients, at most `--cap` a
   second per meeting, from all the meeting's people in turn), so the servers always have more
   to do than they can: the aggregate delivery rate is what they achieved.

`--duration 0` or `--saturate 0` skips that phase. PostgreSQL's transaction and row counters
(pg_stat_database) are read around each phase and given per message. `--watch-server-gc` logs
the single process's garbage collections (bench/room.py's hook) and reports those in a window;
`--profile DIR` runs py-spy on every sala process over each window (figures then inflated).

A delivery is one chat frame received by a client, the sender's own echo included (the server
writes it too); deliveries/s and CPU are over the window's wall time, from counters the crowd
processes read at the window's start and end. CPU is utime + stime from /proc/<pid>/stat (all
threads, plus children, and children already reaped): "sala" is every sala process (the single
`sala serve` and its worker child; the front ends and the worker), "redis" and "postgres" their
servers (PostgreSQL's backends included), "load" the crowd processes and this one, "other" the
rest of the machine's busy time (/proc/stat). The cluster's figures are also given as ratios of
the single process's; the targets (issue 15) are printed against them.

`--media-burst N` (as root, with Janus): three media nodes, each a real Janus in a network
namespace of its own with its media agent (tests/support/media_nodes.py), and three front ends'
media placement (sala/media/nodes.py, each with its own ramp-up charge) sharing one registry and
one lease directory; N meetings' first media use within `--burst-seconds`, from the front ends in
turn, `--burst-runs` times on fresh nodes. It reports meetings per node (target: max/min <=
1.5). 0 skips it; `--setups none` runs only the bursts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from bench.crowd import CrowdSpec, crowd_process
from bench.media_burst import BurstResult, media_burst
from bench.pipe import pipe_answer
from bench.room import (
    CLK_TCK,
    SECRET,
    Server,
    _fmt,
    _progress,
    clock,
    environment,
    machine_busy_s,
    ms,
    percentile,
    proc_cpu_s,
    run_on_loop,
    signed,
    summarize_profile,
    tree_cpu_s,
)
from tests.support.cluster import LocalCluster
from tests.support.postgres import PostgresServer, postgres_available
from tests.support.redis import RedisServer, redis_available
from tests.support.room_socket import RoomSocket

TARGET_CPU_RATIO = 1.3
TARGET_SATURATION_RATIO = 1.7
TARGET_P99_MS = 100.0
TARGET_SPREAD = 1.5
START_IN_S = 1.0  # a phase starts this long after it is announced, so every crowd is ready
COUNTERS_SETTLE_S = 2.0  # PostgreSQL's backends report their counters about once a second
JOIN_TIMEOUT_S = 300.0
CREATE_CONCURRENCY = 10


# ------------------------------------------------------------------------------------ CPU --
def reaped_cpu_s(pid: int) -> float:
    """cutime + cstime: the CPU of `pid`'s children that have exited (PostgreSQL's backends)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2 :].split()
    return (int(fields[13]) + int(fields[14])) / CLK_TCK


def total_cpu_s(pid: int) -> float:
    """A process, its live descendants and its reaped children; 0 once it is gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return sum(tree_cpu_s(pid).values()) + reaped_cpu_s(pid)
    return 0.0


def _own_cpu_s(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return proc_cpu_s(pid)
    return 0.0


@dataclass
class Sample:
    wall: float
    groups: dict[str, float]
    processes: dict[str, float]
    machine: float
    steal: float


class Meter:
    """Which processes make up which group, and their CPU at a moment."""

    def __init__(self, sala: dict[str, int], postgres: int, redis: int | None, load: list[int]):
        self.sala = sala
        self.postgres = postgres
        self.redis = redis
        self.load = load

    def take(self) -> Sample:
        busy, steal = machine_busy_s()
        processes: dict[str, float] = {}
        for name, pid in self.sala.items():
            whole = total_cpu_s(pid)
            processes[name] = own = _own_cpu_s(pid)
            if whole - own > 0.005:  # `sala serve`'s worker child (not a rounding)
                processes[f"{name} children"] = whole - own
        groups = {
            "sala": sum(processes.values()),
            "redis": total_cpu_s(self.redis) if self.redis is not None else 0.0,
            "postgres": total_cpu_s(self.postgres),
            "load": sum(total_cpu_s(pid) for pid in self.load) + proc_cpu_s(os.getpid()),
        }
        return Sample(clock(), groups, processes, busy, steal)


@dataclass
class Cpu:
    """CPU over a window, in % of one core."""

    wall_s: float
    pct: dict[str, float]
    processes_pct: dict[str, float]
    machine_pct: float
    other_pct: float
    steal_pct: float

    @classmethod
    def between(cls, a: Sample, b: Sample) -> Cpu:
        wall = b.wall - a.wall

        def pct(seconds: float) -> float:
            return round(100.0 * seconds / wall, 1)

        groups = {k: b.groups[k] - a.groups[k] for k in b.groups}
        machine = b.machine - a.machine
        return cls(
            round(wall, 3),
            {k: pct(v) for k, v in groups.items()},
            {k: pct(b.processes[k] - a.processes.get(k, 0.0)) for k in b.processes},
            pct(machine),
            pct(max(0.0, machine - sum(groups.values()))),
            pct(b.steal - a.steal),
        )


# --------------------------------------------------------------------------------- setups --
class Setup(Protocol):
    name: str
    fronts: list[str]
    """Every front end's base URL: the API and /room/route, any of them."""
    nodes: dict[str, str]
    """node ID -> its own base URL (where its meetings' WebSockets go); empty: one process."""

    async def start(self) -> None: ...

    def sala(self) -> dict[str, int]:
        """The sala processes: label -> PID."""
        ...

    def redis_pid(self) -> int | None: ...

    def gc_pauses(self, start: float, end: float) -> list[tuple[int, float]] | None:
        """--watch-server-gc: the sala process's collections in a window (single only)."""
        ...

    def stop(self) -> None: ...


class Single:
    """`sala serve` on PostgreSQL, no Redis: everything in one process (and its worker)."""

    name = "single"

    def __init__(self, workdir: Path, database_url: str, watch_gc: bool) -> None:
        env = {"SALA_DATABASE_URL": database_url, "SALA_MEDIA": "false"}
        self.server = Server(workdir, "single", watch_gc=watch_gc, env=env)
        self.fronts = [self.server.base]
        self.nodes: dict[str, str] = {}

    async def start(self) -> None:
        self.server.start()
        async with httpx.AsyncClient(timeout=10) as http:
            await self.server.wait_ready(http)

    def sala(self) -> dict[str, int]:
        return {"sala serve": self.server.pid}

    def redis_pid(self) -> int | None:
        return None

    def gc_pauses(self, start: float, end: float) -> list[tuple[int, float]] | None:
        return self.server.gc_pauses(start, end) if self.server.gc_log is not None else None

    def stop(self) -> None:
        self.server.stop()


class Cluster:
    """Front ends and a worker on PostgreSQL and Redis, without the proxy."""

    name = "cluster"

    def __init__(self, workdir: Path, database_url: str, fronts: int) -> None:
        self._workdir = workdir / "cluster"
        self._database_url = database_url
        self._count = fronts
        self.redis = RedisServer()
        self.local: LocalCluster | None = None
        self.fronts: list[str] = []
        self.nodes: dict[str, str] = {}

    async def start(self) -> None:
        await asyncio.to_thread(self.redis.start)
        local = self.local = LocalCluster(self._workdir, self._database_url, self.redis.url, SECRET)
        for index in range(1, self._count + 1):
            await asyncio.to_thread(local.start_front_end, f"fe{index}")
        local.start_worker("worker1")
        self.fronts = [node.base for node in local.front_ends()]
        self.nodes = {node.node_id: node.base for node in local.front_ends()}

    def sala(self) -> dict[str, int]:
        assert self.local is not None
        return {node_id: node.process.pid for node_id, node in self.local.nodes.items()}

    def redis_pid(self) -> int | None:
        return self.redis.pid

    def gc_pauses(self, start: float, end: float) -> list[tuple[int, float]] | None:
        return None

    def stop(self) -> None:
        if self.local is not None:
            self.local.stop()
        self.redis.stop()


# --------------------------------------------------------------------------------- crowds --
class Crowd:
    """A crowd process (bench/crowd.py) and the pipe to it."""

    def __init__(self, spec: CrowdSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self._process = context.Process(
            target=crowd_process, args=(spec, child), name=f"bench-crowd-{spec.index}", daemon=True
        )
        self._process.start()
        child.close()
        self.index = spec.index

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    async def ask(self, command: str, args: dict[str, Any], within_s: float) -> dict[str, Any]:
        self._control.send((command, args))
        return await pipe_answer(
            self._control,
            within_s,
            silent=f"crowd {self.index} did not answer {command!r} in {within_s:.0f} s",
            failed=f"crowd {self.index} failed at {command!r}",
        )

    async def close(self) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            answer = await self.ask("close", {}, 60)
        await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 10)
        self._control.close()
        return answer


# -------------------------------------------------------------------------------- results --
@dataclass
class Spread:
    """Latencies: median, 99th percentile and largest, in ms."""

    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Spread:
        return cls(*(ms(percentile(seconds, q)) for q in (50, 99, 100)))


@dataclass
class Phase:
    kind: str
    offered: str
    window_s: float = 0.0
    sent: int = 0
    lost: int = 0
    incomplete: int = 0
    """Messages sent in the window that did not reach everybody by the end of the drain."""
    deliveries: int = 0
    messages: int = 0
    deliveries_per_s: float = 0.0
    messages_per_s: float = 0.0
    recipient: Spread = field(default_factory=lambda: Spread())
    """Each delivery to a client other than the sender."""
    everybody: Spread = field(default_factory=lambda: Spread())
    """Per message, the last of its deliveries."""
    send_lag_max_ms: float = 0.0
    duplicates: int = 0
    unknown: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    disconnected: dict[str, int] = field(default_factory=dict)
    cpu: Cpu | None = None
    us_per_delivery: dict[str, float] = field(default_factory=dict)
    server_gc: list[tuple[int, float]] | None = None
    """--watch-server-gc: (generation, ms) of the single process's collections in the window."""
    database_per_message: dict[str, float] = field(default_factory=dict)
    """PostgreSQL's counters (pg_stat_database) over the whole phase, per message sent."""
    profile: dict[str, Any] = field(default_factory=dict)
    """--profile: per sala process, py-spy's top functions (self and inclusive, % of samples)."""

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicates or self.unknown or self.errors
                    or self.disconnected)  # fmt: skip


@dataclass
class SetupResult:
    name: str
    fronts: int
    meetings: int
    clients: int
    join_wall_s: float = 0.0
    join_p50_ms: float | None = None
    join_p99_ms: float | None = None
    owners: dict[str, int] = field(default_factory=dict)
    idle: Cpu | None = None
    phases: list[Phase] = field(default_factory=list)

    def phase(self, kind: str) -> Phase | None:
        return next((p for p in self.phases if p.kind == kind), None)


def _merge(kind: str, offered: str, ran: Ran) -> Phase:
    answers, cpu = ran.answers, ran.cpu
    recipient, everybody = array("d"), array("d")
    for answer in answers:
        recipient.frombytes(answer["recipient"])
        everybody.frombytes(answer["everybody"])
    r = Phase(kind, offered, window_s=cpu.wall_s)
    r.sent = sum(a["sent"] for a in answers)
    r.lost = sum(a["lost"] for a in answers)
    r.incomplete = sum(a["incomplete_measured"] for a in answers)
    r.deliveries = sum(a["frames"] for a in answers)
    r.messages = sum(a["completed"] for a in answers)
    r.deliveries_per_s = round(r.deliveries / cpu.wall_s, 1)
    r.messages_per_s = round(r.messages / cpu.wall_s, 1)
    r.recipient, r.everybody = Spread.of(recipient), Spread.of(everybody)
    r.send_lag_max_ms = round(1000.0 * max(a["lag_s"] for a in answers), 1)
    r.duplicates = sum(a["duplicates"] for a in answers)
    r.unknown = sum(a["unknown"] for a in answers)
    for answer in answers:
        for key in ("errors", "disconnected"):
            target: dict[str, int] = getattr(r, key)
            for what, count in answer[key].items():
                target[what] = target.get(what, 0) + count
    r.cpu = cpu
    r.profile = ran.profile
    if r.sent:
        r.database_per_message = {k: round(v / r.sent, 2) for k, v in ran.database.items()}
    if r.deliveries:
        r.us_per_delivery = {
            group: round(1e4 * pct * cpu.wall_s / r.deliveries, 2) for group, pct in cpu.pct.items()
        }
    return r


# ------------------------------------------------------------------------------------ run --
@dataclass
class Options:
    setups: list[str]
    meetings: int
    per_meeting: int
    fronts: int
    crowds: int
    rate: float
    senders: int
    in_flight: int
    cap: float
    warmup: float
    duration: float
    saturate: float
    idle: float
    settle: float
    drain: float
    join_concurrency: int
    ping_interval: float
    loop: str
    media_burst: int
    burst_seconds: float
    burst_runs: int
    json_path: Path | None
    keep: bool
    profile: Path | None = None
    watch_server_gc: bool = False


async def _until(at: float) -> None:
    await asyncio.sleep(max(0.0, at - clock()))


async def _create_meetings(setup: Setup, o: Options) -> list[str]:
    ids = [f"bench-cluster-{i:03d}" for i in range(o.meetings)]
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)
    async with httpx.AsyncClient(timeout=30) as http:

        async def create(i: int, meeting_id: str) -> None:
            base = setup.fronts[i % len(setup.fronts)]
            params = [("name", f"Bench {i}"), ("meetingID", meeting_id)]
            async with gate:
                answer = await http.get(signed(base, "create", params))
            if "<returncode>SUCCESS</returncode>" not in answer.text:
                raise RuntimeError(f"create {meeting_id} failed: {answer.text[:300]}")

        await asyncio.gather(*(create(i, m) for i, m in enumerate(ids)))
    return ids


async def _warm(setup: Setup) -> None:
    """One person in a meeting of each front end's own, one front end after the other: each
    renders (or, on a shared data dir, finds) the default presentation before the crowds come.
    Front ends rendering it at the same moment into the shared folder fail a room's first
    welcome (see docs/performance.md), which is not what this bench measures."""
    async with httpx.AsyncClient(timeout=30) as http:
        for i, base in enumerate(setup.fronts):
            meeting_id = f"bench-warm-{i}"
            params = [("name", meeting_id), ("meetingID", meeting_id)]
            await http.get(signed(base, "create", params))
            person = await RoomSocket.join(http, base, SECRET, meeting_id, "Warm", deflate=False)
            await person.close()


class Profiles:
    """--profile: `py-spy record` on every sala process over a window (sampling slows them:
    profiled figures are not the headline ones)."""

    def __init__(self, folder: Path, label: str, pids: dict[str, int], seconds: float) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        folder.mkdir(parents=True, exist_ok=True)
        self.outputs = {name: folder / f"{label}-{name}.txt" for name in pids}
        argv = [spy, "record", "--rate", "100", "--nonblocking", "--subprocesses",
                "--format", "raw", "--duration", str(math.ceil(seconds))]  # fmt: skip
        self._spies = [
            subprocess.Popen(
                [*argv, "--pid", str(pid), "--output", str(self.outputs[name])],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, pid in pids.items()
        ]

    def finish(self, within_s: float) -> dict[str, dict[str, list[tuple[str, float]]]]:
        for spy in self._spies:
            try:
                spy.wait(timeout=within_s)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait(timeout=10)
        summaries = {}
        for name, out in self.outputs.items():
            own, inclusive = summarize_profile(out, limit=15)
            summaries[name] = {"self": own, "inclusive": inclusive}
        return summaries


PG_COUNTERS = ("xact_commit", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated")


async def pg_counters(pg: PostgresServer, database: str) -> dict[str, int]:
    """The database's transaction and row counters (pg_stat_database; backends report them
    about once a second, so read them over a whole phase and a pause after it)."""
    columns = ", ".join(PG_COUNTERS)
    sql = f"SELECT {columns} FROM pg_stat_database WHERE datname = '{database}'"
    line = (await asyncio.to_thread(pg.execute, sql)).strip()
    return dict(zip(PG_COUNTERS, (int(v) for v in line.split("|")), strict=True))


@dataclass
class Ran:
    """What one phase brought back: the crowds' answers, CPU over the window, py-spy's
    summaries, and PostgreSQL's counters over the whole phase."""

    answers: list[dict[str, Any]]
    cpu: Cpu
    profile: dict[str, Any]
    database: dict[str, int]
    window: tuple[float, float]


async def _phase(
    crowds: list[Crowd], meter: Meter, command: str, args: dict[str, Any], o: Options,
    counters: Callable[[], Awaitable[dict[str, int]]],
) -> Ran:  # fmt: skip
    """Run one load phase in every crowd at once; CPU over its measured window (and, with
    --profile, where the sala processes spent it)."""
    before = await counters()
    t0 = clock() + START_IN_S
    args = {**args, "t0": t0, "meetings": o.meetings, "drain": o.drain}
    a = t0 + args["warmup"]
    b = a + args["duration"]
    timeout = b - clock() + o.drain + 60
    asked = [asyncio.create_task(c.ask(command, args, timeout)) for c in crowds]
    await _until(a)
    spies = None
    if o.profile is not None:
        label = f"{args['setup']}-{command}"
        spies = Profiles(o.profile, label, meter.sala, args["duration"])
    first = meter.take()
    await _until(b)
    cpu = Cpu.between(first, meter.take())
    profile = await asyncio.to_thread(spies.finish, 30) if spies is not None else {}
    answers = list(await asyncio.gather(*asked))
    await asyncio.sleep(COUNTERS_SETTLE_S)
    after = await counters()
    database = {k: after[k] - before[k] for k in PG_COUNTERS}
    return Ran(answers, cpu, profile, database, (a, b))


def _gc(setup: Setup, ran: Ran) -> list[tuple[int, float]] | None:
    pauses = setup.gc_pauses(*ran.window)
    return None if pauses is None else [(gen, round(1000 * took, 1)) for gen, took in pauses]


async def run_setup(setup: Setup, pg: PostgresServer, database: str, o: Options) -> SetupResult:
    result = SetupResult(setup.name, len(setup.fronts), o.meetings, o.meetings * o.per_meeting)
    _progress(f"{setup.name}: starting")
    await setup.start()
    result.fronts = len(setup.fronts)
    crowds: list[Crowd] = []
    try:
        await _warm(setup)
        ids = await _create_meetings(setup, o)
        for k in range(o.crowds):
            mine = [(i, m, setup.fronts[i % len(setup.fronts)]) for i, m in enumerate(ids)
                    if i % o.crowds == k]  # fmt: skip
            spec = CrowdSpec(k, mine, o.per_meeting, setup.fronts, setup.nodes,
                             o.join_concurrency, o.ping_interval, o.loop)  # fmt: skip
            crowds.append(Crowd(spec))
        assert pg.pid is not None
        meter = Meter(setup.sala(), pg.pid, setup.redis_pid(), [c.pid for c in crowds])

        async def counters() -> dict[str, int]:
            return await pg_counters(pg, database)

        started = clock()
        joins = await asyncio.gather(*(c.ask("join", {}, JOIN_TIMEOUT_S) for c in crowds))
        result.join_wall_s = round(clock() - started, 1)
        failures = [f for j in joins for f in j["failures"]]
        if failures:
            raise RuntimeError(f"{len(failures)} joins failed, e.g. {failures[:3]}")
        times = [t for j in joins for t in j["join_s"]]
        result.join_p50_ms = ms(percentile(times, 50))
        result.join_p99_ms = ms(percentile(times, 99))
        owners = Counter(owner or "single" for j in joins for owner in j["owners"].values())
        result.owners = dict(sorted(owners.items()))
        _progress(f"  {len(times)} clients joined in {result.join_wall_s} s; meetings per "
                  f"node {result.owners}")  # fmt: skip
        await asyncio.sleep(o.settle)

        first = meter.take()
        await asyncio.sleep(o.idle)
        result.idle = Cpu.between(first, meter.take())
        _progress(f"  idle: {result.idle.pct}")

        if o.duration > 0:
            moderate = {"warmup": o.warmup, "duration": o.duration, "rate": o.rate,
                        "senders": o.senders, "setup": setup.name}  # fmt: skip
            ran = await _phase(crowds, meter, "open", moderate, o, counters)
            result.phases.append(_merge("moderate", f"{o.rate:g}/s per meeting", ran))
            result.phases[-1].server_gc = _gc(setup, ran)
            _progress("  " + row(setup.name, result.phases[-1]))
        if o.saturate > 0:
            closed = {"warmup": o.warmup, "duration": o.saturate, "in_flight": o.in_flight,
                      "cap": o.cap, "senders": o.per_meeting, "setup": setup.name}  # fmt: skip
            ran = await _phase(crowds, meter, "closed", closed, o, counters)
            offered = f"{o.in_flight} in flight per meeting (<= {o.cap:g}/s)"
            result.phases.append(_merge("saturation", offered, ran))
            result.phases[-1].server_gc = _gc(setup, ran)
            _progress("  " + row(setup.name, result.phases[-1]))
    finally:
        for answer in await asyncio.gather(*(c.close() for c in crowds)):
            if answer.get("errors") or answer.get("disconnected"):
                _progress(f"  at close: {answer}")
        setup.stop()
    return result


async def amain(o: Options) -> list[SetupResult]:
    results: list[SetupResult] = []
    if not o.setups:
        return results
    workdir = Path(tempfile.mkdtemp(prefix="sala-bench-cluster-"))
    _progress(f"work dir {workdir}; load average {os.getloadavg()}")
    pg = PostgresServer()
    try:
        await asyncio.to_thread(pg.start)
        for name in o.setups:
            database = f"bench_{name}"
            url = pg.create_database(database)
            setup: Setup = (
                Single(workdir, url, o.watch_server_gc)
                if name == "single"
                else Cluster(workdir, url, o.fronts)
            )
            results.append(await run_setup(setup, pg, database, o))
    finally:
        pg.stop()
        if not o.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


# --------------------------------------------------------------------------------- report --
HEADER = (
    f"{'setup':<8} {'phase':<10} {'msg/s':>6} {'dlv/s':>7} {'rcpt p50':>8} {'p99':>6} "
    f"{'max':>6} {'all p99':>7} {'sala':>6} {'redis':>5} {'pg':>5} {'load':>5} {'other':>5} "
    f"{'sala µs':>7} {'+redis':>6} {'pg µs':>6} {'load µs':>7} {'lost':>4}"
)


def row(name: str, p: Phase) -> str:
    cpu = p.cpu
    assert cpu is not None
    us = p.us_per_delivery
    return (
        f"{name:<8} {p.kind:<10} {p.messages_per_s:>6.0f} {p.deliveries_per_s:>7.0f} "
        f"{_fmt(p.recipient.p50_ms):>8} {_fmt(p.recipient.p99_ms):>6} "
        f"{_fmt(p.recipient.max_ms):>6} {_fmt(p.everybody.p99_ms):>7} "
        f"{cpu.pct['sala']:>5.0f}% {cpu.pct['redis']:>4.0f}% {cpu.pct['postgres']:>4.0f}% "
        f"{cpu.pct['load']:>4.0f}% {cpu.other_pct:>4.0f}% "
        f"{us.get('sala', 0):>7.1f} {us.get('sala', 0) + us.get('redis', 0):>6.1f} "
        f"{us.get('postgres', 0):>6.1f} {us.get('load', 0):>7.1f} {p.lost:>4}"
    )


def _ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else round(value / base, 2)


def ratios(single: SetupResult, cluster: SetupResult) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for kind in ("moderate", "saturation"):
        a, b = single.phase(kind), cluster.phase(kind)
        if a is None or b is None:
            continue
        out[f"{kind} deliveries/s"] = _ratio(b.deliveries_per_s, a.deliveries_per_s)
        out[f"{kind} p99 per recipient"] = _ratio(b.recipient.p99_ms, a.recipient.p99_ms)
        out[f"{kind} p99 to everybody"] = _ratio(b.everybody.p99_ms, a.everybody.p99_ms)
        ua, ub = a.us_per_delivery, b.us_per_delivery
        out[f"{kind} CPU/delivery sala"] = _ratio(ub.get("sala"), ua.get("sala"))
        out[f"{kind} CPU/delivery sala+redis"] = _ratio(
            ub.get("sala", 0) + ub.get("redis", 0), ua.get("sala", 0) + ua.get("redis", 0)
        )
        out[f"{kind} CPU/delivery postgres"] = _ratio(ub.get("postgres"), ua.get("postgres"))
        out[f"{kind} CPU/delivery load"] = _ratio(ub.get("load"), ua.get("load"))
        out[f"{kind} CPU/delivery all"] = _ratio(sum(ub.values()), sum(ua.values()))
        if kind == "moderate":
            # What each message costs, without what the setup costs with nobody chatting
            # (pings; for the cluster also heartbeats and lease renewals).
            out["moderate CPU/delivery sala+redis, net of idle"] = _ratio(
                _net_us(cluster, b), _net_us(single, a)
            )
    return out


def _net_us(r: SetupResult, p: Phase) -> float | None:
    """sala + Redis µs per delivery in phase `p`, less the setup's idle CPU over the window."""
    if r.idle is None or p.cpu is None or not p.deliveries:
        return None
    busy = sum(p.cpu.pct[g] - r.idle.pct[g] for g in ("sala", "redis"))
    return 1e4 * busy * p.cpu.wall_s / p.deliveries


def report(o: Options, results: list[SetupResult], bursts: list[BurstResult],
           command: str) -> None:  # fmt: skip
    print()
    print(f"command: {command}")
    print(
        f"{o.meetings} meetings x {o.per_meeting} WebSocket clients; moderate: {o.rate:g} "
        f"msg/s per meeting from {o.senders} senders for {o.duration:g} s; saturation: "
        f"{o.in_flight} in flight per meeting for {o.saturate:g} s; {o.warmup:g} s warm-up "
        f"each; latency in ms; CPU in % of one core and µs per delivery (one chat frame "
        f"received, echo included); 'load' = the {o.crowds} crowd processes + this one"
    )
    for r in results:
        print(f"\n{r.name}: {r.fronts} front end(s), meetings per node {r.owners}; "
              f"{r.clients} clients joined in {r.join_wall_s:.1f} s (join p50/p99 "
              f"{_fmt(r.join_p50_ms, '.0f')}/{_fmt(r.join_p99_ms, '.0f')} ms)")  # fmt: skip
        if r.idle is not None:
            print(f"  idle CPU: {r.idle.pct}, per process {r.idle.processes_pct}, "
                  f"other {r.idle.other_pct}%")  # fmt: skip
        for p in r.phases:
            assert p.cpu is not None
            notes = [
                f"{p.kind}: offered {p.offered}, {p.sent} sent",
                f"{p.messages} reached everybody in the window",
                f"per process {p.cpu.processes_pct}",
                f"everybody p50/p99/max {_fmt(p.everybody.p50_ms)}/"
                f"{_fmt(p.everybody.p99_ms)}/{_fmt(p.everybody.max_ms)} ms",
                f"machine {p.cpu.machine_pct}% (steal {p.cpu.steal_pct}%)",
                f"PostgreSQL per message {p.database_per_message}",
            ]
            if p.kind == "moderate":
                notes.append(f"send lag max {p.send_lag_max_ms} ms")
            if p.incomplete:
                notes.append(f"{p.incomplete} measured messages incomplete")
            if p.server_gc is not None:
                gen2 = [took for gen, took in p.server_gc if gen == 2]
                notes.append(
                    f"server GC in window: {len(gen2)} gen-2 (max {max(gen2, default=0):.0f} ms),"
                    f" {len(p.server_gc) - len(gen2)} younger over 2 ms"
                )
            if p.profile:
                notes.append("PROFILED (py-spy attached: figures inflated)")
            if not p.ok:
                notes.append(
                    f"PROBLEMS: lost {p.lost}, dup {p.duplicates}, unknown {p.unknown}, "
                    f"errors {p.errors}, disconnected {p.disconnected}"
                )
            print("  " + "; ".join(notes))
            for name, shares in p.profile.items():
                print(f"    py-spy {name}, self: " + ", ".join(
                    f"{share}% {where}" for where, share in shares["self"][:10]))  # fmt: skip
                print(f"    py-spy {name}, inclusive: " + ", ".join(
                    f"{share}% {where}" for where, share in shares["inclusive"][:15]))  # fmt: skip
    print()
    print(HEADER)
    for r in results:
        for p in r.phases:
            print(row(r.name, p))
    single = next((r for r in results if r.name == "single"), None)
    cluster = next((r for r in results if r.name == "cluster"), None)
    if single is not None and cluster is not None:
        found = ratios(single, cluster)
        print(f"\ncluster / single ({cluster.fronts} front ends / one process):")
        for name, value in found.items():
            print(f"  {name:<36} {_fmt(value, '.2f')}")
        targets(found, results)
    for n, burst in enumerate(bursts, 1):
        print(f"\nmedia burst {n}: {burst.summary()}")
    spreads = [b.spread for b in bursts if not b.skipped]
    if spreads:
        worst = None if None in spreads else max(s for s in spreads if s is not None)
        held = worst is not None and worst <= TARGET_SPREAD
        print(f"  worst max/min over {len(spreads)} bursts: {_fmt(worst, '.2f')} "
              f"({'HOLDS' if held else 'MISSED'} <= {TARGET_SPREAD})")  # fmt: skip


def targets(found: dict[str, float | None], results: list[SetupResult]) -> None:
    def verdict(ok: bool) -> str:
        return "HOLDS" if ok else "MISSED"

    cpu = found.get("moderate CPU/delivery sala+redis")
    sat = found.get("saturation deliveries/s")
    cpu_ok = cpu is not None and cpu <= TARGET_CPU_RATIO
    sat_ok = sat is not None and sat >= TARGET_SATURATION_RATIO
    print("\ntargets:")
    print(f"  CPU per delivery (sala + redis) across front ends <= {TARGET_CPU_RATIO}x one "
          f"process: {_fmt(cpu, '.2f')}x {verdict(cpu_ok)}")  # fmt: skip
    print(f"  saturated aggregate delivery >= {TARGET_SATURATION_RATIO}x one front end's: "
          f"{_fmt(sat, '.2f')}x {verdict(sat_ok)}")  # fmt: skip
    for r in results:
        p = r.phase("moderate")
        if p is not None:
            p99 = p.everybody.p99_ms
            held = p99 is not None and p99 < TARGET_P99_MS and p.ok
            print(f"  {r.name}: p99 to everybody < {TARGET_P99_MS:g} ms at the moderate rate: "
                  f"{_fmt(p99)} ms {verdict(held)}")  # fmt: skip


# ----------------------------------------------------------------------------------- main --
def parse_args(argv: Sequence[str] | None = None) -> Options:
    ap = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n")[0])
    ap.add_argument("--setups", default="single,cluster", help="single, cluster, both or none")
    ap.add_argument("--meetings", type=int, default=60)
    ap.add_argument("--per-meeting", type=int, default=20, help="WebSocket clients per meeting")
    ap.add_argument("--fronts", type=int, default=3, help="front ends of the cluster")
    ap.add_argument("--crowds", type=int, default=2, help="load generator processes")
    ap.add_argument("--rate", type=float, default=1.0, help="moderate: msg/s per meeting")
    ap.add_argument("--senders", type=int, default=5, help="moderate: senders per meeting")
    ap.add_argument("--in-flight", type=int, default=4, help="saturation: per meeting")
    ap.add_argument("--cap", type=float, default=20.0, help="saturation: msg/s per meeting at most")
    ap.add_argument("--warmup", type=float, default=3.0, help="load before each window, s")
    ap.add_argument("--duration", type=float, default=20.0, help="moderate window, s (0: none)")
    ap.add_argument("--saturate", type=float, default=15.0, help="saturation window, s (0: none)")
    ap.add_argument("--idle", type=float, default=5.0, help="idle window, s")
    ap.add_argument("--settle", type=float, default=3.0, help="after the joins, s")
    ap.add_argument("--drain", type=float, default=10.0, help="after a phase's last send, at most")
    ap.add_argument("--join-concurrency", type=int, default=10, help="per crowd process")
    ap.add_argument("--ping-interval", type=float, default=20.0, help="app ping per client, s")
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    ap.add_argument("--media-burst", type=int, default=30,
                    help="meetings whose first media use comes at once (0: skip)")  # fmt: skip
    ap.add_argument("--burst-seconds", type=float, default=1.0)
    ap.add_argument("--burst-runs", type=int, default=5, help="bursts, each on fresh nodes")
    ap.add_argument("--json", dest="json_path", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    ap.add_argument("--profile", type=Path, help="py-spy the sala processes' windows into DIR")
    ap.add_argument("--watch-server-gc", action="store_true",
                    help="log the single process's garbage collections")  # fmt: skip
    a = ap.parse_args(argv)
    setups = [s for s in str(a.setups).split(",") if s and s != "none"]
    if set(setups) - {"single", "cluster"} or not (setups or a.media_burst):
        ap.error("--setups: single, cluster, single,cluster or none (with --media-burst)")
    if not 1 <= a.meetings <= 500 or not 2 <= a.per_meeting <= 200:
        ap.error("--meetings 1..500, --per-meeting 2..200")
    if not 1 <= a.fronts <= 8 or not 1 <= a.crowds <= 8 or a.in_flight < 1:
        ap.error("--fronts 1..8, --crowds 1..8, --in-flight >= 1")
    if a.rate <= 0 or a.cap <= 0 or a.duration < 0 or a.saturate < 0:
        ap.error("--rate and --cap must be positive; --duration or --saturate 0 skips that phase")
    if a.duration + a.saturate + 2 * a.warmup + a.idle > 300:
        ap.error("keep the windows under 300 s in all: the machine is shared")
    senders = min(a.senders, a.per_meeting)
    if a.rate / senders >= 3.0 or a.cap > 30.0 or a.cap / a.per_meeting >= 3.0:
        ap.error("stay under sala's chat limits: 3/s per user, 30/s per meeting")
    return Options(
        setups=setups, meetings=a.meetings, per_meeting=a.per_meeting, fronts=a.fronts,
        crowds=a.crowds, rate=a.rate, senders=senders, in_flight=a.in_flight, cap=a.cap,
        warmup=a.warmup, duration=a.duration, saturate=a.saturate, idle=a.idle,
        settle=a.settle, drain=a.drain, join_concurrency=a.join_concurrency,
        ping_interval=a.ping_interval, loop=a.loop, media_burst=a.media_burst,
        burst_seconds=a.burst_seconds, burst_runs=a.burst_runs if a.media_burst else 0,
        json_path=a.json_path, keep=a.keep, profile=a.profile,
        watch_server_gc=a.watch_server_gc,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    o = parse_args(argv)
    for reason in (postgres_available(), redis_available() if "cluster" in o.setups else None):
        if reason is not None:
            raise SystemExit(reason)
    args = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.cluster", *args])
    env = {**environment(), "machine": platform.platform(), "cpu": _cpu_model()}
    results = run_on_loop(o.loop, amain(o))
    bursts = [media_burst(o.media_burst, o.burst_seconds) for _ in range(o.burst_runs)]
    report(o, results, bursts, command)
    if o.json_path is not None:
        payload = {
            "command": command,
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(o).items()},
            "environment": env,
            "results": [asdict(r) for r in results],
            "media_bursts": [asdict(burst) for burst in bursts],
        }
        o.json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    ok = all(p.ok for r in results for p in r.phases)
    return 0 if ok else 1


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "-"


if __name__ == "__main__":
    sys.exit(main())

"""Webhooks under load: delivery throughput, and what 100 hooks cost the API, on loopback.

    .venv/bin/python -m bench.webhooks [--hooks 100] [--events 200] [--clients 20]
        [--duration 10] [--warmup 2] [--meetings 100] [--paced-rate 50] [--rounds 1]
        [--retries 2] [--quiet-wait 600] [--json out.json] [--profile DIR]

Everything runs on 127.0.0.1 with SQLite (sala's default store), each sala on a fresh data dir:

1. Delivery throughput. A fresh `sala serve` gets `--hooks` global hooks, each with its own
   callback path (/h/000, /h/001...) on one receiver. Then `--clients` connections create and end
   `--events`/2 meetings as fast as sala answers (one meeting-created and one meeting-ended event
   each), and the clock runs from the first request of that burst until the receiver holds every
   expected delivery (events x hooks). Every delivery is checked: `Authorization: Bearer <the
   authToken hooks/create gave that path's hook>`, an `X-Sala-Delivery-Id` (unique; a repeat is
   counted as a duplicate), the `checksum` query parameter (sha1 of callback URL + body + secret),
   and the event itself, so that each (hook, meeting, event) arrives exactly once: nothing
   missing, nothing unexpected, meeting-created before meeting-ended for each hook.
2. Added latency. `create` (unique meetingIDs) and `join` (redirect=false, cycling over
   `--meetings` live meetings) over `--clients` keep-alive connections, against a fresh sala
   without hooks and then a fresh sala with `--hooks` hooks on the same receiver (`--rounds`
   times, alternating; verdicts use medians). Each server runs the same sequence: create the join
   meetings and wait until their deliveries have drained (hooks only), then create and join paced
   at `--paced-rate` requests/s (open loop, latency from each request's scheduled time), then
   join and create in a closed loop (each connection sends as soon as its answer arrives; join
   first, so both servers reach it with the same history); each phase warms up for `--warmup` s
   and is measured for `--duration` s. join writes no webhook event of its own (user-registered
   has none in bbb-webhooks), so during its windows the deliveries flowing are the paced create's
   backlog. Deliveries received in each window are
   counted (per second too) and printed next to its figures with the backlog (expected deliveries
   not yet received) at its end, so a reader sees whether deliveries were flowing.

The receiver is a raw asyncio HTTP/1.1 server (uvloop when installed) in its own process: it
stores each request's head and body and answers `200` with an empty body, and is read and reset
through /_stats, /_dump and /_reset. Its CPU is printed next to the server's so a reader can
check it was never the bottleneck.

CPU of the server (`sala serve`, and apart from it its child processes: the `sala worker` that
fans out and delivers), the receiver, this process (with its py-spy helpers) and the whole
machine is sampled from /proc for each window. Before each measurement the benchmark waits (up
to --quiet-wait s) until other work on the machine is below OTHER_PCT of a core, and a window
disturbed anyway is measured again (--retries) and marked with "!".

The load generator's connection, signing, server-process and CPU-probe pieces come from
bench/api.py; the load loops here are their own (paced mode, delivery counting).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from bench.api import (
    HOST,
    SECRET,
    SUCCESS,
    Connection,
    Pool,
    ProtocolError,
    ServerProcess,
    export_revision,
    machine,
    machine_busy_cpu,
    process_cpu,
    request_bytes,
    sala_revision,
    signed_path,
    top_frames,
)

TARGET_SLOWDOWN_PCT = 10.0
REQUEST_TIMEOUT = 30.0  # after a window closes, for the last answers to arrive
OTHER_PCT = 15.0  # busy CPU outside the benchmark above this: the machine was shared
STALL_TIMEOUT = 60.0  # no new delivery for this long while waiting for a drain: give up
POLL_S = 0.05
PROFILE_DRAIN_S = 15.0
PROFILE_HZ = 200
AFTER_LOAD_S = 5.0
REPO = Path(__file__).resolve().parent.parent
EVENT_KINDS = ("meeting-created", "meeting-ended")


# ================================================================================ receiver ==
OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class ReceiverState:
    def __init__(self) -> None:
        self.records: list[tuple[float, bytes, bytes]] = []
        self.protocol_errors = 0


def _content_length(lower_head: bytes) -> int | None:
    start = lower_head.find(b"\r\ncontent-length:")
    if start < 0:
        return None if b"\r\ntransfer-encoding:" in lower_head else 0
    end = lower_head.find(b"\r\n", start + 17)
    return int(lower_head[start + 17 : end])


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


def _json_response(document: object) -> bytes:
    body = json.dumps(document, separators=(",", ":")).encode()
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class ReceiverProtocol(asyncio.Protocol):
    """One connection: requests in, `200` out; keep-alive, pipelining tolerated."""

    def __init__(self, state: ReceiverState) -> None:
        self._state = state
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[: end + 2])
            try:
                length = _content_length(head.lower())
            except ValueError:
                length = None
            if length is None:  # chunked or garbage: not what sala sends
                self._state.protocol_errors += 1
                if self._transport is not None:
                    self._transport.close()
                return
            total = end + 4 + length
            if len(buffer) < total:
                return
            body = bytes(buffer[end + 4 : total])
            del buffer[:total]
            self._handle(head, body)

    def _handle(self, head: bytes, body: bytes) -> None:
        transport = self._transport
        if transport is None:
            return
        space = head.find(b" ")
        if head.startswith(b"/_", space + 1):
            transport.write(self._control(head))
            return
        self._state.records.append((time.monotonic(), head, body))
        transport.write(OK_RESPONSE)

    def _control(self, head: bytes) -> bytes:
        _, target, _ = _parse_head(head)
        parts = urlsplit(target)
        records = self._state.records
        if parts.path == "/_stats":
            return _json_response(
                {
                    "count": len(records),
                    "first": records[0][0] if records else None,
                    "last": records[-1][0] if records else None,
                    "protocol_errors": self._state.protocol_errors,
                }
            )
        if parts.path == "/_reset":
            self._state.records = []
            self._state.protocol_errors = 0
            return _json_response({"count": 0})
        if parts.path == "/_dump":
            with_body = "body=1" in parts.query
            out = []
            for at, raw_head, body in records:
                _, record_target, headers = _parse_head(raw_head)
                out.append(
                    {
                        "at": at,
                        "target": record_target,
                        "authorization": headers.get("authorization"),
                        "delivery_id": headers.get("x-sala-delivery-id"),
                        "body": body.decode("utf-8", "replace") if with_body else None,
                    }
                )
            return _json_response(out)
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


async def serve_receiver(port: int, parent: int) -> None:
    loop = asyncio.get_running_loop()
    state = ReceiverState()
    server = await loop.create_server(
        lambda: ReceiverProtocol(state), HOST, port, backlog=1024, reuse_address=True
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Bounded: stops on a signal, or when the benchmark that started it is gone.
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    server.close()


class ReceiverClient:
    """The benchmark's handle on the receiver process (which only its own PID is signalled)."""

    def __init__(self, workdir: Path) -> None:
        self.server = ServerProcess(
            "receiver",
            [sys.executable, "-m", "bench.webhooks", "--serve-receiver", str(os.getpid())],
            dict(os.environ),
            workdir / "receiver.log",
        )
        self.port = self.server.port

    async def start(self) -> None:
        self.server.start(None)
        await self.server.wait_ready("/_stats")

    def stop(self) -> None:
        self.server.stop()

    @property
    def pid(self) -> int:
        return self.server.pid

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    async def _get(self, path: str) -> Any:
        conn = Connection(self.port)
        await conn.open()
        try:
            status, body = await asyncio.wait_for(
                conn.roundtrip(request_bytes(path, self.port)), 60
            )
        finally:
            conn.close()
        if status != 200:
            raise RuntimeError(f"receiver {path}: HTTP {status}")
        return json.loads(body)

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._get("/_stats")
        return result

    async def dump(self, bodies: bool) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._get("/_dump?body=1" if bodies else "/_dump")
        return result

    async def reset(self) -> None:
        await self._get("/_reset")

    async def wait_for(self, expected: int, within_s: float) -> dict[str, Any]:
        """Poll until `expected` requests arrived, progress stalls, or `within_s` pass."""
        deadline = time.monotonic() + within_s
        last_count, last_progress = -1, time.monotonic()
        while True:
            stats = await self.stats()
            now = time.monotonic()
            if stats["count"] >= expected:
                return stats
            if stats["count"] != last_count:
                last_count, last_progress = stats["count"], now
            if now >= deadline or now - last_progress >= STALL_TIMEOUT:
                return stats
            await asyncio.sleep(POLL_S)


# ================================================================================ sala ==
def _text(tag: str, xml: bytes) -> str | None:
    found = re.search(rb"<" + tag.encode() + rb">([^<]*)</" + tag.encode() + rb">", xml)
    return found.group(1).decode() if found else None


class Sala:
    """A fresh `sala serve` on its own SQLite data dir."""

    def __init__(self, workdir: Path, label: str, src: Path) -> None:
        data_dir = workdir / f"data-{label}"
        env = {
            **os.environ,
            "SALA_DATA_DIR": str(data_dir),
            "SALA_SECRET": SECRET,
            "SALA_WEBHOOK_ALLOW": HOST,
            "SALA_LOG_LEVEL": "warning",
        }
        env.pop("SALA_DATABASE_URL", None)
        self.server = ServerProcess(
            f"sala ({label})",
            [sys.executable, "-m", "sala", "serve"],
            env,
            workdir / f"sala-{label}.log",
            cwd=src,
        )
        self.port = self.server.port

    async def start(self) -> None:
        self.server.start(None)
        await self.server.wait_ready("/health")

    def stop(self) -> None:
        self.server.stop()

    @property
    def pid(self) -> int:
        return self.server.pid

    async def call(self, conn: Connection, call: str, params: Sequence[tuple[str, str]]) -> bytes:
        status, body = await conn.roundtrip(request_bytes(signed_path(call, params), self.port))
        if status != 200 or SUCCESS not in body:
            raise RuntimeError(f"{call} failed: HTTP {status} {body[:300]!r}")
        return body

    async def register_hooks(self, receiver: ReceiverClient, count: int) -> dict[str, str]:
        """`count` global hooks, /h/NNN each; returns callback URL -> authToken."""
        tokens: dict[str, str] = {}
        conn = Connection(self.port)
        await conn.open()
        try:
            for i in range(count):
                url = receiver.url(f"/h/{i:03d}")
                body = await self.call(conn, "hooks/create", [("callbackURL", url)])
                token = _text("authToken", body)
                if token is None or _text("messageKey", body) is not None:
                    raise RuntimeError(f"hooks/create {url}: {body[:300]!r}")
                tokens[url] = token
        finally:
            conn.close()
        return tokens

    async def create_meetings(self, ids: Sequence[str], clients: int) -> None:
        async def worker(queue: list[str]) -> None:
            conn = Connection(self.port)
            await conn.open()
            try:
                while queue:
                    meeting_id = queue.pop()
                    await self.call(conn, "create", _create_params(meeting_id))
            finally:
                conn.close()

        queue = list(reversed(ids))
        await asyncio.gather(*(worker(queue) for _ in range(clients)))


def _create_params(meeting_id: str) -> list[tuple[str, str]]:
    # Kept alive however long the run takes (default: 5 minutes with nobody joined).
    return [
        ("name", f"Bench room {meeting_id}"),
        ("meetingID", meeting_id),
        ("meetingExpireIfNoUserJoinedInMinutes", "600"),
    ]


# ================================================================================ checks ==
@dataclass
class DeliveryCheck:
    received: int = 0
    unique: int = 0
    duplicates: int = 0
    missing: int = 0
    unexpected: int = 0
    bad_auth: int = 0
    no_delivery_id: int = 0
    bad_checksum: int = 0
    out_of_order: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.missing
            or self.unexpected
            or self.bad_auth
            or self.no_delivery_id
            or self.bad_checksum
            or self.out_of_order
        )

    def note(self, problem: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(problem[:200])


def _checksum_ok(callback_url: str, body: str, digest: str | None) -> bool:
    if digest is None:
        return False
    return hashlib.sha1((callback_url + body + SECRET).encode()).hexdigest() == digest


def check_deliveries(
    records: list[dict[str, Any]],
    tokens: dict[str, str],
    base: str,
    expected: set[tuple[str, str, str]] | None,
) -> DeliveryCheck:
    """Headers of every record; with `expected` (callback URL, meetingID, event id), also the
    bodies: each expected event exactly once, in order per hook and meeting."""
    check = DeliveryCheck(received=len(records))
    seen_ids: set[str] = set()
    got: set[tuple[str, str, str]] = set()
    order: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in records:
        parts = urlsplit(record["target"])
        callback_url = base + parts.path
        token = tokens.get(callback_url)
        if token is None or record["authorization"] != f"Bearer {token}":
            check.bad_auth += 1
            check.note(f"auth {record['authorization']!r} on {parts.path}")
        delivery_id = record["delivery_id"]
        if not delivery_id:
            check.no_delivery_id += 1
            check.note(f"no X-Sala-Delivery-Id on {parts.path}")
            continue
        if delivery_id in seen_ids:
            check.duplicates += 1
            continue
        seen_ids.add(delivery_id)
        body = record["body"]
        if body is None:
            continue
        digest = parse_qs(parts.query).get("checksum", [None])[0]
        if not _checksum_ok(callback_url, body, digest):
            check.bad_checksum += 1
            check.note(f"checksum {digest!r} on {parts.path}")
        try:
            [event] = json.loads(parse_qs(body)["event"][0])
            data = event["data"]
            key = (callback_url, data["attributes"]["meeting"]["external-meeting-id"], data["id"])
        except (KeyError, ValueError, TypeError) as exc:
            check.unexpected += 1
            check.note(f"unreadable body ({exc!r}): {body[:120]}")
            continue
        if key in got or (expected is not None and key not in expected):
            check.unexpected += 1
            check.note(f"unexpected {key}")
        got.add(key)
        order[key[:2]].append(key[2])
    check.unique = len(seen_ids)
    if expected is not None:
        check.missing = len(expected - got)
        for key in sorted(expected - got)[:3]:
            check.note(f"missing {key}")
        for (url, meeting), kinds in order.items():
            if kinds != [k for k in EVENT_KINDS if k in kinds]:
                check.out_of_order += 1
                check.note(f"order {kinds} for {url} {meeting}")
    return check


# ============================================================================ CPU probe ==
def _parents() -> dict[int, int]:
    """pid -> parent pid, for every process."""
    out: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            out[int(entry.name)] = int(text[text.rfind(")") + 2 :].split()[1])
    return out


def _descendants(root: int, parents: dict[int, int]) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for pid, parent in parents.items():
        children[parent].append(pid)
    found: set[int] = set()
    todo = list(children[root])
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children[pid])
    return found


def _own_cpu() -> float:
    """This process and its children already waited for (py-spy runs that ended)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class Cpu:
    at: float
    server: float
    """The sala serve process (the API's event loop and its database threads)."""
    worker: float
    """Its child processes: `sala worker`, which fans out and delivers webhooks."""
    receiver: float
    client: float
    """This process and its helpers (py-spy)."""
    machine: float

    @classmethod
    def now(cls, server_pid: int, receiver_pid: int) -> Cpu:
        parents = _parents()
        workers = _descendants(server_pid, parents)
        receivers = _descendants(receiver_pid, parents) | {receiver_pid}
        helpers = _descendants(os.getpid(), parents) - workers - receivers - {server_pid}
        return cls(
            at=time.perf_counter(),
            server=process_cpu(server_pid),
            worker=sum(process_cpu(pid, with_children=True) for pid in workers),
            receiver=sum(process_cpu(pid, with_children=True) for pid in receivers),
            client=_own_cpu() + sum(process_cpu(pid, with_children=True) for pid in helpers),
            machine=machine_busy_cpu(),
        )


async def wait_quiet(server_pid: int, receiver_pid: int, max_wait_s: float) -> float:
    """Wait (at most `max_wait_s`) until, over one second, work outside this benchmark (sala,
    its worker, the receiver, this process and its helpers) keeps less than OTHER_PCT of a core
    busy; returns the seconds waited."""
    waited = 0.0
    told = False
    while True:
        before = Cpu.now(server_pid, receiver_pid)
        await asyncio.sleep(1.0)
        other = cpu_pct(before, Cpu.now(server_pid, receiver_pid))["other"]
        if other <= OTHER_PCT or waited >= max_wait_s:
            if told:
                print(
                    f"  (waited {waited:.0f} s for other work on the machine to stop)", flush=True
                )
            return waited
        if not told:
            print(f"  ({other:.0f}% of a core busy outside the benchmark: waiting up to"
                  f" {max_wait_s:.0f} s for it to stop)", flush=True)  # fmt: skip
            told = True
        waited += 1.0


def cpu_pct(before: Cpu, after: Cpu) -> dict[str, float]:
    wall = max(after.at - before.at, 1e-9)
    server = 100 * (after.server - before.server) / wall
    worker = max(0.0, 100 * (after.worker - before.worker) / wall)  # an exited worker: < 0
    receiver = 100 * (after.receiver - before.receiver) / wall
    client = 100 * (after.client - before.client) / wall
    busy = 100 * (after.machine - before.machine) / wall
    return {
        "server": server,
        "worker": worker,
        "receiver": receiver,
        "client": client,
        "other": max(0.0, busy - server - worker - receiver - client),
    }


# ============================================================================ 1. throughput ==
@dataclass
class ThroughputResult:
    hooks: int
    events: int
    meetings: int
    clients: int
    expected: int
    api_seconds: float
    """From the first create to the last answered end."""
    first_delivery_ms: float | None
    seconds: float
    """From the first create to the last expected delivery received."""
    deliveries_per_s: float
    events_per_s: float
    complete: bool
    check: DeliveryCheck
    cpu: dict[str, float]
    deliveries_per_second: list[int] = field(default_factory=list)
    """Deliveries received in each second from the first create."""
    attempts: int = 1
    profile: dict[str, Any] = field(default_factory=dict)
    """py-spy over PROFILE_DRAIN_S of the drain, from the end of the API burst."""


async def measure_throughput(
    args: argparse.Namespace, workdir: Path, receiver: ReceiverClient
) -> ThroughputResult:
    sala = Sala(workdir, f"throughput-{time.monotonic_ns()}", args.sala_src)
    await sala.start()
    try:
        await receiver.reset()
        tokens = await sala.register_hooks(receiver, args.hooks)
        meetings = [f"wh-{i:05d}" for i in range(math.ceil(args.events / 2))]
        events = 2 * len(meetings)
        expected_keys = {(url, m, kind) for url in tokens for m in meetings for kind in EVENT_KINDS}
        expected = len(expected_keys)
        create = {m: request_bytes(signed_path("create", _create_params(m)), sala.port)
                  for m in meetings}  # fmt: skip
        end = {m: request_bytes(signed_path("end", [("meetingID", m)]), sala.port)
               for m in meetings}  # fmt: skip
        conns = [Connection(sala.port) for _ in range(min(args.clients, len(meetings)))]
        queue = list(reversed(meetings))

        async def burst(conn: Connection) -> None:
            while queue:
                meeting_id = queue.pop()
                for payload in (create[meeting_id], end[meeting_id]):
                    status, body = await conn.roundtrip(payload)
                    if status != 200 or SUCCESS not in body:
                        raise RuntimeError(f"burst: HTTP {status} {body[:200]!r}")

        await wait_quiet(sala.pid, receiver.pid, args.quiet_wait)
        await asyncio.gather(*(c.open() for c in conns))
        before = Cpu.now(sala.pid, receiver.pid)
        started = time.monotonic()
        try:
            await asyncio.gather(*(burst(c) for c in conns))
        finally:
            for conn in conns:
                conn.close()
        api_seconds = time.monotonic() - started
        profiler = start_profiler(args.profile, sala.pid, "throughput-drain", PROFILE_DRAIN_S)
        timeout = max(120.0, expected / 50)
        stats = await receiver.wait_for(expected, timeout)
        profile = finish_profiler(profiler)
        after = Cpu.now(sala.pid, receiver.pid)
        await asyncio.sleep(0.5)  # anything sent twice arrives now
        records = await receiver.dump(bodies=True)
    finally:
        sala.stop()
    check = check_deliveries(records, tokens, receiver.url(""), expected_keys)
    complete = stats["count"] >= expected
    # The moment the last distinct expected delivery arrived (a late duplicate does not count).
    seen: set[str] = set()
    last = started
    for record in records:
        if record["delivery_id"] and record["delivery_id"] not in seen:
            seen.add(record["delivery_id"])
            last = max(last, record["at"])
    seconds = last - started
    first = min(r["at"] for r in records) - started if records else None
    return ThroughputResult(
        hooks=args.hooks,
        events=events,
        meetings=len(meetings),
        clients=len(conns),
        expected=expected,
        api_seconds=api_seconds,
        first_delivery_ms=None if first is None else 1000 * first,
        seconds=seconds,
        deliveries_per_s=check.unique / seconds if seconds > 0 else 0.0,
        events_per_s=check.unique / args.hooks / seconds if seconds > 0 else 0.0,
        complete=complete,
        check=check,
        cpu=cpu_pct(before, after),
        deliveries_per_second=timeline([r["at"] for r in records], started, last + 1e-6),
        profile=profile,
    )


# =============================================================================== 2. latency ==
Source = Callable[[], bytes | None]


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    completed_in_window: int = 0
    succeeded: int = 0
    per_second: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def drive(
    conns: Sequence[Connection], sources: Sequence[Source], seconds: float, rate: float | None
) -> Window:
    """Closed loop (rate None): each connection sends its next request as soon as the previous
    answer arrived. Paced: `rate` requests/s in all, connection i sending its k-th request at
    (i + k * connections) / rate; a connection still busy at its slot sends when it is free, and
    latency counts from the slot, so a server that falls behind shows it (no coordinated
    omission)."""
    window = Window()
    perf = time.perf_counter
    first = perf()
    until = first + seconds
    count = len(conns)

    async def client(index: int, conn: Connection, source: Source) -> None:
        k = 0
        while True:
            if rate is None:
                started = perf()
            else:
                started = first + (index + k * count) / rate
                k += 1
                if started >= until:
                    return
                if (delay := started - perf()) > 0:
                    await asyncio.sleep(delay)
            if started >= until:
                return
            payload = source()
            if payload is None:
                return
            try:
                status, body = await conn.roundtrip(payload)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ProtocolError, ValueError) as exc:  # fmt: skip
                window.failures[f"{type(exc).__name__}: {exc}"[:160]] += 1
                try:
                    await conn.reopen()
                except OSError as reconnect_error:
                    window.failures[f"reconnect failed: {reconnect_error}"[:160]] += 1
                    return
                continue
            ended = perf()
            if status == 200 and SUCCESS in body:
                window.succeeded += 1
                window.latencies.append(ended - started)
                if ended < until:
                    window.completed_in_window += 1
                    window.per_second[int(ended - first)] += 1
            else:
                window.failures[f"HTTP {status}: {body[:120]!r}"] += 1

    tasks = [
        asyncio.create_task(client(i, c, s))
        for i, (c, s) in enumerate(zip(conns, sources, strict=True))
    ]
    done, pending = await asyncio.wait(tasks, timeout=seconds + REQUEST_TIMEOUT)
    for task in pending:
        task.cancel()
        window.failures["no answer in time after the window closed"] += 1
    for task in done:
        if (exc := task.exception()) is not None:
            window.failures[f"client crashed: {type(exc).__name__}: {exc}"[:160]] += 1
    if pending:
        await asyncio.wait(pending, timeout=5)
    window.seconds = until - first
    return window


def timeline(arrivals: Sequence[float], start: float, end: float) -> list[int]:
    """How many of `arrivals` (monotonic times) fell in each whole second from `start`."""
    buckets = [0] * max(1, math.ceil(end - start))
    for at in arrivals:
        if start <= at < end:
            buckets[min(len(buckets) - 1, int(at - start))] += 1
    return buckets


def percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


@dataclass
class LatencyResult:
    call: str
    mode: str
    """"closed" (closed loop, as fast as answers come) or "paced" (open loop at offered_rps)."""
    hooks: int
    round: int
    clients: int
    offered_rps: float | None
    seconds: float
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    deliveries_in_window: int
    deliveries_per_s: float
    backlog_at_end: int
    """Deliveries expected by the end of the window (hook events x hooks) not yet received."""
    cpu: dict[str, float]
    per_second: list[int] = field(default_factory=list)
    """Answers completed in each second of the window."""
    deliveries_per_second: list[int] = field(default_factory=list)
    """Deliveries received in each second of the window."""
    attempts: int = 1
    failure_reasons: dict[str, int] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunSummary:
    hooks: int
    round: int
    fixture_drain_s: float | None = None
    """With hooks: from the first join-meeting create until all their deliveries arrived."""
    after_load_per_s: float | None = None
    """With hooks: deliveries per second in the AFTER_LOAD_S after the last window."""
    backlog_after: int | None = None
    check: DeliveryCheck | None = None


class LatencyRun:
    """One fresh sala (with or without hooks), in this order: create the join meetings (and wait
    for their deliveries), then paced create, paced join, closed-loop join, closed-loop create."""

    def __init__(self, args: argparse.Namespace, workdir: Path, receiver: ReceiverClient,
                 hooks: int, round_no: int) -> None:  # fmt: skip
        self.args = args
        self.workdir = workdir
        self.receiver = receiver
        self.hooks = hooks
        self.round = round_no
        self.hook_events = 0  # meeting-created events so far (join adds none)
        self.results: list[LatencyResult] = []
        self.tokens: dict[str, str] = {}
        self.summary = RunSummary(hooks, round_no)

    async def run(self) -> None:
        a = self.args
        sala = Sala(self.workdir, f"latency-{self.hooks}-hooks-{self.round}", a.sala_src)
        await sala.start()
        try:
            await self.receiver.reset()
            if self.hooks:
                self.tokens = await sala.register_hooks(self.receiver, self.hooks)
            meetings = [f"join-{i:03d}" for i in range(a.meetings)]
            started = time.monotonic()
            await sala.create_meetings(meetings, min(a.clients, len(meetings)))
            self.hook_events += len(meetings)
            if self.hooks:
                # Start from an empty outbox: every fixture delivery received.
                stats = await self.receiver.wait_for(self.hooks * self.hook_events, 600)
                if stats["count"] < self.hooks * self.hook_events:
                    raise RuntimeError(f"fixture deliveries stalled at {stats['count']}")
                self.summary.fixture_drain_s = time.monotonic() - started
            tag = f"{os.getpid()}-{self.hooks}-{self.round}-{int(time.time())}"
            pool = Pool(lambda n: request_bytes(signed_path("create", [
                ("name", "Bench meeting"), ("meetingID", f"c-{tag}-{n}")]), sala.port))  # fmt: skip
            joins = [
                request_bytes(signed_path("join", [("meetingID", m), ("fullName", "Bench User"),
                              ("role", "VIEWER"), ("redirect", "false")]), sala.port)
                for m in meetings
            ]  # fmt: skip
            # Closed-loop join before closed-loop create: the servers with and without hooks then
            # reach each join window with the same history (creates done at a fixed rate only).
            order: list[tuple[str, float | None]] = [("join", None), ("create", None)]
            if a.paced_rate > 0:
                order = [("create", a.paced_rate), ("join", a.paced_rate), *order]
            for call, rate in order:
                if call == "create":
                    await self.phase(sala, call, rate, [pool.next] * a.clients, pool)
                else:
                    join_sources = [_cycle(joins, 7 * i) for i in range(a.clients)]
                    await self.phase(sala, call, rate, join_sources, None)
            if self.hooks:
                before = (await self.receiver.stats())["count"]
                await asyncio.sleep(AFTER_LOAD_S)
                after = (await self.receiver.stats())["count"]
                self.summary.after_load_per_s = (after - before) / AFTER_LOAD_S
                self.summary.backlog_after = self.hooks * self.hook_events - after
                records = await self.receiver.dump(bodies=False)
                self.summary.check = check_deliveries(
                    records, self.tokens, self.receiver.url(""), None
                )
        finally:
            sala.stop()

    async def phase(self, sala: Sala, call: str, rate: float | None, sources: list[Source],
                    pool: Pool | None) -> None:  # fmt: skip
        """Warm up, then measure; while other work took more than OTHER_PCT of a core, measure
        again (up to --retries times) and keep the least disturbed window."""
        a = self.args
        conns = [Connection(sala.port) for _ in range(a.clients)]
        attempts: list[LatencyResult] = []
        try:
            # Connections open after any wait: uvicorn drops keep-alive connections idle for 5 s.
            await wait_quiet(sala.pid, self.receiver.pid, a.quiet_wait)
            await asyncio.gather(*(c.open() for c in conns))
            if pool is not None:
                pool.top_up(int(max(a.warmup, 0.1) * 4000) + 20 * a.clients - pool.remaining())
            warm = await drive(conns, sources, a.warmup, rate)
            if pool is not None:
                self.hook_events += warm.succeeded
            warm_rate = warm.succeeded / max(a.warmup, 0.1)
            for attempt in range(1 + a.retries):
                if pool is not None:
                    pool.top_up(int(warm_rate * a.duration * 3) + 20 * a.clients
                                - pool.remaining())  # fmt: skip
                attempts.append(await self._window(sala, call, rate, conns, sources, pool))
                attempts[-1].failures += sum(warm.failures.values())
                for reason, count in warm.failures.items():
                    attempts[-1].failure_reasons[f"warm-up: {reason}"] = count
                if attempts[-1].cpu["other"] <= OTHER_PCT or attempt == a.retries:
                    break
                print(
                    f"  ({call}, {self.hooks} hooks: {attempts[-1].cpu['other']:.0f}% of a core"
                    " busy outside the benchmark; measuring again)",
                    flush=True,
                )
                await wait_quiet(sala.pid, self.receiver.pid, a.quiet_wait)
                await asyncio.gather(*(c.reopen() for c in conns))
        finally:
            for conn in conns:
                conn.close()
        best = min(attempts, key=lambda r: r.cpu["other"])
        best.attempts = len(attempts)
        self.results.append(best)
        print_latency_row(best)

    async def _window(self, sala: Sala, call: str, rate: float | None,
                      conns: Sequence[Connection], sources: list[Source],
                      pool: Pool | None) -> LatencyResult:  # fmt: skip
        a = self.args
        mode = "closed" if rate is None else "paced"
        label = f"{call}-{mode}-{self.hooks}-hooks-{self.round}"
        profiler = start_profiler(a.profile, sala.pid, label, a.duration)
        received_before = (await self.receiver.stats())["count"]
        before = Cpu.now(sala.pid, self.receiver.pid)
        started = time.monotonic()
        window = await drive(conns, sources, a.duration, rate)
        ended = time.monotonic()
        after = Cpu.now(sala.pid, self.receiver.pid)
        received_after = (await self.receiver.stats())["count"]
        profile = finish_profiler(profiler)
        if call == "create":
            self.hook_events += window.succeeded
        per_second: list[int] = []
        if self.hooks:
            arrivals = [r["at"] for r in await self.receiver.dump(bodies=False)]
            per_second = timeline(arrivals, started, min(ended, started + window.seconds))
        ordered = sorted(window.latencies)
        delivered = received_after - received_before
        result = LatencyResult(
            call=call,
            mode=mode,
            hooks=self.hooks,
            round=self.round,
            clients=a.clients,
            offered_rps=rate,
            seconds=round(window.seconds, 3),
            requests=len(ordered),
            failures=sum(window.failures.values()),
            rps=window.completed_in_window / window.seconds,
            p50_ms=1000 * percentile(ordered, 0.50),
            p90_ms=1000 * percentile(ordered, 0.90),
            p99_ms=1000 * percentile(ordered, 0.99),
            max_ms=1000 * (ordered[-1] if ordered else float("nan")),
            deliveries_in_window=delivered,
            deliveries_per_s=delivered / window.seconds,
            backlog_at_end=max(0, self.hooks * self.hook_events - received_after),
            cpu=cpu_pct(before, after),
            per_second=[window.per_second[i] for i in range(int(window.seconds))],
            deliveries_per_second=per_second,
            failure_reasons=dict(window.failures.most_common(5)),
            profile=profile,
        )
        if pool is not None and pool.exhausted:
            result.failure_reasons["ran out of pre-signed creates (rate understated)"] = 1
        return result


def _cycle(payloads: Sequence[bytes], offset: int) -> Source:
    index = offset % len(payloads)

    def next_payload() -> bytes | None:
        nonlocal index
        payload = payloads[index]
        index = (index + 1) % len(payloads)
        return payload

    return next_payload


# ============================================================================== profiling ==
Profile = tuple[subprocess.Popen[bytes], Path, float]


def start_profiler(directory: Path | None, pid: int, label: str, seconds: float) -> Profile | None:
    """py-spy on `pid` for `seconds` (raw collapsed stacks, all threads, PROFILE_HZ)."""
    if directory is None:
        return None
    py_spy = str(Path(sys.executable).parent / "py-spy")
    out = directory / f"webhooks-{label}.txt"
    duration = str(max(1, round(seconds)))
    argv = [
        py_spy, "record", "--pid", str(pid), "--rate", str(PROFILE_HZ), "--nonblocking",
        "--threads", "--subprocesses", "--format", "raw", "--duration", duration,
        "--output", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, out, seconds


def finish_profiler(profile: Profile | None) -> dict[str, Any]:
    if profile is None:
        return {}
    proc, out, seconds = profile
    try:
        proc.wait(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    per_process: dict[str, Any] = {}
    for name, (loop_samples, inclusive) in loop_inclusive(out, 18).items():
        per_process[name] = {
            "loop_python_pct": 100.0 * loop_samples / (PROFILE_HZ * max(1, round(seconds))),
            "loop_inclusive": inclusive,
        }
    return {"processes": per_process, "self": top_frames(out, 8)}


_LINE = re.compile(r":\d+\)")
_WAITING = ("Runner.run ", "EpollSelector.select ")


def _counted(frame: str) -> bool:
    return "sala/" in frame or frame.startswith("AsyncClient.request ")


def loop_inclusive(raw_path: Path, limit: int) -> dict[str, tuple[int, list[tuple[str, float]]]]:
    """For each sampled process ("sala serve", "sala worker"): its event-loop thread's samples in
    Python code, and the share of them with each sala function (and httpx's
    AsyncClient.request) anywhere on the stack. Samples whose leaf is `Runner.run` are uvloop's
    own loop (native: its waits and its I/O, which py-spy cannot tell apart) and are left out,
    as are plain asyncio's selector waits and samples py-spy saw idle."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    try:
        lines = raw_path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        rest = frames[len(processes) :]
        if not rest or "MainThread" not in rest[0] or rest[-1].startswith(_WAITING):
            continue
        name = "sala worker" if processes and " worker" in processes[-1] else "sala serve"
        totals[name] += int(number)
        for frame in {_LINE.sub(")", f) for f in rest[1:] if _counted(f)}:
            counts[name][frame] += int(number)
    return {
        name: (total, [(f, 100.0 * n / total) for f, n in counts[name].most_common(limit)])
        for name, total in totals.items()
    }


def _short(frame: str) -> str:
    """`name (/long/path/sala/events/fanout.py)` -> `name (sala/events/fanout.py)`."""
    name, _, path = frame.partition(" (")
    cut = path.rfind("sala/") if "site-packages" not in path else path.rfind("site-packages/") + 14
    return f"{name} ({path[max(cut, 0) :].rstrip(')')})" if path else name


def print_profile(profile: dict[str, Any]) -> None:
    if not profile:
        return
    for name, p in sorted(profile["processes"].items()):
        print(
            f"    py-spy, {name}: event-loop thread in Python code in"
            f" {p['loop_python_pct']:.0f}% of the samples; of those, with each function on"
            " the stack:"
        )
        for frame, share in p["loop_inclusive"]:
            if not frame.startswith(("<module> ", "main ", "cmd_serve ", "cmd_worker ")):
                print(f"      {share:5.1f}%  {_short(frame)}")
    print("    py-spy, leaf frames (self time, all threads of both processes):")
    for frame, share in profile["self"]:
        print(f"      {share:5.1f}%  {_short(frame)}")


# ================================================================================ output ==
LATENCY_HEADER = (
    f"{'call':<7}{'load':>8}{'hooks':>6}{'rnd':>4}{'req/s':>7}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'fails':>6}{'deliv':>7}{'deliv/s':>8}{'backlog':>8}{'srv':>6}{'wrk':>5}{'rcv':>5}"
    f"{'cli':>5}{'other':>7}"
)


def _load(r: LatencyResult) -> str:
    return "closed" if r.offered_rps is None else f"{r.offered_rps:g}/s"


def print_latency_row(r: LatencyResult) -> None:
    c = r.cpu
    print(
        f"{r.call:<7}{_load(r):>8}{r.hooks:>6}{r.round:>4}{r.rps:>7.0f}{r.p50_ms:>9.2f}"
        f"{r.p99_ms:>9.2f}{r.failures:>6}{r.deliveries_in_window:>7}{r.deliveries_per_s:>8.0f}"
        f"{r.backlog_at_end:>8}{c['server']:>5.0f}%{c['worker']:>4.0f}%{c['receiver']:>4.0f}%"
        f"{c['client']:>4.0f}%"
        f"{c['other']:>6.0f}%{'!' if c['other'] > OTHER_PCT else ''}",
        flush=True,
    )
    if r.deliveries_per_second:
        print(f"    deliveries per second: {' '.join(str(n) for n in r.deliveries_per_second)}")
    for reason, count in r.failure_reasons.items():
        print(f"    {count} x {reason}", flush=True)
    print_profile(r.profile)


def print_throughput(t: ThroughputResult) -> None:
    c, k = t.cpu, t.check
    first = f"{t.first_delivery_ms:.0f} ms" if t.first_delivery_ms is not None else "-"
    print(
        f"delivery throughput: {t.hooks} hooks, {t.events} events ({t.meetings} meetings created"
        f" and ended by {t.clients} clients), {t.expected} deliveries expected"
    )
    print(
        f"  received {k.unique}/{t.expected} in {t.seconds:.2f} s -> {t.deliveries_per_s:.0f}"
        f" deliveries/s = {t.events_per_s:.1f} events/s (API burst {t.api_seconds:.2f} s, first"
        f" delivery after {first})"
    )
    print(
        f"  checks: missing {k.missing}, duplicates {k.duplicates}, unexpected {k.unexpected},"
        f" bad auth {k.bad_auth}, no delivery id {k.no_delivery_id}, bad checksum"
        f" {k.bad_checksum}, out of order {k.out_of_order} -> {'OK' if k.ok else 'FAILED'}"
    )
    print(
        f"  cpu from first create to last delivery: server {c['server']:.0f}%, its worker"
        f" process {c['worker']:.0f}%, receiver {c['receiver']:.0f}%, load generator"
        f" {c['client']:.0f}%, other {c['other']:.0f}%"
        f"{'!' if c['other'] > OTHER_PCT else ''} (% of one core)"
    )
    print(f"  deliveries per second: {' '.join(str(n) for n in t.deliveries_per_second)}")
    for example in k.examples:
        print(f"    {example}")
    print_profile(t.profile)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _flowing(r: LatencyResult) -> bool:
    """Deliveries arrived in at least half of the window's seconds (not just a last few)."""
    seconds = r.deliveries_per_second
    return bool(seconds) and 2 * sum(1 for n in seconds if n) >= len(seconds)


def slowdowns(results: list[LatencyResult], hooks: int) -> list[dict[str, Any]]:
    """Medians over rounds, with hooks against without, for each call and load."""
    out = []
    for mode in ("paced", "closed"):
        for call in ("create", "join"):
            base = [r for r in results if (r.call, r.mode, r.hooks) == (call, mode, 0)]
            hooked = [r for r in results if (r.call, r.mode, r.hooks) == (call, mode, hooks)]
            if not base or not hooked:
                continue
            b_rps, h_rps = _median([r.rps for r in base]), _median([r.rps for r in hooked])
            b_p50, h_p50 = _median([r.p50_ms for r in base]), _median([r.p50_ms for r in hooked])
            b_p99, h_p99 = _median([r.p99_ms for r in base]), _median([r.p99_ms for r in hooked])
            flowing = all(_flowing(r) for r in hooked)
            delivery_rate = _median([r.deliveries_per_s for r in hooked])
            rps_change = 100 * (h_rps / b_rps - 1) if b_rps else float("nan")
            p50_change = 100 * (h_p50 / b_p50 - 1)
            # Paced, the rate is fixed by design: the server keeping up is what counts.
            offered = hooked[0].offered_rps
            kept_up = offered is None or h_rps >= 0.95 * offered
            holds = (
                (mode == "paced" or rps_change > -TARGET_SLOWDOWN_PCT)
                and p50_change < TARGET_SLOWDOWN_PCT
                and kept_up
                and flowing
                and all(r.failures == 0 for r in hooked)
            )
            out.append(
                {
                    "call": call,
                    "mode": mode,
                    "offered_rps": offered,
                    "rounds": min(len(base), len(hooked)),
                    "rps": [b_rps, h_rps],
                    "p50_ms": [b_p50, h_p50],
                    "p99_ms": [b_p99, h_p99],
                    "rps_change_pct": rps_change,
                    "p50_change_pct": p50_change,
                    "p99_change_pct": 100 * (h_p99 / b_p99 - 1),
                    "rps_change_pct_by_round": [
                        100 * (h.rps / b.rps - 1) for b, h in zip(base, hooked, strict=False)
                    ],
                    "p50_change_pct_by_round": [
                        100 * (h.p50_ms / b.p50_ms - 1) for b, h in zip(base, hooked, strict=False)
                    ],
                    "deliveries_flowing": flowing,
                    "deliveries_per_s": delivery_rate,
                    "kept_up": kept_up,
                    "holds": holds,
                }
            )
    return out


def print_slowdowns(verdicts: list[dict[str, Any]], hooks: int) -> None:
    print(
        f"\n0 vs {hooks} hooks, medians over rounds (target: less than {TARGET_SLOWDOWN_PCT:.0f}%"
        " slower; a minus req/s or a plus latency is the cost of the hooks)"
    )
    for v in verdicts:
        load = "closed" if v["offered_rps"] is None else f"{v['offered_rps']:g}/s"
        rounds = ", ".join(f"{x:+.0f}%" for x in v["rps_change_pct_by_round"])
        print(
            f"  {v['call']:<7}{load:>7}  req/s {v['rps'][0]:.0f} -> {v['rps'][1]:.0f}"
            f" ({v['rps_change_pct']:+.1f}%; by round {rounds}),"
            f" p50 {v['p50_ms'][0]:.1f} -> {v['p50_ms'][1]:.1f} ms ({v['p50_change_pct']:+.1f}%),"
            f" p99 {v['p99_ms'][0]:.1f} -> {v['p99_ms'][1]:.1f} ms ({v['p99_change_pct']:+.1f}%)"
            f", deliveries {v['deliveries_per_s']:.0f}/s"
            f"{'' if v['deliveries_flowing'] else ' (NOT FLOWING)'}"
            f"{'' if v['kept_up'] else ', DID NOT KEEP UP'}"
            f" -> {'HOLDS' if v['holds'] else 'DOES NOT HOLD'}"
        )


# ================================================================================== main ==
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.webhooks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--hooks", type=int, default=100, help="global hooks to register")
    parser.add_argument(
        "--events", type=int, default=200,
        help="events in the throughput burst (meetings created and ended: 2 events each)",
    )  # fmt: skip
    parser.add_argument("--clients", type=int, default=20, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per call")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per call")
    parser.add_argument("--meetings", type=int, default=100, help="live meetings joins cycle over")
    parser.add_argument(
        "--paced-rate", type=float, default=50.0, metavar="REQ_PER_S",
        help="also measure create and join paced at this rate, before the closed loop (0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="latency rounds (a server without hooks, then one with, each round); medians",
    )  # fmt: skip
    parser.add_argument(
        "--retries", type=int, default=2,
        help=f"measure again while more than {OTHER_PCT:.0f}%% of a core is busy elsewhere",
    )  # fmt: skip
    parser.add_argument(
        "--quiet-wait", type=float, default=600.0, metavar="SECONDS",
        help="before each measurement, wait up to this long for other work on the machine to stop",
    )  # fmt: skip
    parser.add_argument("--skip-throughput", action="store_true", help="only part 2")
    parser.add_argument("--skip-latency", action="store_true", help="only part 1")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--sala-rev", metavar="REV",
        help="run sala as committed at REV (git archive into a temp dir), not the work tree",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, metavar="DIR",
        help="py-spy the server in each latency window and over the first"
        f" {PROFILE_DRAIN_S:g} s of the delivery drain (raw stacks in DIR); perturbs the figures",
    )  # fmt: skip
    parser.add_argument("--serve-receiver", type=int, metavar="PARENT_PID", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_receiver is None:
        if not 1 <= args.hooks <= 1000 or not 2 <= args.events <= 100_000:
            parser.error("need 1 <= --hooks <= 1000 and 2 <= --events <= 100000")
        if not 1 <= args.clients <= 1000 or args.duration <= 0 or args.warmup < 0:
            parser.error("need 1 <= --clients <= 1000, --duration > 0, --warmup >= 0")
        if not 1 <= args.meetings <= 10_000 or not 0 <= args.retries <= 10:
            parser.error("need 1 <= --meetings <= 10000 and 0 <= --retries <= 10")
        if not 1 <= args.rounds <= 20 or not 0 <= args.paced_rate <= 100_000:
            parser.error("need 1 <= --rounds <= 20 and 0 <= --paced-rate <= 100000")
    return args


async def amain(args: argparse.Namespace, command: str) -> int:
    with tempfile.TemporaryDirectory(prefix="sala-bench-webhooks-") as tmp:
        return await run(args, command, Path(tmp))


async def run(args: argparse.Namespace, command: str, workdir: Path) -> int:
    info = machine()
    args.sala_src = REPO
    if args.sala_rev:
        args.sala_src = workdir / "src"
        commit = export_revision(args.sala_rev, args.sala_src)
        info["sala_revision"] = f"{commit} (git archive of {args.sala_rev}; work tree not used)"
    print(f"command: {command}")
    print(f"sala: {info['sala_revision']}, SQLite")
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), Linux {info['kernel']},"
        f" Python {info['python']}"
    )
    document: dict[str, Any] = {"command": command, "machine": info, "settings": {
        "hooks": args.hooks, "events": args.events, "clients": args.clients,
        "duration_s": args.duration, "warmup_s": args.warmup, "meetings": args.meetings,
        "paced_rate": args.paced_rate, "rounds": args.rounds, "retries": args.retries,
        "profiled": args.profile is not None}}  # fmt: skip
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    ok = True
    receiver = ReceiverClient(workdir)
    await receiver.start()
    try:
        if not args.skip_throughput:
            print()
            tries: list[ThroughputResult] = []
            for attempt in range(1 + args.retries):
                tries.append(await measure_throughput(args, workdir, receiver))
                if tries[-1].cpu["other"] <= OTHER_PCT or attempt == args.retries:
                    break
                print(
                    f"  (throughput: {tries[-1].cpu['other']:.0f}% of a core busy outside"
                    " the benchmark; measuring again)",
                    flush=True,
                )
            throughput = min(tries, key=lambda t: t.cpu["other"])
            throughput.attempts = len(tries)
            print_throughput(throughput)
            document["throughput"] = asdict(throughput)
            ok = ok and throughput.complete and throughput.check.ok
        if not args.skip_latency:
            paced = f"{args.paced_rate:g} req/s paced, then " if args.paced_rate > 0 else ""
            print(
                f"\nadded latency: {args.clients} keep-alive connections, {paced}closed loop;"
                f" {args.warmup:g} s warm-up + {args.duration:g} s per call; a fresh sala per"
                " (hooks, round); deliv = deliveries received during the window; backlog ="
                " expected deliveries not received at its end; cpu in % of one core: srv = sala"
                " serve, wrk = its child processes (the delivery worker)"
            )
            print(LATENCY_HEADER)
            print("-" * len(LATENCY_HEADER))
            runs = [
                LatencyRun(args, workdir, receiver, hooks, round_no)
                for round_no in range(1, args.rounds + 1)
                for hooks in (0, args.hooks)
            ]
            for latency_run in runs:
                await latency_run.run()
            results = [r for one in runs for r in one.results]
            verdicts = slowdowns(results, args.hooks)
            print_slowdowns(verdicts, args.hooks)
            summaries = [one.summary for one in runs if one.hooks]
            for m in summaries:
                k = m.check
                print(
                    f"  with hooks, round {m.round}: the {args.meetings} join meetings'"
                    f" {args.meetings * args.hooks} deliveries took"
                    f" {m.fixture_drain_s or 0:.1f} s from their first create; after the last"
                    f" window, with no API load: {m.after_load_per_s or 0:.0f} deliveries/s"
                    f" over {AFTER_LOAD_S:g} s, {m.backlog_after} still queued"
                )
                if k is not None:
                    print(
                        f"    all {k.received} deliveries received: bad auth {k.bad_auth},"
                        f" no delivery id {k.no_delivery_id}, duplicates {k.duplicates}"
                    )
                    ok = ok and k.bad_auth == 0 and k.no_delivery_id == 0
            document["latency"] = [asdict(r) for r in results]
            document["slowdown"] = verdicts
            document["hooks_runs"] = [asdict(m) for m in summaries]
            ok = ok and all(r.failures == 0 for r in results)
        if any(
            r.get("cpu", {}).get("other", 0) > OTHER_PCT
            for r in [document.get("throughput") or {}, *document.get("latency", [])]
        ):
            print(
                f"! more than {OTHER_PCT:.0f}% of a core was busy outside this benchmark in"
                " a marked window: the machine was shared; rerun before trusting it"
            )
    finally:
        receiver.stop()
    revision_after = info["sala_revision"] if args.sala_rev else sala_revision()
    if revision_after != info["sala_revision"]:
        note = (
            f"sala changed during the run ({info['sala_revision']} -> {revision_after}): each"
            " server ran the code it started with; use --sala-rev to measure one revision"
        )
        print(f"note: {note}")
        document["notes"] = [note]
    if args.json is not None:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import uvloop

        runner: Callable[[Any], Any] = uvloop.run
    except ImportError:
        runner = asyncio.run
    if args.serve_receiver is not None:
        if args.port is None:
            raise SystemExit("--serve-receiver needs --port")
        runner(serve_receiver(args.port, args.serve_receiver))
        return 0
    shown = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.webhooks", *shown])
    result: int = runner(amain(args, command))
    return result


if __name__ == "__main__":
    raise SystemExit(main())

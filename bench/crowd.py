"""The load generator of bench/cluster.py: one process's share of the meetings and their people.

bench/cluster.py starts a few of these (multiprocessing, spawn), each owning some of the
meetings, so that the load generator can use both cores and its event loop is not the limit.
Each one:

- joins its meetings' clients as browsers do: the checksummed API `join` (redirect=false) on a
  front end, the hand-off `/room/join` (room cookie), `GET /room/route` on a front end, and the
  room WebSocket at the path it names, opened on the *owning node's own port* (`/n/<node>/room/ws`
  on a cluster, `/room/ws` on a single process), so no proxy sits between clients and rooms;
  then `hello`, and waits for `welcome`. The first client of a meeting asks the route on the
  front end the orchestrator names for it (the one that then claims the meeting, as the proxy's
  round robin would spread the first connections); the others ask any front end.
- sends public chat on command: at a fixed rate per meeting on an absolute schedule
  (`OpenLoop`), or with a fixed number of messages in flight per meeting (`ClosedLoop`: the
  next goes as soon as one has reached all of its meeting's clients, at most `cap` a second per
  meeting), each message from the meeting's senders in turn, so that nobody nears the per-user
  (3/s) and per-meeting (30/s) chat limits of sala/room/limits.py.
- measures every delivery as cheaply as it can: a frame is not JSON-parsed once its client has
  its welcome; the message's sequence number is found in the raw text, and the send time is in
  this process's own record, so a latency is one CLOCK_MONOTONIC in one process. Deliveries and
  completed messages are counted, and those counts are read at the window's start and end
  (absolute CLOCK_MONOTONIC times the orchestrator gives: every process shares that clock).

It answers the orchestrator through a pipe with plain types only.
"""

from __future__ import annotations

import asyncio
import math
import re
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bench.room import HELLO, WELCOME_TIMEOUT, Socket, app_pings, clock, run_on_loop, signed

CHAT = re.compile(r'"text":"bench (\d+)"')
ERROR_TYPES = ('"type":"error"', '"type":"removed"', '"type":"meeting.ended"')
SESSION_TOKEN = re.compile(r"<session_token>([^<]+)</session_token>")
CLOSE_GATE = 50


@dataclass
class CrowdSpec:
    """One process's share: its meetings as (global index, meeting ID, front end that claims
    it), and where the front ends are."""

    index: int
    meetings: list[tuple[int, str, str]]
    per_meeting: int
    fronts: list[str]
    nodes: dict[str, str]
    """node ID -> that node's own base URL; empty for a single process."""
    join_concurrency: int
    ping_interval: float
    loop: str


class Sent:
    """One chat message: which clients have it, and when the last one got it."""

    __slots__ = ("count", "got", "measured", "meeting", "sender", "t_send", "worst")

    def __init__(self, meeting: Meeting, sender: int, t_send: float, measured: bool) -> None:
        self.meeting = meeting
        self.sender = sender
        self.t_send = t_send
        self.measured = measured
        self.got = bytearray(len(meeting.clients))
        self.count = 0
        self.worst = 0.0


@dataclass(eq=False)
class Meeting:
    number: int
    meeting_id: str
    claimer: str
    clients: list[Client] = field(default_factory=list)
    owner: str = ""
    turn: int = 0
    in_flight: asyncio.Semaphore | None = None

    def next_sender(self, senders: int) -> Client:
        """The meeting's senders in turn (the first `senders` clients, moderator included)."""
        client = self.clients[self.turn % min(senders, len(self.clients))]
        self.turn += 1
        return client


class Client(Socket):
    def __init__(self, crowd: Crowd, meeting: Meeting, slot: int) -> None:
        super().__init__()
        self.crowd = crowd
        self.meeting = meeting
        self.slot = slot

    async def join(self, http: httpx.AsyncClient, base: str) -> float:
        """Join through `base`, connect to the owner; seconds taken."""
        started = clock()
        m = self.meeting
        params = [
            ("meetingID", m.meeting_id),
            ("fullName", f"Bench {m.number}-{self.slot}"),
            ("role", "MODERATOR" if self.slot == 0 else "VIEWER"),
            ("userID", f"bench-{m.number}-{self.slot}"),
            ("redirect", "false"),
        ]
        answer = await http.get(signed(base, "join", params))
        token = SESSION_TOKEN.search(answer.text)
        if token is None:
            raise RuntimeError(f"join refused: {answer.text[:200]}")
        handoff = await http.get(f"{base}/room/join", params={"sessionToken": token.group(1)})
        cookie = handoff.cookies.get("sala_room")
        if handoff.status_code != 303 or not cookie:
            raise RuntimeError(f"hand-off answered {handoff.status_code} without a room cookie")
        headers = {"Cookie": f"sala_room={cookie}"}
        route = await http.get(f"{base}/room/route", headers=headers)
        path = str(route.json()["ws"])
        owner = path.split("/")[2] if path.startswith("/n/") else ""
        target = self.crowd.spec.nodes[owner] if owner else base
        m.owner = owner
        self.ws = await websockets.connect(
            target.replace("http://", "ws://") + path,
            additional_headers=headers,
            open_timeout=30,
            close_timeout=5,
            ping_interval=None,  # browsers send no protocol pings; the app pings below
            max_size=16 * 2**20,
            compression=None,  # sala does not negotiate it by default (room_ws_compression)
        )
        self._reader = asyncio.create_task(self._read(self.ws))
        await self.ws.send(HELLO)
        await asyncio.wait_for(asyncio.shield(self.welcome), WELCOME_TIMEOUT)
        interval = self.crowd.spec.ping_interval
        if interval > 0:
            seed = m.number * 1000 + self.slot
            self._pinger = asyncio.create_task(app_pings(self.ws, interval, seed))
        return clock() - started

    async def _read(self, ws: ClientConnection) -> None:
        crowd = self.crowd
        try:
            async for raw in ws:
                now = clock()
                if not isinstance(raw, str):
                    continue
                if not self.welcome.done():
                    # Until then, frames are looked at whole (the welcome carries the history).
                    if '"type":"welcome"' in raw:
                        self.welcome.set_result(None)
                    continue
                found = CHAT.search(raw)
                if found is not None:
                    crowd.delivered(self, int(found.group(1)), now)
                elif any(kind in raw for kind in ERROR_TYPES):
                    crowd.errors[raw[:120]] += 1
        except ConnectionClosed:
            pass
        finally:
            if not self.welcome.done():
                self.welcome.set_exception(
                    RuntimeError(f"closed before welcome: {ws.close_code} {ws.close_reason}")
                )
            if not self.closing:
                crowd.disconnected[f"{ws.close_code} {ws.close_reason or ''}".strip()] += 1

    async def send_chat(self, seq: int) -> None:
        assert self.ws is not None
        await self.ws.send(f'{{"type":"chat.send","text":"bench {seq}"}}')


@dataclass
class Window:
    """Counts read at the measured window's start and end."""

    frames: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)


class Crowd:
    def __init__(self, spec: CrowdSpec) -> None:
        self.spec = spec
        self.meetings = [Meeting(n, mid, claimer) for n, mid, claimer in spec.meetings]
        self.sent: dict[int, Sent] = {}
        self.seq = 0
        self.frames = 0  # chat deliveries, the sender's echo included
        self.completed = 0  # messages every client of their meeting has
        self.duplicates = 0
        self.unknown = 0
        self.errors: Counter[str] = Counter()
        self.disconnected: Counter[str] = Counter()
        self.recipient = array("d")  # latencies to clients other than the sender, measured
        self.everybody = array("d")  # per measured message, the last of its deliveries

    # -- every reader calls this ---------------------------------------------------------
    def delivered(self, client: Client, seq: int, now: float) -> None:
        record = self.sent.get(seq)
        if record is None or record.meeting is not client.meeting:
            self.unknown += 1
            return
        if record.got[client.slot]:
            self.duplicates += 1
            return
        record.got[client.slot] = 1
        record.count += 1
        self.frames += 1
        latency = now - record.t_send
        if client.slot != record.sender:
            if latency > record.worst:
                record.worst = latency
            if record.measured:
                self.recipient.append(latency)
        if record.count == len(record.got):
            self.completed += 1
            if record.measured:
                self.everybody.append(record.worst)
            if record.meeting.in_flight is not None:
                record.meeting.in_flight.release()

    async def _send(self, meeting: Meeting, senders: int, measured: bool) -> float:
        client = meeting.next_sender(senders)
        self.seq += 1
        t_send = clock()
        self.sent[self.seq] = Sent(meeting, client.slot, t_send, measured)
        await client.send_chat(self.seq)
        return t_send

    # -- joining ---------------------------------------------------------------------------
    async def join(self) -> dict[str, Any]:
        spec = self.spec
        gate = asyncio.Semaphore(spec.join_concurrency)
        failures: list[str] = []
        times: list[float] = []
        limits = httpx.Limits(max_connections=spec.join_concurrency + 2)

        async with httpx.AsyncClient(timeout=60, limits=limits) as http:

            async def one(client: Client, base: str) -> None:
                async with gate:
                    try:
                        times.append(await client.join(http, base))
                    except Exception as exc:
                        failures.append(f"{client.meeting.meeting_id}/{client.slot}: {exc!r}"[:300])

            async def meeting(m: Meeting) -> None:
                m.clients = [Client(self, m, slot) for slot in range(spec.per_meeting)]
                # The first client's route claims the meeting for the front end it asks.
                await one(m.clients[0], m.claimer)
                fronts = spec.fronts
                await asyncio.gather(
                    *(one(c, fronts[(m.number + c.slot) % len(fronts)]) for c in m.clients[1:])
                )

            await asyncio.gather(*(meeting(m) for m in self.meetings))
        return {
            "joined": len(times),
            "failures": failures,
            "join_s": times,
            "owners": {m.meeting_id: m.owner for m in self.meetings},
        }

    # -- chat ------------------------------------------------------------------------------
    def _watch(self, start: float, end: float) -> Window:
        """Read the counters at two CLOCK_MONOTONIC times."""
        window = Window()
        loop = asyncio.get_running_loop()

        def read() -> None:
            window.frames.append(self.frames)
            window.completed.append(self.completed)

        for at in (start, end):
            loop.call_later(max(0.0, at - clock()), read)
        return window

    async def open_loop(self, c: dict[str, Any]) -> dict[str, Any]:
        """`rate` messages a second per meeting from `t0` for warm-up + duration; meeting n's
        schedule is offset by n/(meetings*rate) so the sends are spread evenly."""
        t0, rate, senders = c["t0"], c["rate"], c["senders"]
        a, b = t0 + c["warmup"], t0 + c["warmup"] + c["duration"]
        window = self._watch(a, b)
        lag = [0.0]

        async def meeting(m: Meeting) -> None:
            offset = m.number / (c["meetings"] * rate)
            for k in range(math.floor((b - t0) * rate)):
                due = t0 + offset + k / rate
                delay = due - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                t_send = await self._send(m, senders, a <= due < b)
                lag[0] = max(lag[0], t_send - due)

        await asyncio.gather(*(meeting(m) for m in self.meetings))
        await self._drain(window, c["drain"])
        return self._report(window, a, b, lag[0])

    async def closed_loop(self, c: dict[str, Any]) -> dict[str, Any]:
        """`in_flight` messages per meeting at all times (a message leaves the count once all
        of its meeting's clients have it), at most `cap` a second per meeting, from `t0` for
        warm-up + duration."""
        t0, cap, senders = c["t0"], c["cap"], c["senders"]
        a, b = t0 + c["warmup"], t0 + c["warmup"] + c["duration"]
        window = self._watch(a, b)
        for m in self.meetings:
            m.in_flight = asyncio.Semaphore(c["in_flight"])

        async def meeting(m: Meeting) -> None:
            assert m.in_flight is not None
            await asyncio.sleep(max(0.0, t0 + m.number / (c["meetings"] * cap) - clock()))
            due = clock()
            while (left := b - clock()) > 0:
                try:
                    await asyncio.wait_for(m.in_flight.acquire(), left)
                except TimeoutError:
                    return
                delay = due - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                if clock() >= b:
                    return
                t_send = await self._send(m, senders, a <= clock() < b)
                due = max(due + 1 / cap, t_send)

        await asyncio.gather(*(meeting(m) for m in self.meetings))
        await self._drain(window, c["drain"])
        for m in self.meetings:
            m.in_flight = None
        return self._report(window, a, b, 0.0)

    async def _drain(self, window: Window, seconds: float) -> None:
        """Wait for the window's counts to have been read at its end, and then (at most
        `seconds`) for every message sent to reach all of its meeting."""
        deadline = clock() + seconds
        while clock() < deadline:
            if len(window.frames) == 2 and all(r.count == len(r.got) for r in self.sent.values()):
                return
            await asyncio.sleep(0.05)

    def _report(self, window: Window, a: float, b: float, lag: float) -> dict[str, Any]:
        if len(window.frames) != 2:
            raise RuntimeError(f"the window's counts were read {len(window.frames)} times, not 2")
        measured = [r for r in self.sent.values() if r.measured]
        expected = sum(len(r.got) for r in self.sent.values())
        got = sum(r.count for r in self.sent.values())
        report = {
            "sent": len(self.sent),
            "sent_measured": len(measured),
            "lost": expected - got,
            "incomplete_measured": sum(1 for r in measured if r.count < len(r.got)),
            "frames": window.frames[1] - window.frames[0],
            "completed": window.completed[1] - window.completed[0],
            "recipient": self.recipient.tobytes(),
            "everybody": self.everybody.tobytes(),
            "duplicates": self.duplicates,
            "unknown": self.unknown,
            "errors": dict(self.errors),
            "disconnected": dict(self.disconnected),
            "lag_s": lag,
            "window": (a, b),
        }
        self.sent.clear()
        self.recipient = array("d")
        self.everybody = array("d")
        self.duplicates = self.unknown = 0
        self.errors.clear()
        return report

    async def close(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(CLOSE_GATE)
        clients = [c for m in self.meetings for c in m.clients]
        for client in clients:
            client.closing = True

        async def close(client: Client) -> None:
            async with gate:
                await client.close()

        await asyncio.gather(*(close(c) for c in clients))
        return {"disconnected": dict(self.disconnected), "errors": dict(self.errors)}


async def _serve(spec: CrowdSpec, control: Connection) -> None:
    """Answer the orchestrator's commands until `close` (or the pipe closes)."""
    crowd = Crowd(spec)
    commands: dict[str, Callable[[dict[str, Any]], Any]] = {
        "join": lambda _c: crowd.join(),
        "open": crowd.open_loop,
        "closed": crowd.closed_loop,
        "close": lambda _c: crowd.close(),
    }
    while True:
        try:
            name, args = await asyncio.to_thread(control.recv)
        except (EOFError, OSError):
            await crowd.close()
            return
        try:
            answer = await commands[name](args)
        except Exception as exc:
            answer = {"failed": repr(exc)[:500]}
        control.send(answer)
        if name == "close":
            return


def crowd_process(spec: CrowdSpec, control: Connection) -> None:
    """Entry point of a crowd process (multiprocessing, spawn)."""
    run_on_loop(spec.loop, _serve(spec, control))

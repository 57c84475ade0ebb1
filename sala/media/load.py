"""What a media node measures of its Janus, once a second, for placement to read.

- **CPU** of the Janus process, as a fraction of one core: the delta of utime + stime in
  `/proc/<pid>/stat` over the wall-clock time between two samples.
- **Bit rate** in and out: the delta of the byte counters in `/proc/<pid>/net/dev` (the network
  namespace Janus runs in, loopback left out). On a media node that is Janus' media; it costs a
  file read, where the Admin API's per-handle statistics (`handle_info`) would cost a request
  per handle per second.
- **Sessions, handles, rooms** from the Admin API on loopback: `list_sessions` (one request) every
  sample, AudioBridge's room list (one request) every sample, and `list_handles` (one request per
  session, and each participant has a session) only every few samples, since it grows with the
  participants. That count runs beside the samples, never inside one: with a thousand listeners
  it is a thousand requests to a busy Janus, and a sample that waited for it would miss the
  heartbeat's TTL and have a healthy node declared lost (bench/lecture_nodes.py found it). A
  sample reports the last finished count.

`cores` goes with them, so placement compares nodes of different sizes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sala.media.janus.client import JanusClient, JanusError, JanusGone

AUDIOBRIDGE = "janus.plugin.audiobridge"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessCounters:
    """Cumulative counters of one process, read at `at` (monotonic seconds)."""

    pid: int
    at: float
    cpu_ticks: int
    net_bytes: int


def read_counters(pid: int) -> ProcessCounters:
    """The CPU time and the network bytes of `pid` now (raises OSError once it is gone)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may hold spaces: count fields after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    total = 0
    for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]:
        name, _, data = line.partition(":")
        if name.strip() == "lo":
            continue
        columns = data.split()
        total += int(columns[0]) + int(columns[8])  # bytes received, bytes sent
    return ProcessCounters(pid, time.monotonic(), utime + stime, total)


def rates(before: ProcessCounters, after: ProcessCounters) -> dict[str, float]:
    """CPU (fraction of one core) and bit rate (kbit/s) between two readings of one process."""
    elapsed = after.at - before.at
    if before.pid != after.pid or elapsed <= 0:
        return {"cpu": 0.0, "bitrate_kbps": 0.0}
    return {
        "cpu": max(0.0, (after.cpu_ticks - before.cpu_ticks) / CLOCK_TICKS / elapsed),
        "bitrate_kbps": max(0.0, (after.net_bytes - before.net_bytes) * 8 / 1000 / elapsed),
    }


def cores() -> float:
    try:
        return float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return float(os.cpu_count() or 1)


class LoadMeter:
    """Samples one Janus: its process through /proc, its content through the Admin API."""

    def __init__(
        self, admin_url: str, admin_secret: str, *, handles_every: int = 5, timeout: float = 2.0
    ) -> None:
        self._admin_url = admin_url
        self._admin_secret = admin_secret
        self._handles_every = handles_every
        self._timeout = timeout
        self._admin: JanusClient | None = None
        self._previous: ProcessCounters | None = None
        self._samples = 0
        self._handles = 0.0
        self._counting: asyncio.Task[None] | None = None
        self._cores = cores()

    async def sample(self, pid: int) -> dict[str, float]:
        """The load now. Raises OSError, JanusError or TimeoutError when Janus does not answer:
        a node whose Janus cannot be asked is not one to announce."""
        counters = await asyncio.to_thread(read_counters, pid)
        measured = rates(self._previous, counters) if self._previous else {}
        self._previous = counters
        admin = await self._connected()
        try:
            sessions = (await admin.admin("list_sessions")).get("sessions", [])
            rooms = await self._rooms(admin)
            counting = self._counting is not None and not self._counting.done()
            if self._samples % self._handles_every == 0 and not counting:
                self._counting = asyncio.create_task(self._count_handles(admin, sessions))
        except Exception:
            await self.close()  # the next sample connects again (Janus may have restarted)
            raise
        self._samples += 1
        return {
            "cpu": measured.get("cpu", 0.0),
            "cores": self._cores,
            "bitrate_kbps": measured.get("bitrate_kbps", 0.0),
            "sessions": float(len(sessions)),
            "handles": self._handles,
            "rooms": float(len(rooms)),
            "participants": float(sum(int(r.get("num_participants", 0)) for r in rooms)),
        }

    async def _connected(self) -> JanusClient:
        if self._admin is None or self._admin.closed.is_set():
            await self.close()
            client = JanusClient(
                self._admin_url, self._admin_secret, admin=True, timeout=self._timeout
            )
            try:
                await client.connect()
            except BaseException:
                await client.close()
                raise
            self._admin = client
        return self._admin

    async def _rooms(self, admin: JanusClient) -> list[dict[str, Any]]:
        """AudioBridge's rooms (one per meeting with media), asked without a session."""
        answer = await admin.request(
            {"janus": "message_plugin", "plugin": AUDIOBRIDGE, "request": {"request": "list"}}
        )
        listed: list[dict[str, Any]] = answer.get("response", {}).get("list", [])
        return listed

    async def _count_handles(self, admin: JanusClient, sessions: list[int]) -> None:
        total = 0
        for session in sessions:
            try:
                total += len((await admin.admin("list_handles", session_id=session))["handles"])
            except JanusGone:
                return  # Janus went away: the samples say so; keep the last count
            except JanusError:
                continue  # the session ended between the two requests: nothing to count
            except (OSError, TimeoutError):
                return  # Janus stalls or its connection broke: the same
        self._handles = float(total)

    async def close(self) -> None:
        if self._counting is not None:
            self._counting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._counting
            self._counting = None
        if self._admin is not None:
            admin, self._admin = self._admin, None
            await admin.close()

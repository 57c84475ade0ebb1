"""Issue 12, finding 6: nothing sala starts outlives it.

A `sala serve` killed with SIGKILL takes its Janus and its delivery worker with it, a program
run through sala/subprocesses.py dies with the process that ran it (its own children too, when
it times out), and the next `sala serve` on the same data directory stops a Janus an earlier run
left behind, but never a process a stale pidfile merely names. Every process a test starts is
ended by PID (and only while it is still that process) in the fixture's finally block.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sala.media.janus.client import JanusClient
from sala.media.janus.config import write
from sala.subprocesses import ProgramTimedOut, run_program
from tests.conftest import ROOT, free_port, start_server
from tests.support.janus import loopback_janus_config

GONE_WITHIN_S = 5.0
"""How long a child may take to notice its parent's death (Janus shuts down in ~0.2 s)."""


# ------------------------------------------------------------------------ processes --
@dataclass(frozen=True)
class Proc:
    """A process as /proc names it: a PID alone could be reused, PID and start time cannot."""

    pid: int
    start_time: int

    def alive(self) -> bool:
        stat = _stat(self.pid)
        return stat is not None and stat[2] == self.start_time and stat[0] not in "ZX"

    def cmdline(self) -> list[str]:
        return _cmdline(self.pid)

    def end(self) -> None:
        """SIGKILL, only if it is still this process (SIGKILL also ends a stopped one)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent PID, start time) from /proc/PID/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ")".
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def proc(pid: int) -> Proc:
    stat = _stat(pid)
    assert stat is not None, f"process {pid} is gone"
    return Proc(pid, stat[2])


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children(parent: int) -> list[Proc]:
    found = []
    for pid in _all_pids():
        stat = _stat(pid)
        if stat is not None and stat[1] == parent and stat[0] not in "ZX":
            found.append(Proc(pid, stat[2]))
    return found


def janus_processes(folder: Path) -> list[Proc]:
    """Every live Janus started on this configuration folder, whoever its parent is."""
    found = []
    for pid in _all_pids():
        argv = _cmdline(pid)
        stat = _stat(pid)
        if stat is None or stat[0] in "ZX" or not argv or not argv[0].endswith("janus"):
            continue
        if any(a == "-F" and b == str(folder) for a, b in itertools.pairwise(argv)):
            found.append(Proc(pid, stat[2]))
    return found


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def child_of(parent: int, pick: Callable[[list[str]], bool], what: str) -> Proc:
    found: list[Proc] = []

    def look() -> bool:
        found[:] = [c for c in children(parent) if pick(c.cmdline())]
        return bool(found)

    wait_until(look, 15, what)
    return found[0]


def is_janus(argv: list[str]) -> bool:
    return bool(argv) and argv[0].endswith("janus")


def is_worker(argv: list[str]) -> bool:
    return argv[-3:] == ["-m", "sala", "worker"] or argv[-2:] == ["sala", "worker"]


def port_free(port: int) -> bool:
    """Whether a new listener (with SO_REUSEADDR, as Janus' libwebsockets sets) could take it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
        return True


def dead_identity() -> dict[str, int]:
    """The identity of a process that existed and is gone (a pidfile's owner long dead)."""
    sleeper = subprocess.Popen(["sleep", "30"])
    identity = proc(sleeper.pid)
    sleeper.kill()
    sleeper.wait()
    return {"pid": identity.pid, "start_time": identity.start_time}


def boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


# ------------------------------------------------------------------------- fixtures --
@dataclass
class Started:
    """What a test started: ended by PID in the fixture's finally block."""

    popens: list[subprocess.Popen[bytes]] = field(default_factory=list)
    procs: list[Proc] = field(default_factory=list)

    def popen(self, argv: list[str], cwd: Path | None = None) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        self.popens.append(process)
        self.procs.append(proc(process.pid))
        return process

    def track(self, found: Proc) -> Proc:
        self.procs.append(found)
        return found


@pytest.fixture
def started() -> Iterator[Started]:
    record = Started()
    try:
        yield record
    finally:
        for found in record.procs:
            found.end()
        for process in record.popens:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


@dataclass
class MediaSala:
    data_dir: Path
    ws_port: int
    admin_port: int

    @property
    def janus_folder(self) -> Path:
        return self.data_dir / "janus"

    @property
    def pidfile(self) -> Path:
        return self.janus_folder / "janus.pid"

    def env(self) -> dict[str, str]:
        return {
            "SALA_MEDIA": "true",
            "SALA_JANUS_WS_PORT": str(self.ws_port),
            "SALA_JANUS_ADMIN_PORT": str(self.admin_port),
        }


@pytest.fixture
def media_sala(tmp_path: Path) -> MediaSala:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux' /proc")
    if not any(Path(d, "janus").exists() for d in os.environ["PATH"].split(os.pathsep)):
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return MediaSala(data_dir, free_port(), free_port())


def serve(started: Started, sala: MediaSala) -> subprocess.Popen[bytes]:
    """`sala serve` with its own Janus on fixed loopback ports; returns once the API answers
    (by then sala has started its Janus, or given up on media)."""
    process, _ = start_server(sala.data_dir, sala.env())
    started.popens.append(process)
    started.procs.append(proc(process.pid))
    return process


async def janus_answers(folder: Path, ws_port: int) -> bool:
    """Whether the Janus on ws_port is the one configured in `folder` now (its API secret)."""
    config = (folder / "janus.jcfg").read_text()
    match = re.search(r'api_secret = "([0-9a-f]+)"', config)
    assert match is not None
    client = JanusClient(f"ws://127.0.0.1:{ws_port}", match.group(1), timeout=3)
    try:
        await client.connect()
        return bool(await client.create_session())
    finally:
        await client.close()


# ---------------------------------------------------------------------------- tests --
def test_janus_and_worker_die_with_a_killed_sala(started: Started, media_sala: MediaSala) -> None:
    sala = serve(started, media_sala)
    janus = started.track(child_of(sala.pid, is_janus, "sala's Janus"))
    worker = started.track(child_of(sala.pid, is_worker, "sala's delivery worker"))
    assert not port_free(media_sala.ws_port)

    os.kill(sala.pid, signal.SIGKILL)
    sala.wait(timeout=10)

    wait_until(lambda: not janus.alive(), GONE_WITHIN_S, "Janus ends with its killed sala")
    wait_until(lambda: not worker.alive(), GONE_WITHIN_S, "the worker ends with its sala")
    wait_until(
        lambda: port_free(media_sala.ws_port) and port_free(media_sala.admin_port),
        GONE_WITHIN_S,
        "Janus' ports are free again",
    )
    assert janus_processes(media_sala.janus_folder) == []


def test_the_next_start_stops_a_janus_left_behind(started: Started, media_sala: MediaSala) -> None:
    first = serve(started, media_sala)
    left = started.track(child_of(first.pid, is_janus, "the first sala's Janus"))
    # A Janus that cannot act on the death signal (stopped, as a hung one would be) outlives
    # its sala: the leftover the next start has to deal with.
    os.kill(left.pid, signal.SIGSTOP)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    time.sleep(0.5)
    assert left.alive(), "the setup failed: no Janus was left behind"

    second = serve(started, media_sala)
    janus = started.track(child_of(second.pid, is_janus, "the second sala's Janus"))

    assert not left.alive(), "the leftover Janus still runs"
    assert janus_processes(media_sala.janus_folder) == [janus]
    assert asyncio.run(janus_answers(media_sala.janus_folder, media_sala.ws_port))
    recorded = json.loads(media_sala.pidfile.read_text())
    assert recorded["janus"] == {"pid": janus.pid, "start_time": janus.start_time}


def _impostor(started: Started, folder: Path) -> Proc:
    """A process whose command line names the Janus folder, as sala's Janus' does."""
    return proc(
        started.popen([sys.executable, "-c", "import time; time.sleep(300)", "-F", str(folder)]).pid
    )


def _other_janus(started: Started, tmp_path: Path) -> Proc:
    """Somebody else's Janus: another configuration folder."""
    config = loopback_janus_config(tmp_path / "other-janus")
    write(config)
    log = tmp_path / "other-janus.log"
    argv = ["janus", "-F", str(config.folder), "-o", "-N", "-L", str(log)]
    process = started.popen(argv)
    wait_until(lambda: not port_free(config.ws_port), 10, "the other Janus listens")
    return proc(process.pid)


@pytest.mark.parametrize("named", ["sleep", "reused pid", "other boot", "other janus"])
def test_a_pidfile_naming_another_process_is_left_alone(
    started: Started, media_sala: MediaSala, tmp_path: Path, named: str
) -> None:
    if named == "sleep":
        # The right PID and start time, but not a Janus on this folder.
        victim = proc(started.popen(["sleep", "300"]).pid)
        recorded, boot = victim, boot_id()
    elif named == "reused pid":
        # A process on this folder's command line, but not the one recorded: its PID came
        # round again for a process started at another time.
        victim = _impostor(started, media_sala.janus_folder)
        recorded, boot = Proc(victim.pid, victim.start_time - 1), boot_id()
    elif named == "other boot":
        # PID and start time repeat from one boot to the next (services start alike).
        victim = _impostor(started, media_sala.janus_folder)
        recorded, boot = victim, "00000000-0000-0000-0000-000000000000"
    else:
        victim = _other_janus(started, tmp_path)
        recorded, boot = victim, boot_id()
    media_sala.janus_folder.mkdir(parents=True)
    media_sala.pidfile.write_text(
        json.dumps(
            {
                "boot_id": boot,
                "janus": {"pid": recorded.pid, "start_time": recorded.start_time},
                "sala": dead_identity(),
            }
        )
    )

    sala = serve(started, media_sala)
    janus = started.track(child_of(sala.pid, is_janus, "sala's Janus"))

    assert victim.alive(), f"sala killed the process a stale pidfile named ({named})"
    recorded_now = json.loads(media_sala.pidfile.read_text())
    assert recorded_now["janus"] == {"pid": janus.pid, "start_time": janus.start_time}


_RUN_SLEEP = """
import asyncio, sys
from sala.subprocesses import run_program

async def main() -> None:
    await run_program(["sleep", "300"], 600)

if sys.argv[1] == "uvloop":
    import uvloop
    uvloop.run(main())
else:
    asyncio.run(main())
"""


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_program_dies_with_the_process_that_ran_it(started: Started, loop: str) -> None:
    """Document conversion runs in `sala serve` (uvloop), recording tools in `sala worker`
    (asyncio's loop): a SIGKILL of either leaves no converter or ffmpeg behind."""
    runner = started.popen([sys.executable, "-c", _RUN_SLEEP, loop], cwd=ROOT)
    program = started.track(child_of(runner.pid, lambda argv: argv[:1] == ["sleep"], "the program"))
    runner.kill()
    runner.wait(timeout=10)
    wait_until(lambda: not program.alive(), GONE_WITHIN_S, "the program ends with its runner")


async def test_a_timed_out_program_takes_its_own_children_along(
    started: Started, tmp_path: Path
) -> None:
    """LibreOffice's soffice runs soffice.bin as its child: a time limit ends both, and
    run_program returns at its limit even though that child held the output pipes."""
    marker = tmp_path / "grandchild.pid"
    script = f"sleep 300 & echo $! > {marker}; wait"
    running = asyncio.create_task(run_program(["sh", "-c", script], 1.0))
    done, _ = await asyncio.wait({running}, timeout=1.0 + GONE_WITHIN_S)
    stat = _stat(int(marker.read_text()))
    grandchild = None if stat is None else started.track(Proc(int(marker.read_text()), stat[2]))
    if not done:
        if grandchild is not None:
            grandchild.end()  # lets run_program finish, so the test ends
        with contextlib.suppress(ProgramTimedOut):
            await running
        pytest.fail("run_program did not return at its time limit (the child held its pipes)")
    with pytest.raises(ProgramTimedOut):
        running.result()
    assert grandchild is None or not grandchild.alive(), "the program's child outlived it"

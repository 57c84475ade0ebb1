"""That no process sala starts outlives it (issue 12, finding 6): the death signal its children
get, and the pidfiles by which the next start finds what a killed sala left running.

Two deaths need two answers:

- `sala serve` killed outright (SIGKILL, the OOM killer) runs none of its shutdown code. Its
  children are told by the kernel: `die_with_parent` gives each, between fork and exec, Linux'
  parent-death signal (PR_SET_PDEATHSIG), which the kernel sends when sala goes.
- A child that does not act on that signal (stopped, hung, or started by a sala without it)
  is still running at the next start. A `Pidfile` records which process it is (PID, start
  time, boot) and whose child (sala's own PID and start time), so the next start of the same
  data directory can stop it, and never a process that merely got the same PID later, a
  process of another boot, or a program the file was edited to name.

The death signal is tied to the *thread* that forked the child, not to the process: the kernel
sends it when that thread exits. sala forks on its event loop's thread (asyncio's and uvloop's
`create_subprocess_exec` fork on the calling thread, which is the loop's), and that thread lives
as long as the loop that supervises the children; it is the main thread in `sala serve` and
`sala worker`. Children must therefore never be started from `asyncio.to_thread` or an executor:
such a thread can end while sala runs on, and would take a healthy child with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""
STOP_GRACE_S = 5.0
"""How long a leftover gets to end after SIGTERM, then after SIGKILL."""


@cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent: the child between fork and exec should do as
    little as possible (no library loading, no imports), only the call itself."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                         ctypes.c_ulong]  # fmt: skip
    function.restype = ctypes.c_int
    result: Callable[..., int] = function
    return result


def die_with_parent(
    sig: signal.Signals, then: Callable[[], None] | None = None
) -> Callable[[], None] | None:
    """A `preexec_fn` giving the child `sig` when the thread forking it (see the module's
    docstring) ends; `then` runs after it. None where Linux' prctl is not available (and no
    `then`): the child is started as before, and only the pidfile covers it."""
    prctl = _prctl()
    if prctl is None:
        return then
    parent = os.getpid()
    signum = int(sig)

    def preexec() -> None:
        # A failure (a seccomp filter, say) must not stop the child from starting: it would
        # only lose the death signal, which the pidfile backs up.
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        # sala may have died between the fork and the prctl: then the signal will never come,
        # and the child, already orphaned, must not go on to exec.
        if os.getppid() != parent:
            os._exit(1)
        if then is not None:
            then()

    return preexec


# ----------------------------------------------------------------- process identity --
@dataclass(frozen=True)
class ProcessIdentity:
    """A process beyond its PID: PIDs are reused, PID and start time together are not (within
    one boot)."""

    pid: int
    start_time: int
    """Clock ticks after boot (field 22 of /proc/PID/stat)."""


def identify(pid: int) -> ProcessIdentity | None:
    """The running process `pid`, or None if there is none (or only its zombie, which holds
    nothing any more), or no /proc to ask."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        # The command name in parentheses may itself hold spaces and ")": fields follow the
        # last one. After it: state (field 3) ... start time (field 22).
        fields = raw.rsplit(")", 1)[1].split()
        state, start_time = fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return None
    if state in ("Z", "X"):
        return None
    return ProcessIdentity(pid, start_time)


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return None


# --------------------------------------------------------------------------- pidfile --
@dataclass(frozen=True)
class _Recorded:
    boot_id: str | None
    child: ProcessIdentity
    owner: ProcessIdentity | None


class Pidfile:
    """The pidfile of one child sala keeps running (its Janus). Blocking file and /proc work:
    call it through `asyncio.to_thread`.

    The file is JSON: {"boot_id": ..., "janus": {"pid", "start_time"}, "sala": {"pid",
    "start_time"}}, "janus" being the `name` given here.
    """

    def __init__(self, path: Path, name: str, ours: Callable[[list[str]], bool]) -> None:
        self.path = path
        self._name = name
        self._ours = ours
        """Whether a command line is that of such a child of this data directory."""

    def record(self, pid: int) -> None:
        """Note the child just started (by this process). Atomic: a reader sees the old file
        or the new one, never a part."""
        child = identify(pid)
        me = identify(os.getpid())
        if child is None:
            return  # already gone: nothing to find later
        document = {
            "boot_id": boot_id(),
            self._name: {"pid": child.pid, "start_time": child.start_time},
            "sala": None if me is None else {"pid": me.pid, "start_time": me.start_time},
        }
        partial = self.path.with_name(self.path.name + ".new")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out)
        os.replace(partial, self.path)

    def forget(self, pid: int) -> None:
        """The child `pid` ended as it should: remove the file if it still names it."""
        recorded = self._read()
        if recorded is not None and recorded.child.pid == pid:
            self._remove()

    def stop_leftover(self) -> ProcessIdentity | None:
        """Stop the child an earlier sala of this data directory left running, if the file
        names one and it is still that very process; returns it. Otherwise nothing is
        signalled (the file, being stale, is removed)."""
        recorded = self._read()
        if recorded is None:
            return None
        if recorded.boot_id is None or recorded.boot_id != boot_id():
            # PIDs and start times repeat from one boot to the next (services start alike).
            log.info("%s is from an earlier boot; removed", self.path)
            self._remove()
            return None
        owner = recorded.owner
        if owner is not None and identify(owner.pid) == owner:
            # The sala that started it still runs (another sala on this data directory, or
            # this one): its child is looked after, not left over.
            log.warning(
                "%s (pid %s) belongs to sala pid %s, which still runs on this data directory; "
                "left alone",
                self._name,
                recorded.child.pid,
                owner.pid,
            )
            return None
        stopped = self._stop(recorded.child)
        self._remove()
        return stopped

    def _stop(self, child: ProcessIdentity) -> ProcessIdentity | None:
        # Pin the process first (a pidfd names one process, never a later one with the same
        # PID), then check that it is the recorded one: the checks and the signals then concern
        # the same process.
        pidfd: int | None = None
        with contextlib.suppress(OSError, AttributeError):  # gone, or a kernel before 5.3
            pidfd = os.pidfd_open(child.pid)
        try:
            if identify(child.pid) != child or not self._ours(command_line(child.pid)):
                # Ended, or the PID now names another process: nothing of ours to stop.
                log.info("%s named pid %s, no longer %s; removed", self.path, child.pid,
                         self._name)  # fmt: skip
                return None
            log.warning(
                "stopping %s (pid %s) left running by an earlier sala of this data directory",
                self._name,
                child.pid,
            )
            # SIGCONT too: a stopped process acts on SIGTERM only once continued.
            for sig in (signal.SIGTERM, signal.SIGCONT):
                self._signal(child, pidfd, sig)
            if not self._ended(child, pidfd, STOP_GRACE_S):
                self._signal(child, pidfd, signal.SIGKILL)
                if not self._ended(child, pidfd, STOP_GRACE_S):
                    log.error("%s (pid %s) did not end", self._name, child.pid)
            return child
        except PermissionError:
            log.error("%s (pid %s) is not ours to stop", self._name, child.pid)
            return None
        finally:
            if pidfd is not None:
                os.close(pidfd)

    @staticmethod
    def _signal(child: ProcessIdentity, pidfd: int | None, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, sig)
            else:
                # Without pidfds (old kernels), the identity was checked just before.
                os.kill(child.pid, sig)

    @staticmethod
    def _ended(child: ProcessIdentity, pidfd: int | None, timeout: float) -> bool:
        if pidfd is not None:
            # A pidfd turns readable when its process ends (also one that is not our child).
            # poll, not select: a busy server's descriptors may number past select's 1024.
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            return bool(poller.poll(timeout * 1000))
        deadline = time.monotonic() + timeout
        while identify(child.pid) == child:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _read(self) -> _Recorded | None:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            child = document[self._name]
            owner = document.get("sala")
            return _Recorded(
                boot_id=document.get("boot_id"),
                child=ProcessIdentity(int(child["pid"]), int(child["start_time"])),
                owner=(
                    None
                    if owner is None
                    else ProcessIdentity(int(owner["pid"]), int(owner["start_time"]))
                ),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s is unreadable; ignored", self.path)
            self._remove()
            return None

    def _remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

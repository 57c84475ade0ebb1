"""Running the programs sala leans on (pdftoppm, LibreOffice, janus-pp-rec, ffmpeg) the one way
it runs them: an argv list, no shell, stdin closed, output collected, a time limit, and the child
killed if the limit passes or the caller is cancelled (a shutdown leaves no converter behind).

Each program runs in a process group of its own, which is what gets killed: LibreOffice's
`soffice` does its work in a child (soffice.bin) that would otherwise outlive it, keep its
output pipes open, and so hold the caller well past the time limit. And each program dies with
the process that ran it (see sala/children.py), even one killed by SIGKILL; the kernel does not
pass that on to the program's own children, so a soffice.bin then finishes its conversion
within the CPU and memory limits it inherited (presentations/convert.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sala.children import die_with_parent


class ProgramMissing(Exception):
    """The program is not installed."""


class ProgramTimedOut(Exception):
    """The program ran past its time limit and was killed."""


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: bytes
    stderr: bytes

    def last_error_line(self, limit: int = 300) -> str:
        lines = self.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1][:limit] if lines else "no detail"


async def run_program(
    argv: list[str],
    timeout_s: float,
    *,
    cwd: Path | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Finished:
    if shutil.which(argv[0]) is None:
        raise ProgramMissing(argv[0])
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        start_new_session=True,  # a group of its own, to kill with whatever it started
        # Forked on the event loop's thread (this coroutine's), as sala/children.py requires.
        # SIGKILL: whatever the program was making is thrown away with its caller anyway.
        preexec_fn=die_with_parent(signal.SIGKILL, then=preexec_fn),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except (TimeoutError, asyncio.CancelledError) as exc:
        # The group bears the program's PID, which stays taken while any member lives; once
        # none does, killpg finds nothing (a reused PID is not a group leader by itself).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if isinstance(exc, TimeoutError):
            raise ProgramTimedOut(argv[0]) from None
        raise
    return Finished(process.returncode or 0, out, err)

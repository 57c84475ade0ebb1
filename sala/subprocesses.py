"""Running the programs sala leans on (pdftoppm, LibreOffice, janus-pp-rec, ffmpeg) the one way
it runs them: an argv list, no shell, stdin closed, output collected, a time limit, and the child
killed if the limit passes or the caller is cancelled (a shutdown leaves no converter behind)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


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
        preexec_fn=preexec_fn,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except (TimeoutError, asyncio.CancelledError) as exc:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        if isinstance(exc, TimeoutError):
            raise ProgramTimedOut(argv[0]) from None
        raise
    return Finished(process.returncode or 0, out, err)

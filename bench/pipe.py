"""The parent's side of a benchmark's child process pipe: waiting for the child's answer.

bench/cluster.py's crowds (bench/crowd.py) and bench/lecture_crowd.py's crowd run in child
processes (multiprocessing, spawn) that answer each command with one dict through a pipe, or
with `{"failed": "<why>"}` when the command raised. Both parents wait for that answer the same
way, here: off the event loop, bounded, and turning silence or a failure into an exception.
"""

from __future__ import annotations

import asyncio
from multiprocessing.connection import Connection
from typing import Any


async def pipe_answer(
    control: Connection, within_s: float, silent: str, failed: str
) -> dict[str, Any]:
    """The child's next answer on `control`, waited for at most `within_s` seconds.

    Raises RuntimeError(`silent`) when nothing comes in time, and RuntimeError("`failed`: why")
    when the child answers `{"failed": why}`.
    """

    # poll() and recv() block, so they run in a thread: the event loop keeps serving the
    # benchmark's own clients while the child works.
    def wait() -> dict[str, Any] | None:
        if not control.poll(within_s):
            return None
        answer: dict[str, Any] = control.recv()
        return answer

    answer = await asyncio.to_thread(wait)
    if answer is None:
        raise RuntimeError(silent)
    if "failed" in answer:
        raise RuntimeError(f"{failed}: {answer['failed']}")
    return answer

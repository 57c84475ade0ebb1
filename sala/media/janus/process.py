"""A Janus process sala starts and looks after: written config, readiness, restart on death.

If Janus dies, it is started again at once (then with growing pauses if it keeps dying), and
`on_restart` callbacks run so the media layer can rebuild rooms and tell clients to reconnect.

Janus never outlives the sala that started it (see sala/children.py): it gets SIGTERM from the
kernel when sala dies, and its pidfile (`janus.pid` in its configuration folder) lets the next
start of the same data directory stop one that did not act on that signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import shutil
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from sala.children import Pidfile, die_with_parent
from sala.media.janus.client import JanusClient, JanusError
from sala.media.janus.config import JanusConfig, write

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 15.0


class JanusUnavailable(Exception):
    pass


def janus_pidfile(folder: Path) -> Pidfile:
    """The pidfile of the Janus sala runs on the configuration folder `folder`. Only a Janus
    started on that folder (`-F <folder>`, as `_spawn` starts it) is one to stop."""

    def ours(argv: list[str]) -> bool:
        return any(a == "-F" and b == str(folder) for a, b in itertools.pairwise(argv))

    return Pidfile(folder / "janus.pid", "janus", ours)


async def stop_leftover_janus(folder: Path) -> None:
    """Stop a Janus that an earlier, killed sala of this data directory left running (it holds
    its ports and, since the configuration is rewritten at each start, serves nobody)."""
    await asyncio.to_thread(janus_pidfile(folder).stop_leftover)


class JanusProcess:
    def __init__(
        self,
        config: JanusConfig,
        log_path: Path,
        binary: str = "janus",
        on_restart: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self._log_path = log_path
        self._binary = binary
        self._on_restart = on_restart
        self._process: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._pidfile = janus_pidfile(config.folder)
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        if shutil.which(self._binary) is None:
            raise JanusUnavailable(
                f"{self._binary} is not installed (Debian package janus; scripts/bootstrap "
                "installs it when run as root)"
            )
        self._stopping = False
        await asyncio.to_thread(self._pidfile.stop_leftover)
        await self._spawn()
        self._watcher = asyncio.create_task(self._watch(), name="janus-watch")

    async def _spawn(self) -> None:
        await asyncio.to_thread(write, self.config)
        await asyncio.to_thread(self._log_path.parent.mkdir, parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            self._binary,
            "-F",
            str(self.config.folder),
            "-o",  # no colours
            "-N",  # no stdout logging...
            "-L",  # ...but a log file
            str(self._log_path),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
            # Forked here, on the event loop's thread, which outlives Janus' supervision: the
            # death signal fires when sala (or that loop's thread) ends, never earlier.
            preexec_fn=die_with_parent(signal.SIGTERM),  # SIGTERM: Janus closes its recordings
        )
        pid = self._process.pid
        try:
            await asyncio.to_thread(self._pidfile.record, pid)
        except OSError as exc:  # the death signal still covers it
            log.warning("could not write %s: %s", self._pidfile.path, exc)
        try:
            await self._wait_ready()
        except JanusUnavailable:
            # A Janus that never became ready must not sit on its ports unwatched.
            await self._end(self._process)
            raise
        log.info("Janus ready (pid %s) on %s", self.pid, self.config.ws_url)

    async def _wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        last_error: Exception | None = None
        while asyncio.get_running_loop().time() < deadline:
            if self._process is not None and self._process.returncode is not None:
                break
            client = JanusClient(self.config.ws_url, self.config.api_secret, timeout=2)
            try:
                await client.connect()
                await client.request({"janus": "info"})
                return
            except (OSError, JanusError, TimeoutError) as exc:
                last_error = exc
            finally:
                await client.close()
            await asyncio.sleep(0.05)
        tail = self._log_tail()
        raise JanusUnavailable(f"Janus did not become ready: {last_error}\n{tail}")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def _watch(self) -> None:
        pause = 0.0
        while not self._stopping:
            assert self._process is not None
            code = await self._process.wait()
            if self._stopping:
                return
            log.error("Janus exited with %s; restarting", code)
            await asyncio.sleep(pause)
            pause = min(10.0, pause * 2 or 0.5)
            try:
                await self._spawn()
            except JanusUnavailable:
                log.exception("Janus failed to restart")
                continue
            self.restarts += 1
            pause = 0.0
            if self._on_restart is not None:
                try:
                    await self._on_restart()
                except Exception:
                    log.exception("after-restart callback failed")

    async def stop(self) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        process = self._process
        if process is None:
            return
        await self._end(process)

    async def _end(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        await asyncio.to_thread(self._pidfile.forget, process.pid)

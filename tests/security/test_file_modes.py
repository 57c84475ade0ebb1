"""The data directory and its files are for sala's own user only (issue 12, finding 12).

Fresh installs: the directory 0700, the databases, their SQLite side files and the generated
secret 0600, under a lax umask and under none at all. Older installs (0755 directory, 0644
files) are tightened when `sala serve` starts, with one warning; `sala check` reports modes and
fails while others can read the data.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALA_")}
    env.update(SALA_DATA_DIR=str(data_dir), SALA_MEDIA="false", **extra)
    return env


class Serving:
    """`sala serve` under a given umask, its stderr (the log) in a file."""

    def __init__(self, data_dir: Path, umask: int) -> None:
        self.log = data_dir.parent / f"serve-{umask:o}.log"
        self.port = free_port()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sala", "serve", "--port", str(self.port)],
                env=environment(data_dir),
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=ROOT,
                umask=umask,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).is_success:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("sala did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[type[Serving]]:
    started: list[Serving] = []

    class Tracked(Serving):
        def __init__(self, data_dir: Path, umask: int) -> None:
            super().__init__(data_dir, umask)
            started.append(self)

    yield Tracked
    for server in started:
        server.stop()


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_a_fresh_data_dir_is_private_whatever_the_umask(
    tmp_path: Path, serve: type[Serving], umask: int
) -> None:
    data_dir = tmp_path / "data"
    server = serve(data_dir, umask)
    db, outbox = data_dir / "sala.db", data_dir / "sala.outbox.db"
    # While it runs: WAL mode keeps the side files open, so they are there to check.
    side_files = [path for base in (db, outbox) for path in base.parent.glob(base.name + "-*")]
    assert data_dir / "sala.db-wal" in side_files and data_dir / "sala.db-shm" in side_files
    assert mode(data_dir) == 0o700
    for path in (db, outbox, data_dir / "secret", *side_files):
        assert mode(path) == 0o600, f"{path.name} is {mode(path):o}"
    for sub in ("presentations", "recordings", "captions"):
        assert mode(data_dir / sub) == 0o700, sub
    server.stop()
    assert "readable by other users" not in server.log.read_text()


def test_an_older_install_is_tightened_on_start(tmp_path: Path, serve: type[Serving]) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    (data_dir / "presentations").mkdir(mode=0o755)
    (data_dir / "presentations").chmod(0o755)
    sqlite3.connect(data_dir / "sala.db").close()
    (data_dir / "sala.db").chmod(0o644)
    (data_dir / "secret").write_text("an-older-install-secret-0123456789\n")
    (data_dir / "secret").chmod(0o644)

    server = serve(data_dir, 0o022)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "presentations") == 0o700
    for name in ("sala.db", "sala.db-wal", "sala.db-shm", "secret", "sala.outbox.db"):
        assert mode(data_dir / name) == 0o600, name
    server.stop()
    log = server.log.read_text()
    warnings = [line for line in log.splitlines() if "readable by other users" in line]
    assert len(warnings) == 1, log
    assert " WARNING " in warnings[0] and f"{data_dir} (0755 -> 0700)" in warnings[0]
    assert f"{data_dir / 'sala.db'} (0644 -> 0600)" in warnings[0]
    assert "an-older-install-secret" not in log


def check(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sala", "check"],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_check_reports_modes_and_warns_while_others_can_read(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    private = check(data_dir)  # creates the data dir, the secret and the database
    assert private.returncode == 0, private.stderr
    assert f"permissions: {data_dir} 0700 ok" in private.stdout
    assert f"permissions: {data_dir / 'secret'} 0600 ok" in private.stdout

    data_dir.chmod(0o755)
    (data_dir / "sala.db").chmod(0o644)
    loose = check(data_dir)
    assert loose.returncode == 1
    assert f"permissions: {data_dir} is 0755" in loose.stderr
    assert f"permissions: {data_dir / 'sala.db'} is 0644" in loose.stderr
    # `sala check` only reports: the modes are as it found them.
    assert mode(data_dir) == 0o755 and mode(data_dir / "sala.db") == 0o644

"""The `sala` command as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SALA_")}
    environment.update(SALA_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "sala", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_secret_prints_url_and_the_same_secret_every_time(tmp_path: Path) -> None:
    first = run("secret", data_dir=tmp_path)
    second = run("secret", data_dir=tmp_path, SALA_PORT="9999")
    assert first.returncode == 0
    assert "URL: http://127.0.0.1:8090/bigbluebutton/" in first.stdout
    secret = (tmp_path / "secret").read_text().strip()
    assert f"Secret: {secret}" in first.stdout and f"Secret: {secret}" in second.stdout
    assert "URL: http://127.0.0.1:9999/bigbluebutton/" in second.stdout


def test_check_and_migrate(tmp_path: Path) -> None:
    migrated = run("migrate", data_dir=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    checked = run("check", data_dir=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "database: ok" in checked.stdout


def test_bad_configuration_exits_with_a_clear_message(tmp_path: Path) -> None:
    result = run("secret", data_dir=tmp_path, SALA_PORT="not-a-port")
    assert result.returncode == 2
    assert "SALA_PORT" in result.stderr and "Traceback" not in result.stderr
    unreachable = run(
        "check", data_dir=tmp_path, SALA_DATABASE_URL="postgresql://nobody@127.0.0.1:1/x"
    )
    assert unreachable.returncode == 1
    assert "database: cannot connect" in unreachable.stderr


def test_a_cluster_role_without_redis_says_what_is_missing(tmp_path: Path) -> None:
    refused = run("serve", "--role", "frontend", data_dir=tmp_path)
    assert refused.returncode == 2
    assert "SALA_REDIS_URL" in refused.stderr
    sqlite = run(
        "serve", "--role", "worker", data_dir=tmp_path, SALA_REDIS_URL="redis://127.0.0.1:1"
    )
    assert sqlite.returncode == 2
    assert "PostgreSQL" in sqlite.stderr


def test_check_and_status_reach_the_cluster_s_redis(tmp_path: Path, redis_url: str) -> None:
    checked = run("check", data_dir=tmp_path, SALA_REDIS_URL=redis_url)
    assert "redis: ok" in checked.stdout, checked.stderr
    down = run("check", data_dir=tmp_path, SALA_REDIS_URL="redis://127.0.0.1:1/0")
    assert down.returncode == 1
    assert "redis: cannot reach" in down.stderr
    assert run("migrate", data_dir=tmp_path).returncode == 0
    status = run("status", "--drain", "fe9", data_dir=tmp_path, SALA_REDIS_URL=redis_url)
    assert status.returncode == 0, status.stderr
    assert "fe9: draining" in status.stdout
    assert "meetings: 0 live, 0 people" in status.stdout

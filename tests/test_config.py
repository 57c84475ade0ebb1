"""Configuration: sources, validation errors that name the key, the generated secret."""

from __future__ import annotations

import os
import re
import socket
import stat
from pathlib import Path

import pytest

from sala.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SALA_"):
            monkeypatch.delenv(key)


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path)
    second = load_settings(data_dir=tmp_path)
    assert len(first.shared_secret) == 64
    assert first.shared_secret == second.shared_secret
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_environment_and_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sala.toml"
    config.write_text(
        'port = 9000\npublic_url = "https://conf.example.org/"\nsecret = "from-file"\n'
    )
    monkeypatch.setenv("SALA_CONFIG_FILE", str(config))
    monkeypatch.setenv("SALA_PORT", "9100")  # the environment beats the file
    settings = load_settings(data_dir=tmp_path)
    assert settings.port == 9100
    assert settings.base_url == "https://conf.example.org"
    assert settings.shared_secret == "from-file"
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


def test_database_url_schemes(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="postgresql://u@h/db", secret="s")
    assert settings.sqlalchemy_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ({"port": 70000}, "SALA_PORT"),
        ({"checksum_algorithms": "md5"}, "SALA_CHECKSUM_ALGORITHMS"),
        ({"public_url": "conf.example.org"}, "SALA_PUBLIC_URL"),
        ({"secret": "   "}, "secret"),
        ({"inactivity_timeout_minutes": -1}, "SALA_INACTIVITY_TIMEOUT_MINUTES"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, override: dict[str, object], names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(data_dir=tmp_path, **override)
    assert names in str(caught.value)
    assert "   " not in str(caught.value)  # a secret's value is never echoed


def test_unknown_key_in_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sala.toml"
    config.write_text("prot = 9000\n")
    monkeypatch.setenv("SALA_CONFIG_FILE", str(config))
    with pytest.raises(ConfigError, match="PROT"):
        load_settings(data_dir=tmp_path)


def test_redis_url_and_node_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    single = load_settings(data_dir=tmp_path, port=8091)
    assert single.redis_url is None
    assert single.cluster_node_id == f"{socket.gethostname()}:8091"
    monkeypatch.setenv("SALA_REDIS_URL", "rediss://:pw@redis.internal:6380/2")
    monkeypatch.setenv("SALA_NODE_ID", "fe-1.example.org:8090")
    clustered = load_settings(data_dir=tmp_path)
    assert clustered.redis_url == "rediss://:pw@redis.internal:6380/2"
    assert clustered.cluster_node_id == "fe-1.example.org:8090"
    assert load_settings(data_dir=tmp_path, redis_url="unix:///run/redis/redis.sock").redis_url


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"redis_url": "http://10.0.0.7:6379"}, "SALA_REDIS_URL: Value error, must start with"),
        ({"redis_url": "redis://"}, "SALA_REDIS_URL: Value error, needs a host"),
        ({"redis_url": "redis://10.0.0.7:99999/0"}, "SALA_REDIS_URL: Value error, bad port"),
        ({"redis_url": "unix://"}, "SALA_REDIS_URL: Value error, unix:// needs the socket's path"),
        ({"node_id": "front end 1"}, "SALA_NODE_ID: Value error, must be 1 to 128"),
        ({"node_id": "x" * 129}, "SALA_NODE_ID: Value error, must be 1 to 128"),
    ],
)
def test_bad_cluster_settings_say_what_is_wrong(
    tmp_path: Path, override: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(data_dir=tmp_path, **override)


def test_a_bad_redis_url_is_named_but_its_password_not_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(data_dir=tmp_path, redis_url="http://:hunter2-password@redis:6379")
    assert "SALA_REDIS_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)

"""A media node's configuration: where its Janus listens, and the secret it shares with the
front ends, refused early when missing or unusable."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sala.clock import SystemClock
from sala.cluster.directory import LocalDirectory
from sala.cluster.nodes import LocalRegistry
from sala.config import ConfigError, load_settings
from sala.media.agent import MediaAgent, forward_host, node_janus_config
from sala.media.janus.config import render
from sala.media.runtime import MediaRuntime


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SALA_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("value", ["0.0.0.0", "::", "media.example.edu"])
def test_the_announced_address_must_be_one_front_ends_can_reach(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(data_dir=tmp_path, janus_ws_ip=value)
    assert "SALA_JANUS_WS_IP" in str(refused.value)


def test_a_media_node_listens_on_its_address_with_the_shared_secret(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        janus_ws_ip="10.0.1.21",
        janus_ws_port=8188,
        janus_ws_acl="10.0.0.",
        janus_api_secret="shared-by-every-node",
    )
    config = node_janus_config(settings)
    assert config.ws_url == "ws://10.0.1.21:8188"
    files = render(config)
    transport = files["janus.transport.websockets.jcfg"]
    assert 'ws_ip = "10.0.1.21"' in transport and 'ws_acl = "10.0.0."' in transport
    # The Admin API, and its secret, stay on the machine.
    assert 'admin_ws_ip = "127.0.0.1"' in transport
    assert 'api_secret = "shared-by-every-node"' in files["janus.jcfg"]
    assert config.admin_secret not in ("", "shared-by-every-node")


def test_media_nodes_and_front_ends_need_the_shared_secret(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, janus_ws_ip="10.0.1.21")
    with pytest.raises(ConfigError) as node:
        MediaAgent(settings, LocalRegistry(), "media-1")
    assert "janus_api_secret" in str(node.value)
    with pytest.raises(ConfigError) as front_end:
        MediaRuntime(settings, SystemClock(), registry=LocalRegistry(), directory=LocalDirectory())
    assert "janus_api_secret" in str(front_end.value)


def test_the_listen_only_streams_take_ports_apart_from_ice_and_predefine_nothing(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        data_dir=tmp_path, janus_ws_ip="10.0.1.21", janus_ws_port=8188, janus_api_secret="s"
    )
    config = node_janus_config(settings)
    files = render(config)
    streaming = files["janus.plugin.streaming.jcfg"]
    # Only the general section: no mountpoint listens until a meeting has listeners.
    assert streaming.count("{") == 1 and streaming.startswith("general:")
    ice = re.search(r'rtp_port_range = "(\d+)-(\d+)"', files["janus.jcfg"])
    streams = re.search(r'rtp_port_range = "(\d+)-(\d+)"', streaming)
    assert ice and streams
    low, high = int(ice[1]), int(ice[2])
    assert int(streams[1]) > high or int(streams[2]) < low
    # The plugin is loaded: it is not among the disabled ones (when Janus is installed here).
    assert "libjanus_streaming.so" not in files["janus.jcfg"]


def test_a_media_node_announces_where_other_nodes_forward_media(tmp_path: Path) -> None:
    """Its private API address by default, a configured one instead, none on loopback (where
    no other node reaches it); an address nobody else reaches is refused early."""
    assert forward_host(load_settings(data_dir=tmp_path, janus_ws_ip="10.0.1.21")) == "10.0.1.21"
    configured = load_settings(
        data_dir=tmp_path, janus_ws_ip="10.0.1.21", media_forward_host="10.0.2.21"
    )
    assert forward_host(configured) == "10.0.2.21"
    assert forward_host(load_settings(data_dir=tmp_path)) == ""
    for wrong in ("127.0.0.1", "0.0.0.0", "media.example.edu"):
        with pytest.raises(ConfigError) as refused:
            load_settings(data_dir=tmp_path, media_forward_host=wrong)
        assert "SALA_MEDIA_FORWARD_HOST" in str(refused.value)
    assert load_settings(data_dir=tmp_path).media_listeners_per_node == 500
    with pytest.raises(ConfigError):
        load_settings(data_dir=tmp_path, media_listeners_per_node=0)


def test_janus_shares_one_media_thread_per_core_unless_told_otherwise(tmp_path: Path) -> None:
    # A thread per handle (Janus' default) is hundreds of threads woken for every packet of a
    # big lecture; sala's Janus gives handles to one loop per core it may use.
    common = {"data_dir": tmp_path, "janus_ws_ip": "10.0.1.21", "janus_ws_port": 8188}
    common["janus_api_secret"] = "shared-by-every-node"
    cores = len(os.sched_getaffinity(0))
    by_default = render(node_janus_config(load_settings(**common)))["janus.jcfg"]
    assert re.search(rf"^\tevent_loops = {cores}$", by_default, re.MULTILINE)
    chosen = render(node_janus_config(load_settings(**common, janus_event_loops=6)))["janus.jcfg"]
    assert re.search(r"^\tevent_loops = 6$", chosen, re.MULTILINE)
    per_handle = render(node_janus_config(load_settings(**common, janus_event_loops=0)))
    assert "event_loops" not in per_handle["janus.jcfg"]

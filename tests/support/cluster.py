"""A sala cluster on one machine, for tests and benchmarks: front ends (`sala serve --role
frontend`), workers (`--role worker`) sharing one PostgreSQL and one Redis, behind a real nginx
that routes the way docs/deployment.md tells operators to: `/n/<node>/…` to that node (the room
WebSockets of the meetings it owns), everything else to any front end.

Every process listens on loopback only and is stopped (or killed, for the failover tests) by
PID. `sala(...)` runs the operator's command line (`sala status --drain ...`) against the cluster.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from redis import Redis

from sala.cluster.redis import DEFAULT_PREFIX

ROOT = Path(__file__).resolve().parents[2]

NGINX_CONF = """\
{user}daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 64m;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # Each front end by its SALA_NODE_ID: the room WebSockets of the meetings it owns.
    map $node $node_address {{
        default 127.0.0.1:1;
{node_map}
    }}
    upstream sala {{
{upstreams}
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 120s;
        location ~ ^/n/(?<node>[^/]+)/ {{
            proxy_pass http://$node_address;
        }}
        location / {{
            proxy_pass http://sala;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def nginx_available() -> str | None:
    """Why the cluster cannot run here, or None."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is not installed (scripts/install-test-deps installs it)"
    return None


@dataclass
class Node:
    node_id: str
    role: str
    process: subprocess.Popen[bytes]
    port: int = 0
    log: Path = field(default_factory=Path)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class LocalCluster:
    def __init__(
        self,
        folder: Path,
        database_url: str,
        redis_url: str,
        secret: str,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.secret = secret
        self.database_url = database_url
        # One data directory for every node: the "shared mount at the same path" of
        # docs/deployment.md (presentations, recordings).
        self.data_dir = folder / "shared"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._env = {
            **os.environ,
            "SALA_DATA_DIR": str(self.data_dir),
            "SALA_DATABASE_URL": database_url,
            "SALA_REDIS_URL": redis_url,
            "SALA_SECRET": secret,
            "SALA_PUBLIC_URL": self.base,
            "SALA_LOG_LEVEL": "warning",
            "SALA_MEDIA": "false",
            **(extra_env or {}),
        }
        self.nodes: dict[str, Node] = {}
        self._nginx: subprocess.Popen[bytes] | None = None

    # -------------------------------------------------------------------------- nodes --
    def start_front_end(self, node_id: str) -> Node:
        port = free_port()
        node = self._spawn(node_id, "frontend", ["--host", "127.0.0.1", "--port", str(port)])
        node.port = port
        self._wait_http(node, f"{node.base}/health")
        return node

    def start_worker(self, node_id: str) -> Node:
        """A `--role worker`, returned once it heartbeats (it has migrated and works)."""
        node = self._spawn(node_id, "worker", [])
        self._wait_registered(node)
        return node

    def _spawn(self, node_id: str, role: str, extra: list[str]) -> Node:
        log = self.folder / f"{node_id}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "sala", "serve", "--role", role, *extra],
            env={**self._env, "SALA_NODE_ID": node_id},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        node = Node(node_id, role, process, log=log)
        self.nodes[node_id] = node
        return node

    def _wait_http(self, node: Node, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.node_id} exited: {node.log.read_text()[-3000:]}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{node.node_id} did not answer within {timeout} s")

    def _wait_registered(self, node: Node, timeout: float = 30.0) -> None:
        client = Redis.from_url(self._env["SALA_REDIS_URL"], socket_timeout=2)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if node.process.poll() is not None:
                    raise RuntimeError(f"{node.node_id} exited: {node.log.read_text()[-3000:]}")
                if client.exists(f"{DEFAULT_PREFIX}node:{node.node_id}"):
                    return
                time.sleep(0.1)
        finally:
            client.close()
        raise RuntimeError(f"{node.node_id} did not heartbeat within {timeout} s")

    def kill(self, node_id: str) -> None:
        """kill -9: no goodbye, no lease released."""
        node = self.nodes.pop(node_id)
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(timeout=10)

    def terminate(self, node_id: str, timeout: float = 30.0) -> float:
        """SIGTERM, as `systemctl stop` sends: the node winds down on its own. Seconds taken."""
        node = self.nodes.pop(node_id)
        started = time.monotonic()
        node.process.send_signal(signal.SIGTERM)
        node.process.wait(timeout=timeout)
        return time.monotonic() - started

    def sala(self, *args: str, timeout: float = 30.0) -> str:
        """Run `sala <args>` with the cluster's settings, as an operator on one of its machines
        would; its output (fails the test on a non-zero exit)."""
        done = subprocess.run(
            [sys.executable, "-m", "sala", *args],
            env=self._env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sala {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done.stdout

    def front_ends(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.role == "frontend"]

    # -------------------------------------------------------------------------- proxy --
    def start_proxy(self) -> None:
        """nginx in front of the front ends started so far (rewritten and reloaded on change)."""
        folder = self.folder / "nginx"
        folder.mkdir(exist_ok=True)
        conf = folder / "nginx.conf"
        front = self.front_ends()
        conf.write_text(
            NGINX_CONF.format(
                dir=folder,
                # As root nginx's workers would run as nobody, who cannot enter the test's
                # private temporary folder.
                user="user root;\n" if os.geteuid() == 0 else "",
                port=self.port,
                node_map="\n".join(f"        {n.node_id} 127.0.0.1:{n.port};" for n in front),
                upstreams="\n".join(
                    f"        server 127.0.0.1:{n.port} max_fails=1 fail_timeout=5s;" for n in front
                ),
            )
        )
        self._nginx = subprocess.Popen(
            [
                shutil.which("nginx") or "/usr/sbin/nginx",
                *("-c", str(conf), "-p", str(folder), "-e", str(folder / "nginx-error.log")),
            ],
            stdout=(folder / "nginx.out").open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._nginx.poll() is not None:
                raise RuntimeError((folder / "nginx.out").read_text())
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx did not answer")

    def stop(self) -> None:
        if self._nginx is not None and self._nginx.poll() is None:
            self._nginx.terminate()
            try:
                self._nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._nginx.kill()
        for node in list(self.nodes.values()):
            if node.process.poll() is None:
                node.process.terminate()
        for node in list(self.nodes.values()):
            try:
                node.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=5)
        self.nodes.clear()

"""A loopback HTTP server that answers fixed files, for tests of what sala fetches (a custom
style's URL). It records the paths asked for, so tests can tell who fetched what and how often."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class StaticServer:
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """path -> (Content-Type, body); other paths answer 404."""
    asked: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> StaticServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.asked.append(self.path)
                found = owner.files.get(self.path)
                self.send_response(200 if found else 404)
                body = found[1] if found else b""
                if found:
                    self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

"""A loopback HTTP server that answers fixed files, for tests of what sala fetches (a custom
style's URL). It records the paths asked for, so tests can tell who fetched what and how often."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from tests.support.loopback_http import QuietHandler, serve, stop


@dataclass
class StaticServer:
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """path -> (Content-Type, body); other paths answer 404."""
    asked: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> StaticServer:
        owner = self

        class Handler(QuietHandler):
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

        self._server = serve(Handler)
        return self

    def stop(self) -> None:
        stop(self._server)
        self._server = None

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

"""A local HTTP server for feeds and review pages, with real conditional-GET behaviour.

Each route serves a body with its own headers; ETag and Last-Modified are answered with
304 when the client sends a matching validator. Routes can be changed while it runs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self


@dataclass
class Page:
    body: bytes
    content_type: str | None = "application/xml"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True
    last_modified: str = field(default_factory=lambda: formatdate(1_700_000_000, usegmt=True))

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'  # noqa: S324 - a validator, not security


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer._Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path.split("?", 1)[0]
        site.requests[path] += 1
        page = site.routes.get(path)
        if page is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"})
            return
        headers = dict(page.headers)
        if page.content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = page.content_type
        if page.status == 200 and page.conditional:
            headers.setdefault("ETag", page.etag)
            headers.setdefault("Last-Modified", page.last_modified)
            inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            if (inm and inm == headers["ETag"]) or (not inm and ims and ims == headers["Last-Modified"]):
                site.not_modified[path] += 1
                self._send(304, b"", {"ETag": headers["ETag"]})
                return
        self._send(page.status, page.body, headers)
        if page.status == 200:
            site.served_at[path] = time.monotonic()

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304 and self.command != "HEAD":
            self.wfile.write(body)


class SiteServer:
    """``with SiteServer() as site: site.add('/feed.xml', Page(...)); site.url('/feed.xml')``"""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256
        site: SiteServer

        def handle_error(self, request: object, client_address: object) -> None:
            import sys

            if not isinstance(sys.exc_info()[1], ConnectionError):  # clients may hang up early
                super().handle_error(request, client_address)  # type: ignore[arg-type]

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, handler: type[BaseHTTPRequestHandler] | None = None
    ) -> None:
        self.routes: dict[str, Page] = {}
        self.requests: Counter[str] = Counter()
        self.served_at: dict[str, float] = {}  # monotonic: when each path last answered a whole 200
        self.not_modified: Counter[str] = Counter()
        self._server = self._Server((host, port), handler or _Handler)
        self._server.site = self
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, page: Page) -> str:
        self.routes[path] = page
        return self.url(path)

    def add_dir(self, folder: Path, prefix: str = "/") -> list[str]:
        urls = []
        for file in sorted(folder.iterdir()):
            if file.is_file():
                kind = "text/html; charset=utf-8" if file.suffix == ".html" else "application/xml"
                urls.append(self.add(prefix + file.name, Page(file.read_bytes(), content_type=kind)))
        return urls

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-sites", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()


def main() -> None:
    """`python -m sandbox.sites FOLDER`: serve a folder's files until killed; prints the base URL."""
    import sys

    folder = Path(sys.argv[1])
    server = SiteServer()
    server.add_dir(folder)
    print(server.base, flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()

"""A local web server that misbehaves the ways real sources do, for fault-injection tests.

Routes: ``/trickle`` (a valid header, then one byte every 2 s), ``/bomb`` (a gzip body that
inflates to 1 GB), ``/loop`` (a redirect to itself), ``/huge`` (20 MB, chunked, no length),
``/nested`` (review items nested 1,000 deep), ``/slow-headers`` (no answer for a minute).
Every answer ends by itself (a trickle after ``trickle_for`` seconds) and on ``stop()``.
Run it alone with ``python -m sandbox.hostile``.
"""

from __future__ import annotations

import struct
import threading
import time
import zlib
from functools import cache

from sandbox.sites import SiteServer
from sandbox.sites import _Handler as SiteHandler

NESTED_DEPTH = 1000


@cache
def gzip_bomb(megabytes: int = 1024) -> bytes:
    """A valid gzip stream of ``megabytes`` MB of zeros, about 1 KB per MB on the wire. Each 1 MB
    block is compressed with a full flush, so its bytes repeat and are made once."""
    block = b"\0" * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeated = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return header + first + repeated * (megabytes - 1) + end + trailer


def nested_page(depth: int = NESTED_DEPTH, brand: str = "Nordlys") -> bytes:
    """Review items each inside the body of the one before, with the stock selectors' classes."""
    opening = "".join(
        f'<div class="review" data-review-id="r{i}">'
        f'<h3 class="review-title"><a href="/r/{i}">{brand} review {i}</a></h3>'
        f'<span class="user">user{i}</span><div class="review-body">{brand} order {i} never arrived, awful. '
        for i in range(depth)
    )  # each item's body holds the next item: the worst case for per-item selecting and serialising
    return f"<!doctype html><html><body>{opening}{'</div></div>' * depth}</body></html>".encode()


class HostileServer(SiteServer):
    """A SiteServer whose every route misbehaves; ``requests`` counts them per path."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, trickle_for: float = 120.0) -> None:
        self.trickle_for = trickle_for
        self.stopping = threading.Event()
        super().__init__(host, port, handler=_Handler)

    def stop(self) -> None:
        self.stopping.set()  # trickles and silent answers end now
        super().stop()


class _Handler(SiteHandler):
    """The site's handler (its quiet log and ``_send``), with hostile routes instead of pages."""

    def do_GET(self) -> None:
        hostile = self.server.site
        assert isinstance(hostile, HostileServer)
        path = self.path.split("?", 1)[0]
        hostile.requests[path] += 1
        if path == "/trickle":
            self._trickle(hostile)
        elif path == "/bomb":
            self._send(200, gzip_bomb(), {"Content-Type": "text/html", "Content-Encoding": "gzip"})
        elif path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif path == "/huge":
            self._chunked(b"<p>Nordlys " + b"x" * 65_000 + b"</p>\n", 320)
        elif path == "/nested":
            self._send(200, nested_page(), {"Content-Type": "text/html; charset=utf-8"})
        elif path == "/slow-headers":
            hostile.stopping.wait(60)
        else:
            self._send(404, b"not found", {"Content-Type": "text/plain"})

    def _chunked(self, chunk: bytes, count: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for _ in range(count):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _trickle(self, hostile: HostileServer) -> None:
        body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Nordlys</title>' + b" " * 10_000
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        until = time.monotonic() + hostile.trickle_for
        for byte in body:
            if hostile.stopping.is_set() or time.monotonic() > until:
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            hostile.stopping.wait(2.0)


def main() -> None:  # pragma: no cover - a manual tool
    with HostileServer(port=8090) as server:
        print(f"hostile routes at {server.base}: /trickle /bomb /loop /huge /nested /slow-headers", flush=True)
        server.stopping.wait()


if __name__ == "__main__":  # pragma: no cover
    main()

"""Serving the dashboard: security headers on every answer (errors included), the listening
socket bound up front so a taken ``web.listen`` is one clear line, and uvicorn inside `reclaim run`."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from reclaim.settings import Web as WebSettings

log = logging.getLogger("reclaim.web")
ASGI = Callable[[Any, Any, Any], Awaitable[None]]
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'"),
]  # fmt: skip
ERROR_PAGE = b"<!doctype html><title>Something went wrong</title><p>Something went wrong; it has been logged."


class ListenError(RuntimeError):
    """``web.listen`` cannot be served (the port is taken, or the address is not this machine's)."""


class SecureHeaders:
    """The outermost layer: security headers on every answer, and a plain 500 page (with them)
    for an error nothing else caught, its traceback logged, never shown."""

    def __init__(self, app: ASGI) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def with_headers(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _v in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            if started:  # Starlette answered 500 already; uvicorn logs the error
                raise
            log.exception("the dashboard failed on %s %s", scope.get("method"), scope.get("path"))
            headers = [(b"content-type", b"text/html; charset=utf-8"), *SECURITY_HEADERS]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": ERROR_PAGE})


def bind(settings: WebSettings) -> socket.socket:
    """The dashboard's listening socket, or ListenError naming ``web.listen``."""
    host, port = settings.host, settings.port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror or exc})"
        raise ListenError(
            f"web.listen: {settings.listen} {why}; set web.listen in the config to a free address "
            "(e.g. 127.0.0.1:8081), or web.enabled: false to run without the dashboard"
        ) from None
    return sock


def server(asgi: ASGI, trusted_proxies: list[str] | None = None) -> Any:
    """uvicorn for ``asgi``, whose signals the caller owns (`reclaim run` stops it itself); serve
    it with ``serve(sockets=[bind(...)])``. uvicorn is imported here, not when the CLI starts."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    # log_config=None: uvicorn's loggers go through the process's handler, which redacts secrets
    # behind a reverse proxy, the client's address comes from the proxy's X-Forwarded-For
    proxies = trusted_proxies or []
    config = uvicorn.Config(
        asgi, log_level="warning", log_config=None, lifespan="off", server_header=False,
        proxy_headers=bool(proxies), forwarded_allow_ips=",".join(proxies) or None,
    )  # fmt: skip
    return Server(config)

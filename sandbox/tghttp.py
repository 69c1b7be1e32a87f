"""The local Bot API's HTTP face: requests decoded as Telegram accepts them (JSON, form or
multipart), routed to BotApiServer.call, answered as Telegram answers; ``/ui`` for people."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import tgui
from sandbox.telegram import JSON_FIELDS, ApiError, BotApiServer


def _decode(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    kind = handler.headers.get("Content-Type", "")
    if "json" in kind:
        loaded = json.loads(body or b"{}")
        return dict(loaded) if isinstance(loaded, dict) else {}
    if "multipart" in kind:
        from email.parser import BytesParser
        from email.policy import HTTP

        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + kind.encode() + b"\r\n\r\n" + body)
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            payload = payload if isinstance(payload, bytes) else b""
            if part.get_filename():
                out[str(name)] = {"filename": part.get_filename(), "size": len(payload), "content": payload}
            else:
                out[str(name)] = (payload or b"").decode("utf-8")
        return _jsonify(out)
    return _jsonify({k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()})


def _jsonify(params: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return params


def handler_for(server: BotApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes; no 40 ms stalls

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path)
            if path.path.startswith("/ui"):
                status, kind, body = tgui.get(server, path.path, parse_qs(path.query))
                self._reply(status, body, kind)
            else:
                self._api(b"")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlsplit(self.path).path
            if path.startswith("/ui"):
                status, kind, page = tgui.post(server, path, parse_qs(body.decode("utf-8")))
                self._reply(status, page, kind)
            else:
                self._api(body)

        def _api(self, body: bytes) -> None:
            path = urlsplit(self.path).path
            prefix = f"/bot{server.token}/"
            try:
                if not path.startswith(prefix) or time.monotonic() < server.refuse_until:
                    raise ApiError(401, "Unauthorized")
                result = server.call(path[len(prefix) :], _decode(self, body))
                payload: dict[str, Any] = {"ok": True, "result": result}
                status = 200
            except ApiError as exc:
                payload = {"ok": False, "error_code": exc.code, "description": exc.description}
                if exc.retry_after is not None:
                    payload["parameters"] = {"retry_after": exc.retry_after}
                status = exc.code
            self._reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    return Handler

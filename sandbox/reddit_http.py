"""The local Reddit's HTTP face: the OAuth password grant, the rate-limit headers Reddit sends
(429 past the window), and the API paths praw uses, routed to RedditServer."""

from __future__ import annotations

import base64
import json
import re
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.reddit import ACCESS_TOKEN, RedditServer


def handler_for(server: RedditServer) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"reddit": server})


class _Handler(BaseHTTPRequestHandler):
    """The local Reddit's HTTP face; ``reddit`` is set per server by ``_handler``."""

    reddit: RedditServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._route("GET", {})

    def do_POST(self) -> None:
        self._route("POST", self._form())

    def _route(self, method: str, form: dict[str, str]) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.reddit.lock:
            self.reddit.requests.append((time.time(), method, path))
        if path == "/api/v1/access_token":
            self._token(form)
            return
        limits = self._gate(path)
        if limits is None:
            return
        body = self._answer(method, path, query, form)
        if body is None:
            self._send(404, {"message": "Not Found", "error": 404}, limits)
            return
        if method == "POST" and path == "/api/comment" and self.reddit.on_comment and not body["json"]["errors"]:
            self.reddit.on_comment(body["json"]["data"]["things"][0]["data"])  # e.g. kill the poster now
        self._send(int(body.get("error", 200)), body, limits)

    def _gate(self, path: str) -> dict[str, str] | None:
        """The rate-limit headers for a request let through; None when it was answered already
        (no token, a path set to fail, the window used up)."""
        if self.headers.get("Authorization") != f"bearer {ACCESS_TOKEN}":
            self._send(401, {"message": "Unauthorized", "error": 401})
            return None
        if path in self.reddit.fail_paths:
            status = self.reddit.fail_paths[path]
            self._send(status, {"message": "Service Unavailable", "error": status})
            return None
        remaining, used, reset = self.reddit.take_turn()
        limits = {"x-ratelimit-remaining": f"{max(remaining, 0)}.0", "x-ratelimit-used": str(used)}
        limits["x-ratelimit-reset"] = str(reset if self.reddit.pace else 0)  # 0: praw does not space requests
        if remaining < 0:
            self._send(429, {"message": "Too Many Requests", "error": 429}, {**limits, "retry-after": str(reset)})
            return None
        return limits

    def _token(self, form: dict[str, str]) -> None:
        auth = self.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.reddit.client_id}:{self.reddit.client_secret}".encode()).decode()
        ok = auth == f"Basic {expected}" and form.get("grant_type") == "password"
        ok = ok and form.get("username") == self.reddit.username and form.get("password") == self.reddit.password
        if not ok:
            self._send(401, {"message": "Unauthorized", "error": 401})
            return
        self._send(200, {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600, "scope": "*"})

    def _answer(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> dict[str, Any] | None:
        if method == "POST" and path == "/api/comment":
            return self.reddit.comment(form)
        if method == "POST" and path in ("/api/editusertext", "/api/del"):
            own = self.reddit.edit_text(form) if path == "/api/editusertext" else self.reddit.remove_own(form)
            return own if own is not None else {"message": "Forbidden", "error": 403}
        if path == "/api/v1/me":
            return {"name": self.reddit.username, "id": "localme", "created_utc": 1_500_000_000.0}
        if path == "/r/all/search" or path == "/search":
            return self.reddit.search(query)
        if path == "/api/info":
            wanted = set(query.get("id", "").split(","))
            return self.reddit.listing(None, lambda d: d["name"] in wanted, {"limit": "100"})
        m = re.fullmatch(r"/r/([A-Za-z0-9_+]+)/(new|comments)", path)
        if m:
            subs = self.reddit._subs(m.group(1))
            kind = "t3" if m.group(2) == "new" else "t1"
            return self.reddit.listing(kind, lambda d: str(d.get("subreddit", "")).lower() in subs, query)
        m = re.fullmatch(r"/user/([A-Za-z0-9_-]+)/comments", path)
        if m:
            who = m.group(1).lower()
            return self.reddit.listing("t1", lambda d: str(d.get("author", "")).lower() == who, query)
        return None

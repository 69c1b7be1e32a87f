"""A local Reddit API server that the real praw talks to (``oauth_url``/``reddit_url``).

Its listings are built from the recorded Reddit sessions in ``../shared/fixtures/reddit-cassettes``
(praw's own integration-test recordings), so the JSON is Reddit's: every thing a test adds is a
recorded submission or comment with new ids, text and times. It answers OAuth password grants,
``r/<a+b>/new``, ``r/<a+b>/comments``, ``r/all/search``, ``user/<name>/comments``,
``api/info`` and ``api/comment``, sends ``x-ratelimit-*`` headers from a 10-minute window like
Reddit's and answers 429 past it, and can be told to lock or delete a thread, to refuse comments
with "doing that too much", or to call a hook after storing a comment and before answering.
Run it alone with ``python -m sandbox.reddit``.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

CASSETTES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "reddit-cassettes"
TEMPLATES = Path(__file__).resolve().parent / "samples" / "reddit-things.json"  # one of each, from those
ACCESS_TOKEN = "local-reddit-token"  # noqa: S105 - the local server's own


def _listing(name: str, folder: Path) -> list[dict[str, Any]]:
    """The children of the first listing in a recorded session."""
    data = json.loads((folder / name).read_text(encoding="utf-8"))
    for inter in data["interactions"]:
        if inter["request"]["method"] == "GET":
            body = json.loads(inter["response"]["body"]["string"])
            return list(body["data"]["children"])
    return []


def _reply_thing(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / "TestComment.test_reply.json").read_text(encoding="utf-8"))
    body = json.loads(data["interactions"][-1]["response"]["body"]["string"])
    return dict(body["json"]["data"]["things"][0])


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


class RedditServer:
    """Thread-served; the public methods are safe to call from tests while it runs."""

    def __init__(
        self,
        *,
        cassettes: Path | None = CASSETTES,  # None: nothing seeded (the demo's Reddit)
        username: str = "nordlys_care",
        password: str = "local-password",  # noqa: S107 - the local server's own
        client_id: str = "local-client",
        client_secret: str = "local-secret",  # noqa: S107
        window: tuple[int, float] = (1000, 600.0),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.username, self.password, self.client_id, self.client_secret = username, password, client_id, client_secret
        self.window = window
        self.lock = threading.RLock()
        self.things: dict[str, dict[str, Any]] = {}  # fullname → {"kind", "data"}
        self.requests: list[tuple[float, str, str]] = []  # (time, method, path)
        self.posted: list[dict[str, Any]] = []  # comments made through the API
        self.on_comment: Callable[[dict[str, Any]], None] | None = None
        self.edits: list[tuple[str, str]] = []  # (comment, new text) for each edit of our own
        self.comment_refusals: list[tuple[str, str]] = []  # (error type, message) given to the next POSTs
        self.pace = True  # send Reddit's reset time; False lets praw go as fast as it can (benchmarks)
        self.fail_paths: dict[str, int] = {}  # path → HTTP status answered instead (a broken endpoint)
        self._ids = itertools.count(36**6)
        self._clock = itertools.count(int(time.time()) - 3600)
        self._window_start, self._window_used = time.monotonic(), 0
        self._templates: dict[str, dict[str, Any]] = {}
        if cassettes is not None and cassettes.is_dir():
            self._seed(cassettes)
        else:  # without the recordings: no seeded listings, but things shaped like Reddit's still
            self._templates = {t["kind"]: t for t in json.loads(TEMPLATES.read_text(encoding="utf-8"))["things"]}
        from sandbox.reddit_http import handler_for  # the HTTP face needs this module's types

        self.httpd = ThreadingHTTPServer((host, port), handler_for(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="reddit-api", daemon=True)

    # -- life cycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> RedditServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> RedditServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The environment a Reclaim process needs to log in here."""
        return {
            "REDDIT_CLIENT_ID": self.client_id,
            "REDDIT_CLIENT_SECRET": self.client_secret,
            "REDDIT_USERNAME": self.username,
            "REDDIT_PASSWORD": self.password,
        }

    # -- content -------------------------------------------------------------------------
    def _seed(self, folder: Path) -> None:
        for name in ("TestSubredditListings.test_new.json", "TestSubreddit.test_search.json"):
            for child in _listing(name, folder):
                self.things[child["data"]["name"]] = child
        for name in ("TestSubredditListings.test_comments.json", "TestSubredditStreams.test_comments__with_pause.json"):
            for child in _listing(name, folder):
                self.things[child["data"]["name"]] = child
        subs = [t for t in self.things.values() if t["kind"] == "t3"]
        comments = [t for t in self.things.values() if t["kind"] == "t1"]
        if subs:
            self._templates["t3"] = copy.deepcopy(subs[0])
        if comments:
            self._templates["t1"] = copy.deepcopy(comments[0])
        self._templates.setdefault("t1", {"kind": "t1", "data": _reply_thing(folder)})

    def _template(self, kind: str) -> dict[str, Any]:
        if kind in self._templates:
            return copy.deepcopy(self._templates[kind])
        return {"kind": kind, "data": {}}

    def _new(self, kind: str, created: float | None) -> tuple[dict[str, Any], dict[str, Any]]:
        thing = self._template(kind)
        data = thing["data"]
        tid = _base36(next(self._ids))
        data.update(
            id=tid,
            name=f"{kind}_{tid}",
            created_utc=float(created if created is not None else next(self._clock)),
            score=1,
            ups=1,
            locked=False,
            archived=False,
            edited=False,
            distinguished=None,
        )
        data["created"] = data["created_utc"]
        return thing, data

    def add_submission(
        self, subreddit: str, title: str, text: str = "", author: str = "someone", created: float | None = None
    ) -> str:
        with self.lock:
            thing, data = self._new("t3", created)
            slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50] or "_"
            link = f"/r/{subreddit}/comments/{data['id']}/{slug}/"
            data.update(
                subreddit=subreddit,
                subreddit_id=f"t5_{_base36(abs(hash(subreddit.lower())) % 36**6)}",
                title=title,
                selftext=text,
                selftext_html=None,
                author=author,
                permalink=link,
                url=f"https://www.reddit.com{link}",
                num_comments=0,
                is_self=True,
            )
            self.things[data["name"]] = thing
            return str(data["name"])

    def add_comment(self, parent: str, body: str, author: str = "someone", created: float | None = None) -> str:
        with self.lock:
            parent_data = self.things[parent]["data"]
            link_id = parent if parent.startswith("t3_") else parent_data["link_id"]
            link = self.things[link_id]["data"]
            thing, data = self._new("t1", created)
            data.update(
                subreddit=link["subreddit"],
                subreddit_id=link.get("subreddit_id"),
                link_id=link_id,
                link_title=link.get("title"),
                link_author=link.get("author"),
                link_url=link.get("url"),
                parent_id=parent,
                body=body,
                body_html=None,
                author=author,
                permalink=f"/r/{link['subreddit']}/comments/{link_id[3:]}/_/{data['id']}/",
                replies="",
            )
            self.things[data["name"]] = thing
            return str(data["name"])

    def lock_thread(self, fullname: str) -> None:
        with self.lock:
            self.things[fullname]["data"]["locked"] = True

    def delete(self, fullname: str) -> None:
        with self.lock:
            data = self.things[fullname]["data"]
            data["author"] = "[deleted]"
            data["body" if fullname.startswith("t1_") else "selftext"] = "[deleted]"
            data["deleted"] = True

    def replies_to(self, fullname: str, author: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                t["data"]
                for t in self.things.values()
                if t["kind"] == "t1"
                and t["data"].get("parent_id") == fullname
                and (author is None or t["data"].get("author") == author)
            ]

    def calls(self, prefix: str = "") -> int:
        with self.lock:
            return sum(1 for _, _, path in self.requests if path.startswith(prefix))

    # -- the API -------------------------------------------------------------------------
    def _subs(self, multi: str) -> set[str]:
        return {s.lower() for s in multi.split("+")}

    def listing(
        self, kind: str | None, keep: Callable[[dict[str, Any]], bool], query: dict[str, str]
    ) -> dict[str, Any]:
        with self.lock:
            items = [t for t in self.things.values() if kind in (None, t["kind"]) and keep(t["data"])]
        items.sort(key=lambda t: (t["data"].get("created_utc") or 0, t["data"]["name"]), reverse=True)
        limit = max(1, min(int(query.get("limit", "25") or 25), 100))
        names = [t["data"]["name"] for t in items]
        if query.get("after") in names:
            items = items[names.index(query["after"]) + 1 :]
        elif query.get("before") in names:
            items = items[: names.index(query["before"])][-limit:]
        elif query.get("after") or query.get("before"):
            items = []  # Reddit answers an empty page for a cursor it no longer knows
        page = items[:limit]
        after = page[-1]["data"]["name"] if len(items) > limit and page else None
        return {
            "kind": "Listing",
            "data": {"modhash": None, "dist": len(page), "children": page, "after": after, "before": None},
        }

    def search(self, query: dict[str, str]) -> dict[str, Any]:
        words = [w for w in re.findall(r"\w+", query.get("q", "").lower()) if w not in ("and", "or")]

        def keep(d: dict[str, Any]) -> bool:
            text = f"{d.get('title', '')} {d.get('selftext', '')}".lower()
            return all(w in text for w in words)

        return self.listing("t3", keep, query)

    def comment(self, form: dict[str, str]) -> dict[str, Any]:
        parent = form.get("thing_id", "")
        with self.lock:
            if self.comment_refusals:
                error, message = self.comment_refusals.pop(0)
                return {"json": {"errors": [[error, message, "ratelimit" if error == "RATELIMIT" else "parent"]]}}
            target = self.things.get(parent)
            if target is None or target["data"].get("deleted"):
                return {"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "parent"]]}}
            link_id = parent if parent.startswith("t3_") else target["data"]["link_id"]
            if self.things[link_id]["data"].get("locked") or target["data"].get("locked"):
                return {"json": {"errors": [["THREAD_LOCKED", "Comments are locked.", "parent"]]}}
            if self.things[link_id]["data"].get("archived"):
                return {"json": {"errors": [["TOO_OLD", "that's a piece of history now", "parent"]]}}
            name = self.add_comment(parent, form.get("text", ""), author=self.username)
            data = copy.deepcopy(self.things[name]["data"])
            self.posted.append(data)
        return {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}}

    def edit_text(self, form: dict[str, str]) -> dict[str, Any] | None:
        """api/editusertext: the account's own comment gets a new body (None: not ours, a 403)."""
        name = form.get("thing_id", "")
        with self.lock:
            thing = self.things.get(name)
            if thing is not None and thing["data"].get("deleted"):
                return {"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "thing_id"]]}}
            if thing is None or thing["data"].get("author") != self.username:
                return None
            thing["data"]["body"], thing["data"]["edited"] = form.get("text", ""), time.time()
            self.edits.append((name, form.get("text", "")))
            data = copy.deepcopy(thing["data"])
        return {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}}

    def remove_own(self, form: dict[str, str]) -> dict[str, Any] | None:
        """api/del: the account deletes its own comment (again: nothing changes)."""
        name = form.get("id", "")
        with self.lock:
            thing = self.things.get(name)
            if thing is None or thing["data"].get("author") not in (self.username, "[deleted]"):
                return None
        self.delete(name)
        return {}

    def take_turn(self) -> tuple[int, int, int]:
        """Count a request in Reddit's window; (remaining, used, seconds to reset)."""
        limit, seconds = self.window
        with self.lock:
            now = time.monotonic()
            if now - self._window_start >= seconds:
                self._window_start, self._window_used = now, 0
            self._window_used += 1
            reset = int(seconds - (now - self._window_start)) + 1
            return limit - self._window_used, self._window_used, reset


if __name__ == "__main__":  # pragma: no cover - a manual tool
    with RedditServer() as srv:
        print(f"local Reddit API on {srv.url}; credentials: {srv.env()}")
        threading.Event().wait()

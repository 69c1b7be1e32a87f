"""A small web page over the local Bot API server: watch a chat and act as a user in it
(press buttons, reply to the bot). Used by ``reclaim demo``."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from sandbox.telegram import BotApiServer

Form = dict[str, list[str]]
STYLE = """body{font:15px system-ui,sans-serif;max-width:52rem;margin:1rem auto;background:#e7ebf0;color:#111}
.m{background:#fff;border-radius:10px;padding:.6rem .8rem;margin:.6rem 0;box-shadow:0 1px 2px #0002}
.u{background:#effdde;margin-left:4rem}.meta{color:#678;font-size:12px}pre{white-space:pre-wrap;background:#f3f5f7;
padding:.4rem}blockquote{border-left:3px solid #4a9;margin:.3rem 0;padding-left:.6rem}.kb{display:flex;
flex-wrap:wrap;gap:.3rem;margin-top:.4rem}.kb form{flex:1}.kb button{width:100%;padding:.4rem;border:0;
border-radius:6px;background:#dbe7f3;cursor:pointer}textarea{width:100%;height:5rem}nav a{margin-right:1rem}"""


def _page(title: str, body: str, refresh: bool = False) -> bytes:
    meta = '<meta http-equiv="refresh" content="3">' if refresh else ""
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>{meta}"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def get(server: BotApiServer, path: str, query: Form) -> tuple[int, str, bytes]:
    kind = "text/html; charset=utf-8"
    with server.cond:
        chats = dict(server.state.chats)
        users = dict(server.state.users)
    acting = int(query.get("as", [next(iter(users), 0)])[0] or 0)
    if path.rstrip("/") == "/ui" or "chat" not in query:
        links = "".join(
            f'<li><a href="/ui/chat?{urlencode({"chat": cid, "as": acting})}">'
            f"{html.escape(str(c.get('title') or c.get('first_name')))}</a></li>"
            for cid, c in chats.items()
        )
        return 200, kind, _page("Local Telegram", f"<h1>Local Telegram</h1><ul>{links}</ul>", refresh=True)
    chat_id = int(query["chat"][0])
    people = "".join(
        f'<a href="/ui/chat?{urlencode({"chat": chat_id, "as": uid})}">'
        f"{'▶ ' if uid == acting else ''}{html.escape(u['first_name'])}</a>"
        for uid, u in users.items()
    )
    both = server.messages(chat_id) + server.messages(chat_id, from_bot=False)
    items = "".join(_message(m, chat_id, acting) for m in sorted(both, key=lambda m: int(m["message_id"])))
    title = html.escape(str(chats.get(chat_id, {}).get("title") or chat_id))
    body = (
        f'<nav><a href="/ui">all chats</a> acting as: {people}</nav><h2>{title}</h2>{items}{_composer(chat_id, acting)}'
    )
    return 200, kind, _page(f"{title} — local Telegram", body, refresh=True)


def _message(m: dict[str, Any], chat_id: int, acting: int) -> str:
    mine = not m["from"].get("is_bot")
    text = m.get("html") if not mine else html.escape(m.get("text", ""))
    rows = m.get("reply_markup", {}).get("inline_keyboard", [])
    buttons = "".join(
        f'<form method=post action="/ui/press"><input type=hidden name=chat value="{chat_id}">'
        f'<input type=hidden name=message value="{m["message_id"]}"><input type=hidden name=as value="{acting}">'
        f'<input type=hidden name=data value="{html.escape(b.get("callback_data", ""))}">'
        f"<button>{html.escape(b['text'])}</button></form>"
        for row in rows
        for b in row
        if "callback_data" in b
    )
    reply = (
        f'<form method=post action="/ui/send"><input type=hidden name=chat value="{chat_id}">'
        f'<input type=hidden name=as value="{acting}"><input type=hidden name=reply_to value="{m["message_id"]}">'
        f'<input name=text placeholder="reply to this message"> <button>Reply</button></form>'
        if not mine
        else ""
    )
    who = html.escape(m["from"].get("first_name", ""))
    return (
        f'<div class="m{" u" if mine else ""}" id="m{m["message_id"]}"><div class=meta>#{m["message_id"]} {who}</div>'
        f"<div>{(text or '').replace(chr(10), '<br>')}</div><div class=kb>{buttons}</div>{reply}</div>"
    )


def _composer(chat_id: int, acting: int) -> str:
    return (
        f'<form method=post action="/ui/send" class=m><input type=hidden name=chat value="{chat_id}">'
        f'<input type=hidden name=as value="{acting}"><textarea name=text></textarea><button>Send</button></form>'
    )


def post(server: BotApiServer, path: str, form: Form) -> tuple[int, str, bytes]:
    from sandbox.telegram import ApiError

    def one(name: str) -> str:
        return form.get(name, [""])[0]

    chat, acting = int(one("chat")), int(one("as"))
    try:
        if path == "/ui/press":
            server.press(chat, int(one("message")), acting, data=one("data"))
        elif path == "/ui/send" and one("text").strip():
            reply_to = int(one("reply_to")) if one("reply_to") else None
            server.send_text(chat, acting, one("text"), reply_to=reply_to)
    except (LookupError, ApiError) as exc:
        return 400, "text/plain; charset=utf-8", str(exc).encode()
    target = html.escape(f"/ui/chat?{urlencode({'chat': chat, 'as': acting})}")
    page = f'<!doctype html><meta http-equiv="refresh" content="0;url={target}"><a href="{target}">back</a>'
    return 200, "text/html; charset=utf-8", page.encode()

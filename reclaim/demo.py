"""`reclaim demo`: the whole product on bundled sample sources and a local Telegram, on localhost.

Sample feeds and review pages are served by a local web server; a local Bot API server stands in
for Telegram, with a staff group, a managers' group and four people. `reclaim run`'s Runner
polls the samples, and the real bot posts a card per complaint to the staff group. A scripted
walk-through then works one complaint the way the team would (an outsider is refused, Anna
takes it, edits the draft, approves it and marks it posted), narrated in the terminal. On a
terminal the demo keeps running afterwards so you can watch and click at the local web page
(Ctrl-C stops it); otherwise it stops when the walk-through is done.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel

from reclaim.app import App
from reclaim.config import load_settings
from reclaim.scheduler import Runner
from sandbox.reddit import RedditServer
from sandbox.sites import SiteServer
from sandbox.telegram import BotApiServer
from watchers import REGISTRY

SANDBOX = Path(__file__).resolve().parent.parent / "sandbox"
STAFF, MANAGERS, FANS = -1001000000001, -1001000000002, -1001000000003
ANNA, BOB, EVE, MARIA, EMMA, OLE = 111, 222, 999, 333, 444, 555


class Walkthrough:
    """Acts as the people in the local Telegram and tells the terminal what happened."""

    def __init__(
        self,
        tg: BotApiServer,
        console: Console,
        token_of: Callable[[int], str],
        timeout: float = 60.0,
        reddit: RedditServer | None = None,
        polled: Callable[[], bool] = lambda: True,
    ) -> None:
        self.tg, self.console, self.token_of, self.timeout = tg, console, token_of, timeout
        self.reddit, self.polled = reddit, polled

    def wait(self, what: str, check: Callable[[], Any]) -> Any:
        try:
            return self.tg.wait_for(check, self.timeout)
        except TimeoutError:
            raise RuntimeError(f"the demo waited {self.timeout:.0f}s for {what}") from None

    def cards(self) -> dict[int, dict[str, Any]]:
        out = {}
        for m in self.tg.messages(STAFF):
            data = [
                b.get("callback_data", "") for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            ]
            if data and data[0].startswith("c:"):
                out[int(data[0].split(":")[1])] = m
        return out

    def press(self, user: int, cid: int, action: str, *, changes: bool = True) -> str:
        card = self.cards()[cid]
        before = card.get("edit_date"), card["text"]
        qid = self.tg.press(STAFF, card["message_id"], user, data=f"c:{cid}:{action}")
        answer = self.wait("the bot to answer a button", lambda: self.tg.answer(qid))
        if changes:
            self.wait(
                "the card to change", lambda: (self.cards()[cid].get("edit_date"), self.cards()[cid]["text"]) != before
            )
        return str(answer.get("text") or "")

    def show(self, cid: int, title: str) -> None:
        self.console.print(Panel(self.cards()[cid]["text"], title=title, title_align="left"))

    def customer_said(self) -> list[dict[str, Any]]:
        return self.tg.messages(EMMA)

    def bot_to_emma(self, after: int) -> list[dict[str, Any]]:
        """Wait for the bot's next message(s) to Emma and print them."""

        def fresh() -> list[dict[str, Any]]:
            return [m for m in self.customer_said() if m["message_id"] > after]

        self.wait("the bot's answer to Emma", fresh)
        seen: list[int] = []

        def settled() -> bool:  # one answer may be several messages: wait until they stop coming
            seen.append(len(fresh()))
            return len(seen) > 8 and seen[-1] == seen[-8]

        self.wait("the bot's answer to Emma", settled)
        new = fresh()
        for m in new:
            self.console.print(f"[cyan]bot → Emma:[/cyan] {m['text']}")
        return new

    def private_chat(self, cid: int) -> None:
        c = self.console
        c.rule("The customer follows the link in the public reply to a private chat")
        last = 0
        self.tg.send_text(EMMA, EMMA, f"/start {self.token_of(cid)}")
        c.print(f"[green]Emma:[/green] /start {self.token_of(cid)[:6]}…")
        answers = iter(["Order 48213", "On the 3rd of November", "The coat never arrived", "No photo"])
        for _ in range(6):
            new = self.bot_to_emma(last)
            last = new[-1]["message_id"]
            buttons = [b for row in new[-1].get("reply_markup", {}).get("inline_keyboard", []) for b in row]
            if buttons:  # the summary: Emma confirms it
                c.print(f"[green]Emma presses:[/green] {buttons[0]['text']}")
                self.tg.press(EMMA, last, EMMA, data=buttons[0]["callback_data"])
                break
            text = next(answers, "That's all")
            c.print(f"[green]Emma:[/green] {text}")
            self.tg.send_text(EMMA, EMMA, text)
        last = self.bot_to_emma(last)[-1]["message_id"]
        c.rule("Anna offers two options from the staff group; Emma chooses")
        self.press(ANNA, cid, "of", changes=False)
        mid = self.cards()[cid]["message_id"]
        prompt = self.wait(
            "the bot's question",
            lambda: next((m for m in reversed(self.tg.messages(STAFF)) if "💡" in m["text"]), None),
        )
        self.tg.send_text(STAFF, ANNA, "A new coat sent today by express\nA full refund", reply_to=prompt["message_id"])
        new = self.bot_to_emma(last)
        offer = new[-1]
        choice = [b for row in offer["reply_markup"]["inline_keyboard"] for b in row][1]
        c.print(f"[green]Emma presses:[/green] {choice['text']}")
        self.tg.press(EMMA, offer["message_id"], EMMA, data=choice["callback_data"])
        last = self.bot_to_emma(offer["message_id"])[-1]["message_id"]
        c.rule("Anna resolves it; Emma rates it")
        self.press(ANNA, cid, "rs", changes=False)
        prompt = self.wait(
            "the bot's question",
            lambda: next((m for m in reversed(self.tg.messages(STAFF)) if "✔️" in m["text"]), None),
        )
        self.tg.send_text(
            STAFF, ANNA, "The refund of 1,299 kr is on its way to your card.", reply_to=prompt["message_id"]
        )
        new = self.bot_to_emma(last)
        rate = new[-1]
        c.print("[green]Emma presses:[/green] 5")
        self.tg.press(EMMA, rate["message_id"], EMMA, data=f"p:{cid}:satisfaction:5")
        self.bot_to_emma(rate["message_id"])
        del mid
        self.show(cid, f"card #{cid}, closed")

    def reddit_replies(self) -> list[dict[str, Any]]:
        return self.reddit.posted if self.reddit is not None else []

    def answered(self, cid: int) -> bool:
        return "our public reply" in self.cards()[cid]["text"]

    def social(self, cards: dict[int, dict[str, Any]]) -> None:
        """Where the bot can answer in place, approving is all it takes."""
        c = self.console
        for name, where in (("reddit-nordlys", "on Reddit"), ("tg-fans", "in the Telegram group")):
            cid = next((k for k, m in cards.items() if name in m["text"]), None)
            if cid is None:
                continue
            c.rule(f"A complaint from {name}: Bob approves it and the bot answers {where} itself")
            self.press(BOB, cid, "ap")
            self.wait("the public reply", functools.partial(self.answered, cid))
            if name == "tg-fans":
                reply = self.wait(
                    "the reply in the group",
                    lambda: next((m for m in self.tg.messages(FANS) if m.get("from", {}).get("is_bot")), None),
                )
                c.print(f"[cyan]bot in “Nordlys fans”, answering Ole:[/cyan] {reply['text']}")
            elif self.reddit is not None:
                posted: list[dict[str, Any]] = self.wait("the reply on Reddit", self.reddit_replies)
                c.print(f"[cyan]bot on r/nordlys:[/cyan] {posted[-1]['body']}")
            self.show(cid, f"card #{cid}, answered {where}")

    def run(self) -> None:
        c = self.console
        c.rule("The bot posts a card per complaint to the staff group")
        self.wait("the first card", self.cards)
        self.wait("every source's first poll", self.polled)
        settled: list[int] = []

        def stable() -> bool:  # the card count has stopped growing
            settled.append(len(self.cards()))
            return len(settled) > 20 and settled[-1] == settled[-20]

        self.wait("the cards to arrive", stable)
        cards = self.cards()
        c.print(f"{len(cards)} cards in the staff group “Nordlys care team”.")
        social = {k for k, m in cards.items() if "reddit-nordlys" in m["text"] or "tg-fans" in m["text"]}
        manual = [k for k in cards if k not in social]
        english = [k for k in manual if "Language: en" in cards[k]["text"]]
        cid = min(english or manual)
        self.show(cid, f"card #{cid} as it arrived")

        c.rule("Eve is not on the team: her Approve is refused")
        c.print(f"Eve sees: [italic]{self.press(EVE, cid, 'ap', changes=False)}[/italic]")

        c.rule("Anna takes it: she is the customer's single contact from now on")
        c.print(f"Anna sees: [italic]{self.press(ANNA, cid, 'tk')}[/italic]")

        c.rule("Anna edits the draft: the bot asks, she replies with the new text")
        mid = self.cards()[cid]["message_id"]
        self.press(ANNA, cid, "ed", changes=False)
        prompt = self.wait(
            "the bot's question",
            lambda: next(
                (m for m in self.tg.messages(STAFF) if (m.get("reply_to_message") or {}).get("message_id") == mid),
                None,
            ),
        )
        c.print(f"The bot asks: [italic]{prompt['text']}[/italic]")
        draft = self.cards()[cid]["text"]
        text = (
            "Thank you for telling us, and we are truly sorry: this is not the experience we want "
            "for you. I am Anna and I will look after this personally; please write to us in a private chat "
            "so we can sort it out."
        )
        self.tg.send_text(STAFF, ANNA, text, reply_to=prompt["message_id"])
        self.wait("the edited card", lambda: self.cards()[cid]["text"] != draft)

        c.rule("Anna approves; this source has no reply API, so the card shows the final text to copy")
        c.print(f"Anna sees: [italic]{self.press(ANNA, cid, 'ap')}[/italic]")
        self.show(cid, f"card #{cid}, approved")
        c.print("She posts it on the site by hand, then presses Posted:")
        c.print(f"Anna sees: [italic]{self.press(ANNA, cid, 'ps')}[/italic]")
        self.show(cid, f"card #{cid}, published")

        self.private_chat(cid)
        self.social(cards)

        alerts = self.tg.messages(MANAGERS)
        c.rule(f"The managers' group got {len(alerts)} alert(s)")
        for m in alerts:
            c.print(Panel(m["text"], title_align="left"))


def _stage(site: SiteServer, tg: BotApiServer, reddit: RedditServer) -> None:
    """The samples, the Reddit posts, the groups and the people of the walk-through."""
    site.add_dir(SANDBOX / "samples")
    reddit.add_submission(
        "nordlys",
        "Nordlys sent the wrong size twice",
        "Ordered a medium coat, got a small, exchanged it and got a small again. Nobody answers my emails.",
        author="fjordwalker",
    )
    reddit.add_submission("nordlys", "Love my Nordlys coat", "Warm, well made and it came in two days!", "sunny_dk")
    tg.add_group(FANS, "Nordlys fans")
    tg.add_user(OLE, "Ole", language_code="en")
    tg.add_group(STAFF, "Nordlys care team")
    tg.add_group(MANAGERS, "Nordlys managers")
    tg.add_user(ANNA, "Anna", "anna_care")
    tg.add_user(BOB, "Bob")
    tg.add_user(MARIA, "Maria (manager)")
    tg.add_user(EVE, "Eve (not on the team)")
    tg.add_user(EMMA, "Emma", language_code="en")


def _walk(app: App, tg: BotApiServer, reddit: RedditServer, console: Console, stay: bool) -> BaseException | None:
    """`reclaim run` in this process while the walk-through plays on a thread; its failure, if any."""
    failure: list[BaseException] = []

    def token_of(cid: int) -> str:
        return str(app.views.token(cid))

    def polled() -> bool:
        return {s.name for s in REGISTRY.polled(app.settings.sources)} <= app.views.polled()

    async def main() -> None:
        runner, loop, finished = Runner(app), asyncio.get_running_loop(), asyncio.Event()

        def script() -> None:
            try:
                Walkthrough(tg, console, token_of, reddit=reddit, polled=polled).run()
            except BaseException as exc:  # reported below, after the runner stops
                failure.append(exc)
            finally:
                if failure or not stay:
                    loop.call_soon_threadsafe(finished.set)
                else:
                    console.rule("Your turn")
                    console.print(
                        f"Open {tg.url}/ui to act as Anna, Bob or Eve in the staff group; "
                        "the bot keeps polling the samples. Ctrl-C stops the demo."
                    )

        threading.Thread(target=script, name="demo-walkthrough", daemon=True).start()
        await runner.run(until=finished)

    asyncio.run(main())
    return failure[0] if failure else None


def _summary(app: App, console: Console) -> None:
    try:
        complaints = app.views.complaints()
        statuses: dict[str, int] = {}
        for row in complaints:
            statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        console.rule(f"Journal: {len(complaints)} complaints {statuses}")
    finally:
        app.close()


def run_demo(folder: str, console: Console, *, port: int = 0, stay: bool | None = None) -> int:
    """`reclaim demo`: local stand-ins for the sources, Reddit and Telegram, `reclaim run` on
    them, and a scripted walk-through of the team's work; then, from a terminal, your turn."""
    work = Path(folder)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stay = sys.stdin.isatty() and sys.stdout.isatty() if stay is None else stay
    # the demo's Reddit has only what it posts itself (no recorded listings)
    with SiteServer() as site, BotApiServer(port=port) as tg, RedditServer(cassettes=None) as reddit:
        _stage(site, tg, reddit)
        env = {
            **os.environ,
            "SAMPLES": site.base,
            "DEMO_DB": str(work / "reclaim.db"),
            "DEMO_TELEGRAM_TOKEN": tg.token,
            "DEMO_TELEGRAM_URL": tg.base_url,
            "DEMO_REDDIT_URL": reddit.url,
            **reddit.env(),
        }
        os.environ.update(reddit.env())  # the local Reddit's own login, as a real one would be set
        settings = load_settings(SANDBOX / "demo.yaml", env)
        tg.send_text(FANS, OLE, "Has anyone else had Nordlys lose their parcel? Two weeks and support never replies.")
        console.print(
            f"Sample sources on {site.base}; a local Reddit on {reddit.url}; a local Telegram on {tg.url} "
            f"(watch and click as staff at [bold]{tg.url}/ui[/bold])."
        )
        failure = _walk(App(settings), tg, reddit, console, stay)
        if failure is not None:
            console.print(f"[red]The demo stopped: {failure}[/red]")
            return 1
        _summary(App(settings), console)
    console.print(
        f"Journal kept in {work / 'reclaim.db'}. Next: write your own config.yaml "
        "(see the README), `reclaim check-config`, then `reclaim run` with TELEGRAM_BOT_TOKEN set."
    )
    return 0

"""The composition root: builds triage, drafting, the database and the watchers from Settings."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from core.brand import BrandMatcher
from core.model import RawMention, Triage
from core.review import human
from core.triage import Triager
from reclaim import __version__
from reclaim.settings import Settings
from responders.drafting import Drafter, DraftRequest, load_templates
from watchers import REGISTRY, ReadKind

if TYPE_CHECKING:  # the rest loads when first used: `reclaim check-config` needs none of it
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from bot.customer import CustomerDesk
    from bot.service import BotOptions
    from bot.texts import StaffTexts
    from core.outbox import Document
    from responders.conversation_words import Texts
    from services.accounts import Accounts
    from services.actions import Actions
    from services.conversations import PrivateConversations
    from services.delivery import Delivery
    from services.faq import Faq
    from services.learning import Learning
    from services.machine import Playbook
    from services.mentions import MentionDesk
    from services.policy import PolicyDesk
    from services.staff import StaffInbox
    from services.views import Views
    from storage.db import DbThreads
    from storage.repositories import SqlUnitOfWork
    from watchers.reddit_api import RedditClient

USER_AGENT = f"Reclaim/{__version__} (complaint monitoring; +https://github.com/reclaim-dev/reclaim)"


@dataclass
class App:
    settings: Settings

    @cached_property
    def triager(self) -> Triager:
        t = self.settings.triage
        return Triager(
            t.languages,
            extra_dirs=t.lexicon_dirs,
            extensions=t.extend,
            default_language=t.default_language,
        )

    @cached_property
    def drafter(self) -> Drafter:
        d = self.settings.drafts
        templates = load_templates(self.settings.triage.languages, d.templates_dirs, d.templates)
        return Drafter(
            self.settings.brand.name,
            templates,
            bot_username=self.settings.telegram.bot_username,
            greet_by_name=d.greet_by_name,
            fallback_language=self.settings.triage.default_language or self.settings.triage.languages[0],
        )

    @cached_property
    def brand(self) -> BrandMatcher:
        return BrandMatcher(self.settings.brand.names())

    @cached_property
    def engine(self) -> Engine:
        from storage.db import make_engine, migrate

        engine = make_engine(self.settings.database.url, echo=self.settings.database.echo)
        migrate(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from storage.db import session_factory

        return session_factory(self.engine)

    @cached_property
    def db(self) -> DbThreads:
        """The threads async code runs journal calls on (one for SQLite)."""
        from storage.db import DbThreads

        return DbThreads(self.settings.database.url)

    @cached_property
    def inbox(self) -> StaffInbox:
        """The staff's use cases (Telegram buttons and the dashboard)."""
        from services.staff import StaffInbox

        return StaffInbox(self.uow, causes=self.settings.review.causes)

    @cached_property
    def delivery(self) -> Delivery:
        """The dispatcher's use cases: cards to draw, outbox rows to send."""
        from services.delivery import Delivery

        o = self.settings.outbox
        return Delivery(self.uow, max_attempts=o.max_attempts, give_up_after=o.give_up_after)

    @cached_property
    def accounts(self) -> Accounts:
        """The dashboard's logins."""
        from services.accounts import Accounts

        return Accounts(self.uow)

    @cached_property
    def actions(self) -> Actions:
        """Corrective actions (the dashboard and `reclaim actions`)."""
        from services.actions import Actions

        return Actions(self.uow, self.settings.review.causes)

    @cached_property
    def faq(self) -> Faq:
        """The questions-and-answers page's entries."""
        from services.faq import Faq

        return Faq(self.uow)

    @cached_property
    def learning(self) -> Learning:
        """Triage that learns: training, and the model that decides at ingest."""
        from services.learning import Learning

        learn = self.settings.triage.learn
        return Learning(self.uow, self.triager, min_labels=learn.min_labels, folds=learn.folds,
                        rating_weight=learn.rating_weight)  # fmt: skip

    @cached_property
    def mentions(self) -> MentionDesk:
        """The mentions lane: It's a complaint, Answer, Thank, Ignore."""
        from services.mentions import MentionDesk, Writers

        d = self.drafter
        return MentionDesk(self.uow, Writers(self.draft, d.thanks, d.answer),
                           first_response=self.settings.sla.first_response, publisher_of=self.publisher_of)  # fmt: skip

    @cached_property
    def policy(self) -> PolicyDesk | None:
        """Replies published by policy (respond.auto_publish), or None when every reply waits for a person."""
        from services.policy import PolicyDesk

        s = self.settings
        rules = s.respond.policy(s.timezone, s.sources, s.triage.languages)
        return PolicyDesk(self.uow, rules) if rules is not None else None

    def publisher_of(self, source: str) -> str:
        """Who publishes replies on a source (manual when it is no longer configured)."""
        try:
            return self.settings.source(source).publisher
        except KeyError:
            return "manual"

    def uow(self) -> SqlUnitOfWork:
        """A new unit of work on the journal (one transaction: ``with app.uow() as uow:``)."""
        from storage.repositories import SqlUnitOfWork

        return SqlUnitOfWork(self.sessions)

    @cached_property
    def views(self) -> Views:
        """The read models the dashboard, the CLI and the demo show."""
        from services.views import Views

        return Views(self.sessions, self.link_base)

    @cached_property
    def playbook(self) -> Playbook:
        from responders.conversation import DEFAULT_QUESTIONS
        from services.machine import DEFAULT_PRESETS, Playbook

        c = self.settings.conversation
        return Playbook(
            self.conversation_texts,
            self.zone,
            questions={**DEFAULT_QUESTIONS, **{k: list(v) for k, v in c.questions.items()}},
            default_promise=c.promise,
            manager_within=c.manager_within,
            extension=c.extension,
            presets={**DEFAULT_PRESETS, **c.presets},
            remind_before=c.remind_before,
            follow_up=self.drafter.follow_up,
        )

    @cached_property
    def conversations(self) -> PrivateConversations:
        from services.conversations import PrivateConversations

        return PrivateConversations(self.uow, self.playbook)

    def conversation_texts(self, language: str) -> Texts:
        """The conversation's words in ``language`` (the default language's when there are none)."""
        from core.catalog import CatalogError
        from responders.conversation_words import load_conversation_texts

        cache: dict[str, Texts] = self.__dict__.setdefault("_conversation_texts", {})
        if language not in cache:
            try:
                cache[language] = load_conversation_texts(language, self.settings.conversation.texts_dirs)
            except CatalogError:
                fallback = self.settings.triage.default_language or self.settings.triage.languages[0]
                cache[language] = load_conversation_texts(fallback, self.settings.conversation.texts_dirs)
        return cache[language]

    def customer_desk(self) -> CustomerDesk:
        import asyncio  # here: loading a config (check-config, --help) never needs the event loop

        from bot.customer import CustomerDesk

        languages = tuple(self.settings.triage.languages)
        classify = self.triager.classify
        return CustomerDesk(self.conversations, self.conversation_texts, languages, classify, asyncio.Event())

    @cached_property
    def staff_texts(self) -> StaffTexts:
        from bot.texts import load_texts

        return load_texts(self.settings.telegram.staff_language)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def bot_options(self) -> BotOptions | None:
        """The bot's options, or None when no token is set (the watchers then run alone)."""
        from bot.service import BotOptions

        tg = self.settings.telegram
        if tg.token is None or tg.staff_chat_id is None:
            return None
        return BotOptions(
            token=tg.token.get_secret_value(),
            staff_chat_id=tg.staff_chat_id,
            staff_ids=frozenset(tg.staff_user_ids) | frozenset(tg.manager_user_ids),
            alerts_chat_id=tg.alerts_chat() or tg.staff_chat_id,
            zone=self.zone,
            base_url=tg.base_url,
            poll_timeout=tg.poll_timeout,
            overall=(tg.limits.overall.count, tg.limits.overall.per),
            per_group=(tg.limits.per_group.count, tg.limits.per_group.per),
            max_retries=tg.limits.max_retries,
            causes=tuple(self.settings.review.causes),
        )

    @property
    def link_base(self) -> str | None:
        name = self.settings.telegram.bot_username
        return f"https://t.me/{name}?start=" if name else None

    @property
    def user_agent(self) -> str:
        return self.settings.polling.user_agent or USER_AGENT

    def classify(self, raw: RawMention) -> Triage:
        return self.triager.classify(raw.text, title=raw.title, rating=raw.rating, language_hint=raw.language_hint)

    def draft(self, triage: Triage, raw: RawMention, token: str) -> str:
        return self.drafter.draft(DraftRequest(triage=triage, token=token, author=raw.author))

    def review_document(self, payload: Document) -> tuple[str, bytes, str]:
        """The monthly review as an HTML file for the managers' chat, with a one-line caption."""
        from reclaim.report import render  # matplotlib is loaded only when a review is made
        from storage.review import collect

        month = payload.month
        with self.sessions() as session:
            review = collect(session, month, self.zone, self.settings.sla.first_response)
        complaints = review.kinds.get("complaint", 0)
        caption = (
            f"{self.settings.brand.name}: review of {month}. {complaints} complaints against {review.praise} "
            f"compliments; median first answer {human(review.first_response.median)}."
        )
        return (
            f"reclaim-review-{month}.html",
            render(review, "html", self.settings.brand.name, self.staff_texts),
            caption,
        )

    @cached_property
    def reddit(self) -> RedditClient | None:
        """The one Reddit client (one request budget) of every reddit source and the publisher;
        None when no source uses Reddit. Credentials come from the environment only."""
        from watchers.reddit import REDDIT_ENV
        from watchers.reddit_api import RedditAccess, RedditClient

        if "reddit" not in self.clients_used():
            return None
        env = os.environ
        missing = [var for var in REDDIT_ENV if not env.get(var)]
        if missing:
            raise RuntimeError(f"reddit sources need {', '.join(missing)} in the environment")
        r = self.settings.reddit
        client_id, secret, username, password = (env[v] for v in REDDIT_ENV)
        agent = r.user_agent or f"python:reclaim:{__version__} (complaint monitoring, by /u/{username})"
        return RedditClient(
            RedditAccess(
                client_id,
                secret,
                username,
                password,
                agent,
                oauth_url=r.oauth_url,
                reddit_url=r.reddit_url,
                timeout=r.timeout.total_seconds(),
                requests_per_minute=r.requests_per_minute,
            )
        )

    def clients_used(self) -> set[str]:
        """The shared clients the enabled sources read through (ReadKind.client)."""
        kinds = (REGISTRY.of(s) for s in self.settings.sources if s.enabled)
        return {k.client for k in kinds if isinstance(k, ReadKind)}

    def client(self, name: str) -> tuple[Any, ThreadPoolExecutor]:
        """A shared client by name, and the one thread its blocking calls run on."""
        if name == "reddit" and self.reddit is not None:
            return self.reddit, self.reddit_thread
        raise LookupError(f"no client {name!r} in this process")

    @cached_property
    def reddit_thread(self) -> ThreadPoolExecutor:
        """praw is synchronous: every Reddit call of this process runs on this one thread."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="reddit")

    def close(self) -> None:
        if "reddit_thread" in self.__dict__:
            self.reddit_thread.shutdown(wait=False, cancel_futures=True)
        if self.__dict__.get("reddit") is not None:
            self.reddit.close()  # type: ignore[union-attr]
        if "db" in self.__dict__:
            self.db.close()
        if "engine" in self.__dict__:
            self.engine.dispose()

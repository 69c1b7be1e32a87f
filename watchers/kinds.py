"""Source kinds as plugins: the contract every kind fulfils and the registry that names them.

A kind is one class with its options model and one of three ways of delivering mentions:

- ``FetchKind``: the poller fetches the kind's HTTP request (conditional GET, retries, limits)
  and a worker process runs the kind's pure parser on the document (rss, html);
- ``ReadKind``: the kind reads by itself through a client the composition root shares between
  its sources and its publisher, on that client's thread (reddit through praw);
- ``PushKind``: mentions arrive by themselves with the bot's updates and are never polled
  (telegram_group).

Settings validate ``sources:`` against the registered options models, the poller, scheduler,
CLI and demo ask the registry what a source is; nothing else names a kind. Adding one is a
module with its class and a line in ``watchers/__init__.py`` (see docs/CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar, Union

from pydantic import Field, TypeAdapter

from core.model import RawMention
from watchers.base import Watcher
from watchers.options import HttpOptions, SourceOptions

if TYPE_CHECKING:
    from watchers.http import Request

O = TypeVar("O", bound=SourceOptions)  # noqa: E741


class Intake(StrEnum):
    """How a kind's mentions come in."""

    FETCH = "fetch"
    READ = "read"
    PUSH = "push"


@dataclass
class Batch:
    """What a ReadKind read: the mentions and where the source now stands (saved only once
    the mentions are in the journal, so a failed poll reads the same items again)."""

    items: list[RawMention]
    cursor: dict[str, object] = field(default_factory=dict)


class SourceKind(Generic[O]):
    """One kind of source. Subclass FetchKind, ReadKind or PushKind, not this."""

    name: ClassVar[str]  # the ``kind:`` value in config.yaml
    options: type[O]  # its pydantic model (a SourceOptions with ``kind: Literal[name]``)
    intake: ClassVar[Intake]
    required_env: ClassVar[tuple[str, ...]] = ()  # variables an enabled source of this kind needs
    needs_bot: ClassVar[bool] = False  # its mentions come through the Telegram bot

    def where(self, options: O) -> str:
        """What a source of this kind watches, for a table cell."""
        return getattr(options, "url", options.name)


class FetchKind(SourceKind[O]):
    intake = Intake.FETCH

    def request(self, options: O, etag: str | None, last_modified: str | None) -> Request:
        """The conditional GET for one poll (HttpOptions' address, limits and headers)."""
        from watchers.http import Request

        if not isinstance(options, HttpOptions):
            raise TypeError(f"{self.name}: override request() for options without a url")
        return Request(
            url=options.url,
            timeout=options.timeout.total_seconds(),
            max_bytes=options.max_bytes,
            etag=etag,
            last_modified=last_modified,
            headers=tuple(options.headers.items()),
        )

    def parser(self, options: O) -> Watcher:
        """The pure parser of this source's documents (runs in a worker process)."""
        raise NotImplementedError


class ReadKind(SourceKind[O]):
    intake = Intake.READ
    client: ClassVar[str]  # the shared client read() is given (the composition root makes it)

    def read(self, options: O, cursor: Mapping[str, Any], client: Any) -> Batch:
        """Read what is new since ``cursor`` (blocking; runs on the client's own thread).
        Raise watchers.FetchError for a failure the source is backed off for."""
        raise NotImplementedError


class PushKind(SourceKind[O]):
    intake = Intake.PUSH
    needs_bot = True

    def to_mention(self, options: O, message: Mapping[str, Any]) -> RawMention | None:
        """One pushed message as a mention, or None when it is not a customer speaking."""
        raise NotImplementedError


AnyKind = SourceKind[Any]


class Registry:
    """The source kinds by name; one instance, ``watchers.REGISTRY``."""

    def __init__(self, kinds: Iterable[type[AnyKind]] = ()) -> None:
        self._kinds: dict[str, AnyKind] = {}
        self._adapter: TypeAdapter[list[SourceOptions]] | None = None
        for kind in kinds:
            self.register(kind)

    def register(self, kind: type[AnyKind]) -> type[AnyKind]:
        """Add a kind (usable as a class decorator); a name is registered once."""
        if kind.name in self._kinds and type(self._kinds[kind.name]) is not kind:
            raise ValueError(f"source kind {kind.name!r} is registered already")
        fields = kind.options.model_fields
        if "kind" not in fields or fields["kind"].annotation is str:
            raise TypeError(f"{kind.__name__}.options needs kind: Literal[{kind.name!r}]")
        self._kinds[kind.name] = kind()
        self._adapter = None
        return kind

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)
        self._adapter = None

    def ensure(self, kinds: Iterable[type[AnyKind]]) -> None:
        """Register those of ``kinds`` not known yet (a worker process given its parent's kinds)."""
        for kind in kinds:
            if kind.name not in self._kinds:
                self.register(kind)

    def classes(self) -> list[type[AnyKind]]:
        return [type(k) for k in self._kinds.values()]

    def names(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def __getitem__(self, name: str) -> AnyKind:
        return self._kinds[name]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def of(self, options: SourceOptions) -> AnyKind:
        return self._kinds[options.kind]

    def polled(self, sources: Sequence[SourceOptions]) -> list[SourceOptions]:
        """The sources a poll reads (pushed ones arrive by themselves)."""
        return [s for s in sources if self.of(s).intake is not Intake.PUSH]

    def adapter(self) -> TypeAdapter[list[SourceOptions]]:
        """Validates a ``sources:`` list, each entry by the model its ``kind`` names."""
        if self._adapter is None:
            models = tuple(k.options for k in self._kinds.values())
            one: Any = Annotated[Union[models], Field(discriminator="kind")] if len(models) > 1 else models[0]  # noqa: UP007
            self._adapter = TypeAdapter(list[one])
        return self._adapter

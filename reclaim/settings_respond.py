"""``respond:`` in config.yaml: the team's working hours and the policy that publishes a reply
nobody acted on (core/respond.py holds the rules; this checks what people write)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from core.respond import NEVER_SEVERITY, Policy, WorkingHours
from watchers import REGISTRY, SourceOptions
from watchers.options import Duration, Strict

SEVERITIES = ("low", "normal", "high")  # critical is never published by policy


class AutoPublish(Strict):
    """Which complaints get their draft published when nobody on the team acted in time."""

    enabled: bool = True
    after: Duration = timedelta(minutes=15)  # without a staff action, in working hours
    outside_hours: Duration = timedelta(minutes=2)  # … and outside them
    sources: list[str] | None = None  # source names or kinds; None: every source with a reply API
    severities: list[str] = Field(default_factory=lambda: ["low", "normal"], min_length=1)
    languages: list[str] | None = Field(default=None, min_length=1)  # None: every language triage knows
    max_age: Duration = timedelta(days=1)  # older complaints (a backlog, a stop) wait for a person

    @field_validator("after", "outside_hours", "max_age")
    @classmethod
    def _sensible(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(days=7):
            raise ValueError("between 1s and 7d")
        return value

    @model_validator(mode="after")
    def _can_fire(self) -> AutoPublish:
        if self.max_age < max(self.after, self.outside_hours):
            raise ValueError("max_age is shorter than after or outside_hours: nothing could ever be published")
        return self

    @field_validator("severities")
    @classmethod
    def _never_critical(cls, value: list[str]) -> list[str]:
        for severity in value:
            if severity == NEVER_SEVERITY:
                raise ValueError("critical complaints are never published by policy: a person answers them")
            if severity not in SEVERITIES:
                raise ValueError(f"{severity!r} is not a severity (low, normal, high)")
        return value


class Respond(Strict):
    """When the team works, and what is published by policy meanwhile."""

    timezone: str | None = None  # the working hours' zone; None: the top-level timezone
    # mon-fri: 09:00-17:00, sat: 10:00-14:00; a day left out is closed; none at all: always at work
    working_hours: dict[str, str] = Field(default_factory=dict)
    auto_publish: AutoPublish | None = None  # None: every public reply waits for a person

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Copenhagen)") from exc
        return value

    @field_validator("working_hours", mode="before")
    @classmethod
    def _closed_days(cls, value: object) -> object:
        """YAML reads an unquoted `off` or `no` as false: a closed day."""
        if isinstance(value, dict):
            return {k: "closed" if v is False or v is None else v for k, v in value.items()}
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        WorkingHours.parse(ZoneInfo("UTC"), value)  # a ValueError names the day and the hours
        return value

    def hours(self, zone: str) -> WorkingHours:
        return WorkingHours.parse(ZoneInfo(self.timezone or zone), self.working_hours)

    def policy(self, zone: str, sources: Sequence[SourceOptions], languages: Sequence[str]) -> Policy | None:
        """The policy as the rules apply it, or None when nothing is published by policy."""
        auto = self.auto_publish
        if auto is None or not auto.enabled:
            return None
        return Policy(
            hours=self.hours(zone),
            after=auto.after,
            outside_hours=auto.outside_hours,
            sources=frozenset(answerable(auto.sources, sources)),
            severities=frozenset(auto.severities),
            languages=frozenset(auto.languages if auto.languages is not None else languages),
            max_age=auto.max_age,
        )


def answerable(wanted: list[str] | None, sources: Sequence[SourceOptions]) -> list[str]:
    """The names of the sources the policy answers: those ``wanted`` names (a source's name, or a
    kind for all its sources), each with a reply API; ValueError for one that cannot be answered."""
    if wanted is None:
        return [s.name for s in sources if s.publisher != "manual"]
    names = []
    for entry in wanted:
        if entry in REGISTRY:
            if REGISTRY[entry].options.model_fields["publisher"].default == "manual":
                raise ValueError(f"{entry} sources have no reply API: only reddit and telegram_group can be answered")
            names += [s.name for s in sources if s.kind == entry and s.publisher != "manual"]
            continue
        source = next((s for s in sources if s.name == entry), None)
        if source is None:
            raise ValueError(f"{entry!r} is neither a source's name nor a source kind ({', '.join(REGISTRY.names())})")
        if source.publisher == "manual":
            raise ValueError(
                f"source {entry!r} has no reply API (its publisher is manual): only reddit and telegram_group "
                "sources can be answered by policy"
            )
        names.append(entry)
    return names

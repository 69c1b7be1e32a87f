"""The staff card of a complaint, pure: HTML text (user text escaped, cut to Telegram's limit)
and its buttons, both following the complaint's status."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.texts import StaffTexts
from core.inbox import Action, RejectReason
from core.lifecycle import Status as S
from core.ports import CardView, MentionView
from core.text import cut, normalise_whitespace

LIMIT = 4096  # Telegram's limit on a message's text, counted after entities are parsed
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


Keyboard = list[list[Button]]


def visible_length(markup: str) -> int:
    """Length as Telegram counts it: tags removed, entities decoded, in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", markup))
    return len(plain.encode("utf-16-le")) // 2


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def data(complaint_id: int, action: Action, arg: str | None = None) -> str:
    return f"c:{complaint_id}:{action.value}" + (f":{arg}" if arg else "")


def parse_data(value: str) -> tuple[int, Action, str | None] | None:
    parts = value.split(":", 3)
    if len(parts) < 3 or parts[0] != "c" or not parts[1].isdigit():
        return None
    try:
        action = Action(parts[2])
    except ValueError:
        return None
    return int(parts[1]), action, parts[3] if len(parts) > 3 else None


def span(delta: timedelta, t: StaffTexts) -> str:
    minutes = max(int(abs(delta.total_seconds()) // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {t.t('units', 'day')}")
    if hours and days < 3:
        parts.append(f"{hours} {t.t('units', 'hour')}")
    if not days and (mins or not hours):
        parts.append(f"{mins} {t.t('units', 'min')}")
    return " ".join(parts)


def clock(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    local, today = moment.astimezone(zone), now.astimezone(zone)
    return local.strftime("%H:%M") if local.date() == today.date() else local.strftime("%d.%m %H:%M")


def _deadline(v: CardView, t: StaffTexts, now: datetime, zone: ZoneInfo) -> str:
    if v.responded_at is not None:
        took = span(v.responded_at - v.created_at, t)
        return t.t("card", "answered", time=clock(v.responded_at, now, zone), took=took)
    if v.status is S.REJECTED:
        return "—"
    key = "overdue" if v.due < now else "due_in"
    return t.t("card", key, time=clock(v.due, now, zone), left=span(v.due - now, t))


def _title(v: CardView, t: StaffTexts) -> str:
    """The card's title key: a complaint's, or a question's or praise's answered in public."""
    return f"title_{v.case}" if v.case != "complaint" and t.has("card", f"title_{v.case}") else "title"


def _facts(v: CardView, t: StaffTexts, now: datetime, zone: ZoneInfo) -> list[str]:
    c = t.t
    source = f"<b>{e(c('card', 'source'))}:</b> {e(v.source)}"
    if v.url:  # only http(s) links reach the journal (core.model.RawMention)
        source += f' · <a href="{e(v.url)}">{e(c("card", "open_original"))}</a>'
    lines = [
        f"<b>{e(c('status', v.status.value))}</b> · <b>{e(c('card', _title(v, t), id=v.id))}</b>",
        source,
        f"<b>{e(c('card', 'author'))}:</b> {e(v.author or c('card', 'anonymous'))}",
        f"<b>{e(c('card', 'language'))}:</b> {e(v.language)} · <b>{e(c('card', 'severity'))}:</b> {e(v.severity)}"
        f" · <b>{e(c('card', 'category'))}:</b> {e(v.category)}",
    ]
    if v.flags:
        names = [c("flag", f) if t.has("flag", f) else f for f in v.flags]
        lines.append(f"<b>{e(c('card', 'flags'))}:</b> {e(', '.join(names))}")
    if v.rating is not None:
        lines.append(f"<b>{e(c('card', 'rating'))}:</b> {v.rating:g}/5")
    if v.score is not None:
        lines.append(f"<b>{e(c('card', 'score'))}:</b> {v.score}")
    lines.append(f"<b>{e(c('card', 'deadline'))}:</b> {e(_deadline(v, t, now, zone))}")
    owner = v.owner_name or (str(v.owner_id) if v.owner_id else None)
    lines.append(f"<b>{e(c('card', 'owner'))}:</b> {e(owner or c('card', 'nobody'))}")
    if v.status in (S.APPROVED, S.AWAITING_POST, S.PUBLISHED, S.CLOSED, S.PRIVATE):
        step = c("step", v.conversation_step) if v.conversation_step else c("card", "no_conversation")
        lines.append(f"<b>{e(c('card', 'conversation'))}:</b> {e(step)}")
    if v.customer_name or v.customer_username:  # who opened the link, beside who wrote in public
        who = " ".join(p for p in (v.customer_name, f"@{v.customer_username}" if v.customer_username else "") if p)
        lines.append(f"<b>{e(c('card', 'opened_by'))}:</b> {e(who)} · {e(c('card', 'author'))}: {e(v.author or '—')}")
    if v.insults:
        lines.append(e(c("card", "insults", count=v.insults)))
    if v.root_cause:
        judged = "" if v.justified is None else f" ({c('card', 'justified' if v.justified else 'not_justified')})"
        lines.append(f"<b>{e(c('card', 'cause'))}:</b> {e(cause_label(v.root_cause) + judged)}")
    return lines


def _tail(v: CardView, t: StaffTexts) -> list[str]:
    c = t.t
    out = [] if v.status is S.PRIVATE or (v.status is S.CLOSED and not v.draft) else _public(v, t)
    # a message that could not be sent matters most when the complaint is private only
    out.extend(f"<b>{e(c('card', 'not_sent'))}:</b> {e(cut(failure, 300))}" for failure in v.failed_sends)
    return out


def _public(v: CardView, t: StaffTexts) -> list[str]:
    """The public reply: its text, who approved and posted it, and where it went."""
    c = t.t
    out: list[str] = []
    if v.status in (S.NEW, S.DRAFT_READY):
        label = c("card", "draft")
        if v.draft_edited_by:
            label += f" ({c('card', 'edited_by', name=v.draft_edited_by)})"
    elif v.status is S.REJECTED:
        label = c("card", "draft")
    elif v.status in (S.PUBLISHED, S.CLOSED) and v.publisher != "manual":
        label = c("card", "posted_text")
    else:
        label = c("card", "final")
    out.append(f"<b>{e(label)}:</b>\n<pre>{e(v.draft)}</pre>")
    answered = v.status in (S.APPROVED, S.PUBLISH_UNCONFIRMED, S.PUBLISHED, S.CLOSED, S.PRIVATE)
    if v.approved_by and (answered or v.status is S.AWAITING_POST):
        out.append(e(c("card", "approved_by", name=v.approved_by)))
    elif v.by_policy and answered and v.status is not S.PUBLISH_UNCONFIRMED:  # not a draft again, not by hand
        out.append(e(c("card", "by_policy", after=v.by_policy)))
    if v.published_by and v.status is S.PUBLISHED:
        out.append(e(c("card", "published_by", name=v.published_by)))
    if v.status is S.REJECTED and v.reject_reason:
        code, _, note = v.reject_reason.partition(":")
        reason = c("reason", code) if t.has("reason", code) else code
        out.append(e(c("card", "rejected_because", reason=f"{reason} {note}".strip())))
    if v.publish_error and v.status in (S.APPROVED, S.PUBLISH_UNCONFIRMED, S.AWAITING_POST):
        out.append(f"<b>{e(c('card', 'error'))}:</b> {e(cut(v.publish_error, 300))}")
    if v.reply_url:
        out.append(f'<a href="{e(v.reply_url)}">{e(c("card", "our_reply"))}</a>')
    if v.follow_up:
        state = c("follow_up", v.follow_up) if t.has("follow_up", v.follow_up) else v.follow_up
        out.append(f"<b>{e(c('card', 'follow_up'))}</b> ({e(state)}):\n<pre>{e(v.follow_up_text)}</pre>")
    return out


def render(v: CardView, t: StaffTexts, now: datetime, zone: ZoneInfo, link_base: str | None = None) -> str:
    """The card's HTML, at most LIMIT characters as Telegram counts them; ``link_base`` is the
    bot's start link (https://t.me/<bot>?start=), for a link made anew by a release."""
    head = "\n".join(_facts(v, t, now, zone))
    tail = "\n".join(_tail(v, t))
    if v.new_link and link_base:
        tail += f"\n<b>{e(t.t('card', 'new_link'))}:</b> {e(link_base + v.new_link)}"
    original = " — ".join(p for p in (v.title or "", v.text) if p)
    suffix = t.t("card", "cut")

    def compose(excerpt: str) -> str:
        return f"{head}\n\n<blockquote>{e(excerpt)}</blockquote>" + (f"\n\n{tail}" if tail else "")

    text = compose(original)
    room = len(original)
    while visible_length(text) > LIMIT and room > 0:
        room = max(room - (visible_length(text) - LIMIT) - len(suffix) - 16, 0)
        text = compose(cut(original, room, ellipsis=suffix) if room else suffix)
    if visible_length(text) > LIMIT:  # the draft alone is too long: show its beginning, as plain text
        plain = html.unescape(_TAG.sub("", f"{head}\n\n{tail}"))
        units = plain.encode("utf-16-le")[: (LIMIT - 1) * 2]  # Telegram counts UTF-16 code units
        text = html.escape(units.decode("utf-16-le", errors="ignore"))
    return text


def keyboard(v: CardView, t: StaffTexts) -> Keyboard:
    b = t.t
    take = Button(b("button", "take"), data(v.id, Action.TAKE))
    if v.status in (S.NEW, S.DRAFT_READY):
        return [
            [
                Button(b("button", "approve"), data(v.id, Action.APPROVE)),
                Button(b("button", "edit"), data(v.id, Action.EDIT)),
            ],
            [Button(b("button", "reject"), data(v.id, Action.REJECT)), take],
        ]
    if v.status is S.AWAITING_POST:
        return [[Button(b("button", "posted"), data(v.id, Action.POSTED))], [take]]
    if v.status is S.PUBLISH_UNCONFIRMED:
        return [
            [
                Button(b("button", "confirm_posted"), data(v.id, Action.CONFIRM_POSTED)),
                Button(b("button", "repost"), data(v.id, Action.REPOST)),
            ],
            [take],
        ]
    rows = _keyboard(v, t)
    amend = _amend_row(v, t)
    if amend:
        rows.insert(-1, amend)
    resolved = v.status is S.CLOSED or v.conversation_step in ("satisfaction", "closed")
    if resolved and v.root_cause is None and v.status is not S.REJECTED:
        rows.insert(-1, [Button(b("button", "cause"), data(v.id, Action.CAUSE))])
    return rows


def _keyboard(v: CardView, t: StaffTexts) -> Keyboard:
    b = t.t
    take = Button(b("button", "take"), data(v.id, Action.TAKE))
    if v.status is S.CLOSED and v.follow_up in ("proposed", "refused", "unconfirmed", "awaiting_post"):
        rows: Keyboard = []
        if v.follow_up in ("proposed", "refused", "unconfirmed"):
            rows.append([Button(b("button", "follow_up"), data(v.id, Action.FOLLOW_UP))])
        if v.follow_up in ("awaiting_post", "unconfirmed", "refused"):
            rows.append([Button(b("button", "posted"), data(v.id, Action.FOLLOW_UP_POSTED))])
        edit = (
            [Button(b("button", "edit"), data(v.id, Action.FOLLOW_UP_EDIT))] if v.follow_up != "awaiting_post" else []
        )
        rows.append([*edit, Button(b("button", "follow_up_skip"), data(v.id, Action.FOLLOW_UP_SKIP))])
        return [*rows, [take]]
    releasable = v.conversation_step is not None and v.status in (S.APPROVED, S.AWAITING_POST, S.PUBLISHED)
    release = [Button(b("button", "release"), data(v.id, Action.RELEASE))] if releasable else []
    if v.conversation_step in ("solution", "choosing", "promise"):
        return [
            [
                Button(b("button", "offer"), data(v.id, Action.OFFER)),
                Button(b("button", "resolved"), data(v.id, Action.RESOLVE)),
            ],
            [
                Button(b("button", "set_time"), data(v.id, Action.SET_TIME)),
                Button(b("button", "slip"), data(v.id, Action.SLIP)),
            ],
            [take, *release],
        ]
    return [[take, *release]]


def cause_keyboard(complaint_id: int, causes: list[str], t: StaffTexts) -> Keyboard:
    """The company's causes, two a row (a button carries the cause's number), then Other and Cancel."""
    buttons = [Button(cause_label(c), data(complaint_id, Action.CAUSE_SET, str(n))) for n, c in enumerate(causes)]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    other = Button(t.t("button", "other_cause"), data(complaint_id, Action.CAUSE_SET, "other"))
    return [*rows, [other, Button(t.t("button", "cancel"), data(complaint_id, Action.CANCEL))]]


def justified_keyboard(complaint_id: int, t: StaffTexts) -> Keyboard:
    return [
        [
            Button(t.t("button", "justified_yes"), data(complaint_id, Action.JUSTIFIED, "1")),
            Button(t.t("button", "justified_no"), data(complaint_id, Action.JUSTIFIED, "0")),
        ]
    ]


def cause_label(cause: str) -> str:
    """late_delivery → late delivery; other:words → words."""
    return cause.split(":", 1)[1] if cause.startswith("other:") else cause.replace("_", " ")


def reject_keyboard(complaint_id: int, t: StaffTexts) -> Keyboard:
    r = [Button(t.t("reason", x.value), data(complaint_id, Action.REJECT_AS, x.value)) for x in RejectReason]
    return [r[:2], r[2:], [Button(t.t("button", "cancel"), data(complaint_id, Action.CANCEL))]]


def take_keyboard(complaint_id: int, t: StaffTexts) -> Keyboard:
    return [
        [
            Button(t.t("button", "take_confirm"), data(complaint_id, Action.TAKE_CONFIRM)),
            Button(t.t("button", "cancel"), data(complaint_id, Action.CANCEL)),
        ]
    ]


def withdraw_keyboard(complaint_id: int, t: StaffTexts) -> Keyboard:
    return [
        [
            Button(t.t("button", "withdraw_confirm"), data(complaint_id, Action.WITHDRAW_CONFIRM)),
            Button(t.t("button", "cancel"), data(complaint_id, Action.CANCEL)),
        ]
    ]


def _amend_row(v: CardView, t: StaffTexts) -> list[Button]:
    """Edit our published reply in place, or (before the customer is in the private chat) take it down."""
    if not v.amendable or v.status not in (S.PUBLISHED, S.CLOSED):
        return []
    row = [Button(t.t("button", "reply_edit"), data(v.id, Action.REPLY_EDIT))]
    if v.status is S.PUBLISHED and v.conversation_step is None:
        row.append(Button(t.t("button", "withdraw"), data(v.id, Action.WITHDRAW)))
    return row


EXCERPT = 160  # characters of the post quoted in a manager's alert


def alert_excerpt(v: CardView, t: StaffTexts, mask: Callable[[str, str | None], str]) -> str:
    """Who wrote where, and the start of what they wrote (profanity masked): enough for a
    manager on a phone to judge an alert without opening the card. Plain text: escape it."""
    words = " — ".join(p for p in (v.title or "", v.text) if p)
    excerpt = cut(normalise_whitespace(mask(words, v.language)), EXCERPT)
    return t.t("alert", "from", author=v.author or "—", source=v.source, excerpt=excerpt)


# -- the mentions lane's compact cards (bot/lane.py handles their buttons) ------------------
LANE_EXCERPT = 700
LANE_DONE = ("promoted", "answered", "thanked", "ignored")


def lane_text(v: MentionView, t: StaffTexts) -> str:
    """The card: what kind of mention, where, who, the text, and what was done with it."""
    kind = t.t("lane", v.kind) if t.has("lane", v.kind) else v.kind
    head = [f"<b>{e(kind)}</b>", e(v.source), e(v.language)]
    if v.unsure:
        head.append(f"<i>{e(t.t('lane', 'unsure'))}</i>")
    if v.p_complaint is not None:
        head.append(e(t.t("lane", "likely", p=f"{v.p_complaint:.0%}")))
    lines = [" · ".join(head)]
    who = e(v.author or t.t("card", "anonymous"))
    if v.url:  # only http(s) links reach the journal (core.model.RawMention)
        who += f' · <a href="{e(v.url)}">{e(t.t("card", "open_original"))}</a>'
    lines.append(who)
    if v.title and v.title.strip() not in v.text:
        lines.append(f"<b>{e(cut(v.title, 200))}</b>")
    lines.append(e(cut(v.text, LANE_EXCERPT)))
    if v.faq and v.lane == "open":
        lines.append(f"<b>{e(t.t('lane', 'faq'))}:</b>")
        lines += [f"• #{eid} {e(cut(question, 120))}" for eid, question in v.faq]
    if v.lane in LANE_DONE:
        lines.append(f"<b>{e(t.t('lane', v.lane, case=v.case_id or '?', who=v.lane_by or '?'))}</b>")
    return "\n".join(lines)


def lane_keyboard(v: MentionView, t: StaffTexts) -> Keyboard:
    """It's a complaint, Answer for a question, Thank for praise, Ignore; none once acted on."""
    if v.lane != "open":
        return []
    row = [Button(t.t("lane", "promote"), f"m:{v.id}:c")]
    if v.kind == "question":
        row.append(Button(t.t("lane", "answer"), f"m:{v.id}:a"))
        if len(v.faq) > 1:  # the best match is Answer's; the others can be chosen
            rows = [[Button(t.t("lane", "answer_with", id=eid), f"m:{v.id}:f{eid}") for eid, _ in v.faq[1:]]]
            return [row, *rows, [Button(t.t("lane", "ignore"), f"m:{v.id}:i")]]
    if v.kind == "praise":
        row.append(Button(t.t("lane", "thank"), f"m:{v.id}:t"))
    return [row, [Button(t.t("lane", "ignore"), f"m:{v.id}:i")]]

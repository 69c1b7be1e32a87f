"""The lifecycle table: docs/lifecycle.md draws exactly it, every state can be reached, and the
moves that matter most go where the playbook says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import lifecycle
from core.lifecycle import Delivery, Event, FollowUp, NotNow, Part, Status

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"
HEADINGS = {
    "The complaint's status": Part.STATUS,
    "The public follow-up": Part.FOLLOW_UP,
    "An outbox row": Part.DELIVERY,
}
EDGE = re.compile(r"^\s*(\S+) --> (\S+): (\S+)\s*$")


def drawn() -> dict[Part, set[tuple[str, str, str]]]:
    edges: dict[Part, set[tuple[str, str, str]]] = {}
    for section in DOC.read_text(encoding="utf-8").split("\n## ")[1:]:
        heading, _, body = section.partition("\n")
        block = re.search(r"```mermaid\n(.*?)```", body, re.S)
        assert block is not None, f"no diagram under {heading!r}"
        lines = block.group(1).splitlines()
        assert lines[0].strip() == "stateDiagram-v2"
        found = [EDGE.match(line) for line in lines[1:] if line.strip()]
        assert all(found), f"a line under {heading!r} is not 'a --> b: event'"
        edges[HEADINGS[heading.strip()]] = {(m.group(1), m.group(2), m.group(3)) for m in found if m}
    return edges


def tabled(part: Part) -> set[tuple[str, str, str]]:
    return {
        ("[*]" if s is None else s.value, row.target.value, row.event.value)
        for row in lifecycle.TABLE
        if row.part is part
        for s in row.sources
    }


@pytest.mark.parametrize("part", list(Part))
def test_the_diagram_in_docs_is_the_table(part: Part) -> None:
    assert drawn()[part] == tabled(part), f"docs/lifecycle.md should draw:\n{lifecycle.mermaid(part)}"


@pytest.mark.parametrize(
    ("part", "states"), [(Part.STATUS, Status), (Part.FOLLOW_UP, FollowUp), (Part.DELIVERY, Delivery)]
)
def test_every_state_is_reachable_from_the_start(part: Part, states: type) -> None:
    reached: set[object] = {None}
    grew = True
    while grew:
        grew = False
        for row in lifecycle.TABLE:
            if row.part is part and row.sources & reached and row.target not in reached:
                reached.add(row.target)
                grew = True
    unreachable = set(states) - reached - ({Status.NEW} if part is Part.STATUS else set())
    assert not unreachable  # NEW is the journal's legacy first state, still accepted


def test_a_public_reply_is_approved_then_sent_or_handed_to_a_person() -> None:
    s = lifecycle.status_after(None, Event.DETECTED)
    assert s is Status.DRAFT_READY
    s = lifecycle.status_after(s, Event.APPROVED)
    assert lifecycle.status_after(s, Event.SENT) is Status.PUBLISHED
    assert lifecycle.status_after(s, Event.HANDED_OVER) is Status.AWAITING_POST
    assert lifecycle.status_after(s, Event.CUT_OFF) is Status.PUBLISH_UNCONFIRMED
    assert lifecycle.status_after(Status.PUBLISH_UNCONFIRMED, Event.REPOSTED) is Status.APPROVED


def test_finished_complaints_do_not_move_back_by_accident() -> None:
    for event in (Event.SENT, Event.APPROVED, Event.EDITED, Event.CLOSED, Event.FORGOTTEN):
        assert not lifecycle.allows(Part.STATUS, Status.REJECTED, event)
    # a reply that goes out after the customer closed the complaint does not reopen it
    assert not lifecycle.allows(Part.STATUS, Status.CLOSED, Event.SENT)
    with pytest.raises(NotNow, match="sent does not apply to status closed"):
        lifecycle.advance(Part.STATUS, Status.CLOSED, Event.SENT)


def test_a_follow_up_cut_off_mid_send_waits_for_a_person() -> None:
    f = lifecycle.follow_up_after(lifecycle.follow_up_after(None, Event.PROPOSED), Event.APPROVED)
    f = lifecycle.follow_up_after(f, Event.CUT_OFF)
    assert f is FollowUp.UNCONFIRMED
    assert lifecycle.allows(Part.FOLLOW_UP, f, Event.APPROVED) and lifecycle.allows(Part.FOLLOW_UP, f, Event.POSTED)
    assert not lifecycle.allows(Part.FOLLOW_UP, f, Event.SENT)

"""`reclaim demo` (the README's first command) runs its whole walk-through and stops by itself
when nobody is at a terminal."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from rich.console import Console

from reclaim.demo import run_demo


def test_the_demo_works_a_complaint_from_card_to_a_satisfied_customer(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(str(tmp_path / "demo"), Console(file=out, width=120), stay=False) == 0
    text = out.getvalue()
    assert "Only the social-media team can act on complaints." in text  # Eve refused
    assert "Marked as published." in text
    assert "Thank you for your patience" in text  # the customer's private chat, to the end
    assert "Legal threat in complaint" in text and "Open the card" in text
    with sqlite3.connect(tmp_path / "demo" / "reclaim.db") as db:
        published = db.execute("select owner_name, first_response_at from complaints where status='closed'").fetchall()
        kinds = [k for (k,) in db.execute("select kind from events order by id")]
    assert len(published) == 1 and published[0][0] == "Anna" and published[0][1] is not None
    order = ["owner_set", "draft_edited", "approved", "published", "customer_bound", "option_chosen", "rated", "closed"]
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order)

"""The FAQ's exports show the team's words as written: HTML escaped, Markdown escaped."""

from __future__ import annotations

from services.faq import Entry, markdown, page


def test_exports_escape_what_the_team_wrote() -> None:
    entries = [Entry(1, "en", "Can I pay with *cards* <b>?</b>", "Yes.\nAll of them [really].", None)]
    md = markdown(entries, "Nordlys: questions")
    assert "## Can I pay with \\*cards\\* \\<b\\>?\\</b\\>" in md and "All of them \\[really\\]\\." in md
    html = page(entries, "Nordlys: questions", "en")
    assert (
        "<h2>Can I pay with *cards* &lt;b&gt;?&lt;/b&gt;</h2>" in html
        and "<p>Yes.</p><p>All of them [really].</p>" in html
    )

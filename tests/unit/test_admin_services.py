"""The dashboard's own use cases (logins, corrective actions, the FAQ) over the fake unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.accounts import Accounts, UserError
from services.actions import ActionError, Actions
from services.faq import Faq, FaqError
from storage.tables import Complaint
from tests.fakes import FakeStore, FakeUnitOfWork

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def _uow(store: FakeStore):  # type: ignore[no-untyped-def]
    return lambda: FakeUnitOfWork(store)


def test_logins_check_passwords_and_end_sessions() -> None:
    store = FakeStore()
    accounts = Accounts(_uow(store))
    anna = accounts.add(" anna ", "correct horse battery", "manager", 42)
    assert anna.name == "anna" and anna.manager and anna.telegram_id == 42
    with pytest.raises(UserError, match="already"):
        accounts.add("anna", "another long password", "staff")
    with pytest.raises(UserError, match="role"):
        accounts.add("bob", "another long password", "owner")
    with pytest.raises(UserError, match="10 characters"):
        accounts.add("bob", "short", "staff")
    assert accounts.verify("anna", "correct horse battery") == anna
    assert accounts.verify("anna", "wrong password here") is None
    assert accounts.verify("nobody", "correct horse battery") is None
    accounts.end_sessions(anna.id)
    again = accounts.get(anna.id)
    assert again is not None and again.epoch == anna.epoch + 1
    accounts.set_disabled("anna", True)
    assert accounts.get(anna.id) is None and accounts.verify("anna", "correct horse battery") is None
    assert [(u.name, off) for u, off in accounts.listing()] == [("anna", True)]
    with pytest.raises(UserError, match="no user"):
        accounts.set_password("nobody", "a long enough password")


def test_actions_cover_complaints_of_their_cause() -> None:
    store = FakeStore()
    for cid, cause in ((1, "late_delivery"), (2, "late_delivery"), (3, "rude_staff")):
        store.complaints[cid] = Complaint(id=cid, root_cause=cause, created_at=NOW - timedelta(days=3))
    actions = Actions(_uow(store), ["late_delivery", "rude_staff"])
    with pytest.raises(ActionError, match="unknown cause"):
        actions.add("x", "weather", None, None, [], "anna")
    with pytest.raises(ActionError, match="no complaint 9"):
        actions.add("New courier", "late_delivery", None, None, [9], "anna")
    aid, covered = actions.add("New courier", "late_delivery", "ops", NOW - timedelta(days=1), [3], "anna",
                               link_cause=True, now=NOW)  # fmt: skip
    assert covered == 3
    [row] = actions.listing()
    assert row["id"] == aid and row["complaints"] == 3 and row["status"] == "overdue"
    actions.finish(aid, "done", now=NOW)
    with pytest.raises(ActionError, match="already done"):
        actions.finish(aid, "dropped")
    assert actions.listing("done")[0]["done_at"] == NOW.isoformat()


def test_faq_entries_are_the_teams_words() -> None:
    store = FakeStore()
    store.complaints[5] = Complaint(id=5)
    faq = Faq(_uow(store))
    with pytest.raises(FaqError, match="both"):
        faq.add("  ", "yes", "en", None, "anna")
    with pytest.raises(FaqError, match="no complaint #6"):
        faq.add("Q?", "A.", "en", 6, "anna")
    first = faq.add("Do you ship to Bornholm?", "Yes, in two days.", "da", 5, "anna")
    faq.add("Can I pay by card?", "Yes.", "en", None, "anna")
    assert [e.question for e in faq.entries("da")] == ["Do you ship to Bornholm?"]
    faq.remove(first)
    assert [e.language for e in faq.entries()] == ["en"]
    with pytest.raises(FaqError, match="no entry"):
        faq.remove(first)

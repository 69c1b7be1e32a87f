"""Dashboard logins: Argon2id password hashes (argon2-cffi), roles staff and manager.

A session cookie carries the login's epoch; logout, a new password and disabling bump it, so
every session made before ends at its next page, wherever its cookie was copied to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from storage.tables import WebUser
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from argon2 import PasswordHasher

ROLES = ("staff", "manager")
MIN_PASSWORD = 10


class UserError(ValueError):
    """A request about logins that cannot be done, in words for the person who asked."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    telegram_id: int | None
    epoch: int = 0  # the login's session epoch: a session made under another has ended

    @property
    def manager(self) -> bool:
        return self.role == "manager"


@cache
def _hasher() -> PasswordHasher:  # Argon2's set-up waits until a password is checked
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy() -> str:  # unknown names take as long as wrong passwords
    return _hasher().hash("a password nobody has")


def password_matches(stored: str, password: str) -> bool:
    """Argon2id check (CPU-bound, about 50 ms; argon2-cffi releases the GIL while it runs)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _user(row: WebUser) -> User:
    return User(row.id, row.name, row.role, row.telegram_id, row.session_epoch)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")


class Accounts:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self.uow = uow

    def add(self, name: str, password: str, role: str, telegram_id: int | None = None) -> User:
        name = name.strip()
        if role not in ROLES:
            raise UserError(f"a role is staff or manager (got {role!r})")
        if not name or len(name) > 64:
            raise UserError("a user name is 1 to 64 characters")
        _check_password(password)
        digest = _hasher().hash(password)  # before the transaction: it takes a while
        with self.uow() as uow:
            if uow.logins.by_name(name) is not None:
                raise UserError(f"there is already a user {name!r}")
            row = WebUser(name=name, password_hash=digest, role=role, telegram_id=telegram_id,
                          created_at=datetime.now(UTC), disabled=False, session_epoch=0)  # fmt: skip
            uow.logins.add(row)
            return _user(row)

    def set_password(self, name: str, password: str) -> None:
        _check_password(password)
        digest = _hasher().hash(password)
        with self.uow() as uow:
            row = uow.logins.by_name(name.strip(), lock=True)
            if row is None:
                raise UserError(f"no user {name!r}")
            row.password_hash = digest
            row.session_epoch += 1

    def set_disabled(self, name: str, disabled: bool) -> None:
        """A disabled login cannot log in, and its open sessions stop working at their next page."""
        with self.uow() as uow:
            row = uow.logins.by_name(name.strip(), lock=True)
            if row is None:
                raise UserError(f"no user {name!r}")
            row.disabled = disabled
            row.session_epoch += 1

    def end_sessions(self, user_id: int) -> None:
        """Logout: every session of this login ends, wherever its cookie was copied to."""
        with self.uow() as uow:
            row = uow.logins.get(user_id, lock=True)
            if row is not None:
                row.session_epoch += 1

    def verify(self, name: str, password: str) -> User | None:
        """The login if ``password`` is its password (a lookup, then the slow hash check)."""
        user, stored = self.lookup(name)
        return user if password_matches(stored, password) and user is not None else None

    def lookup(self, name: str) -> tuple[User | None, str]:
        """The enabled login of that name and its hash; an unknown or disabled name gets a dummy
        hash, so that checking it takes as long as a wrong password. Only a quick database read:
        the dashboard runs the hash check on threads of its own, never the journal's."""
        with self.uow() as uow:
            row = uow.logins.by_name(name.strip())
            if row is None or row.disabled:
                return None, _dummy()
            return _user(row), row.password_hash

    def listing(self) -> list[tuple[User, bool]]:
        """Every login by name, with whether it is disabled."""
        with self.uow() as uow:
            return [(_user(r), r.disabled) for r in uow.logins.every()]

    def get(self, user_id: int) -> User | None:
        """The enabled login of that id."""
        with self.uow() as uow:
            row = uow.logins.get(user_id)
            return None if row is None or row.disabled else _user(row)

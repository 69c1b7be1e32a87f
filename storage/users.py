"""Dashboard logins: Argon2id password hashes (argon2-cffi), roles staff and manager."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import WebUser

ROLES = ("staff", "manager")
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("a password nobody has")  # unknown names take as long as wrong passwords


class UserError(ValueError):
    pass


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


class SqlUsers:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def add(self, name: str, password: str, role: str, telegram_id: int | None = None) -> User:
        name = name.strip()
        if role not in ROLES:
            raise UserError(f"a role is staff or manager (got {role!r})")
        if not name or len(name) > 64:
            raise UserError("a user name is 1 to 64 characters")
        if len(password) < 10:
            raise UserError("a password has at least 10 characters")
        with self.sessions.begin() as session:
            if session.scalar(select(WebUser.id).where(WebUser.name == name)) is not None:
                raise UserError(f"there is already a user {name!r}")
            row = WebUser(name=name, password_hash=_hasher.hash(password), role=role, telegram_id=telegram_id,
                          created_at=datetime.now(UTC), disabled=False)  # fmt: skip
            session.add(row)
            session.flush()
            return _user(row)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 10:
            raise UserError("a password has at least 10 characters")
        with self.sessions.begin() as session:
            row = session.scalar(select(WebUser).where(WebUser.name == name.strip()))
            if row is None:
                raise UserError(f"no user {name!r}")
            row.password_hash = _hasher.hash(password)
            row.session_epoch += 1

    def set_disabled(self, name: str, disabled: bool) -> None:
        """A disabled login cannot log in, and its open sessions stop working at their next page."""
        with self.sessions.begin() as session:
            row = session.scalar(select(WebUser).where(WebUser.name == name.strip()))
            if row is None:
                raise UserError(f"no user {name!r}")
            row.disabled = disabled
            row.session_epoch += 1

    def end_sessions(self, user_id: int) -> None:
        """Logout: every session of this login ends, wherever its cookie was copied to."""
        with self.sessions.begin() as session:
            row = session.get(WebUser, user_id)
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
        with self.sessions() as session:
            row = session.scalar(select(WebUser).where(WebUser.name == name.strip()))
            if row is None or row.disabled:
                return None, _DUMMY
            return _user(row), row.password_hash

    def listing(self) -> list[tuple[User, bool]]:
        """Every login by name, with whether it is disabled."""
        with self.sessions() as session:
            return [(_user(r), r.disabled) for r in session.scalars(select(WebUser).order_by(WebUser.name))]

    def get(self, user_id: int) -> User | None:
        with self.sessions() as session:
            row = session.get(WebUser, user_id)
            if row is None or row.disabled:
                return None
            return _user(row)


def _user(row: WebUser) -> User:
    return User(row.id, row.name, row.role, row.telegram_id, row.session_epoch)


def password_matches(stored: str, password: str) -> bool:
    """Argon2id check (CPU-bound, about 50 ms; argon2-cffi releases the GIL while it runs)."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False

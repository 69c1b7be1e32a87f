"""Login throttling: failed dashboard logins counted in a moving window, per name and per client
address. A login in flight holds a place in both counts until its check is done, so a burst of
parallel guesses is held to the limit as surely as guesses one after another."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import timedelta

Key = tuple[str, str]
SWEEP_EVERY = 1000  # logins between sweeps of keys whose failures have all left the window


class LoginThrottle:
    """More than ``attempts`` failures for one name, or from one address, within ``window``
    close the door for both until the oldest of them leaves the window."""

    def __init__(self, attempts: int, window: timedelta, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window.total_seconds(), clock
        self._failures: dict[Key, deque[float]] = {}
        self._pending: Counter[Key] = Counter()
        self._lock = threading.Lock()
        self._calls = 0

    @staticmethod
    def _keys(name: str, address: str) -> tuple[Key, Key]:
        return ("name", name.strip().casefold()[:64]), ("address", address)

    def _recent(self, key: Key, now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def begin(self, name: str, address: str) -> int | None:
        """None and a place held when this login may be checked now (call ``end`` after it);
        else the seconds to wait (for Retry-After)."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            waits = []
            for key in self._keys(name, address):
                failures = self._recent(key, now)
                if len(failures) + self._pending[key] >= self.attempts:
                    oldest = failures[0] if failures else now
                    waits.append(oldest + self.window - now)
            if waits:
                return max(math.ceil(max(waits)), 1)
            self._pending.update(self._keys(name, address))
            return None

    def end(self, name: str, address: str, *, ok: bool) -> None:
        """The check is done: a failure counts for both; the right password clears the name's."""
        now = self.clock()
        name_key, address_key = self._keys(name, address)
        with self._lock:
            self._pending.subtract((name_key, address_key))
            self._pending += Counter()  # drop the zeros
            if ok:
                self._failures.pop(name_key, None)
                return
            for key in (name_key, address_key):
                self._failures.setdefault(key, deque()).append(now)

    def _sweep(self, now: float) -> None:
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:
            for key in list(self._failures):
                self._recent(key, now)

"""Login throttling: failed dashboard logins counted in a moving window, per name and per client
address (the ``limits`` library's moving window over its in-process memory storage)."""

from __future__ import annotations

import math
import time
from datetime import timedelta

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class LoginThrottle:
    """More than ``attempts`` failures for one name, or from one address, within ``window``
    close the door for both until the oldest of them leaves the window."""

    def __init__(self, attempts: int, window: timedelta) -> None:
        self.item = RateLimitItemPerSecond(attempts, max(int(window.total_seconds()), 1))
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def _keys(self, name: str, address: str) -> tuple[tuple[str, str], ...]:
        return ("name", name.strip().casefold()[:64]), ("address", address)

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until a login for ``name`` from ``address`` may be tried, or None if it may now."""
        waits = [
            self.limiter.get_window_stats(self.item, *key).reset_time - time.time()
            for key in self._keys(name, address)
            if not self.limiter.test(self.item, *key)
        ]
        return max(math.ceil(max(waits)), 1) if waits else None

    def failed(self, name: str, address: str) -> None:
        for key in self._keys(name, address):
            self.limiter.hit(self.item, *key)

    def succeeded(self, name: str) -> None:
        """The right password: that name's count starts again (the address's stays)."""
        self.limiter.clear(self.item, *self._keys(name, "")[0])

"""Failed tries (logins, vote codes) counted per key within a sliding window: the login page, the hub and the
phone ballot page share it, and none of them imports another for it."""
from __future__ import annotations

import time
from collections import defaultdict, deque

LOGIN_FAILURES = 5  # failed logins allowed per account within LOGIN_WINDOW seconds
ADDRESS_FAILURES = 30  # per address: higher, since a whole office may share one address
LOGIN_WINDOW = 600


class Throttle:
    """Failed logins per key (account name, address) within a sliding window."""

    def __init__(self, limit: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, deque] = defaultdict(deque)

    def wait(self, *keys: str, now: float | None = None) -> float:
        """Seconds until another try is allowed (0 when it is)."""
        now = now if now is not None else time.monotonic()
        longest = 0.0
        for key in keys:
            times = self.failures[key]
            while times and now - times[0] > self.window:
                times.popleft()
            if len(times) >= self.limit:
                longest = max(longest, self.window - (now - times[0]))
        return longest

    def fail(self, *keys: str, now: float | None = None) -> None:
        now = now if now is not None else time.monotonic()
        for key in keys:
            self.failures[key].append(now)

    def clear(self, key: str) -> None:
        self.failures.pop(key, None)

"""Failed tries (logins, vote codes) counted per key within a sliding window: the login page, the hub and the
phone ballot page share it, and none of them imports another for it."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

LOGIN_FAILURES = 5  # failed logins allowed per account within LOGIN_WINDOW seconds
ADDRESS_FAILURES = 30  # per address: higher, since a whole office may share one address
LOGIN_WINDOW = 600


class Throttled(Exception):
    """Too many failed tries: ``wait`` seconds until the next one is allowed."""

    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


class Throttle:
    """Failed logins per key (account name, address) within a sliding window."""

    def __init__(self, limit: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.RLock()  # the hub checks passwords in worker threads

    def wait(self, *keys: str, now: float | None = None) -> float:
        """Seconds until another try is allowed (0 when it is)."""
        now = now if now is not None else time.monotonic()
        longest = 0.0
        with self._lock:
            for key in keys:
                times = self.failures[key]
                while times and now - times[0] > self.window:
                    times.popleft()
                if len(times) >= self.limit:
                    longest = max(longest, self.window - (now - times[0]))
        return longest

    def fail(self, *keys: str, now: float | None = None) -> None:
        now = now if now is not None else time.monotonic()
        with self._lock:
            for key in keys:
                self.failures[key].append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self.failures.pop(key, None)

    def take(self, *keys: str, now: float | None = None) -> float:
        """Admit one try, counted as a failure from now on (``give_back`` when it did not fail); raises Throttled
        when any key is at its limit. Checking and counting are one step, so tries made at the same time cannot
        all pass the check before any of them is counted."""
        now = now if now is not None else time.monotonic()
        with self._lock:
            wait = self.wait(*keys, now=now)
            if wait > 0:
                raise Throttled(wait)
            self.fail(*keys, now=now)
        return now

    def give_back(self, taken: float, *keys: str) -> None:
        """The try admitted at ``taken`` did not fail: it no longer counts."""
        with self._lock:
            for key in keys:
                try:
                    self.failures[key].remove(taken)
                except ValueError:  # dropped from the window or cleared meanwhile
                    pass


class LoginGate:
    """Failed logins per account and per source address, checked and counted together."""

    def __init__(self) -> None:
        self.accounts = Throttle()
        self.addresses = Throttle(limit=ADDRESS_FAILURES)
        self._lock = threading.Lock()

    def take(self, account: str, address: str) -> float:
        """Admit one login try for ``account`` from ``address`` (see ``Throttle.take``)."""
        with self._lock:
            now = time.monotonic()
            wait = max(self.accounts.wait(account, now=now), self.addresses.wait(address, now=now))
            if wait > 0:
                raise Throttled(wait)
            self.accounts.fail(account, now=now)
            self.addresses.fail(address, now=now)
        return now

    def passed(self, taken: float, account: str, address: str) -> None:
        """The try admitted at ``taken`` logged in: the account starts afresh and the address is not charged."""
        with self._lock:
            self.accounts.clear(account)
            self.addresses.give_back(taken, address)

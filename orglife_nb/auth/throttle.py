"""Failed tries (logins, vote codes) counted per key within a sliding window: the login page, the hub and the
phone ballot page share it, and none of them imports another for it."""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict, deque

LOGIN_FAILURES = 5  # failed logins allowed per account within LOGIN_WINDOW seconds
ADDRESS_FAILURES = 30  # per address: higher, since a whole office may share one address
LOGIN_WINDOW = 600


class Throttled(Exception):
    """Too many failed tries: ``wait`` seconds until the next one is allowed."""

    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


class Throttle:
    """Failed tries per key (account name, address) within a sliding window, and the tries still undecided."""

    def __init__(self, limit: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, deque] = defaultdict(deque)
        self.pending: Counter[str] = Counter()
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

    def room(self, *keys: str) -> bool:
        """Whether every key has room for one more try even if all undecided ones fail."""
        with self._lock:
            return all(len(self.failures[key]) + self.pending[key] < self.limit for key in keys)

    def take(self, *keys: str) -> bool:
        """Admit one try (``settle`` it when it is decided): raises Throttled when the failures fill the limit;
        False, admitting nothing, while the tries still undecided could fill it (ask again when they are
        settled). Checking and counting are one step: tries made at once cannot all pass the check before any
        of them is counted, so no more than the limit are ever checked."""
        with self._lock:
            wait = self.wait(*keys)
            if wait > 0:
                raise Throttled(wait)
            if not self.room(*keys):
                return False
            self.pending.update(keys)
            return True

    def settle(self, *keys: str, failed: bool) -> None:
        """A try admitted by ``take`` is decided: it failed (and counts) or not."""
        with self._lock:
            for key in keys:
                self.pending[key] -= 1
                if self.pending[key] <= 0:
                    del self.pending[key]
            if failed:
                self.fail(*keys)


class LoginGate:
    """Failed logins per account and per source address, checked and counted together."""

    def __init__(self) -> None:
        self.accounts = Throttle()
        self.addresses = Throttle(limit=ADDRESS_FAILURES)
        self._lock = threading.Lock()

    def take(self, account: str, address: str) -> bool:
        """Admit one login try for ``account`` from ``address`` (as ``Throttle.take``)."""
        with self._lock:
            wait = max(self.accounts.wait(account), self.addresses.wait(address))
            if wait > 0:
                raise Throttled(wait)
            if not (self.accounts.room(account) and self.addresses.room(address)):
                return False
            self.accounts.pending[account] += 1  # both under this gate's lock: one step
            self.addresses.pending[address] += 1
            return True

    def settle(self, account: str, address: str, *, failed: bool) -> None:
        """The try is decided; a login that succeeded starts the account afresh."""
        with self._lock:
            self.accounts.settle(account, failed=failed)
            self.addresses.settle(address, failed=failed)
            if not failed:
                self.accounts.clear(account)

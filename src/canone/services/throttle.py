"""Sign-in throttling: growing waits after repeated wrong passwords, counted per account
(the email typed) and per client address.

A few failures are free (people mistype); after that each failure closes the door for a
wait that doubles, up to a cap, and every attempt while it is closed is refused before any
password is checked, the right one included, so guessing is slow and costs no argon2
work. A success clears the account's count, not the address's: otherwise signing in to
one's own account between guesses would reset it. Failures older than `FORGET_AFTER`
no longer count.

The counts live in this process's memory (bounded by `capacity`): a restart forgets
them, and each `canone serve --workers` process keeps its own.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from canone.services.ports import Clock


@dataclass(frozen=True)
class Rule:
    free_failures: int  # this many failures in a row close the door for `first_wait`
    first_wait: timedelta
    longest_wait: timedelta

    def wait_after(self, failures: int) -> timedelta:
        """The wait after the n-th failure in a row: none, then the first, doubling, capped."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 20)
        return min(self.first_wait * (1 << doublings), self.longest_wait)


# Many people may share one address (an office behind NAT): it gets more free failures.
PER_ACCOUNT = Rule(5, timedelta(minutes=1), timedelta(minutes=15))
PER_ADDRESS = Rule(20, timedelta(minutes=1), timedelta(minutes=15))
FORGET_AFTER = timedelta(hours=1)


@dataclass
class _Failures:
    count: int
    last: datetime
    closed_until: datetime


def address_key(host: str) -> str:
    """An IPv6 client is counted by its /64 (one machine often holds a whole /64)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class SignInThrottle:
    def __init__(self, clock: Clock, capacity: int = 50_000,
                 per_account: Rule = PER_ACCOUNT, per_address: Rule = PER_ADDRESS) -> None:
        self.clock = clock
        self.capacity = capacity
        self.rules = {"account": per_account, "address": per_address}
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, email: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("account", email.strip().lower()), ("address", address_key(address))

    def seconds_to_wait(self, email: str, address: str) -> int:
        """0 when this attempt may go ahead; else the whole seconds until it may."""
        now = self.clock.now()
        with self._lock:
            found = [self._failures.get(key) for key in self._keys(email, address)]
        closed = max((f.closed_until for f in found if f is not None), default=now)
        return max(0, math.ceil((closed - now).total_seconds()))

    def failed(self, email: str, address: str) -> None:
        now = self.clock.now()
        with self._lock:
            for key in self._keys(email, address):
                failures = self._failures.pop(key, None)
                if failures is None or now - failures.last >= FORGET_AFTER:
                    failures = _Failures(0, now, now)
                failures.count += 1
                failures.last = now
                failures.closed_until = now + self.rules[key[0]].wait_after(failures.count)
                self._failures[key] = failures  # the newest at the end
            while len(self._failures) > self.capacity:
                self._failures.popitem(last=False)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(("account", email.strip().lower()), None)

"""The stored Idempotency-Key records of the API: claiming a key, keeping a response,
replaying it, renewing the lease of a request that still runs, and purging old records.

A record whose `status_code` is IN_PROGRESS is a claim: its request still runs (or died, if
its lease stopped being renewed). The HTTP side (fingerprints, waiting, replays) is the web
layer's; here each step is one transaction, except a claim that rides along (`Ride`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from canone.services.context import Services
from canone.services.errors import Conflict
from canone.services.records import IdempotencyRecord
from canone.services.store import Store

IN_PROGRESS = 0  # the status code of a claimed key whose request still runs


class KeyTaken(Exception):
    """The key a ride was to claim is held by another request (running, finished or dead):
    the transaction that carried the claim is rolled back, nothing it did is kept."""


class Ride:
    """An Idempotency-Key claim carried by the request's own first committed write
    transaction instead of one of its own: the placeholder is inserted as that
    transaction's first statement, so a concurrent request with the key waits on it there
    and then finds it taken (`KeyTaken`). A transaction that rolls back takes its claim
    with it, and the next one carries it again. The request's response may be stored by
    its last transaction too (`answer`), when the caller gave a way to render it.

    A request that changes nothing (`keeps`: a preview) claims nothing; its answer is
    stored by its read transaction, which is then a write transaction that commits, unless
    the key is taken (`earlier`, the record that holds it).

    A database whose `transaction()` and `read()` honour rides says so with
    `carries_rides = True` and calls `board` when a transaction begins (`keeping` for a
    read) and `committed` after it commits."""

    def __init__(self, placeholder: IdempotencyRecord, keeps: bool = False) -> None:
        self.placeholder = placeholder
        self.keeps = keeps
        self.earlier: IdempotencyRecord | None = None  # what held the key a keep found
        self.claimed = False  # committed
        self.answer: tuple[int, bytes] | None = None  # stored, committed
        self.render: Callable[[Any], tuple[int, bytes]] | None = None
        self._claiming = False
        self._answering: tuple[int, bytes] | None = None

    def board(self, store: Store) -> None:
        """At the start of a write transaction: the claim, when not yet committed."""
        self._claiming, self._answering = not (self.claimed or self.keeps), None
        if self._claiming:
            try:
                store.access.save_idempotency(self.placeholder)
            except Conflict:
                raise KeyTaken(self.placeholder.key) from None

    def respond(self, store: Store, result: object) -> None:
        """Store the response rendered from `result` in `store`'s transaction."""
        if self.render is None:
            return
        status, body = self.render(result)
        p = self.placeholder
        record = IdempotencyRecord(p.scope, p.key, p.fingerprint, status, body, p.created_at)
        if not self.keeps:
            store.access.finish_idempotency(record)
        else:
            try:
                store.access.save_idempotency(record)
            except Conflict:
                self.earlier = store.access.get_idempotency(p.scope, p.key)
                return
        self._answering = (status, body)

    @property
    def keeping(self) -> bool:
        """Whether a read transaction must be able to write (and commit) the answer."""
        return self.keeps and self.render is not None and self.answer is None

    def committed(self) -> None:
        self.claimed = self.claimed or self._claiming
        self.answer = self._answering or self.answer
        self._claiming, self._answering = False, None


_RIDE: ContextVar[Ride | None] = ContextVar("canone_idempotency_ride", default=None)


def ride() -> Ride | None:
    """The claim the transactions of this request carry, if any."""
    return _RIDE.get()


@contextmanager
def riding(placeholder: IdempotencyRecord, keeps: bool = False) -> Iterator[Ride]:
    """Within the block, the first committed write transaction claims the key (`keeps`:
    no claim, the answer is kept by the transaction that answers)."""
    current = Ride(placeholder, keeps)
    token = _RIDE.set(current)
    try:
        yield current
    finally:
        _RIDE.reset(token)


def answer(store: Store, result: object) -> None:
    """In the request's last transaction: store its response, rendered from the service's
    `result` by the ride's `render`, with the changes it answers for (no transaction of
    its own after them). Nothing without a ride or a render."""
    current = _RIDE.get()
    if current is not None:
        current.respond(store, result)


def claim(svc: Services, placeholder: IdempotencyRecord, dead_after: timedelta
          ) -> tuple[IdempotencyRecord | None, bool]:
    """Claim the key of `placeholder` (an IN_PROGRESS record): (None, whether it was taken
    over from a request that died: no lease renewed for `dead_after`) when claimed; else
    (the record that holds the key, False). A record of another request (its fingerprint
    differs) is returned untouched, for the caller to refuse."""
    with svc.database.transaction() as store:
        try:
            store.access.save_idempotency(placeholder)
            return None, False
        except Conflict:
            record = store.access.get_idempotency(placeholder.scope, placeholder.key, lock=True)
        if record is None:  # released meanwhile: claim it now
            store.access.save_idempotency(placeholder)
            return None, False
        if record.fingerprint != placeholder.fingerprint:
            return record, False
        if (record.status_code == IN_PROGRESS
                and record.created_at < placeholder.created_at - dead_after):
            store.access.drop_idempotency(record.scope, record.key)  # its request died
            store.access.save_idempotency(placeholder)
            return None, True
        return record, False


def keep(svc: Services, record: IdempotencyRecord) -> IdempotencyRecord | None:
    """Store the response of a request that changes nothing, unless its key is taken: None
    when stored (or released meanwhile), else the record that holds the key."""
    with svc.database.transaction() as store:
        try:
            store.access.save_idempotency(record)
            return None
        except Conflict:
            return store.access.get_idempotency(record.scope, record.key)


def stored(svc: Services, scope: str, key: str) -> IdempotencyRecord | None:
    with svc.database.read() as store:
        return store.access.get_idempotency(scope, key)


def finish(svc: Services, record: IdempotencyRecord) -> None:
    """Store the response (status, body) of the request that claimed the key."""
    with svc.database.transaction() as store:
        store.access.finish_idempotency(record)


def renew(svc: Services, scope: str, key: str, at: datetime) -> None:
    """Renew the lease of a claim whose request still runs."""
    with svc.database.transaction() as store:
        store.access.renew_idempotency(scope, key, at)


def release(svc: Services, scope: str, key: str) -> None:
    with svc.database.transaction() as store:
        store.access.drop_idempotency(scope, key)


def purge(svc: Services, before: datetime) -> int:
    """Delete the records created before `before`: how many."""
    with svc.database.transaction() as store:
        return store.access.purge_idempotency(before)

"""The stored Idempotency-Key records of the API: claiming a key, keeping a response,
replaying it, renewing the lease of a request that still runs, and purging old records.

A record whose `status_code` is IN_PROGRESS is a claim: its request still runs (or died, if
its lease stopped being renewed). The HTTP side (fingerprints, waiting, replays) is the web
layer's; here each step is one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from canone.services.context import Services
from canone.services.errors import Conflict
from canone.services.records import IdempotencyRecord

IN_PROGRESS = 0  # the status code of a claimed key whose request still runs


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

"""What every use case needs: the ports, the catalog, the secret and how each kind of
payment intent is settled; plus small helpers for ids, local dates and the records every
change writes (audit, events, emails)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from canone.billing.catalog import Catalog
from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration
from canone.billing.seller import Seller
from canone.services.einvoicing import EInvoicing
from canone.services.payloads import Settled
from canone.services.ports import ChargeResult, Clock, InvoiceRenderer, PaymentGateway
from canone.services.records import Account, AuditEntry, Event, PaymentIntent, Subscription
from canone.services.store import Database, Notification, Store
from canone.services.vies import Vies

UTC = UTC


# What settling a payment intent does once its charge succeeded (inside the settling
# transaction; returns the result stored for replays) or failed (record it; notify).
Completion = Callable[["Services", Store, PaymentIntent, ChargeResult], Settled]
Failure = Callable[["Services", Store, PaymentIntent, ChargeResult], None]


# What is left to do once the settling transaction committed, outside it (a call to the
# payment provider: a stale change's refund); given the intent's key, run by `settle` for a
# result that gives money back (`Settled.credited`) each time the intent is settled or found
# settled, so it must do its work once.
Afterwards = Callable[["Services", str], None]
# Whether a pending intent can no longer buy what it was opened for (a plan change whose
# quote went stale): reconciliation cancels it at the provider while it is still open.
Stale = Callable[["Services", PaymentIntent], bool]


@dataclass(frozen=True)
class Settlement:
    complete: Completion
    fail: Failure
    afterwards: Afterwards | None = None
    stale: Stale | None = None


@dataclass(frozen=True)
class Services:
    database: Database
    clock: Clock
    gateway: PaymentGateway
    catalog: Catalog
    secret_key: str
    # Purpose of a payment intent ("change", "signup", "invoice") -> how it is settled.
    # Given, not registered by the use-case modules as they are imported: `canone payments
    # reconcile` must settle every purpose whatever it imported (bootstrap.settlements()).
    settlements: Mapping[str, Settlement] = field(compare=False, repr=False)
    renderer: InvoiceRenderer = field(compare=False, repr=False)  # invoice PDFs
    vies: Vies | None = None  # None: VAT ids are never confirmed (no reverse charge)
    # The selling company (SPEC §8): it decides the tax of every document. None only where
    # canone runs without one (libraries, tests of §4's net amounts): documents stay net.
    seller: Seller | None = None
    einvoicing: EInvoicing | None = None  # None: no FatturaPA files are made (SPEC §8)
    # How many of a batch's calls to the payment provider are in flight at once: a real
    # provider answers each in 100-500 ms, so one after another a batch of 500 takes minutes.
    # One for the sandbox, whose file takes calls one at a time anyway (a lock).
    charges_in_flight: int = 1

    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def one_read(self) -> AbstractContextManager[object]:
        """The reads of the use cases called inside it share one (`Database.read`): a page
        asked at every request (the live quote) signs in and reads its data on one
        connection. A use case that writes inside it still commits on its own."""
        return self.database.read()


def new_id(prefix: str) -> str:
    # What secrets.token_hex(8) returns (os.urandom, in hex) without its three calls in
    # between: a renewal takes a dozen ids.
    return f"{prefix}_{os.urandom(8).hex()}"


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


# Failed collection is retried on days 3, 5 and 7 of the invoice (day 1 = issue day, SPEC §5).
RETRY_AFTER_DAYS = (2, 4, 6)


def retry_days(issued_at: datetime, tz: str) -> list[date]:
    """The days an invoice issued at `issued_at` is charged again after a failed payment
    (SPEC §5), in the account's calendar; one past when the failure is known is due at once."""
    return [local_date(issued_at + timedelta(days=days), tz) for days in RETRY_AFTER_DAYS]


def local_midnight(day: date, tz: str) -> datetime:
    """The UTC instant at which `day` begins in time zone `tz`."""
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def today(svc: Services, account: Account) -> date:
    return local_date(svc.now(), account.timezone)


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "configuration": config_to_json(sub.config),
        "anchor": sub.anchor.isoformat(),
        "period": {"start": sub.period_start.isoformat(), "end": sub.period_end.isoformat()},
        "status": sub.status,
        "pending": None if sub.pending is None else config_to_json(sub.pending),
        "cancel_at_period_end": sub.cancel_at_period_end,
        "version": sub.version,
    }


def config_json(config: Configuration | None) -> dict[str, Any] | None:
    return None if config is None else config_to_json(config)


def record_change(
    svc: Services,
    store: Store,
    *,
    account_id: str,
    actor: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    event: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """The audit entry and (optionally) the event of one state change, in its transaction."""
    now = svc.now()
    store.audit.add(AuditEntry(new_id("aud"), account_id, actor, action, before, after, now))
    if event is not None:
        store.outbox.add_event(Event(new_id("evt"), event, account_id, data or after or {}, now))


def notify(
    svc: Services, store: Store, account: Account, to: str, kind: str, data: dict[str, Any]
) -> None:
    store.outbox.add_notification(
        Notification(new_id("ntf"), account.id, to, kind, account.locale, data, svc.now())
    )


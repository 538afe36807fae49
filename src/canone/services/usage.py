"""Usage reported by the host product, limits, warnings, auto-upgrade and entitlements
(SPEC §6)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date

from canone.billing.entitlements import features
from canone.billing.errors import InvalidField
from canone.billing.pricing import CUSTOM, price
from canone.services import quotes, subscriptions
from canone.services.access import SYSTEM_ACTOR, Actor, load_account
from canone.services.context import Services, record_change
from canone.services.errors import PaymentFailed, PaymentPending, ServiceError
from canone.services.records import PAST_DUE, Account, Usage
from canone.services.store import Store

THRESHOLDS = (75, 90, 100)


@dataclass(frozen=True)
class Entitlements:
    features: tuple[str, ...]
    contacts_limit: int | None
    seats: int
    contacts: int
    active_users: int
    restricted: bool  # unpaid: read-only except billing


@dataclass(frozen=True)
class UsageReport:
    usage: Usage
    thresholds_reached: tuple[int, ...]
    auto_upgraded_to: int | None  # the new contact limit, when auto-upgrade ran


def _whole(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidField(field, "must be a whole number of at least 0")
    return value


def report(svc: Services, actor: Actor, account_id: str, contacts: object,
           active_users: object) -> UsageReport:
    usage = Usage(account_id, _whole(contacts, "contacts"), _whole(active_users, "active_users"),
                  svc.now())
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id)
        store.usage.save(usage)
        sub = subscriptions.current(svc, store, account)
    upgraded = None
    limit = sub.config.contacts
    # A past-due account buys nothing until it pays (standing.refuse_purchase_while_past_due).
    if (account.auto_upgrade and account.status != PAST_DUE and limit is not None
            and usage.contacts > limit):
        upgraded = _auto_upgrade(svc, account, usage.contacts)
    with svc.database.transaction() as store:
        sub = subscriptions.current(svc, store, account)
        reached = _warn(svc, store, account, sub.period_start, sub.config.contacts, usage)
    return UsageReport(usage, reached, upgraded)


def _auto_upgrade(svc: Services, account: Account, contacts: int) -> int | None:
    """The smallest contact step that holds the usage, bought at once; never a custom price."""
    step = next((s for s in svc.catalog.contact_steps if s >= contacts), None)
    if step is None:
        return None
    with svc.database.read() as store:
        sub = subscriptions.current(svc, store, account)
    target = sub.config.with_(contacts=step)
    if price(svc.catalog, target).status == CUSTOM:
        return None
    quote = quotes.preview(svc, SYSTEM_ACTOR, account.id, target)
    if quote.token is None:
        return None
    with suppress(PaymentFailed, PaymentPending):  # the failure is recorded and emailed
        quotes.confirm(svc, SYSTEM_ACTOR, account.id, quote.token)
        return step
    return None


def _warn(svc: Services, store: Store, account: Account, period_start: date,
          limit: int | None, usage: Usage) -> tuple[int, ...]:
    """Note every threshold the usage crossed for the first time this period (an audit
    entry and an event each) and email the highest of them alone, with the usage as it is:
    thresholds crossed at one moment are one piece of news."""
    if not limit:
        return ()
    reached = tuple(threshold for threshold in THRESHOLDS
                    if usage.contacts * 100 >= threshold * limit
                    and store.usage.note_threshold(account.id, period_start, threshold))
    for threshold in reached:
        data: dict[str, object] = {
            "threshold": threshold, "contacts": usage.contacts, "limit": limit}
        record_change(svc, store, account_id=account.id, actor="system",
                      action="usage.threshold_reached", before=None, after=data,
                      event="usage.threshold_reached")
    if reached:
        subscriptions.notify_admin(svc, store, account, "usage_threshold", {
            "threshold": reached[-1], "contacts": usage.contacts, "limit": limit})
    return reached


def entitlements(svc: Services, actor: Actor, account_id: str) -> Entitlements:
    with svc.database.read() as store:
        account = load_account(store, actor, account_id)
        sub = store.subscriptions.of_account(account_id)
        if sub is None:
            raise ServiceError("the account has no subscription")
        usage = store.usage.of_account(account_id)
        active = quotes.active_users(store, account_id)
    granted = features(svc.catalog, sub.config) if sub.status != "cancelled" else frozenset()
    return Entitlements(
        features=tuple(sorted(granted)), contacts_limit=sub.config.contacts,
        seats=sub.config.seats, contacts=usage.contacts if usage else 0, active_users=active,
        restricted=account.status == PAST_DUE)


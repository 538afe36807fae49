"""What each console page shows, read in one transaction and priced with the billing core.

The pages are for support staff only: every function here checks the actor first, as the
services do, so a route that forgot its guard would still refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from canone.billing.adjustments import applied_now
from canone.billing.changes import Change, plan_change
from canone.billing.configuration import Configuration
from canone.billing.errors import InvalidField
from canone.billing.pricing import CUSTOM, Price, price
from canone.services import requests
from canone.services.access import Actor, require_staff
from canone.services.billing_details import card_country_mismatch
from canone.services.context import Services, local_date
from canone.services.errors import NotFound
from canone.services.records import (
    CANCELLED,
    Account,
    AccountBillingDetails,
    AuditEntry,
    ChangeRequest,
    Invoice,
    LedgerEntry,
    Subscription,
    Usage,
    User,
)
from canone.services.requests import IN_PROGRESS, OPEN
from canone.web.auth import reading
from canone.web.console.labels import ACTIVE, ALL, FILTERS
from canone.web.i18n import N_

PAGE = 50
ACTIVE_LIMIT = 200  # "open and in progress" is one list, not paged


@dataclass(frozen=True)
class QueueRow:
    request: ChangeRequest
    account: Account | None


@dataclass(frozen=True)
class Queue:
    status: str  # one of labels.FILTERS
    rows: list[QueueRow]
    next_after: str | None  # the cursor of the next page, when there is one


def queue(svc: Services, actor: Actor, status: str, after: str | None) -> Queue:
    """The requests queue, oldest first, filtered by status."""
    status = status if status in FILTERS else ACTIVE
    if status == ACTIVE:
        found = [*requests.queue(svc, actor, OPEN, ACTIVE_LIMIT),
                 *requests.queue(svc, actor, IN_PROGRESS, ACTIVE_LIMIT)]
        found.sort(key=lambda r: (r.created_at, r.id))
        more = None
    else:
        found = requests.queue(svc, actor, None if status == ALL else status, PAGE + 1, after)
        more = found[PAGE - 1].id if len(found) > PAGE else None
        found = found[:PAGE]
    with reading(svc) as store:
        accounts = {i: store.get_account(i) for i in {r.account_id for r in found}}
    return Queue(status, [QueueRow(r, accounts[r.account_id]) for r in found], more)


@dataclass(frozen=True)
class Pricing:
    """The desired change, priced: what applying it now or at period end would do."""

    desired: Price
    classified: Change  # as self-serve sees it: kind, reasons, features lost and gained
    now: Change | None  # applied at once with credit; None when it cannot be
    period_end: date  # when "at period end" takes effect


@dataclass(frozen=True)
class RequestDetail:
    request: ChangeRequest
    account: Account
    subscription: Subscription | None
    current: Price | None
    pricing: Pricing | None
    today: date
    balance: int
    credited: LedgerEntry | None  # the credit "apply now" granted, once applied
    problem: str | None  # why the desired change cannot be applied now (a msgid)

    @property
    def actionable(self) -> bool:
        return self.request.status in (OPEN, IN_PROGRESS)

    @property
    def can_apply(self) -> bool:
        """Apply buttons: an open or taken request whose sender is known and whose change
        can be priced. A request that came by email must be taken first."""
        return (self.actionable and self.request.desired is not None and self.problem is None
                and (self.request.verified or self.request.status == IN_PROGRESS))


def request_detail(svc: Services, actor: Actor, request_id: str) -> RequestDetail:
    require_staff(actor, "see change requests")
    request = requests.get(svc, actor, request_id)
    with reading(svc) as store:
        account = store.get_account(request.account_id)
        if account is None:
            raise NotFound(f"no account {request.account_id}")
        sub = store.subscription_of(account.id)
        balance = store.balance_of(account.id)
        credited = next((e for e in store.ledger_of(account.id)
                         if e.amount > 0 and e.description.endswith(request.id)), None)
    day = local_date(svc.now(), account.timezone)
    current = price(svc.catalog, sub.config) if sub is not None else None
    pricing, problem = None, None
    if sub is None or sub.status == CANCELLED:
        problem = N_("The subscription was cancelled: there is nothing to change.")
    elif day >= sub.period_end:
        problem = N_("The subscription is due for renewal: run billing, then apply the "
                     "change.")
    if request.desired is not None and sub is not None:
        pricing = _price_change(svc, sub, request.desired, day)
        if pricing is None or pricing.desired.status == CUSTOM:
            problem = problem or N_("The desired plan has a custom price: agree it with "
                                    "sales and set it up in the catalog first.")
    return RequestDetail(request, account, sub, current, pricing, day, balance, credited,
                         problem)


def _price_change(svc: Services, sub: Subscription, desired: Configuration, day: date
                  ) -> Pricing | None:
    try:
        classified = plan_change(svc.catalog, sub.config, desired, sub.anchor, day)
    except InvalidField:
        return None
    target = price(svc.catalog, desired)
    now = None
    if target.status != CUSTOM and price(svc.catalog, sub.config).status != CUSTOM:
        now = applied_now(svc.catalog, sub.config, desired, sub.anchor, day)
    return Pricing(target, classified, now, sub.period_end)


@dataclass(frozen=True)
class AccountView:
    account: Account
    users: list[User]
    subscription: Subscription | None
    current: Price | None
    pending: Price | None
    usage: Usage | None
    invoices: list[Invoice]
    ledger: list[LedgerEntry]  # newest first
    balance: int
    requests: list[ChangeRequest]
    audit: list[AuditEntry]
    billing: AccountBillingDetails | None = None  # SPEC §8; None until saved

    @property
    def card_country_mismatch(self) -> bool:
        return self.billing is not None and card_country_mismatch(self.billing)


def find_accounts(svc: Services, actor: Actor, text: str, after: str | None
                  ) -> tuple[list[tuple[Account, Subscription | None]], str | None]:
    """Accounts whose name, id or a user's email contains `text`, with their subscription;
    and the cursor of the next page."""
    require_staff(actor, "search accounts")
    with reading(svc) as store:
        found = store.find_accounts(text.strip() or None, PAGE + 1, after)
        more = found[PAGE - 1].id if len(found) > PAGE else None
        return [(a, store.subscription_of(a.id)) for a in found[:PAGE]], more


def account_view(svc: Services, actor: Actor, account_id: str, audit_limit: int = 100
                 ) -> AccountView:
    require_staff(actor, "see accounts")
    with reading(svc) as store:
        account = store.get_account(account_id)
        if account is None:
            raise NotFound(f"no account {account_id}")
        sub = store.subscription_of(account_id)
        return AccountView(
            account=account, users=store.users_of(account_id), subscription=sub,
            current=price(svc.catalog, sub.config) if sub else None,
            pending=price(svc.catalog, sub.pending) if sub and sub.pending else None,
            usage=store.usage_of(account_id),
            invoices=store.invoices_of(account_id, PAGE, None),
            ledger=list(reversed(store.ledger_of(account_id))),
            balance=store.balance_of(account_id),
            requests=store.requests_of(account_id),
            audit=store.audit_of(account_id, audit_limit),
            billing=store.billing_details_of(account_id))

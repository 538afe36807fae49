"""What each console page shows: read by `services.console` and priced with the billing core.

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
from canone.services import console, requests
from canone.services.access import Actor, require_staff
from canone.services.console import PAGE, Credited
from canone.services.context import Services, local_date
from canone.services.records import CANCELLED, Account, ChangeRequest, Subscription
from canone.services.requests import IN_PROGRESS, OPEN
from canone.web.console.labels import ACTIVE, ALL, FILTERS
from canone.web.i18n import N_

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
    accounts = console.accounts_of(svc, actor, (r.account_id for r in found))
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
    credited: Credited | None  # the credit "apply now" granted, once applied
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
    found = console.request_account(svc, actor, request_id)
    request, account, sub = found.request, found.account, found.subscription
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
    return RequestDetail(request, account, sub, current, pricing, day, found.balance,
                         found.credited, problem)


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

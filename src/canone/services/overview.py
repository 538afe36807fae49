"""What the Billing & Upgrade page shows, its billing details included, read in one
read (`Database.read`: the page's only one besides the sign-in's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from canone.billing.parties import BillingDetails
from canone.services.access import Actor, load_account, require_billing
from canone.services.context import Services, today
from canone.services.documents import CreditNote
from canone.services.errors import NotFound
from canone.services.payloads import InvoicePayload, Settled
from canone.services.payment_methods import is_sepa
from canone.services.records import (
    PRIMARY_ADMIN,
    Account,
    ChangeRequest,
    Invoice,
    PaymentIntent,
    Subscription,
    User,
)

RECENT_INVOICES = 24


@dataclass(frozen=True)
class BillingOverview:
    account: Account
    subscription: Subscription
    today: date  # the account's local date
    contacts_used: int
    active_users: int
    seats_in_use: int  # active users, as the seat rules count them (see quotes.active_users)
    invoices: tuple[Invoice, ...]  # newest first
    balance: int  # account credit, minor units
    requests: tuple[ChangeRequest, ...]  # newest first
    primary_admin: User | None
    viewer_is_primary_admin: bool
    # Open invoices whose SEPA Direct Debit is processing (for days, SPEC §9): nothing to
    # pay meanwhile, the page says the debit is on its way.
    debiting: frozenset[str] = frozenset()
    billing_details: BillingDetails | None = None  # None before the first save (SPEC §8)
    credit_notes: tuple[CreditNote, ...] = ()  # newest first (SPEC §8)


def billing_overview(svc: Services, actor: Actor, account_id: str) -> BillingOverview:
    """Everything the page needs; `Forbidden` (naming the primary admin) for people
    without billing access."""
    with svc.database.read() as store:
        account = load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "see billing")
        sub = store.subscriptions.of_account(account_id)
        if sub is None:
            raise NotFound(f"account {account_id} has no subscription")
        users = store.people.users_of(account_id)
        usage = store.usage.of_account(account_id)
        invoices = store.invoices.of_account(account_id, RECENT_INVOICES, None)
        balance = store.ledger.balance_of(account_id)
        requests = store.requests.of_account(account_id)
        debiting = _debiting(account, store.payments.pending_intent_of(account_id))
        saved = store.accounts.billing_details_of(account_id)
        notes = store.documents.credit_notes_of(account_id, RECENT_INVOICES, None)
    active = sum(1 for user in users if user.active)
    admin = next((user for user in users if user.role == PRIMARY_ADMIN), None)
    newest_first = sorted(invoices, key=lambda inv: (inv.issued_at, inv.number), reverse=True)
    return BillingOverview(
        account=account,
        subscription=sub,
        today=today(svc, account),
        contacts_used=usage.contacts if usage else 0,
        active_users=active,
        seats_in_use=max(active, usage.active_users if usage else 0),
        invoices=tuple(newest_first),
        balance=balance,
        requests=tuple(requests),
        primary_admin=admin,
        viewer_is_primary_admin=actor.user is not None and actor.user.role == PRIMARY_ADMIN,
        debiting=debiting,
        billing_details=saved.details if saved is not None else None,
        credit_notes=tuple(sorted(notes, key=lambda note: (note.issued_at, note.number),
                                  reverse=True)),
    )


def _debiting(account: Account, pending: PaymentIntent | None) -> frozenset[str]:
    """The invoice whose debit from the account's SEPA mandate is in flight: a collection
    attempt, or a change applied on the mandate (SPEC §9); none for a card's payment."""
    if pending is None or not is_sepa(account.card) or (
            account.card is None or account.card.token != pending.card_token):
        return frozenset()
    if pending.purpose == "invoice":
        return frozenset({InvoicePayload.from_json(pending.payload).invoice_id})
    settled = Settled.from_json(pending.result) if pending.result else None
    if settled is not None and settled.on_mandate and settled.invoice_id:
        return frozenset({settled.invoice_id})
    return frozenset()

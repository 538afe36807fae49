"""What the support console reads: accounts found by a search, an account with everything
about it, and the account and money behind a change request. Staff only: every function
checks the actor first, so a console page that forgot its guard would still refuse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from canone.billing.pricing import Price, price
from canone.services import requests
from canone.services.access import Actor, require_staff
from canone.services.billing_details import card_country_mismatch
from canone.services.context import Services
from canone.services.documents import CreditNote, EInvoice
from canone.services.errors import NotFound
from canone.services.records import (
    Account,
    AccountBillingDetails,
    AuditEntry,
    ChangeRequest,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentStatus,
    Subscription,
    Usage,
    User,
)

PAGE = 50


def accounts_of(svc: Services, actor: Actor, account_ids: Iterable[str]
                ) -> dict[str, Account | None]:
    """The accounts with these ids (None for an id no account has), for the requests queue."""
    require_staff(actor, "see change requests")
    with svc.database.read() as store:
        return {i: store.accounts.get(i) for i in set(account_ids)}


@dataclass(frozen=True)
class Credited:
    """What applying a request now gave back: its credit notes (gross, to the balance)."""

    amount: int
    created_at: datetime
    notes: tuple[CreditNote, ...]


@dataclass(frozen=True)
class RequestAccount:
    """The account a change request is about, as its detail page needs it."""

    request: ChangeRequest
    account: Account
    subscription: Subscription | None
    balance: int
    credited: Credited | None  # the credit "apply now" granted, once applied


def request_account(svc: Services, actor: Actor, request_id: str) -> RequestAccount:
    require_staff(actor, "see change requests")
    request = requests.get(svc, actor, request_id)
    with svc.database.read() as store:
        account = store.accounts.get(request.account_id)
        if account is None:
            raise NotFound(f"no account {request.account_id}")
        sub = store.subscriptions.of_account(account.id)
        balance = store.ledger.balance_of(account.id)
        notes = tuple(n for n in store.documents.credit_notes_of(account.id, 1000, None)
                      if n.source_id == request.id)
    credited = Credited(sum(n.total for n in notes), notes[-1].issued_at, notes) \
        if notes else None
    return RequestAccount(request, account, sub, balance, credited)


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
    credit_notes: list[CreditNote] = field(default_factory=list)  # newest first
    einvoices: dict[str, EInvoice] = field(default_factory=dict)  # by document id
    # SPEC §9: invoices a refund of which failed, with the provider's reason ("" if none)
    refund_failures: dict[str, str] = field(default_factory=dict)

    @property
    def card_country_mismatch(self) -> bool:
        return self.billing is not None and card_country_mismatch(self.billing)


def find_accounts(svc: Services, actor: Actor, text: str, after: str | None
                  ) -> tuple[list[tuple[Account, Subscription | None]], str | None]:
    """Accounts whose name, id or a user's email contains `text`, with their subscription;
    and the cursor of the next page."""
    require_staff(actor, "search accounts")
    with svc.database.read() as store:
        found = store.accounts.find(text.strip() or None, PAGE + 1, after)
        more = found[PAGE - 1].id if len(found) > PAGE else None
        return [(a, store.subscriptions.of_account(a.id)) for a in found[:PAGE]], more


def account_view(svc: Services, actor: Actor, account_id: str, audit_limit: int = 100
                 ) -> AccountView:
    require_staff(actor, "see accounts")
    with svc.database.read() as store:
        account = store.accounts.get(account_id)
        if account is None:
            raise NotFound(f"no account {account_id}")
        sub = store.subscriptions.of_account(account_id)
        invoices = store.invoices.of_account(account_id, PAGE, None)
        notes = store.documents.credit_notes_of(account_id, PAGE, None)
        return AccountView(
            account=account, users=store.people.users_of(account_id), subscription=sub,
            current=price(svc.catalog, sub.config) if sub else None,
            pending=price(svc.catalog, sub.pending) if sub and sub.pending else None,
            usage=store.usage.of_account(account_id),
            invoices=invoices, credit_notes=notes,
            einvoices=store.documents.einvoices_of([i.id for i in invoices]
                                                   + [n.id for n in notes]),
            ledger=list(reversed(store.ledger.of_account(account_id))),
            balance=store.ledger.balance_of(account_id),
            requests=store.requests.of_account(account_id),
            audit=store.audit.of_account(account_id, audit_limit),
            billing=store.accounts.billing_details_of(account_id),
            refund_failures=refund_failures(store.payments.of_account(account_id)))


def refund_failures(payments: list[Payment]) -> dict[str, str]:
    """Invoice id → why a refund of it failed (the provider's reason, "" if none given)."""
    return {p.invoice_id: p.message for p in payments
            if p.status == PaymentStatus.REFUND_FAILED and p.invoice_id}


@dataclass(frozen=True)
class OpenDispute:
    """A disputed payment (SPEC §9), for the queue page staff look at first."""

    account: Account | None
    invoice: Invoice
    amount: int  # what the bank took back, in minor units of the invoice's currency
    disputed_at: datetime


def open_disputes(svc: Services, actor: Actor, limit: int = PAGE) -> list[OpenDispute]:
    """The invoices whose payment is disputed, the latest dispute first."""
    require_staff(actor, "see disputes")
    found = []
    with svc.database.read() as store:
        invoices = store.invoices.disputed(limit)
        ids = sorted({invoice.account_id for invoice in invoices})
        accounts = store.accounts.by_ids(ids)
        disputed = [p for account_id in ids for p in store.payments.of_account(account_id)
                    if p.status == PaymentStatus.DISPUTED]
    for invoice in invoices:
        rows = [p for p in disputed if p.invoice_id == invoice.id]
        if rows:
            found.append(OpenDispute(accounts.get(invoice.account_id), invoice,
                                     -sum(p.amount for p in rows), rows[-1].created_at))
    return sorted(found, key=lambda d: d.disputed_at, reverse=True)

"""Reading an account's money: its invoices, the printable document of one, and its credit
ledger. Invoices are immutable once issued; only their payment status changes."""

from __future__ import annotations

from dataclasses import dataclass

from canone.billing.money import from_minor
from canone.services.access import Actor, load_account, primary_admin_of, require_billing
from canone.services.context import Services, local_date
from canone.services.errors import NotFound
from canone.services.ports import DocumentLine, InvoiceDocument
from canone.services.records import Invoice, LedgerEntry

SELLER_NAME = "canone"


@dataclass(frozen=True)
class Ledger:
    currency: str
    balance: int  # minor units of credit available to the next invoices
    entries: tuple[LedgerEntry, ...]  # oldest first


def invoices_of(svc: Services, actor: Actor, account_id: str, limit: int = 50,
                after: str | None = None) -> list[Invoice]:
    """Newest first; `after` is the id of the last invoice of the previous page."""
    with svc.database.transaction() as store:
        load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "see invoices")
        if after is not None:
            previous = store.get_invoice(after)
            if previous is None or previous.account_id != account_id:
                raise NotFound(f"no invoice {after} on account {account_id}")
        return store.invoices_of(account_id, limit, after)


def invoice(svc: Services, actor: Actor, invoice_id: str) -> Invoice:
    with svc.database.transaction() as store:
        found = store.get_invoice(invoice_id)
        if found is None:
            raise NotFound(f"no invoice {invoice_id}")
        try:
            load_account(store, actor, found.account_id)
        except NotFound:
            raise NotFound(f"no invoice {invoice_id}") from None
        require_billing(store, actor, found.account_id, "see invoices")
        return found


def invoice_document(svc: Services, actor: Actor, invoice_id: str,
                     seller_name: str = SELLER_NAME,
                     seller_address: tuple[str, ...] = ()) -> InvoiceDocument:
    """What the invoice PDF prints, in the account's language."""
    found = invoice(svc, actor, invoice_id)
    with svc.database.transaction() as store:
        account = store.get_account(found.account_id)
        admin = primary_admin_of(store, found.account_id)
    assert account is not None
    return InvoiceDocument(
        locale=account.locale, currency=found.currency, number=found.number,
        issued_on=local_date(found.issued_at, account.timezone),
        period_start=found.period_start, period_end=found.period_end,
        seller_name=seller_name, seller_address=seller_address,
        buyer_name=account.name, buyer_email=admin.email if admin else "",
        lines=tuple(DocumentLine(line.description, from_minor(line.amount))
                    for line in found.lines),
        total=from_minor(found.total), credit_applied=from_minor(found.credit_applied),
        amount_paid=from_minor(found.amount_paid), amount_due=from_minor(found.amount_due),
        status=found.status)


def ledger(svc: Services, actor: Actor, account_id: str) -> Ledger:
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "see the account balance")
        return Ledger(account.currency, store.balance_of(account_id),
                      tuple(store.ledger_of(account_id)))

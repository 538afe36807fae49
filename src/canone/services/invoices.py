"""Reading an account's money: its invoices, the printable document of one (and its PDF),
and its credit ledger. Invoices are immutable once issued; only their payment status changes.

Invoice lines are stored with the billing core's English descriptions; the document of an
invoice re-describes them in the account's language (`describe_line`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from canone.billing.money import from_minor
from canone.services import document_texts
from canone.services.access import (
    Actor,
    billing_account,
    billing_page_after,
    load_account,
    primary_admin_of,
    require_billing,
)
from canone.services.context import Services
from canone.services.errors import NotFound, existing
from canone.services.ports import DocumentLine, InvoiceDocument
from canone.services.records import Account, Invoice, LedgerEntry
from canone.services.store import Store

SELLER_NAME = "canone demo seller"
SELLER_ADDRESS = ("Via dell'Esempio 1", "20121 Milano MI", "Italia")


@dataclass(frozen=True)
class Ledger:
    currency: str
    balance: int  # minor units of credit available to the next invoices
    entries: tuple[LedgerEntry, ...]  # oldest first


def invoices_of(svc: Services, actor: Actor, account_id: str, limit: int = 50,
                after: str | None = None) -> list[Invoice]:
    """Newest first; `after` is the id of the last invoice of the previous page."""
    with svc.database.read() as store:
        billing_page_after(store, actor, account_id, "invoice", after, store.invoices.get)
        return store.invoices.of_account(account_id, limit, after)


def invoice(svc: Services, actor: Actor, invoice_id: str) -> Invoice:
    with svc.database.read() as store:
        found = store.invoices.get(invoice_id)
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
                     seller_address: tuple[str, ...] = SELLER_ADDRESS) -> InvoiceDocument:
    """What the invoice PDF prints, in the account's language (access checked)."""
    found = invoice(svc, actor, invoice_id)
    with svc.database.read() as store:
        account = existing(store.accounts.get(found.account_id), "account")
        return document_of(store, found, account, seller_name, seller_address)


def invoice_pdf(svc: Services, actor: Actor, invoice_id: str) -> bytes:
    """The invoice as a PDF file in the account's language, for whoever may see invoices:
    the primary admin or a billing admin of its account, its account key, staff, operators.
    NotFound for an invoice of another account (ids don't leak), Forbidden for a user
    without the billing permission."""
    return svc.renderer.render(invoice_document(svc, actor, invoice_id))


def invoice_pdf_filename(number: str, locale: str = "en") -> str:
    """"invoice-2026-000001.pdf", or "fattura-2026-000001.pdf" in Italian."""
    return f"{'fattura' if locale == 'it' else 'invoice'}-{number}.pdf"


def document_of(store: Store, invoice: Invoice, account: Account,
                seller_name: str = SELLER_NAME,
                seller_address: tuple[str, ...] = SELLER_ADDRESS) -> InvoiceDocument:
    """The printable document of an invoice the caller already may see (no access check):
    for the outbox, which attaches it to purchase confirmations and receipts. The parties
    are those the invoice was issued with (`seller_name` and `seller_address` stand in for
    an invoice issued before canone kept its seller)."""
    admin = primary_admin_of(store, account.id)
    locale = account.locale
    seller, customer = invoice.seller, invoice.customer
    if seller is not None:
        seller_name = seller.legal_name
        seller_address = document_texts.seller_lines(seller, locale)
    taxed = bool(invoice.tax_lines)
    return InvoiceDocument(
        locale=locale, currency=invoice.currency, number=invoice.number,
        issued_on=invoice.issued_on,
        period_start=invoice.period_start, period_end=invoice.period_end,
        seller_name=seller_name, seller_address=seller_address,
        buyer_name=customer.legal_name if customer else account.name,
        buyer_email=admin.email if admin else "",
        buyer_lines=document_texts.customer_lines(customer, locale) if customer else (),
        lines=tuple(DocumentLine(describe_line(line.key, line.description, locale),
                                 from_minor(line.amount))
                    for line in invoice.lines),
        subtotal=from_minor(invoice.subtotal) if taxed else None,
        tax_lines=document_texts.tax_rows(invoice.tax_lines, locale),
        total=from_minor(invoice.total), credit_applied=from_minor(invoice.credit_applied),
        amount_paid=from_minor(invoice.amount_paid), amount_due=from_minor(invoice.amount_due),
        status=invoice.status,
        notes=document_texts.legal_notes(invoice.tax_lines, invoice.currency, locale))


# -- line descriptions in the account's language ------------------------------------------
#
# The core writes "Marketing Plus, 1,000 contacts, monthly", "2 extra user seats, yearly",
# "Sales Pro, 3 user seats, monthly" (a plan priced by seat alone),
# "SMS add-on, monthly", and for prorations "Unused time on <line> (15 of 30 days)" or
# "Remaining time on <line> (15 of 30 days)". A description that matches none of these
# (a catalog with other wording) is printed as written.

_PRORATION = re.compile(r"^(Unused|Remaining) time on (.+) \((\d+) of (\d+) days\)$")
_EVERY = re.compile(r"^(.+), (monthly|yearly)$")
_CONTACTS = re.compile(r"^(.+), ([\d,]+) contacts$")
_SEATS = re.compile(r"^(?:(.+), )?(\d+) (extra )?user seats?$")
_ADDON = re.compile(r"^(.+) add-on$")

_IT_EVERY = {"monthly": "mensile", "yearly": "annuale"}
_IT_PRORATION = {"Unused": "Tempo non usato di", "Remaining": "Tempo residuo di"}
_IT_ADDONS = {"Custom Reporting": "Report personalizzati",
              "Transactional Email": "Email transazionali", "Dedicated IP": "IP dedicato"}


def describe_line(key: str, description: str, locale: str) -> str:
    """An invoice line's description in `locale` ("en" or "it"), from its English text and
    its key ("base", "seats" or "addon:<code>")."""
    if locale != "it":
        return description
    if key == "carried":
        return "Riportato da addebiti precedenti inferiori all'importo minimo"
    prorated = _PRORATION.match(description)
    if prorated:
        word, inner, remaining, days = prorated.groups()
        return (f"{_IT_PRORATION[word]} {_it_line(key, inner)} "
                f"({remaining} di {days} giorni)")
    return _it_line(key, description)


def _it_line(key: str, text: str) -> str:
    every = _EVERY.match(text)
    if every is None:
        return text
    head, interval = every.groups()
    return f"{_it_head(key, head)}, {_IT_EVERY[interval]}"


def _it_head(key: str, head: str) -> str:
    if key == "base":
        contacts = _CONTACTS.match(head)
        if contacts:
            count = int(contacts.group(2).replace(",", ""))
            return f"{contacts.group(1)}, {_it_int(count)} contatti"
    elif key == "seats":
        seats = _SEATS.match(head)
        if seats:
            plan, count, extra = seats.group(1), int(seats.group(2)), bool(seats.group(3))
            # The help article's word, as the billing page says it.
            noun = "postazione utente" if count == 1 else "postazioni utente"
            if extra:
                noun += " aggiuntiva" if count == 1 else " aggiuntive"
            return f"{plan}, {count} {noun}" if plan else f"{count} {noun}"
    elif key.startswith("addon:"):
        addon = _ADDON.match(head)
        if addon:
            name = addon.group(1)
            return f"Componente aggiuntivo {_IT_ADDONS.get(name, name)}"
    return head


def _it_int(number: int) -> str:
    """12.500: Italian thousands separators."""
    return f"{number:,}".replace(",", ".")


def ledger(svc: Services, actor: Actor, account_id: str) -> Ledger:
    with svc.database.read() as store:
        account = billing_account(store, actor, account_id, "see the account balance")
        return Ledger(account.currency, store.ledger.balance_of(account_id),
                      tuple(store.ledger.of_account(account_id)))

"""Credit notes (SPEC §8): whenever money is given back against issued invoices.

`issue_credit_note` is the one way to give money back: unused time credited by a change
applied now (a move that costs less, support's "apply now"), a payment for a superseded
change, a refund. It runs inside the caller's transaction, takes the tax rule and customer of
the invoice it corrects, refuses to give back more than that invoice has left, takes its
number last (the series' counter row stays locked until the transaction ends), credits the
balance with a ledger entry that points at it (or leaves the refund to the caller), and
makes its FatturaPA file when the seller files e-invoices.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from canone.billing.credit_notes import credit_treatment, left_to_credit, net_of_gross
from canone.billing.errors import InvalidField
from canone.billing.invoicing import draft_invoice
from canone.billing.money import ZERO, from_minor, to_minor
from canone.billing.pricing import Line
from canone.billing.seller import document_date
from canone.billing.tax import TaxTreatment
from canone.services import document_texts, einvoice_files, subscriptions
from canone.services.access import Actor, billing_account, billing_page_after, primary_admin_of
from canone.services.context import Services, new_id, record_change
from canone.services.documents import (
    REASONS,
    REFUND,
    SUPERSEDED_PAYMENT,
    TO_BALANCE,
    TO_CARD,
    UNUSED_TIME,
    CreditNote,
    CreditNoteLine,
)
from canone.services.errors import existing, on_account
from canone.services.invoices import SELLER_ADDRESS, SELLER_NAME
from canone.services.ports import DocumentLine, InvoiceDocument, InvoiceRenderer
from canone.services.records import Account, Invoice
from canone.services.store import Store

DESCRIPTIONS = {
    UNUSED_TIME: "Unused time credited after a plan change",
    SUPERSEDED_PAYMENT: "Payment for a plan change that another change overtook",
    REFUND: "Refund",
}


def seller_date(svc: Services) -> date:
    """Today in the seller's calendar: a document's date and its yearly series (§8)."""
    return document_date(svc.now())


def left_on(store: Store, invoice: Invoice) -> int:
    """What `invoice` has left to give back, gross, in minor units."""
    credited = [from_minor(n.total) for n in store.documents.credit_notes_of_invoice(invoice.id)]
    return to_minor(left_to_credit(from_minor(invoice.total), credited))


def issue_credit_note(svc: Services, store: Store, invoice: Invoice,
                      lines: Sequence[CreditNoteLine], reason: str, *,
                      settlement: str = TO_BALANCE, actor: str = "system",
                      source_id: str | None = None) -> CreditNote:
    """Credit `lines` (net, positive) of `invoice`, taxed as the invoice was. With
    `settlement` TO_BALANCE the gross total goes to the account's balance; with TO_CARD the
    caller refunds it through the payment provider in the same transaction.
    InvalidField ("lines", "amount") when a line is not positive or the note would give
    back more than the invoice has left."""
    if reason not in REASONS:
        raise InvalidField("reason", f"must be one of {', '.join(REASONS)}")
    if settlement not in (TO_BALANCE, TO_CARD):
        raise InvalidField("settlement", f"must be {TO_BALANCE} or {TO_CARD}")
    if not lines or any(line.amount <= 0 for line in lines):
        raise InvalidField("lines", "a credit note lists positive amounts, at least one")
    account = existing(store.accounts.get(invoice.account_id), "account")
    on = seller_date(svc)
    money = draft_invoice([Line(line.key, line.description, from_minor(line.amount))
                           for line in lines], paid=False, treatment=_treatment(invoice, on))
    total = money.total
    left = left_on(store, invoice)
    if total > left:
        raise InvalidField("amount", f"{from_minor(total)} {invoice.currency} is more than "
                           f"invoice {invoice.number} has left to credit "
                           f"({from_minor(left)} {invoice.currency})")
    note = CreditNote(
        id=new_id("cn"), account_id=account.id, invoice_id=invoice.id,
        invoice_number=invoice.number, invoice_date=invoice.issued_on,
        number=store.documents.next_credit_note_number(on.year), reason=reason,
        settlement=settlement, currency=invoice.currency, issued_at=svc.now(), issued_on=on,
        lines=tuple(lines),
        subtotal=money.subtotal, tax_lines=money.tax_lines, total=total,
        customer=invoice.customer, source_id=source_id,
        stamp_duty=einvoice_files.stamp_duty_of(svc, money.tax_lines, invoice.currency, on))
    store.documents.add_credit_note(note)
    record_change(svc, store, account_id=account.id, actor=actor,
                  action="credit_note.issued", before=None, after=credit_note_event(note),
                  event="credit_note.issued")
    if settlement == TO_BALANCE:
        subscriptions.credit(svc, store, account, total,
                             f"Credit note {note.number} for invoice {invoice.number}",
                             invoice.id, credit_note_id=note.id)
    einvoice_files.file_credit_note(svc, store, note)
    return note


def _treatment(invoice: Invoice, on: date) -> TaxTreatment | None:
    """The corrected invoice's treatment (None: issued untaxed, without a seller), no VAT
    for a reduction more than a year after it."""
    if not invoice.tax_lines:
        return None
    return credit_treatment(invoice.tax_lines[0].treatment, invoice.issued_on, on)


def net_of_gross_minor(amount: int, treatment: TaxTreatment | None) -> int:
    """`net_of_gross` in minor units; untaxed (no treatment), the amount itself."""
    if treatment is None:
        return amount
    return to_minor(net_of_gross(from_minor(amount), treatment))


def credit_note_event(note: CreditNote) -> dict[str, Any]:
    return {"credit_note_id": note.id, "number": note.number, "invoice_id": note.invoice_id,
            "invoice_number": note.invoice_number, "reason": note.reason,
            "settlement": note.settlement, "total": note.total, "currency": note.currency}


def one_line(reason: str, amount: int, description: str | None = None) -> CreditNoteLine:
    return CreditNoteLine(reason, description or DESCRIPTIONS[reason], amount)


def credit_gross(svc: Services, store: Store, invoice: Invoice, amount: int, reason: str, *,
                 settlement: str = TO_BALANCE, description: str | None = None,
                 actor: str = "system", source_id: str | None = None) -> CreditNote:
    """A credit note that gives back `amount` (gross, minor units) of `invoice`, on one line
    whose net is the largest that, taxed as the invoice, makes at most `amount`."""
    net = net_of_gross_minor(amount, _treatment(invoice, seller_date(svc)))
    return issue_credit_note(svc, store, invoice, [one_line(reason, net, description)],
                             reason, settlement=settlement, actor=actor, source_id=source_id)


def credit_unused_time(svc: Services, store: Store, account: Account, net: Decimal,
                       description: str, day: date, source_id: str | None = None
                       ) -> list[CreditNote]:
    """Credit `net` of unused time to the balance, with a credit note against each invoice
    that billed the time given back (newest first, each up to what it has left, taxed as
    it was). A part no invoice has left is credited without a note: nothing was invoiced
    for it, so there is nothing to correct (§8 asks a note for money given back against
    issued invoices)."""
    remaining = to_minor(net)
    notes: list[CreditNote] = []
    on = seller_date(svc)
    for invoice in _billing(store, account.id, day):
        if remaining <= 0:
            break
        left = left_on(store, invoice)
        net_left = net_of_gross_minor(left, _treatment(invoice, on))
        take = min(remaining, net_left)
        if take > 0:
            notes.append(issue_credit_note(svc, store, invoice,
                                           [one_line(UNUSED_TIME, take, description)],
                                           UNUSED_TIME, source_id=source_id))
            remaining -= take
    if remaining > 0:
        subscriptions.credit(svc, store, account, remaining, description, None)
    return notes


def _billing(store: Store, account_id: str, day: date) -> list[Invoice]:
    """The account's invoices whose period runs past `day`, newest first: those that billed
    the time a change on `day` gives back."""
    found = store.invoices.of_account(account_id, 100, None)
    return [i for i in found if i.period_end is not None and i.period_end > day
            and i.total > 0]




# -- reading ----------------------------------------------------------------------------------

_IT_DESCRIPTIONS = {UNUSED_TIME: "Tempo non usato accreditato dopo un cambio di piano",
                    SUPERSEDED_PAYMENT: "Pagamento di un cambio di piano superato da un altro",
                    REFUND: "Rimborso"}
_REQUEST = re.compile(r"change request (req_\w+)$")


def describe(line: CreditNoteLine, locale: str) -> str:
    """A credit note line's text in `locale`, from its key (the reason) and English text."""
    if locale != "it" or line.key not in _IT_DESCRIPTIONS:
        return line.description
    request = _REQUEST.search(line.description)
    text = _IT_DESCRIPTIONS[line.key]
    return f"{text} (richiesta di modifica {request.group(1)})" if request else text


def credit_notes_of(svc: Services, actor: Actor, account_id: str, limit: int = 50,
                    after: str | None = None) -> list[CreditNote]:
    """Newest first; `after` is the id of the last credit note of the previous page."""
    with svc.database.read() as store:
        billing_page_after(store, actor, account_id, "credit note", after,
                           store.documents.get_credit_note)
        return store.documents.credit_notes_of(account_id, limit, after)


def credit_note(svc: Services, actor: Actor, account_id: str, credit_note_id: str
                ) -> CreditNote:
    with svc.database.read() as store:
        billing_account(store, actor, account_id, "see credit notes")
        found = store.documents.get_credit_note(credit_note_id)
    return on_account(found, account_id,
                      f"no credit note {credit_note_id} on account {account_id}")


def credit_note_pdf(svc: Services, actor: Actor, account_id: str, credit_note_id: str,
                    renderer: InvoiceRenderer) -> tuple[CreditNote, str, bytes]:
    """The credit note, its file name and its PDF in the account's language."""
    note = credit_note(svc, actor, account_id, credit_note_id)
    with svc.database.read() as store:
        account = existing(store.accounts.get(account_id), "account")
        invoice = existing(store.invoices.get(note.invoice_id), "invoice")
        document = document_of(store, note, invoice, account)
    word = "nota-di-credito" if account.locale == "it" else "credit-note"
    return note, f"{word}-{note.number}.pdf", renderer.render(document)


def document_of(store: Store, note: CreditNote, invoice: Invoice, account: Account
                ) -> InvoiceDocument:
    """What a credit note's PDF prints: the parties of the invoice it corrects, its lines,
    its tax per rate and legal notes, and where the money went."""
    admin = primary_admin_of(store, account.id)
    locale = account.locale
    seller, customer = invoice.seller, note.customer
    taxed = bool(note.tax_lines)
    return InvoiceDocument(
        locale=locale, currency=note.currency, number=note.number, issued_on=note.issued_on,
        period_start=None, period_end=None,
        seller_name=seller.legal_name if seller else SELLER_NAME,
        seller_address=document_texts.seller_lines(seller, locale) if seller
        else SELLER_ADDRESS,
        buyer_name=customer.legal_name if customer else account.name,
        buyer_email=admin.email if admin else "",
        buyer_lines=document_texts.customer_lines(customer, locale) if customer else (),
        lines=tuple(DocumentLine(describe(line, locale), from_minor(line.amount))
                    for line in note.lines),
        subtotal=from_minor(note.subtotal) if taxed else None,
        tax_lines=document_texts.tax_rows(note.tax_lines, locale),
        total=from_minor(note.total), credit_applied=ZERO, amount_paid=ZERO, amount_due=ZERO,
        status=f"to_{note.settlement}",  # to_balance or to_card: where the money went
        notes=document_texts.legal_notes(note.tax_lines, note.currency, locale),
        kind="credit_note", corrects=(note.invoice_number, note.invoice_date))

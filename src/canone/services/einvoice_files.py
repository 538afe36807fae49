"""The FatturaPA file of every invoice and credit note, when the seller files e-invoices
(SPEC §8): made in the transaction that issues the document (so a rolled-back document
leaves no file and its progressive is given back), handed to the SDI intermediary after it
commits (`hand_over`, run by the worker), and SDI's receipts read back (`read_receipts`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from canone.billing.money import from_minor, to_minor
from canone.billing.parties import BillingDetails
from canone.billing.tax import TaxLine, TaxTreatment, stamp_duty
from canone.services.access import Actor, billing_account, require_staff
from canone.services.context import Services, new_id, record_change
from canone.services.documents import HANDED_OVER, CreditNote, EInvoice
from canone.services.einvoicing import (
    CARD,
    CREDIT_NOTE,
    INVOICE,
    SEPA_DEBIT,
    CorrectedInvoice,
    EInvoiceDocument,
    EInvoiceFile,
    EInvoiceLine,
    EInvoicePayment,
    EInvoicing,
    SdiReceipt,
)
from canone.services.errors import on_account
from canone.services.records import Account, Invoice, InvoiceTaxLine
from canone.services.store import Store

log = logging.getLogger(__name__)

CAUSALI = {"unused_time": "Storno per tempo non usato dopo un cambio di piano",
           "superseded_payment": "Storno di un pagamento per un cambio di piano superato",
           "refund": "Rimborso"}


def filing(svc: Services) -> EInvoicing | None:
    """The e-invoicing set-up when the seller files e-invoices; None when it does not."""
    return svc.einvoicing if svc.einvoicing is not None and svc.einvoicing.files else None


def makes_file(svc: Services, customer: BillingDetails | None, taxed: bool) -> bool:
    """Whether a document gets a FatturaPA file, and so an SDI progressive: the seller files
    e-invoices, the document has a customer and is taxed (`invoicing.is_taxed`; an untaxed one
    has no VAT summary to file). The one test of it: a batch of the billing run counts the
    progressives it takes by it too, and a count that disagreed with the files made would
    send every batch to the one-by-one fallback."""
    return customer is not None and taxed and filing(svc) is not None


def _customer(store: Store, account_id: str, snapshot: BillingDetails | None
              ) -> BillingDetails | None:
    """The customer the document was issued to; an invoice issued before documents kept
    one is filed with the account's details as they are now."""
    if snapshot is not None:
        return snapshot
    saved = store.accounts.billing_details_of(account_id)
    return None if saved is None else saved.details


def _file(svc: Services, store: Store, setup: EInvoicing, account_id: str, kind: str,
          document_id: str, document: EInvoiceDocument, progressive: int | None = None
          ) -> EInvoice:
    if progressive is None:
        progressive = store.documents.next_sdi_progressive()
    made = setup.build(setup.seller, document, progressive)
    file = EInvoice(new_id("einv"), account_id, kind, document_id, document.number,
                    made.file_name, made.content, svc.now())
    store.documents.add_einvoice(file)
    return file


# Why a document got no file, as its `einvoice.skipped` audit entry says (the console words it).
NO_DETAILS = "the account has no billing details"
UNTAXED = "the document has no tax lines"


def _skip(svc: Services, store: Store, account_id: str, number: str, reason: str) -> None:
    # Sign-up asks for billing details while the seller files e-invoices: only an account
    # made before that (or by hand) gets here, or an untaxed document. Said where support
    # sees it.
    record_change(svc, store, account_id=account_id, actor="system", action="einvoice.skipped",
                  before=None, after={"document": number, "reason": reason})


def _makings(svc: Services, store: Store, account_id: str, number: str,
             snapshot: BillingDetails | None, tax_lines: Sequence[InvoiceTaxLine]
             ) -> tuple[EInvoicing, BillingDetails, TaxTreatment] | None:
    """What a document's file is made from: the set-up, the customer and the treatment;
    None when no file is made (the seller files none; or, said in the audit trail, the
    document has no customer or was issued untaxed)."""
    setup = filing(svc)
    if setup is None:
        return None
    customer = _customer(store, account_id, snapshot)
    if customer is None or not makes_file(svc, customer, bool(tax_lines)):
        _skip(svc, store, account_id, number, NO_DETAILS if customer is None else UNTAXED)
        return None
    return setup, customer, tax_lines[0].treatment


def invoice_number(svc: Services, store: Store, account_id: str, year: int,
                   customer: BillingDetails | None, tax_lines: Sequence[InvoiceTaxLine]
                   ) -> tuple[str, int | None]:
    """The next invoice number of `year`, and the SDI progressive of the invoice's file
    when `file_invoice` will make one (for an invoice to that customer with those tax
    lines), taken with the number: its counter is then locked no longer than the
    number's, whose row every concurrent purchase waits for."""
    # Filing asked first: `_customer` reads the store for an account without details.
    if filing(svc) is None or not makes_file(svc, _customer(store, account_id, customer),
                                             bool(tax_lines)):
        return store.invoices.next_number(year), None
    return store.invoices.next_number_with_progressive(year)


def file_invoice(svc: Services, store: Store, account: Account, invoice: Invoice,
                 progressive: int | None = None) -> None:
    """Make the invoice's FatturaPA file (TD01), if the seller files e-invoices, named with
    `progressive` when it was taken with the number (`invoice_number`)."""
    makings = _makings(svc, store, account.id, invoice.number, invoice.customer,
                       invoice.tax_lines)
    if makings is None:
        if progressive is not None:  # it would leave a gap in the file names
            raise RuntimeError(f"an SDI progressive taken for invoice {invoice.number}, "
                               "which has no file")
        return
    setup, customer, treatment = makings
    last_day = invoice.period_end - timedelta(days=1) if invoice.period_end else None
    lines = tuple(EInvoiceLine(line.description, from_minor(line.amount), treatment,
                               invoice.period_start, last_day) for line in invoice.lines)
    document = EInvoiceDocument(
        INVOICE, invoice.number, invoice.issued_on, invoice.currency, customer, lines,
        from_minor(invoice.total),
        stamp_duty=from_minor(stamp_duty_of(svc, invoice.tax_lines, invoice.currency,
                                            invoice.issued_on)),
        payment=_payment(account, invoice))
    _file(svc, store, setup, account.id, INVOICE, invoice.id, document, progressive)


def stamp_duty_of(svc: Services, tax_lines: Sequence[InvoiceTaxLine], currency: str,
                  on: date) -> int:
    """The €2.00 virtual stamp duty of a document without VAT over €77.47 (a USD document
    converted at the ECB rate of its date; without the rates, as e-invoicing has them,
    a USD document is judged by its own amount)."""
    lines = [TaxLine(t.treatment, from_minor(t.taxable), from_minor(t.amount))
             for t in tax_lines]
    rates = svc.einvoicing.rates if svc.einvoicing is not None else None
    if currency == "EUR" or rates is None:
        return to_minor(stamp_duty(lines))
    per_euro = rates.eur_rate(currency, on)
    return to_minor(stamp_duty(lines, lambda amount: amount / per_euro))


def _payment(account: Account, invoice: Invoice) -> EInvoicePayment | None:
    """Paid: what was charged. Open: the amount due, which the card on file will be charged
    (TP02, paid in full)."""
    amount = invoice.amount_paid or invoice.amount_due
    if amount <= 0:
        return None
    means = SEPA_DEBIT if account.card is not None and account.card.kind == SEPA_DEBIT else CARD
    return EInvoicePayment(means, from_minor(amount))


def file_credit_note(svc: Services, store: Store, note: CreditNote) -> None:
    """Make the credit note's FatturaPA file (TD04, naming the invoice it corrects)."""
    makings = _makings(svc, store, note.account_id, note.number, note.customer,
                       note.tax_lines)
    if makings is None:
        return
    setup, customer, treatment = makings
    lines = tuple(EInvoiceLine(line.description, from_minor(line.amount), treatment)
                  for line in note.lines)
    document = EInvoiceDocument(
        CREDIT_NOTE, note.number, note.issued_on, note.currency, customer, lines,
        from_minor(note.total), stamp_duty=from_minor(note.stamp_duty),
        corrects=CorrectedInvoice(note.invoice_number, note.invoice_date),
        reason=CAUSALI.get(note.reason))
    _file(svc, store, setup, note.account_id, CREDIT_NOTE, note.id, document)


# -- after the commit: to the intermediary, and SDI's answers back ----------------------------


def hand_over(svc: Services, limit: int = 100) -> int:
    """Hand the files made since the last pass to the intermediary; how many. A file goes
    once: it is marked in the same transaction that hands it over (if that transaction
    fails after the hand-over, the next pass finds the name taken and marks it)."""
    filing = svc.einvoicing
    if filing is None:
        return 0
    with svc.database.transaction() as store:
        files = store.documents.einvoices_to_hand_over(limit)
        for file in files:
            filing.outbox.hand_over(EInvoiceFile(file.file_name, file.content))
            store.documents.save_einvoice_state(file.but(state=HANDED_OVER))
    return len(files)


def exchange(svc: Services) -> tuple[int, int]:
    """One pass with the intermediary: hand the files made since the last pass over, then
    read SDI's receipts back. (Files handed over, files SDI answered about.)"""
    return hand_over(svc), read_receipts(svc)


def read_receipts(svc: Services) -> int:
    """Record SDI's receipts the intermediary brought back; how many files they settled."""
    filing = svc.einvoicing
    if filing is None:
        return 0
    receipts = {r.file_name: r for r in filing.outbox.receipts()}
    with svc.database.transaction() as store:
        waiting = store.documents.einvoices_awaiting_sdi(sorted(receipts))
        for name, file in waiting.items():
            receipt = receipts[name]
            store.documents.save_einvoice_state(
                file.but(state=receipt.outcome, sdi=receipt_json(receipt)))
    return len(waiting)


def receipt_json(receipt: SdiReceipt) -> dict[str, Any]:
    return {"receipt_file": receipt.receipt_file, "sdi_id": receipt.sdi_id,
            "received_at": receipt.received_at.isoformat() if receipt.received_at else None,
            "errors": [{"code": e.code, "description": e.description} for e in receipt.errors]}


# -- reading ----------------------------------------------------------------------------------


def einvoice_of(svc: Services, actor: Actor, account_id: str, document_id: str) -> EInvoice:
    """The file of one of the account's documents (who may see invoices may see it)."""
    with svc.database.read() as store:
        billing_account(store, actor, account_id, "see invoices")
        found = store.documents.einvoice_of(document_id)
    return on_account(found, account_id, f"no e-invoice file for {document_id}")


def files_of(svc: Services, actor: Actor, account_id: str, document_ids: Sequence[str]
             ) -> dict[str, EInvoice]:
    """The files of these documents of the account, by document id (those that have one)."""
    with svc.database.read() as store:
        billing_account(store, actor, account_id, "see invoices")
        found = store.documents.einvoices_of(document_ids)
    return {k: f for k, f in found.items() if f.account_id == account_id}


def files_since(svc: Services, actor: Actor, since: date) -> list[EInvoice]:
    """Every file made since `since` (midnight UTC), oldest first: for conservation."""
    require_staff(actor, "export e-invoices")
    start = datetime(since.year, since.month, since.day, tzinfo=svc.now().tzinfo)
    with svc.database.read() as store:
        return store.documents.einvoices_since(start)


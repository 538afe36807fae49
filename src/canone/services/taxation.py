"""The one way every invoice is taxed (SPEC §8): sign-up, upgrade, renewal, support's
change, and the preview that quotes an upgrade, all take their terms from `terms_for` and
their money from `canone.billing.invoicing.draft_invoice` (`charge` for a purchase).

A document takes one rule from the account's billing details when it is issued, its date
and yearly series from the seller's calendar (Rome), and keeps a copy of both parties. The
account's credit balance is gross and pays the total like a payment: it never changes the
taxable amount. Retries collect an issued invoice: its tax was fixed when it was issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from canone.billing.frozen import quick_init
from canone.billing.invoicing import InvoiceDraft, draft_invoice
from canone.billing.money import from_minor, to_minor
from canone.billing.parties import BillingDetails
from canone.billing.pricing import Line
from canone.billing.seller import Seller, document_date
from canone.billing.tax import (
    CONSUMER,
    SELLER_COUNTRY,
    TaxCustomer,
    TaxTreatment,
    tax_amount,
    treatment_for,
)
from canone.billing.vat_rates import default_vat_rates
from canone.services.billing_details import confirmed
from canone.services.records import AccountBillingDetails
from canone.services.store import Store

# Without billing details nothing shows that the customer is anywhere but Italy: an Italian
# seller then charges Italian VAT, as to an Italian consumer.
_UNKNOWN_CUSTOMER = TaxCustomer(SELLER_COUNTRY, CONSUMER, vat_id_confirmed=False)


@quick_init
@dataclass(frozen=True)
class DocumentTerms:
    """What an invoice issued now is taxed by and says about its parties."""

    issued_on: date  # in the seller's calendar: the document's date and yearly series
    treatment: TaxTreatment | None  # None: no seller configured, so documents stay net
    customer: BillingDetails | None  # None: the account has no billing details
    seller: Seller | None


def terms_for(seller: Seller | None, details: BillingDetails | None, vat_id_confirmed: bool,
              now: datetime) -> DocumentTerms:
    """The terms of a document issued at `now` for a customer with these details;
    `vat_id_confirmed` is VIES's answer (reverse charge for an EU business abroad)."""
    on = document_date(now)
    if seller is None:
        return DocumentTerms(on, None, details, None)
    customer = (_UNKNOWN_CUSTOMER if details is None
                else details.tax_customer(vat_id_confirmed))
    treatment = treatment_for(customer, seller_oss=seller.oss, on=on, rates=default_vat_rates())
    return DocumentTerms(on, treatment, details, seller)


def terms_of(seller: Seller | None, saved: AccountBillingDetails | None,
             now: datetime) -> DocumentTerms:
    """The terms for an account's saved details, VIES's stored answer deciding reverse
    charge (`billing_details.details_for_document` asks VIES again first where the caller
    can wait for it)."""
    if saved is None:
        return terms_for(seller, None, False, now)
    return terms_for(seller, saved.details, confirmed(saved), now)


def terms_of_account(seller: Seller | None, store: Store, account_id: str,
                     now: datetime) -> DocumentTerms:
    """The terms of a document issued now for an account, from its saved details."""
    return terms_of(seller, store.accounts.billing_details_of(account_id), now)


def charge(lines: Sequence[Line], treatment: TaxTreatment | None, balance: int
           ) -> InvoiceDraft:
    """The invoice a purchase charged now issues: taxed by `treatment`, with as much of the
    (gross) `balance` as it takes; the card pays the rest (`amount_paid`)."""
    return draft_invoice(lines, paid=True, credit_available=balance, treatment=treatment)


def gross(net: int, treatment: TaxTreatment | None) -> int:
    """A net amount with its tax at `treatment`'s rate (minor units): the gross credit the
    balance gets for unused time, as the credit note for it states it."""
    if treatment is None:
        return net
    return net + to_minor(tax_amount(treatment.rate, from_minor(net)))

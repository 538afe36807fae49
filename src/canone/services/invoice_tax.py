"""What a credit note or a FatturaPA file reads of an invoice's tax: the treatment it was
issued with and the customer it was issued to (SPEC §8: a document keeps both)."""

from __future__ import annotations

from typing import Any

from canone.billing.money import ZERO
from canone.billing.tax import SELLER_COUNTRY, TaxTreatment
from canone.services.records import Invoice

# Until invoices carry their tax lines, an invoice counts as untaxed.
_UNTAXED = TaxTreatment("untaxed", ZERO, SELLER_COUNTRY, None, "vat")


def invoice_treatment(invoice: Invoice) -> TaxTreatment:
    return _UNTAXED


def customer_json(invoice: Invoice) -> dict[str, Any] | None:
    return None

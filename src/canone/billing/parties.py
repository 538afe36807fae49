"""Who a document is from and to: postal addresses and a customer's billing details (§8).

These are plain values; `canone.services.billing_details` checks and normalises what a
person types (VAT ids and codici fiscali with their real checksums) before one is made.
"""

from __future__ import annotations

from dataclasses import dataclass

from canone.billing.tax import BUSINESS, CONSUMER, TaxCustomer


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    postcode: str
    city: str
    province: str | None  # Italian two-letter code (sigla); required in Italy only
    country: str  # ISO 3166 alpha-2 (Greece is GR)


@dataclass(frozen=True, slots=True)
class BillingDetails:
    """What a document says about its customer; a document keeps the details it was issued
    with (a later change affects only documents issued afterwards)."""

    kind: str  # BUSINESS or CONSUMER
    legal_name: str  # a consumer's first and last name
    address: Address
    vat_id: str | None = None  # with its country prefix, e.g. "DE136695976", "EL094259216"
    tax_code: str | None = None  # codice fiscale
    sdi_code: str | None = None  # 7 characters, Italian businesses only
    pec: str | None = None  # certified email, Italian businesses only

    @property
    def country(self) -> str:
        return self.address.country

    @property
    def is_business(self) -> bool:
        return self.kind == BUSINESS

    @property
    def is_consumer(self) -> bool:
        return self.kind == CONSUMER

    def tax_customer(self, vat_id_confirmed: bool) -> TaxCustomer:
        """The customer as the tax rule sees it; `vat_id_confirmed` is VIES's answer."""
        return TaxCustomer(self.country, self.kind,
                           vat_id_confirmed and self.is_business and self.vat_id is not None)

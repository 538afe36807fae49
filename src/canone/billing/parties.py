"""Who a document is from and to: postal addresses and a customer's billing details (§8).

These are plain values; `canone.services.billing_details` checks and normalises what a
person types (VAT ids and codici fiscali with their real checksums) before one is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def address_to_json(a: Address) -> dict[str, Any]:
    return {"street": a.street, "postcode": a.postcode, "city": a.city,
            "province": a.province, "country": a.country}


def address_from_json(a: dict[str, Any]) -> Address:
    return Address(a["street"], a["postcode"], a["city"], a["province"], a["country"])


def details_to_json(details: BillingDetails) -> dict[str, Any]:
    """The SPEC §7 shape, as the API, the audit trail, the webhooks and an issued
    document's copy of its customer show it."""
    return {"kind": details.kind, "legal_name": details.legal_name,
            "address": address_to_json(details.address),
            "vat_id": details.vat_id, "tax_code": details.tax_code,
            "sdi_code": details.sdi_code, "pec": details.pec}


def details_from_json(raw: dict[str, Any]) -> BillingDetails:
    return BillingDetails(raw["kind"], raw["legal_name"], address_from_json(raw["address"]),
                          raw["vat_id"], raw["tax_code"], raw["sdi_code"], raw["pec"])

"""Checking an account's billing details (SPEC §8) as a person typed them.

`check_billing_details` trims and normalises every value (VAT ids get their country prefix,
codes go to capitals) and checks them with real checksums (python-stdnum): the VAT id of
every EU state, the codice fiscale, the Italian province. It reports every wrong field at
once, each named as the API and the forms name it (`vat_id`, `address.province`, …).
"""

from __future__ import annotations

import re
from functools import cache

from babel import Locale

from canone.billing.errors import InvalidField
from canone.billing.parties import Address, BillingDetails
from canone.billing.tax import BUSINESS, CONSUMER, KINDS, SELLER_COUNTRY
from canone.billing.vat_rates import VatRates, default_vat_rates, vat_prefix
from canone.services.tax_ids import (
    compact,
    eu_vat_id_problem,
    foreign_tax_id_problem,
    italian_vat_number_problem,
    tax_code_problem,
)

# Italian provinces (sigle automobilistiche), with the Sardinian codes of 2005–2016 and the
# ones reinstated since, which older addresses and registries still use.
ITALIAN_PROVINCES = frozenset({
    "AG", "AL", "AN", "AO", "AP", "AQ", "AR", "AT", "AV", "BA", "BG", "BI", "BL", "BN", "BO",
    "BR", "BS", "BT", "BZ", "CA", "CB", "CE", "CH", "CI", "CL", "CN", "CO", "CR", "CS", "CT",
    "CZ", "EN", "FC", "FE", "FG", "FI", "FM", "FR", "GE", "GO", "GR", "IM", "IS", "KR", "LC",
    "LE", "LI", "LO", "LT", "LU", "MB", "MC", "ME", "MI", "MN", "MO", "MS", "MT", "NA", "NO",
    "NU", "OG", "OR", "OT", "PA", "PC", "PD", "PE", "PG", "PI", "PN", "PO", "PR", "PT", "PU",
    "PV", "PZ", "RA", "RC", "RE", "RG", "RI", "RM", "RN", "RO", "SA", "SI", "SO", "SP", "SR",
    "SS", "SU", "SV", "TA", "TE", "TN", "TO", "TP", "TR", "TS", "TV", "UD", "VA", "VB", "VC",
    "VE", "VI", "VR", "VS", "VT", "VV",
})

NO_SDI_CODE = "0000000"  # no code: the file waits in the customer's tax drawer (or PEC)
FOREIGN_SDI_CODE = "XXXXXXX"  # what a file to a customer abroad is addressed to
_SDI_CODE = re.compile(r"[A-Z0-9]{7}")
_PEC = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


class InvalidBillingDetails(InvalidField):
    """Every wrong field of a form at once; `field`/`message` are the first one's."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(field, message)
        self.errors = errors


@cache
def countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes of the world's countries and territories."""
    names = Locale.parse("en").territories
    return frozenset(code for code in names if isinstance(code, str)
                     and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


def check_billing_details(details: BillingDetails,
                          rates: VatRates | None = None) -> BillingDetails:
    """The details, normalised; raises InvalidBillingDetails naming every wrong field."""
    checker = _Checker(rates or default_vat_rates())
    result = checker.check(details)
    if checker.errors:
        raise InvalidBillingDetails(checker.errors)
    return result


def _text(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


class _Checker:
    def __init__(self, rates: VatRates) -> None:
        self.rates = rates
        self.errors: dict[str, str] = {}

    def error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def check(self, d: BillingDetails) -> BillingDetails:
        kind = (d.kind or "").strip().lower()
        if kind not in KINDS:
            self.error("kind", "must be business or consumer")
        address = self.address(d.address)
        name = self.legal_name(_text(d.legal_name), kind)
        country = address.country
        italian = country == SELLER_COUNTRY
        return BillingDetails(
            kind=kind, legal_name=name or "", address=address,
            vat_id=self.vat_id(_text(d.vat_id), kind, country),
            tax_code=self.tax_code(_text(d.tax_code), kind, italian),
            sdi_code=self.sdi_code(_text(d.sdi_code), kind, italian),
            pec=self.pec(_text(d.pec), kind, italian),
        )

    def legal_name(self, name: str | None, kind: str) -> str | None:
        if name is None:
            self.error("legal_name", "is required" if kind != CONSUMER
                       else "is required: the first and last name")
        elif len(name) > 80:
            self.error("legal_name", "at most 80 characters")
        elif kind == CONSUMER and len(name.split()) < 2:
            self.error("legal_name", "a consumer's first and last name, e.g. Maria Rossi")
        return name

    def address(self, a: Address) -> Address:
        country = (_text(a.country) or "").upper()
        if country not in countries():
            self.error("address.country", "must be a country code of two letters (ISO 3166), "
                       "e.g. IT, DE, FR, US")
        street, city = _text(a.street), _text(a.city)
        for field, value in (("address.street", street), ("address.city", city)):
            if value is None:
                self.error(field, "is required")
            elif len(value) > 60:
                self.error(field, "at most 60 characters")
        postcode, province = _text(a.postcode), _text(a.province)
        if country == SELLER_COUNTRY:
            province = province.upper() if province else None
            if postcode is None or not re.fullmatch(r"[0-9]{5}", postcode):
                self.error("address.postcode", "an Italian postcode (CAP) has 5 digits")
            if province is None:
                self.error("address.province", "is required in Italy (e.g. MI, RM)")
            elif province not in ITALIAN_PROVINCES:
                self.error("address.province", f"{province!r} is not an Italian province "
                           "(two letters, e.g. MI, RM)")
        elif postcode is not None and len(postcode) > 12:
            self.error("address.postcode", "at most 12 characters")
        return Address(street or "", postcode or "", city or "", province, country)

    def vat_id(self, raw: str | None, kind: str, country: str) -> str | None:
        if raw is None:
            if kind == BUSINESS and country == SELLER_COUNTRY:
                self.error("vat_id", "is required for an Italian business (partita IVA)")
            return None
        if kind == CONSUMER:
            self.error("vat_id", "a consumer has no VAT id; a business is kind business")
            return None
        value = compact(raw)
        if country in self.rates.countries:
            prefix = vat_prefix(country)
            if country == "GR" and value.startswith("GR"):
                value = "EL" + value[2:]  # the same id written with the ISO code
            if value[:1].isdigit() or not value[:2].isalpha():
                value = prefix + value
            problem = (italian_vat_number_problem(value[2:]) if country == SELLER_COUNTRY
                       and value.startswith(prefix) else eu_vat_id_problem(country, value))
        else:
            problem = foreign_tax_id_problem(value)
        if problem:
            self.error("vat_id", problem)
        return value

    def tax_code(self, raw: str | None, kind: str, italian: bool) -> str | None:
        if raw is None:
            if italian and kind == CONSUMER:
                self.error("tax_code", "is required for an Italian consumer (codice fiscale)")
            return None
        value = compact(raw)
        if kind == CONSUMER and len(value) != 16:
            self.error("tax_code", "a person's codice fiscale has 16 letters and digits")
        elif problem := tax_code_problem(value):
            self.error("tax_code", problem)
        return value

    def sdi_code(self, raw: str | None, kind: str, italian: bool) -> str | None:
        if raw is None:
            return None
        value = raw.upper()
        if not (italian and kind == BUSINESS):
            self.error("sdi_code", "only an Italian business has an SDI code")
        elif not _SDI_CODE.fullmatch(value) or value == FOREIGN_SDI_CODE:
            self.error("sdi_code", "must be the 7 letters and digits SDI gave the business")
        return None if value == NO_SDI_CODE else value

    def pec(self, raw: str | None, kind: str, italian: bool) -> str | None:
        if raw is None:
            return None
        if not (italian and kind == BUSINESS):
            self.error("pec", "only an Italian business receives e-invoices by PEC")
        elif len(raw) > 256 or not _PEC.fullmatch(raw):
            self.error("pec", "must be an email address (PEC)")
        return raw


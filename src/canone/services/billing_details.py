"""Checking an account's billing details (SPEC §8) as a person typed them.

`check_billing_details` trims and normalises every value (VAT ids get their country prefix,
codes go to capitals) and checks them with real checksums (python-stdnum): the VAT id of
every EU state, the codice fiscale, the Italian province. It reports every wrong field at
once, each named as the API and the forms name it (`vat_id`, `address.province`, …).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from babel import Locale

from canone.billing.parties import Address, BillingDetails, details_to_json
from canone.billing.tax import BUSINESS, CONSUMER, KINDS, SELLER_COUNTRY
from canone.billing.vat_rates import VatRates, default_vat_rates, vat_prefix
from canone.services.access import (
    Actor,
    load_account,
    require_billing,
    require_primary_admin,
)
from canone.services.context import Services, record_change
from canone.services.errors import InvalidBillingDetails, NotFound
from canone.services.records import AccountBillingDetails
from canone.services.store import Store
from canone.services.tax_ids import (
    compact,
    eu_vat_id_problem,
    foreign_tax_id_problem,
    italian_vat_number_problem,
    tax_code_problem,
)
from canone.services.vies import ViesCheck

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

# What every customer's billing details have (the rest depends on its kind and country).
REQUIRED = ("kind", "legal_name", "address.street", "address.postcode", "address.city",
            "address.country")
NO_SDI_CODE = "0000000"  # no code: the file waits in the customer's tax drawer (or PEC)
FOREIGN_SDI_CODE = "XXXXXXX"  # what a file to a customer abroad is addressed to
_SDI_CODE = re.compile(r"[A-Z0-9]{7}")
_PEC = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


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
        if country != SELLER_COUNTRY and province is not None:
            province = province.upper()  # FatturaPA's Provincia is two letters
            if not re.fullmatch(r"[A-Z]{2}", province):
                self.error("address.province", "abroad, a region's code of two letters "
                           "(e.g. a US state, CA) or nothing")
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



# -- the use cases: read and save an account's billing details ----------------------------


def vies_to_json(vies: ViesCheck | None) -> dict[str, Any] | None:
    return None if vies is None else {
        "valid": vies.valid, "checked_at": vies.checked_at.isoformat(), "name": vies.name,
        "address": vies.address, "consultation_id": vies.consultation_id}


def vies_from_json(raw: dict[str, Any] | None) -> ViesCheck | None:
    return None if raw is None else ViesCheck(
        raw["valid"], datetime.fromisoformat(raw["checked_at"]), raw["name"], raw["address"],
        raw["consultation_id"])


def vies_decides(details: BillingDetails, rates: VatRates | None = None) -> bool:
    """Whether VIES's answer decides this customer's rule: an EU business outside Italy
    with a VAT id (reverse charge when confirmed). An Italian business is domestic whatever
    VIES says, and many are not registered there, so it is not asked."""
    return (details.is_business and details.vat_id is not None
            and details.country != SELLER_COUNTRY
            and details.country in (rates or default_vat_rates()).countries)


def vies_check(svc: Services, details: BillingDetails) -> ViesCheck | None:
    """VIES's answer for the details' VAT id, when it decides something (else None)."""
    if svc.vies is None or not vies_decides(details) or details.vat_id is None:
        return None
    return svc.vies.check(details.vat_id, svc.now())


def get(svc: Services, actor: Actor, account_id: str) -> AccountBillingDetails:
    """The account's billing details with VIES's last answer; NotFound when none saved."""
    with svc.database.read() as store:
        load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "see the billing details")
        saved = store.accounts.billing_details_of(account_id)
    if saved is None:
        raise NotFound(f"account {account_id} has no billing details yet")
    return saved


def save(svc: Services, actor: Actor, account_id: str, details: BillingDetails
         ) -> AccountBillingDetails:
    """Check and store the details (every wrong field named at once), asking VIES about an
    EU business's VAT id. They apply to the documents issued from now on only."""
    with svc.database.read() as store:
        load_account(store, actor, account_id)
        require_primary_admin(store, actor, account_id, "change the billing details")
    checked = check_billing_details(details)
    vies = vies_check(svc, checked)  # outside the transaction: VIES may take seconds
    with svc.database.transaction() as store:
        load_account(store, actor, account_id, lock=True)
        before = store.accounts.billing_details_of(account_id, lock=True)
        saved = AccountBillingDetails(account_id, checked, vies,
                                      before.card_country if before else None, svc.now())
        store_details(svc, store, saved, before, actor.name)
    return saved


def store_details(svc: Services, store: Store, saved: AccountBillingDetails,
                  before: AccountBillingDetails | None, actor: str) -> None:
    """Save the details with their audit entry and the `account.updated` event."""
    store.accounts.save_billing_details(saved)
    record_change(svc, store, account_id=saved.account_id, actor=actor,
                  action="account.billing_details_updated",
                  before=None if before is None else _audited(before),
                  after=_audited(saved), event="account.updated",
                  data={"account_id": saved.account_id,
                        "billing_details": details_to_json(saved.details)})


def _audited(saved: AccountBillingDetails) -> dict[str, Any]:
    return {"billing_details": details_to_json(saved.details), "vies": vies_to_json(saved.vies)}


def note_card_country(svc: Services, account_id: str, country: str | None) -> None:
    """Keep the card's country (as the payment provider reports it) beside the billing
    details: a second piece of evidence of where the customer is (§8). Without saved
    details there is nothing to compare it with yet, and nothing is kept."""
    with svc.database.transaction() as store:
        saved = store.accounts.billing_details_of(account_id, lock=True)
        if saved is not None and saved.card_country != country:
            store.accounts.save_billing_details(saved.but(card_country=country))


def card_country_mismatch(saved: AccountBillingDetails) -> bool:
    """The card's country is known and is not the billing country: support looks at it."""
    return saved.card_country is not None and saved.card_country != saved.details.country


VIES_MAX_AGE = timedelta(days=30)  # §8: checked again before use when older than this


def vies_stale(svc: Services, saved: AccountBillingDetails | None) -> bool:
    """Whether a document issued now must ask VIES again first (`details_for_document`)."""
    if saved is None or svc.vies is None or not vies_decides(saved.details):
        return False
    vies = saved.vies
    return vies is None or vies.valid is None or svc.now() - vies.checked_at > VIES_MAX_AGE


def details_for_document(svc: Services, account_id: str) -> AccountBillingDetails | None:
    """The details a document issued now takes, with VIES asked again when its answer
    decides the rule and is over 30 days old or was no answer (VIES unreachable)."""
    with svc.database.read() as store:
        saved = store.accounts.billing_details_of(account_id)
    if saved is None or not vies_stale(svc, saved):
        return saved
    vies = vies_check(svc, saved.details)
    with svc.database.transaction() as store:
        current = store.accounts.billing_details_of(account_id, lock=True)
        if current is None or current.details != saved.details:
            return current  # changed meanwhile: that save asked VIES itself
        fresh = current.but(vies=vies)
        store.accounts.save_billing_details(fresh)
        record_change(svc, store, account_id=account_id, actor="system",
                      action="account.vies_checked", before={"vies": vies_to_json(current.vies)},
                      after={"vies": vies_to_json(vies)})
    return fresh


def confirmed(saved: AccountBillingDetails) -> bool:
    """Whether VIES confirmed the VAT id (what makes an EU business reverse charge)."""
    return saved.vies is not None and saved.vies.confirmed

"""The selling company, from a TOML file (`CANONE_SELLER`; SPEC §8).

`parse_seller_text` reads and checks all of a file, collecting every problem with its place
before raising one `DataFileError`, as the catalog does. Shapes are checked here; the real
checksums of the VAT number, codice fiscale and IBAN need a library outside the standard
library, so the caller passes them in as `IdChecks` (canone.services.sellers does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from canone.billing.data_files import TreeReader, packaged_text, parse_toml, read_text
from canone.billing.errors import DataFileError
from canone.billing.parties import Address, address_from_json, address_to_json

REGIMES = {"RF01": "ordinary"}  # the only RegimeFiscale canone's tax rules implement
TIME_ZONE = "Europe/Rome"  # an Italian seller's calendar dates documents and series
DEMO_FILE = "seller-demo.toml"

_KEYS = {"demo", "legal_name", "vat_number", "tax_code", "tax_regime", "einvoicing", "oss",
         "iban", "email", "address", "rea", "transmitter"}
_ADDRESS_KEYS = {"street", "postcode", "city", "province", "country"}
_REA_KEYS = {"office", "number", "share_capital", "sole_shareholder", "in_liquidation"}


@dataclass(frozen=True, slots=True)
class ReaEntry:
    """The company's entry in the Registro delle Imprese (FatturaPA `IscrizioneREA`)."""

    office: str  # province of the chamber of commerce, e.g. "MI"
    number: str
    share_capital: Decimal | None
    sole_shareholder: str | None  # "SU" one shareholder, "SM" several
    in_liquidation: bool


@dataclass(frozen=True, slots=True)
class Transmitter:
    """Who sends the files to SDI (the seller or its intermediary): country and fiscal id."""

    country: str
    id: str


@dataclass(frozen=True, slots=True)
class Seller:
    legal_name: str
    address: Address
    vat_number: str  # the partita IVA's 11 digits, without "IT"
    tax_code: str  # codice fiscale (a company's is usually its VAT number)
    tax_regime: str  # "RF01"
    transmitter: Transmitter
    einvoicing: bool  # every document is also a FatturaPA file sent to SDI
    oss: bool  # registered for the One-Stop Shop: EU consumers pay their own state's VAT
    demo: bool = False
    rea: ReaEntry | None = None
    iban: str | None = None
    email: str | None = None

    @property
    def vat_id(self) -> str:
        return f"IT{self.vat_number}"

    @property
    def time_zone(self) -> str:
        return TIME_ZONE

    def document_date(self, instant: datetime) -> date:
        return document_date(instant)


def document_date(instant: datetime) -> date:
    """A document's date, and so its yearly series, is the seller's calendar day: a Tokyo
    customer's 1 January is still 31 December in Rome."""
    return instant.astimezone(ZoneInfo(TIME_ZONE)).date()


class IdChecks(Protocol):
    """Real checksums; each answers None when the value is valid, else what is wrong."""

    def italian_vat_number(self, number: str) -> str | None: ...

    def tax_code(self, code: str) -> str | None: ...

    def iban(self, iban: str) -> str | None: ...


def demo_seller_text() -> str:
    return packaged_text(DEMO_FILE)


def load_seller(path: str | Path, checks: IdChecks | None = None) -> Seller:
    return parse_seller_text(read_text(Path(path), DataFileError), str(path), checks)


def parse_seller_text(text: str, source: str, checks: IdChecks | None = None) -> Seller:
    return _SellerReader(parse_toml(text, source, DataFileError), checks).read()


_PROVINCE = re.compile(r"[A-Z]{2}")
_POSTCODE = re.compile(r"[0-9]{5}")
_VAT_NUMBER = re.compile(r"[0-9]{11}")
_TAX_CODE = re.compile(r"[0-9]{11}|[A-Z0-9]{16}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def _amount(raw: Any) -> Decimal | None:
    try:
        return Decimal(raw) if isinstance(raw, str) else None
    except InvalidOperation:
        return None


class _SellerReader(TreeReader):
    def __init__(self, data: dict[str, Any], checks: IdChecks | None) -> None:
        super().__init__(data)
        self.checks = checks

    def read(self) -> Seller:
        d = self.data
        self.unknown_keys(d, _KEYS, "")
        demo = self.flag(d, "demo", required=False)
        regime = self.text(d, "tax_regime", 4) or "RF01"
        if regime not in REGIMES:
            self.problem("tax_regime", f"{regime!r} is not supported: canone implements only "
                         "RF01 (regime ordinario); a seller under another regime (e.g. RF19 "
                         "forfettario) needs other VAT rules and must not use it")
        einvoicing = self.flag(d, "einvoicing")
        if not einvoicing and not demo:
            self.problem("einvoicing", "must be true for an Italian seller (false only for a "
                         "demo seller)")
        seller = Seller(
            legal_name=self.text(d, "legal_name", 80) or "",
            address=self.address(d.get("address")),
            vat_number=self.vat_number(d.get("vat_number")),
            tax_code=self.tax_code(d.get("tax_code"), "tax_code"),
            tax_regime=regime,
            transmitter=self.transmitter(d.get("transmitter")),
            einvoicing=einvoicing,
            oss=self.flag(d, "oss"),
            demo=demo,
            rea=self.rea(d.get("rea")),
            iban=self.iban(d.get("iban")),
            email=self.email(d.get("email")),
        )
        if self.problems:
            raise DataFileError(self.problems)
        return seller

    # -- parts -------------------------------------------------------------------------------

    def address(self, raw: Any) -> Address:
        if not isinstance(raw, dict):
            self.problem("address", "missing: a table with street, postcode, city, province, "
                         "country")
            return Address("", "", "", None, "")
        self.unknown_keys(raw, _ADDRESS_KEYS, "address")
        country = self.text(raw, "country", 2, "address") or ""
        if country and country != "IT":
            self.problem("address.country", f"{country!r}: canone's tax rules are an Italian "
                         "seller's; the seller must be in Italy (IT)")
        return Address(
            street=self.text(raw, "street", 60, "address") or "",
            postcode=self.pattern(raw, "postcode", _POSTCODE, "5 digits", "address") or "",
            city=self.text(raw, "city", 60, "address") or "",
            province=self.pattern(raw, "province", _PROVINCE, "2 capital letters (e.g. MI)",
                                  "address"),
            country=country,
        )

    def vat_number(self, raw: Any) -> str:
        value = raw.removeprefix("IT") if isinstance(raw, str) else raw
        if not isinstance(value, str) or not _VAT_NUMBER.fullmatch(value):
            self.problem("vat_number", "must be the partita IVA: IT and 11 digits")
            return ""
        self.checked("vat_number", value, self.checks and self.checks.italian_vat_number)
        return value

    def tax_code(self, raw: Any, where: str) -> str:
        if not isinstance(raw, str) or not _TAX_CODE.fullmatch(raw):
            self.problem(where, "must be a codice fiscale: 11 digits, or 16 capital letters "
                         "and digits")
            return ""
        self.checked(where, raw, self.checks and self.checks.tax_code)
        return raw

    def transmitter(self, raw: Any) -> Transmitter:
        if not isinstance(raw, dict):
            self.problem("transmitter", "missing: a table with country and id (the codice "
                         "fiscale of whoever sends the files to SDI)")
            return Transmitter("", "")
        self.unknown_keys(raw, {"country", "id"}, "transmitter")
        country = self.text(raw, "country", 2, "transmitter") or ""
        if country and country != "IT":
            self.problem("transmitter.country", "must be IT: SDI takes files from Italian "
                         "transmitters")
        return Transmitter(country, self.tax_code(raw.get("id"), "transmitter.id"))

    def rea(self, raw: Any) -> ReaEntry | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problem("rea", "must be a table with office, number, in_liquidation")
            return None
        self.unknown_keys(raw, _REA_KEYS, "rea")
        capital = raw.get("share_capital")
        share_capital = _amount(capital)
        if capital is not None and (share_capital is None or not share_capital.is_finite()
                                    or share_capital < 0):
            self.problem("rea.share_capital", "must be an amount as a string, e.g. "
                         "\"10000.00\"")
            share_capital = None
        shareholder = raw.get("sole_shareholder")
        if shareholder not in (None, "SU", "SM"):
            self.problem("rea.sole_shareholder", "must be SU (one shareholder) or SM (several)")
            shareholder = None
        return ReaEntry(
            office=self.pattern(raw, "office", _PROVINCE, "2 capital letters (e.g. MI)", "rea")
            or "",
            number=self.text(raw, "number", 20, "rea") or "",
            share_capital=share_capital,
            sole_shareholder=shareholder,
            in_liquidation=self.flag(raw, "in_liquidation", where="rea"),
        )

    def iban(self, raw: Any) -> str | None:
        if raw is None:
            return None
        value = raw.replace(" ", "") if isinstance(raw, str) else ""
        if not _IBAN.fullmatch(value):
            self.problem("iban", "must be an IBAN (e.g. IT60X0542811101000000123456)")
            return None
        self.checked("iban", value, self.checks and self.checks.iban)
        return value

    def email(self, raw: Any) -> str | None:
        if raw is None:
            return None
        if not isinstance(raw, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw):
            self.problem("email", "must be an email address")
            return None
        return raw

    # -- scalars -----------------------------------------------------------------------------

    def checked(self, where: str, value: str, check: Any) -> None:
        message = check(value) if check else None
        if message:
            self.problem(where, message)

    def unknown_keys(self, raw: dict[str, Any], known: set[str], where: str) -> None:
        for key in raw:
            if key not in known:
                place = f"{where}.{key}" if where else key
                self.problem(place, "unknown key; allowed: " + ", ".join(sorted(known)))

    def text(self, raw: dict[str, Any], key: str, most: int, where: str = "") -> str | None:
        place = f"{where}.{key}" if where else key
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(place, "missing or not a non-empty string")
            return None
        if len(value) > most:
            self.problem(place, f"at most {most} characters (FatturaPA), has {len(value)}")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError as exc:
            self.problem(place, f"{value[exc.start]!r} cannot be written in a FatturaPA file "
                         "(Latin-1 characters only)")
        return value

    def pattern(self, raw: dict[str, Any], key: str, shape: re.Pattern[str], says: str,
                where: str) -> str | None:
        value = raw.get(key)
        if not isinstance(value, str) or not shape.fullmatch(value):
            self.problem(f"{where}.{key}", f"must be {says}")
            return None
        return value

    def flag(self, raw: dict[str, Any], key: str, required: bool = True,
             where: str = "") -> bool:
        value = raw.get(key)
        if value is None and not required:
            return False
        if not isinstance(value, bool):
            self.problem(f"{where}.{key}" if where else key, "must be true or false")
            return False
        return value


# -- the seller a document was issued by, as the document keeps it ----------------------------


def seller_to_json(seller: Seller) -> dict[str, Any]:
    """The seller as an invoice keeps it (a later change of the file changes no document)."""
    t, rea = seller.transmitter, seller.rea
    return {
        "legal_name": seller.legal_name, "address": address_to_json(seller.address),
        "vat_number": seller.vat_number, "tax_code": seller.tax_code,
        "tax_regime": seller.tax_regime,
        "transmitter": {"country": t.country, "id": t.id},
        "einvoicing": seller.einvoicing, "oss": seller.oss, "demo": seller.demo,
        "rea": None if rea is None else {
            "office": rea.office, "number": rea.number,
            "share_capital": None if rea.share_capital is None else str(rea.share_capital),
            "sole_shareholder": rea.sole_shareholder, "in_liquidation": rea.in_liquidation},
        "iban": seller.iban, "email": seller.email,
    }


def seller_from_json(raw: dict[str, Any]) -> Seller:
    t, rea = raw["transmitter"], raw["rea"]
    return Seller(
        legal_name=raw["legal_name"], address=address_from_json(raw["address"]),
        vat_number=raw["vat_number"], tax_code=raw["tax_code"], tax_regime=raw["tax_regime"],
        transmitter=Transmitter(t["country"], t["id"]), einvoicing=raw["einvoicing"],
        oss=raw["oss"], demo=raw["demo"],
        rea=None if rea is None else ReaEntry(
            rea["office"], rea["number"],
            None if rea["share_capital"] is None else Decimal(rea["share_capital"]),
            rea["sole_shareholder"], rea["in_liquidation"]),
        iban=raw["iban"], email=raw["email"])

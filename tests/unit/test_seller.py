"""The seller file (SPEC §8): the demo seller, and broken files reported in one pass."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from canone.billing.errors import DataFileError
from canone.billing.parties import Address
from canone.billing.seller import demo_seller_text, parse_seller_text
from canone.services.sellers import seller_in_effect
from canone.services.tax_ids import StdnumChecks
from canone.settings import Settings
from datafiles import DATA, validate, with_edits

DEMO = demo_seller_text()
DEMO_FILE = DATA / "seller-demo.toml"
edited = partial(with_edits, DEMO)  # the demo seller with (old, new) edits


def problems_of(text: str) -> list[str]:
    with pytest.raises(DataFileError) as error:
        parse_seller_text(text, "seller.toml", StdnumChecks())
    return error.value.problems


def test_the_demo_seller_is_an_italian_company_named_as_a_demo() -> None:
    seller = seller_in_effect(None)
    assert seller.demo is True
    assert "demo" in seller.legal_name
    assert seller.address == Address("Via della Moscova 1", "20121", "Milano", "MI", "IT")
    assert (seller.vat_id, seller.tax_code, seller.tax_regime) == (
        "IT12345670017", "12345670017", "RF01")
    assert (seller.transmitter.country, seller.transmitter.id) == ("IT", "12345670017")
    assert (seller.einvoicing, seller.oss, seller.time_zone) == (True, True, "Europe/Rome")
    assert seller.rea is not None and seller.rea.share_capital == Decimal("10000.00")
    assert seller.iban == "IT60X0542811101000000123456"


def test_a_document_is_dated_in_the_seller_s_calendar_not_the_customer_s() -> None:
    seller = seller_in_effect(None)
    new_year_in_tokyo = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 01:00 on 1 Jan in Tokyo
    assert str(seller.document_date(new_year_in_tokyo)) == "2026-12-31"  # 17:00 in Rome
    assert str(seller.document_date(datetime(2026, 12, 31, 23, 0, tzinfo=UTC))) == "2027-01-01"
    assert str(seller.document_date(datetime(2026, 7, 31, 22, 30, tzinfo=UTC))) == "2026-08-01"


def test_canone_seller_names_the_file_in_effect(tmp_path: Path) -> None:
    path = tmp_path / "seller.toml"
    path.write_text(edited(('legal_name = "Canone Demo S.r.l. (demo seller)"',
                            'legal_name = "Bottega Digitale S.p.A."'), ("demo = true\n", "")))
    assert Settings.from_env({"CANONE_SELLER": str(path)}).seller == str(path)
    assert Settings.from_env({}).seller is None
    seller = seller_in_effect(str(path))
    assert (seller.legal_name, seller.demo) == ("Bottega Digitale S.p.A.", False)


def test_a_regime_other_than_rf01_is_refused_with_a_clear_message() -> None:
    assert problems_of(edited(('tax_regime = "RF01"', 'tax_regime = "RF19"'))) == [
        "tax_regime: 'RF19' is not supported: canone implements only RF01 (regime ordinario); "
        "a seller under another regime (e.g. RF19 forfettario) needs other VAT rules and must "
        "not use it"]


def test_only_a_demo_seller_may_file_no_e_invoices() -> None:
    text = edited(("einvoicing = true ", "einvoicing = false"))
    assert parse_seller_text(text, "seller.toml").einvoicing is False
    assert problems_of(edited(("einvoicing = true ", "einvoicing = false"),
                              ("demo = true\n", ""))) == [
        "einvoicing: must be true for an Italian seller (false only for a demo seller)"]


def test_real_checksums_are_checked_for_the_vat_number_codice_fiscale_and_iban() -> None:
    text = edited(('vat_number = "IT12345670017"', 'vat_number = "IT12345670018"'),
                  ('tax_code = "12345670017"', 'tax_code = "RSSMRA85T10A562T"'),
                  ('iban = "IT60X0542811101000000123456"', 'iban = "IT60X0542811101000000123457"'))
    checksum = "(the number's checksum or check digit is invalid)"
    assert problems_of(text) == [
        f"vat_number: not a valid partita IVA {checksum}",
        f"tax_code: not a valid codice fiscale {checksum}",
        f"iban: not a valid IBAN {checksum}",
    ]
    # Without the checks (the billing core alone), the shapes are right.
    assert parse_seller_text(text, "seller.toml").vat_number == "12345670018"


def test_a_person_s_codice_fiscale_is_accepted() -> None:
    seller = parse_seller_text(edited(('tax_code = "12345670017"',
                                       'tax_code = "RSSMRA85T10A562S"')), "s", StdnumChecks())
    assert seller.tax_code == "RSSMRA85T10A562S"


def test_a_broken_file_lists_every_problem_with_its_place() -> None:
    text = edited(('postcode = "20121"', 'postcode = "2012"'),
                  ('province = "MI"\ncountry = "IT"', 'country = "FR"'),
                  ("oss = true ", 'oss = "yes"'),
                  ('office = "MI"', 'office = "Milano"'),
                  ('legal_name = "Canone Demo S.r.l. (demo seller)"',
                   'legal_name = "Łódź Sp. z o.o."\ncolour = "red"'),
                  ('[transmitter]', '[transmitter]\nname = "x"'))
    assert problems_of(text) == [
        "colour: unknown key; allowed: address, demo, einvoicing, email, iban, legal_name, "
        "oss, rea, tax_code, tax_regime, transmitter, vat_number",
        "legal_name: 'Ł' cannot be written in a FatturaPA file (Latin-1 characters only)",
        "address.country: 'FR': canone's tax rules are an Italian seller's; the seller must be "
        "in Italy (IT)",
        "address.postcode: must be 5 digits",
        "address.province: must be 2 capital letters (e.g. MI)",
        "transmitter.name: unknown key; allowed: country, id",
        "oss: must be true or false",
        "rea.office: must be 2 capital letters (e.g. MI)",
    ]


# -- canone seller validate ------------------------------------------------------------------


def test_seller_validate_accepts_the_demo_seller_and_says_it_is_a_demo() -> None:
    result = validate("seller", DEMO_FILE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{DEMO_FILE}: ok (Canone Demo S.r.l. (demo seller), VAT "
                             "IT12345670017, e-invoicing on, OSS on, a DEMO seller)\n")


def test_seller_validate_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "seller.toml"
    path.write_text(edited(('tax_regime = "RF01"', 'tax_regime = "RF02"'),
                           ('vat_number = "IT12345670017"', 'vat_number = "12345"')))
    result = validate("seller", path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "tax_regime: 'RF02' is not supported: canone implements only RF01 (regime ordinario); "
        "a seller under another regime (e.g. RF19 forfettario) needs other VAT rules and must "
        "not use it",
        "vat_number: must be the partita IVA: IT and 11 digits",
    ]


def test_seller_validate_reports_invalid_toml_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "seller.toml"
    path.write_text("legal_name = \n")
    result = validate("seller", path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}: not valid TOML: ")

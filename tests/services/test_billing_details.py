"""Billing details (SPEC §8) checked with real checksums; every wrong field named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from canone.billing.parties import Address, BillingDetails
from canone.billing.tax import TaxCustomer
from canone.services.billing_details import check_billing_details
from canone.services.errors import InvalidBillingDetails

MILANO = Address("Via Torino 10", "20123", "Milano", "MI", "IT")
BERLIN = Address("Unter den Linden 5", "10117", "Berlin", None, "DE")
CHECKSUM = "(the number's checksum or check digit is invalid)"


def business(vat_id: str | None, address: Address = BERLIN, **more: str) -> BillingDetails:
    return BillingDetails("business", "Example GmbH", address, vat_id=vat_id, **more)


def errors_of(details: BillingDetails) -> dict[str, str]:
    with pytest.raises(InvalidBillingDetails) as error:
        check_billing_details(details)
    assert (error.value.field, error.value.message) == next(iter(error.value.errors.items()))
    return error.value.errors


@pytest.mark.parametrize(("country", "typed", "stored"), [
    ("IT", "IT00743110157", "IT00743110157"),
    ("IT", "00743110157", "IT00743110157"),
    ("DE", "DE 136 695 976", "DE136695976"),
    ("FR", "FR40303265045", "FR40303265045"),
    ("GR", "EL094259216", "EL094259216"),
    ("GR", "GR094259216", "EL094259216"),
    ("GR", "094259216", "EL094259216"),
    ("AT", "ATU13585627", "ATU13585627"),
    ("NL", "NL004495445B01", "NL004495445B01"),
    ("ES", "ES-X2482300W", "ESX2482300W"),
    ("IE", "IE6388047V", "IE6388047V"),
])
def test_a_valid_eu_vat_id_is_accepted_and_stored_with_its_prefix(
        country: str, typed: str, stored: str) -> None:
    address = MILANO if country == "IT" else Address("Street 1", "1000", "City", None, country)
    assert check_billing_details(business(typed, address)).vat_id == stored


@pytest.mark.parametrize(("country", "typed", "message"), [
    ("IT", "IT00743110158", f"not a valid partita IVA {CHECKSUM}"),
    ("DE", "DE136695977", f"not a valid DE VAT id {CHECKSUM}"),
    ("FR", "FR41303265045", f"not a valid FR VAT id {CHECKSUM}"),
    ("GR", "EL094259217", f"not a valid GR VAT id {CHECKSUM}"),
    ("NL", "NL004495446B01", f"not a valid NL VAT id {CHECKSUM}"),
    ("DE", "FR40303265045", "must be a VAT id of DE (starting with DE)"),
    ("IT", "DE136695976", "must be a VAT id of IT (starting with IT)"),
])
def test_a_wrong_eu_vat_id_is_refused_naming_the_field(
        country: str, typed: str, message: str) -> None:
    address = MILANO if country == "IT" else Address("Street 1", "1000", "City", None, country)
    assert errors_of(business(typed, address)) == {"vat_id": message}


def test_an_italian_consumer_needs_a_valid_codice_fiscale() -> None:
    consumer = BillingDetails("consumer", "Mario Rossi", MILANO, tax_code="rssmra85t10a562s")
    assert check_billing_details(consumer).tax_code == "RSSMRA85T10A562S"
    assert errors_of(BillingDetails("consumer", "Mario Rossi", MILANO)) == {
        "tax_code": "is required for an Italian consumer (codice fiscale)"}
    assert errors_of(BillingDetails("consumer", "Mario Rossi", MILANO,
                                    tax_code="RSSMRA85T10A562T")) == {
        "tax_code": f"not a valid codice fiscale {CHECKSUM}"}
    assert errors_of(BillingDetails("consumer", "Mario Rossi", MILANO,
                                    tax_code="00743110157")) == {
        "tax_code": "a person's codice fiscale has 16 letters and digits"}


def test_an_italian_business_needs_a_partita_iva_and_may_give_an_sdi_code_or_pec() -> None:
    details = check_billing_details(business(
        "00743110157", MILANO, tax_code="00743110157", sdi_code="m5uxcr1", pec="fatture@pec.it"))
    assert (details.vat_id, details.tax_code, details.sdi_code, details.pec) == (
        "IT00743110157", "00743110157", "M5UXCR1", "fatture@pec.it")
    assert check_billing_details(business("00743110157", MILANO, sdi_code="0000000")
                                 ).sdi_code is None
    assert errors_of(business(None, MILANO)) == {
        "vat_id": "is required for an Italian business (partita IVA)"}
    assert errors_of(business("00743110157", MILANO, sdi_code="ABC12")) == {
        "sdi_code": "must be the 7 letters and digits SDI gave the business"}
    assert errors_of(business("00743110157", MILANO, pec="not-an-address")) == {
        "pec": "must be an email address (PEC)"}


def test_the_italian_province_is_required_and_must_exist() -> None:
    no_province = Address("Via Torino 10", "20123", "Milano", None, "IT")
    assert errors_of(business("00743110157", no_province)) == {
        "address.province": "is required in Italy (e.g. MI, RM)"}
    made_up = Address("Via Torino 10", "20123", "Milano", "XY", "IT")
    assert errors_of(business("00743110157", made_up)) == {
        "address.province": "'XY' is not an Italian province (two letters, e.g. MI, RM)"}
    lower = Address("Via Torino 10", "20123", "Milano", "rm", "IT")
    assert check_billing_details(business("00743110157", lower)).address.province == "RM"


def test_sdi_code_and_pec_belong_to_italian_businesses_only() -> None:
    assert errors_of(business("DE136695976", sdi_code="M5UXCR1", pec="a@b.de")) == {
        "sdi_code": "only an Italian business has an SDI code",
        "pec": "only an Italian business receives e-invoices by PEC"}


def test_a_consumer_has_no_vat_id_and_gives_first_and_last_name() -> None:
    paris = Address("1 rue de Rivoli", "75001", "Paris", None, "FR")
    assert errors_of(BillingDetails("consumer", "Camille", paris, vat_id="FR40303265045")) == {
        "legal_name": "a consumer's first and last name, e.g. Maria Rossi",
        "vat_id": "a consumer has no VAT id; a business is kind business"}
    details = check_billing_details(BillingDetails("consumer", " Camille  Martin ", paris))
    assert (details.legal_name, details.vat_id, details.tax_code) == ("Camille Martin", None, None)


def test_an_eu_business_may_have_no_vat_id_and_a_us_business_any_tax_id() -> None:
    assert check_billing_details(business(None)).vat_id is None
    austin = Address("100 Congress Ave", "78701", "Austin", "TX", "US")
    assert check_billing_details(business("12-3456789", austin)).vat_id == "123456789"


def test_every_wrong_field_is_reported_at_once_with_its_name() -> None:
    details = BillingDetails("company", "", Address("", "2012", "", None, "Italy"))
    assert errors_of(details) == {
        "kind": "must be business or consumer",
        "address.country": "must be a country code of two letters (ISO 3166), e.g. IT, DE, "
                           "FR, US",
        "address.street": "is required",
        "address.city": "is required",
        "legal_name": "is required",
    }
    assert errors_of(business("00743110157", Address("Via Roma 1", "2012", "Roma", "RM",
                                                      "it"))) == {
        "address.postcode": "an Italian postcode (CAP) has 5 digits"}


def test_only_a_business_with_a_vat_id_counts_as_vies_confirmed_for_the_tax_rule() -> None:
    paris = Address("1 rue de Rivoli", "75001", "Paris", None, "FR")
    assert business("DE136695976").tax_customer(True) == TaxCustomer("DE", "business", True)
    assert business(None).tax_customer(True) == TaxCustomer("DE", "business", False)
    assert business("DE136695976").tax_customer(False) == TaxCustomer("DE", "business", False)
    consumer = BillingDetails("consumer", "Camille Martin", paris)
    assert consumer.tax_customer(True) == TaxCustomer("FR", "consumer", False)


def test_a_province_abroad_is_a_two_letter_code_or_nothing() -> None:
    boston = Address("1 Main St", "02110", "Boston", "ma", "US")
    assert check_billing_details(business("91-1234567", boston)).address.province == "MA"
    assert errors_of(business("911234567", replace(boston, province="Massachusetts"))) == {
        "address.province": "abroad, a region's code of two letters (e.g. a US state, CA) "
                            "or nothing"}

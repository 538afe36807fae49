"""The tax rules of SPEC §8, worked through with exact amounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from canone.billing.errors import DataFileError, InvalidField
from canone.billing.tax import (
    BUSINESS,
    CONSUMER,
    DOMESTIC,
    OSS,
    OUTSIDE_SCOPE,
    REVERSE_CHARGE,
    TaxCustomer,
    apply_credit,
    charge_now,
    draft,
    stamp_duty,
    treatment_for,
)
from canone.billing.vat_rates import default_vat_rates, parse_vat_rates_text, vat_prefix

RATES = default_vat_rates()
DAY = date(2026, 3, 16)


@dataclass(frozen=True)
class Line:
    description: str
    amount: Decimal


# The upgrade of SPEC §4: marketing plus → enterprise at 1,000 contacts on day 16 of 30.
UPGRADE = [Line("Marketing Plus, unused time", Decimal("-24.50")),
           Line("Marketing Enterprise, remaining time", Decimal("72.50"))]
RENEWAL = [Line("Marketing Enterprise, monthly", Decimal("145.00"))]


def rule(country: str, kind: str, confirmed: bool = False, oss: bool = True, on: date = DAY):
    return treatment_for(TaxCustomer(country, kind, confirmed), seller_oss=oss, on=on,
                         rates=RATES)


# -- domestic --------------------------------------------------------------------------------


def test_an_italian_business_pays_22_percent_on_the_48_00_upgrade() -> None:
    treatment = rule("IT", BUSINESS, confirmed=True)
    document = draft(UPGRADE, treatment)
    assert (treatment.rule, treatment.rate, treatment.natura) == (DOMESTIC, Decimal("22"), None)
    assert document.subtotal == Decimal("48.00")
    assert [(t.rule, t.rate, t.taxable, t.amount) for t in document.tax_lines] == [
        (DOMESTIC, Decimal("22"), Decimal("48.00"), Decimal("10.56"))]
    assert document.tax == Decimal("10.56")
    assert document.total == Decimal("58.56")
    assert apply_credit(document.total, Decimal("0.00")).amount_due == Decimal("58.56")
    assert document.tax_lines[0].note_text("en") == "VAT 22 %"
    assert document.tax_lines[0].note_text("it") == "IVA 22 %"
    assert stamp_duty(document.tax_lines) == Decimal("0.00")


def test_an_italian_consumer_pays_the_same_22_percent() -> None:
    document = draft(RENEWAL, rule("IT", CONSUMER))
    assert (document.tax, document.total) == (Decimal("31.90"), Decimal("176.90"))


# -- other EU states -------------------------------------------------------------------------


def test_a_german_business_with_a_vies_confirmed_vat_id_is_reverse_charged() -> None:
    treatment = rule("DE", BUSINESS, confirmed=True)
    document = draft(UPGRADE, treatment)
    assert (treatment.rule, treatment.rate, treatment.natura) == (REVERSE_CHARGE, 0, "N2.1")
    assert (document.subtotal, document.tax, document.total) == (
        Decimal("48.00"), Decimal("0.00"), Decimal("48.00"))
    assert treatment.note_text("en") == "Reverse charge, art. 7-ter DPR 633/72"
    assert treatment.note_text("it") == "Inversione contabile, art. 7-ter DPR 633/72"


def test_a_german_business_whose_vat_id_vies_has_not_confirmed_pays_german_vat_by_oss() -> None:
    document = draft(UPGRADE, rule("DE", BUSINESS, confirmed=False, oss=True))
    assert [(t.rule, t.rate, t.amount) for t in document.tax_lines] == [
        (OSS, Decimal("19"), Decimal("9.12"))]
    assert document.total == Decimal("57.12")


def test_a_french_consumer_pays_french_vat_when_the_seller_uses_oss() -> None:
    treatment = rule("FR", CONSUMER, oss=True)
    document = draft(UPGRADE, treatment)
    assert (treatment.rule, treatment.rate, treatment.country, treatment.natura) == (
        OSS, Decimal("20"), "FR", "N7")
    assert (document.tax, document.total) == (Decimal("9.60"), Decimal("57.60"))
    assert treatment.note_text("en") == "VAT FR 20 %"
    assert treatment.note_text("it") == "IVA FR 20 %"
    assert stamp_duty(document.tax_lines) == Decimal("0.00")  # VAT is charged, abroad


def test_a_french_consumer_pays_italian_vat_when_the_seller_is_under_the_oss_threshold() -> None:
    treatment = rule("FR", CONSUMER, oss=False)
    document = draft(UPGRADE, treatment)
    assert (treatment.rule, treatment.rate, treatment.country) == (DOMESTIC, Decimal("22"), "IT")
    assert (document.tax, document.total) == (Decimal("10.56"), Decimal("58.56"))


def test_a_greek_consumer_takes_the_rate_of_gr_whose_vat_ids_start_with_el() -> None:
    treatment = rule("GR", CONSUMER)
    assert (treatment.rate, treatment.note_text("it")) == (Decimal("24"), "IVA GR 24 %")
    assert vat_prefix("GR") == "EL"
    assert vat_prefix("DE") == "DE"


def test_finland_s_25_5_percent_rounds_half_up_and_reads_with_a_comma_in_italian() -> None:
    treatment = rule("FI", CONSUMER)
    document = draft([Line("Marketing Plus, monthly", Decimal("33.33"))], treatment)
    assert document.tax == Decimal("8.50")  # 8.49915
    assert treatment.note_text("en") == "VAT FI 25.5 %"
    assert treatment.note_text("it") == "IVA FI 25,5 %"


def test_a_rate_change_applies_from_its_valid_from_date() -> None:
    lines = [Line("Marketing Plus, monthly", Decimal("49.00"))]
    before = draft(lines, rule("RO", CONSUMER, on=date(2025, 7, 31)))
    after = draft(lines, rule("RO", CONSUMER, on=date(2025, 8, 1)))
    assert (before.tax_lines[0].rate, before.tax) == (Decimal("19"), Decimal("9.31"))
    assert (after.tax_lines[0].rate, after.tax) == (Decimal("21"), Decimal("10.29"))
    assert RATES.standard_rate("FI", date(2024, 8, 31)) == Decimal("24")
    assert RATES.standard_rate("FI", date(2024, 9, 1)) == Decimal("25.5")


def test_the_rates_in_force_since_1_august_2025_are_those_of_the_spec() -> None:
    spec = ("LU 17, MT 18, CY 19, DE 19, AT 20, BG 20, FR 20, BE 21, CZ 21, ES 21, LT 21, "
            "LV 21, NL 21, RO 21, IT 22, SI 22, IE 23, PL 23, PT 23, SK 23, EE 24, GR 24, "
            "DK 25, HR 25, SE 25, FI 25.5, HU 27")
    expected = {c: Decimal(r) for c, r in (pair.split() for pair in spec.split(", "))}
    assert RATES.countries == frozenset(expected)
    assert {c: RATES.standard_rate(c, date(2025, 8, 1)) for c in expected} == expected


# -- outside the EU --------------------------------------------------------------------------


def test_a_us_business_is_outside_the_scope_of_eu_vat_by_article_7_ter() -> None:
    treatment = rule("US", BUSINESS)
    document = draft(RENEWAL, treatment)
    assert (treatment.rule, treatment.rate, treatment.natura) == (OUTSIDE_SCOPE, 0, "N2.1")
    assert (document.tax, document.total) == (Decimal("0.00"), Decimal("145.00"))
    assert treatment.note_text("en") == "Outside the scope of EU VAT, art. 7-ter DPR 633/72"
    assert treatment.note_text("it") == "Operazione non soggetta, art. 7-ter DPR 633/72"


def test_a_us_consumer_is_outside_the_scope_of_eu_vat_by_article_7_octies() -> None:
    treatment = rule("US", CONSUMER)
    assert (treatment.rule, treatment.natura) == (OUTSIDE_SCOPE, "N2.2")
    assert treatment.note_text("en") == "Outside the scope of EU VAT, art. 7-octies DPR 633/72"
    assert treatment.note_text("it") == "Operazione non soggetta, art. 7-octies DPR 633/72"


# -- stamp duty ------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "duty"), [("77.47", "0.00"), ("77.48", "2.00"),
                                               ("145.00", "2.00"), ("48.00", "0.00")])
def test_a_document_without_vat_over_77_47_euros_carries_the_2_00_stamp_duty(
        amount: str, duty: str) -> None:
    for treatment in (rule("US", BUSINESS), rule("US", CONSUMER), rule("DE", BUSINESS, True)):
        document = draft([Line("Marketing Enterprise", Decimal(amount))], treatment)
        assert stamp_duty(document.tax_lines) == Decimal(duty)
        assert document.total == Decimal(amount)  # the seller pays it, not the customer


def test_stamp_duty_compares_the_amount_in_euros() -> None:
    document = draft([Line("Marketing Plus", Decimal("84.00"))], rule("US", BUSINESS))
    assert stamp_duty(document.tax_lines) == Decimal("2.00")
    at_1_10 = lambda usd: (usd / Decimal("1.10")).quantize(Decimal("0.01"))  # noqa: E731
    assert stamp_duty(document.tax_lines, to_eur=at_1_10) == Decimal("0.00")  # 76.36 EUR


def test_no_stamp_duty_where_vat_is_charged_whatever_the_total() -> None:
    assert stamp_duty(draft(RENEWAL, rule("IT", BUSINESS)).tax_lines) == Decimal("0.00")


# -- per document per rate, half-up ----------------------------------------------------------


def test_tax_is_computed_on_the_sum_of_the_lines_never_per_line() -> None:
    lines = [Line(f"line {i}", Decimal("0.10")) for i in range(3)]
    document = draft(lines, rule("IT", BUSINESS))
    assert document.tax == Decimal("0.07")  # 0.066; three lines taxed alone would give 0.06


def test_tax_rounds_half_up_to_the_cent() -> None:
    document = draft([Line("x", Decimal("0.75"))], rule("IT", BUSINESS))
    assert document.tax == Decimal("0.17")  # 0.165 (half-even would give 0.16)


# -- credit ----------------------------------------------------------------------------------


def test_credit_pays_part_of_the_total_like_a_payment_and_leaves_the_tax_alone() -> None:
    document = draft(UPGRADE, rule("IT", BUSINESS))
    part = apply_credit(document.total, Decimal("20.00"))
    assert (part.credit_applied, part.amount_due) == (Decimal("20.00"), Decimal("38.56"))
    whole = apply_credit(document.total, Decimal("100.00"))
    assert (whole.credit_applied, whole.amount_due) == (Decimal("58.56"), Decimal("0.00"))
    assert document.tax == Decimal("10.56")


# -- the rates file --------------------------------------------------------------------------


def test_a_date_before_a_country_s_first_rate_is_refused_naming_the_date() -> None:
    with pytest.raises(InvalidField) as error:
        RATES.standard_rate("IT", date(2000, 1, 1))
    assert error.value.field == "date"


def test_a_broken_rates_file_lists_every_problem_with_its_place() -> None:
    text = """[rates]
IT = [{ valid_from = 2013-10-01, rate = 22 }]
FR = [{ valid_from = 2014-01-01, rate = "20" }, { valid_from = 2010-01-01, rate = "19" }]
de = [{ rate = "19" }]
"""
    with pytest.raises(DataFileError) as error:
        parse_vat_rates_text(text, "rates.toml")
    assert error.value.problems == [
        'rates.IT[0].rate: must be a percentage as a string, e.g. "22"',
        "rates.FR[1].valid_from: not after the entry before it",
        "rates.de: not an ISO 3166 alpha-2 country code",
        "rates.de[0].valid_from: must be a date (YYYY-MM-DD)",
    ]


# -- a preview's charge ----------------------------------------------------------------------


def test_the_48_00_upgrade_previews_with_tax_credit_and_the_amount_charged() -> None:
    charge = charge_now(Decimal("48.00"), rule("IT", BUSINESS), balance=Decimal("20.00"))
    assert (charge.tax.rule, charge.tax.rate, charge.tax.taxable, charge.tax.amount) == (
        DOMESTIC, Decimal("22"), Decimal("48.00"), Decimal("10.56"))
    assert (charge.total_due_now, charge.credit_applied, charge.amount_due_now) == (
        Decimal("58.56"), Decimal("20.00"), Decimal("38.56"))
    none = charge_now(Decimal("48.00"), rule("IT", BUSINESS), balance=Decimal("0.00"))
    assert (none.total_due_now, none.amount_due_now) == (Decimal("58.56"), Decimal("58.56"))
    oss = charge_now(Decimal("48.00"), rule("FR", CONSUMER), balance=Decimal("0.00"))
    assert (oss.tax.amount, oss.amount_due_now) == (Decimal("9.60"), Decimal("57.60"))
    reverse = charge_now(Decimal("48.00"), rule("DE", BUSINESS, True), balance=Decimal("0.00"))
    assert (reverse.tax.amount, reverse.amount_due_now) == (Decimal("0.00"), Decimal("48.00"))


def test_a_change_that_costs_nothing_now_charges_no_tax() -> None:
    charge = charge_now(Decimal("0.00"), rule("IT", BUSINESS), balance=Decimal("5.00"))
    assert (charge.tax.amount, charge.total_due_now, charge.credit_applied,
            charge.amount_due_now) == (Decimal("0.00"),) * 4

"""The billing details form says every problem the services find in the visitor's language:
each English message of `check_billing_details` has its own English and Italian text."""

from __future__ import annotations

import pytest

from canone.billing.parties import Address, BillingDetails
from canone.services.billing_details import check_billing_details
from canone.services.errors import InvalidBillingDetails
from canone.web.i18n import translator
from canone.web.portal.details import DetailsForm, field_error

MILAN = Address("Via Dante 12", "20121", "Milano", "MI", "IT")
BERLIN = Address("Hauptstraße 5", "10115", "Berlin", None, "DE")


def _refused(details: BillingDetails) -> dict[str, str]:
    with pytest.raises(InvalidBillingDetails) as refused:
        check_billing_details(details)
    return refused.value.errors


CASES = [
    (BillingDetails("business", "Rossi S.r.l.", MILAN, "IT00743110158"), "vat_id",
     "This VAT number is not valid: check its digits and its country.",
     "La partita IVA non è valida: controlla le cifre e il paese."),
    (BillingDetails("business", "Beispiel GmbH", BERLIN, "DE136695977"), "vat_id",
     "This VAT number is not valid: check its digits and its country.",
     "La partita IVA non è valida: controlla le cifre e il paese."),
    (BillingDetails("business", "Rossi S.r.l.", MILAN), "vat_id",
     "An Italian business needs its VAT number (partita IVA).",
     "Un'azienda italiana deve indicare la partita IVA."),
    (BillingDetails("consumer", "Maria Rossi", MILAN, "IT00743110157", "RSSMRA85T10A562S"),
     "vat_id", "A consumer has no VAT number: leave it empty, or choose Business.",
     "Un privato non ha partita IVA: lascia il campo vuoto oppure scegli Azienda."),
    (BillingDetails("consumer", "Maria Rossi", MILAN), "tax_code",
     "An Italian consumer needs the codice fiscale.",
     "Un privato in Italia deve indicare il codice fiscale."),
    (BillingDetails("consumer", "Maria Rossi", MILAN, None, "RSSMRA85T10A562X"), "tax_code",
     "This codice fiscale is not valid.", "Il codice fiscale non è valido."),
    (BillingDetails("consumer", "Maria Rossi", MILAN, None, "00743110157"), "tax_code",
     "A person's codice fiscale has 16 letters and digits.",
     "Il codice fiscale di una persona ha 16 lettere e cifre."),
    (BillingDetails("business", "Rossi S.r.l.", MILAN, "IT00743110157", sdi_code="ABC"),
     "sdi_code", "The SDI code has 7 letters and digits.",
     "Il codice destinatario SDI ha 7 lettere e cifre."),
    (BillingDetails("business", "Beispiel GmbH", BERLIN, "DE136695976", sdi_code="ABCDEFG"),
     "sdi_code", "Only an Italian business has an SDI code.",
     "Solo un'azienda italiana ha un codice destinatario SDI."),
    (BillingDetails("business", "Rossi S.r.l.", MILAN, "IT00743110157", pec="not-an-email"),
     "pec", "Enter an email address (PEC).", "Inserisci un indirizzo email (PEC)."),
    (BillingDetails("business", "Beispiel GmbH", BERLIN, "DE136695976", pec="a@pec.it"),
     "pec", "Only an Italian business receives e-invoices by PEC.",
     "Solo un'azienda italiana riceve le fatture elettroniche via PEC."),
    (BillingDetails("other", "Rossi S.r.l.", MILAN), "kind",
     "Choose business or consumer.", "Scegli azienda o privato."),
    (BillingDetails("consumer", "Maria", MILAN, None, "RSSMRA85T10A562S"), "legal_name",
     "A consumer's first and last name, e.g. Maria Rossi.",
     "Nome e cognome del privato, per esempio Maria Rossi."),
    (BillingDetails("business", "", MILAN, "IT00743110157"), "legal_name",
     "This field is required.", "Questo campo è obbligatorio."),
    (BillingDetails("business", "X" * 81, MILAN, "IT00743110157"), "legal_name",
     "Too long: at most 80 characters.", "Troppo lungo: al massimo 80 caratteri."),
    (BillingDetails("business", "Rossi S.r.l.", Address("Via Dante 12", "20121", "Milano",
                                                        "MI", "XX")),
     "address.country", "Choose a country.", "Scegli un paese."),
    (BillingDetails("business", "Rossi S.r.l.", Address("Via Dante 12", "2012", "Milano",
                                                        "MI", "IT"), "IT00743110157"),
     "address.postcode", "An Italian postcode (CAP) has 5 digits.",
     "Il CAP italiano ha 5 cifre."),
    (BillingDetails("business", "Rossi S.r.l.", Address("Via Dante 12", "20121", "Milano",
                                                        None, "IT"), "IT00743110157"),
     "address.province", "Required in Italy: two letters, e.g. MI, RM.",
     "Obbligatoria in Italia: due lettere, per esempio MI, RM."),
    (BillingDetails("business", "Rossi S.r.l.", Address("Via Dante 12", "20121", "Milano",
                                                        "ZZ", "IT"), "IT00743110157"),
     "address.province", "Not an Italian province: two letters, e.g. MI, RM.",
     "Non è una provincia italiana: due lettere, per esempio MI, RM."),
    (BillingDetails("business", "Beispiel GmbH", Address("Hauptstraße 5", "10115", "Berlin",
                                                         "Berlin", "DE"), "DE136695976"),
     "address.province", "Abroad, a region's code of two letters (e.g. CA) or nothing.",
     "All'estero, la sigla di due lettere della regione (per esempio CA) oppure niente."),
    (BillingDetails("business", "Rossi S.r.l.", Address("", "20121", "Milano", "MI", "IT"),
                    "IT00743110157"),
     "address.street", "This field is required.", "Questo campo è obbligatorio."),
]


@pytest.mark.parametrize(("details", "field", "english", "italian"), CASES)
def test_each_problem_has_its_text_in_english_and_italian(
        details: BillingDetails, field: str, english: str, italian: str) -> None:
    errors = _refused(details)
    assert field in errors, errors
    assert field_error(translator("en"), field, errors[field]) == english
    assert field_error(translator("it"), field, errors[field]) == italian


def test_an_unknown_problem_is_still_said_in_the_visitor_s_language() -> None:
    assert field_error(translator("it"), "address.city", "something new") == (
        "Questo valore non è valido.")


def test_the_form_s_values_become_details_and_back() -> None:
    details = BillingDetails("business", "Rossi S.r.l.", MILAN, "IT00743110157", None,
                             "M5UXCR1", "fatture@pec.rossi.it")
    assert DetailsForm.of(details).details() == details
    blank = DetailsForm.of(None)
    assert blank.values["kind"] == "business" and blank.values["vat_id"] == ""
    assert blank.details().vat_id is None and blank.details().address.province is None

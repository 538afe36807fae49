"""Real checksums of tax identifiers (python-stdnum): VAT ids of every EU state, codici
fiscali, IBANs. Each check answers None for a valid value, else what is wrong with it."""

from __future__ import annotations

from typing import Any

from stdnum import iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale, iva

from canone.billing.vat_rates import vat_prefix


def _problem(module: Any, value: str, what: str) -> str | None:
    try:
        module.validate(value)
    except ValidationError as exc:
        return f"not a valid {what} ({str(exc).rstrip('.').lower()})"
    return None


def compact(value: str) -> str:
    """A typed id without spaces, dots, dashes or slashes, in capitals."""
    return "".join(ch for ch in value if ch.isalnum()).upper()


def italian_vat_number_problem(number: str) -> str | None:
    return _problem(iva, number, "partita IVA")


def tax_code_problem(code: str) -> str | None:
    """An Italian codice fiscale: a person's 16 characters or an entity's 11 digits."""
    return _problem(codicefiscale, code, "codice fiscale")


def iban_problem(value: str) -> str | None:
    return _problem(iban, value, "IBAN")


def eu_vat_id_problem(country: str, vat_id: str) -> str | None:
    """A VAT id of an EU state, with its prefix (EL for Greece), checked for `country`."""
    prefix = vat_prefix(country)
    if not vat_id.startswith(prefix):
        return f"must be a VAT id of {country} (starting with {prefix})"
    return _problem(eu_vat, vat_id, f"{country} VAT id")


def foreign_tax_id_problem(tax_id: str) -> str | None:
    """A non-EU business's tax id: its shape only. It decides no tax (outside the EU the
    rule follows the kind of customer), and a checksum canone does not know well (a
    Japanese T-number, a US EIN) must not turn a genuine customer away."""
    if not 2 <= len(tax_id) <= 28:
        return "must have 2 to 28 letters and digits"
    return None


class StdnumChecks:
    """`canone.billing.seller.IdChecks` with python-stdnum's checksums."""

    def italian_vat_number(self, number: str) -> str | None:
        return italian_vat_number_problem(number)

    def tax_code(self, code: str) -> str | None:
        return tax_code_problem(code)

    def iban(self, iban: str) -> str | None:
        return iban_problem(iban)

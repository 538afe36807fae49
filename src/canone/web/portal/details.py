"""The account's billing details (SPEC §8) on the Billing & Upgrade page: the section that
shows them and the form where the primary admin edits them.

The form is a page of its own (`/billing/details`), so a refused save comes back with the
values typed and each field's error beside it, with or without script. The services judge
the values (python-stdnum checksums) and name each wrong field in English; the page says it
in the visitor's language from the field and the kind of problem (`field_error`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from canone.billing.parties import Address, BillingDetails
from canone.services import billing_details
from canone.services.errors import Forbidden, InvalidBillingDetails, NotFound, ServiceError
from canone.services.overview import billing_overview
from canone.web.auth import SignedIn, posting_user, services_of, signed_in_user
from canone.web.i18n import N_, Translator
from canone.web.portal import messages
from canone.web.templating import PageRoute, render, translator_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Every field of the form, named as the services name them, with its label.
LABELS = {
    "kind": N_("Invoice to"), "address.country": N_("Country"),
    "legal_name": N_("Legal name"), "address.street": N_("Street and number"),
    "address.postcode": N_("Postcode"), "address.city": N_("City"),
    "address.province": N_("Province or region"), "vat_id": N_("VAT number"),
    "tax_code": N_("Codice fiscale"), "sdi_code": N_("SDI recipient code"),
    "pec": N_("PEC (certified email)"),
}
FIELDS = tuple(LABELS)

# (field or "*", a word of the services' English message, what the page says). The first
# match wins; a field without a match gets "This value is not valid."
_PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("vat_id", "is required", N_("An Italian business needs its VAT number (partita IVA).")),
    ("vat_id", "consumer has no", N_("A consumer has no VAT number: leave it empty, or "
                                     "choose Business.")),
    ("vat_id", "", N_("This VAT number is not valid: check its digits and its country.")),
    ("tax_code", "is required", N_("An Italian consumer needs the codice fiscale.")),
    ("tax_code", "16 letters", N_("A person's codice fiscale has 16 letters and digits.")),
    ("tax_code", "", N_("This codice fiscale is not valid.")),
    ("sdi_code", "only", N_("Only an Italian business has an SDI code.")),
    ("sdi_code", "", N_("The SDI code has 7 letters and digits.")),
    ("pec", "only", N_("Only an Italian business receives e-invoices by PEC.")),
    ("pec", "", N_("Enter an email address (PEC).")),
    ("kind", "", N_("Choose business or consumer.")),
    ("legal_name", "first and last", N_("A consumer's first and last name, e.g. Maria "
                                        "Rossi.")),
    ("address.country", "", N_("Choose a country.")),
    ("address.postcode", "italian", N_("An Italian postcode (CAP) has 5 digits.")),
    ("address.province", "is required", N_("Required in Italy: two letters, e.g. MI, RM.")),
    ("address.province", "not an italian", N_("Not an Italian province: two letters, e.g. "
                                              "MI, RM.")),
    ("address.province", "abroad", N_("Abroad, a region's code of two letters (e.g. CA) or "
                                      "nothing.")),
    ("*", "is required", N_("This field is required.")),
)


def field_error(tr: Translator, field: str, message: str) -> str:
    """What the page says about a field the services refused, in the visitor's language."""
    lowered = message.lower()
    for name, word, text in _PROBLEMS:
        if name in (field, "*") and word in lowered:
            return tr.gettext(text)
    if longest := re.search(r"at most (\d+) characters", lowered):
        return tr.gettext("Too long: at most %(n)s characters.") % {"n": longest.group(1)}
    return tr.gettext("This value is not valid.")


@dataclass(frozen=True)
class DetailsForm:
    """The values of the form as typed (or as saved), by field name."""

    values: dict[str, str]

    @classmethod
    def of(cls, details: BillingDetails | None) -> DetailsForm:
        if details is None:
            return cls({name: "" for name in FIELDS} | {"kind": "business"})
        a = details.address
        return cls({"kind": details.kind, "legal_name": details.legal_name,
                    "address.street": a.street, "address.postcode": a.postcode,
                    "address.city": a.city, "address.province": a.province or "",
                    "address.country": a.country, "vat_id": details.vat_id or "",
                    "tax_code": details.tax_code or "", "sdi_code": details.sdi_code or "",
                    "pec": details.pec or ""})

    def details(self) -> BillingDetails:
        v = {name: self.values.get(name, "").strip() for name in FIELDS}
        return BillingDetails(
            kind=v["kind"], legal_name=v["legal_name"],
            address=Address(v["address.street"], v["address.postcode"], v["address.city"],
                            v["address.province"] or None, v["address.country"]),
            vat_id=v["vat_id"] or None, tax_code=v["tax_code"] or None,
            sdi_code=v["sdi_code"] or None, pec=v["pec"] or None)


def country_choices(tr: Translator) -> list[tuple[str, str]]:
    """(code, name in the visitor's language) of every country, sorted by name."""
    return list(_countries_in(tr.babel_locale))


# Naming and sorting ~250 countries through Babel takes over a millisecond: once a language.
@cache
def _countries_in(babel_locale: str) -> tuple[tuple[str, str], ...]:
    from babel import Locale

    names = Locale.parse(babel_locale).territories
    return tuple(sorted(((code, names.get(code, code)) for code in billing_details.countries()),
                        key=lambda pair: pair[1].casefold()))


@cache
def _country_names_in(babel_locale: str) -> Mapping[str, str]:
    return dict(_countries_in(babel_locale))


def saved_details(request: Request, signed_in: SignedIn) -> BillingDetails | None:
    """The account's saved details, None before the first save."""
    try:
        saved = billing_details.get(services_of(request), signed_in.actor,
                                    signed_in.customer.account_id)
    except NotFound:
        return None
    return saved.details


def shown_details(tr: Translator, saved: BillingDetails | None) -> list[tuple[str, str]]:
    """The section's rows (label, value) in the visitor's language; empty before a save."""
    if saved is None:
        return []
    a = saved.address
    country = _country_names_in(tr.babel_locale).get(a.country, a.country)
    where = " ".join(part for part in (a.postcode, a.city, f"({a.province})" if a.province
                                       else "") if part)
    rows = [(LABELS["kind"], tr.gettext("A business") if saved.is_business
             else tr.gettext("A person (consumer)")),
            (LABELS["legal_name"], saved.legal_name),
            (N_("Address"), f"{a.street}, {where}, {country}"),
            (LABELS["vat_id"], saved.vat_id or ""), (LABELS["tax_code"], saved.tax_code or ""),
            (LABELS["sdi_code"], saved.sdi_code or ""), (LABELS["pec"], saved.pec or "")]
    return [(tr.gettext(label), value) for label, value in rows if value]


def _form_page(request: Request, signed_in: SignedIn, form: DetailsForm,
               errors: dict[str, str], status_code: int = 200) -> Response:
    tr = translator_of(request)
    o = billing_overview(services_of(request), signed_in.actor, signed_in.customer.account_id)
    if not o.viewer_is_primary_admin:
        return RedirectResponse("/billing?error=forbidden", 303)
    # In the order of the form, so the summary at the top lists them as they come.
    shown = {field: field_error(tr, field, errors[field]) for field in FIELDS
             if field in errors}
    return render(request, "portal/billing_details.html", {
        "o": o, "account": o.account, "v": form.values, "errors": shown,
        "labels": {field: tr.gettext(label) for field, label in LABELS.items()},
        "countries": country_choices(tr)}, status_code=status_code)


@router.get("/billing/details", response_class=HTMLResponse)
def details_page(request: Request, signed_in: SignedIn = Depends(signed_in_user)) -> Response:
    return _form_page(request, signed_in, DetailsForm.of(saved_details(request, signed_in)),
                      {})


@router.post("/billing/details")
async def save_details(request: Request, signed_in: SignedIn = Depends(posting_user)
                       ) -> Response:
    submitted = await request.form()
    form = DetailsForm({name: str(submitted.get(name) or "") for name in FIELDS})
    return await run_in_threadpool(_save_now, request, signed_in, form)


def _save_now(request: Request, signed_in: SignedIn, form: DetailsForm) -> Response:
    try:
        billing_details.save(services_of(request), signed_in.actor,
                             signed_in.customer.account_id, form.details())
    except InvalidBillingDetails as exc:
        return _form_page(request, signed_in, form, exc.errors, status_code=422)
    except Forbidden:
        return RedirectResponse("/billing?error=forbidden", 303)
    except ServiceError as exc:
        return RedirectResponse(f"/billing?error={messages.error_code(exc)}", 303)
    return RedirectResponse("/billing?done=details_saved", 303)

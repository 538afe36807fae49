"""An account's billing details (SPEC §7, §8): what its documents say about the customer,
and VIES's last answer for its VAT id. Checked with real checksums; every wrong field is
named in the 422 (`errors`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from canone.billing.parties import Address, BillingDetails, details_to_json
from canone.services import billing_details
from canone.services.records import AccountBillingDetails
from canone.web.api.base import AccountId, ActorDep, ServicesDep, api_router, errors
from canone.web.api.models import CustomerOut, SignUpIn, Strict_, clean_text

router = api_router(tags=["accounts"])


Text = Annotated[str, StringConstraints(max_length=200), AfterValidator(clean_text)]
# Ids and codes: ASCII letters and digits, with spaces, dots, dashes and slashes as typed.
TaxId = Annotated[str, StringConstraints(max_length=40, pattern=r"^[A-Za-z0-9 ./-]*$")]
Postcode = Annotated[str, StringConstraints(max_length=16, pattern=r"^[A-Za-z0-9 -]*$")]
TwoLetters = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
Pec = Annotated[str, StringConstraints(max_length=320), AfterValidator(clean_text)]


class AddressIn(Strict_):
    street: Text = Field(examples=["Via Torino 10"])
    postcode: Postcode = Field(default="", examples=["20123"])
    city: Text = Field(examples=["Milano"])
    province: TwoLetters | None = Field(default=None, examples=["MI"],
                                        description="Required in Italy (sigla).")
    country: TwoLetters = Field(examples=["IT"], description="ISO 3166 alpha-2 (Greece: GR).")


class BillingDetailsIn(Strict_):
    kind: Literal["business", "consumer"]
    legal_name: Text = Field(examples=["Officina Verde S.r.l."],
                             description="A consumer's first and last name.")
    address: AddressIn
    vat_id: TaxId | None = Field(default=None, examples=["IT00743110157"],
                                 description="With or without the country prefix (EL for "
                                 "Greece).")
    tax_code: TaxId | None = Field(default=None, examples=["RSSMRA85T10A562S"],
                                   description="Codice fiscale; required for Italian "
                                   "consumers.")
    sdi_code: TaxId | None = Field(default=None, examples=["M5UXCR1"],
                                   description="Italian businesses: 7 characters.")
    pec: Pec | None = Field(default=None, examples=["fatture@pec.officinaverde.it"],
                            description="Italian businesses: certified email for e-invoices.")

    def details(self) -> BillingDetails:
        a = self.address
        return BillingDetails(self.kind, self.legal_name,
                              Address(a.street, a.postcode, a.city, a.province, a.country),
                              self.vat_id, self.tax_code, self.sdi_code, self.pec)


class SignUpWithBillingDetailsIn(SignUpIn):
    """Sign-up's body (SPEC §7) with the optional billing details (§8)."""

    billing_details: BillingDetailsIn | None = Field(
        default=None, description="Optional; checked as PUT …/billing-details checks them "
        "(wrong fields named `billing_details.<field>`).")


class ViesOut(BaseModel):
    """VIES's answer when the VAT id was saved: `valid` null means VIES could not be reached
    (the id counts as unconfirmed)."""

    valid: bool | None
    checked_at: datetime
    name: str | None
    address: str | None
    consultation_id: str | None


class BillingDetailsOut(CustomerOut):
    vies: ViesOut | None = Field(description="null: not checked (only an EU business "
                                 "outside Italy with a VAT id is)")
    updated_at: datetime


def billing_details_view(saved: AccountBillingDetails) -> dict[str, Any]:
    vies = saved.vies
    return {**details_to_json(saved.details),
            "vies": None if vies is None else {
                "valid": vies.valid, "checked_at": vies.checked_at, "name": vies.name,
                "address": vies.address, "consultation_id": vies.consultation_id},
            "updated_at": saved.updated_at}


@router.get("/accounts/{account_id}/billing-details", response_model=BillingDetailsOut,
            responses=errors(401, 403, 404, 422))
def get_billing_details(account_id: AccountId, actor: ActorDep, svc: ServicesDep
                        ) -> dict[str, Any]:
    """The account's billing details and VIES's answer; 404 when none are saved yet."""
    return billing_details_view(billing_details.get(svc, actor, account_id))


@router.put("/accounts/{account_id}/billing-details", response_model=BillingDetailsOut,
            responses=errors(401, 403, 404, 422))
def put_billing_details(account_id: AccountId, body: BillingDetailsIn, actor: ActorDep,
                        svc: ServicesDep) -> dict[str, Any]:
    """Replace the billing details. VAT ids and codici fiscali are checked with their real
    checksums, an EU business's VAT id also in VIES. They apply to documents issued from
    now on; issued ones keep the details they were issued with."""
    return billing_details_view(billing_details.save(svc, actor, account_id, body.details()))

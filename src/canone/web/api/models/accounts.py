"""Accounts and subscriptions: signing up, the card, previewing and confirming a change,
cancelling."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from canone.web.api.models.base import (
    Amount,
    Code,
    Day,
    Email,
    Name,
    Password,
    Reason,
    Strict_,
)
from canone.web.api.models.invoices import InvoiceOut, TaxLineOut
from canone.web.api.models.pricing import ChangeOut, Config, ConfigIn, PriceOut


class PrimaryAdminIn(Strict_):
    email: Email = Field(examples=["ada@example.com"])
    name: Name = Field(examples=["Ada Lovelace"])
    password: Password = Field(examples=["correct horse battery"])


class CardIn(Strict_):
    """A typed card (the sandbox), or with Stripe only `stripe_payment_method`."""

    number: Annotated[str, StringConstraints(pattern=r"^[0-9 -]{1,32}$")] | None = Field(
        default=None, examples=["4242424242424242"],
        description="Digits; spaces and dashes are ignored. Sandbox only: with Stripe card"
                    " numbers never reach canone.")
    exp_month: Annotated[int, Strict(), Field(ge=1, le=12)] | None = Field(
        default=None, examples=[12])
    exp_year: Annotated[int, Strict(), Field(ge=1900, le=2999)] | None = Field(
        default=None, examples=[2030])
    cvc: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,4}$")] | None = Field(
        default=None, examples=["123"])
    stripe_payment_method: Annotated[
        str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,250}$")] | None = Field(
        default=None, examples=["pm_1QmT9hLkdIwHu7ix"],
        description="Stripe only: a payment method made by Stripe Elements (see"
                    " POST /accounts/{id}/setup-intents).")


class SignUpIn(Strict_):
    name: Name = Field(examples=["Acme S.p.A."])
    timezone: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_+\-/]{1,64}$")] = Field(
        examples=["Europe/Rome"])
    locale: Code = Field(examples=["it"])
    currency: Code = Field(examples=["EUR"])
    primary_admin: PrimaryAdminIn
    subscription: ConfigIn
    anchor: Day | None = Field(default=None, description="The anchor date; default today.")
    payment_method: CardIn


class CardOut(BaseModel):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class AccountOut(BaseModel):
    id: str
    name: str
    timezone: str
    locale: str
    currency: str
    status: Literal["active", "past_due", "cancelled"]
    auto_upgrade: bool
    card: CardOut | None
    created_at: datetime


class Period(BaseModel):
    start: date
    end: date


class SubscriptionOut(BaseModel):
    configuration: Config
    anchor: date
    period: Period
    status: Literal["active", "past_due", "cancelled"]
    pending: Config | None = Field(description="The change scheduled for the next period.")
    cancel_at_period_end: bool
    version: int


class SignedUpOut(AccountOut):
    subscription: SubscriptionOut
    invoice: InvoiceOut


class PreviewIn(Strict_):
    target: ConfigIn


class PreviewOut(BaseModel):
    change: ChangeOut
    target: PriceOut
    tax: TaxLineOut | None = Field(
        description="The tax on `change.due_now` (the taxable amount) under the rule the "
                    "account's billing details take today; null when canone has no seller.")
    total_due_now: Amount = Field(description="due_now + tax: the upgrade invoice's total.")
    credit_applied: Amount = Field(description="Of the account's (gross) credit balance.")
    amount_due_now: Amount = Field(
        description="What the card is charged: max(0, total_due_now − balance).")
    quote_token: str | None = Field(
        description="Send it to /confirm to buy exactly this change; null when there is "
                    "nothing to confirm (kind none or request).")
    carried_to_next_invoice: bool = Field(
        False, description="The amount due now is under the payment provider's minimum "
                           "charge (0.50 with Stripe): nothing is charged, it is added to the "
                           "next invoice, and the change applies at once.")


class ConfirmIn(Strict_):
    quote_token: Annotated[str, StringConstraints(
        pattern=r"^[A-Za-z0-9_-]{1,4000}\.[0-9a-f]{32}$")]


class ActionRequiredOut(BaseModel):
    status: Literal["requires_action"]
    client_secret: str = Field(description="For Stripe.js `confirmCardPayment`, in the "
                                           "customer's browser.")
    payment_intent: str = Field(description="Stripe's PaymentIntent (pi_…).")
    detail: str


class ConfirmOut(BaseModel):
    subscription: SubscriptionOut
    invoice: InvoiceOut | None = Field(description="null when nothing was due")


class CancelIn(Strict_):
    reason: Reason = ""


class PaymentMethodIn(CardIn):
    pass


class SetupIntentOut(BaseModel):
    id: str = Field(examples=["seti_1QmT9hLkdIwHu7ix"])
    client_secret: str = Field(description="For Stripe.js `confirmCardSetup` (or"
                                           " `confirmSepaDebitSetup`).")


class AutoUpgradeIn(Strict_):
    enabled: Annotated[bool, Strict()]

"""The JSON shapes of the API (SPEC §7), as pydantic models so the OpenAPI document is
precise. Requests are strict about what they accept; amounts in responses are strings with
exactly two decimals; dates and instants are ISO 8601."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def _clean_text(value: str) -> str:
    """Text the database can keep: no NUL characters, no lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _in_range_date(value: date) -> date:
    if not 1900 <= value.year <= 2999:
        raise ValueError("must be a date between the years 1900 and 2999")
    return value


def _utc_instant(value: datetime) -> datetime:
    """A naive datetime is taken as UTC."""
    if not 2000 <= value.year <= 2999:
        raise ValueError("must be an instant between the years 2000 and 2999")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Email = Annotated[str, StringConstraints(min_length=3, max_length=320),
                  AfterValidator(_clean_text)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200),
                 AfterValidator(_clean_text)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024),
                     AfterValidator(_clean_text)]
Reason = Annotated[str, StringConstraints(min_length=0, max_length=500),
                   AfterValidator(_clean_text)]
Message = Annotated[str, StringConstraints(min_length=0, max_length=10_000),
                    AfterValidator(_clean_text)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000),
                AfterValidator(_clean_text)]

Code = Annotated[str, StringConstraints(min_length=1, max_length=64),
                 AfterValidator(_clean_text)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Count = Annotated[int, Strict(), Field(ge=0, le=1_000_000_000)]
Day = Annotated[date, AfterValidator(_in_range_date)]
Instant = Annotated[datetime, AfterValidator(_utc_instant)]
Amount = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["48.00"],
                              description="An amount with exactly two decimals.")]


class Strict_(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- configurations, prices, changes ------------------------------------------------------


class ConfigIn(Strict_):
    """CONFIG: a subscription configuration (SPEC §3). `contacts` is null for `sales`."""

    product: Code = Field(examples=["marketing"])
    tier: Code = Field(examples=["plus"])
    interval: Code = Field(examples=["month"])
    currency: Code = Field(examples=["USD"])
    contacts: Count | None = Field(default=None, examples=[1000])
    seats: Annotated[int, Strict(), Field(ge=1, le=1_000_000, examples=[1])]
    addons: Annotated[list[Code], Field(max_length=20)] = Field(default_factory=list)


class Config(BaseModel):
    product: str
    tier: str
    interval: str
    currency: str
    contacts: int | None
    seats: int
    addons: list[str]


class Line(BaseModel):
    key: str = Field(examples=["base"])
    description: str
    amount: Amount


class PriceOut(BaseModel):
    status: Literal["ok", "custom", "invalid"]
    lines: list[Line]
    total: Amount | None = Field(description="null when the price is custom")


class ChangePeriod(BaseModel):
    start: date
    end: date
    days: int


class ChangeOut(BaseModel):
    """The `change` object of `canone price` (SPEC §7)."""

    kind: Literal["none", "upgrade", "scheduled", "request"]
    reasons: list[str]
    period: ChangePeriod
    remaining_days: int
    lines: list[Line]
    due_now: Amount
    credit: Amount
    immediate: Config
    scheduled: Config | None
    features_lost: list[str]
    features_gained: list[str]


# -- accounts and subscriptions -----------------------------------------------------------


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


Rate = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["22.00"],
                            description="A VAT rate in percent, with two decimals.")]


class TaxLineOut(BaseModel):
    """The tax of one rate of a document (SPEC §8): round_half_up(rate × taxable)."""

    rule: Literal["domestic", "reverse_charge", "oss", "outside_scope"]
    rate: Rate
    country: str = Field(description="The state whose rate it is (IT unless OSS).",
                         examples=["IT"])
    taxable: Amount
    amount: Amount
    note: str = Field(description="What the document says about its tax.",
                      examples=["VAT 22 %", "Reverse charge, art. 7-ter DPR 633/72"])


class AddressOut(BaseModel):
    street: str
    postcode: str
    city: str
    province: str | None
    country: str


class CustomerOut(BaseModel):
    """A customer's billing details (SPEC §8) as a document keeps them."""

    kind: Literal["business", "consumer"]
    legal_name: str
    address: AddressOut
    vat_id: str | None
    tax_code: str | None
    sdi_code: str | None
    pec: str | None


class InvoiceSellerOut(BaseModel):
    legal_name: str
    vat_id: str
    tax_code: str
    address: AddressOut


class InvoiceOut(BaseModel):
    id: str
    account_id: str
    subscription_id: str
    number: str = Field(examples=["2026-000001"])
    kind: str
    currency: str
    issued_at: datetime
    issued_on: date = Field(description="The document's date in the seller's calendar "
                                        "(Europe/Rome), which also picks its yearly series.")
    period_start: date | None
    period_end: date | None
    lines: list[Line]
    subtotal: Amount = Field(description="The lines' sum, net of tax.")
    tax_lines: list[TaxLineOut]
    total: Amount = Field(description="Gross: subtotal + tax.")
    customer: CustomerOut | None = Field(
        description="The billing details the invoice was issued with; null when the account "
                    "had none.")
    seller: InvoiceSellerOut | None
    credit_applied: Amount
    amount_paid: Amount
    amount_due: Amount
    status: Literal["paid", "open", "refunded", "disputed"] = Field(
        description="refunded: refunds through the payment provider cover what was paid; "
                    "disputed: the cardholder disputed the payment with their bank.")
    pdf_url: str


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


class RefundIn(Strict_):
    amount: Annotated[str, Field(pattern=r"^[0-9]{1,9}\.[0-9]{2}$", examples=["12.00"],
                                 description="How much to refund; default: all that is left "
                                             "(paid and not refunded yet).")] | None = None


class RefundOut(BaseModel):
    id: str = Field(description="The payment provider's refund (re_…).")
    invoice_id: str
    amount: Amount
    currency: str
    status: Literal["succeeded", "pending", "failed"] = Field(
        description="pending: the money goes back later (SEPA); it may still fail.")
    message: str
    invoice: InvoiceOut


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


# -- change requests ----------------------------------------------------------------------


RequestStatus = Literal["open", "in_progress", "completed", "declined", "withdrawn"]


class ChangeRequestIn(Strict_):
    desired: ConfigIn | None = None
    reason: Reason = ""
    message: Message = ""


class RequestEventOut(BaseModel):
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    message: str


class ChangeRequestOut(BaseModel):
    id: str
    account_id: str
    requester_email: str
    desired: Config | None
    reason: str
    message: str
    status: RequestStatus
    source: str
    verified: bool
    effective: Literal["period_end", "now"] | None
    created_at: datetime
    updated_at: datetime
    history: list[RequestEventOut]


class TransitionIn(Strict_):
    to: Literal["in_progress", "completed", "declined", "withdrawn"]
    effective: Literal["period_end", "now"] = "period_end"
    message: Message = ""


# -- money, usage ---------------------------------------------------------------------------


class LedgerEntryOut(BaseModel):
    id: str
    amount: Amount = Field(description="+ credit granted, − credit used")
    description: str
    invoice_id: str | None
    credit_note_id: str | None = Field(description="The credit note that granted it.")
    created_at: datetime


class LedgerOut(BaseModel):
    currency: str
    balance: Amount
    entries: list[LedgerEntryOut]


class UsageIn(Strict_):
    contacts: Count
    active_users: Count


class UsageOut(BaseModel):
    contacts: int
    active_users: int
    reported_at: datetime
    thresholds_reached: list[int]
    auto_upgraded_to: int | None


class Limits(BaseModel):
    contacts: int | None
    seats: int


class UsageNow(BaseModel):
    contacts: int
    active_users: int


class EntitlementsOut(BaseModel):
    features: list[str]
    limits: Limits
    usage: UsageNow
    restricted: bool = Field(description="unpaid: read-only except billing")


# -- webhooks, operations -------------------------------------------------------------------


class WebhookEndpointIn(Strict_):
    url: Url = Field(examples=["https://example.com/canone-hooks"])
    events: Annotated[list[Code], Field(min_length=1, max_length=50)] = Field(
        examples=[["*"]])
    account_id: Id | None = Field(default=None, description=(
        "Operator keys only: the account whose events it receives; omitted: every "
        "account's. Account keys always register for their own account."))


class WebhookEndpointOut(BaseModel):
    id: str
    account_id: str | None
    url: str
    events: list[str]
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(description="The signing secret (Standard Webhooks); shown only now.")


class WebhookDeliveryOut(BaseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


class BillingRunIn(Strict_):
    until: Instant | None = Field(default=None, description="Default: now.")


class BillingRunOut(BaseModel):
    renewed: int
    cancelled: int
    collected: int
    failed: int
    pending: int
    reconciled: int


class TestClockIn(Strict_):
    now: Instant


class TestClockOut(BaseModel):
    now: datetime


# -- the catalog ------------------------------------------------------------------------------


class TierOut(BaseModel):
    tier: str
    base: list[Amount | None] | None = Field(description=(
        "Monthly base price per contact step (null: custom); null for a product priced "
        "per seat only."))
    seats_included: int
    extra_seat: Amount
    max_seats: int | None
    features: list[str]


class ProductOut(BaseModel):
    code: str
    name: str
    has_contacts: bool
    tiers: list[TierOut]


class AddOnOut(BaseModel):
    code: str
    name: str
    price: Amount
    available: dict[str, list[str]]
    included: dict[str, list[str]]


class CatalogOut(BaseModel):
    version: str
    currencies: list[str]
    intervals: list[str]
    yearly_discount: str
    tiers: list[str]
    contact_steps: list[int]
    products: list[ProductOut]
    addons: list[AddOnOut]


# -- lists and errors -----------------------------------------------------------------------


class Page(BaseModel):
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `starting_after` for the next page.")


class AccountPage(Page):
    data: list[AccountOut]


class InvoicePage(Page):
    data: list[InvoiceOut]


class ChangeRequestPage(Page):
    data: list[ChangeRequestOut]


class WebhookDeliveryPage(Page):
    data: list[WebhookDeliveryOut]


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `type` is stable (urn:canone:problem:<code>)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:canone:problem:invalid_field"])
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None

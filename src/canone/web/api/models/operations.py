"""Usage and entitlements, webhooks, billing runs, the test clock and the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from canone.web.api.models.base import (
    Amount,
    Code,
    Count,
    Id,
    Instant,
    Strict_,
    Url,
)


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

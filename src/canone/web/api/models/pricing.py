"""Configurations, prices and plan changes (SPEC §3, §4, §7)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, Strict

from canone.web.api.models.base import (
    Amount,
    Code,
    Count,
    Strict_,
)


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

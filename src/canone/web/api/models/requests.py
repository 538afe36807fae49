"""Change requests and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from canone.web.api.models.base import (
    Message,
    Reason,
    Strict_,
)
from canone.web.api.models.pricing import Config, ConfigIn

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

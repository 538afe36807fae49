"""Lists, a page at a time."""

from __future__ import annotations

from pydantic import BaseModel, Field

from canone.web.api.models.accounts import AccountOut
from canone.web.api.models.invoices import InvoiceOut
from canone.web.api.models.operations import WebhookDeliveryOut
from canone.web.api.models.requests import ChangeRequestOut


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

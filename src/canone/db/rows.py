"""Records to rows and back: the whole mapping between `canone.services` and the schema."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration
from canone.billing.parties import details_from_json, details_to_json
from canone.billing.seller import Seller, seller_from_json, seller_to_json
from canone.db.types import EncodedJSON, encode_json
from canone.services.ports import StoredCard
from canone.services.records import (
    Account,
    AccountStatus,
    ApiKey,
    AuditEntry,
    ChangeRequest,
    Event,
    IdempotencyRecord,
    IntentStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTaxLine,
    LedgerEntry,
    Notification,
    OutboxItem,
    OutboxStatus,
    Payment,
    PaymentIntent,
    PaymentStatus,
    Record,
    RequestEvent,
    RequestStatus,
    Staff,
    Subscription,
    Usage,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebSession,
)

Values = dict[str, Any]


def config_json(config: Configuration | None) -> Values | None:
    # The codec's dict, field by field: `dataclasses.asdict` deep-copies every value, a
    # tenth of a batch's subscription updates.
    return None if config is None else config_to_json(config)


def config_of(raw: Values | None) -> Configuration | None:
    if raw is None:
        return None
    return Configuration(**{**raw, "addons": tuple(raw["addons"])})


def _fields(row: Row[Any], names: Iterable[str]) -> Values:
    mapping = row._mapping
    return {name: mapping[name] for name in names}


def _with_status(values: Values, status: type[StrEnum]) -> Values:
    """The stored status string as its member, so that records hold their Enum."""
    values["status"] = status(values["status"])
    return values


# -- accounts, users, staff -------------------------------------------------------------


def account_values(a: Account) -> Values:
    card = a.card
    return {
        "id": a.id, "name": a.name, "timezone": a.timezone, "locale": a.locale,
        "currency": a.currency, "status": a.status, "auto_upgrade": a.auto_upgrade,
        "card_token": card and card.token, "card_brand": card and card.brand,
        "card_last4": card and card.last4, "card_exp_month": card and card.exp_month,
        "card_exp_year": card and card.exp_year, "card_kind": card and card.kind,
        "card_country": card and (card.country or None), "created_at": a.created_at,
    }


def account_of(r: Row[Any]) -> Account:
    return account_from(r._mapping)


def account_from(m: Mapping[Any, Any]) -> Account:
    card = None if m["card_token"] is None else StoredCard(
        m["card_token"], m["card_brand"], m["card_last4"], m["card_exp_month"],
        m["card_exp_year"], m["card_country"] or "", m["card_kind"])
    return Account(m["id"], m["name"], m["timezone"], m["locale"], m["currency"],
                   AccountStatus(m["status"]),
                   m["auto_upgrade"], card, m["created_at"])


def user_of(r: Row[Any]) -> User:
    return User(**_fields(r, User.__dataclass_fields__))


def staff_of(r: Row[Any]) -> Staff:
    return Staff(**_fields(r, Staff.__dataclass_fields__))


# -- subscriptions ----------------------------------------------------------------------


def subscription_values(s: Subscription) -> Values:
    return {**values(s), "config": _config_text(s.config),
            "pending": None if s.pending is None else _config_text(s.pending)}


@lru_cache(maxsize=256)
def _config_text(config: Configuration) -> EncodedJSON:
    # A billing run saves thousands of subscriptions on a few configurations.
    return EncodedJSON(encode_json(config_to_json(config)))


def subscription_of(r: Row[Any]) -> Subscription:
    v = _fields(r, Subscription.__dataclass_fields__)
    config = config_of(v.pop("config"))
    if config is None:  # the column is NOT NULL: only a damaged row gets here
        raise ValueError(f"subscription {v.get('id')}: no configuration stored")
    pending = config_of(v.pop("pending"))
    return Subscription(**{**v, "status": AccountStatus(v["status"])}, config=config,
                        pending=pending)


# -- invoices, payments, intents, ledger ------------------------------------------------


def invoice_values(i: Invoice) -> Values:
    v = values(i)
    del v["lines"]
    v["tax_lines"] = [tax_line_json(line) for line in i.tax_lines]
    v["customer"] = None if i.customer is None else details_to_json(i.customer)
    v["seller"] = None if i.seller is None else _seller_json(i.seller)
    return v


@lru_cache(maxsize=4)
def _seller_json(seller: Seller) -> EncodedJSON:
    # The invoices of a billing run share their seller, the largest document they keep.
    return EncodedJSON(encode_json(seller_to_json(seller)))


def tax_line_json(line: InvoiceTaxLine) -> Values:
    return {"rule": line.rule, "rate": str(line.rate), "country": line.country,
            "natura": line.natura, "note": line.note, "taxable": line.taxable,
            "amount": line.amount}


def tax_line_of(raw: Values) -> InvoiceTaxLine:
    return InvoiceTaxLine(raw["rule"], Decimal(raw["rate"]), raw["country"], raw["natura"],
                          raw["note"], raw["taxable"], raw["amount"])


def line_values(i: Invoice) -> list[Values]:
    return [{"invoice_id": i.id, "position": n, "account_id": i.account_id, "key": line.key,
             "description": line.description, "amount": line.amount}
            for n, line in enumerate(i.lines)]


_INVOICE_COLUMNS = [n for n in Invoice.__dataclass_fields__
                   if n not in ("lines", "tax_lines", "customer", "seller")]


def invoice_of(r: Row[Any], lines: Sequence[Row[Any]]) -> Invoice:
    m = r._mapping
    return Invoice(**_with_status(_fields(r, _INVOICE_COLUMNS), InvoiceStatus), lines=tuple(
        InvoiceLine(line.key, line.description, line.amount) for line in lines),
        tax_lines=tuple(tax_line_of(raw) for raw in m["tax_lines"]),
        customer=None if m["customer"] is None else details_from_json(m["customer"]),
        seller=None if m["seller"] is None else seller_from_json(m["seller"]))


def payment_of(r: Row[Any]) -> Payment:
    return Payment(**_with_status(_fields(r, Payment.__dataclass_fields__), PaymentStatus))


def intent_of(r: Row[Any]) -> PaymentIntent:
    return PaymentIntent(**_with_status(_fields(r, PaymentIntent.__dataclass_fields__),
                                        IntentStatus))


def ledger_of(r: Row[Any]) -> LedgerEntry:
    return LedgerEntry(**_fields(r, LedgerEntry.__dataclass_fields__))


# -- change requests, audit, usage ------------------------------------------------------


def request_values(c: ChangeRequest) -> Values:
    v = values(c)
    del v["history"]
    v["desired"] = config_json(c.desired)
    return v


def request_event_values(c: ChangeRequest, start: int) -> list[Values]:
    return [{"request_id": c.id, "position": n, "account_id": c.account_id, "at": e.at,
             "actor": e.actor, "from_status": e.from_status, "to_status": e.to_status,
             "message": e.message}
            for n, e in enumerate(c.history) if n >= start]


def request_of(r: Row[Any], history: Sequence[Row[Any]]) -> ChangeRequest:
    names = [n for n in ChangeRequest.__dataclass_fields__ if n != "history"]
    v = _fields(r, names)
    v["desired"] = config_of(v["desired"])
    return ChangeRequest(**_with_status(v, RequestStatus), history=tuple(
        RequestEvent(e.at, e.actor, e.from_status, e.to_status, e.message) for e in history))


def audit_of(r: Row[Any]) -> AuditEntry:
    return AuditEntry(**_fields(r, AuditEntry.__dataclass_fields__))


def usage_of(r: Row[Any]) -> Usage:
    return Usage(**_fields(r, Usage.__dataclass_fields__))


# -- events, outbox, web edges ----------------------------------------------------------


def event_of(r: Row[Any]) -> Event:
    return Event(**_fields(r, Event.__dataclass_fields__))


def event_payload(e: Event) -> Values:
    """What a webhook delivery sends: the event as JSON."""
    return {"id": e.id, "type": e.type, "account_id": e.account_id,
            "created_at": e.created_at.isoformat(), "data": e.data}


def notification_values(n: Notification) -> Values:
    """A notification as an email outbox row; the payload holds what the mailer renders."""
    return {"id": n.id, "channel": "email", "account_id": n.account_id,
            "payload": {"to": n.to, "kind": n.kind, "locale": n.locale, "data": n.data,
                        "account_id": n.account_id},
            "attempts": 0, "next_attempt_at": n.created_at, "status": "pending",
            "last_error": None, "created_at": n.created_at}


def outbox_item_of(r: Row[Any]) -> OutboxItem:
    return OutboxItem(**_with_status(_fields(r, OutboxItem.__dataclass_fields__), OutboxStatus))


def endpoint_values(e: WebhookEndpoint) -> Values:
    return {**values(e), "events": list(e.events)}


def endpoint_of(r: Row[Any]) -> WebhookEndpoint:
    v = _fields(r, WebhookEndpoint.__dataclass_fields__)
    return WebhookEndpoint(**{**v, "events": tuple(v["events"])})


def delivery_of(r: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(**_with_status(_fields(r, WebhookDelivery.__dataclass_fields__),
                                          OutboxStatus))


def api_key_of(r: Row[Any]) -> ApiKey:
    return ApiKey(**_fields(r, ApiKey.__dataclass_fields__))


def session_of(r: Row[Any]) -> WebSession:
    return WebSession(**_fields(r, WebSession.__dataclass_fields__))


def idempotency_of(r: Row[Any]) -> IdempotencyRecord:
    v = _fields(r, IdempotencyRecord.__dataclass_fields__)
    return IdempotencyRecord(**{**v, "body": bytes(v["body"])})


def values(record: object) -> Values:
    """The row of a record whose fields map one to one onto columns (a shallow `asdict`).
    A `Record` keeps its fields and nothing else on the instance (`Record.but` relies on it
    too): a copy of its `__dict__` is the row, ten times faster than reading each field by
    name, a dozen times a renewal."""
    if isinstance(record, Record):
        return dict(record.__dict__)
    return {name: getattr(record, name) for name in record.__dataclass_fields__}  # type: ignore[attr-defined]

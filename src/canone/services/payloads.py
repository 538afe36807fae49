"""What quote tokens and payment intents carry, typed: frozen dataclasses with explicit
`to_json`/`from_json`, each JSON object marked `"v": 1`. A token, a payload or a stored
result of another version, or of no known shape, is refused with `UnknownPayload`, never
half read.

Payment intents (payloads and results) are stored with these shapes since migration
0005, which rewrote those of earlier versions (one-letter keys, positional lists, no
version); so reading accepts version 1 alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from canone.billing.codec import config_from_json, config_to_json
from canone.billing.configuration import Configuration
from canone.billing.errors import InvalidField
from canone.billing.frozen import quick_init

VERSION = 1
T = TypeVar("T")


class UnknownPayload(ValueError):
    """A token or a stored payload this version of canone cannot read."""


def _versioned(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("v") != VERSION:
        version = raw.get("v") if isinstance(raw, dict) else None
        raise UnknownPayload(f"{what}: version {version!r} is unknown (this canone reads "
                             f"version {VERSION})")
    return raw


def _read(what: str, build: Callable[[dict[str, Any]], T], raw: Any) -> T:
    """`build(fields)` of a versioned object; any missing or ill-typed field refuses it."""
    fields = _versioned(raw, what)
    try:
        made = build(fields)
    except (KeyError, TypeError, ValueError, InvalidField) as exc:
        raise UnknownPayload(f"{what}: not a version {VERSION} {what} ({exc})") from None
    return made


@dataclass(frozen=True)
class QuoteClaims:
    """What a quote token promises and a "change" intent buys: the change from the
    subscription at `subscription_version` to `target` on `day`, due `due` (minor units),
    with `immediate` applied now. `nonce` makes two quotes of one change differ."""

    account_id: str
    subscription_version: int
    day: date
    immediate: Configuration
    target: Configuration
    due: int
    nonce: str
    # SPEC §8: the upgrade invoice's gross total and the credit the balance pays of it (the
    # card is charged the rest). None: quoted before taxes (such a token is stale; such a
    # paid intent settles net, as it was charged).
    total: int | None = None
    credit: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"v": VERSION, "account_id": self.account_id,
                "subscription_version": self.subscription_version,
                "day": self.day.isoformat(), "immediate": config_to_json(self.immediate),
                "target": config_to_json(self.target), "due": self.due, "nonce": self.nonce,
                "total": self.total, "credit": self.credit}

    @classmethod
    def from_json(cls, raw: Any) -> QuoteClaims:
        return _read("quote", lambda f: cls(
            _text(f["account_id"]), _whole(f["subscription_version"]),
            date.fromisoformat(f["day"]), config_from_json(f["immediate"], "immediate"),
            config_from_json(f["target"], "target"), _whole(f["due"]), _text(f["nonce"]),
            _maybe_whole(f.get("total")), _maybe_whole(f.get("credit"))), raw)


@dataclass(frozen=True)
class CardOnFile:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    country: str = ""
    kind: str = "card"  # or "sepa_debit" (ports.StoredCard)

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token, "brand": self.brand, "last4": self.last4,
                "exp_month": self.exp_month, "exp_year": self.exp_year,
                "country": self.country, "kind": self.kind}

    @classmethod
    def from_json(cls, f: dict[str, Any]) -> CardOnFile:
        # A sign-up started before kinds were kept says neither: a card, country unknown.
        return cls(_text(f["token"]), _text(f["brand"]), _text(f["last4"]),
                   _whole(f["exp_month"]), _whole(f["exp_year"]),
                   _text(f.get("country", "")), _text(f.get("kind", "card")))


@dataclass(frozen=True)
class SignUpPayload:
    """The account a "signup" intent creates once paid. The primary admin's password hash
    is not here: it travels beside the payload (`PaymentIntent.password_hash`), so that a
    payment payload never holds a credential and the hash is dropped once settled."""

    account_id: str
    name: str
    timezone: str
    locale: str
    currency: str
    email: str
    admin_name: str
    config: Configuration
    anchor: date
    period_start: date
    period_end: date
    card: CardOnFile
    # The checked billing details and VIES's answer, as services.billing_details writes
    # them (`details_to_json`, `vies_to_json`); None when none were given.
    billing_details: dict[str, Any] | None
    payment_customer: str | None  # the provider's customer (Stripe: cus_…), if any
    # When the tax was decided (with the amount charged), so that settling later finds the
    # same rate; None: written before taxes (settles net, as it was charged).
    taxed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"v": VERSION, "account_id": self.account_id, "name": self.name,
                "timezone": self.timezone, "locale": self.locale, "currency": self.currency,
                "email": self.email, "admin_name": self.admin_name,
                "config": config_to_json(self.config), "anchor": self.anchor.isoformat(),
                "period": {"start": self.period_start.isoformat(),
                           "end": self.period_end.isoformat()},
                "card": self.card.to_json(), "billing_details": self.billing_details,
                "payment_customer": self.payment_customer,
                "taxed_at": None if self.taxed_at is None else self.taxed_at.isoformat()}

    @classmethod
    def from_json(cls, raw: Any) -> SignUpPayload:
        return _read("sign-up", lambda f: cls(
            _text(f["account_id"]), _text(f["name"]), _text(f["timezone"]),
            _text(f["locale"]), _text(f["currency"]), _text(f["email"]),
            _text(f["admin_name"]), config_from_json(f["config"], "config"),
            date.fromisoformat(f["anchor"]), date.fromisoformat(f["period"]["start"]),
            date.fromisoformat(f["period"]["end"]), CardOnFile.from_json(f["card"]),
            f["billing_details"], f["payment_customer"],
            None if f.get("taxed_at") is None else datetime.fromisoformat(f["taxed_at"])), raw)


@quick_init
@dataclass(frozen=True)
class InvoicePayload:
    """An "invoice" intent: the collection attempt of one open invoice."""

    invoice_id: str
    # Paid by the customer on the billing page, where their bank may ask them to
    # authenticate (SPEC §9); otherwise charged while they are away (off session).
    on_session: bool = False

    def to_json(self) -> dict[str, Any]:
        made: dict[str, Any] = {"v": VERSION, "invoice_id": self.invoice_id}
        if self.on_session:  # written only when set (an optional field)
            made["on_session"] = True
        return made

    @classmethod
    def from_json(cls, raw: Any) -> InvoicePayload:
        return _read("invoice payment", lambda f: cls(
            _text(f["invoice_id"]), bool(f.get("on_session", False))), raw)


@dataclass(frozen=True)
class Settled:
    """What a paid intent keeps for replays (`PaymentIntent.result` once it succeeded):
    what settling it made."""

    invoice_id: str | None = None  # the invoice paid or issued, if any
    account_id: str | None = None  # a sign-up's new account
    # A change's subscription after it, as the API shows it (`context.subscription_json`).
    subscription: dict[str, Any] | None = None
    credited: bool = False  # paid after its quote went stale: not applied, refunded (SPEC §9)
    # Under the provider's minimum: nothing charged, this much carried to the next invoice.
    carried: int = 0
    # A change applied on a SEPA mandate while its debit is processing (the intent still
    # pending): its invoice is paid, or enters the retry schedule, when the debit ends.
    on_mandate: bool = False

    def to_json(self) -> dict[str, Any]:
        made = {"v": VERSION, "invoice_id": self.invoice_id, "account_id": self.account_id,
                "subscription": self.subscription, "credited": self.credited}
        # Written only when set: a result without them reads as before (optional fields).
        if self.carried:
            made["carried"] = self.carried
        if self.on_mandate:
            made["on_mandate"] = True
        return made

    @classmethod
    def from_json(cls, raw: Any) -> Settled:
        return _read("payment result", lambda f: cls(
            _optional_text(f["invoice_id"]), _optional_text(f["account_id"]),
            f["subscription"], bool(f["credited"]), _whole(f.get("carried", 0)),
            bool(f.get("on_mandate", False))), raw)


@dataclass(frozen=True)
class Declined:
    """What a failed intent keeps (`PaymentIntent.result` once it failed): why."""

    message: str
    decline_code: str

    def to_json(self) -> dict[str, Any]:
        return {"v": VERSION, "message": self.message, "decline_code": self.decline_code}

    @classmethod
    def from_json(cls, raw: Any) -> Declined:
        return _read("payment failure", lambda f: cls(
            _text(f["message"]), _text(f["decline_code"])), raw)


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not a whole number")
    return value


def _maybe_whole(value: Any) -> int | None:
    return None if value is None else _whole(value)

"""The JSON shapes of SPEC §7, shared by `canone price` and the API: configurations in,
prices and changes out. Amounts are strings with two decimals; dates are ISO 8601.

`canone price`'s own answer, and the caches and hand-made JSON text that make it fast,
live with that command (canone.price_command)."""

from __future__ import annotations

from datetime import date
from typing import Any

from canone.billing.changes import REQUEST, Change
from canone.billing.configuration import Configuration
from canone.billing.errors import InvalidField
from canone.billing.money import format_amount
from canone.billing.pricing import Price

CONFIG_FIELDS = ("product", "tier", "interval", "currency", "contacts", "seats", "addons")


def _string(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise InvalidField(key, "required, a string code")
    return value


def _whole(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(key, "must be a whole number")
    return value


def config_from_json(raw: Any, where: str) -> Configuration:
    """Read a CONFIG object; errors name the field inside `where` (e.g. `target.seats`)."""
    try:
        if not isinstance(raw, dict):
            raise InvalidField("", "must be an object with " + ", ".join(CONFIG_FIELDS))
        unknown = sorted(set(raw) - set(CONFIG_FIELDS))
        if unknown:
            raise InvalidField(unknown[0], "unknown field; allowed: " + ", ".join(CONFIG_FIELDS))
        contacts = raw.get("contacts")
        addons = raw.get("addons", [])
        if not isinstance(addons, list) or not all(isinstance(a, str) for a in addons):
            raise InvalidField("addons", "must be a list of add-on codes")
        if "seats" not in raw:
            raise InvalidField("seats", "required, a whole number of at least 1")
        return Configuration(
            product=_string(raw, "product"),
            tier=_string(raw, "tier"),
            interval=_string(raw, "interval"),
            currency=_string(raw, "currency"),
            contacts=None if contacts is None else _whole(contacts, "contacts"),
            seats=_whole(raw["seats"], "seats"),
            addons=tuple(addons),
        )
    except InvalidField as exc:
        raise (InvalidField(where, exc.message) if not exc.field else exc.under(where)) from None


def json_kind(value: Any) -> str:
    """What a JSON value is, in words, for messages that say what was sent instead."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def date_from_json(raw: Any, where: str) -> date:
    if raw is None:
        raise InvalidField(where, "required, a date YYYY-MM-DD")
    if not isinstance(raw, str):
        raise InvalidField(where, f'must be a date as a string "YYYY-MM-DD", not {json_kind(raw)}')
    shown = repr(raw if len(raw) <= 40 else raw[:40] + "…")
    if len(raw) > 10 and raw[10:11] in ("T", " "):
        raise InvalidField(where, f"{shown} is a date and time; give the date alone, "
                                  f"YYYY-MM-DD (e.g. {raw[:10]!r})")
    # Python also reads "20260416" and week dates; the contract is YYYY-MM-DD only.
    if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        raise InvalidField(where, f"{shown} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidField(where, f"{shown} is not a date YYYY-MM-DD") from None


def config_to_json(config: Configuration) -> dict[str, Any]:
    return {
        "product": config.product,
        "tier": config.tier,
        "interval": config.interval,
        "currency": config.currency,
        "contacts": config.contacts,
        "seats": config.seats,
        "addons": list(config.addons),
    }


def lines_to_json(lines: Any) -> list[dict[str, str]]:
    return [
        {"key": line.key, "description": line.description, "amount": format_amount(line.amount)}
        for line in lines
    ]


def price_to_json(p: Price) -> dict[str, Any]:
    total = p.total
    return {
        "status": p.status,
        "lines": lines_to_json(p.lines),
        "total": None if total is None else format_amount(total),
    }


def change_to_json(change: Change) -> dict[str, Any]:
    period = change.period
    return {
        "kind": change.kind,
        "reasons": list(change.reasons),
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "days": period.days,
        },
        "remaining_days": change.remaining_days,
        "lines": [] if change.kind == REQUEST else lines_to_json(change.lines),
        "due_now": format_amount(change.due_now),
        "credit": format_amount(change.credit),
        "immediate": config_to_json(change.immediate),
        "scheduled": None if change.scheduled is None else config_to_json(change.scheduled),
        "features_lost": list(change.features_lost),
        "features_gained": list(change.features_gained),
    }

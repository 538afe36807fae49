"""The JSON shapes of SPEC §7, shared by `canone price` and the API: configurations in,
prices and changes out. Amounts are strings with two decimals; dates are ISO 8601."""

from __future__ import annotations

from datetime import date
from typing import Any

from canone.billing.catalog import Catalog
from canone.billing.changes import REQUEST, Change, plan_change
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.money import format_amount
from canone.billing.pricing import Price, price

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


def date_from_json(raw: Any, where: str) -> date:
    if not isinstance(raw, str):
        raise InvalidField(where, "required, a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidField(where, f"{raw!r} is not a date YYYY-MM-DD") from None


def validated(catalog: Catalog, raw: Any, where: str) -> Configuration:
    config = config_from_json(raw, where)
    try:
        return validate(catalog, config)
    except InvalidField as exc:
        raise exc.under(where) from None


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


def answer(catalog: Catalog, request: Any) -> dict[str, Any]:
    """One `canone price` answer: the target's price and, with a current configuration,
    the change; or an error naming the field."""
    out: dict[str, Any] = {"target": None, "change": None, "error": None}
    try:
        if not isinstance(request, dict):
            raise InvalidField("line", "each line must be a JSON object with current, target, "
                               "anchor and at")
        if "target" not in request:
            raise InvalidField("target", "required, a configuration object")
        target = validated(catalog, request["target"], "target")
        out["target"] = price_to_json(price(catalog, target))
        if request.get("current") is None:
            return out
        current = validated(catalog, request["current"], "current")
        anchor = date_from_json(request.get("anchor"), "anchor")
        at = date_from_json(request.get("at"), "at")
        out["change"] = change_to_json(plan_change(catalog, current, target, anchor, at))
    except InvalidField as exc:
        out["change"] = None
        out["error"] = {"field": exc.field, "message": exc.message}
    return out

"""`canone price`'s answers: for each JSON line, the target's price and, with a current
configuration, the change (SPEC §7), or the error naming the field.

The command prices tens of thousands of lines a run, most of them alike, so it keeps what
recurs: configurations read from JSON, validated and priced, the features a change loses
and gains, prorated lines, and the JSON texts of prices, configurations, lines and codes.
Those caches serve this command alone and live here, with it, not in the billing core,
whose answers they only remember (the core computes each answer when asked)."""

from __future__ import annotations

import json
from typing import Any

from canone.billing.catalog import Catalog
from canone.billing.changes import REQUEST, Change, Rules, plan_change
from canone.billing.codec import (
    change_to_json,
    config_from_json,
    config_to_json,
    date_from_json,
    lines_to_json,
    price_to_json,
)
from canone.billing.configuration import Configuration
from canone.billing.errors import InvalidField
from canone.billing.money import ZERO, format_amount
from canone.billing.pricing import Line, Price

MEMO_SIZE = 16_384  # entries per memo; a full memo starts again empty


def remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = value


class RememberingRules(Rules):
    """The core's rules for one catalog (which never changes), each answer remembered by
    its immutable question; the memos are this command's, for that catalog."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog)
        self.memos: dict[str, dict[Any, Any]] = {}
        # The rules' own memos, kept at hand: they are asked a few times per line.
        self._valid, self._prices = self.memo("valid"), self.memo("price")
        self._features, self._prorated = self.memo("features_changed"), self.memo("prorated")

    def memo(self, name: str) -> dict[Any, Any]:
        """The memo `name`; fill it with `remember`."""
        found = self.memos.get(name)
        if found is None:
            found = self.memos[name] = {}
        return found

    def validate(self, config: Configuration) -> Configuration:
        memo = self._valid
        found: Configuration | None = memo.get(config)
        if found is None:  # an invalid one raises, and is read again next time
            found = super().validate(config)
            remember(memo, config, found)
        return found

    def price(self, config: Configuration) -> Price:
        memo = self._prices
        found: Price | None = memo.get(config)
        if found is None:
            found = super().price(config)
            remember(memo, config, found)
        return found

    def features_changed(self, current: Configuration, target: Configuration
                         ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        key = (current.product, current.tier, current.addons,
               target.product, target.tier, target.addons)
        memo = self._features
        found: tuple[tuple[str, ...], tuple[str, ...]] | None = memo.get(key)
        if found is None:
            found = super().features_changed(current, target)
            remember(memo, key, found)
        return found

    def prorated(self, line: Line, remaining: int, days: int, credit: bool) -> Line:
        # Prorated lines recur: a handful of line amounts, remaining and days at most 366.
        key = (line.key, line.description, line.amount, remaining, days, credit)
        memo = self._prorated
        found: Line | None = memo.get(key)
        if found is None:
            found = super().prorated(line, remaining, days, credit)
            remember(memo, key, found)
        return found


# The rules of each catalog priced with (a run has one; tests build a few).
_RULES: dict[int, RememberingRules] = {}


def rules_of(catalog: Catalog) -> RememberingRules:
    found = _RULES.get(id(catalog))
    if found is None or found.catalog is not catalog:  # kept: its id stays its own
        if len(_RULES) >= 8:
            _RULES.clear()
        found = _RULES[id(catalog)] = RememberingRules(catalog)
    return found


def _memo(catalog: Catalog, name: str) -> dict[Any, Any]:
    return rules_of(catalog).memo(name)


def _key(raw: Any) -> tuple[Any, ...] | None:
    """A CONFIG object's values as sent, when it has exactly the seven fields with exactly
    their JSON types (four strings, contacts an integer or null, seats an integer, add-ons a
    list of strings); None otherwise. Equal keys are then equal configurations."""
    if type(raw) is not dict or len(raw) != 7:
        return None
    get = raw.get
    product, tier, interval, currency = get("product"), get("tier"), get("interval"), get(
        "currency")
    contacts, seats, addons = get("contacts"), get("seats"), get("addons")
    if (type(product) is not str or type(tier) is not str or type(interval) is not str
            or type(currency) is not str or type(seats) is not int
            or (contacts is not None and type(contacts) is not int)
            or type(addons) is not list or "contacts" not in raw):
        return None
    for code in addons:
        if type(code) is not str:
            return None
    return (product, tier, interval, currency, contacts, seats, *addons)


def validated(catalog: Catalog, raw: Any, where: str) -> Configuration:
    """A CONFIG object read and validated. Valid ones are remembered by their values, so a
    configuration that recurs (most do) is read once."""
    key = _key(raw)
    memo = _memo(catalog, "json_config")
    if key is not None:
        found: Configuration | None = memo.get(key)
        if found is not None:
            return found
    # With a key, the fields are already read and checked: build the configuration at once.
    config = (config_from_json(raw, where) if key is None
              else Configuration(key[0], key[1], key[2], key[3], key[4], key[5], key[6:]))
    try:
        config = rules_of(catalog).validate(config)
    except InvalidField as exc:
        raise exc.under(where) from None
    if key is not None:
        remember(memo, key, config)
    return config


def _solve(
    catalog: Catalog, request: Any
) -> tuple[Price | None, Change | None, InvalidField | None]:
    """The target's price (once known), the change, and the error that stopped the rest."""
    target_price = None
    try:
        if not isinstance(request, dict):
            raise InvalidField("line", "each line must be a JSON object with current, target, "
                               "anchor and at")
        if "target" not in request:
            raise InvalidField("target", "required, a configuration object")
        rules = rules_of(catalog)
        target = validated(catalog, request["target"], "target")
        target_price = rules.price(target)
        if request.get("current") is None:
            return target_price, None, None
        current = validated(catalog, request["current"], "current")
        anchor = date_from_json(request.get("anchor"), "anchor")
        at = date_from_json(request.get("at"), "at")
        return target_price, plan_change(catalog, current, target, anchor, at, rules), None
    except InvalidField as exc:
        return target_price, None, exc


def _answer(p: Price | None, change: Change | None, error: InvalidField | None) -> dict[str, Any]:
    return {
        "target": None if p is None else price_to_json(p),
        "change": None if change is None else change_to_json(change),
        "error": None if error is None else {"field": error.field, "message": error.message},
    }


def answer(catalog: Catalog, request: Any) -> dict[str, Any]:
    """One `canone price` answer: the target's price and, with a current configuration,
    the change; or an error naming the field."""
    return _answer(*_solve(catalog, request))


# -- the same answer as JSON text, fast ---------------------------------------------------------


def answer_text(catalog: Catalog, request: Any) -> str:
    """Exactly `json.dumps(answer(catalog, request))`, built from remembered JSON texts of
    the parts that recur (a price, a configuration, a line, a list of codes): the JSON
    encoding was the largest single cost of `canone price`."""
    p, change, error = _solve(catalog, request)
    if error is not None or p is None:  # rare: the plain way
        return json.dumps(_answer(p, change, error))
    target = _price_text(catalog, p)
    if change is None:
        return '{"target": ' + target + ', "change": null, "error": null}'
    return ('{"target": ' + target + ', "change": ' + _change_text(catalog, change)
            + ', "error": null}')


_TEXTS: dict[Any, str] = {}  # JSON text of codes and code tuples (as lists) and of lines


def _remember_text(key: Any, text: str) -> str:
    if len(_TEXTS) >= 65_536:
        _TEXTS.clear()
    _TEXTS[key] = text
    return text


def _codes_text(codes: tuple[str, ...]) -> str:
    return _TEXTS.get(codes) or _remember_text(codes, json.dumps(list(codes)))


def _line_text(line: Line) -> str:
    key = (line.key, line.description, line.amount)
    return _TEXTS.get(key) or _remember_text(key, json.dumps(lines_to_json((line,))[0]))


def _config_text(catalog: Catalog, config: Configuration) -> str:
    memo = _memo(catalog, "config_text")
    text: str | None = memo.get(config)
    if text is None:
        text = json.dumps(config_to_json(config))
        remember(memo, config, text)
    return text


def _price_text(catalog: Catalog, p: Price) -> str:
    memo = _memo(catalog, "price_text")
    text: str | None = memo.get(p.config)
    if text is None:
        text = json.dumps(price_to_json(p))
        remember(memo, p.config, text)
    return text


def _change_text(catalog: Catalog, change: Change) -> str:
    """change_to_json(change) as text, key for key in its order."""
    period = change.period
    if change.kind == REQUEST:
        lines, due, credit = "[]", ZERO, ZERO
    else:
        lines = "[" + ", ".join([_line_text(line) for line in change.lines]) + "]"
        net = change.net
        due, credit = max(ZERO, net), max(ZERO, -net)  # as Change.due_now and .credit
    scheduled = "null" if change.scheduled is None else _config_text(catalog, change.scheduled)
    kind = _TEXTS.get(change.kind) or _remember_text(change.kind, json.dumps(change.kind))
    # Dates, whole numbers and amounts need no escaping: their JSON is their text, quoted.
    return (
        f'{{"kind": {kind}, '
        f'"reasons": {_codes_text(change.reasons)}, '
        f'"period": {{"start": "{period.start.isoformat()}", "end": "{period.end.isoformat()}", '
        f'"days": {period.days}}}, "remaining_days": {change.remaining_days}, '
        f'"lines": {lines}, "due_now": "{format_amount(due)}", '
        f'"credit": "{format_amount(credit)}", '
        f'"immediate": {_config_text(catalog, change.immediate)}, "scheduled": {scheduled}, '
        f'"features_lost": {_codes_text(change.features_lost)}, '
        f'"features_gained": {_codes_text(change.features_gained)}}}'
    )

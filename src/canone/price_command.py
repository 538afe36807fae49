"""`canone price`'s answers: for each JSON line, the target's price and, with a current
configuration, the change (SPEC §7), or the error naming the field.

The command prices tens of thousands of lines a run, most of them alike, so it keeps what
recurs: configurations read from JSON, validated and priced, the features a change loses
and gains, prorated lines, dates, and the JSON texts of prices, configurations, lines and
codes. Those caches serve this command alone and live here, with it, not in the billing
core, whose answers they only remember (the core computes each answer when asked).

`answer` is the plain answer, a dict for `json.dumps`; `answer_text` is the same answer as
JSON text, byte for byte, made fast from remembered texts (a property test holds them
equal). A line that is not a well-formed valid request leaves the fast way for the plain
one, so every error reads exactly as `answer` words it."""

from __future__ import annotations

import json
from datetime import date
from json.encoder import encode_basestring_ascii as quoted  # json.dumps's own, ensure_ascii
from typing import Any

from canone.billing.catalog import Catalog
from canone.billing.changes import REQUEST, Change, Rules, plan_change
from canone.billing.codec import (
    change_to_json,
    config_from_json,
    date_from_json,
    price_to_json,
)
from canone.billing.configuration import Configuration, validate
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


def _key(raw: Any) -> tuple[Any, ...] | None:
    """A CONFIG object's values as sent, when it has exactly the seven fields with exactly
    their JSON types (four strings, contacts an integer or null, seats an integer, add-ons a
    list of strings); None otherwise. Equal keys are then equal configurations (in Python
    True == 1 == 1.0: the types are checked, so seats true is never taken for seats 1)."""
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


class Known:
    """A configuration as sent, once read, validated and priced: what every later line
    that sends it again needs, found with one lookup. Its JSON texts are made when first
    needed: half the configurations are only ever a current one, whose price is not
    written."""

    __slots__ = ("config", "config_text", "price", "price_text")

    def __init__(self, config: Configuration, price: Price) -> None:
        self.config, self.price = config, price
        self.price_text: str | None = None
        self.config_text: str | None = None


class Pricer:
    """`canone price` for one catalog: its remembering rules, the configurations and dates
    it has read, and the JSON texts it has made."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.rules = rules = RememberingRules(catalog)
        self.known: dict[tuple[Any, ...], Known] = rules.memo("known")
        self.dates: dict[str, date] = rules.memo("dates")
        self.config_texts: dict[Configuration, str] = rules.memo("config_text")
        self.texts: dict[Any, str] = rules.memo("texts")  # lines, codes, kinds

    # -- reading, fast: None sends the line the plain way, which words its error ----------

    def config(self, raw: Any) -> Known | None:
        """The configuration `raw`, known or read now; None if it is not well formed and
        valid."""
        key = _key(raw)
        if key is None:
            return None
        found = self.known.get(key)
        if found is None:
            try:  # the key's fields are read and checked: build the configuration at once
                config = validate(self.catalog, Configuration(
                    key[0], key[1], key[2], key[3], key[4], key[5], key[6:]))
            except InvalidField:
                return None
            found = Known(config, self.rules.price(config))
            remember(self.known, key, found)
        return found

    def date(self, raw: Any) -> date | None:
        found = self.dates.get(raw) if type(raw) is str else None
        if found is None:
            try:
                found = date_from_json(raw, "")
            except InvalidField:
                return None
            remember(self.dates, raw, found)
        return found

    def answer_text(self, request: Any) -> str:
        """Exactly `json.dumps(answer(catalog, request))`."""
        if type(request) is dict:
            target = self.config(request.get("target"))
            if target is not None:
                current_raw = request.get("current")
                target_text = target.price_text or self.known_price_text(target)
                if current_raw is None:
                    return '{"target": ' + target_text + ', "change": null, "error": null}'
                current = self.config(current_raw)
                anchor, at = self.date(request.get("anchor")), self.date(request.get("at"))
                if current is not None and anchor is not None and at is not None:
                    try:
                        change = plan_change(self.catalog, current.config, target.config,
                                             anchor, at, self.rules)
                    except InvalidField:
                        pass
                    else:
                        return ('{"target": ' + target_text + ', "change": '
                                + self.change_text(change, current, target) + ', "error": null}')
        return json.dumps(answer(self.catalog, request))  # an error, or a rare shape

    # -- JSON texts, as json.dumps writes them (", " and ": ", ASCII) ----------------------

    def known_price_text(self, known: Known) -> str:
        text = known.price_text = self.price_text(known.price)
        return text

    def known_config_text(self, known: Known) -> str:
        text = known.config_text = self.config_text(known.config)
        return text

    def price_text(self, p: Price) -> str:
        total = p.total
        return ('{"status": ' + quoted(p.status) + ', "lines": ' + self.lines_text(p.lines)
                + ', "total": ' + ("null" if total is None else f'"{format_amount(total)}"')
                + "}")

    def lines_text(self, lines: tuple[Line, ...]) -> str:
        texts = self.texts
        parts = []
        for line in lines:
            key = (line.key, line.description, line.amount)
            text = texts.get(key)
            if text is None:
                text = (f'{{"key": {quoted(line.key)}, "description": '
                        f'{quoted(line.description)}, "amount": "{format_amount(line.amount)}"}}')
                remember(texts, key, text)
            parts.append(text)
        return "[" + ", ".join(parts) + "]"

    def codes_text(self, codes: tuple[str, ...]) -> str:
        text = self.texts.get(codes)
        if text is None:
            text = "[" + ", ".join([quoted(code) for code in codes]) + "]"
            remember(self.texts, codes, text)
        return text

    def config_text(self, config: Configuration) -> str:
        text = self.config_texts.get(config)
        if text is None:
            contacts = "null" if config.contacts is None else str(config.contacts)
            text = (f'{{"product": {quoted(config.product)}, "tier": {quoted(config.tier)}, '
                    f'"interval": {quoted(config.interval)}, '
                    f'"currency": {quoted(config.currency)}, "contacts": {contacts}, '
                    f'"seats": {config.seats}, "addons": {self.codes_text(config.addons)}}}')
            remember(self.config_texts, config, text)
        return text

    def change_text(self, change: Change, current: Known, target: Known) -> str:
        """change_to_json(change) as text, key for key in its order."""
        period = change.period
        if change.kind == REQUEST:
            lines, due, credit = "[]", "0.00", "0.00"
        else:
            lines = self.lines_text(change.lines)
            net = ZERO
            for line in change.lines:
                net += line.amount
            # As Change.due_now and .credit: max(0, net) and max(0, -net).
            due, credit = (format_amount(net), "0.00") if net > 0 else (
                "0.00", format_amount(-net))
        # Most often the configurations in effect are those sent: their texts are at hand.
        immediate = (
            (target.config_text or self.known_config_text(target))
            if change.immediate is target.config else
            (current.config_text or self.known_config_text(current))
            if change.immediate is current.config else self.config_text(change.immediate))
        scheduled = (
            "null" if change.scheduled is None else
            (target.config_text or self.known_config_text(target))
            if change.scheduled is target.config else self.config_text(change.scheduled))
        # Dates, whole numbers and amounts need no escaping: their JSON is their text.
        return (f'{{"kind": {quoted(change.kind)}, "reasons": {self.codes_text(change.reasons)}, '
                f'"period": {{"start": "{period.start.isoformat()}", '
                f'"end": "{period.end.isoformat()}", "days": {period.days}}}, '
                f'"remaining_days": {change.remaining_days}, "lines": {lines}, '
                f'"due_now": "{due}", "credit": "{credit}", '
                f'"immediate": {immediate}, "scheduled": {scheduled}, '
                f'"features_lost": {self.codes_text(change.features_lost)}, '
                f'"features_gained": {self.codes_text(change.features_gained)}}}')


# The pricer of each catalog priced with (a run has one; tests build a few).
_PRICERS: dict[int, Pricer] = {}


def pricer_of(catalog: Catalog) -> Pricer:
    found = _PRICERS.get(id(catalog))
    if found is None or found.catalog is not catalog:  # kept: its id stays its own
        if len(_PRICERS) >= 8:
            _PRICERS.clear()
        found = _PRICERS[id(catalog)] = Pricer(catalog)
    return found


def rules_of(catalog: Catalog) -> RememberingRules:
    return pricer_of(catalog).rules


def answer_text(catalog: Catalog, request: Any) -> str:
    """Exactly `json.dumps(answer(catalog, request))`, built from remembered JSON texts of
    the parts that recur (a price, a configuration, a line, a list of codes): the JSON
    encoding was the largest single cost of `canone price`."""
    return pricer_of(catalog).answer_text(request)


# -- the plain answer -------------------------------------------------------------------------


def validated(catalog: Catalog, raw: Any, where: str) -> Configuration:
    """A CONFIG object read and validated; errors name the field inside `where`."""
    config = config_from_json(raw, where)
    try:
        return rules_of(catalog).validate(config)
    except InvalidField as exc:
        raise exc.under(where) from None


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


def answer(catalog: Catalog, request: Any) -> dict[str, Any]:
    """One `canone price` answer: the target's price and, with a current configuration,
    the change; or an error naming the field."""
    p, change, error = _solve(catalog, request)
    return {
        "target": None if p is None else price_to_json(p),
        "change": None if change is None else change_to_json(change),
        "error": None if error is None else {"field": error.field, "message": error.message},
    }

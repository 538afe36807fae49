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
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring_ascii as quoted  # json.dumps's own, ensure_ascii
from typing import Any

from canone.billing.catalog import Catalog
from canone.billing.changes import (
    UPGRADE,
    Change,
    Decision,
    Rules,
    decide,
    period_on,
    plan_change,
    prorated,
)
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

Day = date  # the Pricer's own `date` reads one

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
        self._features = self.memo("features_changed")
        self._bases, self._seats, self._addons = (
            self.memo("base"), self.memo("seats"), self.memo("addon"))

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

    # A new configuration is priced from parts that few fields decide and many share.

    def base(self, product: str, tier: str, contacts: int | None, interval: str
             ) -> tuple[str, Line | None]:
        key = (product, tier, contacts, interval)
        found: tuple[str, Line | None] | None = self._bases.get(key)
        if found is None:
            found = super().base(product, tier, contacts, interval)
            remember(self._bases, key, found)
        return found

    def seats(self, product: str, tier: str, contacts: int | None, seats: int, interval: str
              ) -> Line | None:
        key = (product, tier, contacts, seats, interval)
        memo = self._seats
        if key in memo:
            found: Line | None = memo[key]
        else:
            found = super().seats(product, tier, contacts, seats, interval)
            remember(memo, key, found)
        return found

    def addon(self, code: str, interval: str) -> Line | None:
        key = (code, interval)
        memo = self._addons
        if key in memo:
            found: Line | None = memo[key]
        else:
            found = super().addon(code, interval)
            remember(memo, key, found)
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
        self.texts: dict[Any, str] = rules.memo("texts")  # lines, codes
        self.plans: dict[tuple[Known, Known], Plan] = rules.memo("plans")
        # (a line's text, remaining days, days) -> the prorated line's amount and text
        self.prorated_texts: dict[tuple[str, int, int], tuple[Decimal, str]] = rules.memo(
            "prorated_texts")

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
                    change = self.change_text(current, target, anchor, at)
                    if change is not None:
                        return ('{"target": ' + target_text + ', "change": ' + change
                                + ', "error": null}')
        return json.dumps(answer(self.catalog, request))  # an error, or a rare shape

    # -- JSON texts, as json.dumps writes them (", " and ": ", ASCII) ----------------------

    def known_price_text(self, known: Known) -> str:
        text = known.price_text = self.price_text(known.price)
        return text

    def known_config_text(self, known: Known) -> str:
        text = known.config_text = config_text(known.config, self.codes_text)
        return text

    def config_text_of(self, config: Configuration, current: Known, target: Known) -> str:
        """The text of a configuration in effect: most often one of those sent."""
        if config is target.config:
            return target.config_text or self.known_config_text(target)
        if config is current.config:
            return current.config_text or self.known_config_text(current)
        text = self.config_texts.get(config)
        if text is None:
            text = config_text(config, self.codes_text)
            remember(self.config_texts, config, text)
        return text

    def price_text(self, p: Price) -> str:
        total = p.total
        return ('{"status": ' + quoted(p.status) + ', "lines": ' + self.lines_text(p.lines)
                + ', "total": ' + ("null" if total is None else f'"{format_amount(total)}"')
                + "}")

    def lines_text(self, lines: tuple[Line, ...]) -> str:
        return "[" + ", ".join([self.line_text(line) for line in lines]) + "]"

    def line_text(self, line: Line) -> str:
        key = (line.key, line.description, line.amount)
        text = self.texts.get(key)
        if text is None:
            text = (f'{{"key": {quoted(line.key)}, "description": '
                    f'{quoted(line.description)}, "amount": "{format_amount(line.amount)}"}}')
            remember(self.texts, key, text)
        return text

    def codes_text(self, codes: tuple[str, ...]) -> str:
        text = self.texts.get(codes)
        if text is None:
            text = "[" + ", ".join([quoted(code) for code in codes]) + "]"
            remember(self.texts, codes, text)
        return text

    def change_text(self, current: Known, target: Known, anchor: Day, at: Day) -> str | None:
        """change_to_json(plan_change(...)) as text, key for key in its order; None when
        the change is an error."""
        try:
            period = period_on(anchor, current.config.interval, at)
        except InvalidField:
            return None
        plan = self.plans.get((current, target))
        if plan is None:
            try:
                decision = decide(self.catalog, current.config, target.config, self.rules)
            except InvalidField:
                return None
            plan = Plan(self, decision, current, target)
            remember(self.plans, (current, target), plan)
        remaining: int = (period.end - at).days
        days = period.days
        # Dates, whole numbers and amounts need no escaping: their JSON is their text.
        middle = (f'{period.start.isoformat()}", "end": "{period.end.isoformat()}", '
                  f'"days": {days}}}, "remaining_days": {remaining}, "lines": ')
        if plan.prorated is None:
            return plan.head + middle + plan.tail
        net, texts, lines = plan.whole_net, [], self.prorated_texts
        for line, credit, key in plan.prorated:
            found = lines.get((key, remaining, days))
            if found is None:
                billed = prorated(line, remaining, days, credit)
                found = billed.amount, self.line_text(billed)
                remember(lines, (key, remaining, days), found)
            net += found[0]
            texts.append(found[1])
        texts += plan.whole
        # As Change.due_now and .credit: max(0, net) and max(0, -net).
        due, credit_text = (format_amount(net), "0.00") if net > 0 else (
            "0.00", format_amount(-net))
        return (plan.head + middle + "[" + ", ".join(texts) + f'], "due_now": "{due}", '
                f'"credit": "{credit_text}"' + plan.tail)


class Plan:
    """A (current, target) pair's decision as text: all but the day's period and lines.
    `prorated` is None when the change bills nothing, else (line, a credit, a key: its
    text after - for a credit, + for a charge) for
    each line billed for the days left; `whole` the texts of the lines billed in full."""

    __slots__ = ("head", "prorated", "tail", "whole", "whole_net")

    def __init__(self, pricer: Pricer, decision: Decision, current: Known, target: Known
                 ) -> None:
        codes = pricer.codes_text
        self.head = (f'{{"kind": {quoted(decision.kind)}, "reasons": '
                     f'{codes(decision.reasons)}, "period": {{"start": "')
        # Most often the configurations in effect are those sent: their texts are at hand.
        immediate = decision.immediate
        scheduled = decision.scheduled
        tail = (f', "immediate": {pricer.config_text_of(immediate, current, target)}, '
                '"scheduled": ' + ("null" if scheduled is None else
                                   pricer.config_text_of(scheduled, current, target))
                + f', "features_lost": {codes(decision.features_lost)}, '
                  f'"features_gained": {codes(decision.features_gained)}}}')
        self.whole = [pricer.line_text(line) for line in decision.whole]
        self.whole_net = ZERO + sum(line.amount for line in decision.whole)
        if decision.kind == UPGRADE:
            self.prorated: tuple[tuple[Line, bool, str], ...] | None = tuple(
                (line, credit, ('-' if credit else '+') + pricer.line_text(line))
                for line, credit in decision.prorated)
            self.tail = tail
        else:  # no lines, and nothing due or credited
            self.prorated = None
            self.tail = '[], "due_now": "0.00", "credit": "0.00"' + tail


def config_text(config: Configuration, codes_text: Callable[[tuple[str, ...]], str]) -> str:
    contacts = "null" if config.contacts is None else str(config.contacts)
    return (f'{{"product": {quoted(config.product)}, "tier": {quoted(config.tier)}, '
            f'"interval": {quoted(config.interval)}, '
            f'"currency": {quoted(config.currency)}, "contacts": {contacts}, '
            f'"seats": {config.seats}, "addons": {codes_text(config.addons)}}}')


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

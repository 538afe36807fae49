"""`canone price`'s answers: for each JSON line, the target's price and, with a current
configuration, the change (SPEC §7), or the error naming the field.

The command prices tens of thousands of lines a run, most of them alike, so it keeps what
recurs (canone.price_memos): configurations read from JSON, validated and priced, the
parts of prices, the features a change loses and gains, a pair's decision, prorated lines,
dates, and the JSON texts (canone.price_texts) of prices, configurations, lines and codes.

`answer` is the plain answer, a dict for `json.dumps`; `answer_text` is the same answer as
JSON text, byte for byte, made fast from remembered texts (a property test holds them
equal). A line that is not a well-formed valid request leaves the fast way for the plain
one, so every error reads exactly as `answer` words it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from canone.billing.catalog import Catalog
from canone.billing.changes import Change, decide, plan_change
from canone.billing.codec import (
    change_to_json,
    config_from_json,
    date_from_json,
    price_to_json,
)
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.money import format_amount
from canone.billing.periods import period_bounds
from canone.billing.pricing import Price
from canone.price_memos import (
    Known,
    RememberingRules,
    config_key,
    plain_config,
)
from canone.price_texts import Plan, Texts, prorated_text

Day = date  # the Pricer's own `date` reads one

# A request as json.dumps writes it: these keys in this order, ", " and ": " between.
_CURRENT, _TARGET, _ANCHOR, _AT = b'{"current": ', b', "target": ', b', "anchor": ', b', "at": '
_SPACE = b" \t\r\n"  # JSON's whitespace (bytes.strip's default strips more)

# What json.loads runs under its Python wrappers (typeshed leaves it out).
scan = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]
_NOT_ONE_VALUE = object()


def json_value(text: bytes) -> Any:
    """The JSON value whose whole text is `text`, as `json.loads` reads it; _NOT_ONE_VALUE
    for anything else (not JSON, more after the value, space around it: a piece of a line
    is read the general way then)."""
    try:
        decoded = text.decode("utf-8", "surrogatepass")  # as json.loads decodes bytes
        value, end = scan(decoded, 0)
    except (ValueError, StopIteration, RecursionError):
        return _NOT_ONE_VALUE
    return value if end == len(decoded) else _NOT_ONE_VALUE


class Pricer(Texts):
    """`canone price` for one catalog: its remembering rules, the configurations and dates
    it has read, and the JSON texts it has made."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.rules = rules = RememberingRules(catalog)
        super().__init__(rules)
        self.known: dict[tuple[Any, ...], Known] = rules.memo("known")
        # A configuration's JSON text as sent (a piece of a line) -> the configuration known.
        self.known_texts: dict[bytes, Known] = rules.memo("known_texts")
        # A date's text as read (str) or its JSON text (bytes, a piece of a line) -> the date.
        self.dates: dict[str | bytes, date] = rules.memo("dates")
        self.plans: dict[tuple[Known, Known], Plan] = rules.memo("plans")
        # (a sign and a line's text, remaining days, days) -> the prorated line's amount and
        # text
        self.prorated_texts: dict[tuple[str, int, int], tuple[Decimal, str]] = rules.memo(
            "prorated_texts")
        # (start, end) of a period -> its days and its text (Pricer.period_text)
        self.periods: dict[tuple[date, date], tuple[int, str]] = rules.memo("periods")

    # -- reading, fast: None sends the line the plain way, which words its error ----------

    def config(self, raw: Any) -> Known | None:
        """The configuration `raw`, known or read now; None if it is not well formed and
        valid."""
        key = config_key(raw)
        if key is None:
            return None
        found = self.known.get(key)
        if found is None:  # the key's fields are read and checked: build it at once
            found = self.new_config(Configuration(key[0], key[1], key[2], key[3], key[4],
                                                  key[5], key[6:]), None)
            if found is not None:
                self.known[key] = found
        return found

    def new_config(self, made: Configuration, text: str | None) -> Known | None:
        """The configuration `made`, validated and priced; None if it is not valid. `text`:
        its text as sent, when that is written as json.dumps writes it."""
        try:
            config = validate(self.catalog, made, self.rules.normal_addons)
        except InvalidField:
            return None
        found = Known(config, self.rules.price(config))
        if config is made:  # nothing changed: the text sent is the configuration's own
            found.config_text = text
        return found

    def config_of_text(self, text: bytes) -> Known | None:
        """The configuration whose JSON text is `text`; None if that is not one valid
        configuration's JSON. A text in json.dumps's form is read at once (and, not in
        `known_texts`, is a configuration not seen in that form: `known` is not asked)."""
        decoded = text.decode("latin-1")  # any bytes; plain_config matches ASCII alone
        made = plain_config(decoded)
        found = (self.config(json_value(text)) if made is None
                 else self.new_config(made, decoded))
        if found is not None:
            self.known_texts[text] = found
        return found

    def date(self, raw: Any) -> date | None:
        found = self.dates.get(raw) if type(raw) is str else None
        if found is None:
            try:
                found = date_from_json(raw, "")
            except InvalidField:
                return None
            self.dates[raw] = found
        return found

    def line_answer(self, line: bytes) -> str | None:
        """`answer_text(json.loads(line))` for a valid request as json.dumps writes it;
        None for any other line.

        The line is cut at the keys: once each piece is the JSON text of a value (a known
        configuration or date, or read now), the line is that object of those values,
        wherever the keys' texts also occur inside a piece: JSON reads one way."""
        if not line.startswith(_CURRENT):
            return None
        target_at = line.find(_TARGET, 12)
        anchor_at = line.find(_ANCHOR, target_at)
        at_at = line.find(_AT, anchor_at)
        end = len(line.rstrip(_SPACE)) - 1
        if target_at < 0 or anchor_at < 0 or at_at < 0 or line[end:end + 1] != b"}":
            return None
        texts, dates = self.known_texts, self.dates
        text = line[target_at + 12:anchor_at]
        target = texts.get(text) or self.config_of_text(text)
        text = line[anchor_at + 12:at_at]
        anchor = dates.get(text) or self.date_of_text(text)
        text = line[at_at + 8:end]
        at = dates.get(text) or self.date_of_text(text)
        if target is None or anchor is None or at is None:
            return None
        price = target.price_text or self.known_price_text(target)
        text = line[12:target_at]
        if text == b"null":
            return f'{{"target": {price}, "change": null, "error": null}}'
        current = texts.get(text) or self.config_of_text(text)
        if current is None:
            return None
        return self.change_answer(price, current, target, anchor, at)

    def date_of_text(self, text: bytes) -> Day | None:
        """The date whose JSON text is `text`; None if it is not one."""
        found = self.date(json_value(text))
        if found is not None:
            self.dates[text] = found
        return found

    def answer_text(self, request: Any) -> str:
        """Exactly `json.dumps(answer(catalog, request))`."""
        if type(request) is dict:
            target = self.config(request.get("target"))
            if target is not None:
                current_raw = request.get("current")
                target_text = target.price_text or self.known_price_text(target)
                if current_raw is None:
                    return f'{{"target": {target_text}, "change": null, "error": null}}'
                current = self.config(current_raw)
                anchor, at = self.date(request.get("anchor")), self.date(request.get("at"))
                if current is not None and anchor is not None and at is not None:
                    text = self.change_answer(target_text, current, target, anchor, at)
                    if text is not None:
                        return text
        return json.dumps(answer(self.catalog, request))  # an error, or a rare shape

    def change_answer(self, price: str, current: Known, target: Known, anchor: Day, at: Day
                      ) -> str | None:
        """The answer whose target's price is the text `price` and whose change is
        change_to_json(plan_change(...)), as text, key for key in its order; None when the
        change is an error."""
        if at < anchor:  # period_bounds_on's errors: the plain way words them
            return None
        try:
            _, start, end = period_bounds(anchor, current.config.interval, at)
        except (ValueError, OverflowError):
            return None
        # A period's text once per (start, end): a few thousand periods, and a date's
        # isoformat costs more than a lookup.
        period = self.periods.get((start, end))
        if period is None:
            period = self.period_text(start, end)
        days, period_text = period
        remaining = (end - at).days  # as Period's
        plan = self.plans.get((current, target))
        if plan is None:
            try:
                decision = decide(self.catalog, current.config, target.config, self.rules)
            except InvalidField:
                return None
            plan = Plan(self, decision, current, target)
            self.plans[(current, target)] = plan
        if plan.prorated is None:
            return (f'{{"target": {price}, "change": {plan.head}{period_text}{remaining}'
                    f', "lines": {plan.tail}, "error": null}}')
        net, texts, lines = plan.whole_net, [], self.prorated_texts
        for amount, credit, head, key in plan.prorated:
            found = lines.get((key, remaining, days))
            if found is None:  # seldom again: not in texts
                found = prorated_text(amount, credit, head, remaining, days)
                lines[(key, remaining, days)] = found
            net += found[0]
            texts.append(found[1])
        texts += plan.whole
        # As Change.due_now and .credit: max(0, net) and max(0, -net).
        due, credit_text = (format_amount(net), "0.00") if net > 0 else (
            "0.00", format_amount(-net))
        # One string built at once: a chain of + copies the growing text at every step.
        return (f'{{"target": {price}, "change": {plan.head}{period_text}{remaining}, '
                f'"lines": [{", ".join(texts)}], "due_now": "{due}", "credit": '
                f'"{credit_text}"{plan.tail}, "error": null}}')

    def period_text(self, start: Day, end: Day) -> tuple[int, str]:
        """A period's days and its text up to the remaining days."""
        days = (end - start).days  # as Period's
        # Dates and whole numbers need no escaping: their JSON is their text.
        found = days, (f'{start.isoformat()}", "end": "{end.isoformat()}", "days": {days}}}, '
                       '"remaining_days": ')
        self.periods[(start, end)] = found
        return found


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
    pricer = pricer_of(catalog)
    pricer.rules.trim()
    return pricer.answer_text(request)


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
    rules_of(catalog).trim()
    p, change, error = _solve(catalog, request)
    return {
        "target": None if p is None else price_to_json(p),
        "change": None if change is None else change_to_json(change),
        "error": None if error is None else {"field": error.field, "message": error.message},
    }
